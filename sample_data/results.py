"""Academic results of the grade-12 cohort: subject scores (diem_mon_hoc) and term summaries
(tong_ket) for grade 10 (2019-2020), grade 11 (2020-2021) and grade 12 (2021-2022), terms HK1,
HK2 and CN (whole year).

Scores: student ability + student-subject offset + subject difficulty + year drift + term
noise, in tenths, 0-10. CN = round_half_up((HK1 + 2×HK2) / 3, 1). Overall average = plain mean
of the programme's scored subjects; rank by Circular 58/26 (grading.py); conduct mostly Tốt.
Thể dục (THPT) is rated Đ/CĐ with an empty score.

Blocks (student × grade × term) appear over time: grades 10/11 and HK1 12 are in the system
before the campaign except at schools with missing terms (schedules.py); HK2 and CN of grade 12
are entered from mid-May. Result defects (defects.py) are planted per block.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import defects as D
from . import refdata
from .cohort import Cohort
from .grading import CONDUCTS, RANKS, classify_tenths
from .rand import rng
from .schedules import Schedules
from .timeline import ALWAYS, NEVER, at

BLOCKS = ((10, "HK1"), (10, "HK2"), (10, "CN"), (11, "HK1"), (11, "HK2"), (11, "CN"),
          (12, "HK1"), (12, "HK2"), (12, "CN"))
EARLY_BLOCKS = 7
CN_BLOCKS = (2, 5, 8)
SCORE_STRINGS = [f"{i // 10}.{i % 10}" for i in range(101)]

ABILITY = {"THPT": (7.6, 0.8), "GDTX": (6.2, 0.9)}
STRUGGLING = (0.03, 1.8)          # share of students far below their peers, and by how much
SUBJECT_SD = 0.45
SUBJECT_SHIFT = {"Toán": -0.3, "Vật lí": -0.3, "Hóa học": -0.4, "Sinh học": -0.1, "Tin học": 0.3,
                 "Ngữ văn": -0.6, "Lịch sử": 0.0, "Địa lí": 0.2, "Ngoại ngữ": -0.3, "GDCD": 0.7,
                 "Công nghệ": 0.5, "GDQP-AN": 0.8}
RATED_CD_SHARE = 0.004
CONDUCT_SHARES = (0.82, 0.14, 0.036, 0.004)
CONDUCT_WOBBLE = 0.10             # share of terms one level off the student's usual conduct


def subjects() -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """All subjects (THPT scored + rated), availability (programme × subject: 1 scored, 2 rated),
    key-subject mask (programme × subject), index of the rated subject."""
    progs = refdata.programmes()
    thpt, gdtx = progs["THPT"], progs["GDTX"]
    names = list(thpt.scored) + [s for s in gdtx.scored if s not in thpt.scored] + list(thpt.rated)
    avail = np.zeros((2, len(names)), dtype=np.int8)
    key = np.zeros((2, len(names)), dtype=bool)
    for p, prog in enumerate((thpt, gdtx)):
        for s in prog.scored:
            avail[p, names.index(s)] = 1
        for s in prog.rated:
            avail[p, names.index(s)] = 2
        for s in prog.key_subjects:
            key[p, names.index(s)] = True
    return names, avail, key, names.index(thpt.rated[0])


@dataclass
class Results:
    student_ids: pa.Array        # ids of the cohort (dictionary for the score rows)
    prog: np.ndarray             # 0 THPT, 1 GDTX per student
    block_time: np.ndarray       # (m, 9)
    scores10: np.ndarray         # (m, 9, S) int16
    rating: np.ndarray           # (m, 9) 0 Đ, 1 CĐ
    avg10: np.ndarray            # (m, 9)
    rank: np.ndarray             # (m, 9)
    conduct: np.ndarray          # (m, 9)
    defects: D.ResultDefects
    subjects: list[str]
    avail: np.ndarray
    rated_idx: int

    def tables_at(self, t: int) -> tuple[pa.Table, pa.Table]:
        m, B, S = self.scores10.shape
        present = self.block_time <= t
        d = self.defects
        act = (t < d.fix) & present[d.student, d.block]
        kinds = [k[0] for k in D.RESULT_DEFECTS]
        K = {k: i for i, k in enumerate(kinds)}

        # ---- subject rows
        avail_s = self.avail[self.prog] > 0                                 # (m, S)
        mask = present[:, :, None] & avail_s[:, None, :]
        sel = act & (d.kind == K["SUBJECT_ROW_MISSING"])
        mask[d.student[sel], d.block[sel], d.subject[sel]] = False
        codes = self.scores10.astype(np.int32)
        codes[:, :, self.rated_idx] = -1
        rcode = self.rating.astype(np.int32)
        extra_scores: list[str] = []
        extra_ratings: list[str] = []
        for kind in ("SCORE_OUT_OF_RANGE", "SCORE_TWO_DECIMALS", "CN_WRONG"):
            sel = np.flatnonzero(act & (d.kind == K[kind]))
            codes[d.student[sel], d.block[sel], d.subject[sel]] = 101 + len(extra_scores) + np.arange(len(sel))
            extra_scores += list(d.value[sel])
        sel = np.flatnonzero(act & (d.kind == K["SUBJECT_SCORE_EMPTY"]))
        codes[d.student[sel], d.block[sel], d.subject[sel]] = -1
        rated_empty = d.subject[sel] == self.rated_idx
        rcode[d.student[sel][rated_empty], d.block[sel][rated_empty]] = -1
        sel = np.flatnonzero(act & (d.kind == K["RATING_INVALID"]))
        rcode[d.student[sel], d.block[sel]] = 2 + len(extra_ratings) + np.arange(len(sel))
        extra_ratings += list(d.value[sel])

        ii, kk, ss = np.nonzero(mask)
        score_idx = codes[ii, kk, ss]
        is_rated = ss == self.rated_idx
        rating_idx = np.where(is_rated, rcode[ii, kk], -1)
        years = refdata.cohort_years()
        year_of = np.array([[10, 11, 12].index(g) for g, _ in BLOCKS], dtype=np.int8)
        term_of = np.array([["HK1", "HK2", "CN"].index(x) for _, x in BLOCKS], dtype=np.int8)
        scores = pa.table({
            "Mã học sinh": _dict(ii.astype(np.int32), self.student_ids),
            "Năm học": _dict(year_of[kk], pa.array([years[10], years[11], years[12]])),
            "Khối": _dict(year_of[kk], pa.array(["10", "11", "12"])),
            "Học kỳ": _dict(term_of[kk], pa.array(["HK1", "HK2", "CN"])),
            "Môn học": _dict(ss.astype(np.int8), pa.array(self.subjects)),
            "Điểm": _dict(score_idx, pa.array(SCORE_STRINGS + extra_scores, type=pa.string())),
            "Đánh giá": _dict(rating_idx, pa.array(["Đ", "CĐ"] + extra_ratings, type=pa.string())),
        })

        # ---- term summaries
        smask = present.copy()
        sel = act & (d.kind == K["SUMMARY_MISSING"])
        smask[d.student[sel], d.block[sel]] = False
        avg = self.avg10.astype(np.int32)
        rank = self.rank.astype(np.int32)
        cond = self.conduct.astype(np.int32)
        extra_avg, extra_rank, extra_cond = [], [], []
        for kind, arr, base, extra in (("AVERAGE_WRONG", avg, 101, extra_avg),
                                       ("RANK_INCONSISTENT", rank, len(RANKS), extra_rank),
                                       ("RANK_INVALID", rank, len(RANKS), extra_rank),
                                       ("CONDUCT_INVALID", cond, len(CONDUCTS), extra_cond)):
            sel = np.flatnonzero(act & (d.kind == K[kind]))
            arr[d.student[sel], d.block[sel]] = base + len(extra) + np.arange(len(sel))
            extra += list(d.value[sel])
        sel = np.flatnonzero(act & (d.kind == K["SUMMARY_FIELD_EMPTY"]))
        for col, arr in (("avg", avg), ("rank", rank), ("conduct", cond)):
            s2 = sel[d.value[sel] == col]
            arr[d.student[s2], d.block[s2]] = -1
        i2, k2 = np.nonzero(smask)
        summaries = pa.table({
            "Mã học sinh": _dict(i2.astype(np.int32), self.student_ids),
            "Năm học": _dict(year_of[k2], pa.array([years[10], years[11], years[12]])),
            "Khối": _dict(year_of[k2], pa.array(["10", "11", "12"])),
            "Học kỳ": _dict(term_of[k2], pa.array(["HK1", "HK2", "CN"])),
            "Điểm TB các môn": _dict(avg[i2, k2], pa.array(SCORE_STRINGS + extra_avg, type=pa.string())),
            "Học lực": _dict(rank[i2, k2], pa.array(list(RANKS) + extra_rank, type=pa.string())),
            "Hạnh kiểm": _dict(cond[i2, k2], pa.array(list(CONDUCTS) + extra_cond, type=pa.string())),
        })
        return scores, summaries


def _dict(indices: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
    idx = np.asarray(indices)
    null = idx < 0
    typ = np.int32 if len(dictionary) > 120 or idx.dtype.itemsize > 1 else np.int8
    return pa.DictionaryArray.from_arrays(pa.array(np.where(null, 0, idx).astype(typ),
                                                   mask=null if null.any() else None), dictionary)


def build_results(chunk, inst, sched: Schedules, cohort: Cohort, student_ids: pa.Array,
                  seed: int) -> Results:
    r = rng(seed, chunk.index, "results")
    names, avail_ps, key_ps, rated_idx = subjects()
    S = len(names)
    m = len(cohort.rows)
    ji = cohort.inst
    prog = (inst["programme"].to_numpy()[ji] == "GDTX").astype(np.int64)
    lag = inst["laggard"].to_numpy()[ji]

    # ---- when each block appears
    bt = np.full((m, len(BLOCKS)), ALWAYS, dtype=np.int64)
    win = sched.early_missing[ji]                        # (m, 7, 2)
    u = r.random((m, EARLY_BLOCKS))
    missing = win[:, :, 1] > ALWAYS
    inside = win[:, :, 0] + np.floor(u * (win[:, :, 1] - win[:, :, 0])).astype(np.int64)
    bt[:, :EARLY_BLOCKS] = np.where(missing, np.where(win[:, :, 1] >= NEVER, NEVER, inside), ALWAYS)
    s, f = sched.final_start[ji], sched.final_done[ji]
    entry = s + np.floor((f - s) * r.random(m) ** 0.8).astype(np.int64)
    lag_entry = np.where(r.random(m) < 0.5, NEVER,
                         s + np.floor((at(7, 10) - s) * r.random(m)).astype(np.int64))
    entry = np.where(lag, lag_entry, entry)
    entry = np.where(cohort.enrolled, entry, NEVER)
    bt[:, 7] = entry
    bt[:, 8] = entry
    bt = np.maximum(bt, cohort.present_from[:, None])

    # ---- scores (tenths)
    mu = np.array([ABILITY["THPT"][0], ABILITY["GDTX"][0]])[prog]
    sd = np.array([ABILITY["THPT"][1], ABILITY["GDTX"][1]])[prog]
    ability = mu + sd * r.standard_normal(m) - STRUGGLING[1] * (r.random(m) < STRUGGLING[0])
    shift = np.array([SUBJECT_SHIFT.get(n, 0.0) for n in names])
    subj = r.normal(0, SUBJECT_SD, (m, S)) + shift
    year_drift = r.normal(0, 0.25, (m, 3, 1))
    noise = r.normal(0, 0.35, (m, 3, 2, S))
    raw = ability[:, None, None, None] + subj[:, None, None, :] + year_drift[:, :, :, None] + noise
    hk = np.clip(np.rint(raw * 10), 0, 100).astype(np.int64)      # (m, 3, 2, S)
    cn = (2 * (hk[:, :, 0, :] + 2 * hk[:, :, 1, :]) + 3) // 6       # round half up of /3
    scores10 = np.empty((m, 9, S), dtype=np.int16)
    for y in range(3):
        scores10[:, 3 * y + 0] = hk[:, y, 0]
        scores10[:, 3 * y + 1] = hk[:, y, 1]
        scores10[:, 3 * y + 2] = cn[:, y]
    rating = np.zeros((m, 9), dtype=np.int8)
    for y in range(3):
        rating[:, 3 * y] = r.random(m) < RATED_CD_SHARE
        rating[:, 3 * y + 1] = r.random(m) < RATED_CD_SHARE
        rating[:, 3 * y + 2] = rating[:, 3 * y + 1]
    rating[prog == 1] = 0
    # ---- summaries
    scored = avail_ps[prog] == 1                                    # (m, S)
    keym = key_ps[prog]
    has_rated = (avail_ps[prog] == 2).any(axis=1)
    avg10 = np.empty((m, 9), dtype=np.int16)
    rank = np.empty((m, 9), dtype=np.int8)
    for b in range(9):
        all_d = ~has_rated | (rating[:, b] == 0)
        a, rk = classify_tenths(scores10[:, b, :], scored, keym, all_d)
        avg10[:, b], rank[:, b] = a, rk
    base = r.choice(4, size=m, p=CONDUCT_SHARES)
    wobble = np.where(r.random((m, 9)) < CONDUCT_WOBBLE, r.choice([-1, 1], size=(m, 9)), 0)
    conduct = np.clip(base[:, None] + wobble, 0, 3).astype(np.int8)
    for y in range(3):
        conduct[:, 3 * y + 2] = conduct[:, 3 * y + 1]               # year conduct follows HK2

    defects = _plan_defects(r, sched, cohort, prog, bt, scores10, avg10, rank, avail_ps, rated_idx)
    ids = student_ids.take(pa.array(cohort.rows))
    return Results(ids, prog, bt, scores10, rating, avg10, rank, conduct, defects, names,
                   avail_ps, rated_idx)


def _shift(r, c: int, least: int) -> int:
    """A wrong value in tenths, `least`..10 tenths away from c, inside 0..100."""
    delta = int(r.integers(least, 11))
    if c - delta < 0 or (c + delta <= 100 and r.random() < 0.5):
        return c + delta
    return c - delta


def _plan_defects(r, sched, cohort: Cohort, prog, bt, scores10, avg10, rank, avail_ps, rated_idx):
    m = len(prog)
    ji = cohort.inst
    lag = sched.lateness[ji] == 3
    lag &= sched.info_done[ji] >= NEVER          # laggards only
    pop = cohort.enrolled & (cohort.present_from < NEVER)
    weight = D.LATENESS_WEIGHT[sched.lateness[ji]]
    taken = np.zeros((m, 9), dtype=bool)
    P = int(pop.sum())
    out = {k: [] for k in ("student", "block", "subject", "kind", "value", "fix")}
    for k, (kind, rate, _rule) in enumerate(D.RESULT_DEFECTS):
        blocks = list(range(9))
        elig_student = pop.copy()
        if kind == "CN_WRONG":
            blocks = list(CN_BLOCKS)
        if kind == "RATING_INVALID":
            elig_student &= prog == 0
        units = np.zeros((m, 9), dtype=bool)
        units[:, blocks] = elig_student[:, None]
        units &= ~taken
        w = np.repeat(weight[:, None], 9, axis=1).reshape(-1)
        n_units = int(elig_student.sum()) * len(blocks)
        anchor = (lag[:, None] & (bt <= at(4, 27, 17))).reshape(-1)
        chosen = D.pick(r, units.reshape(-1), w, D.counts_for(rate, n_units), anchor)
        si, bi = np.divmod(chosen, 9)
        taken[si, bi] = True
        done = np.where(bi < EARLY_BLOCKS, sched.early_clean[ji[si]], sched.final_done[ji[si]])
        appear = bt[si, bi]
        fix = D.fix_times(r, appear, done)
        for i, b, fx in zip(si, bi, fix):
            scored = np.flatnonzero(avail_ps[prog[i]] == 1)
            anyrow = np.flatnonzero(avail_ps[prog[i]] > 0)
            subj, val = -1, None
            if kind == "SCORE_OUT_OF_RANGE":
                subj = int(r.choice(scored)); val = D.OUT_OF_RANGE[int(r.integers(0, 4))]
            elif kind == "SCORE_TWO_DECIMALS":
                subj = int(r.choice(scored))
                c = int(scores10[i, b, subj])
                val = "9.95" if c == 100 else SCORE_STRINGS[c] + str(int(r.integers(1, 10)))
            elif kind == "CN_WRONG":
                subj = int(r.choice(scored))
                c = int(scores10[i, b, subj])
                val = SCORE_STRINGS[_shift(r, c, 2)]
            elif kind == "RATING_INVALID":
                subj = rated_idx; val = D.BAD_RATINGS[int(r.integers(0, len(D.BAD_RATINGS)))]
            elif kind in ("SUBJECT_ROW_MISSING", "SUBJECT_SCORE_EMPTY"):
                subj = int(r.choice(anyrow))
            elif kind == "AVERAGE_WRONG":
                val = SCORE_STRINGS[_shift(r, int(avg10[i, b]), 3)]
            elif kind == "RANK_INCONSISTENT":
                rk = int(rank[i, b])
                val = RANKS[rk + 1 if rk < 4 else rk - 1]
            elif kind == "RANK_INVALID":
                val = D.BAD_RANKS[int(r.integers(0, len(D.BAD_RANKS)))]
            elif kind == "CONDUCT_INVALID":
                val = D.BAD_CONDUCTS[int(r.integers(0, len(D.BAD_CONDUCTS)))]
            elif kind == "SUMMARY_FIELD_EMPTY":
                val = ("avg", "rank", "conduct")[int(r.integers(0, 3))]
            for key, v in (("student", i), ("block", b), ("subject", subj), ("kind", k),
                           ("value", val), ("fix", fx)):
                out[key].append(v)
    return D.ResultDefects(np.array(out["student"], dtype=np.int64), np.array(out["block"], dtype=np.int64),
                           np.array(out["subject"], dtype=np.int64), np.array(out["kind"], dtype=np.int64),
                           np.array(out["value"], dtype=object), np.array(out["fix"], dtype=np.int64))
