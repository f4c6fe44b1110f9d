"""Imports from the browser, and hiding a wrong snapshot (the page "Nhập dữ liệu" calls this).

Why this shape:
- An upload is saved into a private folder ``STORE/tmp/upload-<id>/`` (``files/``: what was
  uploaded; ``scratch/``: a scratch store). Nothing outside that folder is written until the
  administrator confirms, and discarding it (or a crash) leaves the store as it was; folders
  older than a day are removed by the next upload.
- Validation is the real importer (``ingest.ingest``) run into the scratch store, whose
  ``snapshots/`` and ``derived/`` hold symbolic links to the visible snapshots of the store and
  to their cached derived facts, and whose operational store is the real one (paper-copy
  register). So the engine evaluates the new snapshot with the same history and register as it
  will have once published, and the preview (institutions, students, findings, city progress
  per requirement, before → after) is what the dashboard will show.
- Confirming publishes the very file that was previewed: its derived facts are moved into the
  store, then the file is renamed into ``snapshots/`` (the one atomic step, under the same
  per-content lock as the CLI import); the import is logged (table ``imports``) and audited.
- The long steps run in a background thread (``start_validation``/``start_publish``) that the
  page polls: other sessions keep working (snapshots are separate read-only files, nothing is
  locked), and at most one import job runs at a time per process (others wait their turn).
- Hiding: table ``hidden_snapshots`` in ops.sqlite (who, when, why; unhide keeps the row and
  adds who, when, why). ``Store.list_snapshots`` reads the set and leaves hidden snapshots out
  of every view and of the history; the file stays on disk.

Every refusal of a user's action raises :class:`ImportRefused` (Vietnamese message, nothing
written); an extract refused by the importer is a :class:`Validation` with ``ok=False`` and the
importer's message (file, row, column).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

import pandas as pd

from . import engine, ops, ops_db, readers
from .access import Viewer
from .campaign import Campaign, load_campaign
from .errors import ExtractError
from .evaluate import ensure_derived, evaluate
from .ingest import fmt_int, fmt_time, ingest
from .store import TZ, Store, iso_time, parse_time

ADMIN_ROLE = "quan_tri"
UPLOAD_PREFIX = "upload-"          # Store.clean_tmp touches only import-*: these are ours
STALE_UPLOAD_SECONDS = 24 * 3600
ZIP_SUFFIXES = (".zip",)
FILE_SUFFIXES = readers.CSV_SUFFIXES + readers.XLSX_SUFFIXES + readers.OLD_EXCEL_SUFFIXES
MANIFEST_SUFFIXES = (".toml",)
UPLOAD_TYPES = ["zip", "csv", "xlsx", "xlsm", "xls", "ods", "toml"]   # for st.file_uploader
SEVERITIES = ("error", "warning")
SEVERITY_LABELS = {"error": "Lỗi (chặn hoàn thành)", "warning": "Cảnh báo"}
IMPORT_THREADS = max(1, (os.cpu_count() or 2) - 1)   # leave a core to the pages being served

ProgressFn = Callable[[float, str], None]


class ImportRefused(ValueError):
    """A user's action refused (permission, upload shape, missing reason…): the message is
    Vietnamese and shown as is; nothing was written."""


# ---- operational store tables -----------------------------------------------------------------
# Tables imports and hidden_snapshots: data_access/migrations (issue 17).

def _st(store: Store | str | Path) -> Store:
    return store if isinstance(store, Store) else Store(Path(store))


def _ensure(store: Store | str | Path) -> None:
    ops_db.ensure(_st(store))


@contextlib.contextmanager
def _tx(store: Store | str | Path):
    """One short durable write transaction on ops.sqlite, on our tables."""
    _ensure(store)
    with ops.transaction(store) as con:
        yield con


def _query(store: Store | str | Path, sql: str, params=()) -> pd.DataFrame | None:
    """Rows of a query on our tables, or None when there is no operational store yet."""
    return ops_db.query(_st(store), sql, params)


def _require_admin(viewer: Viewer | None) -> Viewer:
    if viewer is None or viewer.role != ADMIN_ROLE:
        raise ImportRefused("Chỉ tài khoản Quản trị được nhập dữ liệu và ẩn/hiện snapshot.")
    return viewer


def _now() -> dt.datetime:
    return dt.datetime.now(TZ).replace(microsecond=0)


# ---- uploads ----------------------------------------------------------------------------------
@dataclass
class Upload:
    """An upload saved in its private work folder."""
    id: str
    folder: Path
    extract: Path                         # the .zip, or the folder of the uploaded files
    names: list[str]                      # file names as uploaded
    manifest_as_of: dt.datetime | None = None
    manifest_source: str | None = None

    @property
    def scratch_root(self) -> Path:
        return self.folder / "scratch"


def _safe_name(name: str) -> str:
    base = Path(str(name).replace("\\", "/")).name.strip()
    if not base or base in (".", "..") or base.startswith("."):
        raise ImportRefused(f"Tên tệp «{name}» không hợp lệ. Hãy đổi tên tệp rồi tải lên lại.")
    return base


def _write(target: Path, data) -> None:
    with open(target, "wb") as out:
        if isinstance(data, (bytes, bytearray, memoryview)):
            out.write(data)
        else:
            if hasattr(data, "seek"):
                with contextlib.suppress(Exception):
                    data.seek(0)
            shutil.copyfileobj(data, out, readers.CHUNK)
        out.flush()
        os.fsync(out.fileno())


def clean_uploads(store: Store | str | Path, stale_seconds: float = STALE_UPLOAD_SECONDS,
                  keep: Iterable[str] = ()) -> list[str]:
    """Remove upload folders not touched for ``stale_seconds`` (abandoned previews, killed
    servers), except those of live jobs and ``keep``."""
    s = _st(store)
    removed = []
    if not s.tmp_dir.is_dir():
        return removed
    live = {j.upload_id for j in _JOBS.values() if j.status in ("queued", "running")} | set(keep)
    for entry in os.scandir(s.tmp_dir):
        if not entry.name.startswith(UPLOAD_PREFIX) or entry.name[len(UPLOAD_PREFIX):] in live:
            continue
        with contextlib.suppress(OSError):
            if time.time() - entry.stat(follow_symlinks=False).st_mtime > stale_seconds:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.name)
    return removed


def save_upload(store: Store | str | Path, viewer: Viewer | None,
                files: list[tuple[str, bytes | BinaryIO]]) -> Upload:
    """Save the uploaded files — one .zip, or several CSV/XLSX files plus an optional
    manifest (.toml) — into a new private work folder under STORE/tmp. Raises ImportRefused
    for an upload of the wrong shape (nothing is kept then)."""
    _require_admin(viewer)
    s = _st(store).ensure()
    if not files:
        raise ImportRefused("Chưa chọn tệp nào. Hãy chọn tệp .zip của bản trích xuất, hoặc các tệp CSV/XLSX.")
    names = [_safe_name(n) for n, _ in files]
    low = [n.lower() for n in names]
    zips = [n for n in names if n.lower().endswith(ZIP_SUFFIXES)]
    if zips and len(names) > 1:
        raise ImportRefused(
            "Chỉ tải lên một tệp .zip (cả bản trích xuất), hoặc các tệp CSV/XLSX riêng lẻ — không trộn hai "
            f"cách và không tải nhiều tệp .zip một lúc (đã chọn: {', '.join(names)}).")
    dup = sorted({n for n in low if low.count(n) > 1})
    if dup:
        raise ImportRefused(f"Có hai tệp cùng tên: {', '.join(dup)}. Hãy chọn mỗi tệp một lần.")
    manifests = [n for n in names if n.lower().endswith(MANIFEST_SUFFIXES)]
    if len(manifests) > 1:
        raise ImportRefused(f"Chỉ kèm một tệp manifest (.toml); đã chọn: {', '.join(manifests)}.")
    other = [n for n in names if not n.lower().endswith(ZIP_SUFFIXES + FILE_SUFFIXES + MANIFEST_SUFFIXES)]
    if other:
        raise ImportRefused(
            f"Không nhận loại tệp: {', '.join(other)}. Chỉ nhận .zip, .csv, bảng tính .xlsx/.xlsm/.xls/.ods "
            "và manifest.toml.")
    clean_uploads(s)
    uid = uuid.uuid4().hex[:16]
    folder = s.tmp_dir / f"{UPLOAD_PREFIX}{uid}"
    (folder / "files").mkdir(parents=True)
    try:
        if zips:
            extract = folder / "files" / names[0]
            _write(extract, files[0][1])
        else:
            extract = folder / "files" / "extract"
            extract.mkdir()
            for name, (_, data) in zip(names, files):
                target = readers.MANIFEST_NAME if name.lower().endswith(MANIFEST_SUFFIXES) else name
                _write(extract / target, data)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    up = Upload(uid, folder, extract, names)
    up.manifest_as_of, up.manifest_source = _manifest_of(extract)
    return up


def _manifest_of(extract: Path) -> tuple[dt.datetime | None, str | None]:
    """as_of and source of the upload's manifest, when it has a readable one (for the
    default of the as-of input; validation reports any problem)."""
    try:
        ext = readers.open_extract(extract)
    except ExtractError:
        return None, None
    try:
        m = ext.manifest or {}
        when = None
        with contextlib.suppress(ValueError, TypeError):
            v = m.get("as_of")
            when = parse_time(str(v) if isinstance(v, dt.time) else v)
        src = m.get("source")
        return when, None if src is None else str(src)
    finally:
        ext.close()


def discard(upload: Upload | None) -> None:
    """Remove an upload's work folder (cancel, or after publishing)."""
    if upload is not None:
        shutil.rmtree(upload.folder, ignore_errors=True)


