"""Access control in the data-access layer and the pages: for each role the query API returns
only in-scope rows (asking for another district or school directly gives nothing or is
refused), the navigation holds only the role's pages, pages and exports (CSV, XLSX) mask
personal values unless the role may see them, and opening one record unmasked is audited."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

import navigation
from data_access import ops, planning, queries
from data_access.access import SYSTEM, Viewer, mask_address, mask_birth_date, mask_id
from data_access.current_user import set_viewer
from exports import csv_export, status_workbook

ROOT = Path(__file__).resolve().parent.parent
ADMIN = Viewer("a", "quan_tri")
LEADER = Viewer("l", "lanh_dao")
KHTC = Viewer("k", "khtc")
Q1 = Viewer("pgd760", "phong_gd", district_code="760")
Q3 = Viewer("pgd764", "phong_gd", district_code="764")
THPT = "79764007"          # a THPT school of district 764 (the demo school account's)
OTHER_THPT = "79764008"    # another school of the same district
Q1_SCHOOL = "79760008"     # a primary school of district 760

# Query functions over many institutions: (name, extra kwargs).
LIST_FNS = ["requirement_summary", "deadline_cards", "progress_over_time", "at_risk_units",
            "worst_districts", "worst_schools", "district_matrix", "school_matrix", "report_matrix",
            "report_counts_by_district", "findings_summary", "findings_by", "schools_most_errors",
            "filled_vs_valid"]
SCHOOL_FNS = ["school_profile", "school_checklist", "school_findings_by_rule", "students_not_done",
              "school_history"]


@pytest.fixture(scope="module")
def store(demo_store, tmp_path_factory):
    """A copy of the demo store (this module writes audit lines and follow-ups)."""
    root = tmp_path_factory.mktemp("access") / "store"
    shutil.copytree(demo_store, root, ignore=shutil.ignore_patterns("ops.sqlite*", "tmp"))
    return root


AS_OF = "2022-04-27T17:00"   # the demo school still has grade-12 students to fix then


@pytest.fixture(scope="module")
def sid(store):
    snaps = queries.snapshots(store)
    return snaps[snaps["snapshot_id"].str.startswith("20220427T1700")]["snapshot_id"].iloc[0]


@pytest.fixture(autouse=True)
def _reset_viewer():
    yield
    set_viewer(None)


def call(name, viewer, store, **kw):
    fn = getattr(queries, name)
    if name == "findings_by":
        kw.setdefault("by", "district")
    if name == "rule_records":
        kw.setdefault("rule_id", "MISSING_FIELD")
    return fn(viewer, store=store, **kw)


def in_scope(df: pd.DataFrame, viewer: Viewer) -> bool:
    if viewer.role == "phong_gd" and "district_code" in df.columns:
        if not set(df["district_code"].dropna()) <= {viewer.district_code}:
            return False
    if viewer.role == "truong" and "school_code" in df.columns:
        if not set(df["school_code"].dropna()) <= {viewer.school_code}:
            return False
    return True


# ---- the query API, role by role -------------------------------------------------------------

@pytest.mark.parametrize("viewer", [Q1, Q3, Viewer("t", "truong", school_code=THPT)],
                         ids=["phong_gd-760", "phong_gd-764", "truong"])
def test_query_api_returns_only_in_scope_rows(store, viewer):
    for name in LIST_FNS + ["rule_records", "search_schools", "districts", "district_completion"]:
        kw = {"text": ""} if name == "search_schools" else {}
        df = call(name, viewer, store, **kw)
        assert in_scope(df, viewer), name
    # what the district office sees equals the administrator's view of that district
    own = queries.school_matrix(ADMIN, store=store, filters=queries.Filters(
        district=viewer.district_code or "764"))
    if viewer.role == "phong_gd":
        assert set(queries.school_matrix(viewer, store=store)["school_code"]) == set(own["school_code"])
    else:
        assert set(queries.school_matrix(viewer, store=store)["school_code"]) == {THPT}


@pytest.mark.parametrize("viewer,other_district,other_school", [
    (Q1, "764", THPT), (Q3, "760", Q1_SCHOOL),
    (Viewer("t", "truong", school_code=THPT), "760", OTHER_THPT)],
    ids=["phong_gd-760", "phong_gd-764", "truong"])
def test_asking_for_another_district_or_school_gives_nothing(store, viewer, other_district, other_school):
    f = queries.Filters(district=other_district)
    for name in LIST_FNS + ["rule_records"]:
        df = call(name, viewer, store, filters=f)
        assert df.empty, f"{name} returned rows of district {other_district}"
    assert queries.search_schools(viewer, other_school, store=store).empty
    for name in SCHOOL_FNS:
        assert call(name, viewer, store, school_code=other_school).empty, name
    with pytest.raises(PermissionError):
        queries.student_record(viewer, other_school, "X", store=store)
    ev = queries.evaluation(None, store)
    assert planning.laggards(ev, viewer, store, planning.LaggardFilter(districts=[other_district])).empty
    assert planning.gaps(ev, viewer, [other_school]).empty
    with pytest.raises(LookupError):
        planning.reminder_email(ev, viewer, other_school)
    # exports: another district is refused, another school is not found in scope
    with pytest.raises((PermissionError, LookupError)):
        status_workbook.build_workbook(ev, viewer, store, school=other_school)
    if viewer.role == "phong_gd":
        with pytest.raises(PermissionError):
            status_workbook.build_workbook(ev, viewer, store, district=other_district)
        table = csv_export.build_table(ev, viewer, "trang-thai", store)
        assert set(table.df["Quận/huyện"]) <= set(
            queries.districts(viewer, store=store)["district_name"])


def test_follow_ups_and_register_are_scoped(store):
    ops.add_follow_up(store, KHTC, THPT, "28/04/2022", "điện thoại", note="gọi hiệu trưởng")
    assert list(ops.list_follow_ups(store, Q3)["school_code"]) == [THPT]
    assert ops.list_follow_ups(store, Q1).empty
    assert ops.list_follow_ups(store, Viewer("t", "truong", school_code=OTHER_THPT)).empty
    with pytest.raises(ops.OpsError):
        ops.add_follow_up(store, Q1, THPT, "28/04/2022", "điện thoại")


def test_city_roles_see_the_whole_city_masked_except_on_open(store, sid):
    for v in (LEADER, KHTC):
        assert set(queries.district_completion(v, store=store)["district_code"]) == \
               set(queries.district_completion(ADMIN, store=store)["district_code"])
    plain = queries.students_not_done(ADMIN, THPT, sid, store=store)
    assert len(plain) and plain["id_number"].notna().any()
    for v in (LEADER, KHTC, Q3):
        m = queries.students_not_done(v, THPT, sid, store=store)
        assert list(m["student_id"]) == list(plain["student_id"])
        assert list(m["id_number"]) == [mask_id(x) for x in plain["id_number"]]
        assert list(m["birth_date"]) == [mask_birth_date(x) for x in plain["birth_date"]]
        assert list(m["permanent_address"]) == [mask_address(x) for x in plain["permanent_address"]]
    own = queries.students_not_done(Viewer("t", "truong", school_code=THPT), THPT, sid, store=store)
    assert own.equals(plain)


def test_opening_one_record_is_allowed_to_khtc_and_audited(store, sid):
    plain = queries.students_not_done(ADMIN, THPT, sid, store=store)
    sid = plain["student_id"].iloc[0]
    before = len(ops.list_audit(store, SYSTEM, action="personal.open"))
    rec = queries.student_record(KHTC, THPT, sid, store=store)
    assert rec["id_number"] == plain["id_number"].iloc[0] and "•" not in str(rec["birth_date"])
    log = ops.list_audit(store, SYSTEM, action="personal.open")
    assert len(log) == before + 1
    assert (log.loc[0, "username"], log.loc[0, "object"], log.loc[0, "scope"]) == ("k", f"hoc_sinh:{sid}",
                                                                                  f"truong:{THPT}")
    for v in (LEADER, Q3):
        with pytest.raises(PermissionError):
            queries.student_record(v, THPT, sid, store=store)
    assert len(ops.list_audit(store, SYSTEM, action="personal.open")) == before + 1


# ---- exports: the same masking -------------------------------------------------------------

def test_exports_mask_like_the_pages(store, sid):
    ev = queries.evaluation(sid, store)
    plain = queries.students_not_done(ADMIN, THPT, sid, store=store)
    ids = [x for x in plain["id_number"] if isinstance(x, str) and len(x) > 6]
    assert ids
    for v, masked in ((KHTC, True), (Q3, True), (Viewer("t", "truong", school_code=THPT), False)):
        data, rows = csv_export.csv_bytes(ev, v, "hoc-sinh-chua-dat", store, school=THPT)
        text = data.decode("utf-8-sig")
        assert rows == len(plain)
        for x in ids:
            assert (x in text) is (not masked), (v.role, x)
            assert (mask_id(x) in text) is masked
        xlsx, _ = status_workbook.workbook_bytes(ev, v, store, school=THPT)
        ws = load_workbook(io.BytesIO(xlsx))["Học sinh chưa đạt"]
        head = [c.value for c in ws[4]]
        col = [ws.cell(row=r, column=head.index("Số CMND/CCCD") + 1).value for r in range(5, ws.max_row + 1)]
        births = [ws.cell(row=r, column=head.index("Ngày sinh") + 1).value for r in range(5, ws.max_row + 1)]
        cells = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
        for x in ids:
            assert (x in cells) is (not masked)
        if masked:
            assert all("•" in c for c in col if c) and all(str(b).startswith("••/••/") for b in births if b)
    # leadership downloads summaries, not an institution's record lists
    with pytest.raises(PermissionError):
        csv_export.csv_bytes(ev, LEADER, "hoc-sinh-chua-dat", store, school=THPT)


# ---- navigation and pages ------------------------------------------------------------------

MATRIX = {
    "lanh_dao": ["overview", "districts", "institution", "reports", "quality", "completeness", "downloads"],
    "khtc": ["overview", "districts", "institution", "reports", "quality", "completeness", "laggards", "paper",
             "downloads"],
    "phong_gd": ["overview", "districts", "institution", "reports", "quality", "completeness", "laggards",
                 "downloads"],
    "truong": ["institution", "reports", "quality", "downloads"],
    "quan_tri": ["overview", "districts", "institution", "reports", "quality", "completeness", "laggards",
                 "paper", "downloads", "imports", "accounts", "audit"],
}
VIEWERS = {"lanh_dao": LEADER, "khtc": KHTC, "phong_gd": Q3,
           "truong": Viewer("t", "truong", school_code=THPT), "quan_tri": ADMIN}


def test_navigation_per_role():
    for role, keys in MATRIX.items():
        assert [p.key for p in navigation.page_specs(role)] == keys, role
    assert "audit" not in [p.key for r in ("lanh_dao", "khtc", "phong_gd", "truong")
                           for p in navigation.page_specs(r)]


def _app(store, monkeypatch, viewer, page=None, **params):
    monkeypatch.setenv("TIENDO_STORE", str(store))
    set_viewer(viewer)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    if params:
        at.query_params.update(params)
    at.run()
    if page:
        at.switch_page(page)
        if params:
            at.query_params.update(params)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("role", list(MATRIX))
def test_every_allowed_page_renders_for_the_role(store, monkeypatch, role):
    at = _app(store, monkeypatch, VIEWERS[role])
    for spec in navigation.page_specs(role):
        at.switch_page(spec.file).run()
        assert not at.exception, (role, spec.file, [e.value for e in at.exception])
        assert at.title and not any("không được dùng trang này" in e.value for e in at.error), spec.file


def test_pages_outside_the_role_are_not_registered(store, monkeypatch):
    # st.navigation got only the role's pages: the router does not know the others at all.
    at = _app(store, monkeypatch, KHTC)
    for page in ("pages/audit_log.py", "pages/accounts.py", "pages/import_data.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    at = _app(store, monkeypatch, VIEWERS["truong"])
    for page in ("pages/overview.py", "pages/districts.py", "pages/laggards.py", "pages/paper_register.py",
                 "pages/completeness.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


@pytest.mark.parametrize("role,masked", [("lanh_dao", True), ("phong_gd", True), ("khtc", True),
                                         ("truong", False)])
def test_institution_page_values(store, monkeypatch, role, masked):
    at = _app(store, monkeypatch, VIEWERS[role], "pages/institution.py", school=THPT, as_of=AS_OF)
    [df] = [d.value for d in at.dataframe if "id_number" in d.value.columns]
    ids = df["id_number"].dropna()
    assert len(ids)
    assert bool(ids.str.contains("•").all()) == masked and bool(ids.str.contains("•").any()) == masked
    assert (df["birth_date"].dropna().str.startswith("••/••/").all()) == masked
    has_open = any(b.label == "Xem thông tin cá nhân" for b in at.button)
    assert has_open == (role == "khtc")


def test_district_office_out_of_scope_school_and_district(store, monkeypatch):
    at = _app(store, monkeypatch, Q1, "pages/institution.py", school=THPT)
    assert any("ngoài phạm vi" in w.value for w in at.warning)
    assert not [d for d in at.dataframe if "id_number" in d.value.columns]
    assert not any("Nguyễn Thị Minh Khai" in (s.value or "") for s in at.subheader)
    at = _app(store, monkeypatch, Q1, "pages/districts.py", district="764")
    assert any("ngoài phạm vi" in w.value for w in at.warning)
    shown = [d.value for d in at.dataframe if "district_code" in d.value.columns]
    assert all(set(d["district_code"].dropna()) <= {"760"} for d in shown)
    denied = ops.list_audit(store, SYSTEM, action="scope.denied")
    assert {"truong:" + THPT, "quan:764"} <= set(denied["object"])


def test_khtc_opens_one_record_on_the_page_and_it_is_audited(store, sid, monkeypatch):
    at = _app(store, monkeypatch, KHTC, "pages/institution.py", school=THPT, as_of=AS_OF)
    student = queries.students_not_done(ADMIN, THPT, sid, store=store)["student_id"].iloc[0]
    at.selectbox(key="pii_student").set_value(student).run()
    before = len(ops.list_audit(store, SYSTEM, action="personal.open"))
    at.button(key="pii_open").click().run()
    assert not at.exception
    assert at.table and "•" not in at.table[0].value.to_string()
    log = ops.list_audit(store, SYSTEM, action="personal.open")
    assert len(log) == before + 1 and log.loc[0, "username"] == "k"


def test_audit_page_filters_and_its_export_is_audited(store, monkeypatch):
    from data_access import audit
    ops.audit(store, Q1, "download", object="x.xlsx", scope="quan:760", rows=3)
    df = audit.entries(store, ADMIN, username="pgd760", action="download")
    assert len(df) >= 1 and set(df["username"]) == {"pgd760"} and set(df["action"]) == {"download"}
    assert audit.entries(store, ADMIN, since=pd.Timestamp("2000-01-01").date(),
                         until=pd.Timestamp("2000-01-02").date()).empty
    for v in (KHTC, LEADER, Q1):
        with pytest.raises(PermissionError):
            audit.entries(store, v)
    at = _app(store, monkeypatch, ADMIN, "pages/audit_log.py")
    assert at.title[0].value == "Nhật ký truy cập" and len(at.dataframe[0].value) >= 1
    at.selectbox(key="au_user").set_value("pgd760").run()
    assert set(at.dataframe[0].value["username"]) == {"pgd760"}
    before = len(audit.entries(store, ADMIN, action="download"))
    at.download_button(key="au_download").click().run()
    log = audit.entries(store, ADMIN, action="download")
    assert len(log) == before + 1 and log.loc[0, "object"].startswith("nhat-ky-truy-cap-")
