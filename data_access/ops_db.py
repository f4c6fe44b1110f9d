"""The operational store's connection and SQL dialect: SQLite (embedded default) or PostgreSQL.

Why one module: the operational store (accounts, sessions, follow-ups, paper register, audit,
imports, hidden snapshots) is written by every dashboard process and the CLI. One machine
shares it through ``STORE/ops.sqlite`` in WAL mode; several machines (issue 17: replicas on
deadline day) need a server, PostgreSQL, named by ``TIENDO_OPS_URL=postgresql://...``. Every
other module writes the same SQL (``?`` parameters, ``ON CONFLICT DO NOTHING``, ``RETURNING``,
``IS DISTINCT FROM``, all understood by both) through :func:`write` and :func:`query`; the
differences live here only:

- placeholders: ``?`` becomes ``%s`` for psycopg (a ``%`` in the SQL text is doubled);
- the write lock: SQLite takes the database's write lock first (``BEGIN IMMEDIATE``: two writers
  never deadlock on a lock upgrade); PostgreSQL takes one transaction-level advisory lock
  (``pg_advisory_xact_lock``) after ``BEGIN``. So on both, write transactions run one after the
  other, and the read-then-write steps (the next receipt number, the duplicate check, an
  account created once) behave the same; writes are tiny and short, so the queue is short;
- durability: SQLite ``synchronous=FULL``; PostgreSQL's default ``synchronous_commit=on``:
  once :func:`write` returns, the row survives a crash of the process;
- connections: SQLite opens one per call (cheap, a file); PostgreSQL uses a psycopg 3
  connection pool per URL and process (``psycopg_pool``), connections in autocommit mode, so a
  read never leaves a transaction open;
- schema: versioned migrations (``migrations/<dialect>/NNNN_name.sql``) applied at start-up
  (first use in a process), recorded in table ``schema_version``; migration 1 is the schema the
  earlier code created, all ``IF NOT EXISTS``, so an existing ops.sqlite upgrades in place.

SQLAlchemy is not used: the SQL is small, hand-written and already common to both dialects;
a second query language would not make it simpler.
"""
from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator

from . import file_memo

URL_ENV = "TIENDO_OPS_URL"
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
POOL_MAX = int(os.environ.get("TIENDO_OPS_POOL_MAX", "8") or 8)
_WRITE_LOCK_KEY = 0x7469656E   # "tien": the one advisory lock every write transaction takes
_MIGRATE_LOCK_KEY = 0x646F6D67  # migrations, so two processes starting together apply them once


class OpsStoreError(RuntimeError):
    """The operational store cannot be reached or is misconfigured (message in Vietnamese)."""


def url() -> str | None:
    """The PostgreSQL URL of the operational store, or None for the embedded SQLite default."""
    u = (os.environ.get(URL_ENV) or "").strip()
    if not u:
        return None
    if not (u.startswith("postgresql://") or u.startswith("postgres://")):
        raise OpsStoreError(f"{URL_ENV}={u!r} không hợp lệ: cần dạng postgresql://người_dùng@máy/tên_csdl "
                            "(hoặc bỏ trống để dùng ops.sqlite trong thư mục dữ liệu).")
    return u


def _ops_path(store) -> Path:
    p = getattr(store, "ops_path", None)
    if p is not None:
        return Path(p)
    from .store import Store
    return Store(Path(store)).ops_path


def dialect(store=None) -> str:
    return "postgresql" if url() else "sqlite"


def key(store) -> str:
    """Identifies the operational store in this process's caches: the URL or the file."""
    u = url()
    return u if u else str(_ops_path(store).resolve())


def exists(store) -> bool:
    """Whether the operational store is there. SQLite: the file (reads never create it).
    PostgreSQL: the server's database always is."""
    return True if url() else _ops_path(store).exists()


# How long a value read from PostgreSQL is remembered (data_access.file_memo) before it is read
# again. Why: on SQLite another process's write changes ops.sqlite's files, which every lookup
# stats; on PostgreSQL nothing tells a replica that another one wrote (issue 17: a receipt
# entered on one replica must show on the others, the engine's figures included, within 2 s).
# 1 s, plus queries.RECHECK_SECONDS and one page run, stays within that; the cost is one tiny
# query per remembered value per second per process, whatever the number of sessions.
PG_MAX_AGE = 1.0


def max_age() -> float:
    """The ``max_age`` for file_memo values read from the operational store."""
    return PG_MAX_AGE if url() else file_memo.MAX_AGE


def files(store) -> tuple[Path, ...]:
    """Files whose change means another process wrote (for data_access.file_memo): ops.sqlite and
    its write-ahead log; none on PostgreSQL (there the values are re-read after max_age())."""
    if url():
        return ()
    p = _ops_path(store)
    return (p, p.with_name(p.name + "-wal"))


# ---- dialect ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?|%")


