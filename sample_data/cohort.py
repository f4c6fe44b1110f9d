"""The grade-12 cohort's personal information over time (requirement G12_INFO).

Name, birth date and gender are in the system from enrolment; ethnicity, ID number and
permanent address are often filled only during the campaign: each student's record is
completed at a time between the school's start and its completion time (schedules.py).
Defects (defects.py) appear when the field is entered and are fixed later, except at laggards.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import defects as D
from .rand import rng
from .schedules import Schedules
from .students import Students
from .timeline import ALWAYS, INFO_DUE, LAST, NEVER, at

INITIALLY_FILLED = {"full_name": 1.0, "birth_date": 1.0, "gender": 1.0, "ethnicity": 0.85,
                    "id_number": 0.35, "permanent_address": 0.55}
LAGGARD_NEVER_COMPLETE = 0.5       # share of a laggard's students whose record stays incomplete


@dataclass
class Cohort:
    rows: np.ndarray             # row index in Students of each grade-12 student
    inst: np.ndarray
    enrolled: np.ndarray         # status 'Đang học'
    present_from: np.ndarray     # time the row appears in hoc_sinh
    fill: np.ndarray             # (m, 6) time each info field is filled
    clean: list[np.ndarray]      # 6 object arrays of clean values
    school_code: np.ndarray      # object: clean school code
    defects: D.InfoDefects

    def info_at(self, t: int) -> tuple[list[np.ndarray], np.ndarray]:
        """Values of the six info fields and the school code at time t."""
        out = []
        d = self.defects
        active = (t < d.fix)
        for f in range(len(D.INFO_FIELDS)):
            v = self.clean[f].copy()
            v[t < self.fill[:, f]] = None
            sel = active & (d.field == f)
            s = d.student[sel]
            shown = t >= self.fill[s, f]
            v[s[shown]] = d.value[sel][shown]
            out.append(v)
        code = self.school_code.copy()
        sel = active & (d.field == -1)
        code[d.student[sel]] = d.value[sel]
        return out, code


def build_cohort(chunk, inst, sched: Schedules, st: Students, seed: int) -> Cohort:
    r = rng(seed, chunk.index, "cohort")
    rows = st.g12
    m = len(rows)
    ji = st.inst[rows]
    lag = inst["laggard"].to_numpy()[ji]
    enrolled = st.status[rows] == 0
    present_from = sched.enrol[ji]
    s, d = sched.info_start[ji], sched.info_done[ji]

    # when each student's record is complete
    c = s + np.floor((d - s) * r.random(m) ** 0.7).astype(np.int64)
    lag_c = np.where(r.random(m) < LAGGARD_NEVER_COMPLETE, NEVER, r.integers(0, 1, m) + s +
                     np.floor((LAST - s) * r.random(m)).astype(np.int64))
    c = np.where(lag, lag_c, c)
    fill = np.empty((m, len(D.INFO_FIELDS)), dtype=np.int64)
    for f, name in enumerate(D.INFO_FIELDS):
        initially = r.random(m) < INITIALLY_FILLED[name]
        fill[:, f] = np.where(initially | ~enrolled, ALWAYS, c)

    clean = [np.array(a.to_pylist(), dtype=object) for a in
             (pc.take(st.full_name, pa.array(rows)), pc.take(st.birth_date, pa.array(rows)),
              pc.take(st.gender, pa.array(rows)), pc.take(st.ethnicity, pa.array(rows)),
              pc.take(st.id_number, pa.array(rows)), pc.take(st.address, pa.array(rows)))]
    codes = inst["school_code"].to_numpy()
    school_code = codes[ji].astype(object)

    # ---- plant defects
    pop = enrolled & (present_from < NEVER)
    weight = D.LATENESS_WEIGHT[sched.lateness[ji]]
    taken = np.zeros(m, dtype=bool)
    cccd = st.cccd_kind == 0
    parts = [np.array(p.to_pylist(), dtype=object) for p in
             (pc.take(a, pa.array(rows)) for a in st.address_parts)]
    P = int(pop.sum())
    anchor = lag & (present_from <= at(4, 27, 17))
    out_s, out_k, out_f, out_v, out_fix = [], [], [], [], []
    for k, (kind, field, rate, _rule) in enumerate(D.INFO_DEFECTS):
        elig = pop & ~taken
        if kind in D.ID_STRUCTURE_KINDS:
            elig &= cccd
        if kind in ("NAME_NFD", "NAME_TCVN3", "NAME_VNI"):
            elig &= np.array([D.has_diacritics(x) for x in clean[0]])
        if kind == "ETHNICITY_MISSPELLED":
            elig &= np.isin(clean[3], list(D.ETHNICITY_TYPOS))
        chosen = D.pick(r, elig, weight, D.counts_for(rate, P), anchor)
        taken[chosen] = True
        f = D.INFO_FIELDS.index(field) if field in D.INFO_FIELDS else -1
        if f >= 0 and not kind.startswith("MISSING_"):
            fill[chosen, f] = ALWAYS       # the wrong value came with an earlier import
        appear = fill[chosen, f] if f >= 0 else np.full(len(chosen), ALWAYS)
        late = sched.lateness[ji[chosen]] == 3
        fix = D.fix_times(r, appear, d[chosen], np.where(late, INFO_DUE, s[chosen]))
        for i, fx in zip(chosen, fix):
            out_s.append(i), out_k.append(k), out_f.append(f), out_fix.append(fx)
            out_v.append(_value(kind, i, clean, parts, st, rows, codes, chunk, r))
        if kind.startswith("MISSING_"):
            fill[chosen, f] = fix          # the field stays empty until fixed
    # duplicate CCCD: copy the number of a clean student of another school
    dup_k = [k for k, x in enumerate(D.INFO_DEFECTS) if x[0] == "ID_DUPLICATE"][0]
    id_f = D.INFO_FIELDS.index("id_number")
    partners_ok = pop & ~taken & cccd & (present_from <= ALWAYS) & (fill[:, id_f] <= ALWAYS)
    for n_, (i, k) in enumerate(zip(out_s, out_k)):
        if k == dup_k:
            cand = np.flatnonzero(partners_ok & (ji != ji[i]))
            p_ = cand[int(r.integers(0, len(cand)))] if len(cand) else i
            out_v[n_] = clean[4][p_]
    defects = D.InfoDefects(np.array(out_s, dtype=np.int64), np.array(out_k, dtype=np.int64),
                            np.array(out_f, dtype=np.int64), np.array(out_v, dtype=object),
                            np.array(out_fix, dtype=np.int64))
    return Cohort(rows, ji, enrolled, present_from, fill, clean, school_code, defects)


def _value(kind, i, clean, parts, st: Students, rows, codes, chunk, r):
    row = rows[i]
    if kind.startswith("MISSING_"):
        return None
    if kind.startswith("NAME_"):
        return D.bad_name(kind, clean[0][i], r)
    if kind == "GENDER_INVALID":
        opts = D.GENDER_TYPOS[clean[2][i]]
        return opts[int(r.integers(0, len(opts)))]
    if kind.startswith("BIRTH_DATE_"):
        return D.bad_birth_date(kind, int(st.birth_d[row]), int(st.birth_m[row]), int(st.birth_y[row]), r)
    if kind == "ETHNICITY_MISSPELLED":
        opts = D.ETHNICITY_TYPOS[clean[3][i]]
        return opts[int(r.integers(0, len(opts)))]
    if kind.startswith("ID_"):
        return D.bad_id(kind, clean[4][i], None, r)
    if kind.startswith("ADDRESS_"):
        street, ward, district, province = (p[i] for p in parts)
        keep = {"ADDRESS_NO_WARD": (street, district, province),
                "ADDRESS_NO_DISTRICT": (street, ward, province),
                "ADDRESS_NO_PROVINCE": (street, ward, district)}[kind]
        return ", ".join(keep)
    if kind == "SCHOOL_UNKNOWN":
        return f"{chunk.province_code}999{int(r.integers(1, 1000)):03d}"
    raise ValueError(kind)
