"""Report figures against the records (issue 15, part 1).

Why here: the letter's closing note makes heads answerable for reports that the system builds
from the records, yet nothing compared a submitted report with the records behind it. The
figures a report states (the optional extract file ``so_lieu_bao_cao``) are compared with the
campaign's indicators (``[[indicators]]``: SQL over the records) computed on the snapshot at or
before the report's sending time and on the evaluated snapshot (RULES.md «Report figures»).

Layers: the indicator values are a per-snapshot fact (cached with the snapshot's derived files,
so comparing with an earlier snapshot costs no re-evaluation); the comparison runs in the marts
(``sql/marts_report_figures.sql``); this module builds the indicator view from the campaign's
SQL and holds the query functions the pages and exports call (scope applied in SQL).
"""
from __future__ import annotations

import duckdb
import pandas as pd

INDICATOR_VIEW = "stg_indicator_values"


class IndicatorSQLError(RuntimeError):
    """An indicator's SQL of the campaign file does not run on the snapshot."""


def create_indicator_view(con: duckdb.DuckDBPyConnection) -> None:
    """stg_indicator_values(school_code, report_code, indicator, value BIGINT): the union of the
    campaign's indicator queries (cfg_indicators.sql), one row per institution × indicator that
    the query returns (an institution without a row has the value 0). Called by the engine right
    after the staging layer, whose views the queries read. Each query is checked on its own so
    that a mistake names the indicator and what to fix."""
    rows = con.execute("SELECT indicator, report_code, sql FROM cfg_indicators ORDER BY sort_order").fetchall()
    parts = []
    for code, report_code, sql in rows:
        q = (f"SELECT CAST(school_code AS VARCHAR) AS school_code, "
             f"'{report_code}'::VARCHAR AS report_code, '{code}'::VARCHAR AS indicator, "
             f"CAST(value AS BIGINT) AS value FROM ({sql}) AS q_{code}")
        try:
            con.execute(f"DESCRIBE {q}")
        except duckdb.Error as e:
            raise IndicatorSQLError(
                f"Tệp chiến dịch: câu SQL của chỉ tiêu {code} (khóa `indicators[].sql`) không chạy được: {e}. "
                f"Câu SQL phải trả về hai cột school_code và value (số nguyên) từ các bảng/khung nhìn "
                f"stg_* / src_* [the SQL of indicator {code} fails]") from None
        parts.append(q)
    if parts:
        body = "\nUNION ALL\n".join(parts)
        con.execute(f"CREATE OR REPLACE VIEW {INDICATOR_VIEW} AS SELECT * FROM ({body}) WHERE school_code IS NOT NULL")
    else:
        con.execute(f"CREATE OR REPLACE VIEW {INDICATOR_VIEW} AS SELECT CAST(NULL AS VARCHAR) AS school_code, "
                    "CAST(NULL AS VARCHAR) AS report_code, CAST(NULL AS VARCHAR) AS indicator, "
                    "CAST(NULL AS BIGINT) AS value WHERE false")


def copy_derived(con: duckdb.DuckDBPyConnection, sid: str, folder) -> None:
    """Per-snapshot derived files: indicator_values (snapshot_id, school_code, report_code,
    indicator, value; rows the indicator queries return) and report_figures (the snapshot's
    submitted reports with their figures, stg_submitted_report_figures). An indicator whose SQL
    returns more than one row for an institution is refused (IndicatorSQLError naming it): each
    would be a figure of its own and multiply the comparison (outside review of issue 15)."""
    dup = con.execute(f"""SELECT indicator, school_code, count(*) AS n FROM {INDICATOR_VIEW}
                          GROUP BY indicator, school_code HAVING count(*) > 1
                          ORDER BY indicator, school_code LIMIT 1""").fetchone()
    if dup:
        code, school, n = dup
        raise IndicatorSQLError(
            f"Tệp chiến dịch: câu SQL của chỉ tiêu {code} (khóa `indicators[].sql`) trả về {n} dòng cho "
            f"trường {school}; câu SQL phải trả về một dòng cho mỗi trường (school_code, value), ví dụ "
            f"SELECT school_code, count(*) AS value FROM ... GROUP BY school_code "
            f"[indicator {code} returns more than one row per institution]")
    con.execute(f"""COPY (SELECT '{sid}' AS snapshot_id, school_code, report_code, indicator, value
                          FROM {INDICATOR_VIEW} ORDER BY school_code, indicator)
                    TO '{folder / 'indicator_values.parquet'}' (FORMAT parquet)""")
    # measured: every table the indicator counts had a file in this snapshot's extract
    # (src_files; a table not listed there is present)
    con.execute(f"""COPY (SELECT '{sid}' AS snapshot_id, i.indicator,
                                 coalesce((SELECT bool_and(f.present) FROM src_files f
                                           WHERE list_contains(string_split(i.source_tables, ','), f.table_name)),
                                          TRUE) AS measured
                          FROM cfg_indicators i ORDER BY i.indicator)
                    TO '{folder / 'indicator_sources.parquet'}' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT * FROM stg_submitted_report_figures
                          ORDER BY school_code, report_code, indicator)
                    TO '{folder / 'report_figures.parquet'}' (FORMAT parquet)""")


