"""The importer: extract (folder/zip, CSV/XLSX, any supported encoding) → snapshot file.

Every extract is built here, in tmp_path, with a few rows per file."""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.corpus.cases import to_cp1258

from data_access import ingest as ingest_mod
from data_access import readers, schema
from data_access.errors import ExtractError
from data_access.ingest import format_result, ingest
from data_access.store import Store

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2022-04-27T17:00:00+07:00"

SCHOOLS = (["Mã trường", "Tên trường", "Mã quận/huyện", "Cấp học", "Loại hình", "Cấp quản lý", "Hiệu trưởng"],
           [["S001", "THPT Lê Quý Đôn", "760", "THPT", "Công lập", "Sở", "Nguyễn Văn Ánh"],
            ["S002", "THCS Trần Văn Ơn", "760", "THCS", "Công lập", "Phòng", ""],
            ["0123", "Mầm non Hoa Hồng", "769", "MN", "Ngoài công lập", "Phòng", ""]])
STUDENTS = (["Mã học sinh", "Mã trường", "Khối", "Lớp", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc",
             "Số CMND/CCCD", "Nơi thường trú", "Trạng thái"],
            [["HS001", "S001", "12", "12A1", "Nguyễn Thị Ánh Tuyết", "01/02/2004", "Nữ", "Kinh", "079304001234",
              "12 Lê Lợi, Bến Nghé, Quận 1, TP. Hồ Chí Minh", "Đang học"],
             ["HS002", "S001", "12", "12A1", "Trần Văn Bình", "2004-03-05", "Nam", "Hoa", "",
              "1 Hai Bà Trưng, Bến Nghé, Quận 1, TP. Hồ Chí Minh", "Đang học"],
             ["HS003", "S002", "9", "9A", "Lê Đức Thọ", "05/06/2007", "Nam", "Kinh", "123456789",
              "Phường 1, Quận 3, TP. Hồ Chí Minh", "Đã chuyển trường"]])
SCORES = (["Mã học sinh", "Năm học", "Khối", "Học kỳ", "Môn học", "Điểm", "Đánh giá"],
          [["HS001", "2019-2020", "10", "HK1", "Toán", "8.5", ""],
           ["HS001", "2019-2020", "10", "HK1", "Thể dục", "", "Đ"],
           ["HS002", "2019-2020", "10", "HK1", "Ngữ văn", "7.0", ""]])
REPORTS = (["Mã trường", "Mã báo cáo", "Trạng thái", "Thời điểm gửi", "Ghi chú"],
           [["S001", "EMIS", "Đã gửi", "27/04/2022 10:00", ""],
            ["S002", "CSVC", "Bị trả lại", "26/04/2022 09:15", "Thiếu phòng bộ môn"]])
BASE = {"truong": SCHOOLS, "hoc_sinh": STUDENTS, "diem_mon_hoc": SCORES, "bao_cao": REPORTS}


def csv_text(header, rows, delim=",") -> str:
    def cell(v):
        v = str(v)
        return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in (delim, '"', "\n")) else v
    return "".join(delim.join(cell(v) for v in r) + "\r\n" for r in [header, *rows])


