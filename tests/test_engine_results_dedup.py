"""Duplicated result rows (several school years, or several rows in one year) next to clean
subjects of the same student and grade.

Why: checks_30_results.sql reads the score rows before deduplication and recomputes only the
(student, grade) where some subject has several rows in one term. A clean subject of such a
(student, grade) must be counted once: its YEAR_SCORE_MISMATCH once, not once per path."""
from __future__ import annotations

import pytest

from data_access import engine
from tests.snapshot_factory import write_snapshot
from tests.test_rules import CAMPAIGN, results, student

SCHOOLS = [{"school_code": "S1", "school_name": "THPT Một", "district_code": "760", "levels": "THPT"}]


def _with_extra(sid: str, extra: list[dict], scores: dict) -> tuple[list[dict], list[dict]]:
    sc, sm = results(sid, scores=scores)
    for e in extra:
        sc.append({"student_id": sid, "grade": "11", "subject": "Toán", **e})
    return sc, sm


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    st, sc, sm = [], [], []
    # Địa lí CN of grade 11 is wrong (7.0, 8.0 -> 7.7, not 6.9) in every case below.
    wrong_dia = {(11, "CN", "Địa lí"): "6.9"}
    cases = {
        # latest year's HK1 Toán 4.0 -> CN should be 6.7: a mismatch; the older 7.0 would not be
        "D_LATEST_BAD": [{"school_year": "2019-2020", "term": "HK1", "score": "7.0"}],
        # the older year's row is the inconsistent one: not used
        "D_OLDER_BAD": [{"school_year": "2019-2020", "term": "HK1", "score": "4.0"}],
        # same school year twice: the highest spreadsheet row (added last) is used
        "D_SAME_YEAR": [{"school_year": "2020-2021", "term": "HK1", "score": "4.0"}],
    }
    for sid, extra in cases.items():
        scores = dict(wrong_dia)
        if sid == "D_LATEST_BAD":
            scores[(11, "HK1", "Toán")] = "4.0"
        res = _with_extra(sid, extra, scores)
        st.append(student(sid))
        sc.extend(res[0])
        sm.extend(res[1])
    path = write_snapshot(tmp_path_factory.mktemp("dedup") / "s.duckdb",
                          {"schools": SCHOOLS, "students": st, "subject_scores": sc, "term_summaries": sm})
    con = engine.open_snapshot(path, CAMPAIGN, upto="findings")
    try:
        yield con.execute("SELECT * FROM findings WHERE rule_id = 'YEAR_SCORE_MISMATCH'").df()
    finally:
        con.close()


def keys(f, sid):
    return sorted(f[f["student_id"] == sid]["record_key"])


def test_each_mismatch_once(findings):
    assert not findings.duplicated(["rule_id", "record_key"]).any()


def test_latest_year_row_is_checked(findings):
    assert keys(findings, "D_LATEST_BAD") == ["D_LATEST_BAD|2020-2021|11|CN|Toán",
                                              "D_LATEST_BAD|2020-2021|11|CN|Địa lí"]


def test_older_year_row_is_ignored(findings):
    assert keys(findings, "D_OLDER_BAD") == ["D_OLDER_BAD|2020-2021|11|CN|Địa lí"]


def test_highest_row_of_the_same_year_is_used(findings):
    assert keys(findings, "D_SAME_YEAR") == ["D_SAME_YEAR|2020-2021|11|CN|Toán",
                                             "D_SAME_YEAR|2020-2021|11|CN|Địa lí"]