# ---- validation and preview -------------------------------------------------------------------
@dataclass
class Preview:
    current_id: str | None
    current_as_of: pd.Timestamp | None
    new_id: str
    new_as_of: pd.Timestamp
    becomes_newest: bool
    summary: pd.DataFrame          # label, before, after, change
    progress: pd.DataFrame         # requirement_id, name, due, completion before/after/change, on_time before/after
    findings: pd.DataFrame         # severity, label, before, after, change
    added_schools: pd.DataFrame    # school_code, school_name, district_code
    removed_schools: pd.DataFrame
    counts_after: dict = field(default_factory=dict)


@dataclass
class Validation:
    upload: Upload
    ok: bool
    errors: list[str] = field(default_factory=list)     # refusal messages (file, row, column)
    error_at: tuple | None = None                       # (file, row, column) of the refusal
    snapshot_id: str | None = None
    as_of: dt.datetime | None = None
    as_of_given: dt.datetime | None = None
    already: str | None = None                          # "visible" | "hidden": same content imported
    rows: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    preview: Preview | None = None
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # importer's notes (Excel habits seen)
    # rules this snapshot cannot check (an optional file missing: phong_hoc), in Vietnamese
    unchecked: list[str] = field(default_factory=list)


def _link_visible(real: Store, scratch: Store) -> None:
    """The scratch store sees the store's visible snapshots (symbolic links) and their cached
    derived facts: the new snapshot is evaluated with the same history."""
    scratch.ensure()
    for r in real.list_snapshots().itertuples():
        link = scratch.snapshot_path(r.snapshot_id)
        if not link.exists():
            os.symlink(Path(r.path).resolve(), link)
        d = real.derived_dir / r.snapshot_id
        if d.is_dir() and not (scratch.derived_dir / r.snapshot_id).exists():
            os.symlink(d.resolve(), scratch.derived_dir / r.snapshot_id, target_is_directory=True)


