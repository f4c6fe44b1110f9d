"""Issue 12 "Every verdict explains itself": explain() and `python -m data_access explain`.
Hand-computed: S1 has A (valid), B (no ethnicity: MISSING_FIELD), C (grade 11) and D (grade 12,
transferred out). G12_INFO at 27/04 17:00: expected 2 (A, B), done 1, overdue 1 day (due
26/04 23:59:59); blocking: MISSING_FIELD on 1 record."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from data_access import explain
from data_access.access import Viewer
from data_access.evaluate import evaluate
from tests.snapshot_factory import school, student, write_store

ROOT = Path(__file__).resolve().parent.parent
ADMIN = Viewer("admin", "quan_tri")


def _store(tmp_path):
    studs = [student("A"), student("B", ethnicity=None), student("C", grade="11"),
             student("D", status="Đã chuyển trường")]
    snap = {"schools": [school("S1")], "students": studs}
    return write_store(tmp_path, [("2022-04-26T17:00:00+07:00", snap), ("2022-04-27T17:00:00+07:00", snap)])


def test_explain_facts(tmp_path):
    store = _store(tmp_path)
    ev = evaluate(store)
    try:
        e = explain.explain_at(ev, ADMIN, "S1", "G12_INFO")
    finally:
        ev.close()
    assert (e["expected"], e["done"], e["status"], e["days_late"]) == (2, 1, "overdue", 1)
    assert e["letter_words"] == "Yêu cầu thực hiện trong ngày 26/4/2022"
    assert [(b["rule_id"], b["n_records"]) for b in e["blocking"]] == [("MISSING_FIELD", 1)]
    assert {(r["grade"], r["status"], r["n"], r["category"]) for r in e["population"]} == {
        ("12", "Đang học", 2, "counted"), ("11", "Đang học", 1, "grade_other"),
        ("12", "Đã chuyển trường", 1, "status_other")}
    text = explain.render(e)
    assert "Cần 2 học sinh" in text and "đạt 1" in text and "Quá hạn 1 ngày" in text
    assert "MISSING_FIELD" in text and "23:59 26/04/2022" in text


def test_explain_cli(tmp_path):
    store = _store(tmp_path)
    out = subprocess.run([sys.executable, "-m", "data_access", "explain", "--school", "S1", "--requirement",
                          "G12_INFO", "--store", str(store)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Cần 2 học sinh" in out.stdout and "Quá hạn 1 ngày" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "data_access", "explain", "--school", "S9", "--requirement",
                          "G12_INFO", "--store", str(store)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "S9" in bad.stderr


# ---- one function for every checklist row (page "Vì sao?", school workbook "Lý do") ----------
def test_explain_school_is_explain_at_for_every_row(tmp_path):
    """explain_school_at gives, in the checklist's order, the same facts as explain_at row by row
    (the page and the workbook read it; the CLI reads explain_at)."""
    store = _store(tmp_path)
    ev = evaluate(store)
    try:
        rows = explain.explain_school_at(ev, ADMIN, "S1")
        ids = [e["requirement_id"] for e in rows]
        # A THPT school: the 3 record requirements and the 4 reports + 4 papers open to THPT.
        assert ids[:3] == ["G12_INFO", "G12_RESULTS_EARLY", "G12_RESULTS_FINAL"] and len(ids) == 11
        for e in rows:
            assert e == explain.explain_at(ev, ADMIN, "S1", e["requirement_id"])
        assert explain.explain_school_at(ev, Viewer("t2", "truong", school_code="S2"), "S1") == []
    finally:
        ev.close()


def test_one_line_reasons_hand_computed(tmp_path):
    """27/04 17:00. G12_INFO: 1 of 2 missing (B: MISSING_FIELD), due 26/04 → overdue 1 day.
    RPT_EMIS: no report row, due 28/04 23:59 → not yet due, 1 day left (no finding: nothing sent)."""
    store = _store(tmp_path)
    ev = evaluate(store)
    try:
        by = {e["requirement_id"]: e for e in explain.explain_school_at(ev, ADMIN, "S1")}
    finally:
        ev.close()
    assert explain.one_line(by["G12_INFO"]) == "Thiếu 1/2 (lỗi MISSING_FIELD: 1 học sinh); quá hạn 1 ngày."
    assert explain.one_line(by["RPT_EMIS"]) == "Thiếu 1/1 (chưa gửi báo cáo); còn 1 ngày."


def test_one_line_done_with_window(tmp_path):
    """B gets its ethnicity at 26/04 20:00 (after the 17:00 snapshot, before the due 23:59): G12_INFO
    done 2/2, reached in the window 17:00 26/04 – 20:00 26/04, on time, not uncertain."""
    studs = [student("A"), student("B", ethnicity=None)]
    fixed = [student("A"), student("B")]
    store = write_store(tmp_path, [("2022-04-26T17:00:00+07:00", {"schools": [school("S1")], "students": studs}),
                                   ("2022-04-26T20:00:00+07:00", {"schools": [school("S1")], "students": fixed})])
    ev = evaluate(store)
    try:
        e = explain.explain_at(ev, ADMIN, "S1", "G12_INFO")
    finally:
        ev.close()
    assert explain.one_line(e) == "Đạt 2/2 học sinh; hoàn thành trong khoảng 17:00 26/04 – 20:00 26/04."


def test_unknown_requirement_and_empty_population_are_said_plainly(tmp_path):
    """An unknown requirement id is not "không áp dụng"; expected 0 is explained, not "đạt khi
    số đạt bằng số cần" followed by "Chưa thực hiện" (outside review of issue 12)."""
    from data_access import explain, queries
    from data_access.access import SYSTEM
    from tests.snapshot_factory import school, write_store
    store = write_store(tmp_path, [("2022-04-25T17:00:00+07:00", {"schools": [school("S1")], "students": []})])
    ev = queries.evaluation(None, store)
    with pytest.raises(LookupError, match="Không có yêu cầu NOPE trong công văn"):
        explain.explain_at(ev, SYSTEM, "S1", "NOPE")
    text = explain.render(explain.explain_at(ev, SYSTEM, "S1", "G12_INFO"))
    assert "Cần 0 học sinh: tệp hoc_sinh không có học sinh lớp 12" in text
    assert "đạt khi số đạt bằng số cần" not in text


