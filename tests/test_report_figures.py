"""Report figures against the records (issue 15, part 1): the optional extract file
so_lieu_bao_cao, the campaign's indicators, the comparison of every submitted report's figures
with the records of the snapshot at (or before) its sending time and of the evaluated snapshot,
and what the pages and exports show of it. Expected values are counted by hand from the small
extracts below."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data_access.errors import ExtractError
from data_access.ingest import ingest
from tests.test_ingest import BASE, write_extract

FIG_HEADER = ["Mã trường", "Mã báo cáo", "Mã chỉ tiêu", "Giá trị"]


def _table(path, name):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT school_code, report_code, indicator, value, _row FROM {name} ORDER BY _row").fetchall()
    finally:
        con.close()


# ---- 1. the extract file ---------------------------------------------------------------------
def test_so_lieu_bao_cao_is_imported_with_its_aliases(tmp_path):
    ex = write_extract(tmp_path / "ex", {"so_lieu_bao_cao": (
        ["Mã trường", "Mã báo cáo", "Chỉ tiêu", "Số liệu"],
        [["S001", "EMIS", "HS_KHOI_12", "2"], ["S001", "EMIS", "LOP_KHOI_12", "1"]])})
    res = ingest(ex, tmp_path / "store")
    assert res.rows["report_figures"] == 2
    rows = _table(res.path, "report_figures")
    assert [r[:4] for r in rows] == [("S001", "EMIS", "HS_KHOI_12", "2"), ("S001", "EMIS", "LOP_KHOI_12", "1")]
    assert [r[4] for r in rows] == [2, 3]          # _row: the spreadsheet row (header = 1)


def test_so_lieu_bao_cao_is_optional(tmp_path):
    res = ingest(write_extract(tmp_path / "ex"), tmp_path / "store")
    assert res.rows["report_figures"] == 0


def test_so_lieu_bao_cao_without_value_column_is_refused(tmp_path):
    ex = write_extract(tmp_path / "ex", {"so_lieu_bao_cao": (
        ["Mã trường", "Mã báo cáo", "Mã chỉ tiêu"], [["S001", "EMIS", "HS_KHOI_12"]])})
    with pytest.raises(ExtractError) as ei:
        ingest(ex, tmp_path / "store")
    msg = str(ei.value)
    assert "so_lieu_bao_cao.csv" in msg and "Giá trị" in msg, msg


# ---- 2-3. indicators and the comparison, on a hand-made store of two snapshots ---------------
# S1 (THPT, district 760) and S2 (THCS, district 770). Snapshot A 25/04 17:00, B 27/04 17:00.
# Between them the records of S1 change: a third grade-10 class is added (10A3) and the boy
# HS12 of grade 10 transfers out. Reports (log of B): S1 EMIS and CSVC sent 26/04 10:00 (A is
# the snapshot at sending), S1 SUC_KHOE sent 24/04 09:00 (no snapshot before), S1 NGOAI_NGU
# (no indicator), S2 EMIS sent 26/04 without figures.
from tests import snapshot_factory as sf  # noqa: E402

A, B = "2022-04-25T17:00:00+07:00", "2022-04-27T17:00:00+07:00"


def _records(late: bool) -> dict:
    g10 = [sf.student("HS10", grade="10", gender="Nữ", class_name="10A1"),
           sf.student("HS11", grade="10", gender="Nữ", ethnicity="Hoa", class_name="10A1"),
           sf.student("HS12", grade="10", gender="Nam", class_name="10A2",
                      status="Đã chuyển trường" if late else "Đang học")]
    classes = [{"school_code": "S1", "class_code": c, "grade": g, "class_name": c}
               for c, g in (("10A1", "10"), ("10A2", "10"), ("12A1", "12"))]
    if late:
        classes.append({"school_code": "S1", "class_code": "10A3", "grade": "10", "class_name": "10A3"})
    staff = [{"staff_id": f"CB{i}", "school_code": "S1", "full_name": "Trần Văn Minh", "position": p}
             for i, p in enumerate(("CBQL", "Giáo viên", "Giáo viên", "Nhân viên"))]
    rooms = [{"school_code": "S1", "room_code": r, "room_type": t, "level": "THPT"}
             for r, t in (("P101", "Phòng học"), ("P102", "Phòng học"), ("P201", "Phòng bộ môn"))]
    return {"schools": [sf.school("S1"), sf.school("S2", levels="THCS", district="770")],
            "students": [sf.student("HS1")] + g10, "classes": classes, "staff": staff, "rooms": rooms}


def _report(code, at, school="S1"):
    return {"school_code": school, "report_code": code, "status": "Đã gửi", "submitted_at": at}


def _fig(report, indicator, value, school="S1"):
    return {"school_code": school, "report_code": report, "indicator": indicator, "value": value}


FIGURES_B = [
    _fig("EMIS", "LOP_KHOI_10", "2"),       # A 2, B 3: stale (a class added after sending)
    _fig("EMIS", "HS_KHOI_10", "3"),        # A 3, B 2: stale (a student transferred after)
    _fig("EMIS", "HS_NU_KHOI_10", "2"),     # A 2, B 2: match
    _fig("EMIS", "HS_DTTS_KHOI_10", "0"),   # A 1, B 1: different from the start
    _fig("EMIS", "CBQL", "1"), _fig("EMIS", "GV", "2"),   # match
    _fig("EMIS", "LOP_KHOI_12", "một"),     # not a number: REPORT_FIGURE_INVALID, counts as lệch
    _fig("EMIS", "XYZ", "5"),               # unknown indicator: REPORT_FIGURE_INVALID, not compared
    _fig("CSVC", "PHONG_HOC_THPT", "2"), _fig("CSVC", "PHONG_BO_MON_THPT", "1"),   # match
    _fig("SUC_KHOE", "HS_DANG_HOC", "4"),   # A 4 but sent before A: now 3, no snapshot before
    _fig("NGOAI_NGU", "HS_DANG_HOC", "4"),  # not an indicator of NGOAI_NGU: invalid, not compared
]


@pytest.fixture(scope="module")
def fig_store(tmp_path_factory) -> Path:
    a = _records(late=False)
    a["reports"] = [_report("SUC_KHOE", "24/04/2022 09:00")]
    a["report_figures"] = [_fig("SUC_KHOE", "HS_DANG_HOC", "4")]
    b = _records(late=True)
    b["reports"] = [_report("EMIS", "26/04/2022 10:00"), _report("CSVC", "26/04/2022 10:00"),
                    _report("SUC_KHOE", "24/04/2022 09:00"), _report("NGOAI_NGU", "26/04/2022 10:00"),
                    _report("EMIS", "26/04/2022 11:00", school="S2")]
    b["report_figures"] = FIGURES_B
    return sf.write_store(tmp_path_factory.mktemp("rf") / "store", [(A, a), (B, b)])


def _eval(store, as_of=None, campaign=None):
    from data_access.evaluate import evaluate
    return evaluate(store, as_of, campaign)


def test_indicator_values_per_snapshot_by_hand(fig_store):
    ev = _eval(fig_store)
    try:
        v = ev.df("""SELECT s.as_of, v.indicator, v.value FROM hist_indicator_values v
                     JOIN hist_snapshots s USING (snapshot_id) WHERE v.school_code = 'S1'""")
    finally:
        ev.close()
    got = {(str(pd_ts(a).date()), i): int(x) for a, i, x in v.itertuples(index=False)}
    want_a = {"LOP_KHOI_10": 2, "LOP_KHOI_12": 1, "HS_KHOI_10": 3, "HS_KHOI_12": 1, "HS_NU_KHOI_10": 2,
              "HS_DTTS_KHOI_10": 1, "CBQL": 1, "GV": 2, "NV": 1, "PHONG_HOC_THPT": 2,
              "PHONG_BO_MON_THPT": 1, "HS_DANG_HOC": 4}
    want_b = {**want_a, "LOP_KHOI_10": 3, "HS_KHOI_10": 2, "HS_DANG_HOC": 3}
    # (HS_NU_KHOI_12 etc. are 0: no row. The boy HS1 of grade 12 is Kinh.)
    assert {i: x for (d, i), x in got.items() if d == "2022-04-25"} == want_a
    assert {i: x for (d, i), x in got.items() if d == "2022-04-27"} == want_b


def _clean(x):
    """A cell as a plain Python value: None for NULL, int for numbers."""
    import pandas as pd
    if isinstance(x, str):
        return x
    return None if pd.isna(x) else int(x)


def pd_ts(x):
    import pandas as pd
    return pd.Timestamp(x).tz_convert("Asia/Ho_Chi_Minh")


def test_figures_compared_at_sending_and_now_by_hand(fig_store):
    ev = _eval(fig_store)
    try:
        f = ev.df("SELECT school_code, report_code, indicator, stated, at_sending, now_value, figure_state "
                  "FROM rf_figures ORDER BY ALL")
        r = ev.df("SELECT school_code, report_code, n_figures, n_mismatch, match_state, match_label "
                  "FROM rf_reports ORDER BY ALL")
        prog = ev.df("SELECT school_code, requirement_id, status FROM progress "
                     "WHERE requirement_id IN ('RPT_EMIS', 'RPT_CSVC', 'RPT_SUC_KHOE') "
                     "AND (school_code = 'S1' OR requirement_id = 'RPT_EMIS')")
        fnd = ev.df("SELECT school_code, rule_id, severity, record_key, message FROM findings "
                    "WHERE rule_id LIKE 'REPORT_FIGURE%' ORDER BY rule_id, record_key")
    finally:
        ev.close()
    rows = {(s, rep, i): tuple(_clean(x) for x in (st, a, n, state))
            for s, rep, i, st, a, n, state in f.itertuples(index=False)}
    assert rows == {
        ("S1", "CSVC", "PHONG_BO_MON_THPT"): (1, 1, 1, "match"),
        ("S1", "CSVC", "PHONG_HOC_THPT"): (2, 2, 2, "match"),
        ("S1", "EMIS", "CBQL"): (1, 1, 1, "match"),
        ("S1", "EMIS", "GV"): (2, 2, 2, "match"),
        ("S1", "EMIS", "HS_DTTS_KHOI_10"): (0, 1, 1, "different_at_sending"),
        ("S1", "EMIS", "HS_KHOI_10"): (3, 3, 2, "stale"),
        ("S1", "EMIS", "HS_NU_KHOI_10"): (2, 2, 2, "match"),
        ("S1", "EMIS", "LOP_KHOI_10"): (2, 2, 3, "stale"),
        ("S1", "EMIS", "LOP_KHOI_12"): (None, 1, 1, "invalid"),
        ("S1", "SUC_KHOE", "HS_DANG_HOC"): (4, None, 3, "no_snapshot_before"),
    }
    assert [tuple(_clean(x) for x in t) for t in r.itertuples(index=False)] == [
        ("S1", "CSVC", 2, 0, "match", "khớp"),
        ("S1", "EMIS", 7, 4, "mismatch", "4 chỉ tiêu lệch"),
        ("S1", "SUC_KHOE", 1, 1, "mismatch", "1 chỉ tiêu lệch"),
        ("S2", "EMIS", 0, 0, "no_figures", "không có số liệu"),
    ]
    # A warning: the reports stay done (sent 26/04 and 24/04, due 28/04).
    assert set(prog["status"]) == {"done_on_time"} and len(prog) == 4
    assert list(zip(fnd["rule_id"], fnd["record_key"], fnd["severity"])) == [
        ("REPORT_FIGURE_INVALID", "EMIS|LOP_KHOI_12", "warning"),
        ("REPORT_FIGURE_INVALID", "EMIS|XYZ", "warning"),
        ("REPORT_FIGURE_INVALID", "NGOAI_NGU|HS_DANG_HOC", "warning"),
        ("REPORT_FIGURE_MISMATCH", "EMIS|HS_DTTS_KHOI_10", "warning"),
        ("REPORT_FIGURE_MISMATCH", "EMIS|HS_KHOI_10", "warning"),
        ("REPORT_FIGURE_MISMATCH", "EMIS|LOP_KHOI_10", "warning"),
        ("REPORT_FIGURE_MISMATCH", "SUC_KHOE|HS_DANG_HOC", "warning"),
    ]
    msg = dict(zip(fnd["record_key"], fnd["message"]))
    assert msg["EMIS|LOP_KHOI_10"] == (
        "Báo cáo EMIS gửi lúc 26/04/2022 10:00 ghi «Số lớp khối 10» (LOP_KHOI_10) = 2, nhưng dữ liệu hiện có 3. "
        "Lúc gửi, dữ liệu (snapshot 25/04/2022 17:00) khớp với báo cáo: dữ liệu đã thay đổi sau khi gửi nên "
        "báo cáo không còn đúng. Hãy kiểm tra các thay đổi của dữ liệu và gửi lại báo cáo nếu cần.")
    assert "Ngay lúc gửi, dữ liệu (snapshot 25/04/2022 17:00) đã là 1" in msg["EMIS|HS_DTTS_KHOI_10"]
    assert "Chưa có snapshot trước lúc gửi" in msg["SUC_KHOE|HS_DANG_HOC"]


def test_at_the_earlier_snapshot_the_figure_matched(fig_store):
    """Evaluated at A, the SUC_KHOE figure (4) equals A's records: khớp, no finding."""
    ev = _eval(fig_store, A)
    try:
        r = ev.df("SELECT school_code, report_code, match_label FROM rf_reports")
        n = ev.df("SELECT count(*) AS n FROM findings WHERE rule_id = 'REPORT_FIGURE_MISMATCH'").n[0]
    finally:
        ev.close()
    assert [tuple(x) for x in r.itertuples(index=False)] == [("S1", "SUC_KHOE", "khớp")]
    assert n == 0


