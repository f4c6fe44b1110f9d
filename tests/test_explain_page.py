"""Issue 12, "Every verdict explains itself", on the institution page and in the school workbook:
each checklist row has a "Vì sao?" with the CLI's explanation (same words, same numbers) and a
one-line reason; the school workbook's checklist sheet has a "Lý do" column with the same line.

Hand-computed store (as tests/test_explain.py): S1 has A (valid), B (no ethnicity:
MISSING_FIELD), C (grade 11), D (grade 12, transferred out); as of 27/04 17:00, G12_INFO is
expected 2 (A, B), done 1, overdue 1 day (due 26/04 23:59:59)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
import io

from data_access.access import SYSTEM, Viewer
from data_access.current_user import set_viewer
from data_access.evaluate import evaluate
from exports import status_workbook
from tests.snapshot_factory import school, student, write_store
from tests.test_pages import app

ROOT = Path(__file__).resolve().parent.parent
G12_INFO_NAME = "Thông tin cá nhân học sinh lớp 12"


@pytest.fixture(autouse=True)
def _admin():
    set_viewer(Viewer("demo", "quan_tri"))
    yield
    set_viewer(None)


def _store(tmp_path):
    studs = [student("A"), student("B", ethnicity=None), student("C", grade="11"),
             student("D", status="Đã chuyển trường")]
    snap = {"schools": [school("S1")], "students": studs}
    return write_store(tmp_path, [("2022-04-26T17:00:00+07:00", snap), ("2022-04-27T17:00:00+07:00", snap)])


def _cli(store, code, req) -> str:
    out = subprocess.run([sys.executable, "-m", "data_access", "explain", "--school", code, "--requirement",
                          req, "--store", str(store)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _why(at, requirement_name: str):
    """The "Vì sao?" expander of one checklist row."""
    hits = [e for e in at.expander if e.label.startswith("Vì sao?") and requirement_name in e.label]
    assert len(hits) == 1, [e.label for e in at.expander]
    return hits[0]


def test_why_on_the_institution_page_is_the_cli_explanation(tmp_path, monkeypatch):
    store = _store(tmp_path)
    at = app(store, monkeypatch, "pages/institution.py", school="S1")
    why = _why(at, G12_INFO_NAME)
    text = "\n".join(t.value for t in why.text)
    assert text == _cli(store, "S1", "G12_INFO")
    # the numbers, by hand
    assert "Cần 2 học sinh, đạt 1" in text and "MISSING_FIELD" in text and "Kết luận: Quá hạn 1 ngày." in text
    assert "Khối 11 · Đang học: 1 — không tính" in text
    # one "Vì sao?" per checklist row, and the checklist's one-line reason
    chk = at.dataframe[0].value
    assert len([e for e in at.expander if e.label.startswith("Vì sao?")]) == len(chk) == 11
    row = chk[chk["requirement_name"] == G12_INFO_NAME].iloc[0]
    assert row["reason"] == "Thiếu 1/2 (lỗi MISSING_FIELD: 1 học sinh); quá hạn 1 ngày."


def test_why_on_demo_data_equals_the_cli(demo_store, monkeypatch):
    at = app(demo_store, monkeypatch, "pages/institution.py", school="79785017")
    why = _why(at, G12_INFO_NAME)
    text = "\n".join(t.value for t in why.text)
    assert text == _cli(demo_store, "79785017", "G12_INFO")
    assert text.startswith("79785017 – ") and "Kết luận:" in text


def test_school_viewer_never_sees_another_school_in_the_explanation(tmp_path, monkeypatch):
    """A and Z hold the same ID number at S1 and S2, both enrolled, both agreeing with it: both get
    ID_DUPLICATE (error). S1's explanation counts it, without naming S2."""
    a = student("A", "S1")
    z = student("Z", "S2", cccd=a["id_number"])
    store = write_store(tmp_path, [("2022-04-27T17:00:00+07:00", {
        "schools": [school("S1"), school("S2", school_name="Trường Bí Mật")], "students": [a, z]})])
    set_viewer(Viewer("t1", "truong", school_code="S1"))
    at = app(store, monkeypatch, "pages/institution.py")
    why = _why(at, G12_INFO_NAME)
    text = "\n".join(t.value for t in why.text)
    assert "ID_DUPLICATE" in text and "Cần 1 học sinh, đạt 0" in text
    everything = text + " ".join(e.label for e in at.expander) + at.dataframe[0].value.to_string()
    assert "S2" not in everything and "Bí Mật" not in everything


def test_school_workbook_has_a_reason_per_row(tmp_path):
    """Hand-computed at 27/04 17:00: G12_INFO 1 of 2 missing, overdue 1 day; RPT_EMIS not sent
    (no report row), due 28/04 23:59 → 1 day left."""
    store = _store(tmp_path)
    ev = evaluate(store)
    try:
        wb, _ = status_workbook.build_workbook(ev, SYSTEM, store, school="S1")
        data, _ = status_workbook.workbook_bytes(ev, SYSTEM, store, school="S1")
    finally:
        ev.close()
    ws = wb["Danh mục yêu cầu"]
    head = [c.value for c in ws[4]]
    col_req, col_why = head.index("Yêu cầu") + 1, head.index("Lý do") + 1
    why = {ws.cell(row=r, column=col_req).value: ws.cell(row=r, column=col_why).value
           for r in range(5, ws.max_row + 1)}
    assert len(why) == 11
    assert why[G12_INFO_NAME] == "Thiếu 1/2 (lỗi MISSING_FIELD: 1 học sinh); quá hạn 1 ngày."
    assert why["Báo cáo EMIS kỳ đầu năm học 2021-2022"] == "Thiếu 1/1 (chưa gửi báo cáo); còn 1 ngày."
    # the saved file carries it too
    ws2 = load_workbook(io.BytesIO(data))["Danh mục yêu cầu"]
    assert ws2.cell(row=5, column=col_why).value == why[ws2.cell(row=5, column=col_req).value]
