"""Hand-computed progress: every status, deadline edges, the empty institution, a returned
report re-sent, history over three snapshots, at-risk, and roll-ups. Expectations are worked
out by hand from data_access/RULES.md; the engine is run through the public evaluate()."""
from __future__ import annotations

import pandas as pd
import pytest

from data_access.evaluate import evaluate
from tests.snapshot_factory import results_rows, school, student, write_store

BASE = "2022-04-2{d}T17:00:00+07:00"


def progress(store, as_of=None) -> pd.DataFrame:
    ev = evaluate(store, as_of)
    try:
        return ev.df("SELECT * FROM progress").set_index(["school_code", "requirement_id"])
    finally:
        ev.close()


def rollup(store, by, as_of=None) -> pd.DataFrame:
    ev = evaluate(store, as_of)
    try:
        return ev.df("SELECT * FROM rollup WHERE rollup_by = ?", [by]).set_index(["group", "requirement_id"])
    finally:
        ev.close()


def one(store, code, req, as_of=None):
    return progress(store, as_of).loc[(code, req)]


def thpt_snapshot(students=None, reports=None, paper=None, scores=True, schools=None):
    students = students if students is not None else [student("HS1"), student("HS2", gender="Nữ")]
    sc, su = [], []
    if scores:
        for s in students:
            a, b = results_rows(s["student_id"])
            sc += a
            su += b
    return {"schools": schools or [school("S1", "THPT")], "students": students,
            "subject_scores": sc, "term_summaries": su,
            "reports": reports or [], "paper_copies": paper or []}


def test_all_done_on_time(tmp_path):
    store = write_store(tmp_path, [(BASE.format(d=5), thpt_snapshot())])
    p = progress(store)
    info = p.loc[("S1", "G12_INFO")]
    assert (info.expected, info.done, info.percent, info.status) == (2, 2, 100.0, "done_on_time")
    assert info.completed_at == pd.Timestamp("2022-04-25T17:00:00+07:00")
    assert info.days_late == 0 and not info.at_risk
    early = p.loc[("S1", "G12_RESULTS_EARLY")]
    assert (early.done, early.status) == (2, "done_on_time")  # no due: done is on time
    final = p.loc[("S1", "G12_RESULTS_FINAL")]
    assert (final.done, final.status) == (0, "not_started")  # HK2/CN of grade 12 not entered yet
    # THPT: EMIS, NGOAI_NGU, CSVC, SUC_KHOE and their paper copies; not EQMS (primary only)
    reqs = set(p.loc["S1"].index)
    assert "RPT_EQMS" not in reqs and "PAPER_EQMS" not in reqs
    assert {"RPT_EMIS", "RPT_NGOAI_NGU", "RPT_CSVC", "RPT_SUC_KHOE", "PAPER_CSVC"} <= reqs
    assert p.loc[("S1", "RPT_EMIS")].status == "not_started"


def test_one_invalid_student_in_progress_then_overdue(tmp_path):
    bad = student("HS2", cccd="79204123456")  # 11 digits: leading zero lost
    snap = thpt_snapshot([student("HS1"), bad])
    store = write_store(tmp_path, [(BASE.format(d=5), snap), ("2022-04-27T17:00:00+07:00", snap)])
    before = one(store, "S1", "G12_INFO", "2022-04-25T17:00:00+07:00")
    assert (before.expected, before.done, before.percent, before.status) == (2, 1, 50.0, "in_progress")
    after = one(store, "S1", "G12_INFO")
    assert (after.status, after.days_late) == ("overdue", 1)  # due 26/4, as-of 27/4
    assert pd.isna(after.completed_at) and not after.at_risk


@pytest.mark.parametrize("as_of, uncertain", [
    ("2022-04-26T23:59:59+07:00", False),   # first seen done at the cut-off: certainly on time
    # first seen done one second after the cut-off, last seen not done at 08:00 that day: it may
    # have been reached before the cut-off, so it is on time with the window (issue 12 point 3)
    ("2022-04-27T00:00:00+07:00", True),
])
def test_g12_info_cutoff_edges(tmp_path, as_of, uncertain):
    never = thpt_snapshot([student("HS1", ethnicity=None)])
    store = write_store(tmp_path, [("2022-04-26T08:00:00+07:00", never), (as_of, thpt_snapshot([student("HS1")]))])
    row = one(store, "S1", "G12_INFO")
    assert row.status == "done_on_time"
    assert row.completed_at == pd.Timestamp(as_of)
    assert row.completed_after == pd.Timestamp("2022-04-26T08:00:00+07:00")
    assert bool(row.timing_uncertain) is uncertain
    assert row.days_late == 0


def test_done_late_only_when_certainly_after_the_cut_off(tmp_path):
    """Not done at 26/04 08:00 and at 27/04 17:00 (after the 26/04 23:59:59 cut-off), done at
    28/04 17:00: certainly late; days_late from the due date to the window's start (27/04) = 1."""
    never = thpt_snapshot([student("HS1", ethnicity=None)])
    store = write_store(tmp_path, [("2022-04-26T08:00:00+07:00", never), ("2022-04-27T17:00:00+07:00", never),
                                   ("2022-04-28T17:00:00+07:00", thpt_snapshot([student("HS1")]))])
    row = one(store, "S1", "G12_INFO")
    assert (row.status, row.days_late, bool(row.timing_uncertain)) == ("done_late", 1, False)
    assert row.completed_after == pd.Timestamp("2022-04-27T17:00:00+07:00")
    assert row.completed_at == pd.Timestamp("2022-04-28T17:00:00+07:00")


