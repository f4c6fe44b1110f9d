"""Runs the SQL layers over one snapshot.

Why an in-memory DuckDB with the snapshot ATTACHed read-only: snapshot files are immutable and
may be read by several dashboard processes at once; every view and every derived table lives in
the per-query connection, so nothing is ever written into a snapshot.

Layers (files `data_access/sql/<layer>_<subject>.sql`, run in this order, files of one layer
alphabetically): staging → checks → findings → progress → marts. Each file is plain DuckDB SQL
(statements separated by `;`) that creates views or tables over
- `src_<table>`: the snapshot's tables (data_access/schema.py), every value VARCHAR;
- `cfg_*`: the campaign (data_access/campaign.py, Campaign.tables());
- `ref_*`: reference lists shipped with the project (data_access/reference.py).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import duckdb

from . import file_memo, schema
from .campaign import Campaign

SQL_DIR = Path(__file__).resolve().parent / "sql"
LAYERS = ("staging", "checks", "findings", "progress", "completeness", "marts")
# Layers evaluated over one snapshot (cached per snapshot); the marts run over the history.
# completeness (the index over the eight domains of letter 1254 point 1) reads the staging and
# checks views and is derived beside progress (data_access/evaluate.py).
SNAPSHOT_LAYERS = LAYERS[:5]
# Views turned into tables right after their layer, when a later layer runs in the connection:
# each is read by several later views, and DuckDB recomputes a view for every reference in a
# plan. In dependency order (a view reads the tables materialised before it).
#   stg_population_candidates, stg_population, stg_population_keys, chk_student_base: the
#     grade-12 population (~80 k of 1.7 M students at city scale; its personal columns for the
#     student and ID checks);
#   stg_result_years, stg_result_grade_texts, stg_result_term_texts, stg_result_gt: the few
#     distinct school-year, grade and term texts of the results tables, as read, and their use.
#     As views, DuckDB pushed their regexp test down into the scan of the 9 M score rows (the
#     SCHOOL_YEAR_INVALID probe of stg_year_invalid_rows: 1.15 s of chk_results' 5.7 s at city
#     scale, one thread) and recomputed the DISTINCT scans at each of their uses;
#   stg_score_rows, stg_summaries: the narrow score rows (~9 M at city scale) and the term
#     summaries (~0.7 M) of the population;
#   stg_grade_years: the (student, grade) with results of several school years and the year
#     used (few: repeaters, typos; read three times by the checks and by the completeness index).
MATERIALIZED_STAGING = ("stg_population_candidates", "stg_population", "stg_population_keys",
                        "stg_result_years", "stg_result_grade_texts", "stg_result_term_texts",
                        "stg_result_gt", "stg_score_rows", "stg_summaries", "stg_grade_years")
MATERIALIZED_CHECKS = ("chk_student_base",)
# Marts of an evaluation computed when it is built: progress (the roll-ups and every page read it).
MATERIALIZED_MARTS = ("progress",)
# Marts of an evaluation computed on first use (Evaluation.prepare), in dependency order (each
# reads only the ones before it): only the pages read them, and each page only some of them, so
# building all of them with every evaluation cost ~1 CPU s at city scale (issue 12 bench) that
# progress + roll-ups never read. Once made they are tables, as before.
LAZY_MARTS = ("hist_completeness", "hist_indicator_values", "hist_indicator_sources", "cur_report_figures", "rf_figures",
              "rf_reports", "dash_units", "dash_findings", "dash_report_cells", "dash_filled_valid")
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")


def sql_files(layer: str) -> list[Path]:
    return sorted(SQL_DIR.glob(f"{layer}_*.sql"))


def split_sql(text: str) -> list[str]:
    """Statements of a SQL file (split on ';' at line ends; our files keep ';' out of strings)."""
    no_comments = re.sub(r"--[^\n]*", "", text)
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", no_comments) if s.strip()]


def engine_fingerprint() -> str:
    """Changes whenever a SQL file of the per-snapshot layers changes: part of the key of every
    cached derived result (the marts run at evaluation time and are never cached)."""
    from .completeness import DEFAULT_DEFINITIONS
    # the completeness definitions are parameters of a per-snapshot layer: part of the key too
    files = [f for layer in SNAPSHOT_LAYERS for f in sql_files(layer)] + [DEFAULT_DEFINITIONS]

    def digest() -> str:
        import hashlib
        h = hashlib.sha256()
        for f in files:
            h.update(f.name.encode())
            h.update(f.read_bytes())
        return h.hexdigest()[:12]

    # Part of every page's cache key: hashed again only when a SQL file changes (file_memo).
    return file_memo.remembered(("engine_fingerprint", tuple(map(str, files))), files, digest)


def load_static_tables(con: duckdb.DuckDBPyConnection, campaign: Campaign) -> None:
    """cfg_* and ref_* tables as real tables in the connection."""
    from . import reference
    from .completeness import load_definitions
    tables = {**campaign.tables(), **reference.tables(), **load_definitions().tables()}
    for name, df in tables.items():
        con.register("_tmp_df", df)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _tmp_df")
        con.unregister("_tmp_df")


def new_connection(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    # Bounded memory: at city scale a snapshot's checks would otherwise take most of a small
    # server; DuckDB spills to disk beyond the limit instead.
    con.execute(f"SET memory_limit = '{os.environ.get('TIENDO_DUCKDB_MEMORY', '2GB')}'")
    spill = Path(tempfile.gettempdir()) / "tiendo-duckdb-spill"
    con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def attach_snapshot(con: duckdb.DuckDBPyConnection, snapshot_path: str | Path, alias: str = "snap") -> None:
    path = str(snapshot_path).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS {alias} (READ_ONLY)")
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [alias]).fetchall()}
    for t in schema.TABLES:
        if t.name in present:
            con.execute(f"CREATE OR REPLACE VIEW src_{t.name} AS SELECT * FROM {alias}.main.{t.name}")
        else:
            # A snapshot imported before the table existed (so_lieu_bao_cao, issue 15): empty.
            cols = ", ".join(f'CAST(NULL AS VARCHAR) AS "{c.name}"' for c in t.columns)
            con.execute(f"CREATE OR REPLACE VIEW src_{t.name} AS SELECT {cols}, CAST(NULL AS BIGINT) AS _row "
                        f"WHERE false")
    # Which tables the extract had a file for (ingest writes `_files`): a snapshot without an
    # optional file (phong_hoc) is no evidence about what that file would say (outside review
    # of issue 12, finding 4). A snapshot without `_files` had every table.
    has_files = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? "
                            "AND table_name = '_files'", [alias]).fetchone()[0]
    con.execute("CREATE OR REPLACE VIEW src_files AS "
                + (f"SELECT table_name, coalesce(present, TRUE) AS present FROM {alias}.main._files"
                   if has_files else
                   "SELECT unnest([" + ", ".join(f"'{t.name}'" for t in schema.TABLES)
                   + "]) AS table_name, TRUE AS present"))
    # The snapshot's as-of (BIRTH_DATE_IMPOSSIBLE: a birth date after it); NULL when absent.
    has_meta = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? "
                           "AND table_name = '_meta'", [alias]).fetchone()[0]
    con.execute("CREATE OR REPLACE VIEW src_as_of AS SELECT "
                + (f"try_cast((SELECT max(value) FROM {alias}.main._meta WHERE key = 'as_of') AS TIMESTAMPTZ)"
                   if has_meta else "CAST(NULL AS TIMESTAMPTZ)") + " AS as_of")


def _materialize(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Replace a view by a table of its rows (the view is kept as <view>__view): views that read
    it are bound by name at query time, so they read the table from then on."""
    con.execute(f"ALTER VIEW {view} RENAME TO {view}__view")
    con.execute(f"CREATE TABLE {view} AS SELECT * FROM {view}__view")


