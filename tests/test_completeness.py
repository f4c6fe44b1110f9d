"""Completeness index (RULES.md "Completeness index"): each domain measure hand-computed on a
small extract, the index, the roll-ups, the drill-down and the viewer's scope; the pandas
reference gives the same numbers."""
from __future__ import annotations

import pytest

from data_access import completeness as cmp
from data_access.access import SYSTEM, Viewer
from data_access.campaign import load_campaign
from data_access.evaluate import evaluate
from data_access.store import Store
from tests import reference_pandas as ref
from tests.snapshot_factory import results_rows, school, student, write_store

EARLY = ((10, "HK1"), (10, "HK2"), (10, "CN"), (11, "HK1"), (11, "HK2"), (11, "CN"), (12, "HK1"))


def _tables() -> dict:
    """S1 (THPT, Quận 1) incomplete in every domain in a known way; S2 (TH, Quận 12) nearly empty."""
    _, s1 = results_rows("HS1", EARLY + ((12, "HK2"),))          # all ended terms + a not-ended one
    _, s2 = results_rows("HS2", EARLY[:6])                        # 12 HK1 missing
    _, s6 = results_rows("HS6", EARLY)
    for r in s6:
        if (r["grade"], r["term"]) == ("10", "HK1"):
            r["academic_rank"] = None                             # results gap, conduct fine
        if (r["grade"], r["term"]) == ("11", "CN"):
            r["conduct"] = None                                   # conduct gap
        if (r["grade"], r["term"]) == ("12", "HK1"):
            r["conduct"] = None
    return {
        "schools": [school("S1", "THPT", "760", principal="Nguyễn Văn Hiệu", phone="0901234567"),
                    school("S2", "XYZ", "761", principal="Trần Thị Bình", phone="0907654321",
                           email="khong-co-email", ownership="Tư thục")],
        "classes": [{"school_code": "S1", "class_code": "S1.12.01", "grade": "12", "class_name": "12A1"},
                    {"school_code": "S1", "class_code": "S1.11.01", "grade": "11", "class_name": "11A1"}],
        "students": [
            student("HS1"),
            student("HS2", class_name="12A2"),
            student("HS3", grade="11", class_name="11A1", birth="15/03/2005", id_number=None),
            student("HS4", grade="10", class_name="10A1", birth="15/03/2006", ethnicity="Kinhh", id_number=None),
            student("HS5", class_name="12A9", status="Đã chuyển trường"),
            student("HS6", gender="nam", cccd="079204000006"),
        ],
        "staff": [
            {"staff_id": "CB1", "school_code": "S1", "full_name": "Lê Văn A", "position": "CBQL", "qualification": "Thạc sĩ"},
            {"staff_id": "CB2", "school_code": "S1", "full_name": "Lê Văn B", "position": "Giáo viên"},
            {"staff_id": "CB3", "school_code": "S1", "full_name": "Lê Văn C", "position": "Bảo vệ", "qualification": "Trung cấp"},
            {"staff_id": "CB4", "school_code": "S1", "full_name": "Lê Văn D", "position": "Giáo viên", "qualification": "Đại học"},
        ],
        "term_summaries": s1 + s2 + s6,
        "rooms": [
            {"school_code": "S1", "room_code": "P1", "room_type": "Phòng học", "level": "THPT"},
            {"school_code": "S1", "room_code": "P2", "room_type": "Phòng học", "level": None},
            {"school_code": "S1", "room_code": "P3", "room_type": "Phòng học", "level": "THPT"},
            {"school_code": "S1", "room_code": "P3", "room_type": "Phòng học", "level": "THCS"},
            {"school_code": "S1", "room_code": "P4", "room_type": "Phòng học", "level": "thpt "},
            {"school_code": "S1", "room_code": "P4", "room_type": "Phòng học", "level": "THPT"},
        ],
    }