def test_window_starting_at_the_cut_off_is_one_day_late_not_zero(tmp_path):
    """Not done at the cut-off snapshot 26/04 23:59:59 (= the due time), done at 27/04 17:00:
    certainly late, reached in (26/04 23:59:59, 27/04 17:00], at the earliest 27/04 00:00:00,
    so 1 day late. Before the fix: done_late with days_late 0 (the window's start is on the
    due date; outside review of issue 12 saw it on the demo series)."""
    never = thpt_snapshot([student("HS1", ethnicity=None)])
    store = write_store(tmp_path, [("2022-04-26T23:59:59+07:00", never),
                                   ("2022-04-27T17:00:00+07:00", thpt_snapshot([student("HS1")]))])
    row = one(store, "S1", "G12_INFO")
    assert (row.status, row.days_late, bool(row.timing_uncertain)) == ("done_late", 1, False)
    assert row.completed_after == pd.Timestamp("2022-04-26T23:59:59+07:00")


def test_done_in_the_first_snapshot_after_the_cut_off_is_not_provably_late(tmp_path):
    store = write_store(tmp_path, [("2022-04-27T17:00:00+07:00", thpt_snapshot([student("HS1")]))])
    row = one(store, "S1", "G12_INFO")
    assert (row.status, row.days_late, bool(row.timing_uncertain)) == ("done_on_time", 0, True)
    assert pd.isna(row.completed_after)
    rep = [{"school_code": "S1", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": "29/04/2022 10:00"}]
    store = write_store(tmp_path / "r", [("2022-04-30T17:00:00+07:00", thpt_snapshot(reports=rep))])
    row = one(store, "S1", "RPT_EMIS")   # a report's log gives the time itself: no window
    assert (row.status, row.days_late, bool(row.timing_uncertain)) == ("done_late", 1, False)
    assert pd.isna(row.completed_after)


@pytest.mark.parametrize("sent, status, days", [
    ("28/04/2022 23:59:59", "done_on_time", 0),
    ("29/04/2022 00:00:00", "done_late", 1),
    ("02/05/2022 10:00", "done_late", 4),
])
def test_report_cutoff_edges(tmp_path, sent, status, days):
    rep = [{"school_code": "S1", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": sent}]
    store = write_store(tmp_path, [("2022-05-03T17:00:00+07:00", thpt_snapshot(reports=rep))])
    row = one(store, "S1", "RPT_EMIS")
    assert (row.status, row.days_late, row.done, row.percent) == (status, days, 1, 100.0)


def test_report_overdue_draft_and_not_started(tmp_path):
    rep = [{"school_code": "S1", "report_code": "EMIS", "status": "Chưa gửi"}]
    snap = thpt_snapshot(reports=rep)
    store = write_store(tmp_path, [("2022-04-28T23:59:59+07:00", snap), ("2022-04-29T00:00:00+07:00", snap)])
    p_before = progress(store, "2022-04-28T23:59:59+07:00")
    assert p_before.loc[("S1", "RPT_EMIS")].status == "in_progress"   # a draft exists
    assert p_before.loc[("S1", "RPT_CSVC")].status == "not_started"   # no row at all
    assert bool(p_before.loc[("S1", "RPT_CSVC")].at_risk)             # not sent, no pace
    p_after = progress(store)
    assert p_after.loc[("S1", "RPT_EMIS")].status == "overdue"
    assert p_after.loc[("S1", "RPT_EMIS")].days_late == 1


def test_report_returned_then_resent(tmp_path):
    returned = [{"school_code": "S1", "report_code": "CSVC", "status": "Bị trả lại",
                 "submitted_at": "27/04/2022 09:00", "note": "Phòng học kê khai hai cấp"}]
    resent = [{"school_code": "S1", "report_code": "CSVC", "status": "Đã gửi",
               "submitted_at": "28/04/2022 15:30"}]
    store = write_store(tmp_path, [("2022-04-27T17:00:00+07:00", thpt_snapshot(reports=returned)),
                                   ("2022-04-29T08:00:00+07:00", thpt_snapshot(reports=resent))])
    first = one(store, "S1", "RPT_CSVC", "2022-04-27T17:00:00+07:00")
    assert (first.done, first.status) == (0, "in_progress")  # returned is not done
    last = one(store, "S1", "RPT_CSVC")
    assert (last.done, last.status) == (1, "done_on_time")
    assert last.completed_at == pd.Timestamp("2022-04-28T15:30:00+07:00")


def test_paper_copy_counts_only_signed_and_stamped(tmp_path):
    paper = [{"school_code": "S1", "report_code": "EMIS", "received_on": "27/04/2022", "signed": "Có", "stamped": "Không"},
             {"school_code": "S1", "report_code": "CSVC", "received_on": "28/04/2022", "signed": "Có", "stamped": "Có"},
             {"school_code": "S1", "report_code": "NGOAI_NGU", "received_on": "03/05/2022", "signed": "Có", "stamped": "Có"}]
    store = write_store(tmp_path, [("2022-05-05T17:00:00+07:00", thpt_snapshot(paper=paper))])
    p = progress(store)
    assert (p.loc[("S1", "PAPER_EMIS")].status, p.loc[("S1", "PAPER_EMIS")].days_late) == ("overdue", 7)
    csvc = p.loc[("S1", "PAPER_CSVC")]
    assert csvc.status == "done_on_time" and csvc.completed_at == pd.Timestamp("2022-04-28T00:00:00+07:00")
    nn = p.loc[("S1", "PAPER_NGOAI_NGU")]
    assert (nn.status, nn.days_late) == ("done_late", 5)


def test_institution_without_grade12_students_is_zero_not_hidden(tmp_path):
    snap = thpt_snapshot(students=[], schools=[school("S1", "THPT"), school("S2", "THCS")])
    store = write_store(tmp_path, [("2022-04-26T17:00:00+07:00", snap), ("2022-04-27T17:00:00+07:00", snap)])
    before = one(store, "S1", "G12_INFO", "2022-04-26T17:00:00+07:00")
    assert (before.expected, before.done, before.percent, before.status) == (0, 0, 0.0, "not_started")
    after = one(store, "S1", "G12_INFO")
    assert after.status == "overdue"
    assert ("S2", "G12_INFO") not in progress(store).index  # THCS: not applicable at all


def test_history_unbroken_run_and_done_late(tmp_path):
    good = thpt_snapshot([student("HS1")])
    bad = thpt_snapshot([student("HS1", gender="X")])
    # done 25/4, broken 26/4 17:00 and 27/4 08:00 (after the 26/4 23:59:59 cut-off), done again
    # 27/4 17:00 and 28/4: completed in (27/4 08:00, 27/4 17:00] → certainly late, one day
    store = write_store(tmp_path, [("2022-04-25T17:00:00+07:00", good), ("2022-04-26T17:00:00+07:00", bad),
                                   ("2022-04-27T08:00:00+07:00", bad),
                                   ("2022-04-27T17:00:00+07:00", good), ("2022-04-28T17:00:00+07:00", good)])
    row = one(store, "S1", "G12_INFO")
    assert row.completed_at == pd.Timestamp("2022-04-27T17:00:00+07:00")
    assert row.completed_after == pd.Timestamp("2022-04-27T08:00:00+07:00")
    assert (row.status, row.days_late, bool(row.timing_uncertain)) == ("done_late", 1, False)
    # without the 27/4 08:00 snapshot the window (26/4 17:00, 27/4 17:00] holds the cut-off:
    # not provably late
    store2 = write_store(tmp_path / "b", [("2022-04-25T17:00:00+07:00", good), ("2022-04-26T17:00:00+07:00", bad),
                                          ("2022-04-27T17:00:00+07:00", good)])
    row = one(store2, "S1", "G12_INFO")
    assert (row.status, row.days_late, bool(row.timing_uncertain)) == ("done_on_time", 0, True)
    # evaluated at the first snapshot: done then, on time
    first = one(store, "S1", "G12_INFO", "2022-04-25T20:00:00+07:00")
    assert (first.status, first.completed_at) == ("done_on_time", pd.Timestamp("2022-04-25T17:00:00+07:00"))


def test_at_risk_follows_recent_pace(tmp_path):
    def snap(n_done):
        st = [student(f"HS{i}", ethnicity=("Kinh" if i < n_done else None)) for i in range(10)]
        return thpt_snapshot(st)
    # 23/4: 20 %, 25/4: 40 % → 10 points a day; 1.29 days left → ~53 % < 100: at risk
    slow = write_store(tmp_path / "slow", [("2022-04-23T17:00:00+07:00", snap(2)), ("2022-04-25T17:00:00+07:00", snap(4))])
    row = one(slow, "S1", "G12_INFO")
    assert (row.percent, row.status, bool(row.at_risk)) == (40.0, "in_progress", True)
    # 24/4: 10 %, 25/4: 90 % → 80 points a day: reaches 100 % in time, not at risk
    fast = write_store(tmp_path / "fast", [("2022-04-24T17:00:00+07:00", snap(1)), ("2022-04-25T17:00:00+07:00", snap(9))])
    assert not bool(one(fast, "S1", "G12_INFO").at_risk)


def test_rollups_count_institutions(tmp_path):
    rep_ok = {"report_code": "EMIS", "status": "Đã gửi", "submitted_at": "27/04/2022 10:00"}
    rep_late = {"report_code": "EMIS", "status": "Đã duyệt", "submitted_at": "30/04/2022 10:00"}
    schools = [school("A", "THPT", "760"), school("B", "THPT", "760"), school("C", "TH", "761")]
    students = [student("HS1", "A"), student("HS2", "A", ethnicity=None), student("HS3", "B")]
    reports = [{"school_code": "A", **rep_ok}, {"school_code": "B", **rep_late}]
    store = write_store(tmp_path, [("2022-05-02T17:00:00+07:00",
                                    thpt_snapshot(students=students, schools=schools, reports=reports))])
    city = rollup(store, "city").loc[("city", "RPT_EMIS")]
    # 3 institutions expected; A on time, B late, C none
    assert (city.units_expected, city.units_done, city.units_done_on_time) == (3, 2, 1)
    assert (city.completion_rate, city.on_time_rate) == (66.7, 33.3)
    assert pd.isna(city.records_expected)
    info = rollup(store, "city").loc[("city", "G12_INFO")]
    assert (info.units_expected, info.units_done, info.records_expected, info.records_done) == (2, 1, 3, 2)
    d = rollup(store, "district")
    assert d.loc[("760", "RPT_EMIS")].completion_rate == 100.0
    assert d.loc[("761", "RPT_EMIS")].completion_rate == 0.0
    lv = rollup(store, "level")
    assert lv.loc[("TH", "RPT_EQMS")].units_expected == 1
    assert (rollup(store, "district")["completion_rate"] <= 100).all()


def _two_thousand(bad: int) -> list[dict]:
    """2,000 valid grade-12 students (distinct CCCD 079204000000..), `bad` of them without a gender."""
    return [student(f"HS{i:04d}", cccd=f"079204{i:06d}", **({"gender": None} if i < bad else {}))
            for i in range(2000)]


@pytest.mark.parametrize("as_of, status, days_late", [
    ("2022-04-26T17:00:00+07:00", "in_progress", 0),
    ("2022-04-27T17:00:00+07:00", "overdue", 1),
])
def test_1999_of_2000_is_not_done_though_percent_rounds_to_100(tmp_path, as_of, status, days_late):
    """Issue 12 point 2: 1,999/2,000 = 99.95 % is shown as 100.0 (half up) but is NOT done:
    done means done = expected, the percent is for display only."""
    store = write_store(tmp_path, [(as_of, thpt_snapshot(_two_thousand(1), scores=False))])
    row = one(store, "S1", "G12_INFO")
    assert (row.expected, row.done, row.percent) == (2000, 1999, 100.0)
    assert (row.status, row.days_late) == (status, days_late)
    assert pd.isna(row.completed_at)
    city = rollup(store, "city").loc[("city", "G12_INFO")]
    assert (city.units_done, city.records_done, city.records_expected) == (0, 1999, 2000)


def test_2000_of_2000_is_done(tmp_path):
    store = write_store(tmp_path, [("2022-04-26T17:00:00+07:00", thpt_snapshot(_two_thousand(0), scores=False))])
    row = one(store, "S1", "G12_INFO")
    assert (row.expected, row.done, row.percent, row.status) == (2000, 2000, 100.0, "done_on_time")


@pytest.mark.parametrize("year, done", [("2021-2022", 1), ("2020-2021", 0)])
def test_grade12_final_results_count_only_from_the_campaign_year(tmp_path, year, done):
    """Issue 12 point 1: a grade-12 HK2/CN of 2020-2021 (a repeater's old year or a typo) does
    not satisfy G12_RESULTS_FINAL of the 2021-2022 campaign."""
    st = student("HS1")
    sc, su = results_rows("HS1", terms=((12, "HK2"), (12, "CN")))
    for r in sc + su:
        r["school_year"] = year
    snap = {"schools": [school("S1", "THPT")], "students": [st], "subject_scores": sc, "term_summaries": su}
    store = write_store(tmp_path, [("2022-05-10T17:00:00+07:00", snap)])
    row = one(store, "S1", "G12_RESULTS_FINAL")
    assert (row.expected, row.done) == (1, done)


def test_same_as_of_the_later_import_replaces_the_earlier(tmp_path):
    """Two snapshots with one as-of (a corrected re-export): only the later import counts.
    Before: every unit appeared once per snapshot, with contradictory verdicts (outside review
    of issue 12: 384 progress rows instead of 48)."""
    import os

    from data_access.store import Store
    bad = thpt_snapshot([student("HS1", ethnicity=None)])
    good = thpt_snapshot([student("HS1")])
    t = "2022-04-26T17:00:00+07:00"
    for name, first, second, want in (("a", bad, good, "done_on_time"), ("b", good, bad, "not_started")):
        store = write_store(tmp_path / name / "1", [(t, first)])
        store2 = write_store(tmp_path / name / "2", [(t, second)])
        (p1,) = Store(store).snapshots_dir.glob("*.duckdb")
        (p2,) = Store(store2).snapshots_dir.glob("*.duckdb")
        os.utime(p1, (1_000_000_000, 1_000_000_000))             # imported first
        os.rename(p2, Store(store).snapshots_dir / p2.name)       # imported later
        snaps = Store(store).list_snapshots()
        assert list(snaps["snapshot_id"]) == [p2.name[:-len(".duckdb")]]
        assert len(Store(store).list_snapshots(include_hidden=True)) == 2
        p = progress(store)
        assert not p.index.duplicated().any()
        assert p.loc[("S1", "G12_INFO"), "status"] == want


def test_csvc_fixed_after_the_due_time_is_late(tmp_path):
    """RPT_CSVC (due 28/04 23:59:59) sent 22/04 10:00, room P101 declared under THCS and THPT.
    Held back at 27/04 and 29/04 17:00 (overdue then), the room fixed by 05/05 17:00: done in
    (29/04 17:00, 05/05 17:00], certainly after the due time -> done_late, 1 day (29/04 + 1 s
    is 29/04; 29/04 - 28/04). Before: done_on_time at 22/04 10:00 (the submission time),
    although the 29/04 snapshot proves it was not done at the due time (outside review of
    issue 12). Fixed by 29/04 instead: the window (27/04, 29/04] holds the due time -> on time,
    timing_uncertain."""
    rep = [{"school_code": "S1", "report_code": "CSVC", "status": "Đã gửi", "submitted_at": "22/04/2022 10:00"}]
    two = [{"school_code": "S1", "room_code": "P101", "room_type": "Phòng học", "level": "THPT"},
           {"school_code": "S1", "room_code": "P101", "room_type": "Phòng học", "level": "THCS"}]
    one_ = two[:1]
    bad = dict(thpt_snapshot(reports=rep), rooms=two)
    good = dict(thpt_snapshot(reports=rep), rooms=one_)
    store = write_store(tmp_path / "a", [("2022-04-27T17:00:00+07:00", bad), ("2022-04-29T17:00:00+07:00", bad),
                                         ("2022-05-05T17:00:00+07:00", good)])
    assert one(store, "S1", "RPT_CSVC", "2022-04-29T17:00:00+07:00").status == "overdue"
    row = one(store, "S1", "RPT_CSVC")
    assert (row.status, row.days_late, bool(row.timing_uncertain)) == ("done_late", 1, False)
    assert row.completed_after == pd.Timestamp("2022-04-29T17:00:00+07:00")
    assert row.completed_at == pd.Timestamp("2022-05-05T17:00:00+07:00")
    store = write_store(tmp_path / "b", [("2022-04-27T17:00:00+07:00", bad), ("2022-04-29T17:00:00+07:00", good)])
    row = one(store, "S1", "RPT_CSVC")
    assert (row.status, row.days_late, bool(row.timing_uncertain)) == ("done_on_time", 0, True)
    # never held back: the submission time, no window
    store = write_store(tmp_path / "c", [("2022-04-27T17:00:00+07:00", good)])
    row = one(store, "S1", "RPT_CSVC")
    assert (row.status, row.completed_at) == ("done_on_time", pd.Timestamp("2022-04-22T10:00:00+07:00"))
    assert pd.isna(row.completed_after)


def test_csvc_fixed_after_the_due_time_reference_agrees(tmp_path):
    """The pandas reference gives the same verdicts on the series of the test above."""
    from data_access.campaign import load_campaign
    from data_access.store import Store
    from tests import reference_pandas as ref
    rep = [{"school_code": "S1", "report_code": "CSVC", "status": "Đã gửi", "submitted_at": "22/04/2022 10:00"}]
    two = [{"school_code": "S1", "room_code": "P101", "room_type": "Phòng học", "level": "THPT"},
           {"school_code": "S1", "room_code": "P101", "room_type": "Phòng học", "level": "THCS"}]
    bad = dict(thpt_snapshot(reports=rep), rooms=two)
    good = dict(thpt_snapshot(reports=rep), rooms=two[:1])
    for name, series in (("a", [("2022-04-27T17:00:00+07:00", bad), ("2022-04-29T17:00:00+07:00", bad),
                                ("2022-05-05T17:00:00+07:00", good)]),
                         ("b", [("2022-04-27T17:00:00+07:00", bad), ("2022-04-29T17:00:00+07:00", good)])):
        store = write_store(tmp_path / name, series)
        snaps = Store(store).list_snapshots()
        pand = ref.progress([(r.as_of, r.path) for r in snaps.itertuples()], snaps.iloc[-1].as_of,
                            load_campaign()).set_index(["school_code", "requirement_id"])
        duck = progress(store)
        cols = ["status", "days_late", "timing_uncertain", "completed_at", "completed_after"]
        a = duck.loc[("S1", "RPT_CSVC"), cols]
        b = pand.loc[("S1", "RPT_CSVC"), cols]
        assert [str(x) for x in a] == [str(x) for x in b], (name, list(a), list(b))


# ---- Verdicts at the cut-off (outside review of issue 12, findings 3-6) ----------------------
# A deadline's verdict is whether the target was met AT THE CUT-OFF as far as snapshots show
# (RULES.md "Status at as-of t"): a regression seen after the due time never turns a unit that
# the last snapshot before the due time showed done into a late or overdue one.
def _agree(store, as_of=None, units=None):
    """DuckDB and the pandas reference give the same verdict columns on these units."""
    from data_access.campaign import load_campaign
    from data_access.store import Store
    from tests import reference_pandas as ref
    snaps = Store(store).list_snapshots()
    t = pd.Timestamp(as_of) if as_of else snaps.iloc[-1].as_of
    pand = ref.progress([(r.as_of, r.path) for r in snaps.itertuples()], t,
                        load_campaign()).set_index(["school_code", "requirement_id"])
    duck = progress(store, as_of)
    cols = ["expected", "done", "status", "days_late", "timing_uncertain", "completed_at",
            "completed_after", "at_risk", "changed_after_due"]
    for u in units:
        a, b = duck.loc[u, cols], pand.loc[u, cols]
        assert [str(x) for x in a] == [str(x) for x in b], (u, list(a), list(b))


_ROOM = {"school_code": "S1", "room_code": "P1", "room_type": "Phòng học", "level": "THPT"}
_ROOM_THCS = dict(_ROOM, level="THCS")


def test_regression_after_the_due_time_keeps_the_on_time_verdict(tmp_path):
    """G12_INFO (due 26/04 23:59:59) done 2/2 at 25/04 and 26/04 17:00; a student transfers in on
    05/05 with no ethnicity (1/2... here 2/3), fixed 10/05. At 05/05: the last snapshot before the
    cut-off (26/04) held -> done_on_time, window of that run (open, 25/04 17:00], current counts
    2/3, changed_after_due. Before this fix: overdue 9 days. At 10/05: done_on_time (was
    done_late 9), changed_after_due false."""
    ok = thpt_snapshot([student("HS1"), student("HS2", gender="Nữ")])
    plus = thpt_snapshot([student("HS1"), student("HS2", gender="Nữ"), student("HS3", ethnicity=None)])
    fixed = thpt_snapshot([student("HS1"), student("HS2", gender="Nữ"), student("HS3")])
    store = write_store(tmp_path, [("2022-04-25T17:00:00+07:00", ok), ("2022-04-26T17:00:00+07:00", ok),
                                   ("2022-05-05T17:00:00+07:00", plus), ("2022-05-10T17:00:00+07:00", fixed)])
    row = one(store, "S1", "G12_INFO", "2022-05-05T17:00:00+07:00")
    assert (row.expected, row.done, row.status, row.days_late) == (3, 2, "done_on_time", 0)
    assert row.completed_at == pd.Timestamp("2022-04-25T17:00:00+07:00") and pd.isna(row.completed_after)
    assert bool(row.changed_after_due) and not bool(row.timing_uncertain)
    city = rollup(store, "city", "2022-05-05T17:00:00+07:00").loc[("city", "G12_INFO")]
    assert (city.units_done, city.units_done_on_time) == (1, 1)
    row = one(store, "S1", "G12_INFO")
    assert (row.expected, row.done, row.status, row.days_late) == (3, 3, "done_on_time", 0)
    assert row.completed_at == pd.Timestamp("2022-04-25T17:00:00+07:00") and not bool(row.changed_after_due)
    _agree(store, "2022-05-05T17:00:00+07:00", [("S1", "G12_INFO")])
    _agree(store, None, [("S1", "G12_INFO")])


def test_report_regressions_after_the_due_time_keep_the_on_time_verdict(tmp_path):
    """RPT_CSVC (due 28/04 23:59:59) sent 25/04 10:00, rooms clean at 27/04; a room appears under
    two levels at 05/05 (fixed 10/05): at 05/05 done_on_time at 25/04 10:00 with done 0/1 and
    changed_after_due (before: overdue 7). RPT_EMIS sent 25/04 10:00; the log row is rewritten at
    05/05 to a re-send 04/05 09:00: done_on_time at 25/04 10:00, nothing changed (before:
    done_late 6)."""
    def snap(csvc_rooms, emis_at):
        rep = [{"school_code": "S1", "report_code": "CSVC", "status": "Đã gửi", "submitted_at": "25/04/2022 10:00"},
               {"school_code": "S1", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": emis_at}]
        return dict(thpt_snapshot(reports=rep), rooms=csvc_rooms)
    store = write_store(tmp_path, [("2022-04-27T17:00:00+07:00", snap([_ROOM], "25/04/2022 10:00")),
                                   ("2022-05-05T17:00:00+07:00", snap([_ROOM, _ROOM_THCS], "04/05/2022 09:00"))])
    p = progress(store)
    csvc, emis = p.loc[("S1", "RPT_CSVC")], p.loc[("S1", "RPT_EMIS")]
    assert (csvc.done, csvc.status, csvc.days_late, bool(csvc.changed_after_due)) == (0, "done_on_time", 0, True)
    assert csvc.completed_at == pd.Timestamp("2022-04-25T10:00:00+07:00")
    assert (emis.done, emis.status, emis.days_late, bool(emis.changed_after_due)) == (1, "done_on_time", 0, False)
    assert emis.completed_at == pd.Timestamp("2022-04-25T10:00:00+07:00")
    _agree(store, None, [("S1", "RPT_CSVC"), ("S1", "RPT_EMIS")])


def test_done_late_then_regressed_stays_done_late(tmp_path):
    """G12_INFO not done at the cut-off snapshot 26/04 23:59:59, done at 27/04 17:00, broken again
    at 29/04: done_late with the window of the first completion (26/04 23:59:59, 27/04 17:00],
    1 day late, changed_after_due (before: overdue 3)."""
    good = thpt_snapshot([student("HS1")])
    bad = thpt_snapshot([student("HS1", gender="X")])
    store = write_store(tmp_path, [("2022-04-26T23:59:59+07:00", bad), ("2022-04-27T17:00:00+07:00", good),
                                   ("2022-04-29T17:00:00+07:00", bad)])
    row = one(store, "S1", "G12_INFO")
    assert (row.done, row.status, row.days_late, bool(row.changed_after_due)) == (0, "done_late", 1, True)
    assert row.completed_after == pd.Timestamp("2022-04-26T23:59:59+07:00")
    assert row.completed_at == pd.Timestamp("2022-04-27T17:00:00+07:00")
    city = rollup(store, "city").loc[("city", "G12_INFO")]
    assert (city.units_done, city.units_done_on_time) == (1, 0)
    _agree(store, None, [("S1", "G12_INFO")])


def test_empty_summary_file_after_the_cut_off_does_not_make_final_results_late(tmp_path):
    """c14: G12_RESULTS_FINAL (due 29/06 23:59:59) done at 29/06 17:00; the 30/06 export has an
    empty tong_ket; done again 01/07. At 01/07: done_on_time at 29/06 17:00 (before: done_late 1)."""
    sc, su = results_rows("HS1", terms=[(g, t) for g in (10, 11, 12) for t in ("HK1", "HK2", "CN")])
    full = dict(thpt_snapshot([student("HS1")], scores=False), subject_scores=sc, term_summaries=su)
    empty = dict(full, term_summaries=[])
    store = write_store(tmp_path, [("2022-06-29T17:00:00+07:00", full), ("2022-06-30T17:00:00+07:00", empty),
                                   ("2022-07-01T17:00:00+07:00", full)])
    row = one(store, "S1", "G12_RESULTS_FINAL")
    assert (row.status, row.days_late, bool(row.changed_after_due)) == ("done_on_time", 0, False)
    assert row.completed_at == pd.Timestamp("2022-06-29T17:00:00+07:00")
    _agree(store, None, [("S1", "G12_RESULTS_FINAL")])


def test_snapshot_without_rooms_file_is_no_evidence_of_a_fix(tmp_path):
    """c13: RPT_CSVC sent 25/04 10:00; room under two levels at 27/04 17:00; the 28/04 17:00 export
    has no phong_hoc file; fixed at 02/05 17:00. Nothing shows a fix before 02/05: at 28/04 17:00
    still held back (done 0, in_progress, not 'done at 28/04'); at 02/05 the window is
    (27/04 17:00, 02/05 17:00], which holds the due time -> done_on_time, timing_uncertain
    (before: done_on_time at 28/04 17:00, certain)."""
    rep = [{"school_code": "S1", "report_code": "CSVC", "status": "Đã gửi", "submitted_at": "25/04/2022 10:00"}]
    base = thpt_snapshot(reports=rep)
    store = write_store(tmp_path, [("2022-04-27T17:00:00+07:00", dict(base, rooms=[_ROOM, _ROOM_THCS])),
                                   ("2022-04-28T17:00:00+07:00", dict(base, _absent=["rooms"])),
                                   ("2022-05-02T17:00:00+07:00", dict(base, rooms=[_ROOM]))])
    mid = one(store, "S1", "RPT_CSVC", "2022-04-28T17:00:00+07:00")
    assert (mid.done, mid.status) == (0, "in_progress") and pd.isna(mid.completed_at)
    row = one(store, "S1", "RPT_CSVC")
    assert (row.done, row.status, bool(row.timing_uncertain)) == (1, "done_on_time", True)
    assert row.completed_after == pd.Timestamp("2022-04-27T17:00:00+07:00")
    assert row.completed_at == pd.Timestamp("2022-05-02T17:00:00+07:00")
    _agree(store, "2022-04-28T17:00:00+07:00", [("S1", "RPT_CSVC")])
    _agree(store, None, [("S1", "RPT_CSVC")])


def test_report_sent_after_a_conflict_was_seen_is_done_when_both_are(tmp_path):
    """c12 J: at 25/04 17:00 CSVC is a draft and a room is under two levels; the report is sent
    26/04 10:00; the next snapshot, 02/05 17:00, shows it sent and the room fixed. Completed at
    max(send, fix) in (26/04 10:00, 02/05 17:00], which holds the due 28/04 23:59:59 ->
    done_on_time, timing_uncertain (before: completed 26/04 10:00, certain)."""
    draft = [{"school_code": "S1", "report_code": "CSVC", "status": "Chưa gửi", "submitted_at": None}]
    sent = [{"school_code": "S1", "report_code": "CSVC", "status": "Đã gửi", "submitted_at": "26/04/2022 10:00"}]
    store = write_store(tmp_path, [("2022-04-25T17:00:00+07:00", dict(thpt_snapshot(reports=draft), rooms=[_ROOM, _ROOM_THCS])),
                                   ("2022-05-02T17:00:00+07:00", dict(thpt_snapshot(reports=sent), rooms=[_ROOM]))])
    row = one(store, "S1", "RPT_CSVC")
    assert (row.status, bool(row.timing_uncertain), row.days_late) == ("done_on_time", True, 0)
    assert row.completed_after == pd.Timestamp("2022-04-26T10:00:00+07:00")
    assert row.completed_at == pd.Timestamp("2022-05-02T17:00:00+07:00")
    _agree(store, None, [("S1", "RPT_CSVC")])


def test_at_risk_compares_the_exact_fraction_not_the_rounded_percent(tmp_path):
    """c2: 1,999 of 2,000 at 26/04 17:00 (one snapshot: no pace), due 26/04 23:59:59: shows 100.0 %
    but 99.95 % < 100 -> at risk (before: not at risk, the rounded 100.0 was compared)."""
    store = write_store(tmp_path, [("2022-04-26T17:00:00+07:00", thpt_snapshot(_two_thousand(1), scores=False))])
    row = one(store, "S1", "G12_INFO")
    assert (row.percent, row.status, bool(row.at_risk)) == (100.0, "in_progress", True)
    _agree(store, None, [("S1", "G12_INFO")])


# ---- A log time after the snapshot's own as-of (issue 12, review: a mistyped year) ----------
def test_report_time_after_the_snapshot_is_not_sent_at_that_snapshot(tmp_path):
    """RPT_EMIS is due 28/04 23:59:59. One snapshot at 28/04 17:00 whose log says «Đã gửi»
    at 28/04 20:00, three hours after the export itself: the send had not happened when the
    snapshot was taken, so at 28/04 17:00 the report is not sent (a row exists: in_progress,
    done 0). Before the fix: done_on_time with completed_at 28/04 20:00.
    The same row seen by a snapshot at 29/04 17:00 is a real send (20:00 <= 29/04 17:00):
    done_on_time at 28/04 20:00 (the log gives the time)."""
    rep = [{"school_code": "S1", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": "28/04/2022 20:00"}]
    snap = thpt_snapshot(reports=rep)
    store = write_store(tmp_path, [("2022-04-28T17:00:00+07:00", snap), ("2022-04-29T17:00:00+07:00", snap)])
    row = one(store, "S1", "RPT_EMIS", "2022-04-28T17:00:00+07:00")
    assert (row.done, row.percent, row.status) == (0, 0.0, "in_progress")
    assert pd.isna(row.completed_at)
    _agree(store, "2022-04-28T17:00:00+07:00", [("S1", "RPT_EMIS")])
    row = one(store, "S1", "RPT_EMIS")
    assert (row.done, row.status, row.days_late) == (1, "done_on_time", 0)
    assert row.completed_at == pd.Timestamp("2022-04-28T20:00:00+07:00")
    _agree(store, None, [("S1", "RPT_EMIS")])


def test_report_row_with_a_mistyped_later_year_does_not_hide_the_real_send(tmp_path):
    """Two «Đã gửi» rows: 27/04/2022 09:00 and 27/04/2023 09:00 (the year mistyped), snapshot at
    02/05/2022 17:00. The 2023 row is after the snapshot's as-of, so it is not a send there; the
    institution's row is the 27/04/2022 one: done_on_time at 27/04/2022 09:00. Before the fix the
    2023 row was the latest: done_late by 364 days."""
    rep = [{"school_code": "S1", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": "27/04/2022 09:00"},
           {"school_code": "S1", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": "27/04/2023 09:00"}]
    store = write_store(tmp_path, [("2022-05-02T17:00:00+07:00", thpt_snapshot(reports=rep))])
    row = one(store, "S1", "RPT_EMIS")
    assert (row.done, row.status, row.days_late) == (1, "done_on_time", 0)
    assert row.completed_at == pd.Timestamp("2022-04-27T09:00:00+07:00")
    _agree(store, None, [("S1", "RPT_EMIS")])


def test_institution_absent_from_the_cut_off_snapshot_had_nothing_done(tmp_path):
    """An extract is the whole city database: an institution missing from the snapshot taken at
    the cut-off had no records in it then, so nothing was done (RULES.md «Status at as-of t»).
    S2 is absent at 26/04 23:59:59 and present with every record valid at 27/04 17:00: reached
    in (26/04 23:59:59, 27/04 17:00], certainly late, 1 day; never `timing_uncertain` (the
    absence is an observation, not a gap). S1, present and done at both, is on time."""
    s1 = thpt_snapshot([student("HS1")])
    both = thpt_snapshot([student("HS1"), student("HS9", school_code="S2")],
                         schools=[school("S1", "THPT"), school("S2", "THPT")])
    store = write_store(tmp_path, [("2022-04-26T23:59:59+07:00", s1), ("2022-04-27T17:00:00+07:00", both)])
    p = progress(store)
    late = p.loc[("S2", "G12_INFO")]
    assert (late.status, late.days_late, bool(late.timing_uncertain)) == ("done_late", 1, False)
    assert late.completed_after == pd.Timestamp("2022-04-26T23:59:59+07:00")
    assert late.completed_at == pd.Timestamp("2022-04-27T17:00:00+07:00")
    assert p.loc[("S1", "G12_INFO")].status == "done_on_time"
    from data_access.campaign import load_campaign
    from data_access.store import Store
    from tests import reference_pandas as ref
    snaps = Store(store).list_snapshots()
    pand = ref.progress([(r.as_of, r.path) for r in snaps.itertuples()], snaps.iloc[-1].as_of,
                        load_campaign()).set_index(["school_code", "requirement_id"])
    cols = ["status", "days_late", "timing_uncertain", "completed_at", "completed_after"]
    assert [str(x) for x in pand.loc[("S2", "G12_INFO"), cols]] == [str(x) for x in late[cols]]