def write_extract(folder: Path, files: dict | None = None, *, manifest: str | None = f"as_of = {AS_OF}\n",
                  encoding: str = "utf-8", delim: str = ",", drop: tuple = ()) -> Path:
    """The 4 base files (override or add some with `files`: stem → (header, rows) or bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    content = {**BASE, **(files or {})}
    for stem, spec in content.items():
        if stem in drop:
            continue
        name = stem if "." in stem else f"{stem}.csv"
        data = spec if isinstance(spec, bytes) else csv_text(*spec, delim=delim).encode(encoding)
        (folder / name).write_bytes(data)
    if manifest is not None:
        (folder / "manifest.toml").write_text(manifest, encoding="utf-8")
    return folder


def zip_folder(folder: Path, dest: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.iterdir()):
            z.write(p, prefix + p.name)
    return dest


def table(result, name: str, order: str = "_row") -> dict[str, list]:
    """column → list of values (None for NULL) of a snapshot table."""
    con = duckdb.connect(result.path, read_only=True)
    try:
        cur = con.execute(f'SELECT * FROM "{name}" ORDER BY {order}')
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        con.close()
    return {c: [r[i] for r in rows] for i, c in enumerate(cols)}


def snapshots(store: Path) -> list[str]:
    d = store / "snapshots"
    return sorted(os.listdir(d)) if d.exists() else []


def refused(tmp_path, extract, **kw) -> ExtractError:
    store = tmp_path / "store"
    with pytest.raises(ExtractError) as ei:
        ingest(extract, store, **kw)
    assert snapshots(store) == []
    msg = str(ei.value)
    assert msg.endswith("]") and " [" in msg, msg  # Vietnamese first, English in brackets
    return ei.value


# ---- layout --------------------------------------------------------------------------------
def test_snapshot_layout_and_meta(tmp_path):
    ex = write_extract(tmp_path / "ex", manifest=f'as_of = {AS_OF}\nsource = "csdl.hcm.edu.vn"\n')
    res = ingest(ex, tmp_path / "store")
    assert res.created and res.snapshot_id.startswith("20220427T170000-")
    assert len(res.snapshot_id.split("-")[1]) == 12
    assert Path(res.path) == tmp_path / "store" / "snapshots" / f"{res.snapshot_id}.duckdb"
    assert res.rows == {"schools": 3, "students": 3, "subject_scores": 3, "term_summaries": 0, "reports": 2,
                        "paper_copies": 0, "rooms": 0, "classes": 0, "staff": 0, "report_figures": 0}
    assert [f[:3] for f in res.files] == [("schools", "truong.csv", "UTF-8"), ("students", "hoc_sinh.csv", "UTF-8"),
                                          ("subject_scores", "diem_mon_hoc.csv", "UTF-8"),
                                          ("reports", "bao_cao.csv", "UTF-8")]
    con = duckdb.connect(res.path, read_only=True)
    try:
        for t in schema.TABLES:  # every table, every canonical column, all text but _row
            cols = dict(con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                    f"WHERE table_name = '{t.name}'").fetchall())
            for c in t.columns:
                assert cols[c.name] == "VARCHAR"
            assert cols["_row"] == "BIGINT"
            if t.name in ("students", "staff"):
                assert cols["full_name_raw"] == "VARCHAR" and cols["full_name_legacy"] == "VARCHAR"
        meta = dict(con.execute("SELECT key, value FROM _meta").fetchall())
        files = con.execute("SELECT table_name, file_name, encoding, rows, present FROM _files "
                            "WHERE table_name IN ('schools', 'rooms') ORDER BY 1").fetchall()
        sch = con.execute("SELECT _row, school_code, principal FROM schools ORDER BY _row").fetchall()
    finally:
        con.close()
    assert meta["snapshot_id"] == res.snapshot_id and meta["as_of"] == AS_OF
    assert meta["source"] == "csdl.hcm.edu.vn" and meta["format_version"] == "1"
    assert res.snapshot_id.endswith(meta["content_hash"][:12]) and len(meta["content_hash"]) == 64
    assert meta["imported_at"].endswith("+00:00") and meta["extract_path"] == str(ex.resolve())
    assert files == [("rooms", None, None, 0, False), ("schools", "truong.csv", "UTF-8", 3, True)]
    # _row = spreadsheet row (header = 1); codes keep their leading zeros; empty → NULL
    assert sch == [(2, "S001", "Nguyễn Văn Ánh"), (3, "S002", None), (4, "0123", None)]
    text = format_result(res)
    assert "Đã tạo snapshot" in text and "hoc_sinh.csv" in text and "UTF-8" in text and "giây" in text


# ---- headers -------------------------------------------------------------------------------
def test_header_aliases(tmp_path):
    students = (["STT", "MA DINH DANH BO GD&DT", "  mã   TRƯỜNG ", "Khối học", "Lớp học", "Họ tên", "ngay_sinh",
                 "GIOI TINH", "ethnicity", "Số CMND", "Số định danh cá nhân", "Nơi thường trú", "Trạng thái",
                 "Chỗ ở hiện nay", "SĐT liên hệ"],
                [["1", "HS001", "S001", "12", "12A1", "Nguyễn Thị Ánh", "01/02/2004", "Nữ", "Kinh", "",
                  "079304001234", "Quận 1", "Đang học", "Quận 7", "0901234567"],
                 ["2", "HS002", "S001", "12", "12A1", "Trần Bình", "05/03/2004", "Nam", "Kinh", "123456789",
                  "", "Quận 1", "Đang học", "", ""]])
    schools = ([h.upper() for h in ("Ma truong", "Ten truong", "Ma quan huyen", "Cap hoc", "Loai hinh",
                                    "Cap quan ly")], [r[:6] for r in SCHOOLS[1]])
    reports = (["school_code", "report_code", "status", "submitted_at"], [r[:4] for r in REPORTS[1]])
    res = ingest(write_extract(tmp_path / "ex", {"hoc_sinh": students, "truong": schools, "bao_cao": reports}),
                 tmp_path / "store")
    st = table(res, "students")
    assert st["student_id"] == ["HS001", "HS002"]
    assert st["grade"] == ["12", "12"] and st["class_name"] == ["12A1", "12A1"]
    assert st["full_name"] == ["Nguyễn Thị Ánh", "Trần Bình"]
    assert st["birth_date"] == ["01/02/2004", "05/03/2004"] and st["gender"] == ["Nữ", "Nam"]
    assert st["id_number"] == [None, "123456789"]
    assert st["personal_id"] == ["079304001234", None]
    assert st["permanent_address"] == ["Quận 1", "Quận 1"]  # never "Chỗ ở hiện nay"
    assert st["extra__cho_o_hien_nay"] == ["Quận 7", None]
    assert st["extra__sdt_lien_he"] == ["0901234567", None]
    assert not any(c.lower().endswith("stt") for c in st)
    assert table(res, "schools")["school_code"] == ["S001", "S002", "0123"]
    assert table(res, "reports")["status"] == ["Đã gửi", "Bị trả lại"]
    assert all(v is None for v in table(res, "reports")["note"])  # optional column absent → NULL


def test_english_file_stems_and_unnamed_columns(tmp_path):
    ex = write_extract(tmp_path / "ex", drop=("truong", "bao_cao"))
    (ex / "SCHOOLS.CSV").write_text(csv_text(SCHOOLS[0] + [""], [r + ["x"] for r in SCHOOLS[1]]), encoding="utf-8")
    (ex / "reports.csv").write_text(csv_text(*REPORTS), encoding="utf-8")
    (ex / "README.txt").write_text("not part of the extract", encoding="utf-8")
    res = ingest(ex, tmp_path / "store")
    assert [f[1] for f in res.files] == ["SCHOOLS.CSV", "hoc_sinh.csv", "diem_mon_hoc.csv", "reports.csv"]
    assert table(res, "schools")["extra__col8"] == ["x", "x", "x"]  # kept, never silently dropped


def test_header_keys_and_schema_has_no_ambiguous_alias():
    for h in ("Mã trường", "MA TRUONG", "ma  truong", "Ma_truong", "mã-trường"):
        assert readers.header_key(h) == "matruong"
    assert readers.header_key("Mã định danh Bộ GD&ĐT") == "madinhdanhbogddt"
    for t in schema.TABLES:
        assert all(len(v) == 1 for v in readers.header_index(t).values()), t.name


def test_same_column_twice_is_refused(tmp_path):
    h, rows = STUDENTS
    students = (h + ["Họ tên"], [r + [r[4]] for r in rows])
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"hoc_sinh": students}))
    assert e.file == "hoc_sinh.csv" and e.row == 1 and e.column == "Họ tên"
    assert '"Họ và tên"' in str(e) and "Họ tên" in str(e)


def test_missing_required_column_is_refused(tmp_path):
    h, rows = STUDENTS
    i = h.index("Ngày sinh")
    students = (h[:i] + h[i + 1:], [r[:i] + r[i + 1:] for r in rows])
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"hoc_sinh": students}))
    assert (e.file, e.row, e.column) == ("hoc_sinh.csv", 1, "Ngày sinh")
    assert str(e).startswith('Tệp hoc_sinh.csv, dòng 1, cột "Ngày sinh": thiếu cột bắt buộc')
    assert '[hoc_sinh.csv row 1, column "Ngày sinh": required column' in str(e)


def test_students_without_any_id_column_are_refused(tmp_path):
    h, rows = STUDENTS
    i = h.index("Số CMND/CCCD")
    students = (h[:i] + h[i + 1:], [r[:i] + r[i + 1:] for r in rows])
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"hoc_sinh": students}))
    assert e.file == "hoc_sinh.csv" and "Số định danh cá nhân" in str(e) and "Số CMND/CCCD" in str(e)


# ---- encodings and delimiters ----------------------------------------------------------------
NAMES = ["Nguyễn Thị Ánh Tuyết", "Trần Văn Bình", "Lê Đức Thọ"]


@pytest.mark.parametrize("codec,bom,label", [
    ("utf-8", b"", "UTF-8"),
    ("utf-8", b"\xef\xbb\xbf", "UTF-8 (BOM)"),
    ("utf-16-le", b"\xff\xfe", "UTF-16LE (BOM)"),
    ("utf-16-be", b"\xfe\xff", "UTF-16BE (BOM)"),
    ("utf-16-le", b"", "UTF-16LE"),
    ("cp1258", b"", "Windows-1258"),
])
def test_csv_encodings_keep_vietnamese_names(tmp_path, codec, bom, label):
    text = csv_text(*STUDENTS)
    if codec == "cp1258":  # Windows-1258 stores most tone marks as separate characters
        data = _cp1258(text)
    else:
        data = bom + text.encode(codec)
    res = ingest(write_extract(tmp_path / "ex", {"hoc_sinh": data}), tmp_path / "store")
    assert dict((f[0], f[2]) for f in res.files)["students"] == label
    st = table(res, "students")
    assert st["full_name"] == NAMES
    assert all(unicodedata.is_normalized("NFC", n) for n in st["full_name"])
    assert all(v is None for v in st["full_name_raw"])  # the encoding's decomposition is not the data's
    assert st["status"] == ["Đang học", "Đang học", "Đã chuyển trường"]
    assert st["_row"] == [2, 3, 4]


_cp1258 = to_cp1258   # Windows-1258 as Excel writes it (tests/corpus/cases.py)


@pytest.mark.parametrize("delim", [";", "\t"])
def test_semicolon_and_tab_delimiters(tmp_path, delim):
    res = ingest(write_extract(tmp_path / "ex", delim=delim), tmp_path / "store")
    st = table(res, "students")
    assert st["permanent_address"][0] == "12 Lê Lợi, Bến Nghé, Quận 1, TP. Hồ Chí Minh"
    assert st["full_name"] == NAMES


def test_values_trimmed_nfc_and_names_repaired(tmp_path):
    h, rows = STUDENTS
    rows = [list(r) for r in rows]
    rows[0][4] = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")      # decomposed name
    rows[1][4] = "  Trần Văn Bình\u00a0"                                  # padded, no-break space
    rows[2][10] = unicodedata.normalize("NFD", "Đã chuyển trường")        # decomposed value
    res = ingest(write_extract(tmp_path / "ex", {"hoc_sinh": (h, rows)}), tmp_path / "store")
    st = table(res, "students")
    assert st["full_name"] == NAMES
    assert st["full_name_raw"][0] == unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    assert st["full_name_raw"][1:] == [None, None]
    assert st["status"][2] == "Đã chuyển trường"


def test_legacy_encoded_names_are_repaired(tmp_path):
    from data_access.text_repair import encode_tcvn3, encode_vni

    h, rows = STUDENTS
    rows = [list(r) for r in rows]
    rows[0][4] = encode_tcvn3("Nguyễn Thị Ánh Tuyết")   # typed with a .VnTime font
    rows[2][4] = encode_vni("Lê Đức Thọ")                # typed with a VNI font
    res = ingest(write_extract(tmp_path / "ex", {"hoc_sinh": (h, rows)}), tmp_path / "store")
    st = table(res, "students")
    assert st["full_name"] == NAMES
    assert st["full_name_legacy"] == ["TCVN3", None, "VNI"]
    assert st["full_name_raw"] == [rows[0][4], None, rows[2][4]]


@pytest.mark.parametrize("enc,label,tag", [("tcvn3", "TCVN3 (ABC)", "TCVN3"), ("vni", "VNI-Windows", "VNI")])
@pytest.mark.parametrize("chunk", [None, 7])
def test_whole_file_in_legacy_encoding(tmp_path, monkeypatch, enc, label, tag, chunk):
    """A whole hoc_sinh.csv in TCVN3 / VNI bytes: decoded as such (also when read in tiny chunks,
    so a VNI mark or a word in capitals is cut between two reads); names tagged like the text
    repair's, other columns decoded silently."""
    from data_access.text_repair import encode_tcvn3, encode_vni

    if chunk:
        monkeypatch.setattr(readers, "CHUNK", chunk)
    encoder = {"tcvn3": encode_tcvn3, "vni": encode_vni}[enc]
    data = encoder(csv_text(*STUDENTS)).encode("latin-1")
    res = ingest(write_extract(tmp_path / "ex", {"hoc_sinh": data}), tmp_path / "store")
    assert dict((f[0], f[2]) for f in res.files)["students"] == label
    st = table(res, "students")
    assert st["full_name"] == NAMES
    assert st["full_name_legacy"] == [tag] * 3
    assert st["full_name_raw"] == [encoder(n) for n in NAMES]
    assert st["status"] == ["Đang học", "Đang học", "Đã chuyển trường"]
    assert st["permanent_address"][0] == "12 Lê Lợi, Bến Nghé, Quận 1, TP. Hồ Chí Minh"
    assert st["_row"] == [2, 3, 4]


