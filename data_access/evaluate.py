"""Evaluation at an as-of time: per-snapshot derived facts (cached) + the history marts.

Why a cache per snapshot: a snapshot never changes, so its findings and per-institution counts
(the expensive part: millions of score rows) are computed once and kept as Parquet under
``STORE/derived/<snapshot_id>/<campaign fingerprint>-<engine fingerprint>/``. Any change of the
campaign file or of a SQL file changes the key, so a stale result is never read. Evaluating an
as-of time then only reads those small tables for every snapshot up to it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from . import engine, pause_points
from .campaign import TZ, Campaign, load_campaign
from .keyed import KeyedFrame
from .store import Store, parse_time

# completeness, completeness_gaps: the index over the eight domains (data_access/completeness.py);
# indicator_values, indicator_sources, report_figures: the submitted reports' figures
# (data_access/report_figures.py);
# id_duplicate_others: for each ID_DUPLICATE finding, the institutions of the other holders (named
# at query time only to a reader whose scope holds them: access.finding_message_sql)
DERIVED_FILES = ("progress_snapshot", "findings", "schools", "paper_copies", "completeness",
                 "completeness_gaps", "indicator_values", "indicator_sources", "report_figures",
                 "id_duplicate_others")


def keyed_max_rows() -> int:
    """Largest city-wide result kept sliced per key (TIENDO_KEYED_MAX_ROWS, default 300,000
    rows, ~50 MB: hcmc's largest, the history of its 21 k units over 9 snapshots, is ~190 k;
    at national scale, 461 k units, the checklist and history run per institution)."""
    return int(os.environ.get("TIENDO_KEYED_MAX_ROWS", "300000"))


class NoSnapshotError(LookupError):
    """No snapshot at or before the requested time (or none imported yet)."""


def parse_as_of(value: str | dt.datetime | None) -> dt.datetime | None:
    """ISO 8601 (or dd/mm/yyyy [HH:MM]) → aware datetime; naive means local time (+07:00), a
    bare date the end of that day. One parser for the CLI, the pages and the store."""
    return parse_time(value)


def derived_dir(store: Store, snapshot_id: str, campaign: Campaign) -> Path:
    return store.derived_dir / snapshot_id / f"{campaign.fingerprint}-{engine.engine_fingerprint()}"


def ensure_derived(store: Store, snapshot_id: str, snapshot_path: str | Path, as_of,
                   campaign: Campaign, threads: int | None = None) -> Path:
    """Compute (once) and return the folder of this snapshot's derived Parquet files."""
    target = derived_dir(store, snapshot_id, campaign)
    missing = [n for n in DERIVED_FILES if not (target / f"{n}.parquet").exists()]
    if not missing:
        return target
    sid = snapshot_id.replace("'", "''")
    # Work in an import-style folder of tmp/ (held by an flock that dies with the process): a
    # process killed while deriving leaves a folder that the next import's clean_tmp removes.
    with store.work_dir() as work:
        tmp = work / "derived"
        tmp.mkdir()
        if target.is_dir() and missing == ["paper_copies"]:
            # A cache written before paper_copies was derived: add just that file (staging only).
            con = engine.open_snapshot(snapshot_path, campaign, upto="staging", threads=threads)
            try:
                _copy_paper_copies(con, sid, tmp)
            finally:
                con.close()
            with contextlib.suppress(FileExistsError):
                os.replace(tmp / "paper_copies.parquet", target / "paper_copies.parquet")
            return target
        con = engine.open_snapshot(snapshot_path, campaign, upto="progress", threads=threads)
        try:
            ts = pd.Timestamp(as_of).isoformat()
            con.execute(f"""COPY (SELECT '{sid}' AS snapshot_id, TIMESTAMPTZ '{ts}' AS as_of, *
                               FROM progress_snapshot ORDER BY school_code, requirement_id)
                            TO '{tmp / 'progress_snapshot.parquet'}' (FORMAT parquet)""")
            con.execute(f"COPY (SELECT * FROM findings) TO '{tmp / 'findings.parquet'}' (FORMAT parquet)")
            con.execute(f"COPY (SELECT * FROM stg_schools) TO '{tmp / 'schools.parquet'}' (FORMAT parquet)")
            con.execute(f"""COPY (SELECT * FROM chk_id_duplicate_others ORDER BY school_code, student_id, field)
                            TO '{tmp / 'id_duplicate_others.parquet'}' (FORMAT parquet)""")
            _copy_paper_copies(con, sid, tmp)
            _copy_completeness(con, sid, ts, tmp)
            # Report figures (issue 15): the indicators over this snapshot's records, and the
            # figures of its submitted reports (data_access/report_figures.py).
            from .report_figures import copy_derived
            copy_derived(con, sid, tmp)
        finally:
            con.close()
        pause_points.pause("derive")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process finished the same work first: theirs is identical.
            if not all((target / f"{n}.parquet").exists() for n in DERIVED_FILES):
                raise
    return target


