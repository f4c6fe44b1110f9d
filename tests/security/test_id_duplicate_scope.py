"""Issue 12 point 5 (outside review rev12b, finding 17): the ID_DUPLICATE message gives the number
of other holders and names another institution only when it lies in the reader's scope.

Hand-made store: one CCCD (079204000011, male, born 2004: every holder's number agrees with
their own birth year and gender, so all three hold the error) shared by three enrolled grade-12
students: XA1 at school 79760001 and XA2 at 79760002 (district 760), XB1 at 79761001 (district
761). Each message says "2 học sinh khác". Who may read which code of another holder:
- the school 79760001: none (its own code only, and no other holder is at it);
- the district office of 760: 79760002 (XA1's), 79760001 (XA2's), never 79761001;
- the Department (lanh_dao, khtc, quan_tri): every other holder's institution.
Checked on the query layer, on the Trường page (AppTest), in the CSV and in the XLSX.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from data_access import accounts, queries
from data_access.access import Viewer
from data_access.current_user import set_viewer
from data_access.evaluate import evaluate
from exports import csv_export, status_workbook
from tests.snapshot_factory import school, student, write_store

ROOT = Path(__file__).resolve().parents[2]
A1, A2, B1 = "79760001", "79760002", "79761001"
CCCD = "079204000011"
SCHOOL_A1 = Viewer("t1", "truong", school_code=A1)
DISTRICT_760 = Viewer("p760", "phong_gd", district_code="760")
CITY = Viewer("ld", "lanh_dao")
ADMIN = Viewer("qt", "quan_tri")
# viewer -> (codes of other institutions its messages about XA1 must name, codes never shown)
CASES = [(SCHOOL_A1, set(), {A2, B1}), (DISTRICT_760, {A2}, {B1}), (ADMIN, {A2, B1}, set())]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("iddup") / "store"
    students = [student("XA1", A1, cccd=CCCD), student("XA2", A2, cccd=CCCD), student("XB1", B1, cccd=CCCD)]
    write_store(root, [("2022-04-27T17:00:00+07:00",
                        {"schools": [school(A1, "THPT", "760"), school(A2, "THPT", "760"),
                                     school(B1, "THPT", "761")], "students": students})])
    return root


def _assert_scope(texts: list[str], named: set[str], hidden: set[str]):
    blob = "\n".join(str(t) for t in texts)
    for code in hidden:
        assert code not in blob, (code, blob)
    for code in named:
        assert code in blob, (code, blob)


@pytest.mark.parametrize("viewer,named,hidden", CASES, ids=lambda v: getattr(v, "role", None))
def test_query_layer_names_only_institutions_in_scope(store, viewer, named, hidden):
    df = queries.rule_records(viewer, "ID_DUPLICATE", store=store)
    mine = df[df["student_id"] == "XA1"]
    assert len(mine) == 1
    msg = mine["message"].iloc[0]
    assert "2 học sinh khác" in msg
    _assert_scope([msg], named, hidden)
    # every message this viewer receives keeps out the codes out of its scope
    if viewer.role == "phong_gd":
        assert set(df["school_code"]) == {A1, A2}
        _assert_scope(list(df["message"]), set(), {B1})
    snd = queries.students_not_done(viewer, A1, store=store)
    lacks = [x for row in snd["lacks"] for x in row]
    assert any("2 học sinh khác" in x for x in lacks)
    _assert_scope(lacks, named, hidden)


def test_the_city_sees_the_other_two_of_each_holder(store):
    df = queries.rule_records(CITY, "ID_DUPLICATE", store=store).set_index("student_id")
    _assert_scope([df.loc["XB1", "message"]], {A1, A2}, set())
    _assert_scope([df.loc["XA2", "message"]], {A1, B1}, set())
    # a holder's own institution is not listed among "the others"
    assert A1 not in df.loc["XA1", "message"]


@pytest.mark.parametrize("viewer,named,hidden", CASES, ids=lambda v: getattr(v, "role", None))
def test_csv_and_xlsx_name_only_institutions_in_scope(store, viewer, named, hidden):
    ev = evaluate(store)
    try:
        data, _ = csv_export.csv_bytes(ev, viewer, "ban-ghi-can-sua", store, school=A1)
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        msgs = [r["Cần sửa"] for r in rows if r["Mã lỗi"] == "ID_DUPLICATE"]
        assert len(msgs) == 1 and "2 học sinh khác" in msgs[0]
        _assert_scope(msgs, named, hidden)
        data, _ = csv_export.csv_bytes(ev, viewer, "hoc-sinh-chua-dat", store, school=A1)
        _assert_scope([data.decode("utf-8-sig")], named, hidden)
        data, _ = status_workbook.workbook_bytes(ev, viewer, store, school=A1)
        wb = load_workbook(io.BytesIO(data))
        cells = [str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r
                 if c is not None]
        assert any("2 học sinh khác" in c for c in cells)
        _assert_scope(cells, named, hidden)
    finally:
        ev.close()


@pytest.mark.parametrize("viewer,named,hidden", CASES[:2], ids=lambda v: getattr(v, "role", None))
def test_institution_page_names_only_institutions_in_scope(store, viewer, named, hidden, monkeypatch):
    monkeypatch.setenv("TIENDO_STORE", str(store))
    monkeypatch.setattr(accounts, "store_is_sample", lambda _store: False)
    set_viewer(viewer)
    try:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        at.run()
        at.switch_page("pages/institution.py")
        at.query_params["school"] = A1
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        texts = [str(v) for d in at.dataframe for v in d.value.astype(str).to_numpy().ravel()]
        texts += [m.value for m in at.markdown] + [c.value for c in at.caption]
        texts += [e.label for e in at.expander]
        assert any("2 học sinh khác" in t for t in texts)
        _assert_scope(texts, named, hidden)
    finally:
        set_viewer(None)