def _snapshot_facts(path: str | Path, campaign: Campaign) -> dict:
    """Institutions (list), students, grade-12 students of the requirements' population."""
    con = engine.open_snapshot(path, campaign, upto="staging", threads=IMPORT_THREADS)
    try:
        schools = con.execute("SELECT DISTINCT school_code, school_name, district_code FROM src_schools "
                              "WHERE school_code IS NOT NULL ORDER BY school_code").df()
        students = con.execute("SELECT count(*) FROM src_students").fetchone()[0]
        grade12 = con.execute("SELECT count(*) FROM stg_population").fetchone()[0]
    finally:
        con.close()
    schools = schools.drop_duplicates("school_code")
    return {"schools": schools, "n_schools": len(schools), "students": int(students),
            "grade12": int(grade12)}


def _eval_facts(ev) -> dict:
    sev = ev.df("SELECT severity, count(*) AS n FROM findings GROUP BY severity")
    roll = ev.df("SELECT requirement_id, units_expected, units_done, completion_rate, on_time_rate "
                 "FROM rollup WHERE rollup_by = 'city'")
    return {"findings": {s: int(n) for s, n in zip(sev["severity"], sev["n"])},
            "rollup": roll.set_index("requirement_id")}


def _change(before, after):
    if before is None or after is None or (isinstance(before, float) and pd.isna(before)):
        return None
    return after - before


