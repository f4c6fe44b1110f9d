"""Who is outside the grade-12 population, and why (the import summary).

Why: no student may leave the population silently (issue 12, point 9). The reasons are decided
in SQL (staging_20_students.sql, view stg_population_exclusions); this module only counts them
for one snapshot file and words them for the person importing.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import engine
from .campaign import Campaign

REASONS_VI = {
    "school_unknown": "mã trường không có trong danh sách trường",
    "school_not_applicable": "trường không có yêu cầu lớp 12 (không có cấp THPT/GDTX)",
    "status_invalid": "trạng thái không đọc được (bỏ trống hoặc không phải trạng thái của hệ thống)",
    "grade_invalid": "khối không đọc được",
    "status_other": "trạng thái khác «Đang học» (đã chuyển trường, thôi học, đã tốt nghiệp)",
    "grade_other": "khối khác 12",
}


def exclusion_summary(snapshot_path: str | Path, campaign: Campaign) -> pd.DataFrame:
    """reason, n_rows: student rows outside the population, by the first reason that holds."""
    con = engine.open_snapshot(snapshot_path, campaign, upto="staging")
    try:
        return con.execute("SELECT reason, count(*) AS n_rows FROM stg_population_exclusions "
                           "GROUP BY reason ORDER BY n_rows DESC, reason").df()
    finally:
        con.close()


WHY_VI = dict(REASONS_VI, counted="tính", unplaced="tính vào số cần, chưa đạt đến khi sửa khối/trạng thái")


def school_breakdown(snapshot_path: str | Path, campaign: Campaign, school_code: str) -> pd.DataFrame:
    """grade, status, n, category, why: one institution's student rows by (grade, status) as
    written, with how the engine treats them: ``counted`` (the population), ``unplaced`` (may be
    a grade-12 student but grade or status cannot be read: counted, never done), or the first
    reason of stg_population_exclusions. Read from the SQL views, so the explanation ("Vì
    sao?", ``explain``) says what the verdict used (outside review of issue 12: the explanation
    had its own reading of the grade and called «Khối 12» not counted)."""
    con = engine.open_snapshot(snapshot_path, campaign, upto="staging")
    try:
        df = con.execute("""
            SELECT grade, status, category, count(*) AS n FROM (
            SELECT coalesce(st.grade, '') AS grade, coalesce(st.status, '') AS status,
                   CASE WHEN p.source_row IS NOT NULL THEN 'counted'
                        WHEN u.source_row IS NOT NULL THEN 'unplaced'
                        ELSE coalesce(x.reason, 'grade_other') END AS category
            FROM src_students st
            LEFT JOIN stg_population p ON p.school_code = st.school_code AND p.source_row = st._row
                  AND p.student_id IS NOT DISTINCT FROM st.student_id
            LEFT JOIN stg_population_unplaced u ON u.school_code = st.school_code AND u.source_row = st._row
                  AND u.student_id IS NOT DISTINCT FROM st.student_id
            LEFT JOIN stg_population_exclusions x ON x.school_code = st.school_code AND x.source_row = st._row
                  AND x.student_id IS NOT DISTINCT FROM st.student_id
            WHERE st.school_code = ?)
            GROUP BY grade, status, category
            ORDER BY category <> 'counted', grade DESC, status""", [school_code]).df()
    finally:
        con.close()
    df["why"] = df["category"].map(WHY_VI).fillna(df["category"])
    return df[["grade", "status", "n", "category", "why"]]


def exclusion_lines(summary: pd.DataFrame) -> list[str]:
    """Vietnamese lines for the import summary ("9 dòng học sinh ngoài diện ...")."""
    total = int(summary["n_rows"].sum()) if len(summary) else 0
    lines = [f"{total} dòng học sinh ngoài diện lớp 12 của công văn (không tính vào số phải báo cáo):"]
    for reason, n in zip(summary["reason"], summary["n_rows"]):
        lines.append(f"  {REASONS_VI.get(reason, reason)}: {int(n)}")
    if any(summary["reason"].isin(["status_invalid", "grade_invalid"])):
        lines.append("  (Khối/trạng thái không đọc được ở trường có yêu cầu lớp 12 là lỗi "
                     "GRADE_INVALID/STATUS_INVALID, hiện trong danh sách lỗi của trường; dòng nào có "
                     "thể là học sinh lớp 12 «Đang học» vẫn được tính vào số cần và chưa đạt đến khi sửa.)")
    return lines
