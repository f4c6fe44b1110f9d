"""The status workbook's sheet «Mức độ đầy đủ dữ liệu»: the completeness index over the eight
domains (data_access/completeness.py), the same numbers as the page and the CLI.

Why its own module: the sheet is one table (roll-up rows, then the institutions in scope) built
from the completeness API; the workbook writes it like every other sheet, so every cell goes
through the one safe writer (status_workbook.put).
"""
from __future__ import annotations

import pandas as pd

from data_access import completeness as cmp
from data_access.access import Viewer
from data_access.evaluate import Evaluation

from . import tables as T

SHEET = "Mức độ đầy đủ dữ liệu"


def completeness_frame(ev: Evaluation, viewer: Viewer, district: str | None = None) -> pd.DataFrame:
    """Rows: the scope's roll-up («Toàn thành phố», or the district), each district (city
    workbook), then each institution; columns: Cấp, Mã, Tên đơn vị, Số trường, one per domain
    (percent, or the reason it has none, as text) and «Chỉ số chung»."""
    doms = cmp.domain_table()
    names = dict(zip(doms["domain"], doms["name"]))
    no_source = cmp.no_source_at(ev)
    parts = []
    inst = cmp.table_at(ev, viewer, "institution")
    if district:
        inst = inst[inst["district_code"] == district]
    dist = cmp.table_at(ev, viewer, "district")
    if district:
        dist = dist[dist["unit"] == district]
    else:
        city = cmp.table_at(ev, viewer, "city")
        parts.append(city.assign(level="Thành phố" if viewer.role in ("lanh_dao", "khtc", "quan_tri")
                                 else "Phạm vi"))
    parts.append(dist.assign(level="Quận/huyện"))
    parts.append(inst.drop(columns=["district_code", "domains_measured"]).assign(level="Trường"))
    df = pd.concat(parts, ignore_index=True)
    out = pd.DataFrame({"Cấp": df["level"], "Mã": df["unit"].where(df["unit"] != "city", ""), "Tên đơn vị": df["name"],
                        "Số trường": df["institutions"].astype("Int64")})
    for d in doms["domain"]:
        text = cmp.NO_SOURCE_TEXT if d in no_source else cmp.NOT_APPLICABLE_TEXT
        out[names[d]] = [text if pd.isna(v) else float(v) for v in df[d]]
    return out


def completeness_table(ev: Evaluation, viewer: Viewer, district: str | None = None) -> T.Table:
    df = completeness_frame(ev, viewer, district)
    pct = [c for c in df.columns[4:]]
    return T.Table(name=SHEET, title=SHEET, df=df, percent_cols=pct, freeze_cols=3,
                   csv_name="muc-do-day-du")
