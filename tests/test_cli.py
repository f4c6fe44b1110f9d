"""The CLI is a contract (outside checks call it): exact columns, value formats, --as-of
semantics, and errors as one line with a non-zero exit."""
from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATUSES = {"done_on_time", "done_late", "in_progress", "not_started", "overdue"}


def cli(*args, check=True) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "data_access", *map(str, args)], cwd=ROOT,
                       capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def rows(text: str) -> tuple[list[str], list[dict]]:
    r = csv.DictReader(io.StringIO(text))
    data = list(r)
    return r.fieldnames, data


def test_progress_csv_contract(demo_store):
    header, data = rows(cli("progress", "--store", demo_store, "--format", "csv").stdout)
    assert header == ["school_code", "requirement_id", "expected", "done", "percent", "status",
                      "completed_at", "days_late", "at_risk", "timing_uncertain", "completed_after", "changed_after_due"]
    assert len(data) > 2000
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")
    for r in data:
        assert r["status"] in STATUSES
        assert r["at_risk"] in ("true", "false")
        assert re.fullmatch(r"\d+\.\d", r["percent"]) and 0 <= float(r["percent"]) <= 100
        assert int(r["done"]) <= int(r["expected"]) or r["expected"] == "0"
        assert (r["completed_at"] == "") == (r["status"] not in ("done_on_time", "done_late"))
        if r["completed_at"]:
            assert iso.match(r["completed_at"]), r["completed_at"]
        assert int(r["days_late"]) >= 0
        assert r["timing_uncertain"] in ("true", "false")
        assert r["timing_uncertain"] == "false" or r["status"] == "done_on_time"
        if r["completed_after"]:
            assert iso.match(r["completed_after"]) and r["completed_after"] < r["completed_at"]
        assert (int(r["days_late"]) > 0) <= (r["status"] in ("done_late", "overdue"))


def test_as_of_picks_newest_snapshot_at_or_before(demo_store):
    # 26/4 23:00 lies between the 26/4 17:00 and 27/4 17:00 snapshots: evaluated at 26/4 17:00,
    # before the G12_INFO cut-off, so nothing can be overdue on it yet.
    _, data = rows(cli("progress", "--store", demo_store, "--as-of", "2022-04-26T23:00:00+07:00",
                       "--format", "csv").stdout)
    info = [r for r in data if r["requirement_id"] == "G12_INFO"]
    assert info and not any(r["status"] == "overdue" for r in info)
    _, later = rows(cli("progress", "--store", demo_store, "--as-of", "2022-04-27T17:00:00+07:00",
                        "--format", "csv").stdout)
    assert any(r["status"] == "overdue" for r in later if r["requirement_id"] == "G12_INFO")


def test_findings_and_rollup_csv_contract(demo_store):
    header, data = rows(cli("findings", "--store", demo_store, "--format", "csv").stdout)
    assert header == ["school_code", "rule_id", "severity", "entity", "record_key", "field", "message"]
    assert data and {r["severity"] for r in data} <= {"error", "warning"}
    for by in ("city", "district", "level"):
        header, data = rows(cli("rollup", "--store", demo_store, "--by", by, "--format", "csv").stdout)
        assert header == ["group", "requirement_id", "units_expected", "units_done", "units_done_on_time",
                          "completion_rate", "on_time_rate", "records_expected", "records_done"]
        for r in data:
            assert float(r["completion_rate"]) <= 100 and float(r["on_time_rate"]) <= float(r["completion_rate"])
            assert (r["records_expected"] == "") == r["requirement_id"].startswith(("RPT_", "PAPER_"))
        if by == "city":
            assert {r["group"] for r in data} == {"city"}
        if by == "district":
            assert len({r["group"] for r in data}) == 22


@pytest.mark.parametrize("args, words", [
    (["progress", "--store", "{empty}", "--format", "csv"], "Chưa có snapshot"),
    (["progress", "--store", "{demo}", "--as-of", "2021-01-01", "--format", "csv"], "Không có snapshot"),
    (["rollup", "--store", "{demo}", "--as-of", "ngày mai", "--format", "csv"], "Thời điểm không hợp lệ"),
])
def test_errors_are_one_clear_line(demo_store, tmp_path, args, words):
    args = [a.format(empty=tmp_path / "empty", demo=demo_store) for a in args]
    p = cli(*args, check=False)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "[" in lines[0]  # Vietnamese, English in brackets
    assert p.stdout == ""