def test_legacy_evidence_found_after_an_ascii_head(tmp_path, monkeypatch):
    """The head sample is plain ASCII; UTF-8 fails in a later chunk: the bytes around the failure
    are the evidence (bounded, never the whole file)."""
    from data_access.text_repair import encode_tcvn3

    monkeypatch.setattr(readers, "CHUNK", 4096)
    monkeypatch.setattr(readers, "SAMPLE_BYTES", 4096)
    h, rows = STUDENTS
    h = ["student_id", "school_code", "grade", "class_name", "full_name", "birth_date", "gender", "ethnicity",
         "id_number", "permanent_address", "status"]
    filler = [[f"HSX{i:04d}", "S001", "10", "10A1", "Tran Van An", "01/01/2006", "Nam", "Kinh", "",
               "1 Le Loi, Ben Nghe, Quan 1, TP. Ho Chi Minh", "Dang hoc"] for i in range(200)]
    data = encode_tcvn3(csv_text(h, filler + [list(r) for r in rows])).encode("latin-1")
    assert data[:3 * 4096].isascii() and not data.isascii()
    res = ingest(write_extract(tmp_path / "ex", {"hoc_sinh": data}), tmp_path / "store")
    assert dict((f[0], f[2]) for f in res.files)["students"] == "TCVN3 (ABC)"
    st = table(res, "students")
    assert st["full_name"][-3:] == NAMES and st["full_name_legacy"][0] is None