def _explain(store, code, req, as_of=None):
    ev = evaluate(store, as_of)
    try:
        return explain.explain_at(ev, ADMIN, code, req)
    finally:
        ev.close()


def test_held_back_report_shows_its_window_not_a_bare_time(tmp_path):
    """Outside review of issue 12, finding 12: RPT_CSVC sent 22/04 10:00, held back by a room under
    two levels at 27/04 and 29/04 17:00, fixed by 05/05 17:00: done_late 1 day in the window
    (29/04 17:00, 05/05 17:00]. The explanation said «Thời điểm hoàn thành: 17:00 05/05/2022» with
    «trễ 1 ngày», which reads as 7 days after the due date 28/04; the workbook reason said
    «hoàn thành lúc …». Both now give the window."""
    from tests.test_progress import thpt_snapshot
    rep = [{"school_code": "S1", "report_code": "CSVC", "status": "Đã gửi", "submitted_at": "22/04/2022 10:00"}]
    two = [{"school_code": "S1", "room_code": "P101", "room_type": "Phòng học", "level": "THPT"},
           {"school_code": "S1", "room_code": "P101", "room_type": "Phòng học", "level": "THCS"}]
    bad = dict(thpt_snapshot(reports=rep), rooms=two)
    good = dict(thpt_snapshot(reports=rep), rooms=two[:1])
    store = write_store(tmp_path, [("2022-04-27T17:00:00+07:00", bad), ("2022-04-29T17:00:00+07:00", bad),
                                   ("2022-05-05T17:00:00+07:00", good)])
    e = _explain(store, "S1", "RPT_CSVC")
    assert (e["status"], e["days_late"]) == ("done_late", 1)
    text = explain.render(e)
    assert "Thời điểm: hoàn thành trong khoảng 17:00 29/04 – 17:00 05/05" in text, text
    assert "Thời điểm hoàn thành: 17:00 05/05/2022" not in text
    line = explain.one_line(e)
    assert "hoàn thành lúc" not in line and "17:00 29/04" in line and "trễ 1 ngày" in line, line


def test_on_time_then_changed_after_due_is_said(tmp_path):
    """G12_INFO done 2/2 at 25/04 and 26/04 17:00 (before the cut-off 26/04 23:59:59); a student
    transfers in on 05/05 without an ethnicity: the verdict stays done on time (fix12d) and the
    explanation and the one-line reason say that the data changed after the due time, 1 of 3
    missing now."""
    from tests.test_progress import thpt_snapshot
    ok = thpt_snapshot([student("HS1"), student("HS2", gender="Nữ")])
    plus = thpt_snapshot([student("HS1"), student("HS2", gender="Nữ"), student("HS3", ethnicity=None)])
    store = write_store(tmp_path, [("2022-04-25T17:00:00+07:00", ok), ("2022-04-26T17:00:00+07:00", ok),
                                   ("2022-05-05T17:00:00+07:00", plus)])
    e = _explain(store, "S1", "G12_INFO")
    assert (e["status"], e["expected"], e["done"], e["changed_after_due"]) == ("done_on_time", 3, 2, True)
    assert "Sau hạn dữ liệu thay đổi: hiện đạt 2/3" in explain.render(e)
    assert explain.one_line(e).startswith("Đạt đúng hạn;") and "hiện thiếu 1/3 học sinh" in explain.one_line(e)
