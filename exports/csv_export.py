"""The status sheets' tables as CSV: UTF-8 with a BOM (so Excel shows Vietnamese correctly),
comma-separated, one header row, dates dd/mm/yyyy, numbers with a decimal point (machine
readable; the XLSX is the file for reading by eye).

A CSV holds one table. ``TABLES`` names them: ``tong-hop`` (city and district roll-ups),
``trang-thai`` (one row per institution, every requirement's status and percent),
``cham-tien-do`` (the ranked laggards), ``danh-muc`` (one institution's checklist) and
``ban-ghi-can-sua`` (its records to fix) and ``hoc-sinh-chua-dat`` (its grade-12 students not
done, personal values masked by role as on the pages). Text that could be read as a formula gets a leading
apostrophe (exports.safety).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from data_access.access import Viewer
from data_access.evaluate import Evaluation
from data_access.store import Store

from . import tables as T
from .safety import csv_safe
from .status_workbook import _resolve_scope

TABLES = ("tong-hop", "trang-thai", "cham-tien-do", "danh-muc", "ban-ghi-can-sua", "hoc-sinh-chua-dat")


def _cell(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return ""
        return f"{float(v):.1f}"
    if isinstance(v, (bool, np.bool_)):
        return "Có" if v else "Không"
    if isinstance(v, (np.integer,)):
        return str(int(v))
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        t = pd.Timestamp(v)
        return t.strftime("%d/%m/%Y") if (t.hour, t.minute, t.second) == (0, 0, 0) else t.strftime("%d/%m/%Y %H:%M")
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, np.datetime64):
        return "" if np.isnat(v) else _cell(pd.Timestamp(v))
    if isinstance(v, (list, tuple, np.ndarray)):
        return ", ".join(map(str, v))
    return csv_safe(str(v))


def table_csv(table: T.Table) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([csv_safe(str(c)) for c in table.df.columns])
    for row in table.df.itertuples(index=False, name=None):
        w.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def build_table(ev: Evaluation, viewer: Viewer, name: str | None = None,
                store: Store | str | Path | None = None, district: str | None = None,
                school: str | None = None, today: dt.date | None = None) -> T.Table:
    """The table ``name`` (default: the checklist for a school, else the status table)."""
    district, school = _resolve_scope(viewer, district, school)
    name = name or ("danh-muc" if school else "trang-thai")
    if name not in TABLES:
        raise ValueError(f"Bảng «{name}» không có; chọn một trong: {', '.join(TABLES)}.")
    if name in ("danh-muc", "ban-ghi-can-sua", "hoc-sinh-chua-dat"):
        if not school:
            raise ValueError(f"Bảng «{name}» cần mã trường (--school).")
        if name == "hoc-sinh-chua-dat":
            return T.students_table(ev, viewer, school, store)
        return (T.checklist_table if name == "danh-muc" else T.findings_table)(ev, viewer, school)
    if name == "tong-hop":
        return T.summary_table(ev, viewer, district)
    if name == "cham-tien-do":
        return T.laggards_table(ev, viewer, store, district, school, today=today)
    return T.status_table(ev, viewer, district, school)


def csv_bytes(ev: Evaluation, viewer: Viewer, name: str | None = None, store=None, district=None,
              school=None, today=None) -> tuple[bytes, int]:
    """(file bytes, data rows)."""
    table = build_table(ev, viewer, name, store, district, school, today)
    return table_csv(table), len(table.df)
