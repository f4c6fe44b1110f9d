"""AppTest of the page «Mức độ đầy đủ dữ liệu» for each role that has it (leadership, KHTC, a
district office in its scope); the school role does not have it (tests/test_access.py). The
numbers shown are the API's (data_access.completeness), formatted 1.234,5 %."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access import completeness as cmp
from data_access import formatting as fmt
from data_access.access import Viewer
from data_access.current_user import set_viewer
from data_access.evaluate import evaluate
from tests.snapshot_factory import import_sample

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/completeness.py"
VIEWERS = {"lanh_dao": Viewer("ld", "lanh_dao"), "khtc": Viewer("kh", "khtc"),
           "phong_gd": Viewer("pgd", "phong_gd", district_code="760")}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return import_sample(tmp_path_factory.mktemp("cmp_page") / "store")


@pytest.fixture(scope="module")
def ev(store):
    e = evaluate(store)
    yield e
    e.close()


@pytest.fixture(autouse=True)
def _reset_viewer():
    yield
    set_viewer(None)


def _app(store, monkeypatch, viewer, **params) -> AppTest:
    monkeypatch.setenv("TIENDO_STORE", str(store))
    set_viewer(viewer)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE)
    if params:
        at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _array(v):
    """A plotly JSON array: a list, or a typed array {dtype, bdata (base64), shape} (plotly ≥ 6)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        import numpy as np
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        shape = [int(n) for n in str(v.get("shape", len(a))).split(",")]
        return [[None if x != x else float(x) for x in row] for row in a.reshape(shape)]
    return v


FIRST_COLUMN = {"cmp_districts": "unit", "cmp_grid": "school_code", "cmp_gaps": "domain_name"}


def _frame(at, key):
    """The table shown under ``key`` (AppTest does not expose a dataframe's key: its first column)."""
    found = [d.value for d in at.dataframe if list(d.value.columns)[:1] == [FIRST_COLUMN[key]]]
    return found[0] if found else None


@pytest.mark.parametrize("role", list(VIEWERS))
def test_page_shows_the_api_numbers_in_scope(store, ev, monkeypatch, role):
    viewer = VIEWERS[role]
    at = _app(store, monkeypatch, viewer)
    assert at.title[0].value == "Mức độ đầy đủ dữ liệu"
    by = "district" if role == "phong_gd" else "city"
    head = cmp.table_at(ev, viewer, by).iloc[0]
    label, value = at.metric[0].label, at.metric[0].value
    assert value == fmt.percent(head["index"]) and "," in value          # 96,8 %: Vietnamese decimals
    assert label.endswith("Quận 1" if role == "phong_gd" else "Toàn thành phố")
    grid = _frame(at, "cmp_grid")
    expected = cmp.grid_at(ev, viewer)
    assert sorted(grid["school_code"]) == sorted(expected["school_code"])
    if role == "phong_gd":
        assert set(expected["district_code"]) == {"760"} and _frame(at, "cmp_districts") is None
    else:
        assert len(_frame(at, "cmp_districts")) == 22
    # the table: numbers (sortable), a no-source domain in words, never 0 %
    assert (grid["programme"] == cmp.NO_SOURCE_TEXT).all()
    exp = expected.set_index("school_code")
    shown = grid.set_index("school_code")
    for d in ("institution", "classes", "staff", "students", "results", "conduct", "facilities", "index"):
        assert shown[d].astype("float64").round(1).equals(exp.loc[shown.index, d].astype("float64").round(1)), d
    no_g12 = list(expected[expected["results"].isna()]["school_code"])
    assert no_g12 and shown.loc[no_g12, "results"].isna().all()            # empty, not 0
    assert shown.loc[no_g12, "not_applicable"].str.contains("Kết quả học tập").all()
    worst = grid.iloc[0]                            # weakest first
    first = expected.sort_values(["index", "school_code"]).iloc[0]
    assert (worst["school_code"], worst["index"]) == (first["school_code"], first["index"])
    # the heatmap: one colour scale, hover text 1.234,5 % or the reason in words
    specs = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    heat = next(t for f in specs for t in f["data"] if t["type"] == "heatmap")
    assert heat["zmin"] == 0 and heat["zmax"] == 100 and heat["y"] == list(grid["school_code"])
    x = {name: i for i, name in enumerate(heat["x"])}
    heat["z"] = _array(heat["z"])
    names = dict(zip(cmp.domain_table()["domain"], cmp.domain_table()["name"]))
    for r, code in enumerate(heat["y"]):
        for d in ("staff", "results", "programme", "index"):
            v, text, z = exp.at[code, d], heat["text"][r][x[names[d]]], heat["z"][r][x[names[d]]]
            if d == "programme":
                assert text == cmp.NO_SOURCE_TEXT and z is None
            elif v != v or v is None:
                assert text == cmp.NOT_APPLICABLE_TEXT and z is None
            else:
                assert text == fmt.percent(v) and z == pytest.approx(v) and "," in text
    assert "0,0 %" not in {heat["text"][r][x[names["programme"]]] for r in range(len(heat["y"]))}
    assert sum(1 for f in specs for t in f["data"] if t["type"] == "scatter") == 2


def test_drill_down_lists_what_is_missing(store, ev, monkeypatch):
    viewer = VIEWERS["khtc"]
    g = cmp.grid_at(ev, viewer)
    code = g.sort_values(["index", "school_code"]).iloc[0]["school_code"]
    at = _app(store, monkeypatch, viewer, school=code)
    shown = _frame(at, "cmp_gaps")
    gaps = cmp.gaps_at(ev, viewer, code)
    assert len(gaps) > 0 and list(shown["gap"]) == list(gaps["gap"])
    assert at.selectbox(key="cmp_school").value == code


def test_district_office_cannot_open_another_district_school(store, ev, monkeypatch):
    other = cmp.grid_at(ev, VIEWERS["khtc"])
    code = other[other["district_code"] != "760"].iloc[0]["school_code"]
    at = _app(store, monkeypatch, VIEWERS["phong_gd"], school=code)
    assert any("ngoài phạm vi" in w.value for w in at.warning)
    assert at.selectbox(key="cmp_school").value != code
    assert set(cmp.grid_at(ev, VIEWERS["phong_gd"])["school_code"]) >= {at.selectbox(key="cmp_school").value}


def test_not_applicable_cells_of_the_numbers_table_say_so(store, ev, monkeypatch):
    """The numbers table's not-applicable cells (results, conduct at a school without grade 12)
    are missing numbers, which Streamlit draws as «None». The table draws them «Không áp dụng»,
    the page's word for them (heatmap, district table, caption); the values stay numbers."""
    at = _app(store, monkeypatch, VIEWERS["khtc"])
    el = next(d for d in at.dataframe if list(d.value.columns)[:1] == ["school_code"])
    assert el.proto.placeholder == cmp.NOT_APPLICABLE_TEXT
    grid = el.value
    assert grid["results"].isna().any() and str(grid["results"].dtype).startswith("float")
    # every missing cell of the table is a not-applicable one (no other cell reads «Không áp dụng»)
    na = grid.drop(columns=["not_applicable"]).isna()
    assert set(na.columns[na.any()]) <= {"results", "conduct"}
    assert all(cmp.domain_table().set_index("domain").loc[d, "name"] in t
               for d in ("results",) for t, miss in zip(grid["not_applicable"], na["results"]) if miss)