def build_preview(now: dict | None, after: dict, campaign: Campaign, current, new_id: str,
                  new_as_of) -> Preview:
    """Before → after tables from the facts of the current newest snapshot (None: the store
    is empty) and of the new one."""
    b = now or {}
    rows = [("Số trường", b.get("n_schools"), after["n_schools"]),
            ("Số học sinh", b.get("students"), after["students"]),
            ("Học sinh lớp 12 đang học (đối tượng của các yêu cầu)", b.get("grade12"), after["grade12"])]
    old_codes = set(b["schools"]["school_code"]) if now else set()
    new_schools = after["schools"]
    added = new_schools[~new_schools["school_code"].isin(old_codes)].reset_index(drop=True)
    removed = (b["schools"][~b["schools"]["school_code"].isin(set(new_schools["school_code"]))]
               .reset_index(drop=True) if now else new_schools.iloc[0:0])
    summary = pd.DataFrame([{"label": lbl, "before": bv, "after": av, "change": _change(bv, av)}
                            for lbl, bv, av in rows]
                           + [{"label": "Trường mới (có trong bản mới, không có trong snapshot hiện tại)",
                               "before": None, "after": len(added) if now else None, "change": None},
                              {"label": "Trường không còn (có trong snapshot hiện tại, không có trong bản mới)",
                               "before": None, "after": len(removed) if now else None, "change": None}],
                           columns=["label", "before", "after", "change"])

    fb, fa = b.get("findings", {}), after["findings"]
    sev = [s for s in SEVERITIES if s in fb or s in fa] + sorted((set(fb) | set(fa)) - set(SEVERITIES))
    findings = pd.DataFrame([{"severity": s, "label": SEVERITY_LABELS.get(s, s),
                              "before": fb.get(s, 0) if now else None, "after": fa.get(s, 0),
                              "change": (fa.get(s, 0) - fb.get(s, 0)) if now else None} for s in sev],
                            columns=["severity", "label", "before", "after", "change"])

    rb = b.get("rollup")
    ra = after["rollup"]
    prog = []
    for r in campaign.requirements:
        a = ra.loc[r.id] if r.id in ra.index else None
        o = rb.loc[r.id] if rb is not None and r.id in rb.index else None
        prog.append({
            "requirement_id": r.id, "name": r.name,
            "due": pd.Timestamp(r.due).tz_convert(TZ) if r.due is not None else None,
            "completion_before": None if o is None else float(o["completion_rate"]),
            "completion_after": None if a is None else float(a["completion_rate"]),
            "on_time_before": None if o is None else float(o["on_time_rate"]),
            "on_time_after": None if a is None else float(a["on_time_rate"]),
            "units_before": None if o is None else int(o["units_expected"]),
            "units_after": None if a is None else int(a["units_expected"]),
        })
    progress = pd.DataFrame(prog)
    progress["completion_change"] = progress["completion_after"] - progress["completion_before"]
    cur_id = None if current is None else current["snapshot_id"]
    cur_as_of = None if current is None else current["as_of"]
    new_ts = pd.Timestamp(new_as_of).tz_convert(TZ)
    return Preview(cur_id, cur_as_of, new_id, new_ts,
                   becomes_newest=current is None or new_ts >= cur_as_of,
                   summary=summary, progress=progress, findings=findings,
                   added_schools=added, removed_schools=removed,
                   counts_after={"schools": after["n_schools"], "students": after["students"],
                                 "grade12": after["grade12"], "findings": int(sum(fa.values()))})


class _Phases:
    """Maps the importer's progress lines to a fraction for the progress bar."""

    def __init__(self, cb: ProgressFn | None, n_files: int, lo: float, hi: float, log: list[str]):
        self.cb, self.n, self.lo, self.hi, self.log = cb, max(n_files, 1), lo, hi, log
        self.loaded = 0

    def __call__(self, msg: str) -> None:
        self.log.append(msg)
        if msg.startswith("Nạp "):
            self.loaded += 1
        frac = self.lo + (self.hi - self.lo) * min(self.loaded, self.n) / self.n
        if msg.startswith("Ghi snapshot"):
            frac = self.hi
        if self.cb is not None:
            self.cb(frac, msg.strip())


def _say(cb: ProgressFn | None, frac: float, msg: str, log: list[str]) -> None:
    log.append(msg)
    if cb is not None:
        cb(frac, msg)


