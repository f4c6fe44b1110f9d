"""``python -m data_access ops migrate --from sqlite:PATH --to postgresql://...``: the one-shot
copy of a deployment's operational store from ops.sqlite to PostgreSQL (issue 17).

Why this shape:
- the source is only read, through a read-only connection and inside one read transaction, so
  the copy is one consistent moment of the file even if a dashboard still writes (stop the
  dashboards first all the same: writes made after that moment would not be copied);
- the target gets the migrations first (same schema as any new PostgreSQL store), then every
  table is copied in one transaction holding the store's write lock (all or nothing), with the
  same ids; identity counters then continue after the highest id, so new rows never collide;
- a target that already holds rows is refused unless ``--force`` (which empties it first): a
  second run by mistake must not merge two histories;
- at the end every table is checked row for row: row count and a SHA-256 of its rows (each
  value in a canonical text form, rows sorted), read back from PostgreSQL after the commit and
  compared with what was read from SQLite. Any difference is an error (exit status non-zero).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from . import ops_db

# Copied tables (schema_version is the target's own). Accounts keep their password hashes,
# sessions keep users logged in, secret_keys keeps the audit's username key (finding 8) and the
# key of known_clients' hashes, which keeps the administrator's known addresses (issue 13).
TABLES = ("accounts", "sessions", "secret_keys", "known_clients", "follow_ups", "paper_receipts",
          "audit_log", "imports", "hidden_snapshots")
IDENTITY_TABLES = ("follow_ups", "paper_receipts", "audit_log", "imports", "hidden_snapshots")


class MigrateError(ValueError):
    """A refused or failed copy; the message is Vietnamese, for the operator."""


@dataclass
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_hash: str
    target_hash: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_hash == self.target_hash


def _canon(v) -> str:
    """One value as text, the same for SQLite's and PostgreSQL's Python types."""
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    return str(v)


def digest(columns: list[str], rows) -> str:
    """SHA-256 of a table's rows: canonical text of each value, rows sorted (so the order a
    database returns them in does not matter)."""
    lines = sorted("\x1f".join(_canon(v) for v in r) for r in rows)
    h = hashlib.sha256(("\x1e".join(columns) + "\n").encode("utf-8"))
    for line in lines:
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


def _source_path(spec: str) -> Path:
    if not spec.startswith("sqlite:"):
        raise MigrateError(f"--from «{spec}»: cần dạng sqlite:ĐƯỜNG_DẪN (tệp ops.sqlite hoặc thư mục kho).")
    p = Path(spec[len("sqlite:"):]).expanduser()
    if p.is_dir():
        p = p / "ops.sqlite"
    if not p.is_file():
        raise MigrateError(f"Không có tệp {p}: kiểm tra đường dẫn sau sqlite: (tệp ops.sqlite hoặc thư mục kho).")
    return p


def read_source(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every copied table of the SQLite file, in one read transaction (one consistent moment).
    A table the file never had (an older store that never imported from the browser) is empty."""
    con = ops_db._sqlite_read_only(path)
    try:
        con.execute("BEGIN")
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        out = {}
        for t in TABLES:
            if t not in have:
                out[t] = (None, [])
                continue
            cur = con.execute(f"SELECT * FROM {t}")
            out[t] = ([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])
        con.execute("COMMIT")
        return out
    finally:
        con.close()


def _target_columns(raw, table: str) -> list[str]:
    return [r[0] for r in raw.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s ORDER BY ordinal_position", [table]).fetchall()]


def _read_target(raw, table: str, columns: list[str]) -> list[tuple]:
    return [tuple(r) for r in raw.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()]


def migrate(source: str, target: str, force: bool = False) -> list[TableCheck]:
    """Copy, then check; returns one TableCheck per table (all ok) or raises MigrateError."""
    path = _source_path(source)
    if not (target.startswith("postgresql://") or target.startswith("postgres://")):
        raise MigrateError(f"--to «{target}»: cần dạng postgresql://người_dùng@máy/tên_csdl.")
    data = read_source(path)
    ops_db.migrate(None, pg_url=target)
    with ops_db.pg_connection(target) as raw:
        with raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", [ops_db._WRITE_LOCK_KEY])
            held = {t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
            if any(held.values()) and not force:
                busy = ", ".join(f"{t} ({n} dòng)" for t, n in held.items() if n)
                raise MigrateError(f"Cơ sở dữ liệu đích đã có dữ liệu: {busy}. Không chép đè; dùng "
                                   "--force nếu chắc chắn muốn xóa dữ liệu đó rồi chép lại.")
            if any(held.values()):
                raw.execute(f"TRUNCATE {', '.join(TABLES)}")
            for t in TABLES:
                cols, rows = data[t]
                if not rows:
                    continue
                want = _target_columns(raw, t)
                extra = [c for c in cols if c not in want]
                if extra:
                    raise MigrateError(f"Bảng {t} của {path} có cột không có ở đích: {', '.join(extra)}.")
                with raw.cursor().copy(f"COPY {t} ({', '.join(cols)}) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row(r)
            for t in IDENTITY_TABLES:
                raw.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                            f"coalesce((SELECT max(id) FROM {t}), 0) + 1, false)")
    checks = []
    with ops_db.pg_connection(target) as raw:
        for t in TABLES:
            cols, rows = data[t]
            cols = cols or _target_columns(raw, t)
            got = _read_target(raw, t, cols)
            checks.append(TableCheck(t, len(rows), len(got), digest(cols, rows), digest(cols, got)))
    bad = [c for c in checks if not c.ok]
    if bad:
        raise MigrateError("Bản chép không khớp nguồn ở bảng: " + ", ".join(
            f"{c.table} (nguồn {c.source_rows} dòng, đích {c.target_rows} dòng)" for c in bad))
    return checks


def report(checks: list[TableCheck]) -> str:
    w = max(len(c.table) for c in checks)
    lines = [f"{'bảng'.ljust(w)}  nguồn  đích   sha256 (16 ký tự đầu)"]
    for c in checks:
        lines.append(f"{c.table.ljust(w)}  {c.source_rows:>5}  {c.target_rows:>5}  {c.target_hash[:16]}  "
                     f"{'khớp' if c.ok else 'KHÁC'}")
    lines.append(f"Đã chép {sum(c.target_rows for c in checks)} dòng, {len(checks)} bảng: khớp từng dòng.")
    return "\n".join(lines)