APRIL, JUNE = "2022-04-27T17:00:00+07:00", "2022-06-15T17:00:00+07:00"
# Hand-computed (RULES.md): percent = round1(100 × ok / items), index = round1 mean of measured.
S1_APRIL = {"institution": (5, 4, 80.0),       # e-mail missing
            "classes": (7, 4, 57.1),           # 12A1 11A1 | 12A2 10A1 missing; grades 12 11 | 10 missing
            "staff": (6, 4, 66.7),             # CB1 CB4 + CBQL, Giáo viên | CB2 no qualification, CB3 'Bảo vệ'
            "students": (5, 3, 60.0),          # HS1 HS2 HS3 (no ID: optional) | HS4 ethnicity, HS6 gender
            "results": (21, 19, 90.5),         # 3 × 7 ended terms | HS2 12 HK1, HS6 10 HK1 rank
            "conduct": (21, 18, 85.7),         # | HS2 12 HK1, HS6 11 CN and 12 HK1
            "facilities": (4, 2, 50.0)}        # P1 P4 | P2 no level, P3 two levels
S2_APRIL = {"institution": (5, 2, 40.0),       # e-mail malformed, levels unreadable, ownership unknown
            "classes": (1, 0, 0.0), "staff": (2, 0, 0.0), "students": (1, 0, 0.0),
            "facilities": (1, 0, 0.0)}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp") / "store"
    return write_store(root, [(APRIL, _tables()), (JUNE, _tables())])


@pytest.fixture(scope="module")
def ev_april(store):
    ev = evaluate(store, APRIL, load_campaign())
    yield ev
    ev.close()


@pytest.fixture(scope="module")
def ev_june(store):
    ev = evaluate(store, JUNE, load_campaign())
    yield ev
    ev.close()


def _measures(ev, code):
    u = cmp.units_at(ev, SYSTEM)
    u = u[u["school_code"] == code].set_index("domain")
    return u


@pytest.mark.parametrize("code, expected", [("S1", S1_APRIL), ("S2", S2_APRIL)])
def test_each_domain_hand_computed(ev_april, code, expected):
    u = _measures(ev_april, code)
    for dom, (items, ok, pct) in expected.items():
        assert (u.at[dom, "items"], u.at[dom, "items_ok"], u.at[dom, "percent"]) == (items, ok, pct), dom
        assert u.at[dom, "availability"] == "measured"
    assert u.at["programme", "availability"] == "no_source" and u.at["programme", "percent"] != u.at["programme", "percent"]


def test_index_is_the_mean_of_measured_domains(ev_april):
    s1, s2 = _measures(ev_april, "S1"), _measures(ev_april, "S2")
    # S1: (80.0 + 57.1 + 66.7 + 60.0 + 90.5 + 85.7 + 50.0) / 7 = 70.0
    assert (s1.at["index", "percent"], s1.at["index", "domains_measured"]) == (70.0, 7)
    # S2 has no grade-12 population: results and conduct not applicable, 40.0 / 5 = 8.0
    assert s2.at["results", "availability"] == s2.at["conduct", "availability"] == "not_applicable"
    assert (s2.at["index", "percent"], s2.at["index", "domains_measured"]) == (8.0, 5)


def test_terms_ended_after_as_of_count_later(ev_june):
    """At 15/06 grade-12 HK2 and CN have ended (31/05): 3 × 9 items; HS1 has HK2 only."""
    u = _measures(ev_june, "S1")
    assert (u.at["results", "items"], u.at["results", "items_ok"], u.at["results", "percent"]) == (27, 20, 74.1)
    assert (u.at["conduct", "items"], u.at["conduct", "items_ok"], u.at["conduct", "percent"]) == (27, 19, 70.4)


def test_rollups_city_district_and_over_time(ev_june):
    city = cmp.table_at(ev_june, SYSTEM, "city").iloc[0]
    assert (city["institutions"], city["institution"], city["results"]) == (2, 60.0, 74.1)
    # index: S1 (80.0+57.1+66.7+60.0+74.1+70.4+50.0)/7 = 65.5, S2 8.0 -> 36.8 (tenths: (655+80)/2 = 367.5 -> 368)
    assert city["index"] == 36.8
    dist = cmp.table_at(ev_june, SYSTEM, "district").set_index("unit")
    assert dist.at["760", "index"] == 65.5 and dist.at["761", "index"] == 8.0
    hist = cmp.over_time_at(ev_june, SYSTEM, "city")
    idx = hist[hist["domain"] == "index"].sort_values("as_of")
    assert list(idx["percent"]) == [39.0, 36.8]       # April: (700 + 80) / 2