# ---- odd CSV shapes ------------------------------------------------------------------------
def test_blank_lines_and_title_rows_keep_spreadsheet_rows(tmp_path):
    text = ("DANH SÁCH TRƯỜNG\r\n\r\n" + csv_text(*SCHOOLS).replace("\r\nS002", "\r\n\r\nS002") + "\r\n\r\n")
    res = ingest(write_extract(tmp_path / "ex", {"truong": text.encode()}), tmp_path / "store")
    sch = table(res, "schools")
    # title row 1, blank row 2, header row 3, S001 row 4, blank row 5, S002 row 6, 0123 row 7
    assert list(zip(sch["_row"], sch["school_code"])) == [(4, "S001"), (6, "S002"), (7, "0123")]


def test_quoted_newlines_and_quotes(tmp_path):
    h, rows = REPORTS
    rows = [rows[0], ["S002", "CSVC", "Bị trả lại", "26/04/2022 09:15", 'Thiếu "phòng bộ môn",\nsửa lại']]
    res = ingest(write_extract(tmp_path / "ex", {"bao_cao": (h, rows)}), tmp_path / "store")
    assert table(res, "reports")["note"] == [None, 'Thiếu "phòng bộ môn",\nsửa lại']


def test_reports_may_be_empty_schools_may_not(tmp_path):
    res = ingest(write_extract(tmp_path / "ex", {"bao_cao": (REPORTS[0], [])}), tmp_path / "store")
    assert res.rows["reports"] == 0
    e = refused(tmp_path / "b", write_extract(tmp_path / "ex2", {"truong": (SCHOOLS[0], [])}))
    assert e.file == "truong.csv" and "không có dòng dữ liệu" in str(e) and "has no rows" in str(e)


