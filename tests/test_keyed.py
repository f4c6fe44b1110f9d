"""One institution's rows as a slice of a city-wide result (data_access.keyed, used by the
institution page's queries): the slice is exactly what the per-institution SQL returns, for
every institution and role; the scope rule gives the same rows in SQL and in Python; and the
slicing itself keeps each key's rows in the query's order."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from data_access import queries
from data_access.access import Viewer, scope_filter, scope_rows
from data_access.keyed import KeyedFrame

ADMIN = Viewer("a", "quan_tri")
Q1 = Viewer("pgd760", "phong_gd", district_code="760")
SCHOOL = Viewer("t", "truong", school_code="79764007")
FNS = ["school_profile", "school_checklist", "school_findings_by_rule", "school_history"]


def test_slices_by_hand():
    df = pd.DataFrame({"k": ["b", "b", "a", "c", "c", "c"], "v": [2, 1, 5, 9, 8, 7]})
    kf = KeyedFrame.build(df, "k")
    assert kf.ranges == {"b": (0, 2), "a": (2, 3), "c": (3, 6)}
    assert kf.rows("c")["v"].tolist() == [9, 8, 7]          # the query's order inside a key
    assert kf.rows("b").index.tolist() == [0, 1]
    empty = kf.rows("zz")
    assert empty.empty and list(empty.columns) == ["k", "v"]
    mine = kf.rows("a")
    mine.loc[0, "v"] = 99                                   # a copy: the kept frame is unchanged
    assert kf.rows("a")["v"].tolist() == [5]
    assert KeyedFrame.build(df.iloc[:0], "k").ranges == {}
    with pytest.raises(ValueError, match="not grouped"):
        KeyedFrame.build(pd.DataFrame({"k": ["a", "b", "a"]}), "k")


@pytest.mark.parametrize("null", [None, float("nan"), pd.NA])
def test_null_keys_belong_to_no_slice(null):
    """A row whose key is NULL (an institution without a district) is in no key's slice, as
    `WHERE district_code = ?` never returns it; several such rows, wherever the query put them,
    do not break the slicing (outside review of issue 15, finding 5: they did)."""
    df = pd.DataFrame({"k": [null, "a", "a", null, "b", null], "v": [0, 1, 2, 3, 4, 5]},
                      dtype=object)
    kf = KeyedFrame.build(df.iloc[1:].reset_index(drop=True).sort_values("k", key=lambda s: s.isna(),
                                                                          kind="stable"), "k")
    assert kf.rows("a")["v"].tolist() == [1, 2] and kf.rows("b")["v"].tolist() == [4]
    kf = KeyedFrame.build(df, "k")                          # NULLs first, between and last
    assert set(kf.ranges) == {"a", "b"}
    assert kf.rows("a")["v"].tolist() == [1, 2] and kf.rows("b")["v"].tolist() == [4]
    assert kf.rows(None).empty and kf.rows(float("nan")).empty


def test_scope_rows_is_scope_filter():
    """The same rule in both forms, NULL district included (never in a district's scope)."""
    df = pd.DataFrame({"school_code": ["s1", "s2", "s3", "s4"],
                       "district_code": ["760", "764", None, "760"]})
    con = duckdb.connect()
    con.register("t", df)
    for v in (ADMIN, Q1, SCHOOL, Viewer("t1", "truong", school_code="s2"),
              Viewer("p", "phong_gd", district_code="999")):
        cond, params = scope_filter(v)
        want = con.execute(f"SELECT school_code FROM t WHERE {cond} ORDER BY school_code", params).df()
        got = scope_rows(v, df)["school_code"].tolist()
        assert got == want["school_code"].tolist(), v.role
    assert scope_rows(Q1, df)["school_code"].tolist() == ["s1", "s4"]


@pytest.fixture(scope="module")
def schools(demo_store):
    ev = queries.evaluation(None, demo_store)
    rows = ev.df("SELECT school_code, district_code FROM cur_schools ORDER BY school_code")
    # Districts 760 and 764 whole (the scoped viewers' own), every 4th other one, an unknown code.
    return [s for i, (s, d) in enumerate(zip(rows["school_code"], rows["district_code"]))
            if d in ("760", "764") or i % 4 == 0] + ["00000000"]


@pytest.mark.parametrize("viewer", [ADMIN, Q1, SCHOOL], ids=lambda v: v.role)
def test_slice_equals_the_per_school_query(demo_store, schools, viewer, monkeypatch):
    ev = queries.evaluation(None, demo_store)
    sliced = {(fn, s): getattr(queries, fn)(viewer, school_code=s, store=demo_store)
              for fn in FNS for s in schools}
    assert set(ev._keyed) >= set(FNS) and all(ev._keyed[fn] is not None for fn in FNS)
    # Above the size limit the evaluation keeps nothing and each call runs its own query.
    monkeypatch.setenv("TIENDO_KEYED_MAX_ROWS", "0")
    saved = dict(ev._keyed)
    ev._keyed.clear()
    try:
        n_nonempty = 0
        for (fn, s), got in sliced.items():
            want = getattr(queries, fn)(viewer, school_code=s, store=demo_store)
            # DuckDB picks pandas dtypes per result (an empty result's text is object; an
            # integer column with a NULL somewhere in the city is Int64, else int64): values
            # are compared, and the columns.
            if want.empty:
                assert got.empty and list(got.columns) == list(want.columns), f"{fn}({s})"
            else:
                assert_frame_equal(got, want, check_dtype=False, obj=f"{fn}({s})")
            n_nonempty += not got.empty
        assert all(ev._keyed[fn] is None for fn in FNS)
    finally:
        ev._keyed.clear()
        ev._keyed.update(saved)
    assert n_nonempty >= (3 if viewer is SCHOOL else 20)   # the comparison saw real rows


DISTRICT_FNS = ["deadline_cards", "requirement_summary", "progress_over_time", "school_matrix"]


def _district_cases(demo_store):
    ev = queries.evaluation(None, demo_store)
    ds = ev.df("SELECT DISTINCT district_code FROM cur_schools WHERE district_code IS NOT NULL "
               "ORDER BY 1")["district_code"].tolist()
    cases = []
    for d in ds + ["999"]:
        cases.append((Viewer("a", "quan_tri"), queries.Filters(district=d)))             # ?district=
        cases.append((Viewer("p", "phong_gd", district_code=d), queries.Filters()))        # the office
        cases.append((Viewer("p", "phong_gd", district_code=d), queries.Filters(district=d)))
    cases += [(Q1, queries.Filters(district="764")),                          # another district: none
              (ADMIN, queries.Filters(district="760", level_group="thpt")),   # more than a district
              (ADMIN, queries.Filters()), (SCHOOL, queries.Filters())]         # not one district
    return cases


def test_district_slices_equal_the_queries(demo_store, monkeypatch):
    """A district's views (the office's own, a city role's ?district=) are slices of the whole
    city's result by district: exactly what the query with its condition returns."""
    cases = _district_cases(demo_store)
    got = {(fn, i): getattr(queries, fn)(v, filters=f, store=demo_store)
           for fn in DISTRICT_FNS for i, (v, f) in enumerate(cases)}
    ev = queries.evaluation(None, demo_store)
    assert all(ev._keyed.get(fn) is not None for fn in DISTRICT_FNS)
    monkeypatch.setenv("TIENDO_KEYED_MAX_ROWS", "0")
    saved = dict(ev._keyed)
    prev = queries.evaluation(queries.previous_snapshot_id(None, demo_store), demo_store)
    saved_prev = dict(prev._keyed)
    ev._keyed.clear()
    prev._keyed.clear()
    try:
        nonempty = 0
        for (fn, i), df in got.items():
            v, f = cases[i]
            want = getattr(queries, fn)(v, filters=f, store=demo_store)
            label = f"{fn}({v.role}, {f})"
            if want.empty:
                assert df.empty and list(df.columns) == list(want.columns), label
            else:
                assert_frame_equal(df, want, check_dtype=False, obj=label)
                nonempty += 1
        assert ev._keyed.get("school_matrix") is None          # the limit was honoured
    finally:
        for e, keep in ((ev, saved), (prev, saved_prev)):
            e._keyed.clear()
            e._keyed.update(keep)
    assert nonempty >= len(DISTRICT_FNS) * 20
    assert got[("school_matrix", len(cases) - 4)].empty        # phong_gd 760 asking for 764


def test_district_list_slices_equal_the_query(demo_store, monkeypatch):
    """queries.districts for a district office is its district's slice (one row); other roles
    run the query. Both give what the query with its scope condition gives."""
    ev = queries.evaluation(None, demo_store)
    ds = ev.df("SELECT district_code FROM ref_districts ORDER BY 1")["district_code"].tolist()
    viewers = [Viewer("p", "phong_gd", district_code=d) for d in ds] + [ADMIN, SCHOOL]
    got = [queries.districts(v, store=demo_store) for v in viewers]
    assert ev._keyed.get("districts") is not None
    monkeypatch.setenv("TIENDO_KEYED_MAX_ROWS", "0")
    saved = dict(ev._keyed)
    ev._keyed.clear()
    try:
        for v, df in zip(viewers, got):
            assert_frame_equal(df, queries.districts(v, store=demo_store), check_dtype=False,
                               obj=f"districts({v.role} {v.district_code})")
    finally:
        ev._keyed.clear()
        ev._keyed.update(saved)
    assert [len(df) for df in got[:-2]] == [1] * len(ds) and len(got[-2]) == len(ds)