def test_drill_down_names_what_is_missing(ev_april):
    g = cmp.gaps_at(ev_april, SYSTEM, "S1")
    rows = {(r.domain, r.gap): (r.n, r.examples) for r in g.itertuples()}
    assert rows[("classes", "Lớp có học sinh nhưng không có trong danh sách lớp (tệp lop)")] == (2, "Lớp 10A1, Lớp 12A2")
    assert rows[("institution", "Thiếu Email (tệp truong, cột Email)")] == (1, "email")
    assert rows[("facilities", "Phòng chưa khai cấp học (tệp phong_hoc, cột Cấp học)")] == (1, "Phòng P2")
    assert rows[("staff", "Cán bộ thiếu trình độ (tệp can_bo, cột Trình độ)")] == (1, "Cán bộ CB2")
    assert rows[("results", "Thiếu tổng kết lớp 12, học kỳ I (tệp tong_ket)")] == (1, "HS2|12|HK1")
    assert sum(n for (d, _), (n, _) in rows.items() if d == "students") == 2   # HS4 and HS6


def test_scope(ev_april):
    office = Viewer("pgd", "phong_gd", district_code="760")
    assert list(cmp.grid_at(ev_april, office)["school_code"]) == ["S1"]
    assert cmp.table_at(ev_april, office, "city").iloc[0]["index"] == 70.0   # its scope only
    school2 = Viewer("t2", "truong", school_code="S2")
    assert list(cmp.grid_at(ev_april, school2)["school_code"]) == ["S2"]
    assert cmp.gaps_at(ev_april, school2, "S1").empty
    assert cmp.over_time_at(ev_april, school2, "institution", "S1").empty


@pytest.mark.parametrize("as_of", [APRIL, JUNE])
def test_pandas_reference_gives_the_same(store, as_of):
    snap = Store(store).list_snapshots()
    path = snap[snap["as_of"] == snap["as_of"].min() if as_of == APRIL else snap["as_of"] == snap["as_of"].max()].iloc[0].path
    p = ref.completeness(ref.load_snapshot(path), load_campaign(), cmp.load_definitions()).set_index(["school_code", "domain"])
    ev = evaluate(store, as_of, load_campaign())
    try:
        d = cmp.units_at(ev, SYSTEM).set_index(["school_code", "domain"])
    finally:
        ev.close()
    assert p.at[("S1", "index"), "percent_t"] == d.at[("S1", "index"), "percent"] * 10
    assert sorted(d.index) == sorted(p.index)
    for key in d.index:
        a, b = d.loc[key], p.loc[key]
        assert a["availability"] == b["availability"], key
        if a["availability"] == "measured":
            assert round(float(a["percent"]) * 10) == b["percent_t"], key
        if key[1] != "index":
            assert int(a["items"]) == int(b["items"]) and int(a["items_ok"]) == int(b["items_ok"]), key


def test_status_workbook_sheet_has_the_same_numbers(ev_april):
    import io

    from openpyxl import load_workbook

    from exports import status_workbook
    data, _ = status_workbook.workbook_bytes(ev_april, SYSTEM)
    ws = load_workbook(io.BytesIO(data))["Mức độ đầy đủ dữ liệu"]
    header = [c.value for c in ws[4]]
    assert header == ["Cấp", "Mã", "Tên đơn vị", "Số trường", "Thông tin trường", "Lớp học",
                      "Cán bộ, giáo viên, nhân viên", "Học sinh", "Kết quả học tập", "Hạnh kiểm",
                      "Chương trình giáo dục", "Cơ sở vật chất", "Chỉ số chung"]
    rows = {(r[0], r[1]): r for r in ws.iter_rows(min_row=5, values_only=True)}
    assert rows[("Thành phố", None)][3:] == (2, 60, 28.6, 33.4, 30, 90.5, 85.7, "Chưa có nguồn dữ liệu", 25, 39)
    assert rows[("Trường", "S1")][4:] == (80, 57.1, 66.7, 60, 90.5, 85.7, "Chưa có nguồn dữ liệu", 50, 70)
    assert rows[("Trường", "S2")][8:10] == ("Không áp dụng", "Không áp dụng")
    assert ws.cell(6, 5).number_format == "0.0"
    # a district office's workbook holds its district only
    data, _ = status_workbook.workbook_bytes(ev_april, Viewer("pgd", "phong_gd", district_code="760"))
    ws = load_workbook(io.BytesIO(data))["Mức độ đầy đủ dữ liệu"]
    assert [r[1] for r in ws.iter_rows(min_row=5, values_only=True)] == ["760", "S1"]


