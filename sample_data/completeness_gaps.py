"""Incomplete domains for the completeness index (issue 15, part 2; RULES.md "Completeness
index"): a few institutions whose profile, class list, staff list or rooms have gaps, so that
every domain measure has real cases at demo and hcmc scale. The term-summary gaps already come
from the result defects (SUMMARY_MISSING, SUMMARY_FIELD_EMPTY in defects.py) and the students'
from the student defects; the students of the institutions without any student row (schools
that never entered them) make the 0 % cases.

Why a module of its own, applied last: its random stream is its own (rand.rng purpose
"completeness_gaps"), so the rest of the generated data is byte for byte what it was, and the
gaps are the same in every snapshot of the series (nobody fixes them: the domain is "all year").

| gap | what changes | rate | at least |
|---|---|---|---|
| PRINCIPAL_MISSING | `truong` Hiệu trưởng empty | 2 % of institutions | 2 |
| EMAIL_MISSING | `truong` Email empty | 3 % of institutions | 3 |
| CLASS_NOT_IN_LOP | one class of the institution left out of `lop` (its students still name it) | 2 % of institutions with classes | 2 |
| STAFF_NO_QUALIFICATION | `can_bo` Trình độ empty | 1 % of staff rows | 4 |
| ROOM_NO_LEVEL | one room's Cấp học empty (a room with one row) | 1 % of institutions with rooms | 2 |
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .rand import rng

RATES = {"PRINCIPAL_MISSING": (0.02, 2), "EMAIL_MISSING": (0.03, 3), "CLASS_NOT_IN_LOP": (0.02, 2),
         "STAFF_NO_QUALIFICATION": (0.01, 4), "ROOM_NO_LEVEL": (0.01, 2)}


def _count(kind: str, population: int) -> int:
    rate, least = RATES[kind]
    return min(population, max(least, int(round(rate * population))))


def _blank(table: pa.Table, column: str, rows: np.ndarray) -> pa.Table:
    """``table`` with ``column`` empty (NULL, written as an empty cell) at positions ``rows``."""
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    col = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), table[column])
    return table.set_column(table.column_names.index(column), column, col)


def plant_completeness_gaps(schools, seed: int, chunk: int) -> dict[str, list]:
    """Change ``schools`` (schools.SchoolFiles) in place; returns {gap: school codes (staff:
    staff ids)} for tests and the README."""
    r = rng(seed, chunk, "completeness_gaps")
    planted: dict[str, list] = {}
    t = schools.truong
    n = t.num_rows
    codes = np.array(t["Mã trường"].to_pylist(), dtype=object)
    for kind, column in (("PRINCIPAL_MISSING", "Hiệu trưởng"), ("EMAIL_MISSING", "Email")):
        rows = np.sort(r.choice(n, _count(kind, n), replace=False))
        t = _blank(t, column, rows)
        planted[kind] = codes[rows].tolist()
    schools.truong = t

    lop = schools.lop
    lop_codes = np.array(lop["Mã trường"].to_pylist(), dtype=object)
    with_classes = np.unique(lop_codes)
    chosen = np.sort(r.choice(len(with_classes), _count("CLASS_NOT_IN_LOP", len(with_classes)), replace=False))
    drop = np.zeros(lop.num_rows, dtype=bool)
    for code in with_classes[chosen]:
        rows = np.flatnonzero(lop_codes == code)
        drop[rows[0]] = True                   # its first class (lowest grade: its students are there all year)
    schools.lop = lop.filter(pa.array(~drop))
    planted["CLASS_NOT_IN_LOP"] = with_classes[chosen].tolist()

    cb = schools.can_bo
    rows = np.sort(r.choice(cb.num_rows, _count("STAFF_NO_QUALIFICATION", cb.num_rows), replace=False))
    schools.can_bo = _blank(cb, "Trình độ", rows)
    planted["STAFF_NO_QUALIFICATION"] = [cb["Mã cán bộ"][int(i)].as_py() for i in rows]

    rooms = schools.rooms
    single = rooms.groupby(["school_code", "room_code"])["level"].transform("size") == 1
    cand = np.unique(rooms.loc[single, "school_code"].to_numpy().astype(object))
    chosen = np.sort(r.choice(len(cand), _count("ROOM_NO_LEVEL", len(cand)), replace=False))
    rooms = rooms.copy()
    rooms["level"] = rooms["level"].astype(object)      # None stays None (an empty cell), not NaN
    for code in cand[chosen]:
        i = rooms.index[single & (rooms["school_code"] == code)][0]
        rooms.loc[i, "level"] = None
    schools.rooms = rooms
    planted["ROOM_NO_LEVEL"] = cand[chosen].tolist()
    return planted
