"""Status sheets: the XLSX reopened with openpyxl (sheets, types, fills, freeze panes, filters,
print setup), formula injection, CSV round trip with Vietnamese, district/school scope, the CLI,
and LibreOffice (a real spreadsheet client) converting the workbook to PDF."""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from data_access import ops
from data_access.access import SYSTEM, Viewer
from data_access.evaluate import evaluate
from exports import csv_export, status_workbook, tables
from exports.safety import csv_safe, is_dangerous
from tests.snapshot_factory import results_rows, school, student, write_store

pytestmark = pytest.mark.ops_per_module   # the module-scoped store holds a follow-up (issue 17 PG mode)

ROOT = Path(__file__).resolve().parent.parent
EVIL = "=HYPERLINK(\"http://x.invalid\",\"Bấm vào\")"
NAMES = {"S1": EVIL, "S2": "+Trường Tiểu học Hòa Bình", "S3": "-Trường Mầm non Sen Hồng",
         "S4": "@Trường THCS Nguyễn Du", "S5": "\tTrường THPT Lê Quý Đôn"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports") / "store"
    schools = [school("S1", "THPT", "760", school_name=NAMES["S1"], principal="Nguyễn Văn Ánh",
                      phone="0901234567", email="s1@example.edu.vn"),
               school("S2", "TH", "760", school_name=NAMES["S2"]),
               school("S3", "MN", "761", school_name=NAMES["S3"]),
               school("S4", "THCS", "761", school_name=NAMES["S4"]),
               school("S5", "THPT", "769", school_name=NAMES["S5"])]
    students, sc, su = [], [], []
    for sid, code in (("H1", "S1"), ("H2", "S1"), ("H3", "S5")):
        students.append(student(sid, code, id_number=None) if sid == "H2" else student(sid, code))
        a, b = results_rows(sid)
        sc += a
        su += b
    reports = [{"school_code": "S2", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": "27/04/2022 08:00"},
               {"school_code": "S5", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": "29/04/2022 08:00"}]
    tables_ = {"schools": schools, "students": students, "subject_scores": sc, "term_summaries": su,
               "reports": reports}
    # the 25/04 export cannot hold reports sent later (27/04, 29/04): a log time after the
    # snapshot's own time made the deadline verdict rest on a send that had not happened yet
    write_store(root, [("2022-04-25T17:00:00+07:00", dict(tables_, reports=[])),
                       ("2022-04-29T17:00:00+07:00", tables_)])
    ops.add_follow_up(root, SYSTEM, "S1", "28/04/2022", "điện thoại", note="=1+2 hẹn gửi",
                      promised_on="29/04/2022", today=dt.date(2022, 4, 30))
    return root


@pytest.fixture(scope="module")
def ev(store):
    e = evaluate(store)
    yield e
    e.close()


@pytest.fixture(scope="module")
def city_xlsx(ev, store, tmp_path_factory) -> Path:
    data, rows = status_workbook.workbook_bytes(ev, SYSTEM, store, today=dt.date(2022, 4, 30))
    path = tmp_path_factory.mktemp("xlsx") / "thanh-pho.xlsx"
    path.write_bytes(data)
    return path


def test_city_workbook_sheets_title_and_layout(city_xlsx):
    wb = load_workbook(city_xlsx)
    assert wb.sheetnames == ["Tổng hợp", "Quận 1", "Quận 12", "Thành phố Thủ Đức", "Trường chậm tiến độ",
                             "Mức độ đầy đủ dữ liệu"]
    for ws in wb.worksheets:
        title = ws["A1"].value
        assert "Công văn 1254/SGDĐT-KHTC" in title and "số liệu tính đến 17:00 ngày 29/04/2022" in title
        assert ws.freeze_panes is not None and ws.freeze_panes[1:] == "5"      # below the header row 4
        assert ws.auto_filter.ref.startswith("A4:")
        assert ws.print_title_rows == "$4:$4"
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws["A4"].font.b
        widths = [ws.column_dimensions[c].width for c in "ABC"]
        assert all(w and 4 <= w <= 60 for w in widths)


def test_cell_types_and_status_fills(city_xlsx):
    from data_access.formatting import STATUS_COLORS
    wb = load_workbook(city_xlsx)
    ws = wb["Quận 1"]
    header = [c.value for c in ws[4]]
    row = {h: ws.cell(row=5, column=i + 1) for i, h in enumerate(header)}
    assert row["Mã trường"].value == "S1" and row["STT"].value == 1 and row["STT"].data_type == "n"
    assert isinstance(row["Số yêu cầu"].value, int)
    pct = row["Thông tin HS lớp 12 (%)"]
    assert pct.value == 50.0 and pct.data_type == "n" and pct.number_format == "0.0"
    status = row["Thông tin HS lớp 12"]
    assert status.value == "Quá hạn"
    assert status.fill.fgColor.rgb.endswith(STATUS_COLORS["overdue"].lstrip("#").upper())
    emis = ws.cell(row=6, column=header.index("Báo cáo EMIS") + 1)       # S2 sent EMIS on time
    assert emis.value == "Đúng hạn"
    assert emis.fill.fgColor.rgb.endswith(STATUS_COLORS["done_on_time"].lstrip("#").upper())
    na = ws.cell(row=6, column=header.index("Thông tin HS lớp 12") + 1)   # primary school: no G12
    assert na.value == "KAD"

    s = wb["Tổng hợp"]
    head = [c.value for c in s[4]]
    due = s.cell(row=5, column=head.index("Hạn") + 1)
    assert isinstance(due.value, dt.datetime) and due.value == dt.datetime(2022, 4, 26, 23, 59, 59)
    assert due.number_format == "dd/mm/yyyy hh:mm"
    assert s.cell(row=5, column=head.index("Đơn vị") + 1).value == "Thành phố Hồ Chí Minh"
    units = s.cell(row=5, column=head.index("Số đơn vị phải thực hiện") + 1)
    assert units.data_type == "n" and units.value == 2

    lag = wb["Trường chậm tiến độ"]
    h = [c.value for c in lag[4]]
    first = {k: lag.cell(row=5, column=i + 1).value for i, k in enumerate(h)}
    assert first["Mã trường"] == "S1" and first["Mức độ"] == "Quá hạn"
    assert "thiếu CCCD 1 học sinh" in first["Còn thiếu"]
    assert first["Điện thoại"] == "0901234567"                           # text: leading zero kept
    assert isinstance(first["Liên hệ gần nhất"], dt.datetime) and first["Liên hệ gần nhất"].date() == dt.date(2022, 4, 28)
    assert lag.cell(row=5, column=h.index("Liên hệ gần nhất") + 1).number_format == "dd/mm/yyyy"
    assert first["Đã quá ngày hẹn"] == "Có"
    assert lag.cell(row=5, column=h.index("Mức độ") + 1).fill.fgColor.rgb.endswith("D55E00")


def test_formula_injection_written_as_text(city_xlsx):
    wb = load_workbook(city_xlsx)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=5):
            for c in row:
                if isinstance(c.value, str) and c.value in NAMES.values():
                    found[c.value] = c
                    assert c.data_type == "s" and c.quotePrefix, (ws.title, c.coordinate)
    assert set(found) == set(NAMES.values())
    with zipfile.ZipFile(city_xlsx) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name)


def test_safety_helpers():
    for s in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert is_dangerous(s) and csv_safe(s) == "'" + s
    assert csv_safe("Trường Lê Lợi") == "Trường Lê Lợi" and csv_safe(-1) == -1


def test_csv_round_trip_vietnamese(ev, store):
    data, rows = csv_export.csv_bytes(ev, SYSTEM, "trang-thai", store)
    assert data.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert rows == len(df) == 5
    assert list(df.columns[:4]) == ["STT", "Mã trường", "Tên trường", "Quận/huyện"]
    by = df.set_index("Mã trường")
    assert by.loc["S1", "Tên trường"] == "'" + EVIL
    assert by.loc["S2", "Tên trường"] == "'+Trường Tiểu học Hòa Bình"
    assert by.loc["S5", "Quận/huyện"] == "Thành phố Thủ Đức"
    assert by.loc["S1", "Thông tin HS lớp 12"] == "Quá hạn" and by.loc["S1", "Thông tin HS lớp 12 (%)"] == "50.0"
    lag, _ = csv_export.csv_bytes(ev, SYSTEM, "cham-tien-do", store, today=dt.date(2022, 4, 30))
    ldf = pd.read_csv(io.BytesIO(lag), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert ldf.loc[0, "Liên hệ gần nhất"] == "28/04/2022" and ldf.loc[0, "Điện thoại"] == "0901234567"
    summary, _ = csv_export.csv_bytes(ev, SYSTEM, "tong-hop", store)
    sdf = pd.read_csv(io.BytesIO(summary), encoding="utf-8-sig")
    assert sdf.loc[0, "Hạn"] == "26/04/2022 23:59" and sdf.loc[0, "Đơn vị"] == "Thành phố Hồ Chí Minh"


def test_district_and_school_files_and_scope(ev, store):
    wb, _ = status_workbook.build_workbook(ev, SYSTEM, store, district="761")
    assert wb.sheetnames == ["Tổng hợp", "Quận 12", "Trường chậm tiến độ", "Mức độ đầy đủ dữ liệu"]
    units = {wb["Tổng hợp"].cell(row=r, column=3).value for r in range(5, wb["Tổng hợp"].max_row + 1)}
    assert units == {"Quận 12"}
    q1 = Viewer("pgd760", "phong_gd", district_code="760")
    wb, _ = status_workbook.build_workbook(ev, q1, store)
    assert wb.sheetnames == ["Tổng hợp", "Quận 1", "Trường chậm tiến độ", "Mức độ đầy đủ dữ liệu"]
    with pytest.raises(PermissionError):
        status_workbook.build_workbook(ev, q1, store, district="761")
    wb, rows = status_workbook.build_workbook(ev, SYSTEM, store, school="S1")
    assert wb.sheetnames == ["Danh mục yêu cầu", "Bản ghi cần sửa", "Học sinh chưa đạt"]
    ws = wb["Danh mục yêu cầu"]
    head = [c.value for c in ws[4]]
    assert ws.cell(row=5, column=head.index("Trạng thái") + 1).value == "Quá hạn"
    assert ws.cell(row=5, column=head.index("Còn thiếu") + 1).value == "thiếu CCCD 1 học sinh"
    assert "H2" in {ws2.value for ws2 in wb["Bản ghi cần sửa"]["D"]}
    with pytest.raises(LookupError):
        status_workbook.build_workbook(ev, SYSTEM, store, school="NOPE")


def test_school_checklist_reason_column(ev, store):
    """Issue 12: "Lý do", one line per row, hand-computed at 29/04 17:00. S1: H2 has no CCCD
    (MISSING_FIELD) → G12_INFO 1 of 2 missing, due 26/04 → overdue 3 days; no EMIS row, due 28/04
    → overdue 1 day. S5: H3 valid since the first snapshot (25/04 17:00, nothing earlier) →
    done before then; EMIS sent 08:00 29/04 after the due 23:59 28/04 → late 1 day."""
    def reasons(code):
        wb, _ = status_workbook.build_workbook(ev, SYSTEM, store, school=code)
        ws = wb["Danh mục yêu cầu"]
        head = [c.value for c in ws[4]]
        return {ws.cell(row=r, column=head.index("Yêu cầu") + 1).value: ws.cell(row=r, column=head.index("Lý do") + 1).value
                for r in range(5, ws.max_row + 1)}
    s1, s5 = reasons("S1"), reasons("S5")
    info, emis = "Thông tin cá nhân học sinh lớp 12", "Báo cáo EMIS kỳ đầu năm học 2021-2022"
    assert s1[info] == "Thiếu 1/2 (lỗi MISSING_FIELD: 1 học sinh); quá hạn 3 ngày."
    assert s1[emis] == "Thiếu 1/1 (chưa gửi báo cáo); quá hạn 1 ngày."
    assert s5[info] == "Đạt 1/1 học sinh; hoàn thành trước 17:00 25/04."
    assert s5[emis] == "Đạt 1/1; hoàn thành lúc 08:00 29/04/2022, trễ 1 ngày."
    # the CSV of the checklist carries the same column
    data, _ = csv_export.csv_bytes(ev, SYSTEM, "danh-muc", store, school="S5")
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert dict(zip(df["Yêu cầu"], df["Lý do"]))[emis] == s5[emis]


def test_only_status_cells_are_filled(ev, store):
    """A status colour must not leak into the cells styled after it (percent, dates, empty
    cells): the school checklist's 'Tỉ lệ (%)' of an overdue row was filled vermilion."""
    data, _ = status_workbook.workbook_bytes(ev, SYSTEM, store, school="S1")
    ws = load_workbook(io.BytesIO(data))["Danh mục yêu cầu"]
    head = [c.value for c in ws[4]]
    filled = {head[c.column - 1] for row in ws.iter_rows(min_row=5) for c in row if c.fill.fill_type}
    assert filled == {"Trạng thái"}


def test_cli_export(store, tmp_path):
    out = tmp_path / "q1.csv"
    r = subprocess.run([sys.executable, "-m", "data_access", "export", "--store", str(store),
                        "--as-of", "2022-04-29T17:00:00+07:00", "--district", "760", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert list(df["Mã trường"]) == ["S1", "S2"]
    assert ops.list_audit(store, SYSTEM, action="export.cli").loc[0, "object"] == "q1.csv"
    bad = subprocess.run([sys.executable, "-m", "data_access", "export", "--store", str(store),
                          "--school", "NOPE", "--out", str(tmp_path / "x.xlsx")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Không có trường mã «NOPE»" in bad.stderr
    assert not (tmp_path / "x.xlsx").exists()


def test_libreoffice_converts_the_workbook_to_pdf(city_xlsx, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required: apt-get install libreoffice-calc"
    out = tmp_path / "pdf"
    r = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                        "--convert-to", "pdf", "--outdir", str(out), str(city_xlsx)],
                       capture_output=True, text=True, timeout=120)
    pdf = out / "thanh-pho.pdf"
    assert r.returncode == 0 and pdf.exists() and pdf.stat().st_size > 5000, r.stdout + r.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):        # a page as PNG, to look at (kept beside the PDF)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(out / "page")],
                       check=True, timeout=60)
        assert list(out.glob("page*.png"))