def test_a_domain_whose_file_the_extract_lacks_is_not_measured(tmp_path):
    """Outside review of issue 15, finding 2: no lop / can_bo / phong_hoc file in the snapshot
    means no source for classes / staff / facilities there (NULL, «Chưa có nguồn dữ liệu»), not
    0 % at every school; the index averages the measured domains only. A file present without
    rows of a school stays 0 % for it (test_each_domain_hand_computed, S2)."""
    t = _tables()
    for k in ("classes", "staff", "rooms"):
        t.pop(k)
    t["_absent"] = ["classes", "staff", "rooms"]
    root = write_store(tmp_path / "store", [(APRIL, t)])
    ev = evaluate(root, APRIL, load_campaign())
    try:
        s1, s2 = _measures(ev, "S1"), _measures(ev, "S2")
        no_source = cmp.no_source_at(ev)
        texts = cmp.cell_texts(cmp.grid_at(ev, SYSTEM)[["classes", "staff", "facilities", "students"]],
                               no_source=no_source)
        from exports.completeness_sheet import completeness_frame
        sheet = completeness_frame(ev, SYSTEM)
    finally:
        ev.close()
    assert no_source == {"programme", "classes", "staff", "facilities"}
    assert set(texts[["classes", "staff", "facilities"]].to_numpy().ravel()) == {cmp.NO_SOURCE_TEXT}
    assert set(sheet["Lớp học"]) == {cmp.NO_SOURCE_TEXT}
    for u in (s1, s2):
        for dom in ("classes", "staff", "facilities"):
            assert u.at[dom, "availability"] == "no_source", dom
            assert u.at[dom, "percent"] != u.at[dom, "percent"], dom      # NULL, not 0 %
    # S1: (80.0 + 60.0 + 90.5 + 85.7) / 4: tenths 3162 / 4 = 790.5 -> 79.1
    assert (s1.at["index", "percent"], s1.at["index", "domains_measured"]) == (79.1, 4)
    # S2: institution 40.0 and students 0.0 only: 20.0 over 2
    assert (s2.at["index", "percent"], s2.at["index", "domains_measured"]) == (20.0, 2)
    # the pandas reference says the same
    path = Store(root).list_snapshots().iloc[0].path
    p = ref.completeness(ref.load_snapshot(path), load_campaign(), cmp.load_definitions()).set_index(["school_code", "domain"])
    assert p.at[("S1", "classes"), "availability"] == "no_source"
    assert p.at[("S1", "index"), "percent_t"] == 791 and p.at[("S2", "index"), "percent_t"] == 200


def test_no_term_summary_file_means_results_and_conduct_have_no_source(tmp_path):
    """The same for tong_ket (optional file): without it results and conduct are not measured in
    that snapshot, never 0 % at every school (left after the outside review's fix)."""
    t = _tables()
    t.pop("term_summaries")
    t["_absent"] = ["term_summaries"]
    root = write_store(tmp_path / "store", [(APRIL, t)])
    ev = evaluate(root, APRIL, load_campaign())
    try:
        s1, s2 = _measures(ev, "S1"), _measures(ev, "S2")
        no_source = cmp.no_source_at(ev)
    finally:
        ev.close()
    assert no_source == {"programme", "results", "conduct"}
    for dom in ("results", "conduct"):
        assert s1.at[dom, "availability"] == "no_source" and s1.at[dom, "percent"] != s1.at[dom, "percent"]
    # S1: (80.0 + 57.1 + 66.7 + 60.0 + 50.0) / 5: tenths 3138 / 5 = 627.6 -> 62.8
    assert (s1.at["index", "percent"], s1.at["index", "domains_measured"]) == (62.8, 5)
    assert (s2.at["index", "percent"], s2.at["index", "domains_measured"]) == (8.0, 5)   # unchanged
    path = Store(root).list_snapshots().iloc[0].path
    p = ref.completeness(ref.load_snapshot(path), load_campaign(), cmp.load_definitions()).set_index(["school_code", "domain"])
    assert p.at[("S1", "results"), "availability"] == "no_source"
    assert p.at[("S1", "index"), "percent_t"] == 628
