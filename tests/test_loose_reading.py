"""Status and address written as people write them (outside review of issue 12, findings 7-9).

Why: the grade was read loosely (`khối 12`, `Khoi 12`) while the status had to match
`Đang học` byte for byte, so `đang học` or `ĐANG HỌC` made an enrolled grade-12 student a
STATUS_INVALID error and the school overdue. Every expectation below is worked out by hand
from RULES.md ("Population", "ADDRESS_INCOMPLETE"); the last test of each part checks that the
pandas reference agrees with the SQL on the same snapshot.
"""
from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from data_access import engine
from data_access.campaign import load_campaign
from tests import reference_pandas as ref
from tests.snapshot_factory import results_rows, school, student, write_snapshot

CAMPAIGN = load_campaign()
AS_OF = "2022-04-27T17:00:00+07:00"

# ---- finding 7: statuses ------------------------------------------------------------------
# Each of these is the system's «Đang học» (case, accents, NFD, doubled space, NBSP).
ENROLLED_FORMS = ["đang học", "ĐANG HỌC", "Dang hoc", "Đang  học", "Đang\u00a0học",
                  unicodedata.normalize("NFD", "Đang học")]


def status_tables() -> dict:
    st, sc, sm = [], [], []
    for i, s in enumerate(ENROLLED_FORMS):
        sid = f"E{i}"
        st.append(student(sid, "Q1", status=s))
        a, b = results_rows(sid)
        sc += a
        sm += b
    st.append(student("TR", "Q1", status="đã chuyển trường"))   # a known other status: out, no finding
    st.append(student("BAD", "Q1", status="Đang theo học"))      # not a status of the system
    # ID duplicates count only enrolled holders: with `đang học` read as enrolled, D1 and D2
    # (both numbers agree with male 2004) are two holders -> both ID_DUPLICATE error.
    st.append(student("D1", "Q2", cccd="079204777001", status="đang học"))
    st.append(student("D2", "Q2", cccd="079204777001"))
    return {"schools": [school("Q1"), school("Q2", district="761")], "students": st,
            "subject_scores": sc, "term_summaries": sm}


@pytest.fixture(scope="module")
def status_snap(tmp_path_factory):
    tables = status_tables()
    path = write_snapshot(tmp_path_factory.mktemp("st") / "s.duckdb", tables, as_of=AS_OF)
    con = engine.open_snapshot(path, CAMPAIGN, upto="findings")
    try:
        f = con.execute("SELECT * FROM findings WHERE entity = 'student'").df()
        excl = con.execute("SELECT reason, count(*) AS n FROM stg_population_exclusions "
                           "GROUP BY reason").df()
    finally:
        con.close()
    return {"tables": tables, "path": path, "f": f, "excl": dict(zip(excl["reason"], excl["n"]))}


def _rules(f, sid) -> dict:
    x = f[f["record_key"] == sid]
    return dict(zip(x["rule_id"], x["severity"]))


def test_status_read_loosely_no_finding(status_snap):
    f = status_snap["f"]
    for i, s in enumerate(ENROLLED_FORMS):
        assert _rules(f, f"E{i}") == {}, repr(s)
    assert _rules(f, "TR") == {}
    assert _rules(f, "BAD") == {"STATUS_INVALID": "error"}
    # E0..E5 enrolled; TR a known other status; BAD unreadable
    assert status_snap["excl"] == {"status_other": 1, "status_invalid": 1}


def test_status_read_loosely_counts_in_population(status_snap):
    con = engine.open_snapshot(status_snap["path"], CAMPAIGN, upto="findings")
    try:
        pop = con.execute("SELECT school_code, count(*) AS n FROM stg_population GROUP BY 1").df()
    finally:
        con.close()
    # Q1: the six enrolled forms; Q2: D1 and D2
    assert dict(zip(pop["school_code"], pop["n"])) == {"Q1": 6, "Q2": 2}
    # pandas reference: Q1 expected 6 + BAD (unplaced) = 7, done 6 (BAD never done)
    d = ref.student_done(ref.load_snapshot(status_snap["path"]), CAMPAIGN)
    d = d.set_index(["school_code", "requirement_id"])
    assert (d.loc[("Q1", "G12_INFO"), "expected"], d.loc[("Q1", "G12_INFO"), "done"]) == (7, 6)
    # Q2: D1 and D2 hold the same number -> both error, none done
    assert (d.loc[("Q2", "G12_INFO"), "expected"], d.loc[("Q2", "G12_INFO"), "done"]) == (2, 0)


def test_status_loose_duplicate_holders(status_snap):
    f = status_snap["f"]
    assert _rules(f, "D1") == {"ID_DUPLICATE": "error"}
    assert _rules(f, "D2") == {"ID_DUPLICATE": "error"}


def test_status_loose_reference_agrees(status_snap, tmp_path):
    from tests.snapshot_factory import write_store
    from data_access.evaluate import evaluate
    store = write_store(tmp_path / "store", [(AS_OF, status_snap["tables"])])
    ev = evaluate(store, None, CAMPAIGN)
    try:
        duck = ev.df("SELECT * FROM progress").set_index(["school_code", "requirement_id"])
    finally:
        ev.close()
    from data_access.store import Store
    snaps = Store(store).list_snapshots()
    pand = ref.progress([(r.as_of, r.path) for r in snaps.itertuples()], snaps.iloc[-1].as_of,
                        CAMPAIGN).set_index(["school_code", "requirement_id"])
    cols = ["expected", "done", "status"]
    a, b = duck[cols].sort_index().astype(str), pand[cols].sort_index().astype(str)
    assert list(a.index) == list(b.index)
    assert a.compare(b).empty, a.compare(b)
    assert (duck.loc[("Q1", "G12_INFO"), "expected"], duck.loc[("Q1", "G12_INFO"), "done"]) == (7, 6)
