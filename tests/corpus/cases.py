"""The bad-input corpus: hostile exports as clerks really produce them, each with the outcome a
user needs.

Each case starts from one small valid extract (``base()``: truong, hoc_sinh, bao_cao and
manifest.toml; two schools, three grade-12 students with clean data, so the valid extract has no
finding of entity student/report) and spoils one thing. The expected outcome is one of:

- ``Refused``: the import raises ExtractError whose message contains the given fragments (file,
  row, column, Vietnamese words) — and every refusal is Vietnamese first with the English in
  brackets and says what to do ("Hãy ...");
- ``Imported``: the snapshot has these row counts and values, and EXACTLY these findings
  (rule_id, record_key) among the entities other than score/term_summary (the corpus has no
  results files, so every student lacks term summaries: that noise is left out).

The test (tests/test_corpus.py) also checks for every case: no other exception (a traceback is
a failure), the store's snapshots/ unchanged after a refusal and tmp/ without leftovers.

Why decisions go this way (the user's point of view): a cell-level problem is never a refusal —
the value is kept as text exactly as exported and becomes a finding the school can fix
(`7.92E+10` → ID_FORMAT, `#N/A` → GENDER_INVALID...). A refusal is for what makes the whole
file unreadable or ambiguous: missing file/column, undecodable bytes, a broken line, duplicate
keys, an unsafe zip.
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from data_access.text_repair import encode_tcvn3, encode_vni

AS_OF = "2022-04-27T17:00:00+07:00"
MANIFEST = f'as_of = {AS_OF}\nsource = "csdl.hcm.edu.vn"\n'

S1, S2 = "07900701", "07900702"            # school codes (leading zero on purpose)
H1, H2, H3 = "0100001", "0100002", "0200003"  # student ids

SCHOOL_HEADER = ["Mã trường", "Tên trường", "Mã quận/huyện", "Cấp học", "Loại hình", "Cấp quản lý"]
SCHOOL_ROWS = [[S1, "THPT Lê Quý Đôn", "760", "THPT", "Công lập", "Sở"],
               [S2, "THPT Nguyễn Thị Minh Khai", "770", "THPT", "Công lập", "Sở"]]
STUDENT_HEADER = ["Mã học sinh", "Mã trường", "Khối", "Lớp", "Họ và tên", "Ngày sinh", "Giới tính",
                  "Dân tộc", "Số CMND/CCCD", "Nơi thường trú", "Trạng thái"]
NAME = {H1: "Nguyễn Thị Ánh Tuyết", H2: "Trần Văn Bình", H3: "Lê Đức Thọ"}
ADDR = {H1: "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
        H2: "1 Hai Bà Trưng, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
        H3: "5 Nguyễn Du, Phường 7, Quận 3, Thành phố Hồ Chí Minh"}
STUDENT_ROWS = [
    [H1, S1, "12", "12A1", NAME[H1], "01/02/2004", "Nữ", "Kinh", "079304001234", ADDR[H1], "Đang học"],
    [H2, S1, "12", "12A1", NAME[H2], "05/03/2004", "Nam", "Hoa", "079204001235", ADDR[H2], "Đang học"],
    [H3, S2, "12", "12A2", NAME[H3], "15/06/2004", "Nam", "Kinh", "079204001236", ADDR[H3], "Đang học"],
]
REPORT_HEADER = ["Mã trường", "Mã báo cáo", "Trạng thái", "Thời điểm gửi", "Ghi chú"]
REPORT_ROWS = [[S1, "EMIS", "Đã gửi", "26/04/2022 10:00", ""],
               [S2, "EMIS", "Đã gửi", "26/04/2022 11:30", ""]]

BASE_ROWS = {"schools": 2, "students": 3, "reports": 2}

Tables = dict  # stem → [header, rows]


def base() -> Tables:
    return {"truong": [list(SCHOOL_HEADER), copy.deepcopy(SCHOOL_ROWS)],
            "hoc_sinh": [list(STUDENT_HEADER), copy.deepcopy(STUDENT_ROWS)],
            "bao_cao": [list(REPORT_HEADER), copy.deepcopy(REPORT_ROWS)]}


# ---- writing -------------------------------------------------------------------------------
def csv_text(header, rows, delim: str = ",", eol: str = "\r\n") -> str:
    """CSV as Excel writes it: quotes only where needed."""
    def cell(v):
        v = "" if v is None else str(v)
        if any(ch in v for ch in (delim, '"', "\n", "\r")):
            return '"' + v.replace('"', '""') + '"'
        return v
    return "".join(delim.join(cell(v) for v in r) + eol for r in [header, *rows])


def write_extract(folder: Path, tables: Tables | None = None, *, raw: dict | None = None,
                  drop: tuple = (), manifest: str | None = MANIFEST, encoding: str = "utf-8",
                  delim: str = ",") -> Path:
    """Write the tables as CSV (UTF-8 unless told), then `raw` files (name → bytes) as given."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, (header, rows) in (tables if tables is not None else base()).items():
        if stem in drop:
            continue
        (folder / f"{stem}.csv").write_bytes(csv_text(header, rows, delim).encode(encoding))
    for name, data in (raw or {}).items():
        (folder / name).write_bytes(data)
    if manifest is not None:
        (folder / "manifest.toml").write_text(manifest, encoding="utf-8")
    return folder


def col(stem: str, header: str) -> int:
    return {"truong": SCHOOL_HEADER, "hoc_sinh": STUDENT_HEADER, "bao_cao": REPORT_HEADER}[stem].index(header)


def setv(t: Tables, stem: str, key: str, header: str, value) -> None:
    """Set one cell of the row whose first column is `key` (header names of the base file)."""
    for r in t[stem][1]:
        if r[0] == key:
            r[col(stem, header)] = value
            return
    raise KeyError(key)