# ---- XLSX ----------------------------------------------------------------------------------
def test_xlsx_codes_dates_numbers(tmp_path):
    import openpyxl

    ex = write_extract(tmp_path / "ex", drop=("truong", "diem_mon_hoc"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"] = "Danh sách trường"          # a title row above the header, one empty column left
    for j, hname in enumerate(SCHOOLS[0] + ["Ngày thành lập", "Số lớp", "Tỉ lệ"]):
        ws.cell(row=5, column=2 + j, value=hname)
    data = [["0123", "Mầm non Hoa Hồng", 760, "MN", "Công lập", "Phòng", None,
             dt.date(1999, 9, 5), 12, 0.5],
            ["S001", "THPT Lê Quý Đôn", 760.0, "THPT", "Công lập", "Sở", "Nguyễn Văn Ánh",
             dt.datetime(2001, 1, 2, 7, 30), 30.0, 8.25]]
    for i, r in enumerate(data):
        for j, v in enumerate(r):
            ws.cell(row=6 + 2 * i, column=2 + j, value=v)  # row 7 left empty
    ws.cell(row=6, column=2).number_format = "@"
    wb.save(ex / "truong.xlsx")
    res = ingest(ex, tmp_path / "store")
    assert dict((f[0], f[2]) for f in res.files)["schools"] == "XLSX"
    sch = table(res, "schools")
    assert sch["_row"] == [6, 8]
    assert sch["school_code"] == ["0123", "S001"]
    assert sch["district_code"] == ["760", "760"]
    assert sch["principal"] == [None, "Nguyễn Văn Ánh"]
    assert sch["extra__ngay_thanh_lap"] == ["05/09/1999", "02/01/2001 07:30:00"]
    assert sch["extra__so_lop"] == ["12", "30"]
    assert sch["extra__ti_le"] == ["0.5", "8.25"]


def test_xlsx_cell_text():
    assert readers.xlsx_text(8.0) == "8" and readers.xlsx_text(8.3000000000000007) == "8.3"
    assert readers.xlsx_text(79123456789) == "79123456789"
    assert readers.xlsx_text(dt.datetime(2022, 4, 27)) == "27/04/2022"
    assert readers.xlsx_text(dt.datetime(2022, 4, 27), "dd/mm/yyyy hh:mm") == "27/04/2022 00:00:00"
    assert readers.xlsx_text(None) == "" and readers.xlsx_text(True) == "TRUE"


# ---- zip -----------------------------------------------------------------------------------
def test_zip_with_nested_folder_is_the_same_snapshot_as_the_folder(tmp_path):
    ex = write_extract(tmp_path / "ex")
    store = tmp_path / "store"
    first = ingest(ex, store)
    z = zip_folder(ex, tmp_path / "ex.zip", prefix="export-2022-04-27/")
    again = ingest(z, store)
    assert first.created and not again.created
    assert again.snapshot_id == first.snapshot_id and again.rows == first.rows
    assert snapshots(store) == [f"{first.snapshot_id}.duckdb"]
    assert "không tạo bản mới" in format_result(again)
    # a different as-of is a different snapshot
    third = ingest(z, store, as_of="27/04/2022 18:00")
    assert third.created and third.snapshot_id.startswith("20220427T180000-")
    assert len(snapshots(store)) == 2


@pytest.mark.parametrize("bad", ["../evil.csv", "/etc/evil.csv", "sub/../../evil.csv"])
def test_zip_path_traversal_is_refused(tmp_path, bad):
    ex = write_extract(tmp_path / "ex")
    z = zip_folder(ex, tmp_path / "ex.zip")
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr(bad, "x")
    e = refused(tmp_path, z)
    assert e.file == "ex.zip" and bad in str(e)


# ---- refusals ------------------------------------------------------------------------------
def test_missing_file_is_refused(tmp_path):
    e = refused(tmp_path, write_extract(tmp_path / "ex", drop=("hoc_sinh",)))
    assert e.file == "hoc_sinh.csv"
    assert str(e).startswith("Thiếu tệp bắt buộc hoc_sinh.csv (hoặc hoc_sinh.xlsx)")
    assert "[Required file hoc_sinh.csv" in str(e)


def test_duplicate_key_is_refused_with_both_rows(tmp_path):
    h, rows = STUDENTS
    rows = [list(r) for r in rows] + [list(rows[0])]
    rows[3][0] = "HS002"
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"hoc_sinh": (h, rows)}))
    assert (e.file, e.row, e.column) == ("hoc_sinh.csv", 5, "Mã học sinh")
    assert str(e) == (
        'Tệp hoc_sinh.csv, dòng 5, cột "Mã học sinh": mã "HS002" bị trùng với dòng 3. Hãy sửa để mỗi học '
        'sinh có một mã duy nhất rồi nhập lại. [hoc_sinh.csv row 5, column "Mã học sinh": duplicate key '
        '"HS002" (also row 3); make each student code unique and import again.]')