def validate(store: Store | str | Path, viewer: Viewer | None, upload: Upload, as_of=None,
             progress: ProgressFn | None = None, campaign: Campaign | None = None,
             school: str | None = None) -> Validation:
    """Run the importer on the upload into its scratch store (nothing published) and compare
    the result with the current newest snapshot. ``as_of`` (typed by the administrator) wins
    over the manifest's. A refused extract gives ``ok=False`` and the importer's message."""
    _require_admin(viewer)
    t0 = time.perf_counter()
    real = _st(store).ensure()
    campaign = campaign or load_campaign()
    log: list[str] = []
    given = parse_time(as_of) if as_of not in (None, "") else None
    v = Validation(upload, ok=False, as_of_given=given, log=log)
    upload.folder.mkdir(parents=True, exist_ok=True)
    os.utime(upload.folder)   # in use: not stale
    if given is None and upload.manifest_as_of is None:
        # The importer's own message speaks of --as-of: say it for the page.
        try:
            ext = readers.open_extract(upload.extract)
            has_manifest = ext.manifest is not None and ext.manifest.get("as_of") is not None
            ext.close()
        except ExtractError as e:
            return _refused(real, viewer, v, e, t0)
        if not has_manifest:
            v.errors = ["Không biết bản trích xuất được xuất lúc nào: không có tệp manifest.toml có dòng "
                        "as_of. Hãy nhập ngày và giờ ở ô «Thời điểm dữ liệu» (hoặc kèm manifest.toml) rồi "
                        "bấm «Kiểm tra» lại."]
            v.error_at = (readers.MANIFEST_NAME, None, "as_of")
            v.seconds = time.perf_counter() - t0
            _audit_refusal(real, viewer, v)
            return v

    # 1. The current figures (this also makes sure every visible snapshot's derived facts exist).
    current = real.snapshot_at(None)
    now = None
    if current is not None:
        _say(progress, 0.01, f"Đọc số liệu của snapshot hiện tại ({fmt_time(current['as_of'])})…", log)
        ev = evaluate(real, None, campaign, threads=IMPORT_THREADS)
        try:
            now = _eval_facts(ev)
        finally:
            ev.close()
        now.update(_snapshot_facts(current["path"], campaign))

    # 2. The importer, into the scratch store.
    scratch_root = upload.scratch_root
    if scratch_root.exists():          # a second check of the same upload: start afresh
        shutil.rmtree(scratch_root)
    scratch = Store(scratch_root)
    _link_visible(real, scratch)
    try:
        ext = readers.open_extract(upload.extract)
        n_files = len(ext.members)
        ext.close()
    except ExtractError as e:
        return _refused(real, viewer, v, e, t0)
    try:
        res = ingest(upload.extract, scratch_root, as_of=given,
                     progress=_Phases(progress, n_files, 0.08, 0.6, log), school=school or None)
    except ExtractError as e:
        return _refused(real, viewer, v, e, t0)
    v.snapshot_id, v.as_of, v.rows, v.files = res.snapshot_id, res.as_of, res.rows, res.files
    v.notes = list(res.notes)
    v.unchecked = list(res.unchecked)
    if real.has_snapshot(res.snapshot_id):
        hidden = res.snapshot_id in real.hidden_snapshot_ids()
        v.already = "hidden" if hidden else "visible"
        v.ok = True
        v.seconds = time.perf_counter() - t0
        _say(progress, 1.0, "Bản trích xuất này đã được nhập trước đây.", log)
        return v

    # 3. The engine on the new snapshot, with the store's history and register.
    scratch.ops_path = real.ops_path
    _say(progress, 0.62, "Tính tiến độ và lỗi dữ liệu của bản mới…", log)
    new_path = scratch.snapshot_path(res.snapshot_id)
    ensure_derived(scratch, res.snapshot_id, new_path, pd.Timestamp(res.as_of), campaign,
                   threads=IMPORT_THREADS)
    _say(progress, 0.85, "So sánh với snapshot hiện tại…", log)
    ev = evaluate(scratch, res.as_of, campaign, threads=IMPORT_THREADS)
    try:
        after = _eval_facts(ev)
    finally:
        ev.close()
    after.update(_snapshot_facts(new_path, campaign))
    v.preview = build_preview(now, after, campaign, current, res.snapshot_id, res.as_of)
    v.ok = True
    v.seconds = time.perf_counter() - t0
    _say(progress, 1.0, f"Đã kiểm tra xong ({v.seconds:.1f} giây).".replace(".", ",", 1), log)
    c = v.preview.counts_after
    ops.audit(real, viewer, "import.validate", f"snapshot:{res.snapshot_id}", rows=c["students"],
              detail={"files": upload.names, "as_of": iso_time(res.as_of), "schools": c["schools"],
                      "students": c["students"], "grade12": c["grade12"], "findings": c["findings"]})
    return v


def _refused(real: Store, viewer: Viewer, v: Validation, e: ExtractError, t0: float) -> Validation:
    v.ok = False
    v.errors = [str(e)]
    v.error_at = (e.file, e.row, e.column)
    v.seconds = time.perf_counter() - t0
    shutil.rmtree(v.upload.scratch_root, ignore_errors=True)
    _audit_refusal(real, viewer, v)
    return v


def _audit_refusal(real: Store, viewer: Viewer, v: Validation) -> None:
    f, r, c = v.error_at or (None, None, None)
    ops.audit(real, viewer, "import.refused", ", ".join(v.upload.names)[:500],
              detail={"message": v.errors[0] if v.errors else None, "file": f, "row": r, "column": c})


# ---- publishing -------------------------------------------------------------------------------
@dataclass
class PublishResult:
    snapshot_id: str
    created: bool
    as_of: dt.datetime
    counts: dict
    rows: dict
    seconds: float
    import_id: int | None = None


def _stamp_meta(path: Path, upload: Upload, when: dt.datetime) -> None:
    """Before registration: the time of the real import and where the files came from."""
    import duckdb
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE _meta SET value = ? WHERE key = 'imported_at'",
                    [when.astimezone(dt.timezone.utc).isoformat(timespec="seconds")])
        con.execute("UPDATE _meta SET value = ? WHERE key = 'extract_path'",
                    ["tải lên qua trình duyệt: " + ", ".join(upload.names)])
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _move_derived(scratch: Store, real: Store, sid: str) -> None:
    src = scratch.derived_dir / sid
    if not src.is_dir() or src.is_symlink():
        return
    dst = real.derived_dir / sid
    real.derived_dir.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        with contextlib.suppress(OSError):
            os.replace(src, dst)
        return
    for sub in src.iterdir():      # a folder left by an earlier attempt: add what it lacks
        if not (dst / sub.name).exists():
            with contextlib.suppress(OSError):
                os.replace(sub, dst / sub.name)