def _copy_completeness(con: duckdb.DuckDBPyConnection, sid: str, ts: str, folder: Path) -> None:
    """The completeness index of the snapshot (sql/completeness_*.sql, over its staging and
    checks views, already built in ``con``): per institution x domain, and what is missing."""
    engine.run_layers(con, upto="completeness", layers=("completeness",))
    con.execute(f"""COPY (SELECT '{sid}' AS snapshot_id, TIMESTAMPTZ '{ts}' AS as_of, *
                          FROM completeness_snapshot ORDER BY school_code, sort_order)
                    TO '{folder / 'completeness.parquet'}' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT * FROM completeness_gaps ORDER BY school_code, domain, gap)
                    TO '{folder / 'completeness_gaps.parquet'}' (FORMAT parquet)""")


def _copy_paper_copies(con: duckdb.DuckDBPyConnection, sid: str, folder: Path) -> None:
    """The snapshot's paper-copy receipts (ban_giay), typed: read again at evaluation together
    with the paper-copy register of the operational store."""
    con.execute(f"""COPY (SELECT '{sid}' AS snapshot_id, school_code, report_code, received_on,
                                 signed, stamped, valid
                          FROM stg_paper_copies WHERE school_code IS NOT NULL)
                    TO '{folder / 'paper_copies.parquet'}' (FORMAT parquet)""")


def apply_paper_register(con: duckdb.DuckDBPyConnection, receipts: pd.DataFrame,
                         paper_files: list[Path]) -> None:
    """Recompute the ``paper`` rows of hist_progress with the register's receipts.

    Why here and not in a snapshot: a receipt registered by the planning office is a fact of
    the operational store, so it must count for every snapshot evaluated from then on and is
    never lost when a newer extract (without it) is imported. For each snapshot, the receipts
    that count are the snapshot's own (ban_giay) plus the register's with received_on on or
    before the snapshot's local as-of date; both describe the same fact, so the earliest valid
    one gives completed_at (00:00 local), and any receipt at all means started."""
    if receipts is None or receipts.empty:
        return
    reg = receipts[["school_code", "report_code", "received_on", "signed", "stamped"]].copy()
    reg["received_on"] = pd.to_datetime(reg["received_on"]).dt.date
    con.register("_register", reg)
    files = ", ".join(f"'{f}'" for f in paper_files)
    try:
        con.execute(f"""
            CREATE OR REPLACE TABLE _paper_receipts AS
            SELECT snapshot_id, school_code, report_code, received_on, valid
            FROM read_parquet([{files}])
            UNION ALL
            SELECT s.snapshot_id, r.school_code, r.report_code, r.received_on::DATE,
                   (r.signed AND r.stamped) AS valid
            FROM _register r
            JOIN hist_snapshots s ON r.received_on::DATE <= (s.as_of AT TIME ZONE 'Asia/Ho_Chi_Minh')::DATE""")
        con.execute("""
            UPDATE hist_progress h
            SET done = CASE WHEN x.first_valid_on IS NOT NULL THEN 1 ELSE 0 END,
                event_at = x.first_valid_on::TIMESTAMPTZ,
                started = x.receipts > 0
            FROM (SELECT p.snapshot_id, p.school_code, c.requirement_id,
                         min(p.received_on) FILTER (WHERE p.valid) AS first_valid_on,
                         count(*) AS receipts
                  FROM _paper_receipts p
                  JOIN cfg_requirements c ON c.kind = 'paper' AND c.report_code = p.report_code
                  GROUP BY ALL) x
            WHERE h.snapshot_id = x.snapshot_id AND h.school_code = x.school_code
              AND h.requirement_id = x.requirement_id""")
    finally:
        con.unregister("_register")


