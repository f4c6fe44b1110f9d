"""The operational store: what users write (follow-ups, paper copies received, audit trail).

Where: ``STORE/ops.sqlite`` (SQLite, the embedded default) or the PostgreSQL named by
``TIENDO_OPS_URL`` (several machines, issue 17); the connection, the dialect and the schema
migrations are data_access.ops_db's, the SQL here is common to both.

Why SQLite in WAL mode at ``STORE/ops.sqlite`` and not DuckDB: snapshots are read-only DuckDB
files that many dashboard processes open at once; user writes are tiny, frequent and come from
several processes (one per dashboard worker, plus the CLI). SQLite in WAL mode lets readers go
on while one writer commits, and ``busy_timeout`` makes a second writer wait its turn instead of
failing. Every write is one short ``BEGIN IMMEDIATE`` transaction (take the write lock first, so
two writers never deadlock on a lock upgrade) committed with ``synchronous=FULL``: once a
function returns, the row survives a crash or a restart. (On PostgreSQL every write takes one
advisory lock first: the same one-writer-at-a-time order, ops_db.)

Tables (data_access/migrations, applied at start-up; version in table ``schema_version``):
- ``follow_ups``: one row per contact with an institution (date, channel, who, note, promised
  date), never changed afterwards.
- ``paper_receipts``: a paper copy received, one row per *version*. A correction adds a new
  version of the same ``receipt_id`` (who, when, why); the newest version is the current one,
  and a withdrawn receipt (entered by mistake) is a version with ``withdrawn = 1``.
- ``audit_log``: who did what, when, on which object and scope, how many rows, a detail
  (JSON). Passwords are never written: keys that look like secrets are dropped.

Validation errors raise :class:`OpsError` whose message is Vietnamese and shown as is; nothing
is written then.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Iterator

import pandas as pd

from . import file_memo, ops_db
from .access import Viewer, scope_filter
from .store import TZ, Store

SCHEMA_VERSION = ops_db.latest_version()   # newest migration (data_access/migrations)
BUSY_TIMEOUT_MS = ops_db.BUSY_TIMEOUT_MS
CHANNELS = ("điện thoại", "e-mail", "công văn")
WRITE_ROLES_RECEIPTS = ("khtc", "quan_tri")
WRITE_ROLES_FOLLOW_UPS = ("khtc", "quan_tri", "phong_gd")
_SECRET_KEYS = ("password", "passwd", "mat_khau", "mật khẩu", "secret", "token")

# The current version of each receipt (the newest), withdrawn ones included.
_CURRENT = """
SELECT p.* FROM paper_receipts p
JOIN (SELECT receipt_id, max(version) AS version FROM paper_receipts GROUP BY receipt_id) m
  USING (receipt_id, version)