def test_a_new_indicator_needs_no_code_change(fig_store, tmp_path):
    from data_access.campaign import DEFAULT_CAMPAIGN, load_campaign
    camp = tmp_path / "c.toml"
    camp.write_text(DEFAULT_CAMPAIGN.read_text(encoding="utf-8") + '''
[[indicators]]
code = "XYZ"
name = "Số học sinh nam khối 10"
report_code = "EMIS"
sql = """SELECT school_code, count(*) AS value FROM stg_enrolled_students
         WHERE grade = 10 AND gender = 'Nam' GROUP BY school_code"""
''', encoding="utf-8")
    ev = _eval(fig_store, None, load_campaign(camp))
    try:
        f = ev.df("SELECT stated, at_sending, now_value, figure_state FROM rf_figures WHERE indicator = 'XYZ'")
        r = ev.df("SELECT match_label FROM rf_reports WHERE school_code = 'S1' AND report_code = 'EMIS'")
    finally:
        ev.close()
    # the report says 5 boys in grade 10; the records had 1 at sending and have 0 now
    assert [tuple(_clean(x) for x in t) for t in f.itertuples(index=False)] == [
        (5, 1, 0, "different_at_sending")]
    assert r["match_label"].tolist() == ["5 chỉ tiêu lệch"]


