"""An institution present in an earlier snapshot and missing from the evaluated one (a school
closed or merged; outside review of issue 15, findings 5 and 6). The series over time are over
the institutions of the evaluated snapshot, with their district there (RULES.md «Roll-ups»):
the closed school is in no point of any series, at any scope, so the city's series is the sum
of its districts'. Before the fix every page of a district office crashed (the history rows of
the closed school had no district and the per-district slicing refused them) and the city's
series counted the school while no district did."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access import completeness as cmp
from data_access import queries
from data_access.access import Viewer
from data_access.current_user import set_viewer
from navigation import PAGES as NAV_PAGES, ROLE_PAGES
from tests.snapshot_factory import school, student, write_store

ROOT = Path(__file__).resolve().parent.parent
EARLY, LATE = "2022-04-20T17:00:00+07:00", "2022-04-27T17:00:00+07:00"
LANH_DAO, KHTC = Viewer("l", "lanh_dao"), Viewer("k", "khtc")
Q760, Q774 = Viewer("p", "phong_gd", district_code="760"), Viewer("p", "phong_gd", district_code="774")


def _tables(with_z: bool) -> dict:
    """A1 (760) and B1 (774) in both snapshots; Z1 (774) only in the early one, where its
    grade-12 student's information is complete (G12_INFO done there)."""
    codes = ["A1", "B1"] + (["Z1"] if with_z else [])
    return {
        "schools": [school(c, "THPT", "760" if c == "A1" else "774",
                           principal="Nguyễn Văn Hiệu", phone="0901234567", email=f"{c}@example.edu.vn")
                    for c in codes],
        "students": [student(f"HS{c}", school_code=c) for c in codes],
        "classes": [{"school_code": c, "class_code": f"{c}.12", "grade": "12", "class_name": "12A1"}
                    for c in codes],
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return write_store(tmp_path_factory.mktemp("closed") / "store",
                       [(EARLY, _tables(True)), (LATE, _tables(False))])


@pytest.fixture(autouse=True)
def _reset_viewer():
    yield
    set_viewer(None)


def _at(df, as_of, req="G12_INFO"):
    return df[(df["as_of"].astype(str).str.startswith(as_of[:10])) & (df["requirement_id"] == req)]


@pytest.mark.parametrize("viewer, want", [(LANH_DAO, 2), (KHTC, 2), (Q760, 1), (Q774, 1)])
def test_progress_over_time_is_over_the_evaluated_snapshots_institutions(store, viewer, want):
    df = queries.progress_over_time(viewer, store=store)
    for as_of in (EARLY, LATE):
        r = _at(df, as_of)
        assert len(r) == 1 and int(r["units_expected"].iloc[0]) == want, (viewer.role, as_of, r)
    # Z1 (done at the early snapshot) is not counted: A1 and B1 were done there too, so 100 %
    assert float(_at(df, EARLY)["completion_rate"].iloc[0]) == 100.0


def test_city_series_is_the_sum_of_the_districts(store):
    city = queries.progress_over_time(LANH_DAO, store=store)
    d = [queries.progress_over_time(v, store=store) for v in (Q760, Q774)]
    keys = ["as_of", "requirement_id"]
    summed = (d[0].set_index(keys)[["units_expected", "units_done"]]
              .add(d[1].set_index(keys)[["units_expected", "units_done"]], fill_value=0))
    got = city.set_index(keys)[["units_expected", "units_done"]]
    assert (got.sort_index() == summed.sort_index().astype(got.dtypes.iloc[0])).all().all()
    # the per-district shortcut (a slice of the city's result) and the plain query agree
    f = queries.Filters(district="774")
    assert queries.progress_over_time(LANH_DAO, filters=f, store=store)["units_expected"].tolist() \
        == queries.progress_over_time(Q774, store=store)["units_expected"].tolist()


@pytest.mark.parametrize("viewer", [LANH_DAO, KHTC, Q760, Q774])
def test_completeness_over_time_city_equals_districts(store, viewer):
    city = cmp.over_time(viewer, by="city", store=store)
    dist = cmp.over_time(viewer, by="district", store=store)
    assert dist["unit"].notna().all(), dist[dist["unit"].isna()]
    ci, di = city[city["domain"] == "index"], dist[dist["domain"] == "index"]
    assert len(ci) == 2
    for as_of, units in zip(ci["as_of"], ci["units"]):
        assert int(di[di["as_of"] == as_of]["units"].sum()) == int(units), (viewer.role, as_of)
    want = 2 if viewer.role in ("lanh_dao", "khtc") else 1
    assert ci["units"].tolist() == [want, want]


def _page_app(store: Path, monkeypatch, viewer: Viewer, page: str) -> AppTest:
    monkeypatch.setenv("TIENDO_STORE", str(store))
    set_viewer(viewer)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.run()
    if page != "overview":
        at.switch_page(NAV_PAGES[page].file)
        at.run()
    return at


@pytest.mark.parametrize("viewer, page", [(Q774, p) for p in ROLE_PAGES["phong_gd"]]
                         + [(Q760, "overview"), (LANH_DAO, "overview"), (KHTC, "overview")])
def test_pages_run_with_a_closed_institution(store, monkeypatch, viewer, page):
    at = _page_app(store, monkeypatch, viewer, page)
    assert not at.exception, [e.message for e in at.exception]
    assert not [e.value for e in at.error if "Đã xảy ra lỗi" in e.value]
    assert at.title
