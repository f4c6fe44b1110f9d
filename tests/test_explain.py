"""Issue 12 "Every verdict explains itself": explain() and `python -m data_access explain`.
Hand-computed: S1 has A (valid), B (no ethnicity: MISSING_FIELD), C (grade 11) and D (grade 12,
transferred out). G12_INFO at 27/04 17:00: expected 2 (A, B), done 1, overdue 1 day (due
26/04 23:59:59); blocking: MISSING_FIELD on 1 record."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    assert {(r["grade"], r["status"], r["n"], r["counted"]) for r in e["population"]} == {
        ("12", "Đang học", 2, True), ("11", "Đang học", 1, False), ("12", "Đã chuyển trường", 1, False)}
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