def lazy_marts_reached(con: duckdb.DuckDBPyConnection) -> dict[str, frozenset]:
    """For every view of ``con`` (and each lazy mart itself): the lazy marts it reads, directly
    or through other views. A query naming one of these names needs those marts made first."""
    views = {name.lower(): set(_IDENT.findall((sql or "").lower()))
             for name, sql in con.execute(
                 "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()}
    reach = {v: {t for t in refs if t in LAZY_MARTS} | ({v} if v in LAZY_MARTS else set())
             for v, refs in views.items()}
    changed = True
    while changed:
        changed = False
        for v, refs in views.items():
            extra = set().union(*(reach[t] for t in refs if t in reach and t != v)) - reach[v]
            if extra:
                reach[v] |= extra
                changed = True
    return {v: frozenset(r) for v, r in reach.items() if r}


def materialize_lazy(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Make a lazy mart a table of its rows (<view>__table) and the view a plain read of it. The
    view is replaced, not renamed: a query binding it at the same moment sees one or the other,
    both with the same rows."""
    con.execute(f"CREATE TABLE {view}__table AS SELECT * FROM {view}")
    con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {view}__table")


def run_layers(con: duckdb.DuckDBPyConnection, upto: str = "findings",
               layers: tuple[str, ...] = SNAPSHOT_LAYERS, materialize: bool = True) -> None:
    for layer in layers:
        for f in sql_files(layer):
            for stmt in split_sql(f.read_text(encoding="utf-8")):
                try:
                    con.execute(stmt)
                except duckdb.Error as e:
                    raise RuntimeError(f"{f.name}: {e}\n--- statement ---\n{stmt[:2000]}") from e
            if layer == "marts" and materialize:
                # An evaluation is read many times (every page, every filter) and never changes:
                # computing progress once makes each page query a lookup in a small table instead
                # of a re-run of the history and status logic (60-240 ms each). Made right after
                # the file that defines it: the later files' views are then bound to a table, not
                # to the whole status logic (binding them cost ~0.07 CPU s each at city scale).
                # Dependants are views, bound by name at query time, so they read the tables.
                made = {v for (v,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
                for view in MATERIALIZED_MARTS:
                    if view in made:
                        _materialize(con, view)
        if layer == "staging":
            # The campaign's indicators (SQL over the staging views; issue 15).
            from .report_figures import create_indicator_view
            create_indicator_view(con)
        if layer in ("staging", "checks") and materialize and upto != layer:
            # Read by several later views: computed once instead of per use (see above). Not when
            # this layer is the last one (an import's preview only counts the population).
            for view in MATERIALIZED_STAGING if layer == "staging" else MATERIALIZED_CHECKS:
                _materialize(con, view)
        if layer == "findings" and materialize and upto != "findings":
            # Computed once: the progress layer and the cache both read it.
            _materialize(con, "findings")
        if layer == upto:
            break


def open_snapshot(snapshot_path: str | Path, campaign: Campaign, upto: str = "findings",
                  threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with one snapshot's views built up to (and including) layer `upto`."""
    con = new_connection(threads)
    load_static_tables(con, campaign)
    attach_snapshot(con, snapshot_path)
    run_layers(con, upto)
    return con
