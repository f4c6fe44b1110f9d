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


def exclusion_lines(summary: pd.DataFrame) -> list[str]:
    """Vietnamese lines for the import summary ("9 dòng học sinh ngoài diện ...")."""
    total = int(summary["n_rows"].sum()) if len(summary) else 0
    lines = [f"{total} dòng học sinh ngoài diện lớp 12 của công văn (không tính vào số phải báo cáo):"]
    for reason, n in zip(summary["reason"], summary["n_rows"]):
        lines.append(f"  {REASONS_VI.get(reason, reason)}: {int(n)}")
    if any(summary["reason"].isin(["status_invalid", "grade_invalid"])):
        lines.append("  (Khối/trạng thái không đọc được ở trường có yêu cầu lớp 12 là lỗi "
                     "GRADE_INVALID/STATUS_INVALID, hiện trong danh sách lỗi của trường.)")
    return lines