# ---- the pandas reference agrees on the hand-made store (the demo series: test_agreement) ----
def _duck_vs_reference(store, as_of):
    from data_access.campaign import load_campaign
    from data_access.store import Store
    from tests import reference_pandas as ref
    camp = load_campaign()
    snaps = Store(store).list_snapshots()
    ev = _eval(store, as_of, camp)
    try:
        f = ev.df("SELECT school_code, report_code, indicator, stated, at_sending, now_value, figure_state "
                  "FROM rf_figures ORDER BY school_code, report_code, indicator")
        r = ev.df("SELECT school_code, report_code, n_figures, n_mismatch, match_label FROM rf_reports "
                  "ORDER BY school_code, report_code")
        when = ev.as_of
    finally:
        ev.close()
    pf, pr = ref.report_figures([(s.as_of, s.path) for s in snaps.itertuples()], when, camp)
    norm = lambda df: [tuple(_clean(x) for x in t) for t in df.itertuples(index=False)]  # noqa: E731
    return norm(f), norm(pf), norm(r), norm(pr)


@pytest.mark.parametrize("as_of", [A, B])
def test_reference_agrees_on_the_hand_made_store(fig_store, as_of):
    f, pf, r, pr = _duck_vs_reference(fig_store, as_of)
    assert f == pf and len(f) >= 1
    assert r == pr
