"""Defects planted in the grade-12 data, at documented seed-controlled rates, so every validity
rule of data_access/RULES.md has real cases.

Rates are the share of the population that gets the defect at some point of the series (grade-12
students `Đang học` for student defects; (student, grade, term) blocks for result defects). Each
kind gets exactly round(rate × population) cases, at least MIN_CASES, so even the small demo has
every kind. A record carries at most one defect. Defects go preferably to institutions that are
late (weights by lateness 0.1 / 1 / 2 / 6): sloppy schools are also late ones.

A defect appears when its field is entered and is fixed (the clean value replaces it) at a time
between then and the moment the school completes the requirement (schedules.py), skewed late;
at laggards it is never fixed. So data quality improves over the series except at laggards.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from .legacy_encodings import to_tcvn3, to_vni
from .timeline import ALWAYS, FIRST, NEVER

MIN_CASES = 4
# by lateness of the school: done before 20/4, on time, done by 27/4 17:00, later or never
LATENESS_WEIGHT = np.array([0.1, 1.0, 2.0, 6.0])

INFO_FIELDS = ("full_name", "birth_date", "gender", "ethnicity", "id_number", "permanent_address")

# kind, field, rate (share of enrolled grade-12 students), rule it exercises (RULES.md)
INFO_DEFECTS: tuple[tuple[str, str, float, str], ...] = (
    ("MISSING_NAME", "full_name", 0.003, "MISSING_FIELD"),
    ("MISSING_BIRTH_DATE", "birth_date", 0.003, "MISSING_FIELD"),
    ("MISSING_GENDER", "gender", 0.003, "MISSING_FIELD"),
    ("MISSING_ETHNICITY", "ethnicity", 0.006, "MISSING_FIELD"),
    ("MISSING_ID", "id_number", 0.015, "MISSING_FIELD"),
    ("MISSING_ADDRESS", "permanent_address", 0.010, "MISSING_FIELD"),
    ("NAME_NFD", "full_name", 0.010, "NAME_NOT_NFC"),
    ("NAME_TCVN3", "full_name", 0.005, "NAME_LEGACY_ENCODING"),
    ("NAME_VNI", "full_name", 0.005, "NAME_LEGACY_ENCODING"),
    ("NAME_ONE_WORD", "full_name", 0.003, "NAME_ONE_WORD"),
    ("NAME_DIGITS", "full_name", 0.003, "NAME_INVALID_CHARS"),
    ("NAME_ODD_CHARS", "full_name", 0.003, "NAME_INVALID_CHARS"),
    ("GENDER_INVALID", "gender", 0.005, "GENDER_INVALID"),
    ("BIRTH_DATE_INVALID", "birth_date", 0.004, "BIRTH_DATE_INVALID"),
    ("BIRTH_DATE_IMPLAUSIBLE", "birth_date", 0.003, "BIRTH_DATE_IMPLAUSIBLE"),
    ("ETHNICITY_MISSPELLED", "ethnicity", 0.005, "ETHNICITY_UNKNOWN"),
    ("ID_LETTERS", "id_number", 0.004, "ID_FORMAT"),
    ("ID_10_DIGITS", "id_number", 0.004, "ID_FORMAT"),
    ("ID_ALL_ZEROS", "id_number", 0.005, "ID_FORMAT"),
    ("ID_LEADING_ZERO_LOST", "id_number", 0.010, "ID_LEADING_ZERO_LOST"),
    ("ID_BAD_PROVINCE", "id_number", 0.003, "ID_PROVINCE_UNKNOWN"),
    ("ID_GENDER_DIGIT", "id_number", 0.006, "ID_CENTURY_GENDER_MISMATCH"),
    ("ID_YEAR_DIGITS", "id_number", 0.006, "ID_BIRTH_YEAR_MISMATCH"),
    ("ID_DUPLICATE", "id_number", 0.004, "ID_DUPLICATE"),
    ("ADDRESS_NO_WARD", "permanent_address", 0.004, "ADDRESS_INCOMPLETE"),
    ("ADDRESS_NO_DISTRICT", "permanent_address", 0.006, "ADDRESS_INCOMPLETE"),
    ("ADDRESS_NO_PROVINCE", "permanent_address", 0.006, "ADDRESS_INCOMPLETE"),
    ("SCHOOL_UNKNOWN", "school_code", 0.001, "SCHOOL_UNKNOWN"),
)
ID_STRUCTURE_KINDS = {"ID_LETTERS", "ID_10_DIGITS", "ID_LEADING_ZERO_LOST", "ID_BAD_PROVINCE",
                      "ID_GENDER_DIGIT", "ID_YEAR_DIGITS", "ID_DUPLICATE"}

# kind, rate (share of (student, grade, term) blocks), rule
RESULT_DEFECTS: tuple[tuple[str, float, str], ...] = (
    ("SCORE_OUT_OF_RANGE", 0.002, "SCORE_OUT_OF_RANGE"),      # 11, -1, 10.5 ...
    ("SCORE_TWO_DECIMALS", 0.002, "SCORE_PRECISION"),         # 7.25
    ("CN_WRONG", 0.003, "YEAR_SCORE_MISMATCH"),               # CN blocks only
    ("RATING_INVALID", 0.001, "RATING_INVALID"),              # THPT (Thể dục) only
    ("SUBJECT_ROW_MISSING", 0.002, "SUBJECT_MISSING"),
    ("SUBJECT_SCORE_EMPTY", 0.001, "SUBJECT_MISSING"),
    ("AVERAGE_WRONG", 0.003, "OVERALL_AVERAGE_MISMATCH"),
    ("RANK_INCONSISTENT", 0.003, "RANK_INCONSISTENT"),
    ("RANK_INVALID", 0.0015, "RANK_INVALID"),
    ("CONDUCT_INVALID", 0.0015, "CONDUCT_INVALID"),
    ("SUMMARY_FIELD_EMPTY", 0.0015, "MISSING_FIELD"),
    ("SUMMARY_MISSING", 0.003, "TERM_SUMMARY_MISSING"),
)

ETHNICITY_TYPOS = {"Kinh": ("Kin", "Kihn", "Kinh."), "Hoa": ("Hao",), "Chăm": ("Cham",),
                   "Khơ-me": ("Khome",), "Khmer": ("Khome",), "Tày": ("Tay",), "Nùng": ("Nung",),
                   "Mường": ("Muong",)}
GENDER_TYPOS = {"Nam": ("nam", "M", "X", "1"), "Nữ": ("nữ", "F", "X", "Nu")}
BAD_PROVINCES = ("099", "065", "003", "053")
OUT_OF_RANGE = ("11", "-1", "10.5", "12")
BAD_RATINGS = ("D", "Đạt", "CD", "d")
BAD_RANKS = ("Gioi", "TB", "Khá giỏi", "Xuất sắc")
BAD_CONDUCTS = ("T", "Tot", "Xuất sắc", "Tốt.")


def counts_for(rate: float, population: int) -> int:
    if population <= 0:
        return 0
    return min(population, max(MIN_CASES, int(round(rate * population))))


def pick(r: np.random.Generator, eligible: np.ndarray, weights: np.ndarray, k: int,
         anchor: np.ndarray | None = None) -> np.ndarray:
    """k distinct indices from eligible (bool mask), weighted. With `anchor` (bool mask), the
    first case is taken among eligible & anchor: records of laggards present by the committed
    27/4 snapshot, whose defects are never fixed, so every kind is visible there."""
    first = np.zeros(0, dtype=np.int64)
    if k > 0 and anchor is not None and (eligible & anchor).any():
        cand = np.flatnonzero(eligible & anchor)
        first = np.array([cand[int(r.integers(0, len(cand)))]])
        eligible = eligible.copy()
        eligible[first] = False
        k -= 1
    idx = np.flatnonzero(eligible)
    if k <= 0 or len(idx) == 0:
        return np.sort(first)
    w = weights[idx].astype(float)
    k = min(k, len(idx), int((w > 0).sum()))
    return np.sort(np.r_[first, r.choice(idx, size=k, replace=False, p=w / w.sum())])


def fix_times(r: np.random.Generator, appear: np.ndarray, done: np.ndarray,
              earliest: np.ndarray | int = FIRST - 10 * 1440) -> np.ndarray:
    """Fix time between max(appear, earliest) and done, skewed late; NEVER when done is NEVER.
    `earliest` is when the school starts cleaning (its work start; for schools that miss the
    deadline, the deadline: they fix once chased)."""
    lo = np.maximum(np.where(appear <= ALWAYS, earliest, appear), earliest)
    lo = np.minimum(lo, done)
    u = r.random(len(done)) ** 0.35
    out = lo + np.floor(u * (done - lo)).astype(np.int64)
    return np.where(done >= NEVER, NEVER, np.maximum(out, appear + 1))


# ---- values ------------------------------------------------------------------------------
def bad_name(kind: str, clean: str, r: np.random.Generator) -> str:
    if kind == "NAME_NFD":
        return unicodedata.normalize("NFD", clean)
    if kind == "NAME_TCVN3":
        return to_tcvn3(clean)
    if kind == "NAME_VNI":
        return to_vni(clean)
    if kind == "NAME_ONE_WORD":
        return clean.split()[-1]
    if kind == "NAME_DIGITS":
        return clean + str(int(r.integers(1, 10)))
    if kind == "NAME_ODD_CHARS":
        words = clean.split()
        v = int(r.integers(0, 3))
        if v == 0:
            return "_".join(words[:2]) + (" " + " ".join(words[2:]) if len(words) > 2 else "")
        if v == 1:
            return clean + "."
        return " ".join(words[:-1]) + " @" + words[-1][1:]
    raise ValueError(kind)


def has_diacritics(s: str) -> bool:
    return unicodedata.normalize("NFD", s) != s


def bad_id(kind: str, clean: str, partner: str | None, r: np.random.Generator) -> str:
    if kind == "ID_LETTERS":
        pos = int(r.integers(6, 12))
        return clean[:pos] + "OISBAZ"[int(r.integers(0, 6))] + clean[pos + 1:]
    if kind == "ID_10_DIGITS":
        return clean[:6] + clean[8:]
    if kind == "ID_ALL_ZEROS":
        return "000000000000"
    if kind == "ID_LEADING_ZERO_LOST":
        return clean[1:]
    if kind == "ID_BAD_PROVINCE":
        return BAD_PROVINCES[int(r.integers(0, len(BAD_PROVINCES)))] + clean[3:]
    if kind == "ID_GENDER_DIGIT":
        return clean[:3] + str(int(clean[3]) ^ 1) + clean[4:]
    if kind == "ID_YEAR_DIGITS":
        yy = (int(clean[4:6]) + int(r.choice([1, 2, -1]))) % 100
        return clean[:4] + f"{yy:02d}" + clean[6:]
    if kind == "ID_DUPLICATE":
        return partner
    raise ValueError(kind)


def bad_birth_date(kind: str, d: int, m: int, y: int, r: np.random.Generator) -> str:
    if kind == "BIRTH_DATE_INVALID":
        v = int(r.integers(0, 4))
        return (f"31/02/{y}", f"{y}", f"15/13/{y}", f"00/{m:02d}/{y}")[v]
    if kind == "BIRTH_DATE_IMPLAUSIBLE":
        yy = int(r.choice([2010, 2011, 1995]))
        return f"{min(d, 28):02d}/{m:02d}/{yy}"
    raise ValueError(kind)


@dataclass
class InfoDefects:
    student: np.ndarray      # index into the g12 arrays
    kind: np.ndarray         # index into INFO_DEFECTS
    field: np.ndarray        # index into INFO_FIELDS (-1 school_code)
    value: np.ndarray        # object: defective value (None for MISSING_*)
    fix: np.ndarray          # time the clean value replaces it


@dataclass
class ResultDefects:
    student: np.ndarray      # index into result students
    block: np.ndarray        # 0..8
    subject: np.ndarray      # subject index, -1 for summary defects
    kind: np.ndarray         # index into RESULT_DEFECTS
    value: np.ndarray        # object: defective value / column hint
    fix: np.ndarray