"""


class OpsError(ValueError):
    """A write refused (validation or permission); the message is for the user, in Vietnamese."""


def _now() -> dt.datetime:
    return dt.datetime.now(TZ).replace(microsecond=0)


def _today() -> dt.date:
    return _now().date()


def _store(store: Store | str | Path) -> Store:
    return store if isinstance(store, Store) else Store(Path(store))


def _ensure_schema(path: Path) -> None:
    """The schema (versioned migrations, data_access.ops_db) ready for the store of ``path``."""
    ops_db.ensure(Store(Path(path).parent))


@contextlib.contextmanager
def transaction(store: Store | str | Path) -> Iterator[ops_db.Conn]:
    """Public name of the one short durable write transaction every writer of the operational
    store uses (data_access.ops_db.write: the write lock first, commit or roll back)."""
    with ops_db.write(_store(store)) as con:
        yield con


_write = transaction


def _read(store: Store | str | Path, sql: str, params=()) -> pd.DataFrame | None:
    """Rows of a query, or None when the operational store does not exist yet (reads never
    create it)."""
    return ops_db.query(_store(store), sql, params)


def _clean_detail(detail) -> str | None:
    if detail is None:
        return None
    if isinstance(detail, dict):
        detail = {k: v for k, v in detail.items()
                  if not any(s in str(k).lower() for s in _SECRET_KEYS)}
    return json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)


def _scope_text(viewer: Viewer) -> str:
    if viewer.role == "truong":
        return f"truong:{viewer.school_code}"
    if viewer.role == "phong_gd":
        return f"quan:{viewer.district_code}"
    return "thanh_pho"


def _audit(con: ops_db.Conn, viewer: Viewer, action: str, obj: str | None,
           scope: str | None, rows: int | None, detail) -> None:
    con.execute("INSERT INTO audit_log (at, username, role, action, object, scope, rows, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [_now().isoformat(), viewer.username, viewer.role, action, obj,
                 scope if scope is not None else _scope_text(viewer), rows, _clean_detail(detail)])


def audit(store: Store | str | Path, viewer: Viewer, action: str, object: str | None = None,
          scope: str | None = None, rows: int | None = None, detail=None) -> None:
    """Append one line to the audit trail (e.g. a download: action "download", object the file
    name, rows the number of data rows, detail the filters). Committed before returning."""
    with _write(store) as con:
        _audit(con, viewer, action, object, scope, rows, detail)


def list_audit(store: Store | str | Path, viewer: Viewer, limit: int = 200,
               action: str | None = None) -> pd.DataFrame:
    """Newest first: id, at, username, role, action, object, scope, rows, detail.
    Only the administrator and the planning office read the whole trail; others see their own
    lines."""
    where, params = ["TRUE"], []
    if viewer.role not in ("quan_tri", "khtc", "lanh_dao"):
        where.append("username = ?")
        params.append(viewer.username)
    if action:
        where.append("action = ?")
        params.append(action)
    df = _read(store, f"SELECT id, at, username, role, action, object, scope, rows, detail "
                      f"FROM audit_log WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
               params + [int(limit)])
    if df is None:
        return pd.DataFrame(columns=["id", "at", "username", "role", "action", "object", "scope",
                                     "rows", "detail"])
    return df


# ---- institutions and reports known to the newest snapshot --------------------------------

def _institution(store: Store, school_code: str) -> dict | None:
    """school_code, school_name, district_code, levels (set) of the newest snapshot, or None."""
    import duckdb
    snap = store.snapshot_at(None)
    if snap is None:
        return None
    con = duckdb.connect(str(snap["path"]), read_only=True)
    try:
        row = con.execute("SELECT school_code, school_name, district_code, levels FROM schools "
                          "WHERE school_code = ? LIMIT 1", [school_code]).fetchone()
    finally:
        con.close()
    if row is None:
        return None
    levels = {t.strip().upper() for t in (row[3] or "").replace(",", ";").split(";") if t.strip()}
    return {"school_code": row[0], "school_name": row[1], "district_code": row[2], "levels": levels}


def _paper_reports(campaign=None) -> dict[str, set[str]]:
    """report_code → the levels its paper copy applies to (campaign's ``paper`` requirements)."""
    from .campaign import Campaign, load_campaign
    c = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
    out: dict[str, set[str]] = {}
    for r in c.requirements:
        if r.kind == "paper" and r.report_code:
            out.setdefault(r.report_code, set()).update(r.applies_to_levels_any)
    return out


def _as_date(value, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(TZ).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    text = str(value or "").strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise OpsError(f"{what} không hợp lệ: «{text}». Nhập ngày dạng dd/mm/yyyy.")


def _fmt(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def _check_scope(viewer: Viewer, inst: dict) -> None:
    if viewer.role == "phong_gd" and inst["district_code"] != viewer.district_code:
        raise OpsError(f"Trường {inst['school_code']} không thuộc quận/huyện của tài khoản này.")
    if viewer.role == "truong" and inst["school_code"] != viewer.school_code:
        raise OpsError("Tài khoản trường chỉ ghi nhận cho chính trường mình.")


# ---- follow-ups ---------------------------------------------------------------------------

def add_follow_up(store: Store | str | Path, viewer: Viewer, school_code: str, contacted_on,
                  channel: str, contact_person: str | None = None, note: str | None = None,
                  promised_on=None, today: dt.date | None = None) -> int:
    """Record a contact with an institution; returns its id. Refused (OpsError, nothing
    written) for an unknown institution, an unknown channel, a contact date in the future or
    a promised date before the contact."""
    store = _store(store)
    if viewer.role not in WRITE_ROLES_FOLLOW_UPS:
        raise OpsError("Tài khoản này không được ghi nhật ký liên hệ.")
    code = str(school_code or "").strip()
    inst = _institution(store, code)
    if inst is None:
        raise OpsError(f"Không có trường mã «{code}» trong dữ liệu mới nhất. Kiểm tra lại mã trường.")
    _check_scope(viewer, inst)
    if channel not in CHANNELS:
        raise OpsError(f"Hình thức liên hệ «{channel}» không hợp lệ; chọn một trong: {', '.join(CHANNELS)}.")
    day = _as_date(contacted_on, "Ngày liên hệ")
    today = today or _today()
    if day > today:
        raise OpsError(f"Ngày liên hệ {_fmt(day)} ở tương lai (hôm nay {_fmt(today)}).")
    promised = _as_date(promised_on, "Ngày hẹn hoàn thành") if promised_on not in (None, "") else None
    if promised is not None and promised < day:
        raise OpsError(f"Ngày hẹn hoàn thành {_fmt(promised)} trước ngày liên hệ {_fmt(day)}.")
    with _write(store) as con:
        cur = con.execute(
            "INSERT INTO follow_ups (school_code, district_code, contacted_on, channel, contact_person,"
            " note, promised_on, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [code, inst["district_code"], day.isoformat(), channel, (contact_person or "").strip() or None,
             (note or "").strip() or None, promised.isoformat() if promised else None,
             viewer.username, _now().isoformat()])
        fid = cur.fetchone()[0]
        _audit(con, viewer, "follow_up.add", f"follow_up:{fid}", None, 1,
               {"school_code": code, "channel": channel, "contacted_on": day.isoformat(),
                "promised_on": promised.isoformat() if promised else None})
    return int(fid)


FOLLOW_UP_COLUMNS = ["id", "school_code", "district_code", "contacted_on", "channel",
                     "contact_person", "note", "promised_on", "recorded_by", "recorded_at"]


def list_follow_ups(store: Store | str | Path, viewer: Viewer, school_code: str | None = None,
                    limit: int | None = None) -> pd.DataFrame:
    """Follow-ups in the viewer's scope, newest contact first; contacted_on and promised_on are
    datetime.date (promised_on may be None)."""
    cond, params = scope_filter(viewer, "school_code", "district_code")
    where, ps = [cond], list(params)
    if school_code:
        where.append("school_code = ?")
        ps.append(school_code)
    sql = (f"SELECT {', '.join(FOLLOW_UP_COLUMNS)} FROM follow_ups WHERE {' AND '.join(where)} "
           f"ORDER BY contacted_on DESC, id DESC")
    if limit:
        sql += f" LIMIT {int(limit)}"
    df = _read(store, sql, ps)
    if df is None:
        df = pd.DataFrame(columns=FOLLOW_UP_COLUMNS)
    for c in ("contacted_on", "promised_on"):
        df[c] = [dt.date.fromisoformat(v) if isinstance(v, str) else None for v in df[c]]
    return df


def last_follow_ups(store: Store | str | Path, viewer: Viewer) -> pd.DataFrame:
    """The latest follow-up of each institution in scope (same columns as list_follow_ups)."""
    cond, params = scope_filter(viewer, "school_code", "district_code")
    df = _read(store, f"""
        SELECT {', '.join(FOLLOW_UP_COLUMNS)} FROM (
            SELECT *, row_number() OVER (PARTITION BY school_code ORDER BY contacted_on DESC, id DESC) AS rn
            FROM follow_ups WHERE {cond}) AS t WHERE rn = 1""", params)
    if df is None:
        df = pd.DataFrame(columns=FOLLOW_UP_COLUMNS)
    for c in ("contacted_on", "promised_on"):
        df[c] = [dt.date.fromisoformat(v) if isinstance(v, str) else None for v in df[c]]
    return df


# ---- paper-copy register ------------------------------------------------------------------

def _validate_receipt(store: Store, viewer: Viewer, school_code: str, report_code: str,
                      received_on, today: dt.date | None, campaign) -> tuple[dict, str, dt.date]:
    if viewer.role not in WRITE_ROLES_RECEIPTS:
        raise OpsError("Chỉ Phòng Kế hoạch – Tài chính (hoặc quản trị) được ghi sổ nhận bản giấy.")
    code = str(school_code or "").strip()
    inst = _institution(store, code)
    if inst is None:
        raise OpsError(f"Không có trường mã «{code}» trong dữ liệu mới nhất. Kiểm tra lại mã trường.")
    reports = _paper_reports(campaign)
    rc = str(report_code or "").strip().upper()
    if rc not in reports:
        raise OpsError(f"Không có báo cáo mã «{report_code}». Các báo cáo cần bản giấy: "
                       f"{', '.join(reports)}.")
    if not (reports[rc] & inst["levels"]):
        raise OpsError(f"Báo cáo {rc} không áp dụng cho {inst['school_name']} ({code}), "
                       f"nên không cần nhận bản giấy.")
    day = _as_date(received_on, "Ngày nhận")
    today = today or _today()
    if day > today:
        raise OpsError(f"Ngày nhận {_fmt(day)} ở tương lai (hôm nay {_fmt(today)}). Kiểm tra lại ngày nhận.")
    return inst, rc, day


def _duplicate(con: ops_db.Conn, school_code: str, report_code: str, day: dt.date,
               signed: bool, stamped: bool, exclude_receipt: int | None = None) -> str | None:
    rows = con.execute(
        f"SELECT receipt_id, received_on, signed, stamped FROM ({_CURRENT}) AS cur "
        f"WHERE school_code = ? AND report_code = ? AND withdrawn = 0 AND receipt_id IS DISTINCT FROM ?",
        [school_code, report_code, exclude_receipt]).fetchall()
    for rid, on, s, st in rows:
        d = dt.date.fromisoformat(on)
        if d == day:
            return (f"Đã ghi nhận bản giấy {report_code} của trường {school_code} nhận ngày {_fmt(d)} "
                    f"(phiếu số {rid}). Nếu thông tin sai, hãy sửa phiếu đó thay vì nhập lại.")
        if s and st and signed and stamped:
            return (f"Trường {school_code} đã có bản giấy {report_code} hợp lệ (ký tên, đóng dấu) nhận ngày "
                    f"{_fmt(d)} (phiếu số {rid}). Không ghi trùng; nếu cần, hãy sửa phiếu đó.")
    return None


def add_paper_receipt(store: Store | str | Path, viewer: Viewer, school_code: str, report_code: str,
                      received_on, signed: bool, stamped: bool, note: str | None = None,
                      today: dt.date | None = None, campaign=None) -> int:
    """Register a paper copy received; returns its receipt_id. Refused (OpsError, nothing
    written): unknown institution or report, report not applicable to it, date in the future,
    duplicate (same institution, report and date, or a second valid copy)."""
    store = _store(store)
    inst, rc, day = _validate_receipt(store, viewer, school_code, report_code, received_on, today, campaign)
    with _write(store) as con:
        dup = _duplicate(con, inst["school_code"], rc, day, bool(signed), bool(stamped))
        if dup:
            raise OpsError(dup)
        rid = (con.execute("SELECT coalesce(max(receipt_id), 0) + 1 FROM paper_receipts").fetchone()[0])
        con.execute(
            "INSERT INTO paper_receipts (receipt_id, version, school_code, district_code, report_code,"
            " received_on, signed, stamped, note, withdrawn, reason, recorded_by, recorded_at)"
            " VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)",
            [rid, inst["school_code"], inst["district_code"], rc, day.isoformat(), int(bool(signed)),
             int(bool(stamped)), (note or "").strip() or None, viewer.username, _now().isoformat()])
        _audit(con, viewer, "paper_receipt.add", f"paper_receipt:{rid}", None, 1,
               {"school_code": inst["school_code"], "report_code": rc, "received_on": day.isoformat(),
                "signed": bool(signed), "stamped": bool(stamped)})
    return int(rid)


def correct_paper_receipt(store: Store | str | Path, viewer: Viewer, receipt_id: int, *,
                          received_on=None, signed: bool | None = None, stamped: bool | None = None,
                          note: str | None = None, withdrawn: bool | None = None,
                          reason: str = "", today: dt.date | None = None, campaign=None) -> int:
    """Correct a receipt: a new version with the changed fields (others as before), who and
    when, and the reason (required). ``withdrawn=True`` cancels a receipt entered by mistake.
    Returns the new version number. The old versions stay (receipt_history)."""
    store = _store(store)
    if not (reason or "").strip():
        raise OpsError("Hãy ghi lý do sửa phiếu.")
    if not ops_db.exists(store):
        raise OpsError(f"Không có phiếu nhận bản giấy số {receipt_id}.")
    with _write(store) as con:
        cur = con.execute(f"SELECT * FROM ({_CURRENT}) AS cur WHERE receipt_id = ?", [int(receipt_id)])
        row = cur.fetchone()
        if row is None:
            raise OpsError(f"Không có phiếu nhận bản giấy số {receipt_id}.")
        old = dict(zip([d[0] for d in cur.description], row))
        new = dict(old)
        if received_on is not None:
            new["received_on"] = received_on
        inst, rc, day = _validate_receipt(store, viewer, old["school_code"], old["report_code"],
                                          new["received_on"], today, campaign)
        new["received_on"] = day.isoformat()
        for k, v in (("signed", signed), ("stamped", stamped), ("withdrawn", withdrawn)):
            if v is not None:
                new[k] = int(bool(v))
        if note is not None:
            new["note"] = note.strip() or None
        changed = {k: [old[k], new[k]] for k in ("received_on", "signed", "stamped", "note", "withdrawn")
                   if old[k] != new[k]}
        if not changed:
            raise OpsError("Không có thay đổi nào so với phiếu hiện tại.")
        if not new["withdrawn"]:
            dup = _duplicate(con, old["school_code"], rc, day, bool(new["signed"]), bool(new["stamped"]),
                             exclude_receipt=int(receipt_id))
            if dup:
                raise OpsError(dup)
        version = old["version"] + 1
        con.execute(
            "INSERT INTO paper_receipts (receipt_id, version, school_code, district_code, report_code,"
            " received_on, signed, stamped, note, withdrawn, reason, recorded_by, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [int(receipt_id), version, old["school_code"], old["district_code"], rc, new["received_on"],
             new["signed"], new["stamped"], new["note"], new["withdrawn"], reason.strip(),
             viewer.username, _now().isoformat()])
        _audit(con, viewer, "paper_receipt.correct", f"paper_receipt:{receipt_id}", None, 1,
               {"version": version, "changed": changed, "reason": reason.strip()})
    return version


RECEIPT_COLUMNS = ["receipt_id", "version", "school_code", "district_code", "report_code",
                   "received_on", "signed", "stamped", "note", "withdrawn", "reason",
                   "recorded_by", "recorded_at"]


def _typed_receipts(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None:
        df = pd.DataFrame(columns=RECEIPT_COLUMNS)
    df = df.copy()
    df["received_on"] = pd.Series([dt.date.fromisoformat(v) for v in df["received_on"]],
                                  index=df.index, dtype=object)
    for c in ("signed", "stamped", "withdrawn"):
        df[c] = df[c].astype(bool)
    return df


def list_paper_receipts(store: Store | str | Path, viewer: Viewer, school_code: str | None = None,
                        include_withdrawn: bool = False) -> pd.DataFrame:
    """Current version of each receipt in the viewer's scope, newest receipt first."""
    cond, params = scope_filter(viewer, "school_code", "district_code")
    where, ps = [cond], list(params)
    if school_code:
        where.append("school_code = ?")
        ps.append(school_code)
    if not include_withdrawn:
        where.append("withdrawn = 0")
    df = _read(store, f"SELECT {', '.join(RECEIPT_COLUMNS)} FROM ({_CURRENT}) AS cur "
                      f"WHERE {' AND '.join(where)} ORDER BY received_on DESC, receipt_id DESC", ps)
    return _typed_receipts(df)


def receipt_history(store: Store | str | Path, viewer: Viewer, receipt_id: int) -> pd.DataFrame:
    """Every version of one receipt, oldest first: what it said, who recorded it, when, why."""
    cond, params = scope_filter(viewer, "school_code", "district_code")
    df = _read(store, f"SELECT {', '.join(RECEIPT_COLUMNS)} FROM paper_receipts "
                      f"WHERE receipt_id = ? AND {cond} ORDER BY version", [int(receipt_id)] + params)
    return _typed_receipts(df)


def data_version(store: Store | str | Path) -> tuple[int, int, int]:
    """(newest follow-up id, newest receipt version id, newest audit id): changes with every
    write, so caches of anything that reads the operational store can key on it. (0, 0, 0)
    without a store."""
    st = _store(store)

    def read() -> tuple[int, int, int]:
        df = _read(st, "SELECT (SELECT coalesce(max(id), 0) FROM follow_ups), "
                       "(SELECT coalesce(max(id), 0) FROM paper_receipts), "
                       "(SELECT coalesce(max(id), 0) FROM audit_log)")
        return (0, 0, 0) if df is None else tuple(int(x) for x in df.iloc[0])

    # Asked by every page view: remembered until ops.sqlite changes (data_access.file_memo);
    # on PostgreSQL for ops_db.max_age() (another replica's write is seen that late).
    return file_memo.remembered(("data_version", st.key), st.ops_files(), read, ops_db.max_age())


def register_version(store: Store | str | Path) -> int:
    """Changes whenever the paper-copy register changes (the engine's results depend on it)."""
    return data_version(store)[1]


def current_paper_receipts(store: Store | str | Path) -> pd.DataFrame:
    """For the engine (whole city, no viewer): the receipts in force, one row per receipt —
    school_code, report_code, received_on (datetime.date), signed (bool), stamped (bool).
    Withdrawn receipts are left out. Empty when there is no operational store yet."""
    df = _read(store, f"SELECT school_code, report_code, received_on, signed, stamped FROM ({_CURRENT}) AS cur "
                      f"WHERE withdrawn = 0 ORDER BY school_code, report_code, received_on")
    cols = ["school_code", "report_code", "received_on", "signed", "stamped"]
    if df is None:
        df = pd.DataFrame(columns=cols)
    df = df[cols].copy()
    df["received_on"] = pd.Series([dt.date.fromisoformat(v) for v in df["received_on"]],
                                  index=df.index, dtype=object)
    df["signed"] = df["signed"].astype(bool)
    df["stamped"] = df["stamped"].astype(bool)
    return df