def xlsx_bytes(grid: list[list], *, formats: dict | None = None, merges: tuple = (),
               more_sheets: dict | None = None, text_cells: tuple = (), active: int = 0,
               cached: dict | None = None, title: str = "Sheet1") -> bytes:
    """An .xlsx whose first sheet holds `grid` from A1 (None = empty cell). formats: cell → number
    format; text_cells: cells whose '=...' string is text, not a formula; cached: cell → the
    cached value Excel stores beside a formula (openpyxl cannot write one, so it is patched in)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for i, row in enumerate(grid, start=1):
        for j, v in enumerate(row, start=1):
            if v is not None:
                ws.cell(row=i, column=j, value=v)
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    for ref in text_cells:
        ws[ref].data_type = "s"
    for rng in merges:
        ws.merge_cells(rng)
    for name, g in (more_sheets or {}).items():
        s = wb.create_sheet(name)
        for r in g:
            s.append(r)
    wb.active = active
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if cached:
        src = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                body = src.read(info.filename)
                if info.filename == "xl/worksheets/sheet1.xml":
                    xml = body.decode("utf-8")
                    for ref, value in cached.items():
                        xml, n = re.subn(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?</c>',
                                         lambda m, v=value: f'<c r="{ref}"{m.group(1)} t="str"><f>{m.group(2)}</f>'
                                                            f'<v>{v}</v></c>', xml)
                        assert n == 1, ref
                    body = xml.encode("utf-8")
                dst.writestr(info, body)
        data = out.getvalue()
    return data


def table_grid(t: Tables, stem: str) -> list[list]:
    header, rows = t[stem]
    return [list(header)] + [list(r) for r in rows]


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def extract_files(t: Tables | None = None, manifest: str | None = MANIFEST) -> dict[str, bytes]:
    files = {f"{stem}.csv": csv_text(h, r).encode("utf-8") for stem, (h, r) in (t or base()).items()}
    if manifest is not None:
        files["manifest.toml"] = manifest.encode("utf-8")
    return files


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letters (â ê ô ơ ư ă đ and a few
    precomposed Latin-1 ones) plus a separate tone mark byte."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in d if c in "\u0300\u0301\u0303\u0309\u0323")
        base_ch = unicodedata.normalize("NFC", "".join(c for c in d if c not in tones))
        out += base_ch.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


# ---- expectations --------------------------------------------------------------------------
@dataclass(frozen=True)
class Refused:
    fragments: tuple[str, ...]          # each must appear in the message
    file: str | None = None             # ExtractError.file / .row / .column when given
    row: int | None = None
    column: str | None = None


@dataclass(frozen=True)
class Imported:
    rows: dict = field(default_factory=lambda: dict(BASE_ROWS))
    findings: frozenset = frozenset()   # exactly these (rule_id, record_key), entities other than score/term_summary
    values: tuple = ()                  # (table, key column, key, column, expected value or predicate)
    encodings: dict = field(default_factory=dict)   # file name → encoding label
    # Excel hints of the import (IngestResult.notes): exactly one note per entry, in order, each
    # holding every fragment of its entry.
    notes: tuple = ()


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    description: str
    build: Callable[[Path], Path]       # writes the extract under the folder, returns what to import
    expect: Refused | Imported


def F(*pairs) -> frozenset:
    return frozenset(pairs)


def with_tables(mutate: Callable[[Tables], None] | None = None, **kw) -> Callable[[Path], Path]:
    def build(dest: Path) -> Path:
        t = base()
        if mutate:
            mutate(t)
        return write_extract(dest, t, **kw)
    return build


def with_file(name: str, data: Callable[[Tables], bytes], mutate=None, drop_stem: str | None = None):
    """The base extract with one file replaced by `data(tables)` written as `name`."""
    def build(dest: Path) -> Path:
        t = base()
        if mutate:
            mutate(t)
        stem = drop_stem or Path(name).stem
        return write_extract(dest, t, drop=(stem,), raw={name: data(t)})
    return build


def students_csv(t: Tables, **kw) -> bytes:
    return csv_text(*t["hoc_sinh"], **{k: v for k, v in kw.items() if k in ("delim", "eol")}).encode(
        kw.get("encoding", "utf-8"))


def names_values(names: dict) -> tuple:
    return tuple(("students", "student_id", k, "full_name", v) for k, v in names.items())


CASES: list[Case] = []


def case(id, group, description, build, expect) -> None:
    CASES.append(Case(id, group, description, build, expect))


# ================================== encodings ==================================================
case("enc_utf8", "encodings", "UTF-8 without BOM, the clean extract (the reference: no finding)",
     with_tables(), Imported(values=names_values(NAME), encodings={"hoc_sinh.csv": "UTF-8"}))

case("enc_utf8_bom", "encodings", "UTF-8 with BOM (Excel 'CSV UTF-8'): the BOM is not part of the first header",
     with_tables(encoding="utf-8-sig"),
     Imported(values=names_values(NAME) + (("schools", "school_code", S1, "school_name", "THPT Lê Quý Đôn"),),
              encodings={"hoc_sinh.csv": "UTF-8 (BOM)", "truong.csv": "UTF-8 (BOM)"}))

case("enc_utf16le_unicode_text", "encodings",
     "Excel 'Unicode Text (*.txt)': UTF-16LE with BOM, tab-separated, hoc_sinh.txt",
     with_file("hoc_sinh.txt", lambda t: b"\xff\xfe" + csv_text(*t["hoc_sinh"], delim="\t").encode("utf-16-le")),
     Imported(values=names_values(NAME), encodings={"hoc_sinh.txt": "UTF-16LE (BOM)"}))

case("enc_utf16be_bom", "encodings", "UTF-16BE with BOM",
     with_file("hoc_sinh.csv", lambda t: b"\xfe\xff" + csv_text(*t["hoc_sinh"]).encode("utf-16-be")),
     Imported(values=names_values(NAME), encodings={"hoc_sinh.csv": "UTF-16BE (BOM)"}))

case("enc_utf16le_no_bom", "encodings", "UTF-16LE without BOM (recognised by its NUL bytes)",
     with_file("hoc_sinh.csv", lambda t: csv_text(*t["hoc_sinh"]).encode("utf-16-le")),
     Imported(values=names_values(NAME), encodings={"hoc_sinh.csv": "UTF-16LE"}))

case("enc_windows_1258", "encodings",
     "every file in Windows-1258 (tone marks as separate bytes): names come out NFC, and the "
     "encoding's decomposition is not a NAME_NOT_NFC finding",
     lambda dest: write_extract(dest, raw={f"{s}.csv": to_cp1258(csv_text(h, r)) for s, (h, r) in base().items()},
                                drop=("truong", "hoc_sinh", "bao_cao")),
     Imported(values=names_values(NAME) + (("students", "student_id", H1, "permanent_address", ADDR[H1]),),
              encodings={"hoc_sinh.csv": "Windows-1258", "truong.csv": "Windows-1258"}))

case("enc_unknown_code_page", "encodings",
     "bytes that no Vietnamese code page defines (0x81, 0x8D): refused, naming the line and the byte",
     with_file("hoc_sinh.csv", lambda t: to_cp1258(csv_text(*t["hoc_sinh"]))
               .replace(to_cp1258("Trần"), b"Tr\x81\x8dn")),
     Refused(("hoc_sinh.csv", "dòng 3", "0x81", "CSV UTF-8"), file="hoc_sinh.csv", row=3))


def _legacy(encoder, tag):
    def mutate(t):
        for k in (H1, H2, H3):
            setv(t, "hoc_sinh", k, "Họ và tên", encoder(NAME[k]))
    return mutate


case("enc_tcvn3_names", "encodings",
     "names typed in the TCVN3 (ABC, .VnTime) font, as text read through Windows-1252 "
     "('NguyÔn ThÞ ¸nh TuyÕt'): repaired, the original kept, a NAME_LEGACY_ENCODING warning",
     with_tables(_legacy(encode_tcvn3, "TCVN3")),
     Imported(findings=F(*[("NAME_LEGACY_ENCODING", k) for k in (H1, H2, H3)]),
              values=names_values(NAME) + (("students", "student_id", H1, "full_name_legacy", "TCVN3"),
                                           ("students", "student_id", H1, "full_name_raw", encode_tcvn3(NAME[H1])))))

case("enc_vni_names", "encodings",
     "names typed in the VNI-Times font, read through Windows-1252 ('Nguyeãn Thò AÙnh Tuyeát')",
     with_tables(_legacy(encode_vni, "VNI")),
     Imported(findings=F(*[("NAME_LEGACY_ENCODING", k) for k in (H1, H2, H3)]),
              values=names_values(NAME) + (("students", "student_id", H2, "full_name_legacy", "VNI"),)))


# Whole files in a legacy font encoding (an old Windows tool with .VnTime / VNI-Times fonts saved
# the list as CSV): every byte of the file is the font's, not only the names. Names with capitals
# carrying a tone (Ánh, Ý, a name typed in capitals) are the hard part of TCVN3, which has no code
# for them. Expected names are written out letter by letter, not derived from the encoder.
H4, H5 = "0200004", "0200005"
LEGACY_NAMES = {H1: "Nguyễn Thị Ánh Tuyết", H2: "ĐẶNG VĂN ỨNG", H3: "Lê Đức Thọ",
                H4: "Ứng Thị Ý Nhi", H5: "Huỳnh Ngọc Ẩn"}
LEGACY_ROWS = [
    [H4, S2, "12", "12A2", LEGACY_NAMES[H4], "20/10/2004", "Nữ", "Kinh", "079304001237", ADDR[H3], "Đang học"],
    [H5, S2, "12", "12A2", LEGACY_NAMES[H5], "02/09/2004", "Nam", "Khơ-me", "079204001238",
     "Ấp 3, Xã Đa Phước, Huyện Bình Chánh, TP. Hồ Chí Minh", "Đang học"],
]


def _legacy_students(t):
    for k in (H1, H2, H3):
        setv(t, "hoc_sinh", k, "Họ và tên", LEGACY_NAMES[k])
    t["hoc_sinh"][1].extend(copy.deepcopy(LEGACY_ROWS))


def _whole_file(encoder):
    return with_file("hoc_sinh.csv", lambda t: encoder(csv_text(*t["hoc_sinh"])).encode("latin-1"),
                     mutate=_legacy_students)


LEGACY_ROWS_N = {"schools": 2, "students": 5, "reports": 2}

case("enc_tcvn3_whole_file", "encodings",
     "hoc_sinh.csv whose every byte is TCVN3 (ABC, saved by an old tool with .VnTime fonts): read "
     "as TCVN3, not Windows-1258; names, addresses, statuses decoded; capitals with a tone that "
     "TCVN3 cannot write come back (Ánh, Ý, Ứng, a name in capitals); each name with Vietnamese "
     "letters gets the same NAME_LEGACY_ENCODING warning as a TCVN3 name in a UTF-8 file, raw kept",
     _whole_file(encode_tcvn3),
     Imported(rows=LEGACY_ROWS_N,
              findings=F(*[("NAME_LEGACY_ENCODING", k) for k in (H1, H2, H3, H4, H5)]),
              values=names_values(LEGACY_NAMES) + (
                  ("students", "student_id", H1, "full_name_legacy", "TCVN3"),
                  ("students", "student_id", H1, "full_name_raw", "NguyÔn ThÞ ¸nh TuyÕt"),
                  ("students", "student_id", H2, "full_name_raw", "§ÆNG V¡N øNG"),
                  ("students", "student_id", H1, "permanent_address", ADDR[H1]),
                  ("students", "student_id", H5, "permanent_address",
                   "ấp 3, Xã Đa Phước, Huyện Bình Chánh, TP. Hồ Chí Minh"),
                  ("students", "student_id", H5, "ethnicity", "Khơ-me"),
                  ("students", "student_id", H4, "gender", "Nữ"),
                  ("students", "student_id", H4, "status", "Đang học")),
              encodings={"hoc_sinh.csv": "TCVN3 (ABC)", "truong.csv": "UTF-8"}))

case("enc_vni_whole_file", "encodings",
     "hoc_sinh.csv whose every byte is VNI-Windows (VNI-Times fonts; a letter and its mark bytes, "
     "capitals with their own marks): read as VNI, names with the NAME_LEGACY_ENCODING warning",
     _whole_file(encode_vni),
     Imported(rows=LEGACY_ROWS_N,
              findings=F(*[("NAME_LEGACY_ENCODING", k) for k in (H1, H2, H3, H4, H5)]),
              values=names_values(LEGACY_NAMES) + (
                  ("students", "student_id", H3, "full_name_legacy", "VNI"),
                  ("students", "student_id", H3, "full_name_raw", "Leâ Ñöùc Thoï"),
                  ("students", "student_id", H2, "full_name_raw", "ÑAËNG VAÊN ÖÙNG"),
                  ("students", "student_id", H5, "permanent_address",
                   "Ấp 3, Xã Đa Phước, Huyện Bình Chánh, TP. Hồ Chí Minh"),
                  ("students", "student_id", H5, "ethnicity", "Khơ-me")),
              encodings={"hoc_sinh.csv": "VNI-Windows"}))

# Windows-1258 whose names are all letters the code page has precomposed: byte for byte, each of
# these words is also a well-formed syllable in TCVN3 ("L\xea" = Lê = Lờ, "T\xe2m" = Tâm = Tõm).
CP1258_TRAP = {H1: "Lê Hà Vân", H2: "Tô Văn Tâm", H3: "Lý Văn Tú"}


def _cp1258_trap(t):
    for k in (H1, H2, H3):
        setv(t, "hoc_sinh", k, "Họ và tên", CP1258_TRAP[k])


case("enc_cp1258_not_tcvn3", "encodings",
     "a Windows-1258 hoc_sinh.csv whose names read as TCVN3 too, word for word: the rest of the file "
     "(addresses, statuses) decides — kept Windows-1258, no legacy warning",
     with_file("hoc_sinh.csv", lambda t: to_cp1258(csv_text(*t["hoc_sinh"])), mutate=_cp1258_trap),
     Imported(values=names_values(CP1258_TRAP) + (
                  ("students", "student_id", H1, "full_name_legacy", None),
                  ("students", "student_id", H1, "full_name_raw", None),
                  ("students", "student_id", H3, "permanent_address", ADDR[H3])),
              encodings={"hoc_sinh.csv": "Windows-1258"}))


AMBIGUOUS = {H1: "Lê Hà Vân", H2: "Tô Văn Tâm", H3: "Hà Văn Tô"}


def _cp1258_ambiguous(t):
    """Only names hold non-ASCII bytes (English headers, addresses without accents), and every
    such word is also a TCVN3 syllable."""
    t["hoc_sinh"][0] = ["student_id", "school_code", "grade", "class_name", "full_name", "birth_date",
                        "gender", "ethnicity", "id_number", "permanent_address", "status"]
    for r in t["hoc_sinh"][1]:
        r[4] = AMBIGUOUS[r[0]]
        r[6] = "Nam"
        r[9] = "12 Le Loi, Phuong Ben Nghe, Quan 1, TP. Ho Chi Minh"
        r[10] = "Dang hoc"


case("enc_cp1258_ambiguous", "encodings",
     "a Windows-1258 hoc_sinh.csv (English headers, no accent outside the names) whose only "
     "non-ASCII words read as well-formed TCVN3 as well ('L\\xea H\\xe0 V\\xe2n' = Lê Hà Vân or "
     "Lờ Hà Võn): no clear evidence, so Windows-1258 as before, no legacy tag (the unaccented "
     "status 'Dang hoc' is read as Đang học since the second outside review of issue 12, finding "
     "7, so the students are in the population; the gender set to Nam for all disagrees with "
     "H1's ID: ID_CENTURY_GENDER_MISMATCH)",
     with_file("hoc_sinh.csv", lambda t: to_cp1258(csv_text(*t["hoc_sinh"])), mutate=_cp1258_ambiguous),
     Imported(findings=F(("ID_CENTURY_GENDER_MISMATCH", H1)),
              values=names_values(AMBIGUOUS) + (("students", "student_id", H2, "full_name_legacy", None),),
              encodings={"hoc_sinh.csv": "Windows-1258"}))


def _mixed_nfd(t):
    setv(t, "hoc_sinh", H2, "Họ và tên", unicodedata.normalize("NFD", NAME[H2]))
    setv(t, "hoc_sinh", H3, "Nơi thường trú", unicodedata.normalize("NFD", ADDR[H3]))
    setv(t, "hoc_sinh", H3, "Dân tộc", unicodedata.normalize("NFD", "Kinh"))


case("enc_mixed_nfc_nfd", "encodings",
     "one file mixing NFC and NFD (macOS copy-paste): stored NFC; a NAME_NOT_NFC warning for the "
     "decomposed name only, the raw name kept",
     with_tables(_mixed_nfd),
     Imported(findings=F(("NAME_NOT_NFC", H2)),
              values=names_values(NAME) + (
                  ("students", "student_id", H2, "full_name_raw", unicodedata.normalize("NFD", NAME[H2])),
                  ("students", "student_id", H3, "permanent_address", ADDR[H3]),
                  ("students", "student_id", H1, "full_name_raw", None))))


# ================================== Excel habits ================================================
def _xlsx_students(edit: Callable[[list[list]], None] | None = None, **kw):
    """hoc_sinh.xlsx from the base rows; `edit` changes the grid (row 0 = header)."""
    def data(t):
        g = table_grid(t, "hoc_sinh")
        if edit:
            edit(g)
        return xlsx_bytes(g, **kw)
    return with_file("hoc_sinh.xlsx", data, drop_stem="hoc_sinh")


def _numbers_for_codes(g):
    for r in g[1:]:
        r[0] = int(r[0])           # 0100001 → 100001
        r[8] = int(r[8])           # 079304001234 → 79304001234


case("xlsx_codes_as_numbers", "excel",
     "student ids and CCCD typed as numbers in Excel: the leading zero is lost and cannot be "
     "guessed, so the values are kept as shown; each CCCD becomes ID_LEADING_ZERO_LOST",
     _xlsx_students(_numbers_for_codes),
     Imported(findings=F(*[("ID_LEADING_ZERO_LOST", k.lstrip("0")) for k in (H1, H2, H3)]),
              values=(("students", "student_id", "100001", "id_number", "79304001234"),
                      ("students", "student_id", "100001", "school_code", S1)),
              encodings={"hoc_sinh.xlsx": "XLSX"}))


def _school_code_numbers(g):
    for r in g[1:]:
        r[1] = int(r[1])


case("xlsx_school_code_as_number", "excel",
     "school codes typed as numbers (07900701 → 7900701): the students point to no known school "
     "→ SCHOOL_UNKNOWN for each (the import does not guess a zero); the import notes that school "
     "07900701 exists, so Excel probably dropped the zero",
     _xlsx_students(_school_code_numbers),
     Imported(findings=F(*[("SCHOOL_UNKNOWN", k) for k in (H1, H2, H3)]),
              values=(("students", "student_id", H1, "school_code", "7900701"),),
              notes=(("Tệp hoc_sinh.xlsx, dòng 2, cột \"Mã trường\"", "7900701", "07900701",
                      "Excel đã làm mất số 0 ở đầu", "Text (Văn bản)", "3 dòng"),)))


def _sci_format(g):
    for r in g[1:]:
        r[8] = int(r[8])


case("xlsx_scientific_display", "excel",
     "CCCD cells shown by Excel as 7.93E+10 (number format 0.00E+00): the cell still holds every "
     "digit, so the full number is read; the lost leading zero is ID_LEADING_ZERO_LOST",
     _xlsx_students(_sci_format, formats={f"I{i}": "0.00E+00" for i in range(2, 5)}),
     Imported(findings=F(*[("ID_LEADING_ZERO_LOST", k) for k in (H1, H2, H3)]),
              values=(("students", "student_id", H2, "id_number", "79204001235"),)))


def _sci_text(t):
    for k in (H1, H2, H3):
        setv(t, "hoc_sinh", k, "Số CMND/CCCD", "7.92E+10")


case("csv_scientific_text", "excel",
     "a CSV saved by Excel after it showed CCCD as 7.92E+10: the digits are gone, the text is kept "
     "as is and is ID_FORMAT (not refused, not guessed); the import notes Excel's scientific notation",
     with_tables(_sci_text),
     Imported(findings=F(*[("ID_FORMAT", k) for k in (H1, H2, H3)]),
              values=(("students", "student_id", H3, "id_number", "7.92E+10"),),
              notes=(("Tệp hoc_sinh.csv, dòng 2, cột \"Số CMND/CCCD\"", "7.92E+10",
                      "Excel đã đổi mã thành dạng số mũ: hãy định dạng cột là Text (Văn bản) và nhập lại",
                      "3 giá trị"),)))


def _sci_ids(t):
    for r in t["hoc_sinh"][1]:
        r[0] = "7.90007E+12"


case("csv_scientific_student_ids", "excel",
     "13-digit student ids turned by Excel into 7.90007E+12 in every row: students can no longer be "
     "told apart → refused as duplicate ids, with a hint about Excel's number format",
     with_tables(_sci_ids),
     Refused(("hoc_sinh.csv", "dòng 3", "Mã học sinh", "7.90007E+12", "dòng 2", "Hãy",
              'Excel đã đổi mã thành dạng số mũ: hãy định dạng cột "Mã học sinh" là Text (Văn bản) và nhập lại',
              "scientific notation"),
             file="hoc_sinh.csv", row=3, column="Mã học sinh"))


def _sci_school_codes(t):
    for r in t["truong"][1]:
        r[0] = "7,9007E+06"          # Excel with a Vietnamese locale: decimal comma


case("csv_scientific_school_codes_comma", "excel",
     "school codes turned by Excel into 7,9007E+06 (decimal comma): the schools can no longer be told "
     "apart → refused as duplicate codes, the message says Excel used scientific notation",
     with_tables(_sci_school_codes),
     Refused(("truong.csv", "dòng 3", "Mã trường", "7,9007E+06",
              'Excel đã đổi mã thành dạng số mũ: hãy định dạng cột "Mã trường" là Text (Văn bản) và nhập lại'),
             file="truong.csv", row=3, column="Mã trường"))


def _serial_texts(t):
    setv(t, "hoc_sinh", H2, "Ngày sinh", "38051")            # an Excel date serial (05/03/2004)
    setv(t, "hoc_sinh", H3, "Ngày sinh", "2004")             # a year alone: not called a serial
    setv(t, "bao_cao", S2, "Thời điểm gửi", "44677.4166")    # serial with a time: 26/04/2022 ~10:00


case("csv_date_serials", "excel",
     "a CSV saved after Excel showed dates as serial numbers (38051, 44677.4166): kept as text "
     "(BIRTH_DATE_INVALID; the report does not count as sent), and the import notes which date "
     "each serial stands for; a 4-digit year alone is not called a serial",
     with_tables(_serial_texts),
     Imported(findings=F(("BIRTH_DATE_INVALID", H2), ("BIRTH_DATE_INVALID", H3)),
              values=(("students", "student_id", H2, "birth_date", "38051"),
                      ("reports", "school_code", S2, "submitted_at", "44677.4166")),
              notes=(("Tệp hoc_sinh.csv, dòng 3, cột \"Ngày sinh\"", "38051", "số sê-ri ngày của Excel",
                      "05/03/2004"),
                     ("Tệp bao_cao.csv, dòng 3, cột \"Thời điểm gửi\"", "44677.4166",
                      "số sê-ri ngày của Excel", "26/04/2022 10:00"))))


def _truong_lost_zero(t):
    for r in t["truong"][1]:
        r[0] = r[0].lstrip("0")      # 07900701 → 7900701 in truong only


case("csv_truong_codes_lost_zero", "excel",
     "truong.csv saved from a sheet where the school codes were numbers (7900701) while hoc_sinh and "
     "bao_cao keep 07900701: every student is SCHOOL_UNKNOWN; the import notes, for each file, that "
     "the school list lost the leading zero",
     with_tables(_truong_lost_zero),
     Imported(findings=F(*[("SCHOOL_UNKNOWN", k) for k in (H1, H2, H3)]),
              notes=(("Tệp hoc_sinh.csv, dòng 2, cột \"Mã trường\"", "07900701", "7900701",
                      "mã trong danh sách trường đã bị Excel làm mất số 0 ở đầu", "3 dòng"),
                     ("Tệp bao_cao.csv, dòng 2, cột \"Mã trường\"", "2 dòng"))))


def _date_cells(g):
    g[1][5] = dt.datetime(2004, 2, 1)     # a date cell
    g[2][5] = 38051                       # serial number in a date-formatted cell (05/03/2004)
    g[3][5] = 38153                       # serial number in a General cell: not a date to anyone
    g[0].append("Ngày nhập học")
    g[1].append(dt.datetime(2019, 9, 5, 7, 30))
    g[2].append(None)
    g[3].append(None)


case("xlsx_date_cells_and_serials", "excel",
     "dates as Excel date cells and as serial numbers: a date-formatted serial becomes dd/mm/yyyy, "
     "a date with a time keeps it, a serial in a General cell stays a number → BIRTH_DATE_INVALID, "
     "and the import notes the date it stands for",
     _xlsx_students(_date_cells, formats={"F2": "dd/mm/yyyy", "F3": "dd/mm/yyyy", "L2": "dd/mm/yyyy hh:mm"}),
     Imported(findings=F(("BIRTH_DATE_INVALID", H3)),
              values=(("students", "student_id", H1, "birth_date", "01/02/2004"),
                      ("students", "student_id", H2, "birth_date", "05/03/2004"),
                      ("students", "student_id", H3, "birth_date", "38153"),
                      ("students", "student_id", H1, "extra__ngay_nhap_hoc", "05/09/2019 07:30:00")),
              notes=(("Tệp hoc_sinh.xlsx, dòng 4, cột \"Ngày sinh\"", "38153", "số sê-ri ngày của Excel",
                      "15/06/2004"),)))


def _date_texts(t):
    setv(t, "hoc_sinh", H1, "Ngày sinh", "1/2/2004")             # d/m/yyyy
    setv(t, "hoc_sinh", H2, "Ngày sinh", "5/3/04")               # d/m/yy: ambiguous century
    setv(t, "hoc_sinh", H3, "Ngày sinh", "2004-06-15 00:00:00")  # ISO with a time
    t["hoc_sinh"][1].append(["0200004", S2, "12", "12A2", "Phạm Minh Châu", "15/06/2004 07:00", "Nữ", "Kinh",
                             "079304001237", ADDR[H3], "Đang học"])
    t["hoc_sinh"][1].append(["0200005", S2, "12", "12A2", "Võ Thành Tâm", "2004-06-15", "Nam", "Kinh",
                             "079204001238", ADDR[H3], "Đang học"])


case("csv_date_text_formats", "excel",
     "dates as text: dd/mm/yyyy, d/m/yyyy, yyyy-mm-dd, with a time — valid; d/m/yy — kept as "
     "text, BIRTH_DATE_INVALID (the century is a guess)",
     with_tables(_date_texts),
     Imported(rows={"schools": 2, "students": 5, "reports": 2},
              findings=F(("BIRTH_DATE_INVALID", H2)),
              values=(("students", "student_id", H2, "birth_date", "5/3/04"),)))


def _reports_xlsx(t):
    g = table_grid(t, "bao_cao")
    g[1][3] = dt.datetime(2022, 4, 26, 10, 0)
    g[2][3] = dt.datetime(2022, 4, 26, 0, 0)   # midnight, shown with its time by the format
    return xlsx_bytes(g, formats={"D2": "dd/mm/yyyy hh:mm", "D3": "dd/mm/yyyy hh:mm"})


case("xlsx_datetime_cells", "excel",
     "report times as Excel date-time cells (one at midnight): dd/mm/yyyy HH:MM:SS, the reports count as "
     "sent; python-calamine gives a midnight date-time as a date, so it reads dd/mm/yyyy",
     with_file("bao_cao.xlsx", _reports_xlsx, drop_stem="bao_cao"),
     Imported(values=(("reports", "school_code", S1, "submitted_at", "26/04/2022 10:00:00"),
                      ("reports", "school_code", S2, "submitted_at", "26/04/2022"))))


def _merged_header_grid(t):
    g = table_grid(t, "hoc_sinh")
    width = len(g[0])
    title = ["DANH SÁCH HỌC SINH KHỐI 12 - NĂM HỌC 2021-2022"] + [None] * (width - 1)
    groups = ["Thông tin chung"] + [None] * 7 + ["Giấy tờ, cư trú"] + [None] * (width - 9)
    return [title, groups] + g


case("xlsx_merged_header", "excel",
     "a merged title row and a row of merged group headings above the real header: the header is "
     "found on row 3, rows keep their spreadsheet numbers",
     with_file("hoc_sinh.xlsx", lambda t: xlsx_bytes(_merged_header_grid(t), merges=("A1:K1", "A2:H2", "I2:K2")),
               drop_stem="hoc_sinh"),
     Imported(values=(("students", "student_id", H1, "_row", 4), ("students", "student_id", H3, "_row", 6))))


def _title_blank_grid(t):
    g = table_grid(t, "hoc_sinh")
    return [["Sở GD&ĐT TP.HCM"], ["Danh sách học sinh"], [None], g[0], g[1], [None], [None], g[2], [None], g[3]]


case("xlsx_title_and_blank_rows", "excel",
     "two title rows and a blank row above the header, blank rows between records: skipped, "
     "_row is the row Excel shows",
     with_file("hoc_sinh.xlsx", lambda t: xlsx_bytes(_title_blank_grid(t)), drop_stem="hoc_sinh"),
     Imported(values=(("students", "student_id", H1, "_row", 5), ("students", "student_id", H2, "_row", 8),
                      ("students", "student_id", H3, "_row", 10))))


def _csv_title_blank(t):
    h, rows = t["hoc_sinh"]
    empty = [""] * len(h)
    text = csv_text(["DANH SÁCH HỌC SINH"] + [""] * (len(h) - 1), [empty, h, rows[0], empty, rows[1]])
    return (text + "\r\n" + csv_text(rows[2], [])).encode("utf-8")


case("csv_title_and_blank_rows", "excel",
     "CSV saved from such a sheet: a title line, empty rows written as ',,,,' and a truly blank line",
     with_file("hoc_sinh.csv", _csv_title_blank),
     Imported(values=(("students", "student_id", H1, "_row", 4), ("students", "student_id", H2, "_row", 6),
                      ("students", "student_id", H3, "_row", 8))))


def _trailing_cols(t):
    h, rows = t["hoc_sinh"]
    return csv_text(h + ["", "", ""], [r + ["", "", ""] for r in rows]).encode("utf-8")


case("csv_trailing_empty_columns", "excel",
     "three empty columns at the end of every line (formatting dragged right in Excel): kept as "
     "unnamed extra columns, no effect",
     with_file("hoc_sinh.csv", _trailing_cols),
     Imported(values=(("students", "student_id", H1, "extra__col12", None),
                      ("students", "student_id", H1, "status", "Đang học"))))


def _xlsx_trailing(g):
    for r in g:
        r.extend([None, None, " "])


case("xlsx_trailing_empty_columns", "excel",
     "an XLSX with formatted empty cells and a stray space right of the data", _xlsx_students(_xlsx_trailing),
     Imported(values=(("students", "student_id", H3, "status", "Đang học"),)))

case("xlsx_several_sheets", "excel",
     "a workbook with three sheets, the second one active: every sheet whose header is recognised is "
     "read (the list and 'Cũ'), the instructions sheet is not; the 'Cũ' row has no status, so it is "
     "checked as any row is (STATUS_INVALID, issue 12)",
     _xlsx_students(more_sheets={"Hướng dẫn": [["Không sửa trang tính này"]],
                                 "Cũ": [STUDENT_HEADER, ["9999999", S1, "12"]]}, active=1),
     Imported(rows={"students": 4}, findings=F(("STATUS_INVALID", "9999999")),
              values=(("students", "student_id", H1, "full_name", NAME[H1]),
                      ("students", "student_id", "9999999", "school_code", S1),
                      ("students", "student_id", "9999999", "_row", 2))))


def _formulas(g):
    g[1][1] = '=TEXT(7900701,"00000000")'
    g[1][3] = '="12A"&1'
    g[2][4] = "=Nguyễn"        # text that merely starts with '=' (a cell typed as text)
    g[3][7] = '=IF(1=1,"Kinh","")'


case("xlsx_formulas", "excel",
     "formula cells: their value as Excel last computed it is read (the formula text is not); a "
     "text cell that starts with '=' stays text; a formula Excel never computed is an empty cell",
     _xlsx_students(_formulas, text_cells=("E3",), cached={"B2": S1, "D2": "12A1"}),
     Imported(findings=F(("NAME_INVALID_CHARS", H2), ("NAME_ONE_WORD", H2), ("MISSING_FIELD", H3)),
              values=(("students", "student_id", H1, "school_code", S1),
                      ("students", "student_id", H1, "class_name", "12A1"),
                      ("students", "student_id", H2, "full_name", "=Nguyễn"),
                      ("students", "student_id", H3, "ethnicity", None))))


def _errors(g):
    g[1][6] = "#N/A"
    g[2][7] = "#REF!"
    g[3][8] = "#VALUE!"


case("xlsx_error_values", "excel",
     "#N/A, #REF! and #VALUE! cells (a broken VLOOKUP): python-calamine reads error cells as empty, "
     "so they are missing values (MISSING_FIELD)",
     _xlsx_students(_errors),
     Imported(findings=F(("MISSING_FIELD", H1), ("MISSING_FIELD", H2), ("MISSING_FIELD", H3)),
              values=(("students", "student_id", H1, "gender", None),
                      ("students", "student_id", H2, "ethnicity", None))))

case("csv_error_values", "excel",
     "a CSV with #N/A as a student's school code: kept, the student is SCHOOL_UNKNOWN",
     with_tables(lambda t: setv(t, "hoc_sinh", H3, "Mã trường", "#N/A")),
     Imported(findings=F(("SCHOOL_UNKNOWN", H3)),
              values=(("students", "student_id", H3, "school_code", "#N/A"),)))

case("csv_semicolon_vi_locale", "excel",
     "CSV saved by Excel under the Vietnamese locale: ';' separators",
     with_tables(delim=";"), Imported(values=names_values(NAME)))


def _cr_only(t):
    return csv_text(*t["hoc_sinh"], eol="\r").encode("utf-8")


case("csv_cr_line_endings", "excel", "CSV (Macintosh) from old Excel for Mac: lines end with CR only",
     with_file("hoc_sinh.csv", _cr_only),
     Imported(values=names_values(NAME) + (("students", "student_id", H3, "_row", 4),)))


def _xlsx_as_csv(t):
    return xlsx_bytes(table_grid(t, "hoc_sinh"))


case("xlsx_saved_as_csv_name", "excel",
     "an Excel workbook renamed hoc_sinh.csv: recognised by its content and read as XLSX",
     with_file("hoc_sinh.csv", _xlsx_as_csv),
     Imported(values=names_values(NAME), encodings={"hoc_sinh.csv": "XLSX"}))

case("old_xls", "excel", "an Excel 97-2003 .xls file: refused, saying how to save it",
     with_file("truong.xls", lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504),
     Refused(("truong.xls", ".xlsx", "Hãy"), file="truong.xls"))

case("xlsx_corrupt", "excel", "a text file named truong.xlsx: refused as an unreadable Excel file",
     with_file("truong.xlsx", lambda t: csv_text(*t["truong"]).encode("utf-8")),
     Refused(("truong.xlsx", "Excel", "Hãy"), file="truong.xlsx"))


# ================================== structure ===================================================
case("missing_file", "structure", "hoc_sinh missing from the folder",
     with_tables(drop=("hoc_sinh",)),
     Refused(("hiếu tệp bắt buộc hoc_sinh.csv", "Danh sách học sinh", "Hãy")))

case("missing_manifest", "structure", "no manifest.toml and no --as-of",
     with_tables(manifest=None), Refused(("manifest.toml", "as_of", "Hãy")))

case("manifest_bad_as_of", "structure", "manifest.toml with as_of = \"hôm qua\"",
     with_tables(manifest='as_of = "hôm qua"\n'), Refused(("manifest.toml", "as_of", "hôm qua", "Hãy")))


def _drop_col(t):
    i = col("hoc_sinh", "Ngày sinh")
    t["hoc_sinh"][0].pop(i)
    for r in t["hoc_sinh"][1]:
        r.pop(i)


case("missing_column", "structure", "the birth date column is missing",
     with_tables(_drop_col),
     Refused(('thiếu cột bắt buộc "Ngày sinh"', "hoc_sinh.csv", "dòng 1", "Hãy"),
             file="hoc_sinh.csv", row=1, column="Ngày sinh"))


def _dup_header(t):
    t["hoc_sinh"][0].append("Họ và tên")
    for r in t["hoc_sinh"][1]:
        r.append("x")


case("duplicated_header", "structure", "'Họ và tên' twice in the header",
     with_tables(_dup_header),
     Refused(("hoc_sinh.csv", "dòng 1", "Họ và tên", "cột thứ 5", "Hãy"), file="hoc_sinh.csv", row=1))


def _dup_alias(t):
    t["hoc_sinh"][0].append("Họ tên")
    for r in t["hoc_sinh"][1]:
        r.append("x")


case("duplicated_header_alias", "structure", "'Họ và tên' and its alias 'Họ tên' both present",
     with_tables(_dup_alias), Refused(('"Họ tên"', '"Họ và tên"', "Hãy"), file="hoc_sinh.csv", row=1))

case("duplicated_student_key", "structure", "two students with the same id (rows 2 and 4)",
     with_tables(lambda t: setv(t, "hoc_sinh", H3, "Mã học sinh", H1)),
     Refused((H1, "dòng 4", "dòng 2", "Mã học sinh", "Hãy"), file="hoc_sinh.csv", row=4, column="Mã học sinh"))

case("duplicated_school_key_spaces", "structure",
     "the same school code twice, once with a trailing no-break space (equal once trimmed)",
     with_tables(lambda t: setv(t, "truong", S2, "Mã trường", S1 + "\u00a0")),
     Refused((S1, "truong.csv", "dòng 3", "Hãy"), file="truong.csv", row=3))

case("unknown_school", "structure", "a student at a school code not in truong: imported, SCHOOL_UNKNOWN",
     with_tables(lambda t: setv(t, "hoc_sinh", H3, "Mã trường", "07909999")),
     Imported(findings=F(("SCHOOL_UNKNOWN", H3))))

case("codes_with_invisible_spaces", "structure",
     "codes with a no-break space and a zero-width space around them (copied from the web): trimmed, "
     "the students match their schools",
     with_tables(lambda t: (setv(t, "hoc_sinh", H1, "Mã trường", S1 + "\u00a0"),
                            setv(t, "hoc_sinh", H3, "Mã trường", "\u200b" + S2 + " "))),
     Imported(values=(("students", "student_id", H1, "school_code", S1),
                      ("students", "student_id", H3, "school_code", S2))))

case("empty_file", "structure", "hoc_sinh.csv of 0 bytes",
     with_file("hoc_sinh.csv", lambda t: b""), Refused(("hoc_sinh.csv", "tệp rỗng", "Hãy"), file="hoc_sinh.csv"))

case("bom_only_file", "structure", "hoc_sinh.csv holding only a UTF-8 BOM and a line break",
     with_file("hoc_sinh.csv", lambda t: b"\xef\xbb\xbf\r\n"), Refused(("hoc_sinh.csv", "Hãy"), file="hoc_sinh.csv"))

case("header_only_truong", "structure", "truong with its header and no school",
     with_tables(lambda t: t["truong"][1].clear()),
     Refused(("truong.csv", "không có dòng dữ liệu", "Hãy"), file="truong.csv"))

case("header_only_hoc_sinh", "structure",
     "hoc_sinh with its header and no student: a broken export (every requirement would read 0 "
     "students), refused",
     with_tables(lambda t: t["hoc_sinh"][1].clear()),
     Refused(("hoc_sinh.csv", "không có dòng dữ liệu", "Hãy"), file="hoc_sinh.csv"))

case("header_only_bao_cao", "structure", "bao_cao with its header only: no school has reported yet (valid)",
     with_tables(lambda t: t["bao_cao"][1].clear()),
     Imported(rows={"schools": 2, "students": 3, "reports": 0}))


def _cut(at: str):
    def data(t):
        text = csv_text(*t["hoc_sinh"])
        return text[: text.index(at) + len(at)].encode("utf-8")
    return data


case("truncated_mid_line", "structure", "the file cut in the middle of its last line (an interrupted copy)",
     with_file("hoc_sinh.csv", _cut("0200003,07900702,12,12A2,Lê Đức")),
     Refused(("hoc_sinh.csv", "dòng 4", "Hãy"), file="hoc_sinh.csv", row=4))


def _cut_in_quote(t):
    text = csv_text(*t["hoc_sinh"])
    cut = text.index('"5 Nguyễn Du') + len('"5 Nguyễn Du, Phường')
    return text[:cut].encode("utf-8")


case("truncated_mid_quote", "structure", "the file cut inside a quoted address",
     with_file("hoc_sinh.csv", _cut_in_quote),
     Refused(("hoc_sinh.csv", "dòng 4", "Hãy"), file="hoc_sinh.csv", row=4))


def _cut_in_char(t):
    data = csv_text(*t["hoc_sinh"]).encode("utf-8")
    return data[: data.rindex("Đang".encode("utf-8")) + 1]   # half of the two bytes of 'Đ'


case("truncated_mid_character", "structure", "the file cut between the two bytes of a UTF-8 letter",
     with_file("hoc_sinh.csv", _cut_in_char),
     Refused(("hoc_sinh.csv", "dòng 4", "Hãy"), file="hoc_sinh.csv", row=4))


def _extra_field(t):
    setv(t, "hoc_sinh", H2, "Nơi thường trú", ADDR[H2])
    text = csv_text(*t["hoc_sinh"]).replace('"' + ADDR[H2] + '"', ADDR[H2])   # quotes lost
    return text.encode("utf-8")


case("wrong_field_count_extra", "structure",
     "an address with commas written without quotes: the line has 14 fields for 11 columns",
     with_file("hoc_sinh.csv", _extra_field),
     Refused(("hoc_sinh.csv", "dòng 3", "14", "11", "ngoặc kép", "Hãy"), file="hoc_sinh.csv", row=3))


def _missing_fields(t):
    text = csv_text(*t["hoc_sinh"])
    return text.replace(",Kinh,079204001236", "").encode("utf-8")


case("wrong_field_count_missing", "structure", "a line with two fields less than the header",
     with_file("hoc_sinh.csv", _missing_fields),
     Refused(("hoc_sinh.csv", "dòng 4", "9", "11", "Hãy"), file="hoc_sinh.csv", row=4))


def _missing_fields_blank(t):
    text = csv_text(*t["hoc_sinh"]).replace("\r\n0100002", "\r\n\r\n0100002")
    return text.replace(",Kinh,079204001236", "").encode("utf-8")


case("wrong_field_count_after_blank_line", "structure",
     "the same short line in a file with blank lines (read by the row-numbering path)",
     with_file("hoc_sinh.csv", _missing_fields_blank),
     Refused(("hoc_sinh.csv", "dòng 5", "9", "11", "Hãy"), file="hoc_sinh.csv", row=5))

case("two_files_one_table", "structure", "truong.csv and truong.xlsx side by side",
     with_file("truong.xlsx", lambda t: xlsx_bytes(table_grid(t, "truong")), drop_stem="__none__"),
     Refused(("truong.csv", "truong.xlsx", "Hãy")))


def _zip_build(files: Callable[[], dict[str, bytes]], name: str = "trich_xuat.zip"):
    def build(dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        p = dest / name
        p.write_bytes(zip_of(files()))
        return p
    return build


case("zip_nested_folders", "structure",
     "a .zip whose files sit two folders deep, with macOS and Office junk beside them",
     _zip_build(lambda: {**{f"Xuat du lieu/2022-04-27/{n}": d for n, d in extract_files().items()},
                         "__MACOSX/Xuat du lieu/2022-04-27/._truong.csv": b"\0\5\x16\7junk",
                         "Xuat du lieu/2022-04-27/~$hoc_sinh.xlsx": b"lock"}),
     Imported(values=names_values(NAME)))

case("zip_path_escape", "structure", "a .zip with an entry ../../truong.csv (zip slip): refused, nothing written",
     _zip_build(lambda: {**extract_files(), "../../truong.csv": b"x"}),
     Refused(("../../truong.csv", "không an toàn", "Hãy"), file="trich_xuat.zip"))

case("zip_absolute_path", "structure", "a .zip with an absolute entry /tmp/hoc_sinh.csv: refused",
     _zip_build(lambda: {**extract_files(), "/tmp/hoc_sinh.csv": b"x"}),
     Refused(("/tmp/hoc_sinh.csv", "không an toàn", "Hãy")))

case("zip_truncated", "structure", "a .zip cut in half by an interrupted download",
     lambda dest: (dest.mkdir(parents=True, exist_ok=True),
                   (dest / "trich_xuat.zip").write_bytes(zip_of(extract_files())[:300]))[0] or dest / "trich_xuat.zip",
     Refused(("trich_xuat.zip", "Hãy")))

def _patch_zip(fn: Callable[[bytearray], None]):
    """The base extract zipped, then its bytes patched (flags, method, data) by `fn`."""
    def build(dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        b = bytearray(zip_of(extract_files()))
        fn(b)
        p = dest / "trich_xuat.zip"
        p.write_bytes(bytes(b))
        return p
    return build


def _headers(b: bytearray):
    """(offset, kind) of every local (L) and central (C) header."""
    for sig, kind in ((b"PK\x03\x04", "L"), (b"PK\x01\x02", "C")):
        i = b.find(sig)
        while i >= 0:
            yield i, kind
            i = b.find(sig, i + 4)


def _encrypt_flag(b: bytearray) -> None:
    for i, kind in _headers(b):
        b[i + (6 if kind == "L" else 8)] |= 1


def _deflate64(b: bytearray) -> None:
    for i, kind in _headers(b):
        b[i + (8 if kind == "L" else 10):i + (10 if kind == "L" else 12)] = b"\x09\x00"


def _damage_data(b: bytearray) -> None:
    i = b.find(b"PK\x03\x04", b.find(b"hoc_sinh.csv") - 40)   # the hoc_sinh entry
    n, k = int.from_bytes(b[i + 26:i + 28], "little"), int.from_bytes(b[i + 28:i + 30], "little")
    start = i + 30 + n + k
    for j in range(start + 20, start + 60):
        b[j] ^= 0x5A


case("zip_password", "structure", "a password-protected .zip: refused before any work, saying to zip without one",
     _patch_zip(_encrypt_flag), Refused(("trich_xuat.zip", "mật khẩu", "Hãy"), file="trich_xuat.zip"))

case("zip_deflate64", "structure",
     "a .zip made by Windows Explorer with Deflate64 (big files): refused, saying how to zip again",
     _patch_zip(_deflate64), Refused(("trich_xuat.zip", "không hỗ trợ", "Deflate", "Hãy"), file="trich_xuat.zip"))

case("zip_damaged_data", "structure", "a .zip whose hoc_sinh.csv data is damaged (bad CRC / deflate stream)",
     _patch_zip(_damage_data), Refused(("hoc_sinh.csv", "Hãy")))

case("zip_two_extracts", "structure", "a .zip holding two extract folders side by side: nothing is guessed",
     _zip_build(lambda: {**{f"dot1/{k}": v for k, v in extract_files().items()},
                         **{f"dot2/{k}": v for k, v in extract_files().items()}}),
     Refused(("hiếu tệp bắt buộc truong.csv", "trich_xuat.zip", '"dot1", "dot2"', "một bản trích xuất", "Hãy")))


def _symlink_out(dest: Path) -> Path:
    write_extract(dest, drop=("bao_cao",))
    outside = dest.parent / "outside.csv"
    outside.write_text("secret,line\r\n", encoding="utf-8")
    (dest / "bao_cao.csv").symlink_to(outside)
    return dest


case("symlink_outside_folder", "structure",
     "a folder extract whose bao_cao.csv is a symbolic link to a file elsewhere: refused, the file is not read",
     _symlink_out, Refused(("bao_cao.csv", "symlink", "Hãy")))

case("csv_sep_hint_line", "excel", "a CSV starting with Excel's 'sep=,' line: taken as a title line",
     with_file("hoc_sinh.csv", lambda t: b"sep=,\r\n" + csv_text(*t["hoc_sinh"]).encode("utf-8")),
     Imported(values=names_values(NAME) + (("students", "student_id", H1, "_row", 3),)))


MB = 1 << 20
case("cell_1mb", "structure",
     "a 1 MB report note and a 1 MB address: kept whole; the address is ADDRESS_INCOMPLETE",
     with_tables(lambda t: (setv(t, "bao_cao", S1, "Ghi chú", "Ghi chú dài. " * (MB // 13)),
                            setv(t, "hoc_sinh", H2, "Nơi thường trú", "x" * MB))),
     Imported(findings=F(("ADDRESS_INCOMPLETE", H2)),
              values=(("reports", "school_code", S1, "note", lambda v: v is not None and len(v) > 1_000_000),
                      ("students", "student_id", H2, "permanent_address", "x" * MB))))

def _big_with_blank(t):
    setv(t, "hoc_sinh", H2, "Nơi thường trú", "z" * MB)
    return csv_text(*t["hoc_sinh"]).replace("\r\n0200003", "\r\n\r\n0200003").encode("utf-8")


case("cell_1mb_with_blank_lines", "structure",
     "a 1 MB cell in a file with blank lines (read by the row-numbering path): kept whole",
     with_file("hoc_sinh.csv", _big_with_blank),
     Imported(findings=F(("ADDRESS_INCOMPLETE", H2)),
              values=(("students", "student_id", H2, "permanent_address", "z" * MB),
                      ("students", "student_id", H3, "_row", 5))))

case("cell_3mb_first_line", "structure",
     "a 3 MB cell in the first record (bigger than any line buffer): kept whole",
     with_tables(lambda t: setv(t, "hoc_sinh", H1, "Lớp", "y" * (3 * MB))),
     Imported(values=(("students", "student_id", H1, "class_name", "y" * (3 * MB)),)))


# ================================== content =====================================================
def _formula_prefixes(t):
    setv(t, "hoc_sinh", H1, "Lớp", "=1+1")
    setv(t, "hoc_sinh", H2, "Lớp", "+12A1")
    setv(t, "hoc_sinh", H3, "Lớp", "-12A2")
    setv(t, "hoc_sinh", H3, "Họ và tên", "@Lê Đức Thọ")
    setv(t, "bao_cao", S1, "Ghi chú", '=HYPERLINK("http://x.invalid","bấm vào đây")')


case("formula_prefix_strings", "content",
     "values starting with =, +, -, @ (formula injection): kept exactly as text; '@' in a name is NAME_INVALID_CHARS",
     with_tables(_formula_prefixes),
     Imported(findings=F(("NAME_INVALID_CHARS", H3)),
              values=(("students", "student_id", H1, "class_name", "=1+1"),
                      ("students", "student_id", H2, "class_name", "+12A1"),
                      ("students", "student_id", H3, "class_name", "-12A2"),
                      ("students", "student_id", H3, "full_name", "@Lê Đức Thọ"),
                      ("reports", "school_code", S1, "note", '=HYPERLINK("http://x.invalid","bấm vào đây")'))))


def _xlsx_prefixes(g):
    g[1][3] = "=1+1"
    g[2][3] = "@12A1"


case("xlsx_formula_prefix_text", "content", "XLSX text cells '=1+1' and '@12A1': kept as text, not evaluated",
     _xlsx_students(_xlsx_prefixes, text_cells=("D2",)),
     Imported(values=(("students", "student_id", H1, "class_name", "=1+1"),
                      ("students", "student_id", H2, "class_name", "@12A1"))))

SCRIPT = "<script>alert('xss')</script>"


def _html(t):
    setv(t, "hoc_sinh", H1, "Họ và tên", SCRIPT)
    setv(t, "hoc_sinh", H2, "Họ và tên", "<b>Trần</b> Văn Bình")
    setv(t, "truong", S2, "Tên trường", '<img src=x onerror="alert(1)">')


case("html_script_in_names", "content",
     "HTML and script tags in names: stored as typed (the dashboard escapes them), NAME_INVALID_CHARS",
     with_tables(_html),
     Imported(findings=F(("NAME_INVALID_CHARS", H1), ("NAME_ONE_WORD", H1), ("NAME_INVALID_CHARS", H2)),
              values=(("students", "student_id", H1, "full_name", SCRIPT),
                      ("students", "student_id", H2, "full_name", "<b>Trần</b> Văn Bình"),
                      ("schools", "school_code", S2, "school_name", '<img src=x onerror="alert(1)">'))))

EVIL = "0200003'; DROP TABLE students; --"


def _quotes(t):
    setv(t, "hoc_sinh", H1, "Họ và tên", "H'Hen Niê")             # apostrophe: a valid Ê Đê name
    setv(t, "hoc_sinh", H2, "Họ và tên", 'Trần "Bin" Văn Bình')
    setv(t, "hoc_sinh", H3, "Giới tính", "Nam' OR '1'='1")
    setv(t, "hoc_sinh", H3, "Mã học sinh", EVIL)
    setv(t, "bao_cao", S2, "Ghi chú", "\"; DELETE FROM reports; '")
    t["hoc_sinh"][0].append('x"); DROP TABLE schools; --')
    for r in t["hoc_sinh"][1]:
        r.append("'")


case("sql_quotes", "content",
     "' and \" in names, codes, notes and a header (SQL injection attempts): stored verbatim",
     with_tables(_quotes),
     Imported(findings=F(("NAME_INVALID_CHARS", H2), ("GENDER_INVALID", EVIL)),
              values=(("students", "student_id", H1, "full_name", "H'Hen Niê"),
                      ("students", "student_id", EVIL, "gender", "Nam' OR '1'='1"),
                      ("students", "student_id", H2, "extra__x_drop_table_schools", "'"),
                      ("reports", "school_code", S2, "note", "\"; DELETE FROM reports; '"))))


def _bare_quote(t):
    return csv_text(*t["hoc_sinh"]).replace(NAME[H2], 'Trần "Bin" Văn Bình').encode("utf-8")


case("csv_bare_quotes_in_value", "content",
     'a name with " inside an unquoted value (hand-written CSV): kept as typed, NAME_INVALID_CHARS',
     with_file("hoc_sinh.csv", _bare_quote),
     Imported(findings=F(("NAME_INVALID_CHARS", H2)),
              values=(("students", "student_id", H2, "full_name", 'Trần "Bin" Văn Bình'),)))


def _quoted_folder(dest: Path) -> Path:
    return write_extract(dest / "Trích xuất 'tháng 4' \"đợt 2\"; --", base())


case("quotes_in_folder_name", "content", "an extract folder whose name holds ' \" and ;",
     _quoted_folder, Imported(values=names_values(NAME)))


def _real_headers(t):
    h, rows = t["hoc_sinh"]
    new_h = ["STT", "Mã định danh Bộ GD&ĐT", "MA TRUONG", "Khối học", "Lớp học", "Họ tên", "  ngày   sinh ",
             "Giới tính", "Dân tộc", "Số CMND", "Số định danh cá nhân", "Nơi thường trú", "Chỗ ở hiện nay",
             "trang thai"]
    new_rows = [[str(i + 1)] + r[:9] + [""] + [r[9], "Ký túc xá, Phường 1, Quận 5, TP. Hồ Chí Minh", r[10]]
                for i, r in enumerate(rows)]
    t["hoc_sinh"] = [new_h, new_rows]


case("real_export_headers", "content",
     "headers as the sector database exports them (STT, Mã định danh Bộ GD&ĐT, Họ tên, Khối học, "
     "no accents, odd spacing); 'Chỗ ở hiện nay' is kept apart from 'Nơi thường trú'",
     with_tables(_real_headers),
     Imported(values=names_values(NAME) + (
         ("students", "student_id", H1, "permanent_address", ADDR[H1]),
         ("students", "student_id", H1, "extra__cho_o_hien_nay", "Ký túc xá, Phường 1, Quận 5, TP. Hồ Chí Minh"),
         ("students", "student_id", H1, "personal_id", None))))

# ---- report figures (so_lieu_bao_cao, issue 15) --------------------------------------------
FIG_HEADER = ["Mã trường", "Mã báo cáo", "Mã chỉ tiêu", "Giá trị"]


def _figures(rows, header=None):
    def mutate(t):
        t["so_lieu_bao_cao"] = [list(header or FIG_HEADER), rows]
    return mutate


case("figures_value_not_a_number", "content",
     "report figures: a value written '12 em' and one left empty are imported and become "
     "REPORT_FIGURE_INVALID warnings (not compared); an unknown indicator code too; "
     "'1.234' with a thousands separator is a number",
     with_tables(_figures([[S1, "EMIS", "HS_KHOI_12", "12 em"], [S1, "EMIS", "HS_KHOI_11", ""],
                           [S1, "EMIS", "SO_HOC_SINH", "2"], [S2, "EMIS", "HS_KHOI_10", "1.234"]])),
     Imported(rows={**BASE_ROWS, "report_figures": 4},
              findings=F(("REPORT_FIGURE_INVALID", "EMIS|HS_KHOI_12"), ("REPORT_FIGURE_INVALID", "EMIS|HS_KHOI_11"),
                         ("REPORT_FIGURE_INVALID", "EMIS|SO_HOC_SINH"))))

case("figures_separators_duplicate_unknown_school", "content",
     "report figures (last outside review of issue 15): mixed thousands separators '1.234,567' are "
     "not a number (REPORT_FIGURE_INVALID); a no-break space '1\u00a0234' is a thousands "
     "separator; one figure on two rows with different values is REPORT_FIGURE_DUPLICATE; a row "
     "of a school code not in truong is named by the import's notes",
     with_tables(_figures([[S1, "EMIS", "HS_KHOI_12", "1.234,567"], [S1, "EMIS", "HS_KHOI_11", "1\u00a0234"],
                           [S1, "EMIS", "HS_KHOI_10", "3"], [S1, "EMIS", "HS_KHOI_10", "4"],
                           ["07900799", "EMIS", "HS_KHOI_12", "2"]])),
     Imported(rows={**BASE_ROWS, "report_figures": 5},
              findings=F(("REPORT_FIGURE_INVALID", "EMIS|HS_KHOI_12"), ("REPORT_FIGURE_DUPLICATE", "EMIS|HS_KHOI_10")),
              notes=(("so_lieu_bao_cao", "dòng 6", "07900799", "không được đối chiếu"),)))

case("figures_missing_column", "missing",
     "so_lieu_bao_cao without its 'Mã chỉ tiêu' column: refused, naming the file and the column",
     with_tables(_figures([[S1, "EMIS", "2"]], ["Mã trường", "Mã báo cáo", "Giá trị"])),
     Refused(("so_lieu_bao_cao.csv", "Mã chỉ tiêu"), file="so_lieu_bao_cao.csv"))

CASE_BY_ID = {c.id: c for c in CASES}
assert len(CASE_BY_ID) == len(CASES), "duplicate case id"
