"""When each institution does its work: seeded completion times per requirement.

Every institution has a latent promptness (population.py); each requirement's completion time is
drawn from that requirement's distribution below (shares of institutions per time window), in
the order of promptness blurred by noise (correlation RHO), so a prompt school tends to be early
everywhere. ~5 % laggards never finish: no valid grade-12 info, unfixed defects, missing
results, reports mostly never sent.

Windows are (share, start, end); end None = never.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .rand import rng
from .timeline import (ALWAYS, DAY, FINAL_DUE, FIRST, HOUR, INFO_DUE, LAST, NEVER, REPORT_DUE, at,
                       correlated_uniform, daytime, piecewise)

RHO = 0.8

# G12_INFO: when all of a school's grade-12 records are complete and valid (non-laggards)
INFO_DONE = [
    (0.22, at(4, 10, 8), FIRST),               # already done at the first snapshot (20/4)
    (0.18, FIRST, at(4, 25, 17)),
    (0.22, at(4, 25, 17), at(4, 26, 17)),
    (0.15, at(4, 26, 17), INFO_DUE),           # on time, first seen on 27/4
    (0.10, INFO_DUE + 1, at(4, 27, 17)),
    (0.07, at(4, 27, 17), at(4, 29, 8)),
    (0.04, at(4, 29, 8), at(5, 16, 17)),
    (0.02, at(5, 16, 17), at(6, 15, 17)),
]
# G12_RESULTS_EARLY: when the defects in grade 10/11 and HK1 12 results are fixed
EARLY_CLEAN = [
    (0.35, at(4, 1), FIRST),
    (0.35, FIRST, at(4, 29, 8)),
    (0.20, at(4, 29, 8), at(6, 15, 17)),
    (0.10, at(6, 15, 17), at(7, 10)),
]
EARLY_MISSING_SHARE = 0.20       # institutions with some (grade, term) blocks not yet entered
EARLY_MISSING_SHARE_LAGGARD = 0.70
EARLY_BLOCK_WEIGHTS = np.array([1, 1.5, 1.5, 1, 1.5, 1.5, 4.0])   # 10 HK1 .. 12 HK1
EARLY_FILL = [
    (0.40, FIRST, at(4, 29, 8)),
    (0.40, at(4, 29, 8), at(6, 15, 17)),
    (0.20, at(6, 15, 17), at(7, 10)),
]
# G12_RESULTS_FINAL: HK2 and whole year of grade 12 entered from mid-May; most by 29/6
FINAL_DONE = [
    (0.10, at(5, 14), at(6, 15, 17)),
    (0.55, at(6, 15, 17), at(6, 29, 17)),
    (0.22, at(6, 29, 17), FINAL_DUE),
    (0.10, FINAL_DUE + 1, LAST),
    (0.03, LAST, at(7, 20)),
]
# Reports: first sending time (non-laggards); due 28/4 23:59
REPORT_SENT = [
    (0.15, at(4, 12), FIRST),
    (0.20, FIRST, at(4, 25, 17)),
    (0.15, at(4, 25, 17), at(4, 26, 17)),
    (0.12, at(4, 26, 17), at(4, 27, 17)),
    (0.25, at(4, 27, 17), REPORT_DUE),
    (0.12, REPORT_DUE + 1, at(5, 16)),          # late: 29/4 - mid May
    (0.01, 0, None),                             # never
]
LAGGARD_REPORT_NEVER = 0.80
REPORT_RETURNED = 0.05           # of sent reports: returned by the level above
RETURNED_RESENT = 0.85           # of returned: sent again later
REPORT_APPROVED = 0.65           # of finally sent: approved later
NEVER_SENT_DRAFT = 0.50          # of never-sent: a draft ('Chưa gửi') exists
PAPER_SENT = 0.88                # of sent reports: the signed paper copy arrives (1-10 days later)
PAPER_UNSIGNED = 0.03
PAPER_UNSTAMPED = 0.03
PAPER_REDONE = 0.60              # of defective paper copies: a correct one follows
ROOM_FIX = [(0.5, at(4, 22), at(6, 15, 17)), (0.5, 0, None)]
RETURN_REASONS = (
    "Số liệu học sinh chưa khớp với dữ liệu trên hệ thống",
    "Thiếu số liệu giáo viên theo trình độ đào tạo",
    "Phòng học khai báo trùng cấp học, đề nghị rà soát",
    "Chưa nhập đủ các biểu mẫu bắt buộc",
    "Số lớp không khớp với danh sách lớp",
)
REPORTS = ("EMIS", "EQMS", "NGOAI_NGU", "CSVC", "SUC_KHOE")
REPORT_APPLIES = {"EMIS": {"MN", "TH", "THCS", "THPT", "GDTX"}, "EQMS": {"TH"},
                  "NGOAI_NGU": {"MN", "TH", "THCS", "THPT"},
                  "CSVC": {"MN", "TH", "THCS", "THPT", "GDTX"},
                  "SUC_KHOE": {"MN", "TH", "THCS", "THPT"}}


@dataclass
class Schedules:
    # per institution
    info_start: np.ndarray
    info_done: np.ndarray
    enrol: np.ndarray                 # when its grade-12 rows appear (ALWAYS for almost all)
    early_clean: np.ndarray
    early_missing: np.ndarray         # (n_inst, 7, 2) window (start, end) of missing blocks; ALWAYS = present
    final_start: np.ndarray
    final_done: np.ndarray
    lateness: np.ndarray              # 0 prompt .. 3 late/laggard: weights where defects go
    # per (institution, report): report event log
    reports: pd.DataFrame
    papers: pd.DataFrame


def build_schedules(inst: pd.DataFrame, seed: int, chunk_index: int, demo: bool) -> Schedules:
    r = rng(seed, chunk_index, "schedules")
    n = len(inst)
    z = inst["promptness"].to_numpy()
    lag = inst["laggard"].to_numpy()
    g12 = inst["has_g12"].to_numpy()

    # ---- grade-12 info
    info_done = np.full(n, NEVER, dtype=np.int64)
    ok = ~lag
    info_done[ok] = piecewise(correlated_uniform(r, z[ok], RHO), INFO_DONE)
    info_start = np.maximum(info_done - r.integers(2 * DAY, 12 * DAY, n), at(4, 1))
    info_start[lag] = r.integers(at(4, 12), at(5, 10), int(lag.sum()))
    enrol = np.full(n, ALWAYS, dtype=np.int64)
    lag_g12 = np.flatnonzero(lag & g12)
    if len(lag_g12):
        k_never = max(1, int(np.ceil(0.3 * len(lag_g12))))
        enrol[lag_g12[:k_never]] = NEVER                      # never entered any grade-12 student
        late = lag_g12[k_never:k_never + max(1, int(np.ceil(0.3 * len(lag_g12))))]
        enrol[late] = r.integers(at(4, 25, 18), at(4, 27, 12), len(late))   # entered them late
    # ---- results
    early_clean = np.full(n, NEVER, dtype=np.int64)
    early_clean[ok] = piecewise(correlated_uniform(r, z[ok], RHO), EARLY_CLEAN)
    early_missing = np.full((n, 7, 2), ALWAYS, dtype=np.int64)
    has_missing = r.random(n) < np.where(lag, EARLY_MISSING_SHARE_LAGGARD, EARLY_MISSING_SHARE)
    p = EARLY_BLOCK_WEIGHTS / EARLY_BLOCK_WEIGHTS.sum()
    fill_end = piecewise(r.random(n), EARLY_FILL)
    for j in np.flatnonzero(has_missing & g12):
        ks = r.choice(7, size=int(r.integers(1, 4)), replace=False, p=p)
        if lag[j]:
            early_missing[j, ks, 0] = ALWAYS
            early_missing[j, ks, 1] = NEVER
        else:
            early_missing[j, ks, 1] = fill_end[j]
            early_missing[j, ks, 0] = fill_end[j] - int(r.integers(1 * DAY, 10 * DAY))
    final_done = np.full(n, NEVER, dtype=np.int64)
    final_done[ok] = piecewise(correlated_uniform(r, z[ok], RHO), FINAL_DONE)
    final_start = np.maximum(final_done - r.integers(3 * DAY, 30 * DAY, n), at(5, 10))
    final_start[lag] = r.integers(at(6, 1), at(6, 28), int(lag.sum()))

    lateness = np.select([lag | (info_done > at(4, 27, 17)), info_done > INFO_DUE, info_done > FIRST],
                         [3, 2, 1], 0)
    reports = _reports(r, inst, z, lag)
    papers = _papers(r, reports)
    return Schedules(info_start, info_done, enrol, early_clean, early_missing, final_start,
                     final_done, lateness, reports, papers)


def _reports(r: np.random.Generator, inst: pd.DataFrame, z: np.ndarray, lag: np.ndarray) -> pd.DataFrame:
    rows_inst, rows_rep = [], []
    lv = [set(l.split(";")) for l in inst["levels"]]
    for j in range(len(inst)):
        for k, code in enumerate(REPORTS):
            if lv[j] & REPORT_APPLIES[code]:
                rows_inst.append(j)
                rows_rep.append(k)
    ri = np.array(rows_inst, dtype=np.int64)
    rk = np.array(rows_rep, dtype=np.int64)
    m = len(ri)
    # per report, the order follows the institution's promptness
    sent = np.full(m, NEVER, dtype=np.int64)
    for k in range(len(REPORTS)):
        sel = np.flatnonzero((rk == k) & ~lag[ri])
        sent[sel] = piecewise(correlated_uniform(r, z[ri[sel]], 0.85), REPORT_SENT)
    lag_rows = np.flatnonzero(lag[ri])
    lag_sent = r.random(len(lag_rows)) >= LAGGARD_REPORT_NEVER
    sent[lag_rows] = np.where(lag_sent, r.integers(at(5, 10), at(6, 30), len(lag_rows)), NEVER)
    sent = daytime(r, sent)
    never = sent >= NEVER
    draft = np.where(never, np.where(r.random(m) < NEVER_SENT_DRAFT,
                                     r.integers(at(4, 15), at(5, 20), m), NEVER),
                     sent - r.integers(12 * HOUR, 6 * DAY, m))
    draft = daytime(r, draft)
    draft = np.where(~never & (draft >= sent), sent - HOUR, draft)
    returned = ~never & (r.random(m) < REPORT_RETURNED)
    ret_at = np.where(returned, daytime(r, sent + r.integers(8 * HOUR, 4 * DAY, m)), NEVER)
    ret_at = np.where(returned & (ret_at <= sent), sent + 2 * HOUR, ret_at)
    resent = np.where(returned & (r.random(m) < RETURNED_RESENT),
                      daytime(r, ret_at + r.integers(8 * HOUR, 7 * DAY, m)), NEVER)
    resent = np.where(returned & (resent <= ret_at) & (resent < NEVER), ret_at + 2 * HOUR, resent)
    final_send = np.where(returned, resent, sent)
    approved = np.where((final_send < NEVER) & (r.random(m) < REPORT_APPROVED),
                        daytime(r, final_send + r.integers(1 * DAY, 14 * DAY, m)), NEVER)
    approved = np.where((approved <= final_send) & (approved < NEVER), final_send + 3 * HOUR, approved)
    reason = r.integers(0, len(RETURN_REASONS), m)
    return pd.DataFrame({"inst": ri, "report": rk, "draft": draft, "sent": sent,
                         "returned": ret_at, "resent": resent, "approved": approved,
                         "reason": reason})


def _papers(r: np.random.Generator, rep: pd.DataFrame) -> pd.DataFrame:
    """Paper copies received (date only), from the first electronic sending."""
    sent = rep["sent"].to_numpy()
    m = len(rep)
    arrives = (sent < NEVER) & (r.random(m) < PAPER_SENT)
    day = np.floor_divide(sent, DAY) + r.integers(1, 11, m)
    u = r.random(m)
    unsigned = arrives & (u < PAPER_UNSIGNED)
    unstamped = arrives & (u >= PAPER_UNSIGNED) & (u < PAPER_UNSIGNED + PAPER_UNSTAMPED)
    redo = (unsigned | unstamped) & (r.random(m) < PAPER_REDONE)
    redo_day = day + r.integers(2, 9, m)
    idx = np.flatnonzero(arrives)
    first = pd.DataFrame({"row": idx, "day": day[idx], "signed": ~unsigned[idx],
                          "stamped": ~unstamped[idx]})
    idx2 = np.flatnonzero(redo)
    second = pd.DataFrame({"row": idx2, "day": redo_day[idx2], "signed": True, "stamped": True})
    out = pd.concat([first, second], ignore_index=True)
    out["inst"] = rep["inst"].to_numpy()[out["row"]]
    out["report"] = rep["report"].to_numpy()[out["row"]]
    return out.sort_values(["inst", "report", "day"], kind="stable").reset_index(drop=True)