@dataclass
class Evaluation:
    """One evaluation: the snapshot chosen for an as-of time and a connection holding the marts.

    Tables/views of ``con``: progress, rollup, findings (of the evaluated snapshot),
    cur_schools, hist_snapshots, hist_progress, progress_history, cfg_*."""
    con: duckdb.DuckDBPyConnection
    snapshot_id: str
    as_of: pd.Timestamp
    campaign: Campaign
    snapshots: pd.DataFrame
    seconds: float
    snapshot_path: str = ""
    _attach_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _attached: bool = field(default=False, repr=False)
    _keyed: dict = field(default_factory=dict, repr=False)
    _keyed_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # lazy marts (engine.LAZY_MARTS): which ones each view name needs, and those already made
    _lazy_reach: dict = field(default_factory=dict, repr=False)
    _lazy_done: set = field(default_factory=set, repr=False)
    _lazy_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def close(self) -> None:
        self.con.close()

    def snapshot_db(self) -> str:
        """Alias of the evaluated snapshot's own DuckDB file, attached read-only on first use.
        Personal values (names, CCCD, birth dates) are read there, for the few records a page
        shows, and never copied into the marts. Attached once per evaluation: opening the file
        for each page view cost ~30 ms at city scale."""
        with self._attach_lock:
            if not self._attached:
                path = str(self.snapshot_path).replace("'", "''")
                self.con.execute(f"ATTACH '{path}' AS eval_snapshot (READ_ONLY)")
                self._attached = True
        return "eval_snapshot"

    def keyed(self, name: str, sql: str, key: str) -> KeyedFrame | None:
        """The result of ``sql`` (whole city, ORDER BY ``key`` first) made once for this
        evaluation and kept with it, so that each institution's or district's rows are a slice
        (data_access.keyed). None when the result has more than ``keyed_max_rows()`` rows (at
        national scale the callers then run their per-key SQL: memory stays bounded). Built
        under a lock: the 30 sessions of a deadline morning wait for one build, not 30."""
        with self._keyed_lock:
            if name not in self._keyed:
                # One run of the query, never more than one row past the limit in memory.
                limit = keyed_max_rows()
                df = self.df(f"{sql} LIMIT {limit + 1}")
                self._keyed[name] = KeyedFrame.build(df, key) if len(df) <= limit else None
            return self._keyed[name]

    def prepare(self, sql: str) -> None:
        """Make (once, under a lock) the lazy marts that ``sql`` reads, directly or through views.
        Every query of the pages goes through here (df, planning._df)."""
        reach = self._lazy_reach
        need = set()
        for name in set(engine._IDENT.findall(sql.lower())):
            need |= reach.get(name, frozenset())
        if not need - self._lazy_done:
            return
        with self._lazy_lock:
            for view in engine.LAZY_MARTS:
                if view in need and view not in self._lazy_done:
                    cur = self.con.cursor()
                    try:
                        cur.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
                        engine.materialize_lazy(cur, view)
                    finally:
                        cur.close()
                    self._lazy_done.add(view)

    def df(self, sql: str, params=None) -> pd.DataFrame:
        self.prepare(sql)
        cur = self.con.cursor()
        try:
            # A cursor is a new session: settings are not inherited, and local dates need it.
            cur.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()


