"""Hand-made snapshots for rule tests: write a snapshot DuckDB file exactly as the importer lays
it out (every table of data_access/schema.py, all canonical columns VARCHAR, `_row`, and the
name-repair columns), from a few dicts. Tests of the rules then do not depend on the importer.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from data_access import schema

NAME_EXTRAS = ("full_name_raw", "full_name_legacy")


def table_columns(t: schema.Table) -> list[str]:
    cols = [c.name for c in t.columns] + ["_row"]
    if t.name in ("students", "staff"):
        cols += list(NAME_EXTRAS)
    return cols


def write_snapshot(path: str | Path, tables: dict[str, list[dict]], as_of: str = "2022-04-27T17:00:00+07:00",
                   snapshot_id: str | None = None) -> Path:
    """tables: {"schools": [{"school_code": "S1", ...}, ...], ...}; missing tables are empty,
    missing columns NULL, every value str (None = empty cell)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        for t in schema.TABLES:
            cols = table_columns(t)
            rows = tables.get(t.name, [])
            unknown = {k for r in rows for k in r} - set(cols)
            if unknown:
                raise ValueError(f"{t.name}: unknown columns {unknown}")
            defs = ", ".join(f'"{c}" {"BIGINT" if c == "_row" else "VARCHAR"}' for c in cols)
            con.execute(f"CREATE TABLE {t.name} ({defs})")
            if rows:
                df = pd.DataFrame(
                    [{c: (i + 2 if c == "_row" and r.get(c) is None else
                          (None if r.get(c) is None else (r[c] if c == "_row" else str(r[c]))))
                      for c in cols} for i, r in enumerate(rows)],
                    columns=cols,
                ).astype({c: "object" for c in cols if c != "_row"})
                con.register("_df", df)
                con.execute(f"INSERT INTO {t.name} SELECT * FROM _df")
                con.unregister("_df")
        sid = snapshot_id or ("snap-" + as_of)
        con.execute("CREATE TABLE _meta (key VARCHAR, value VARCHAR)")
        con.executemany("INSERT INTO _meta VALUES (?, ?)", [
            ("snapshot_id", sid), ("as_of", as_of), ("source", "tests"), ("format_version", "1")])
    finally:
        con.close()
    return path