def test_duplicate_school_code_is_refused(tmp_path):
    h, rows = SCHOOLS
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"truong": (h, rows + [rows[2]])}))
    assert (e.file, e.row, e.column) == ("truong.csv", 5, "Mã trường") and '"0123"' in str(e)


def test_excel_hints_are_notes_not_refusals(tmp_path):
    """Values Excel mangled are imported as they are (the checks make findings of them) and the
    import says what Excel did, naming file, row and column: a code in scientific notation, a
    date serial (with the date it stands for), a school code that lost its leading zero."""
    h, rows = STUDENTS
    rows = [list(r) for r in rows]
    rows[0][8] = "7,93E+10"                 # CCCD, decimal comma
    rows[1][5] = "38051"                    # birth date as a serial: 05/03/2004
    rows[2][5] = "2007"                     # a year alone: no hint
    rows[2][1] = "123"                      # school 0123 without its zero
    said: list[str] = []
    res = ingest(write_extract(tmp_path / "ex", {"hoc_sinh": (h, rows)}), tmp_path / "store", progress=said.append)
    assert res.notes == [   # in column order, the school code against the school list last
        'Tệp hoc_sinh.csv, dòng 3, cột "Ngày sinh": giá trị 38051 là số sê-ri ngày của Excel (ứng với ngày '
        '05/03/2004), không phải một ngày. Hãy định dạng cột là Ngày (dd/mm/yyyy) hoặc Text (Văn bản) với '
        'ngày ghi dạng dd/mm/yyyy rồi nhập lại.',
        'Tệp hoc_sinh.csv, dòng 2, cột "Số CMND/CCCD": giá trị 7,93E+10 — Excel đã đổi mã thành dạng số mũ: '
        'hãy định dạng cột là Text (Văn bản) và nhập lại. Các chữ số đã mất không khôi phục được từ tệp '
        'này: hãy lấy lại mã đúng từ hệ thống.',
        'Tệp hoc_sinh.csv, dòng 4, cột "Mã trường": mã trường 123 không có trong danh sách trường, nhưng có '
        'trường mã 0123 — có thể Excel đã làm mất số 0 ở đầu mã. Hãy định dạng cột Mã trường là Text (Văn '
        'bản) ở cả hai tệp, nhập lại mã đủ số 0 ở đầu rồi nhập lại.']
    assert [m for m in said if m.startswith("  Lưu ý: ")] == ["  Lưu ý: " + n for n in res.notes]
    st = table(res, "students")
    assert st["id_number"][0] == "7,93E+10" and st["birth_date"][1] == "38051" and st["school_code"][2] == "123"
    assert ingest_mod._serial_date("44677.4166") == "26/04/2022 10:00"
    assert ingest_mod._serial_date("9999") is None and ingest_mod._serial_date("73051") is None


def test_clean_extract_has_no_notes(tmp_path):
    assert ingest(write_extract(tmp_path / "ex"), tmp_path / "store").notes == []