def publish(store: Store | str | Path, viewer: Viewer | None, v: Validation,
            progress: ProgressFn | None = None, campaign: Campaign | None = None) -> PublishResult:
    """Publish the validated snapshot (the file that was previewed), precompute its derived
    facts, log the import and audit it; then remove the upload's work folder."""
    _require_admin(viewer)
    t0 = time.perf_counter()
    if not v.ok or v.snapshot_id is None:
        raise ImportRefused("Bản trích xuất chưa được kiểm tra hoặc bị từ chối: không nhập được.")
    real = _st(store).ensure()
    campaign = campaign or load_campaign()
    sid = v.snapshot_id
    log: list[str] = []
    scratch = Store(v.upload.scratch_root)
    src = scratch.snapshot_path(sid)
    created = False
    with real.content_lock(sid):
        if not real.has_snapshot(sid):
            if not src.is_file() or src.is_symlink():
                raise ImportRefused("Bản đã kiểm tra không còn (đã hủy hoặc quá hạn). Hãy tải lên và kiểm "
                                    "tra lại.")
            _say(progress, 0.2, f"Ghi snapshot {sid}…", log)
            _stamp_meta(src, v.upload, _now())
            _move_derived(scratch, real, sid)
            real.publish(src, sid)
            created = True
    _say(progress, 0.6, "Tính sẵn tiến độ và lỗi dữ liệu…", log)
    path = real.snapshot_path(sid)
    ensure_derived(real, sid, path, pd.Timestamp(v.as_of), campaign, threads=IMPORT_THREADS)
    counts = dict(v.preview.counts_after) if v.preview is not None else {}
    if not counts:
        meta = real.read_meta(sid)
        counts = {"schools": meta["rows"].get("schools"), "students": meta["rows"].get("students")}
    seconds = v.seconds + (time.perf_counter() - t0)
    source = v.upload.manifest_source
    with _tx(real) as con:
        cur = con.execute(
            "INSERT INTO imports (snapshot_id, created, as_of, imported_at, imported_by, role, files, source,"
            " schools, students, grade12, findings, rows, seconds) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " RETURNING id",
            [sid, int(created), iso_time(v.as_of), _now().isoformat(), viewer.username, viewer.role,
             json.dumps(v.upload.names, ensure_ascii=False), source, counts.get("schools"),
             counts.get("students"), counts.get("grade12"), counts.get("findings"),
             json.dumps(v.rows, ensure_ascii=False), round(seconds, 2)])
        import_id = cur.fetchone()[0]
        ops._audit(con, viewer, "import.publish" if created else "import.same_content", f"snapshot:{sid}",
                   None, counts.get("students"),
                   {"import_id": import_id, "as_of": iso_time(v.as_of), "files": v.upload.names,
                    "rows": v.rows, **{k: counts.get(k) for k in ("schools", "students", "grade12",
                                                                   "findings")}})
    discard(v.upload)
    _say(progress, 1.0, f"Đã nhập snapshot {sid}." if created else f"Đã có snapshot {sid}.", log)
    return PublishResult(sid, created, v.as_of, counts, v.rows, seconds, int(import_id))


# ---- background jobs --------------------------------------------------------------------------
@dataclass
class Job:
    id: str
    kind: str                       # "validate" | "publish"
    upload_id: str
    status: str = "queued"          # queued | running | done | failed
    fraction: float = 0.0
    message: str = "Đang chờ lượt…"
    result: object = None           # Validation | PublishResult
    error: str | None = None        # ImportRefused message or unexpected failure
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")


_JOBS: dict[str, Job] = {}
_JOBS_LOCK = threading.Lock()
_TURN = threading.Semaphore(1)     # one import at a time per process: the machine has 2 cores
_KEEP_FINISHED = 3600


def get_job(job_id: str | None) -> Job | None:
    return _JOBS.get(job_id) if job_id else None


def _start(kind: str, upload: Upload, fn: Callable[[ProgressFn], object]) -> Job:
    job = Job(uuid.uuid4().hex, kind, upload.id)
    with _JOBS_LOCK:
        for k in [k for k, j in _JOBS.items()
                  if not j.running and j.finished_at and time.time() - j.finished_at > _KEEP_FINISHED]:
            _JOBS.pop(k, None)
        _JOBS[job.id] = job

    def progress(frac: float, msg: str) -> None:
        job.fraction = max(job.fraction, min(1.0, float(frac)))
        job.message = msg

    def run() -> None:
        with _TURN:
            job.status, job.message = "running", "Bắt đầu…"
            try:
                job.result = fn(progress)
                job.status = "done"
                job.fraction = 1.0
            except ImportRefused as e:
                job.error, job.status = str(e), "failed"
            except Exception as e:  # noqa: BLE001 - shown to the administrator, logged in full
                traceback.print_exc(file=sys.stderr)
                job.error = f"Lỗi không mong đợi khi {('kiểm tra' if kind == 'validate' else 'nhập')}: " \
                            f"{type(e).__name__}: {e}"
                job.status = "failed"
            finally:
                job.finished_at = time.time()

    threading.Thread(target=run, name=f"import-{kind}-{job.id[:8]}", daemon=True).start()
    return job