def load_history(con: duckdb.DuckDBPyConnection, dirs: list) -> None:
    """Tables of an evaluation read by sql/marts_report_figures.sql: hist_indicator_values
    (every visible snapshot's indicator values, with its as_of) and cur_report_figures (the
    evaluated snapshot's submitted reports and figures)."""
    files = ", ".join(f"'{d / 'indicator_values.parquet'}'" for d in dirs)
    # Views here, made tables on first use (engine.LAZY_MARTS): only the pages read them.
    con.execute(f"""CREATE VIEW hist_indicator_values AS
                    SELECT v.snapshot_id, s.as_of, v.school_code, v.report_code, v.indicator, v.value
                    FROM read_parquet([{files}]) v JOIN hist_snapshots s USING (snapshot_id)""")
    sfiles = ", ".join(f"'{d / 'indicator_sources.parquet'}'" for d in dirs)
    con.execute(f"CREATE VIEW hist_indicator_sources AS SELECT * FROM read_parquet([{sfiles}])")
    con.execute(f"CREATE VIEW cur_report_figures AS SELECT * FROM read_parquet('{dirs[-1] / 'report_figures.parquet'}')")
    # The evaluated snapshot (derived/<snapshot_id>/<key>/): its values are the records "now".
    con.execute("CREATE TABLE rf_eval_snapshot AS SELECT ?::VARCHAR AS snapshot_id", [dirs[-1].parent.name])


# ---- query API (the pages and exports call these; scope and filters applied in SQL) ---------
# Vietnamese words of a figure's state (RULES.md «Report figures»).
FIGURE_STATE_LABELS = {
    "match": "Khớp",
    "stale": "Dữ liệu đổi sau khi gửi (báo cáo đã cũ)",
    "different_at_sending": "Đã lệch ngay lúc gửi",
    "no_snapshot_before": "Lệch với dữ liệu hiện tại (chưa có snapshot trước lúc gửi)",
    "invalid": "Giá trị không đọc được",
    "no_source_at_sending": "Lệch với dữ liệu hiện tại (bản trích xuất lúc gửi không có tệp nguồn)",
    "no_source": "Không so được: bản trích xuất không có tệp nguồn",
}
MATCH_STATE_ORDER = ("match", "mismatch", "no_figures")


def _q():
    from . import queries   # (queries imports this module: late import)
    return queries


def report_figure_matches(viewer, snapshot_id: str | None = None, filters=None, store=None) -> pd.DataFrame:
    """«Khớp dữ liệu» of every submitted report that has indicators, in the viewer's scope and
    the filters: school_code, school_name, district_code, district_name, level_group, ownership,
    requirement_id, report_code, submitted_at, n_figures, n_mismatch, n_stale, match_state
    (match | mismatch | no_figures), match_label (khớp | n chỉ tiêu lệch | không có số liệu |
    không so được (bản trích xuất thiếu tệp nguồn))."""
    Q = _q()
    ev = Q.evaluation(snapshot_id, store)
    cond, params = Q._where(viewer, filters)
    return Q._df(ev, f"""
        SELECT school_code, school_name, district_code, district_name, level_group, ownership,
               requirement_id, report_code, submitted_at, n_figures, n_mismatch, n_stale,
               match_state, match_label
        FROM rf_reports WHERE {cond}
        ORDER BY school_name COLLATE vi, school_code, report_code""", params)


