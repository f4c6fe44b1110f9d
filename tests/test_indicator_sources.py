"""Which extract files an indicator counts when its `source` is omitted (RULES.md «Report
figures»; outside review of issue 15, finding 1): read from the staging views and src_* tables
its SQL names. Every staging view that reads an extract file is mapped; a stg_/src_ name that
is not is refused when the campaign is read (before the fix it counted as "reads no file", so
an indicator over stg_summaries (tong_ket) was compared as 0 in a snapshot without tong_ket)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from data_access import campaign as cp
from data_access.campaign import CampaignError, load_campaign
from data_access.schema import TABLES
from tests import snapshot_factory as sf
from tests.test_report_figures import _clean, _eval, _fig, _report, _with_indicators

SQL_DIR = Path(cp.__file__).resolve().parent / "sql"
A, B = "2022-04-25T17:00:00+07:00", "2022-04-27T17:00:00+07:00"
TK_HK1 = '''
[[indicators]]
code = "HS12_TK_HK1"
name = "Số học sinh lớp 12 có tổng kết HK1"
report_code = "EMIS"
sql = """SELECT school_code, count(DISTINCT student_id) AS value FROM stg_summaries WHERE grade = 12 AND term = 'HK1' GROUP BY school_code"""
'''


def _views() -> dict[str, set[str]]:
    """Each stg_ view of data_access/sql: the src_ tables it reads, through other views."""
    direct = {}
    for f in sorted(SQL_DIR.glob("*.sql")):
        text = f.read_text(encoding="utf-8")
        for part in re.split(r"(?=CREATE OR REPLACE (?:VIEW|TABLE|MACRO) )", text):
            m = re.match(r"CREATE OR REPLACE (?:VIEW|TABLE|MACRO) ([a-z_0-9]+)", part)
            if m:
                body = re.sub(r"--[^\n]*", "", part[m.end():])
                direct[m.group(1)] = set(re.findall(r"\b(?:src|stg)_[a-z0-9_]+", body))

    def reads(v, seen=()):
        out = set()
        for w in direct.get(v, ()):
            if w.startswith("src_"):
                out.add(w[4:])
            elif w in direct and w not in seen:
                out |= reads(w, seen + (v,))
        return out
    return {v: reads(v) for v in direct if v.startswith("stg_")}


def test_every_staging_view_is_mapped_to_the_files_it_reads():
    views = _views()
    assert len(views) >= 35
    names = {t.name for t in TABLES}
    missing = sorted(set(views) - set(cp._VIEW_SOURCES))
    assert not missing, f"staging views without a source mapping: {missing}"
    for v, tables in cp._VIEW_SOURCES.items():
        assert set(tables) <= names, v
        if v in views:                       # the mapping names only tables the view reads
            assert set(tables) <= views[v], (v, tables, views[v])


@pytest.mark.parametrize("sql, want", [
    ("SELECT school_code, count(*) AS value FROM stg_summaries GROUP BY 1", ("term_summaries",)),
    ("SELECT school_code, count(*) AS value FROM stg_score_rows GROUP BY 1", ("subject_scores",)),
    ("SELECT school_code, count(*) AS value FROM stg_enrolled_students GROUP BY 1", ("students",)),
    ("SELECT school_code, count(*) AS value FROM src_term_summaries GROUP BY 1", ("term_summaries",)),
    ("SELECT s.school_code, count(*) AS value FROM stg_staff s JOIN stg_rooms r USING (school_code) "
     "GROUP BY 1", ("rooms", "staff")),
])
def test_sources_read_from_the_sql(sql, want):
    assert cp.indicator_sources(sql) == want


@pytest.mark.parametrize("view", ["stg_khong_co", "src_khong_co"])
def test_an_unknown_view_without_source_is_refused(tmp_path, view):
    camp = _with_indicators(tmp_path / "c.toml", f'''
[[indicators]]
code = "X_MOI"
name = "x"
report_code = "EMIS"
sql = "SELECT school_code, count(*) AS value FROM {view} GROUP BY school_code"
''')
    with pytest.raises(CampaignError) as e:
        load_campaign(camp)
    msg = str(e.value)
    assert "X_MOI" in msg and view in msg and 'source = "' in msg
    # with an explicit source the campaign is read (the SQL itself is checked at evaluation)
    camp.write_text(camp.read_text(encoding="utf-8").replace('code = "X_MOI"', 'code = "X_MOI"\nsource = "hoc_sinh"'),
                    encoding="utf-8")
    assert [i.sources for i in load_campaign(camp).indicators if i.code == "X_MOI"] == [("students",)]


def test_a_summaries_indicator_is_not_compared_where_tong_ket_is_absent(tmp_path):
    """A (25/04) has tong_ket: HS1 has its grade-12 HK1 summary; B (27/04) has no tong_ket file.
    The EMIS report sent 26/04 states 1: at sending (A) 1, now not measured: `no_source`, no
    REPORT_FIGURE_* finding (before the fix: now 0, figure_state `stale`: «changed since sent»)."""
    _, summaries = sf.results_rows("HS1", ((12, "HK1"),))
    a = {"schools": [sf.school("S1")], "students": [sf.student("HS1")], "term_summaries": summaries}
    b = {"schools": [sf.school("S1")], "students": [sf.student("HS1")], "_absent": ["term_summaries"],
         "reports": [_report("EMIS", "26/04/2022 10:00")],
         "report_figures": [_fig("EMIS", "HS12_TK_HK1", "1")]}
    store = sf.write_store(tmp_path / "store", [(A, a), (B, b)])
    camp = load_campaign(_with_indicators(tmp_path / "c.toml", TK_HK1))
    assert [i.sources for i in camp.indicators if i.code == "HS12_TK_HK1"] == [("term_summaries",)]
    ev = _eval(store, None, camp)
    try:
        f = ev.df("SELECT indicator, stated, at_sending, now_value, figure_state FROM rf_figures "
                  "WHERE indicator = 'HS12_TK_HK1'")
        n = ev.df("SELECT count(*) AS n FROM findings WHERE rule_id LIKE 'REPORT_FIGURE_%'").n[0]
    finally:
        ev.close()
    assert [tuple(_clean(x) for x in r) for r in f.itertuples(index=False)] == [
        ("HS12_TK_HK1", 1, 1, None, "no_source")]
    assert n == 0