def start_validation(store, viewer: Viewer | None, upload: Upload, as_of=None,
                     school: str | None = None) -> Job:
    _require_admin(viewer)
    return _start("validate", upload,
                  lambda p: validate(store, viewer, upload, as_of, progress=p, school=school))


def school_choices(store) -> list[tuple[str, str]]:
    """(code, name) of the newest snapshot's schools, for the import page's school picker (a
    student list without a school-code column); empty before the first import."""
    import duckdb  # noqa: PLC0415

    cur = _st(store).snapshot_at(None)
    if cur is None:
        return []
    con = duckdb.connect(str(cur["path"]), read_only=True)
    try:
        return [(c, n or "") for c, n in con.execute(
            "SELECT school_code, school_name FROM schools WHERE school_code IS NOT NULL ORDER BY 1").fetchall()]
    finally:
        con.close()


def start_publish(store, viewer: Viewer | None, v: Validation) -> Job:
    _require_admin(viewer)
    return _start("publish", v.upload, lambda p: publish(store, viewer, v, progress=p))


def wait(job: Job, timeout: float = 120.0) -> Job:
    """Block until the job ends (tests and the command line)."""
    end = time.time() + timeout
    while job.running and time.time() < end:
        time.sleep(0.05)
    return job


# ---- hiding -----------------------------------------------------------------------------------
def hide_snapshot(store: Store | str | Path, viewer: Viewer | None, snapshot_id: str, reason: str) -> None:
    """Hide a wrong snapshot: kept on disk, left out of every view and of the history."""
    _require_admin(viewer)
    s = _st(store)
    reason = (reason or "").strip()
    if not reason:
        raise ImportRefused("Hãy ghi lý do ẩn snapshot (ví dụ: bản trích xuất sai, xuất thiếu quận).")
    if not s.has_snapshot(snapshot_id):
        raise ImportRefused(f"Không có snapshot {snapshot_id} trong kho.")
    visible = s.list_snapshots()
    if snapshot_id not in set(visible["snapshot_id"]):
        raise ImportRefused(f"Snapshot {snapshot_id} đang bị ẩn rồi.")
    if len(visible) <= 1:
        raise ImportRefused("Không ẩn được snapshot duy nhất còn hiển thị: bảng theo dõi sẽ không còn số liệu "
                            "nào. Hãy nhập bản đúng trước, rồi ẩn bản sai.")
    with _tx(s) as con:
        if con.execute("SELECT 1 FROM hidden_snapshots WHERE snapshot_id = ? AND unhidden_at IS NULL",
                       [snapshot_id]).fetchone():
            raise ImportRefused(f"Snapshot {snapshot_id} đang bị ẩn rồi.")
        con.execute("INSERT INTO hidden_snapshots (snapshot_id, hidden_at, hidden_by, reason) VALUES (?,?,?,?)",
                    [snapshot_id, _now().isoformat(), viewer.username, reason])
        ops._audit(con, viewer, "snapshot.hide", f"snapshot:{snapshot_id}", None, None, {"reason": reason})


def unhide_snapshot(store: Store | str | Path, viewer: Viewer | None, snapshot_id: str, reason: str) -> None:
    """Show a hidden snapshot again (the hiding stays in the table's history)."""
    _require_admin(viewer)
    s = _st(store)
    reason = (reason or "").strip()
    if not reason:
        raise ImportRefused("Hãy ghi lý do hiện lại snapshot.")
    with _tx(s) as con:
        cur = con.execute("UPDATE hidden_snapshots SET unhidden_at = ?, unhidden_by = ?, unhide_reason = ? "
                          "WHERE snapshot_id = ? AND unhidden_at IS NULL",
                          [_now().isoformat(), viewer.username, reason, snapshot_id])
        if cur.rowcount == 0:
            raise ImportRefused(f"Snapshot {snapshot_id} không bị ẩn.")
        ops._audit(con, viewer, "snapshot.unhide", f"snapshot:{snapshot_id}", None, None, {"reason": reason})


# ---- the list of snapshots and imports ---------------------------------------------------------
_META: dict[tuple[str, float], dict] = {}
_META_LOCK = threading.Lock()