def test_ingest_same_extract_twice_creates_one_snapshot(tmp_path):
    extract = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
    first = cli("ingest", extract, "--store", tmp_path / "s", "--no-precompute")
    second = cli("ingest", extract, "--store", tmp_path / "s", "--no-precompute")
    assert len(list((tmp_path / "s" / "snapshots").glob("*.duckdb"))) == 1
    assert "không tạo bản mới" in second.stdout
    assert first.stdout != second.stdout


@pytest.fixture(scope="module")
def completeness_store(tmp_path_factory):
    from tests.snapshot_factory import write_store
    from tests.test_completeness import APRIL, JUNE, _tables
    return write_store(tmp_path_factory.mktemp("cmpcli") / "store", [(APRIL, _tables()), (JUNE, _tables())])


DOMAIN_COLUMNS = ["institution", "classes", "staff", "students", "results", "conduct", "programme",
                  "facilities", "index"]


def test_completeness_csv_by_institution_district_city(completeness_store):
    """One row per unit, one column per domain; numbers of tests/test_completeness.py (April)."""
    header, data = rows(cli("completeness", "--store", completeness_store, "--as-of", "2022-04-30",
                            "--by", "institution", "--format", "csv").stdout)
    assert header == ["unit", "name", "institutions", "district_code", "domains_measured"] + DOMAIN_COLUMNS
    s1, s2 = data
    assert [s1[c] for c in DOMAIN_COLUMNS] == ["80.0", "57.1", "66.7", "60.0", "90.5", "85.7", "", "50.0", "70.0"]
    assert [s2[c] for c in DOMAIN_COLUMNS] == ["40.0", "0.0", "0.0", "0.0", "", "", "", "0.0", "8.0"]
    header, data = rows(cli("completeness", "--store", completeness_store, "--by", "district",
                            "--format", "csv").stdout)
    assert header == ["unit", "name", "institutions"] + DOMAIN_COLUMNS
    assert [(r["unit"], r["name"], r["index"]) for r in data] == [("760", "Quận 1", "65.5"), ("761", "Quận 12", "8.0")]
    _, data = rows(cli("completeness", "--store", completeness_store, "--by", "city", "--format", "csv").stdout)
    assert [(r["unit"], r["institutions"], r["results"], r["index"]) for r in data] == [("city", "2", "74.1", "36.8")]


def test_completeness_table_says_why_a_domain_has_no_number(completeness_store):
    out = cli("completeness", "--store", completeness_store, "--by", "institution").stdout
    line = next(x for x in out.splitlines() if x.startswith("S2"))
    assert "Không áp dụng" in line and "Chưa có nguồn dữ liệu" in line and " 0.0 " in line
    assert out.strip().endswith("(2 dòng)")


def test_completeness_errors_are_one_line(completeness_store, tmp_path):
    p = cli("completeness", "--store", completeness_store, "--as-of", "2021-01-01", check=False)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and p.stderr.startswith("Lỗi:")
    p = cli("completeness", "--store", completeness_store, "--by", "ward", check=False)
    assert p.returncode == 2


def test_csv_output_escapes_formula_leading_cells(tmp_path):
    """A school name (or code, message…) from the city database that starts with = + - @ is a
    formula for Excel; the CLI's CSV escapes it like the exports (exports/safety.csv_safe: a
    leading apostrophe). Numbers stay numbers. Hand-made: S1 named '=HYPERLINK(...)'."""
    from tests import snapshot_factory as sf
    from tests.test_completeness import APRIL, _tables
    t = _tables()
    t["schools"] = [dict(s, school_name='=HYPERLINK("http://x","y")') if s["school_code"] == "S1" else s
                    for s in t["schools"]]
    store = sf.write_store(tmp_path / "store", [(APRIL, t)])
    _, data = rows(cli("completeness", "--store", store, "--by", "institution", "--format", "csv").stdout)
    assert {r["unit"]: r["name"] for r in data}["S1"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert {r["unit"]: r["index"] for r in data}["S1"] == "70.0"
    # the table format (a terminal) shows the name as it is
    out = cli("completeness", "--store", store, "--by", "institution").stdout
    assert '=HYPERLINK("http://x","y")' in out and "'=HYPERLINK" not in out


def test_write_table_csv_uses_csv_safe():
    import pandas as pd

    from data_access.__main__ import write_table
    buf = io.StringIO()
    write_table(pd.DataFrame({"a": ["=1+2", "+x", "-y", "@z", "ok"], "n": [-1, 2, 3, 4, 5]}), ["a", "n"], "csv", buf)
    assert buf.getvalue().splitlines() == ["a,n", "'=1+2,-1", "'+x,2", "'-y,3", "'@z,4", "ok,5"]
