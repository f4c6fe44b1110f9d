"""The import: an extract (folder or .zip) → one immutable snapshot DuckDB file in the store.

Steps, and why in this order:
1. Find the files and the as-of time (cheap refusals first: missing file, no as-of).
2. One streamed pass per file in schema order: hash the raw bytes (the content hash gives the
   snapshot id, so an identical extract is recognised before any work), detect the encoding.
3. Under a per-snapshot-id lock: if the snapshot exists, say so and stop (created=False).
   Otherwise match headers for every file (refusals before the long loads), load every table
   into a DuckDB file in STORE/tmp/, repair names, check keys, write _meta and _files, close,
   fsync, and rename the file into snapshots/ as the very last step.
A failure or a kill at any moment leaves snapshots/ as it was; the work folder is removed
(or, after a kill, by the next import).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from . import pause_points, readers, schema
from .errors import ExtractError
from .readers import refuse
from .store import FORMAT_VERSION, TZ, Store, iso_time, make_snapshot_id, parse_time

from .text_repair import LEGACY_ENCODERS, LEGACY_TAGS, repair_name, tcvn3_name_case

# Required files that must hold at least one data row (a city where no one has reported yet is
# a valid bao_cao; a city with no school, or no student, is a broken export: imported, it would
# show every student requirement at 0 students).
MUST_HAVE_ROWS = ("schools", "students")
# A code that Excel turned into a number shown in scientific notation (7.90007E+12): its digits
# are lost, and every such code of the same magnitude looks alike.
SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?E\+?[0-9]+", re.IGNORECASE)
SCIENTIFIC_RE2 = r"(?i)[0-9]+([.,][0-9]+)?E\+?[0-9]+"           # the same for DuckDB
SCIENTIFIC_HINT_VI = "Excel đã đổi mã thành dạng số mũ: hãy định dạng cột là Text (Văn bản) và nhập lại"
SCIENTIFIC_HINT_EN = "Excel turned the code into scientific notation: format the column as Text and import again"
# Columns holding codes (scientific notation = Excel mangled them) and dates (a bare 5-digit
# number = an Excel date serial: 10000 is 18/05/1927, 73050 is 31/12/2099; a 4-digit number is
# more likely a year typed alone, so it is not called a serial).
CODE_COLUMNS = ("school_code", "student_id", "id_number", "personal_id", "staff_id", "class_code",
                "room_code", "district_code")
DATE_COLUMNS = ("birth_date", "received_on", "submitted_at")
EXCEL_EPOCH = dt.date(1899, 12, 30)        # serial 1 = 01/01/1900 (Excel's 1900 system, after 1900-03-01)
SERIAL_MIN, SERIAL_MAX = 10_000, 73_050
KEY_WORDS = {  # for duplicate-key messages: (vi, en) of "each ... has a unique code"
    "schools": ("mỗi trường có một mã duy nhất", "make each school code unique"),
    "students": ("mỗi học sinh có một mã duy nhất", "make each student code unique"),
}


@dataclass
class IngestResult:
    snapshot_id: str
    created: bool
    as_of: dt.datetime
    rows: dict[str, int] = field(default_factory=dict)
    files: list[tuple[str, str, str, int]] = field(default_factory=list)  # (table, file, encoding, rows)
    seconds: float = 0.0
    path: str = ""
    # Hints about values Excel mangled (they still become findings; the import goes on):
    # 'Tệp F, dòng R, cột "C": ...', Vietnamese, for the person importing. Also said through
    # `progress` as "  Lưu ý: ..." lines (the CLI prints them, the import page logs them).
    notes: list[str] = field(default_factory=list)

    @property
    def unchecked(self) -> list[str]:
        """What this snapshot cannot check because an optional file is missing (phong_hoc: the
        one-level-per-room rule), in Vietnamese: the CLI summary and the import page say it."""
        return unchecked_notes({f[0] for f in self.files}) if self.created else []


def _say(progress: Callable[[str], None] | None, msg: str) -> None:
    if progress is not None:
        progress(msg)


def fmt_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def fmt_seconds(s: float) -> str:
    return f"{s:.1f}".replace(".", ",")


def fmt_time(d: dt.datetime) -> str:
    return d.astimezone(TZ).strftime("%d/%m/%Y %H:%M:%S")


def resolve_as_of(as_of, ext: readers.Extract) -> dt.datetime:
    """--as-of wins; else manifest.toml as_of; naive means +07:00; neither refuses."""
    if as_of is not None and not (isinstance(as_of, str) and not as_of.strip()):
        try:
            return parse_time(as_of)
        except ValueError as e:
            raise ExtractError(str(e), column="--as-of") from None
    value = (ext.manifest or {}).get("as_of")
    if value is None:
        name = ext.manifest_name or readers.MANIFEST_NAME
        how_vi = (f"Hãy thêm dòng as_of = 2022-04-27T17:00:00+07:00 vào {name} (hoặc dùng --as-of) "
                  f"rồi nhập lại.")
        how_en = f"add as_of = 2022-04-27T17:00:00+07:00 to {name} (or pass --as-of) and import again."
        if ext.manifest is not None:
            raise refuse(f"không có dòng as_of (thời điểm xuất dữ liệu) và không có tham số --as-of. {how_vi}",
                         f"no as_of (export time) and no --as-of was given; {how_en}", name, None, "as_of")
        raise refuse(f"Không biết bản trích xuất được xuất lúc nào: không có tệp {name} và không có tham số "
                     f"--as-of. {how_vi}",
                     f"Unknown export time: there is no {name} and no --as-of was given; {how_en}",
                     name, None, "as_of", locate=False)
    if isinstance(value, dt.time):
        value = str(value)
    try:
        return parse_time(value)
    except ValueError:
        name = ext.manifest_name or readers.MANIFEST_NAME
        raise refuse(
            f"giá trị as_of {str(value)!r} không phải thời điểm hợp lệ. Hãy ghi dạng "
            f"as_of = 2022-04-27T17:00:00+07:00 hoặc \"27/04/2022 17:00\" rồi nhập lại.",
            f"as_of {str(value)!r} is not a valid time; write it as 2022-04-27T17:00:00+07:00 or "
            f"\"27/04/2022 17:00\" and import again.", name, None, "as_of") from None


def _existing_result(store: Store, sid: str, as_of: dt.datetime, t0: float) -> IngestResult:
    meta = store.read_meta(sid)
    files = [(f["table_name"], f["file_name"], f["encoding"], int(f["rows"] or 0))
             for f in meta["files"] if f["present"]]
    rows = {t.name: int(meta["rows"].get(t.name, 0)) for t in schema.TABLES}
    return IngestResult(sid, False, as_of, rows, files, time.perf_counter() - t0,
                        str(store.snapshot_path(sid)))


def repair_names(con, table: schema.Table) -> int:
    """full_name := repaired NFC name; full_name_raw := the name as in the file (trimmed) when
    it differs; full_name_legacy := 'TCVN3'/'VNI' when legacy text was repaired. Works on the
    distinct names only. Returns the number of distinct names changed."""
    import pyarrow as pa  # noqa: PLC0415

    cur = con.execute(f'SELECT DISTINCT full_name FROM "{table.name}" WHERE full_name IS NOT NULL')
    raw, fixed, tags = [], [], []
    while True:
        batch = cur.fetchmany(100_000)
        if not batch:
            break
        for (name,) in batch:
            new, tag = repair_name(name)
            new = (new or "").strip() or None
            if new != name or tag:
                raw.append(name)
                fixed.append(new)
                tags.append(tag)
    if not raw:
        return 0
    fix = pa.table({"name": pa.array(raw, pa.string()), "fixed": pa.array(fixed, pa.string()),
                    "tag": pa.array(tags, pa.string())})
    _update_names(con, table, fix, "full_name_raw = t.full_name, full_name = m.fixed, full_name_legacy = m.tag")
    return len(raw)


def _update_names(con, table: schema.Table, fix, assignments: str) -> None:
    """UPDATE the table's rows whose full_name is in ``fix`` (a pyarrow table with a ``name``
    column; ``m`` in ``assignments``): one set-based statement instead of a row per name."""
    con.register("_name_fix", fix)
    try:
        con.execute(f'UPDATE "{table.name}" AS t SET {assignments} FROM _name_fix AS m WHERE t.full_name = m.name')
    finally:
        con.unregister("_name_fix")


def tag_legacy_names(con, table: schema.Table, encoding: str) -> int:
    """Names of a whole file decoded from TCVN3 or VNI bytes (readers.transcode): reported
    exactly like a name repaired from TCVN3/VNI text, so the school sees the same
    NAME_LEGACY_ENCODING warning either way. Every name holding a non-ASCII letter gets
    full_name_legacy := 'TCVN3'/'VNI' and full_name_raw := the name in the legacy encoding as
    text (its bytes read as Latin-1, e.g. 'NguyÔn ThÞ ¸nh'), the form the text repair keeps;
    TCVN3 names get their capitals back (the encoding has no capital with a tone: '¸nh' is
    'ánh' or 'Ánh', and a name is Title Case). Returns the number of distinct names tagged."""
    import pyarrow as pa  # noqa: PLC0415

    encode, tag = LEGACY_ENCODERS[encoding], LEGACY_TAGS[encoding]
    cur = con.execute(f'SELECT DISTINCT full_name FROM "{table.name}" WHERE full_name IS NOT NULL')
    raw, fixed = [], []
    while True:
        batch = cur.fetchmany(100_000)
        if not batch:
            break
        for (name,) in batch:
            if name.isascii():
                continue
            raw.append(name)
            fixed.append(tcvn3_name_case(name) if encoding == "tcvn3" else name)
    if not raw:
        return 0
    fix = pa.table({"name": pa.array(raw, pa.string()), "fixed": pa.array(fixed, pa.string()),
                    "legacy": pa.array([encode(n) for n in raw], pa.string())})
    _update_names(con, table, fix, f"full_name_raw = m.legacy, full_name = m.fixed, full_name_legacy = '{tag}'")
    return len(raw)


def check_keys(con, table: schema.Table, hm: readers.HeaderMap, file: str) -> None:
    if not table.key:
        return
    keys = ", ".join(f'"{k}"' for k in table.key)
    not_null = " AND ".join(f'"{k}" IS NOT NULL' for k in table.key)
    row = con.execute(f"""
        WITH k AS (
            SELECT {keys}, _row,
                   first_value(_row) OVER w AS first_row,
                   row_number() OVER w AS rn
            FROM "{table.name}" WHERE {not_null}
            WINDOW w AS (PARTITION BY {keys} ORDER BY _row))
        SELECT concat_ws(' / ', {keys}), _row, first_row,
               (SELECT count(*) FROM k WHERE rn > 1)
        FROM k WHERE rn = 2 ORDER BY _row LIMIT 1""").fetchone()
    if row is None:
        return
    key, at, first, n_dup = row
    header = hm.header_of(table.key[0])
    vi_what, en_what = KEY_WORDS.get(table.name, ("mỗi dòng có một mã duy nhất", "make each key unique"))
    more_vi = f" (tổng cộng {fmt_int(n_dup)} dòng bị trùng mã)" if n_dup > 1 else ""
    more_en = f" ({n_dup} duplicate rows in all)" if n_dup > 1 else ""
    hint_vi = hint_en = ""
    if SCIENTIFIC.fullmatch(key):
        named = SCIENTIFIC_HINT_VI.replace("cột là", f'cột "{header}" là')
        hint_vi = (f" {named}. Mã dạng {key} đã mất chữ số: hãy lấy lại mã đúng bằng cách xuất lại tệp từ "
                   f"hệ thống (hoặc định dạng cột trước khi dán dữ liệu).")
        hint_en = (f" {SCIENTIFIC_HINT_EN}. A code like {key} has lost digits: get the right codes by "
                   f"exporting the file again (or format the column before pasting the data).")
    raise refuse(
        f'mã "{key}" bị trùng với dòng {first}{more_vi}. Hãy sửa để {vi_what} rồi nhập lại.{hint_vi}',
        f'duplicate key "{key}" (also row {first}){more_en}; {en_what} and import again.{hint_en}',
        file, int(at), header)


def _serial_date(text: str) -> str | None:
    """'38153' → '15/06/2004'; '44677.4166' → '26/04/2022 09:59' (None when not plausible)."""
    try:
        v = float(text.replace(",", "."))
    except ValueError:
        return None
    if not SERIAL_MIN <= v <= SERIAL_MAX:
        return None
    d = dt.datetime.combine(EXCEL_EPOCH, dt.time()) + dt.timedelta(days=v)
    d = d.replace(second=0, microsecond=0) + dt.timedelta(minutes=round(d.second / 60))
    return d.strftime("%d/%m/%Y %H:%M" if (d.hour or d.minute) else "%d/%m/%Y")


def _more(n: int, what: str) -> str:
    return f" ({fmt_int(n)} {what} như vậy trong cột này)" if n > 1 else ""


def excel_hints(con, table: schema.Table, hm: readers.HeaderMap, file: str, have_schools: bool) -> list[str]:
    """Values that look like an Excel mangling, one note per (column, kind) naming the first row:
    a code in scientific notation, a date given as a date serial, a school code that matches a
    known school once its leading zeros are put back or taken off. The values are kept as they
    are (the checks turn them into findings); the note says what Excel did and how to fix it."""
    notes: list[str] = []
    t = f'"{table.name}"'
    where = lambda row, name: f'Tệp {file}, dòng {row}, cột "{hm.header_of(name)}"'  # noqa: E731
    sel, kinds = [], []
    for c in table.columns:
        if c.name not in hm.columns:
            continue
        q = f'"{c.name}"'
        if c.name in CODE_COLUMNS:
            cond = f"(contains({q}, 'E') OR contains({q}, 'e')) AND regexp_full_match({q}, '{SCIENTIFIC_RE2}')"
            kinds.append(("sci", c.name))
        elif c.name in DATE_COLUMNS:
            frac = r"([.,][0-9]+)?" if c.name == "submitted_at" else ""
            cond = (f"NOT contains({q}, '/') AND NOT contains({q}, '-') AND "
                    f"regexp_full_match({q}, '[0-9]{{5}}{frac}') AND "
                    f"TRY_CAST(replace({q}, ',', '.') AS DOUBLE) BETWEEN {SERIAL_MIN} AND {SERIAL_MAX}")
            kinds.append(("serial", c.name))
        else:
            continue
        sel.append(f"count(*) FILTER (WHERE {cond}), min(_row) FILTER (WHERE {cond}), "
                   f"arg_min({q}, _row) FILTER (WHERE {cond})")
    if sel:
        row = con.execute(f"SELECT {', '.join(sel)} FROM {t}").fetchone()
        for i, (kind, name) in enumerate(kinds):
            n, first, val = row[3 * i:3 * i + 3]
            if not n:
                continue
            if kind == "sci":
                notes.append(f"{where(first, name)}: giá trị {val} — {SCIENTIFIC_HINT_VI}. Các chữ số đã mất "
                             f"không khôi phục được từ tệp này: hãy lấy lại mã đúng từ hệ thống{_more(n, 'giá trị')}.")
            else:
                when = _serial_date(val)
                notes.append(f"{where(first, name)}: giá trị {val} là số sê-ri ngày của Excel (ứng với ngày "
                             f"{when}), không phải một ngày. Hãy định dạng cột là Ngày (dd/mm/yyyy) hoặc Text "
                             f"(Văn bản) với ngày ghi dạng dd/mm/yyyy rồi nhập lại{_more(n, 'giá trị')}.")
    if have_schools and table.name != "schools" and "school_code" in hm.columns:
        row = con.execute(f"""
            WITH unknown AS (
                SELECT _row, school_code FROM {t} u
                WHERE school_code IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM schools s WHERE s.school_code = u.school_code))
            SELECT count(*), min(u._row), arg_min(u.school_code, u._row), arg_min(s.school_code, u._row)
            FROM unknown u JOIN schools s
              ON ltrim(s.school_code, '0') = ltrim(u.school_code, '0')
             AND regexp_full_match(u.school_code, '[0-9]+')""").fetchone()
        n, first, code, known = row
        if n:
            how = ("Excel đã làm mất số 0 ở đầu mã" if len(code) < len(known)
                   else "mã trong danh sách trường đã bị Excel làm mất số 0 ở đầu")
            notes.append(f"{where(first, 'school_code')}: mã trường {code} không có trong danh sách trường, "
                         f"nhưng có trường mã {known} — có thể {how}. Hãy định dạng cột Mã trường là Text "
                         f"(Văn bản) ở cả hai tệp, nhập lại mã đủ số 0 ở đầu rồi nhập lại{_more(n, 'dòng')}.")
    if have_schools and table.name == "report_figures" and "school_code" in hm.columns:
        # A figure of an institution not in truong is never compared and has no institution to
        # tell (no finding): the import says so, like the note above (issue 15, fix15l). Codes
        # that only lost leading zeros have that note already.
        n, first, code = con.execute(f"""
            SELECT count(*), min(_row), arg_min(school_code, _row) FROM {t} u
            WHERE school_code IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM schools s WHERE s.school_code = u.school_code)
              AND NOT EXISTS (SELECT 1 FROM schools s WHERE regexp_full_match(u.school_code, '[0-9]+')
                                AND ltrim(s.school_code, '0') = ltrim(u.school_code, '0'))""").fetchone()
        if n:
            notes.append(f"{where(first, 'school_code')}: mã trường {code} không có trong danh sách trường nên "
                         f"số liệu báo cáo của dòng này không được đối chiếu với dữ liệu. Hãy kiểm tra lại mã "
                         f"trường (hoặc bổ sung trường vào danh sách trường) rồi nhập lại{_more(n, 'dòng')}.")
    return notes


def _build(db_path: Path, work: Path, scanned: dict[str, readers.Scanned], ext: readers.Extract,
           as_of: dt.datetime, sid: str, content_hash: str, progress,
           school: str | None = None) -> tuple[dict, list, list]:
    import duckdb  # noqa: PLC0415

    # Headers of every file first: their refusals come before the long loads.
    prepared: dict[str, tuple[readers.Prepared, readers.HeaderMap]] = {}
    for t in schema.TABLES:
        sc = scanned.get(t.name)
        if sc is None:
            continue
        if sc.encoding == "xlsx":
            _say(progress, f"Đọc {sc.member.name} (bảng tính)…")
        prep = readers.prepare(sc, work, school, lambda: _known_schools(prepared))
        hm = readers.map_headers(t, prep.header, sc.member.name, prep.header_row)
        prepared[t.name] = (prep, hm)

    rows: dict[str, int] = {}
    files: list[tuple[str, str, str, int]] = []
    notes: list[str] = []
    con = duckdb.connect(str(db_path))
    try:
        tmpdir = work / "duckdb-tmp"
        tmpdir.mkdir(exist_ok=True)
        con.execute(f"SET temp_directory = '{str(tmpdir).replace(chr(39), chr(39) * 2)}'")
        con.execute("SET preserve_insertion_order = true")  # _row by scan order
        # Same bound as the engine's connections (spills to the work folder beyond it).
        con.execute(f"SET memory_limit = '{os.environ.get('TIENDO_DUCKDB_MEMORY', '2GB')}'")
        con.execute("SET enable_progress_bar = false")
        for t in schema.TABLES:
            if t.name not in prepared:
                readers.create_empty(con, t)
                rows[t.name] = 0
                continue
            prep, hm = prepared[t.name]
            sc = scanned[t.name]
            pause_points.pause(f"load:{t.name}")
            t1 = time.perf_counter()
            _say(progress, f"Nạp {sc.member.name} ({sc.label})…")
            n = readers.load_table(con, t, prep, hm, sc.member.name)
            if t.name in MUST_HAVE_ROWS and n == 0:
                raise refuse(
                    f"không có dòng dữ liệu nào (chỉ có dòng tiêu đề) — {t.title.lower()} không thể rỗng. "
                    f"Hãy xuất lại tệp từ hệ thống rồi nhập lại.",
                    f"{t.file} has no rows (only the header); the {t.name} list cannot be empty. "
                    f"Export it again and import again.", sc.member.name)
            check_keys(con, t, hm, sc.member.name)
            if t.name in readers.NAME_TABLES:
                if sc.encoding in readers.LEGACY_ENCODINGS:
                    tag_legacy_names(con, t, sc.encoding)
                else:
                    repair_names(con, t)
            for note in excel_hints(con, t, hm, sc.member.name, rows.get("schools", 0) > 0):
                notes.append(note)
                _say(progress, f"  Lưu ý: {note}")
            rows[t.name] = n
            files.append((t.name, sc.member.name, sc.label, n))
            _say(progress, f"  {sc.member.name}: {fmt_int(n)} dòng ({fmt_seconds(time.perf_counter() - t1)} giây)")

        con.execute("CREATE TABLE _files (table_name VARCHAR, file_name VARCHAR, encoding VARCHAR, "
                    "rows BIGINT, present BOOLEAN)")
        by_table = {f[0]: f for f in files}
        con.executemany("INSERT INTO _files VALUES (?, ?, ?, ?, ?)", [
            (t.name, by_table[t.name][1], by_table[t.name][2], by_table[t.name][3], True)
            if t.name in by_table else (t.name, None, None, 0, False) for t in schema.TABLES])
        source = (ext.manifest or {}).get("source")
        meta = {
            "snapshot_id": sid,
            "as_of": iso_time(as_of),
            "source": None if source is None else str(source),
            "content_hash": content_hash,
            "imported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "format_version": FORMAT_VERSION,
            "extract_path": str(ext.source.resolve()),
        }
        con.execute("CREATE TABLE _meta (key VARCHAR, value VARCHAR)")
        con.executemany("INSERT INTO _meta VALUES (?, ?)", list(meta.items()))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return rows, files, notes


def _known_schools(prepared: dict) -> set[str]:
    """School codes of the extract's school list (prepared before the students, schema order):
    a folder of student files named after one of them gives those files their school code."""
    import duckdb  # noqa: PLC0415

    if "schools" not in prepared:
        return set()
    prep, hm = prepared["schools"]
    con = duckdb.connect()
    try:
        readers.load_table(con, schema.TABLES_BY_NAME["schools"], prep, hm, "truong")
        return {r[0] for r in con.execute("SELECT school_code FROM schools WHERE school_code IS NOT NULL").fetchall()}
    finally:
        con.close()


def ingest(path: str | Path, store_root: str | Path, as_of=None,
           progress: Callable[[str], None] | None = None, school: str | None = None) -> IngestResult:
    """Import one extract into the store. Raises ExtractError when the extract is refused
    (the store's snapshots are then untouched). ``school``: the school code of student lists
    that have neither a school-code column nor a 'Mã trường: X' title nor a school-code folder
    (--school, the import page's picker); it is part of the content hash."""
    t0 = time.perf_counter()
    ext = readers.open_extract(path)
    try:
        when = resolve_as_of(as_of, ext)
        present = [t for t in schema.TABLES if t.name in ext.members]
        _say(progress, f"Bản trích xuất {ext.source}: {len(present)} tệp, thời điểm dữ liệu {fmt_time(when)}")
        store = Store(store_root).ensure()
        store.clean_tmp()
        with store.work_dir() as work:
            h = hashlib.sha256()
            scanned: dict[str, readers.Scanned] = {}
            for t in present:
                m = ext.members[t.name]
                h.update(t.name.encode("utf-8"))
                scanned[t.name] = readers.scan_member(ext, m, h, work)
                pause_points.pause("hash")
            h.update(iso_time(when).encode("utf-8"))
            if school:
                h.update(b"school=" + school.encode("utf-8"))
            content_hash = h.hexdigest()
            sid = make_snapshot_id(when, content_hash)
            with store.content_lock(sid):
                if store.has_snapshot(sid):
                    _say(progress, f"Đã có snapshot {sid}: không tạo bản mới.")
                    return _existing_result(store, sid, when, t0)
                db_path = work / f"{sid}.duckdb"
                rows, files, notes = _build(db_path, work, scanned, ext, when, sid, content_hash, progress,
                                             school or None)
                vis = store.list_snapshots()
                for old in vis.loc[vis["as_of"] == pd.Timestamp(when), "snapshot_id"]:
                    notes.append(f"Snapshot {old} có cùng thời điểm dữ liệu {fmt_time(when)}: snapshot mới "
                                 f"thay thế nó trong mọi bảng (bản cũ vẫn được lưu trong kho).")
                _say(progress, f"Ghi snapshot {sid}…")
                pause_points.pause("publish")
                target = store.publish(db_path, sid)
                pause_points.pause("published")
        return IngestResult(sid, True, when, rows, files, time.perf_counter() - t0, str(target), notes)
    finally:
        ext.close()


def unchecked_notes(present: set[str]) -> list[str]:
    """One Vietnamese sentence per optional table absent from `present` whose absence leaves a
    rule unchecked (schema.UNCHECKED_WITHOUT)."""
    return [unchecked_note(t) for t in schema.TABLES if t.name in schema.UNCHECKED_WITHOUT
            and t.name not in present]


def unchecked_note(t: schema.Table) -> str:
    """What an extract without t's optional file leaves unchecked at its snapshot, in Vietnamese."""
    return (f"Không có tệp {t.file} ({t.title.lower()}): {schema.UNCHECKED_WITHOUT[t.name]} không kiểm tra "
            f"được ở thời điểm dữ liệu này; trạng thái các báo cáo phụ thuộc quy tắc này dựa vào snapshot "
            f"gần nhất có tệp {t.file}. Hãy xuất kèm tệp {t.file} ở lần trích xuất sau.")


def format_result(result: IngestResult) -> str:
    """Vietnamese summary for the command line."""
    if not result.created:
        return (f"Đã có snapshot này ({result.snapshot_id}, thời điểm dữ liệu {fmt_time(result.as_of)}), "
                f"không tạo bản mới.")
    lines = [f"Đã tạo snapshot {result.snapshot_id} (thời điểm dữ liệu {fmt_time(result.as_of)}).",
             "Các tệp đã đọc:"]
    w = max([len(f[1]) for f in result.files] + [4])
    for table, file, enc, n in result.files:
        lines.append(f"  {file.ljust(w)}  {enc:<15} {fmt_int(n):>12} dòng")
    lines.append("Số dòng theo bảng:")
    tw = max(len(t.name) for t in schema.TABLES)
    for t in schema.TABLES:
        n = result.rows.get(t.name, 0)
        note = "" if any(f[0] == t.name for f in result.files) else "  (không có tệp)"
        if note and t.name in schema.UNCHECKED_WITHOUT:
            note = f"  (không có tệp {t.file}: {schema.UNCHECKED_WITHOUT[t.name]} không kiểm tra được)"
        lines.append(f"  {t.name.ljust(tw)}  {fmt_int(n):>12}  {t.title}{note}")
    if result.notes or result.unchecked:
        lines.append("Lưu ý:")
        lines.extend(f"  - {n}" for n in result.unchecked + result.notes)
    lines.append(f"Thời gian: {fmt_seconds(result.seconds)} giây.")
    return "\n".join(lines)