def _meta(store: Store, sid: str, path: str) -> dict:
    """A snapshot's _meta (immutable file: cached by path and mtime)."""
    try:
        key = (path, os.stat(path).st_mtime)
    except FileNotFoundError:
        return {}
    with _META_LOCK:
        m = _META.get(key)
    if m is None:
        try:
            m = store.read_meta(sid)
        except Exception:  # noqa: BLE001 - a damaged file: listed without its details
            m = {}
        with _META_LOCK:
            _META[key] = m
    return m


SNAPSHOT_COLUMNS = ["snapshot_id", "as_of", "imported_at", "imported_by", "via", "source", "schools",
                    "students", "hidden", "hidden_by", "hidden_at", "hidden_reason", "newest"]


def snapshot_list(store: Store | str | Path) -> pd.DataFrame:
    """Every snapshot on disk, newest as-of first: when it was imported and by whom (the
    browser imports' log; snapshots imported from the command line show their _meta
    imported_at and source), row counts, hidden or not (who, when, why), and which one the
    dashboard shows as newest."""
    s = _st(store)
    snaps = s.list_snapshots(include_hidden=True)
    log = _query(s, "SELECT snapshot_id, imported_at, imported_by, files, source FROM imports "
                    "WHERE created = 1 ORDER BY id")
    by_log = {} if log is None else {r.snapshot_id: r for r in log.itertuples()}
    hid = _query(s, "SELECT snapshot_id, hidden_at, hidden_by, reason FROM hidden_snapshots "
                    "WHERE unhidden_at IS NULL")
    by_hid = {} if hid is None else {r.snapshot_id: r for r in hid.itertuples()}
    visible = snaps[~snaps["hidden"]] if not snaps.empty else snaps
    newest = None if visible.empty else visible.iloc[-1]["snapshot_id"]
    rows = []
    for r in snaps.itertuples():
        m = _meta(s, r.snapshot_id, r.path)
        lg = by_log.get(r.snapshot_id)
        h = by_hid.get(r.snapshot_id)
        if lg is not None:
            at, who, via = lg.imported_at, lg.imported_by, "trình duyệt"
            files = ", ".join(json.loads(lg.files or "[]"))
            source = lg.source or files
        else:
            at, who, via = m.get("imported_at"), None, "dòng lệnh (CLI)"
            source = m.get("source") or m.get("extract_path")
        rows.append({
            "snapshot_id": r.snapshot_id, "as_of": r.as_of,
            "imported_at": pd.Timestamp(at).tz_convert(TZ) if at else pd.NaT,
            "imported_by": who, "via": via, "source": source,
            "schools": (m.get("rows") or {}).get("schools"), "students": (m.get("rows") or {}).get("students"),
            "hidden": bool(r.hidden), "hidden_by": h.hidden_by if h is not None else None,
            "hidden_at": pd.Timestamp(h.hidden_at).tz_convert(TZ) if h is not None else pd.NaT,
            "hidden_reason": h.reason if h is not None else None,
            "newest": r.snapshot_id == newest,
        })
    df = pd.DataFrame(rows, columns=SNAPSHOT_COLUMNS)
    return df.iloc[::-1].reset_index(drop=True)


def import_log(store: Store | str | Path, limit: int = 200) -> pd.DataFrame:
    """The browser imports, newest first (the raw log)."""
    df = _query(_st(store), "SELECT * FROM imports ORDER BY id DESC LIMIT ?", [int(limit)])
    return df if df is not None else pd.DataFrame(
        columns=["id", "snapshot_id", "created", "as_of", "imported_at", "imported_by", "role", "files",
                 "source", "schools", "students", "grade12", "findings", "rows", "seconds"])


def hidden_history(store: Store | str | Path) -> pd.DataFrame:
    df = _query(_st(store), "SELECT * FROM hidden_snapshots ORDER BY id DESC")
    return df if df is not None else pd.DataFrame(
        columns=["id", "snapshot_id", "hidden_at", "hidden_by", "reason", "unhidden_at", "unhidden_by",
                 "unhide_reason"])


def describe_result(r: PublishResult) -> str:
    c = r.counts
    if not r.created:
        return f"Bản trích xuất này đã có trong kho (snapshot {r.snapshot_id}): không tạo bản mới."
    parts = [f"{fmt_int(c['schools'])} trường" if c.get("schools") is not None else None,
             f"{fmt_int(c['students'])} học sinh" if c.get("students") is not None else None,
             f"{fmt_int(c['grade12'])} học sinh lớp 12 đang học" if c.get("grade12") is not None else None,
             f"{fmt_int(c['findings'])} lỗi dữ liệu" if c.get("findings") is not None else None]
    return (f"Đã nhập snapshot **{r.snapshot_id}** (thời điểm dữ liệu {fmt_time(r.as_of)}): "
            + ", ".join(p for p in parts if p) + ". Các trang khác thấy số liệu mới khi tải lại.")
