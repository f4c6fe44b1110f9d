"""Reading the audit trail (ops.sqlite ``audit_log``) for the administrator's page
"Nhật ký truy cập": filter by user, action and date range, export as CSV (the export itself is
audited). Writing stays in ops.audit / ops._audit.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd

from . import ops
from .access import Viewer
from .store import TZ

COLUMNS = ["id", "at", "username", "role", "action", "object", "scope", "rows", "detail"]


def entries(store, viewer: Viewer, username: str | None = None, action: str | None = None,
            since: dt.date | None = None, until: dt.date | None = None,
            limit: int = 5000) -> pd.DataFrame:
    """Audit lines, newest first (COLUMNS). Only the administrator reads the trail.
    ``action`` matches a prefix ("login" finds login.success and login.failure); ``since`` and
    ``until`` are local dates, both included."""
    if viewer.role != "quan_tri":
        raise PermissionError("Chỉ quản trị hệ thống được xem nhật ký truy cập.")
    where, ps = ["TRUE"], []
    if username:
        where.append("username = ?")
        ps.append(username)
    if action:
        where.append("(action = ? OR action LIKE ?)")
        ps += [action, action + ".%"]
    if since:
        where.append("at >= ?")
        ps.append(dt.datetime.combine(since, dt.time(0), TZ).isoformat())
    if until:
        where.append("at < ?")
        ps.append(dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), TZ).isoformat())
    df = ops._read(store, f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE {' AND '.join(where)} "
                          f"ORDER BY id DESC LIMIT ?", ps + [int(limit)])
    return pd.DataFrame(columns=COLUMNS) if df is None else df


def distinct(store, viewer: Viewer, column: str) -> list[str]:
    if viewer.role != "quan_tri" or column not in ("username", "action"):
        return []
    df = ops._read(store, f"SELECT DISTINCT {column} FROM audit_log ORDER BY 1")
    return [] if df is None else [x for x in df.iloc[:, 0] if x]


def export_csv(df: pd.DataFrame) -> bytes:
    """The lines shown as CSV (UTF-8 with BOM). The page writes the download itself to the
    trail when the file is taken (action "download", object the file name)."""
    from exports.safety import csv_safe
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for row in df[COLUMNS].itertuples(index=False, name=None):
        w.writerow(["" if v is None or (isinstance(v, float) and v != v) else csv_safe(str(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