def to_pg(sql: str) -> str:
    """``?`` → ``%s`` outside quoted strings and comments; every ``%`` doubled (psycopg reads
    ``%`` as a placeholder anywhere in the text, quotes included)."""
    def sub(m: re.Match) -> str:
        t = m.group(0)
        return "%s" if t == "?" else t.replace("%", "%%")
    return _TOKEN.sub(sub, sql)


class Conn:
    """A connection of either dialect with sqlite3's surface: ``execute(sql, params)`` returns
    a cursor (``fetchone``, ``fetchall``, ``description``, ``rowcount``)."""

    def __init__(self, raw, dialect: str):
        self.raw = raw
        self.dialect = dialect

    def execute(self, sql: str, params=()):
        if self.dialect == "postgresql":
            return self.raw.execute(to_pg(sql), list(params))
        return self.raw.execute(sql, list(params))


# ---- SQLite -------------------------------------------------------------------------------------

def _sqlite_connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    con.execute("PRAGMA synchronous = FULL")
    con.execute("PRAGMA foreign_keys = ON")
    return con


def _sqlite_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection (``ops migrate`` reads a running deployment's file, never writes it)."""
    from urllib.parse import quote
    return sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True,
                           timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)


def _ensure_wal(con: sqlite3.Connection) -> None:
    """WAL mode, persistent: set once per file. Two processes creating the store at the same
    moment (two servers started together, a server and the CLI) may find the file locked while
    the other one switches it: SQLite then says "database is locked" at once, without waiting
    busy_timeout, so wait here, up to that timeout, for the other switch to finish."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            if con.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"could not switch {con} to WAL mode (database is locked)")
        time.sleep(0.02)


# ---- PostgreSQL -----------------------------------------------------------------------------------

_POOLS: dict[str, object] = {}
_POOLS_LOCK = threading.Lock()


def _pool(u: str):
    with _POOLS_LOCK:
        p = _POOLS.get(u)
        if p is None:
            import psycopg
            from psycopg_pool import ConnectionPool
            try:   # one direct try first: an unreachable server is one clear error at once,
                psycopg.connect(u, autocommit=True).close()   # not a pool retrying for 30 s
            except psycopg.OperationalError as e:
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                raise OpsStoreError(f"Không kết nối được cơ sở dữ liệu vận hành PostgreSQL ({_safe(u)}): "
                                    f"{first}. Kiểm tra máy chủ và biến {URL_ENV}.") from e
            # check: a connection the server dropped (a restart, a failover) is replaced at
            # checkout instead of failing the user's write
            p = ConnectionPool(u, min_size=1, max_size=POOL_MAX, kwargs={"autocommit": True},
                               open=False, timeout=BUSY_TIMEOUT_MS / 1000, name="tiendo-ops",
                               check=ConnectionPool.check_connection)
            p.open(wait=False)
            _POOLS[u] = p
        return p


@atexit.register
def close_pools() -> None:
    """Close this process's PostgreSQL pools (tests between databases; process exit)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for p in pools:
        p.close()
    _READY.clear()


@contextlib.contextmanager
def pg_connection(u: str) -> Iterator[object]:
    """A pooled psycopg connection (autocommit) to the PostgreSQL at ``u``."""
    with _pg_connection(u) as raw:
        yield raw


@contextlib.contextmanager
def _pg_connection(u: str) -> Iterator[object]:
    try:
        cm = _pool(u).connection()
        raw = cm.__enter__()
    except Exception as e:
        import psycopg_pool
        if isinstance(e, psycopg_pool.PoolTimeout):
            raise OpsStoreError(f"Không kết nối được cơ sở dữ liệu vận hành PostgreSQL ({_safe(u)}): "
                                f"kiểm tra máy chủ và biến {URL_ENV}.") from e
        raise
    try:
        yield raw
    except BaseException as e:
        cm.__exit__(type(e), e, e.__traceback__)
        raise
    else:
        cm.__exit__(None, None, None)


def _safe(u: str) -> str:
    """The URL without a password, for messages."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", u)


# ---- connections for the other modules ----------------------------------------------------------

@contextlib.contextmanager
def _raw_write(store, pg_url: str | None = None) -> Iterator[Conn]:
    """One write transaction with the write lock, no schema check (migrations use it).
    ``pg_url``: this PostgreSQL instead of the configured store (``ops migrate``'s target)."""
    u = pg_url or url()
    if u:
        with _pg_connection(u) as raw:
            with raw.transaction():
                raw.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITE_LOCK_KEY])
                yield Conn(raw, "postgresql")
        return
    path = _ops_path(store)
    con = _sqlite_connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            yield Conn(con, "sqlite")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()


@contextlib.contextmanager
def write(store) -> Iterator[Conn]:
    """One short durable write transaction (schema ready first): committed on success, rolled
    back on any error; the write lock is taken first on both dialects."""
    ensure(store)
    try:
        with _raw_write(store) as con:
            yield con
    finally:
        file_memo.bump()   # values read from the operational store are stale now


