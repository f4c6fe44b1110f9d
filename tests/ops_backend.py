"""Reading the operational store in tests the same way on SQLite and PostgreSQL (issue 17):
row counts and a dump of every table (for "no clear password anywhere" checks), through
data_access.ops_db, never through a dialect's own client."""
from __future__ import annotations

from pathlib import Path

from data_access import ops_db
from data_access.store import Store

TABLES = ("follow_ups", "paper_receipts", "audit_log", "accounts", "sessions", "secret_keys", "known_clients",
          "imports", "hidden_snapshots", "schema_version")


def count(store, table: str) -> int:
    st = Store(Path(store))
    if not ops_db.exists(st):
        return 0
    return int(ops_db.rows(st, f"SELECT count(*) FROM {table}")[1][0][0])


def blobs(store) -> bytes:
    """Everything the operational store holds, as bytes: on SQLite the files themselves
    (ops.sqlite and its WAL, as the earlier tests read them); on PostgreSQL every row of every
    table, as text."""
    st = Store(Path(store))
    if ops_db.url() is None:
        return b"".join(f.read_bytes() for f in st.root.iterdir() if f.name.startswith("ops.sqlite"))
    out = []
    for t in TABLES:
        cols, data = ops_db.rows(st, f"SELECT * FROM {t}")
        out += [repr(r) for r in data]
    return "\n".join(out).encode("utf-8")