def evaluate(store: Store | str | Path, as_of=None, campaign: Campaign | str | Path | None = None,
             threads: int | None = None) -> Evaluation:
    """Build the marts for the newest visible snapshot at or before ``as_of`` (None = newest)."""
    t0 = time.perf_counter()
    store = store if isinstance(store, Store) else Store(Path(store))
    campaign = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
    when = parse_as_of(as_of)
    snaps = store.list_snapshots()
    if snaps.empty:
        raise NoSnapshotError(
            f"Chưa có snapshot nào trong kho {store.root}. Hãy nhập dữ liệu: "
            f"python -m data_access ingest THU_MUC --store {store.root} [no snapshot imported yet]")
    if when is not None:
        snaps = snaps[snaps["as_of"] <= pd.Timestamp(when)]
        if snaps.empty:
            raise NoSnapshotError(
                f"Không có snapshot nào tại hoặc trước {pd.Timestamp(when).tz_convert(TZ):%d/%m/%Y %H:%M} "
                f"[no snapshot at or before that time]")
    snaps = snaps.sort_values("as_of").reset_index(drop=True)
    cur = snaps.iloc[-1]
    dirs = [ensure_derived(store, r.snapshot_id, r.path, r.as_of, campaign, threads)
            for r in snaps.itertuples()]
    con = engine.new_connection(threads)
    engine.load_static_tables(con, campaign)
    files = ", ".join(f"'{d / 'progress_snapshot.parquet'}'" for d in dirs)
    con.execute(f"CREATE TABLE hist_progress AS SELECT * FROM read_parquet([{files}])")
    con.execute("CREATE TABLE hist_snapshots AS SELECT DISTINCT snapshot_id, as_of FROM hist_progress")
    # A snapshot with no institution at all still counts in the history.
    con.register("_snaps", snaps[["snapshot_id", "as_of"]])
    con.execute("INSERT INTO hist_snapshots SELECT snapshot_id, as_of FROM _snaps "
                "WHERE snapshot_id NOT IN (SELECT snapshot_id FROM hist_snapshots)")
    con.unregister("_snaps")
    # The paper-copy register (operational store) counts together with each snapshot's ban_giay.
    from .ops import current_paper_receipts
    register = current_paper_receipts(store)
    apply_paper_register(con, register, [d / "paper_copies.parquet" for d in dirs])
    con.execute("CREATE TABLE eval_point AS SELECT ?::TIMESTAMPTZ AS as_of", [cur.as_of.to_pydatetime()])
    con.execute(f"CREATE VIEW cur_schools AS SELECT * FROM read_parquet('{dirs[-1] / 'schools.parquet'}')")
    if register.empty:
        con.execute(f"CREATE VIEW findings AS SELECT * FROM read_parquet('{dirs[-1] / 'findings.parquet'}')")
    else:
        # An unsigned/unstamped copy of the extract is no longer a finding once a valid copy of
        # the same report is in the register (PAPER_* apply "when no valid receipt exists").
        con.execute(f"""CREATE VIEW findings AS
            SELECT * FROM read_parquet('{dirs[-1] / 'findings.parquet'}') f
            WHERE f.entity <> 'paper_copy' OR NOT EXISTS (
                SELECT 1 FROM _paper_receipts p
                WHERE p.snapshot_id = '{cur.snapshot_id}' AND p.valid
                  AND p.school_code = f.school_code
                  AND p.report_code = split_part(f.record_key, '|', 1))""")
    con.execute(f"CREATE VIEW cur_id_duplicate_others AS SELECT * FROM read_parquet('{dirs[-1] / 'id_duplicate_others.parquet'}')")
    # The completeness index of every snapshot up to the evaluated one (its history) and what
    # the evaluated one misses (sql/marts_completeness.sql builds the roll-ups on them).
    cfiles = ", ".join(f"'{d / 'completeness.parquet'}'" for d in dirs)
    # (a view here, made a table on first use: engine.LAZY_MARTS)
    con.execute(f"CREATE VIEW hist_completeness AS SELECT * FROM read_parquet([{cfiles}])")
    con.execute(f"CREATE VIEW cur_completeness_gaps AS SELECT * FROM read_parquet('{dirs[-1] / 'completeness_gaps.parquet'}')")
    from .report_figures import load_history
    load_history(con, dirs)
    engine.run_layers(con, upto="marts", layers=("marts",))
    return Evaluation(con=con, snapshot_id=cur.snapshot_id, as_of=cur.as_of, campaign=campaign,
                      snapshots=snaps, seconds=time.perf_counter() - t0, snapshot_path=str(cur.path),
                      _lazy_reach=engine.lazy_marts_reached(con))
