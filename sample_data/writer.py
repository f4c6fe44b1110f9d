"""Write snapshot extracts: one folder per as-of time with manifest.toml and the CSV files
(UTF-8 without BOM, header row, comma, quotes only where needed, empty cell = missing).

CSVs are written by DuckDB's COPY from Arrow tables (fast, multi-threaded, insertion order
kept, byte-identical for identical input). For the national scale the provinces arrive one at a
time: the first is written with the header, the next ones are written without it to a part file
appended to the snapshot's file, so memory stays that of one province.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

from .timeline import folder_name, iso


class SnapshotWriter:
    def __init__(self, out: Path, times: list[int], source: str):
        self.out = Path(out)
        self.times = times
        self.con = duckdb.connect()
        self.con.execute("SET preserve_insertion_order = true")
        self.started: set[tuple[int, str]] = set()
        self.rows: dict[int, dict[str, int]] = {t: {} for t in times}
        self.out.mkdir(parents=True, exist_ok=True)
        for t in times:
            folder = self.folder(t)
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            (folder / "manifest.toml").write_text(
                f"as_of = {iso(t)}\nsource = \"{source}\"\n", encoding="utf-8")

    def folder(self, t: int) -> Path:
        return self.out / folder_name(t)

    def write(self, t: int, stem: str, table: pa.Table) -> None:
        path = self.folder(t) / f"{stem}.csv"
        first = (t, stem) not in self.started
        target = path if first else path.with_suffix(".part")
        self.con.register("_snapshot_table", table)
        try:
            quoted = str(target).replace("'", "''")
            self.con.execute(f"COPY _snapshot_table TO '{quoted}' "
                             f"(FORMAT csv, HEADER {'true' if first else 'false'}, DELIMITER ',')")
        finally:
            self.con.unregister("_snapshot_table")
        if not first:
            with open(path, "ab") as dst, open(target, "rb") as src:
                shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
            os.remove(target)
        self.started.add((t, stem))
        self.rows[t][stem] = self.rows[t].get(stem, 0) + table.num_rows

    def close(self) -> None:
        self.con.close()