@contextlib.contextmanager
def connect(store) -> Iterator[Conn]:
    """A connection for reads (schema ready first). SQLite: its own file connection;
    PostgreSQL: one from the pool, autocommit (each statement sees the latest commits)."""
    ensure(store)
    u = url()
    if u:
        with _pg_connection(u) as raw:
            yield Conn(raw, "postgresql")
        return
    con = _sqlite_connect(_ops_path(store))
    try:
        yield Conn(con, "sqlite")
    finally:
        con.close()


def rows(store, sql: str, params=()) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of a query."""
    with connect(store) as con:
        cur = con.execute(sql, params)
        return [d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()]


def query(store, sql: str, params=()):
    """Rows of a query as a DataFrame, or None when there is no operational store yet (SQLite:
    no file; reads never create it)."""
    import pandas as pd
    if not exists(store):
        return None
    cols, data = rows(store, sql, params)
    return pd.DataFrame(data, columns=cols)


def read_hidden_snapshots(store) -> set[str]:
    """The snapshot ids an administrator hid, for Store.list_snapshots. SQLite: a read-only
    connection, so listing never creates or locks ops.sqlite; no table yet ⇒ nothing hidden."""
    u = url()
    if u:
        _, data = rows(store, "SELECT snapshot_id FROM hidden_snapshots WHERE unhidden_at IS NULL")
        return {r[0] for r in data}
    from urllib.parse import quote
    p = _ops_path(store)
    if not p.is_file():
        return set()
    con = sqlite3.connect(f"file:{quote(str(p.resolve()))}?mode=ro", uri=True, timeout=30)
    try:
        data = con.execute("SELECT snapshot_id FROM hidden_snapshots WHERE unhidden_at IS NULL").fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return set()
        raise
    finally:
        con.close()
    return {r[0] for r in data}


# ---- migrations -------------------------------------------------------------------------------

_MIG_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def migrations(dialect_name: str, folder: Path | None = None) -> list[tuple[int, str, str]]:
    """(version, name, sql) of each migration file of a dialect, by version."""
    d = (folder or MIGRATIONS) / dialect_name
    out = []
    for p in sorted(d.iterdir()):
        m = _MIG_RE.match(p.name)
        if m:
            out.append((int(m.group(1)), m.group(2), p.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in out]
    if versions != list(range(1, len(versions) + 1)):
        raise OpsStoreError(f"migrations of {dialect_name} are not numbered 1..n: {versions}")
    return out


def latest_version(dialect_name: str = "sqlite") -> int:
    return migrations(dialect_name)[-1][0]


def statements(sql: str) -> list[str]:
    """The statements of a migration file (split on ';', comment lines dropped)."""
    text = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


_SCHEMA_VERSION_DDL = ("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                       "name TEXT NOT NULL, applied_at TEXT NOT NULL)")


def applied_versions(con: Conn) -> list[int]:
    return [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]


def migrate(store, folder: Path | None = None, pg_url: str | None = None) -> list[int]:
    """Apply the migrations not yet recorded in ``schema_version``, each with its record in one
    transaction; returns the versions applied now. Safe when several processes start at once:
    SQLite holds the write lock (BEGIN IMMEDIATE), PostgreSQL an advisory lock, while checking
    and applying. ``pg_url``: migrate this PostgreSQL instead of the configured store."""
    u = pg_url or url()
    d = "postgresql" if u else "sqlite"
    if not u:
        path = _ops_path(store)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = _sqlite_connect(path)
        try:
            _ensure_wal(con)
        finally:
            con.close()
    done: list[int] = []
    with _raw_write(store, u) as con:
        if u:
            con.execute("SELECT pg_advisory_xact_lock(?)", [_MIGRATE_LOCK_KEY])
        con.execute(_SCHEMA_VERSION_DDL)
        have = set(applied_versions(con))
        for version, name, sql in migrations(d, folder):
            if version in have:
                continue
            for stmt in statements(sql):
                con.execute(stmt)
            con.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                        [version, name, dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()])
            done.append(version)
        if not u:
            # kept for tools that read SQLite's own version number (and the earlier code)
            v = max(have | set(done))
            con.execute(f"PRAGMA user_version = {int(v)}")
    return done


_READY: set[str] = set()
_READY_LOCK = threading.Lock()


def ensure(store) -> None:
    """Migrations applied, once per process and store (the start-up step; cheap afterwards)."""
    k = key(store)
    if k in _READY and (url() or _ops_path(store).exists()):
        return
    migrate(store)
    with _READY_LOCK:
        _READY.add(k)


def forget(store=None) -> None:
    """Forget that the schema is ready (tests that replace the store under a running process)."""
    with _READY_LOCK:
        if store is None:
            _READY.clear()
        else:
            _READY.discard(key(store))