def report_figure_mismatches(viewer, snapshot_id: str | None = None, filters=None, store=None,
                             school_code: str | None = None) -> pd.DataFrame:
    """The figures that do not match the records now (state ≠ match), in scope (one institution
    with ``school_code``): school_code, school_name, district_code, district_name, report_code,
    requirement_id, indicator, indicator_name, stated, value_raw, at_sending, now_value,
    figure_state, figure_state_label, submitted_at, sending_as_of."""
    Q = _q()
    ev = Q.evaluation(snapshot_id, store)
    cond, params = Q._where(viewer, filters)
    if school_code:
        cond += " AND school_code = ?"
        params = params + [school_code]
    df = Q._df(ev, f"""
        SELECT * FROM (
            SELECT f.school_code, s.school_name, s.district_code, d.district_name, s.level_group,
                   s.ownership, f.report_code, f.requirement_id, f.indicator, f.indicator_name,
                   f.stated, f.value_raw, f.at_sending, f.now_value, f.figure_state,
                   f.submitted_at, f.sending_as_of, f.indicator_order
            FROM rf_figures f
            JOIN cur_schools s USING (school_code)
            LEFT JOIN ref_districts d ON d.district_code = s.district_code
            WHERE f.figure_state NOT IN ('match', 'no_source'))
        WHERE {cond}
        ORDER BY school_name COLLATE vi, school_code, report_code, indicator_order""", params)
    df = df.drop(columns="indicator_order")
    df["figure_state_label"] = df["figure_state"].map(FIGURE_STATE_LABELS)
    return df


def report_figure_rates(viewer, snapshot_id: str | None = None, filters=None, store=None) -> pd.DataFrame:
    """Rates of reports that match the records, over the viewer's scope and filters (RULES.md
    «Report figures»): one row for the whole scope (level 'total', district_code NULL) and one
    per district (level 'district'): reports (submitted, with indicators), with_figures,
    matching, mismatching, no_figures, match_rate = round1(100 × matching / with_figures), NULL
    when no report has figures to compare (nothing measured is not 0 %: outside review)."""
    Q = _q()
    ev = Q.evaluation(snapshot_id, store)
    cond, params = Q._where(viewer, filters)
    return Q._df(ev, f"""
        SELECT CASE WHEN GROUPING(district_code) = 1 THEN 'total' ELSE 'district' END AS level,
               district_code,
               CASE WHEN GROUPING(district_code) = 0 THEN any_value(district_name) END AS district_name,
               count(*) AS reports,
               count(*) FILTER (WHERE match_state <> 'no_figures') AS with_figures,
               count(*) FILTER (WHERE match_state = 'match') AS matching,
               count(*) FILTER (WHERE match_state = 'mismatch') AS mismatching,
               count(*) FILTER (WHERE match_state = 'no_figures') AS no_figures,
               CASE WHEN count(*) FILTER (WHERE match_state <> 'no_figures') > 0
                    THEN dash_rate(count(*) FILTER (WHERE match_state = 'match'),
                                   count(*) FILTER (WHERE match_state <> 'no_figures')) END AS match_rate
        FROM rf_reports WHERE {cond}
        GROUP BY GROUPING SETS ((), (district_code))
        ORDER BY level DESC, district_code""", params)


def match_labels_at(ev, viewer, district: str | None = None, school: str | None = None) -> pd.DataFrame:
    """For the status sheets (exports/tables.py): school_code, requirement_id, match_label of
    every compared report in the viewer's scope (optionally one district or institution), and
    the requirement ids that have indicators at all (attribute ``compared``)."""
    from .access import scope_filter
    cond, params = scope_filter(viewer, "school_code", "district_code")
    if district:
        cond, params = cond + " AND district_code = ?", params + [district]
    if school:
        cond, params = cond + " AND school_code = ?", params + [school]
    df = ev.df(f"SELECT school_code, requirement_id, match_label FROM rf_reports WHERE {cond}", params)
    df.attrs["compared"] = set(ev.df("""SELECT DISTINCT r.requirement_id FROM cfg_requirements r
                                        JOIN cfg_indicators i USING (report_code)
                                        WHERE r.kind = 'report'""")["requirement_id"])
    return df