def test_ragged_line_is_refused(tmp_path):
    text = csv_text(*REPORTS) + "S003,EMIS,Đã gửi\r\n"
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"bao_cao": text.encode()}))
    assert (e.file, e.row, e.column) == ("bao_cao.csv", 4, "Thời điểm gửi")
    assert "3 ô" in str(e) and "5 cột" in str(e) and "3 fields" in str(e)


def test_ragged_line_with_blank_lines_is_refused(tmp_path):  # the Python (slow) path
    text = csv_text(*REPORTS) + "\r\nS003,EMIS,Đã gửi,,,extra\r\n"
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"bao_cao": text.encode()}))
    assert (e.file, e.row) == ("bao_cao.csv", 5) and "6 ô" in str(e)


def test_unterminated_quote_is_refused(tmp_path):
    text = csv_text(*REPORTS) + 'S003,EMIS,"Đã gửi,,\r\n'
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"bao_cao": text.encode()}))
    assert (e.file, e.row) == ("bao_cao.csv", 4) and "ngoặc kép" in str(e)


def test_undecodable_file_is_refused(tmp_path):
    data = _cp1258(csv_text(*REPORTS)) + b"S003,EMIS,\x81\x8d,,\r\n"
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"bao_cao": data}))
    assert (e.file, e.row) == ("bao_cao.csv", 4)
    assert "không đọc được" in str(e) and "cannot decode" in str(e)


def test_damaged_utf8_is_refused_not_garbled(tmp_path):
    data = csv_text(*REPORTS).encode("utf-8") + b"S003,EMIS,\xff,,\r\n"
    e = refused(tmp_path, write_extract(tmp_path / "ex", {"bao_cao": data}))
    assert (e.file, e.row) == ("bao_cao.csv", 4) and "UTF-8" in str(e)


