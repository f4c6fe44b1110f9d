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
    """reason, n_rows, n_unplaced: student rows outside the population, by the first reason
    that holds; n_unplaced of them cannot be placed (stg_population_unplaced: an unreadable
    grade or status that may be a grade-12 enrolled student) and so ARE counted in expected."""
    con = engine.open_snapshot(snapshot_path, campaign, upto="staging")
    try:
        return con.execute("""
            SELECT x.reason, count(*) AS n_rows, count(u.source_row) AS n_unplaced
            FROM stg_population_exclusions x
            LEFT JOIN stg_population_unplaced u ON u.school_code IS NOT DISTINCT FROM x.school_code
                 AND u.source_row = x.source_row AND u.student_id IS NOT DISTINCT FROM x.student_id
            GROUP BY x.reason ORDER BY n_rows DESC, x.reason""").df()
    finally:
        con.close()


WHY_VI = dict(REASONS_VI, counted="tính", unplaced="tính vào số cần, chưa đạt đến khi sửa khối/trạng thái")


def school_breakdown(snapshot_path: str | Path, campaign: Campaign, school_code: str) -> pd.DataFrame:
    """grade, status, n, category, why, rules: one institution's student rows by (grade, status)
    as written, with how the engine treats them (rules: the GRADE_INVALID / STATUS_INVALID
    findings such a row has): ``counted`` (the population), ``unplaced`` (may be
    a grade-12 student but grade or status cannot be read: counted, never done), or the first
    reason of stg_population_exclusions. Read from the SQL views, so the explanation ("Vì
    sao?", ``explain``) says what the verdict used (outside review of issue 12: the explanation
    had its own reading of the grade and called «Khối 12» not counted)."""
    con = engine.open_snapshot(snapshot_path, campaign, upto="staging")
    try:
        df = con.execute("""
            SELECT grade, status, category, grade_bad, status_bad, count(*) AS n FROM (
            SELECT coalesce(st.grade, '') AS grade, coalesce(st.status, '') AS status,
                   gv.grade IS NULL AS grade_bad, sv.status IS NULL AS status_bad,
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
            LEFT JOIN stg_grade_values gv ON gv.grade_raw = st.grade
            LEFT JOIN stg_status_values sv ON sv.status_raw = st.status
            WHERE st.school_code = ?)
            GROUP BY grade, status, category, grade_bad, status_bad
            ORDER BY category <> 'counted', grade DESC, status""", [school_code]).df()
    finally:
        con.close()
    df["why"] = df["category"].map(WHY_VI).fillna(df["category"])
    # an unplaced row's findings: GRADE_INVALID (grade unreadable) and/or STATUS_INVALID
    df["rules"] = [tuple(r for r, bad in (("GRADE_INVALID", g), ("STATUS_INVALID", t)) if bad)
                   for g, t in zip(df["grade_bad"].astype(bool), df["status_bad"].astype(bool))]
    return df[["grade", "status", "n", "category", "why", "rules"]]


def exclusion_lines(summary: pd.DataFrame) -> list[str]:
    """Vietnamese lines for the import summary: the rows outside the population ("9 dòng học
    sinh ngoài diện ... (không tính vào số phải báo cáo)"), then the rows whose grade or status
    cannot be read but which may be grade-12 enrolled students: those count in expected and are
    never done, so they must not be called "không tính" (outside review of issue 12, finding 15)."""
    n_un = (summary["n_unplaced"] if "n_unplaced" in summary else pd.Series(0, index=summary.index))
    n_un = n_un.fillna(0).astype(int)
    n_out = summary["n_rows"].astype(int) - n_un
    lines = [f"{int(n_out.sum())} dòng học sinh ngoài diện lớp 12 của công văn (không tính vào số phải báo cáo):"]
    for reason, n in zip(summary["reason"], n_out):
        if n:
            lines.append(f"  {REASONS_VI.get(reason, reason)}: {int(n)}")
    if int(n_un.sum()):
        lines.append(f"{int(n_un.sum())} dòng học sinh không đọc được khối/trạng thái "
                     "(vẫn tính vào số phải báo cáo, chưa đạt):")
        for reason, n in zip(summary["reason"], n_un):
            if n:
                lines.append(f"  {REASONS_VI.get(reason, reason)}: {int(n)}")
    if any(summary["reason"].isin(["status_invalid", "grade_invalid"])):
        lines.append("  (Khối/trạng thái không đọc được ở trường có yêu cầu lớp 12 là lỗi "
                     "GRADE_INVALID/STATUS_INVALID, hiện trong danh sách lỗi của trường.)")
    return lines
