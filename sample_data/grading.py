"""Grades 10-12 in 2021-2022: averages and academic classification (học lực) under
Circular 58/2011/TT-BGDĐT as amended by Circular 26/2020/TT-BGDĐT (Điều 13), including the
adjustment rule of khoản 6 ("điều chỉnh"). Source: shared/reference/grading_rules_TT58_TT26_TT22.md
and data_access/RULES.md, which this module agrees with exactly.

Arithmetic is done in integer tenths so it is exact: round1(a/b) = floor((2a + b) / (2b)) tenths.

Classification of one term (or the whole year) from the subject scores:

| level      | average >= | one key subject >= | no scored subject below | rated subjects |
|------------|-----------|--------------------|-------------------------|----------------|
| Giỏi       | 8.0       | 8.0                | 6.5                     | all Đ          |
| Khá        | 6.5       | 6.5                | 5.0                     | all Đ          |
| Trung bình | 5.0       | 5.0                | 3.5                     | all Đ          |
| Yếu        | 3.5       | -                  | 2.0                     | -              |
| Kém        | otherwise |                    |                         |                |

raw = the highest level whose conditions all hold. Key subjects: Toán, Ngữ văn, Ngoại ngữ (THPT;
TT26 added Ngoại ngữ) or the programme's list (GDTX: Toán, Ngữ văn).

Adjustment: let A = the level the average alone reaches (Giỏi if >= 8.0, Khá if >= 6.5). When raw
is below A only because of exactly ONE scored subject below A's floor (6.5 for Giỏi, 5.0 for
Khá) -- and A's key-subject and rated-subject conditions hold -- the rank becomes:
(Giỏi, raw TB) -> Khá, (Giỏi, raw Yếu) -> TB, (Khá, raw Yếu) -> TB, (Khá, raw Kém) -> Yếu; other
cases keep raw.

Decision (documented, as in RULES.md): a failed key-subject condition (no one of Toán / Ngữ văn /
Ngoại ngữ reaching A's threshold) does NOT count as "one subject pulling it down", and neither
does a rated subject (Thể dục) assessed CĐ: in both cases no adjustment applies.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping, Sequence

import numpy as np

RANKS = ("Giỏi", "Khá", "Trung bình", "Yếu", "Kém")
CONDUCTS = ("Tốt", "Khá", "Trung bình", "Yếu")
GIOI, KHA, TB, YEU, KEM = range(5)

AVG_MIN = (80, 65, 50, 35)      # tenths, for Giỏi, Khá, TB, Yếu
FLOOR = (65, 50, 35, 20)        # no scored subject below (tenths)
KEY_MIN = (80, 65, 50)          # one key subject at least (Giỏi, Khá, TB)
# (A, raw) -> adjusted
ADJUST = {(GIOI, TB): KHA, (GIOI, YEU): TB, (KHA, YEU): TB, (KHA, KEM): YEU}

THPT_KEY_SUBJECTS = ("Toán", "Ngữ văn", "Ngoại ngữ")


def round_half_up(x: float | Decimal | str, ndigits: int = 1) -> float:
    """Round half up (8.25 -> 8.3, 8.35 -> 8.4), not banker's rounding; exact on decimal input."""
    q = Decimal(1).scaleb(-ndigits)
    return float(Decimal(str(x)).quantize(q, rounding=ROUND_HALF_UP))


def tenths(x: float | str) -> int:
    return int((Decimal(str(x)) * 10).to_integral_value(rounding=ROUND_HALF_UP))


def round1_ratio(a, b):
    """round1(a/b) in tenths for integer a >= 0 (a in tenths), b > 0: floor((2a + b) / (2b))."""
    return (2 * a + b) // (2 * b)


def dtb_mhk(regular: Sequence[float], midterm: float, final: float) -> float:
    """Term average of one subject (TT26): (sum of regular + 2 x mid-term + 3 x end-term) / (n + 5)."""
    total = sum(Decimal(str(s)) for s in regular) + 2 * Decimal(str(midterm)) + 3 * Decimal(str(final))
    return round_half_up(total / (len(regular) + 5), 1)


def dtb_mcn(hk1: float, hk2: float) -> float:
    """Whole-year average of one subject: (HK1 + 2 x HK2) / 3, rounded half up to one decimal."""
    return round1_ratio(tenths(hk1) + 2 * tenths(hk2), 3) / 10


def overall_average(scores: Sequence[float]) -> float:
    """Plain mean of the scored subjects' averages, rounded half up to one decimal (no weights)."""
    t = [tenths(s) for s in scores]
    return round1_ratio(sum(t), len(t)) / 10


def classify(scores: Mapping[str, float], ratings: Mapping[str, str] | None = None,
             key_subjects: Sequence[str] = THPT_KEY_SUBJECTS) -> tuple[float, str]:
    """Scores of the scored subjects (one decimal) and ratings ('Đ'/'CĐ') of the rated ones ->
    (overall average, academic rank). Scalar reference implementation."""
    names = list(scores)
    t = np.array([[tenths(scores[n]) for n in names]], dtype=np.int64)
    key = np.array([n in key_subjects for n in names])
    all_d = np.array([all(v == "Đ" for v in (ratings or {}).values())])
    avg, rank = classify_tenths(t, np.ones_like(t, dtype=bool), key, all_d)
    return float(avg[0]) / 10, RANKS[int(rank[0])]


def classify_tenths(scores10: np.ndarray, avail: np.ndarray, key: np.ndarray,
                    all_rated_d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised classification.

    scores10: (N, S) int scores in tenths; avail: (N, S) or (S,) bool, the subjects scored for
    that row's programme; key: (N, S) or (S,) bool, key subjects; all_rated_d: (N,) bool.
    Returns (avg10 (N,), rank index (N,) into RANKS)."""
    s = np.asarray(scores10, dtype=np.int64)
    avail = np.broadcast_to(np.asarray(avail, dtype=bool), s.shape)
    key = np.broadcast_to(np.asarray(key, dtype=bool), s.shape) & avail
    n = avail.sum(axis=1)
    total = np.where(avail, s, 0).sum(axis=1)
    avg = round1_ratio(total, np.maximum(n, 1))
    smin = np.where(avail, s, 10_000).min(axis=1)
    kmax = np.where(key, s, -1).max(axis=1)
    all_d = np.asarray(all_rated_d, dtype=bool)

    raw = np.full(s.shape[0], KEM, dtype=np.int8)
    for lvl in (YEU, TB, KHA, GIOI):           # highest level that holds wins
        ok = (avg >= AVG_MIN[lvl]) & (smin >= FLOOR[lvl])
        if lvl != YEU:
            ok &= (kmax >= KEY_MIN[lvl]) & all_d
        raw = np.where(ok, lvl, raw).astype(np.int8)

    a_level = np.where(avg >= AVG_MIN[GIOI], GIOI, np.where(avg >= AVG_MIN[KHA], KHA, -1))
    rank = raw.copy()
    for (a, r), new in ADJUST.items():
        below = (np.where(avail, s, 10_000) < FLOOR[a]).sum(axis=1)
        cond = (a_level == a) & (raw == r) & (below == 1) & (kmax >= KEY_MIN[a]) & all_d
        rank = np.where(cond, new, rank).astype(np.int8)
    return avg, rank
