"""Issue 13, finding 7: no text from outside becomes a formula in any workbook.

A school name ``=HYPERLINK(...)`` became a formula in the school workbook's subtitle (cell A2),
which was written beside the formula check. Every cell of every sheet of the three workbook
kinds (city, district, school) is checked: no formula cell, and every text that starts with
= + - @ (or tab, CR) is a string cell with the quote prefix; the file's XML has no <f>."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import load_workbook

from data_access.access import SYSTEM, Viewer
from data_access.evaluate import evaluate
from exports import status_workbook
from exports.safety import DANGEROUS_PREFIXES
from tests.snapshot_factory import results_rows, school, student, write_store

HOSTILE = {"S1": '=HYPERLINK("https://evil.example","Bấm vào")', "S2": "+cmd|' /C calc'!A0",
           "S3": "-1+1", "S4": "@SUM(1+1)*cmd|' /C calc'!A0"}


@pytest.fixture(scope="module")
def ev(tmp_path_factory):
    root = tmp_path_factory.mktemp("formula") / "store"
    schools = [school(code, "THPT", "760", school_name=name, principal="=1+1 " + name,
                      email="@" + code.lower() + "@evil.example") for code, name in HOSTILE.items()]
    students = [student("H1", "S1"), student("H2", "S2")]
    sc, su = results_rows("H2")
    write_store(root, [("2022-04-27T17:00:00+07:00", {"schools": schools, "students": students,
                                                       "subject_scores": sc, "term_summaries": su})])
    e = evaluate(root)
    yield e, root
    e.close()


KINDS = [("city", {}), ("district", {"district": "760"})] + [(f"school-{c}", {"school": c}) for c in HOSTILE]


@pytest.mark.parametrize("kind,kw", KINDS, ids=[k for k, _ in KINDS])
@pytest.mark.parametrize("viewer", [SYSTEM, Viewer("kh", "khtc")], ids=["quan_tri", "khtc"])
def test_no_cell_of_any_workbook_is_a_formula(ev, kind, kw, viewer):
    e, root = ev
    data, _ = status_workbook.workbook_bytes(e, viewer, root, today=dt.date(2022, 4, 30), **kw)
    wb = load_workbook(io.BytesIO(data))
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (kind, ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value.startswith(DANGEROUS_PREFIXES):
                    assert c.data_type == "s" and c.quotePrefix, (kind, ws.title, c.coordinate, c.value)
                    seen.add(c.value)
    # The hostile names did reach the workbook (else the test would prove nothing).
    assert any(v.startswith(tuple(HOSTILE.values())) for v in seen), seen
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                body = z.read(name)
                assert b"<f>" not in body and b"<f " not in body, (kind, name)
