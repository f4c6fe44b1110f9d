"""Hand-made snapshots for rule tests: write a snapshot DuckDB file exactly as the importer lays
it out (every table of data_access/schema.py, all canonical columns VARCHAR, `_row`, and the
name-repair columns), from a few dicts. Tests of the rules then do not depend on the importer.
"""
from __future__ import annotations

import zlib
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
    missing columns NULL, every value str (None = empty cell). tables["_absent"]: names of
    tables whose file the extract did not have (written to `_files` as the importer does)."""
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
        absent = set(tables.get("_absent", ()))
        if absent:
            con.execute("CREATE TABLE _files (table_name VARCHAR, file_name VARCHAR, encoding VARCHAR, "
                        "rows BIGINT, present BOOLEAN)")
            con.executemany("INSERT INTO _files VALUES (?, ?, ?, ?, ?)", [
                (t.name, None if t.name in absent else f"{t.file}.csv", None,
                 len(tables.get(t.name, [])), t.name not in absent) for t in schema.TABLES])
        sid = snapshot_id or ("snap-" + as_of)
        con.execute("CREATE TABLE _meta (key VARCHAR, value VARCHAR)")
        con.executemany("INSERT INTO _meta VALUES (?, ?)", [
            ("snapshot_id", sid), ("as_of", as_of), ("source", "tests"), ("format_version", "1")])
    finally:
        con.close()
    return path


def write_store(root: str | Path, snapshots: list[tuple[str, dict[str, list[dict]]]]) -> Path:
    """A store holding hand-made snapshots: [(as_of ISO, tables), ...], named as the importer
    names them (<as-of compact>-<12 hex>), so Store.list_snapshots() finds them."""
    import hashlib

    from data_access.store import Store, make_snapshot_id, parse_time

    store = Store(Path(root)).ensure()
    for as_of, tables in snapshots:
        t = parse_time(as_of)
        digest = hashlib.sha256(f"{as_of}{sorted(tables.items())!r}".encode()).hexdigest()
        sid = make_snapshot_id(t, digest)
        write_snapshot(store.snapshot_path(sid), tables, as_of=t.isoformat(), snapshot_id=sid)
    return store.root


# A valid grade-12 student and the rows that make every G12 requirement done, for tests to
# start from and spoil one field at a time.
THPT_SCORED = ["Toán", "Vật lí", "Hóa học", "Sinh học", "Tin học", "Ngữ văn", "Lịch sử", "Địa lí",
               "Ngoại ngữ", "GDCD", "Công nghệ", "GDQP-AN"]
YEARS = {10: "2019-2020", 11: "2020-2021", 12: "2021-2022"}


def school(code="S1", levels="THPT", district="760", **kw) -> dict:
    managed = "Sở" if ("THPT" in levels or "GDTX" in levels) else "Phòng"
    return {"school_code": code, "school_name": f"Trường Mẫu {code}", "district_code": district,
            "levels": levels, "ownership": "Công lập", "managed_by": managed, **kw}


def student(sid="HS1", school_code="S1", gender="Nam", birth="15/03/2004", cccd=None, **kw) -> dict:
    if cccd is None:
        digit = {"Nam": "2", "Nữ": "3"}.get(gender, "2")
        cccd = "079" + digit + birth[-2:] + f"{zlib.crc32(sid.encode()) % 1000000:06d}"
    row = {"student_id": sid, "school_code": school_code, "grade": "12", "class_name": "12A1",
           "full_name": "Nguyễn Văn An", "birth_date": birth, "gender": gender,
           "ethnicity": "Kinh", "id_number": cccd,
           "permanent_address": "12 Đường Lê Lợi, Phường Bến Thành, Quận 1, Thành phố Hồ Chí Minh",
           "status": "Đang học"}
    row.update(kw)
    return row


def results_rows(sid="HS1", terms=((10, "HK1"), (10, "HK2"), (10, "CN"), (11, "HK1"), (11, "HK2"),
                                   (11, "CN"), (12, "HK1")), score="8.0") -> tuple[list[dict], list[dict]]:
    """Consistent scores (every subject `score` in every term, so CN = score) and summaries."""
    scores, summaries = [], []
    for grade, term in terms:
        y = YEARS[grade]
        for subj in THPT_SCORED:
            scores.append({"student_id": sid, "school_year": y, "grade": str(grade), "term": term,
                           "subject": subj, "score": score})
        scores.append({"student_id": sid, "school_year": y, "grade": str(grade), "term": term,
                       "subject": "Thể dục", "rating": "Đ"})
        summaries.append({"student_id": sid, "school_year": y, "grade": str(grade), "term": term,
                          "overall_average": score, "academic_rank": "Giỏi" if float(score) >= 8 else "Khá",
                          "conduct": "Tốt"})
    return scores, summaries


def import_sample(store: Path) -> Path:
    """``store`` holding only the committed extract of 27/04/2022 17:00, imported through the
    documented CLI (as a user would): the fixture of the page, browser and security tests."""
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    sample = root / "sample_data" / "extract" / "2022-04-27T1700"
    subprocess.run([sys.executable, "-m", "data_access", "ingest", str(sample), "--store", str(store)],
                   cwd=root, check=True, stdout=subprocess.DEVNULL)
    return store