def test_unreadable_xlsx_and_old_xls_are_refused(tmp_path):
    ex = write_extract(tmp_path / "ex", drop=("truong",))
    (ex / "truong.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    e = refused(tmp_path, ex)
    assert e.file == "truong.xlsx" and "Excel" in str(e)
    (ex / "truong.xlsx").unlink()
    (ex / "truong.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    e = refused(tmp_path, ex)
    assert e.file == "truong.xls" and ".xlsx" in str(e)


def test_no_as_of_is_refused_and_argument_wins(tmp_path):
    e = refused(tmp_path, write_extract(tmp_path / "ex", manifest=None))
    assert e.file == "manifest.toml" and e.column == "as_of" and "--as-of" in str(e)
    e = refused(tmp_path, write_extract(tmp_path / "ex2", manifest='source = "x"\n'))
    assert "as_of" in str(e)
    res = ingest(tmp_path / "ex", tmp_path / "store", as_of="2022-04-28 08:00")
    assert res.as_of.isoformat() == "2022-04-28T08:00:00+07:00"
    res = ingest(write_extract(tmp_path / "ex3", manifest='as_of = "26/04/2022 17:30"\n'), tmp_path / "store")
    assert res.snapshot_id.startswith("20220426T173000-")
    res = ingest(tmp_path / "ex3", tmp_path / "store", as_of=dt.datetime(2022, 4, 26, 3, 0, tzinfo=dt.timezone.utc))
    assert res.snapshot_id.startswith("20220426T100000-")  # converted to +07:00
    res = ingest(write_extract(tmp_path / "ex4", manifest="as_of = 2022-04-25T09:00:00\n"), tmp_path / "store")
    assert res.as_of.isoformat() == "2022-04-25T09:00:00+07:00"  # naive TOML datetime = local


# ---- atomicity and concurrency -------------------------------------------------------------
def test_failure_mid_import_leaves_store_unchanged(tmp_path, monkeypatch):
    store = tmp_path / "store"
    ok = ingest(write_extract(tmp_path / "ex0"), store)
    before = snapshots(store)
    real = readers.load_table

    def failing(con, t, *a, **k):
        if t.name == "reports":
            raise RuntimeError("disk on fire")
        return real(con, t, *a, **k)

    monkeypatch.setattr(readers, "load_table", failing)
    ex = write_extract(tmp_path / "ex", {"bao_cao": (REPORTS[0], REPORTS[1][:1])})
    with pytest.raises(RuntimeError):
        ingest(ex, store)
    monkeypatch.undo()

    def publish_fails(self, built, sid):  # the whole file is written; the rename fails
        assert built.exists() and built.stat().st_size > 0
        raise OSError("rename failed")

    monkeypatch.setattr(Store, "publish", publish_fails)
    with pytest.raises(OSError):
        ingest(ex, store)
    monkeypatch.undo()
    assert snapshots(store) == before == [f"{ok.snapshot_id}.duckdb"]
    assert not [p for p in os.listdir(store / "tmp") if p.startswith("import-")]
    assert ingest(ex, store).created


def _big_extract(folder: Path, rows: int) -> Path:
    write_extract(folder, drop=("diem_mon_hoc",))
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT 'HS' || lpad(CAST(i // 130 AS VARCHAR), 7, '0') AS "Mã học sinh",
                             '2020-2021' AS "Năm học", '11' AS "Khối", 'HK1' AS "Học kỳ",
                             'Vật lí' AS "Môn học", CAST(i % 101 / 10 AS VARCHAR) AS "Điểm", '' AS "Đánh giá"
                          FROM range({rows}) t(i)) TO '{folder / "diem_mon_hoc.csv"}' (HEADER)""")
    con.close()
    return folder


def _run_ingest_subprocess(extract: Path, store: Path) -> subprocess.Popen:
    code = ("import sys; from data_access.ingest import ingest; "
            "r = ingest(sys.argv[1], sys.argv[2], progress=lambda m: print(m, flush=True)); "
            "print('CREATED' if r.created else 'EXISTS', r.snapshot_id, flush=True)")
    return subprocess.Popen([sys.executable, "-c", code, str(extract), str(store)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_mid_import_leaves_store_unchanged(tmp_path):
    ex = _big_extract(tmp_path / "big", 600_000)
    store = tmp_path / "store"
    p = _run_ingest_subprocess(ex, store)
    # Killed on the event, not after a delay: the progress line that starts DuckDB's load of
    # the big file (schools, students already in tmp); the load's end line must never come,
    # which proves the kill landed inside the load whatever the machine's speed.
    seen = []
    for line in p.stdout:
        seen.append(line)
        if line.startswith("Nạp diem_mon_hoc"):
            os.kill(p.pid, signal.SIGKILL)
            break
    rest, err = p.communicate(timeout=30)
    out = "".join(seen) + rest
    assert p.returncode == -signal.SIGKILL, f"the import ended before the kill:\n{out[-2000:]}{err[-2000:]}"
    assert not re.search(r"^  diem_mon_hoc\.csv: ", out, re.M), out[-2000:]
    assert snapshots(store) == []
    assert [n for n in os.listdir(store / "tmp") if n.startswith("import-")]  # left behind
    res = ingest(ex, store)  # the next import cleans up and succeeds
    assert res.created and res.rows["subject_scores"] == 600_000
    assert not [n for n in os.listdir(store / "tmp") if n.startswith("import-")]
    assert snapshots(store) == [f"{res.snapshot_id}.duckdb"]
    con = duckdb.connect(res.path, read_only=True)
    assert con.execute("SELECT min(_row), max(_row), count(DISTINCT _row) FROM subject_scores").fetchone() \
        == (2, 600_001, 600_000)
    con.close()


def test_two_imports_of_the_same_content_at_once(tmp_path):
    ex = _big_extract(tmp_path / "big", 100_000)
    store = tmp_path / "store"
    procs = [_run_ingest_subprocess(ex, store) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    finals = sorted(o[0].strip().splitlines()[-1].split()[0] for o in outs)
    assert finals == ["CREATED", "EXISTS"]
    assert len(snapshots(store)) == 1
    assert Store(store).read_meta(snapshots(store)[0][:-7])["rows"]["subject_scores"] == 100_000


# ---- an optional file missing: what cannot be checked (issue 12 review, point 4) -------------
def test_summary_says_the_room_rule_cannot_be_checked_without_phong_hoc(tmp_path):
    """The default extract has no phong_hoc file: the snapshot is "not observed" for the
    one-level-per-room rule (ROOM_MULTI_LEVEL, which holds back RPT_CSVC), so the summary says,
    in Vietnamese, that this rule cannot be checked at that snapshot, on the rooms line and in
    the notes the import page shows. Before: only «(không có tệp)»."""
    res = ingest(write_extract(tmp_path / "ex"), tmp_path / "store")
    text = format_result(res)
    line = [ln for ln in text.splitlines() if ln.strip().startswith("rooms ")]
    assert len(line) == 1 and "ROOM_MULTI_LEVEL" in line[0] and "không kiểm tra được" in line[0], text
    note = [n for n in res.unchecked if "phong_hoc" in n]
    assert len(note) == 1 and note[0] in text, res.unchecked
    assert "ROOM_MULTI_LEVEL" in note[0] and "không kiểm tra được" in note[0] and "CSVC" in note[0], note
    # a table whose absence hides no rule keeps the plain note
    staff = [ln for ln in text.splitlines() if ln.strip().startswith("staff ")]
    assert staff and staff[0].rstrip().endswith("(không có tệp)"), staff


def test_summary_with_phong_hoc_has_no_such_note(tmp_path):
    rooms = (["Mã trường", "Mã phòng", "Loại phòng", "Cấp học"], [["S001", "P1", "Phòng học", "THPT"]])
    res = ingest(write_extract(tmp_path / "ex", {"phong_hoc": rooms}), tmp_path / "store")
    assert res.unchecked == []
    assert "ROOM_MULTI_LEVEL" not in format_result(res)
