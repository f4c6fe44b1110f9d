"""Who exists: the provinces (chunks) of a scale, their districts, the institutions and how many
students each has per grade and status. No strings of people here, so `population_sizes()`
answers "how big is hcmc" in a fraction of a second without writing anything.

Scales
- ``hcmc``: the city in 2021-2022. Institutions by level in the city's 2020 proportions
  (1,346 MN, 500 TH, 280 THCS, 199 THPT, 28 GDTX centres, plus 50 multi-level schools);
  1,725,530 students (the DOET figure of 11/09/2021) split by level in the proportions of the
  VietnamPlus 2022 figures (≈260k MN, 660k TH, 460k THCS, 245k THPT incl. GDTX, scaled to the
  2021-22 total), so about 85,000 in grade 12 of whom ≈82,000 enrolled (`Đang học`).
- ``demo``: the same city with ~10 % of the institutions (every district, level and type
  present) and very few students per institution (≈1,000 in grade 12).
- ``national``: 63 provinces (chunks) from provinces.csv, ≈13× hcmc students; HCMC is itself,
  the others have synthetic districts (codes numbered 001… in province order, outside HCMC's
  760-787) and more, smaller institutions (≈53,000 in all).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import refdata
from .rand import rng

LEVELS = ("MN", "TH", "THCS", "THPT", "GDTX")
GRADES = tuple(range(13))            # 0 = kindergarten
STATUSES = ("Đang học", "Đã chuyển trường", "Thôi học")

# (levels, HCMC count, share non-public, name prefix)
INSTITUTION_TYPES: tuple[tuple[str, int, float, str], ...] = (
    ("MN", 1346, 0.42, "Trường Mầm non"),
    ("TH", 500, 0.08, "Trường Tiểu học"),
    ("THCS", 280, 0.05, "Trường THCS"),
    ("THPT", 199, 0.25, "Trường THPT"),
    ("GDTX", 28, 0.0, "Trung tâm GDNN-GDTX"),
    ("TH;THCS", 14, 0.6, "Trường Tiểu học và THCS"),
    ("THCS;THPT", 18, 0.7, "Trường THCS và THPT"),
    ("TH;THCS;THPT", 12, 0.85, "Trường Tiểu học, THCS và THPT"),
    ("MN;TH", 3, 0.7, "Trường Mầm non và Tiểu học"),
    ("MN;TH;THCS;THPT", 3, 1.0, "Trường Liên cấp Mầm non, TH, THCS và THPT"),
)

# Students by level (grades of the level), HCMC 2021-2022.
HCMC_STUDENTS = 1_725_530
LEVEL_STUDENTS = {"MN": 276_000, "TH": 701_000, "THCS": 488_000, "SEC": 260_530}   # SEC = grades 10-12
GRADE_SHARES = {
    "MN": {0: 1.0},
    "TH": {1: 0.205, 2: 0.200, 3: 0.200, 4: 0.200, 5: 0.195},
    "THCS": {6: 0.26, 7: 0.25, 8: 0.25, 9: 0.24},
    "SEC": {10: 0.345, 11: 0.328, 12: 0.327},
}
# share of each grade's students with another status (rest: Đang học)
STATUS_SHARES = {"Đã chuyển trường": 0.015, "Thôi học": 0.010}
STATUS_SHARES_G12 = {"Đã chuyển trường": 0.020, "Thôi học": 0.015}

# relative size of one level's part of an institution: (public, non-public)
SIZE_WEIGHT = {"MN": (1.0, 0.45), "TH": (1.0, 0.6), "THCS": (1.0, 0.6), "SEC": (1.0, 0.55)}
GDTX_SIZE = 0.45                       # GDTX centre vs a public THPT (grades 10-12)
MULTI_LEVEL_SIZE = 0.5                 # one level's part of a multi-level school

# demo: share of the city's institutions, and students per institution vs the city
DEMO_INSTITUTION_SHARE = 0.10
DEMO_STUDENT_FACTOR = {"MN": 0.015, "TH": 0.015, "THCS": 0.015, "SEC": 0.09}

# national: ≈13× hcmc students; other provinces have 1.75× the institutions per student
NATIONAL_STUDENT_MULTIPLE = 13.0
NATIONAL_INSTITUTION_DENSITY = 1.75

LAGGARD_SHARE = 0.05                   # institutions that never finish

# approximate population (thousands, 2019 census, rounded) of the 22 HCMC units: weights only
HCMC_POPULATION_K = {
    "760": 142, "761": 620, "764": 676, "765": 499, "766": 474, "767": 485, "768": 163,
    "769": 1013, "770": 190, "771": 234, "772": 209, "773": 175, "774": 159, "775": 233,
    "776": 424, "777": 785, "778": 360, "783": 462, "784": 542, "785": 705, "786": 206, "787": 71,
}


def level_group(level: str) -> str:
    return "SEC" if level in ("THPT", "GDTX") else level


def grade_group(grade: int) -> str:
    return "MN" if grade == 0 else "TH" if grade <= 5 else "THCS" if grade <= 9 else "SEC"


@dataclass
class District:
    code: str
    name: str
    weight: float
    wards: list[str]


@dataclass
class Chunk:
    index: int                      # chunk number = position of the province in provinces.csv
    province_code: str              # GSO 2-digit, e.g. '79'
    province_name: str              # 'Thành phố Hồ Chí Minh'
    cccd_prefix: str                # '079'
    districts: list[District]
    inst_counts: dict[str, int]     # institution type (levels) -> count
    level_students: dict[str, int]  # level group -> students
    scale: str
    demo: bool = False
    extra: dict = field(default_factory=dict)


def _hcmc_districts() -> list[District]:
    wards: dict[str, list[str]] = {}
    for w in refdata.wards_hcmc():
        wards.setdefault(w["district_code"], []).append(w["ward_name"])
    ds = refdata.districts_hcmc()
    total_wards = sum(int(d["ward_count"]) for d in ds)
    total_pop = sum(HCMC_POPULATION_K.values())
    return [District(d["district_code"], d["district_name"],
                     0.5 * int(d["ward_count"]) / total_wards
                     + 0.5 * HCMC_POPULATION_K[d["district_code"]] / total_pop,
                     wards[d["district_code"]]) for d in ds]


def _hcmc_chunk(scale: str) -> Chunk:
    # the chunk number is the province's position in provinces.csv at every scale, so the
    # random streams of HCMC are the same in the hcmc scale and within the national one
    index, prov = next((i, p) for i, p in enumerate(refdata.provinces()) if p["gso_province_code"] == "79")
    counts = {t[0]: t[1] for t in INSTITUTION_TYPES}
    students = dict(LEVEL_STUDENTS)
    demo = scale == "demo"
    if demo:
        counts = {k: max(1, round(v * DEMO_INSTITUTION_SHARE)) for k, v in counts.items()}
        full = {t[0]: t[1] for t in INSTITUTION_TYPES}
        for g in students:
            n_demo = sum(c for k, c in counts.items() if any(level_group(l) == g for l in k.split(";")))
            n_full = sum(c for k, c in full.items() if any(level_group(l) == g for l in k.split(";")))
            students[g] = round(LEVEL_STUDENTS[g] * n_demo / n_full * DEMO_STUDENT_FACTOR[g])
    return Chunk(index, "79", prov["province_name"], prov["cccd_prefix"], _hcmc_districts(),
                 counts, students, scale, demo)


def _synthetic_districts(prov: dict, first_code: int, seed_rng: np.random.Generator) -> list[District]:
    from .names import GENERIC_COMMUNES
    n = int(prov["district_count"])
    short = prov["province_name"].replace("Thành phố ", "").replace("Tỉnh ", "")
    out = []
    for k in range(n):
        code = f"{first_code + k:03d}"
        if k == 0:
            name = f"Thành phố {short}" if not prov["province_name"].startswith("Thành phố") else "Quận Trung Tâm"
            wards = [f"Phường {i}" for i in range(1, 9)]
        else:
            name = f"Huyện {GENERIC_COMMUNES[k - 1]}" if k - 1 < len(GENERIC_COMMUNES) else f"Huyện Mẫu số {k:02d}"
            wards = [f"Thị trấn {name.split(' ', 1)[1]}"] + [f"Xã {c}" for c in GENERIC_COMMUNES[:7]]
        out.append(District(code, name, float(seed_rng.lognormal(0, 0.4)), wards))
    return out


def chunks_for(scale: str) -> list[Chunk]:
    if scale in ("demo", "hcmc"):
        return [_hcmc_chunk(scale)]
    if scale != "national":
        raise ValueError(f"unknown scale {scale!r} (demo, hcmc, national)")
    provs = refdata.provinces()
    weights = {p["gso_province_code"]: int(p["district_count"]) * (2.5 if p["gso_province_code"] == "01" else 1.0)
               for p in provs if p["gso_province_code"] != "79"}
    total_w = sum(weights.values())
    out: list[Chunk] = []
    next_code = 1
    layout_rng = np.random.Generator(np.random.PCG64(7901))   # fixed layout, independent of --seed
    for i, p in enumerate(provs):
        code = p["gso_province_code"]
        if code == "79":
            out.append(_hcmc_chunk("national"))
            continue
        m = weights[code] / total_w * (NATIONAL_STUDENT_MULTIPLE - 1.0)
        counts = {t[0]: max(1 if t[0] in ("THPT", "GDTX", "MN", "TH", "THCS") else 0,
                            round(t[1] * m * NATIONAL_INSTITUTION_DENSITY)) for t in INSTITUTION_TYPES}
        students = {g: round(v * m) for g, v in LEVEL_STUDENTS.items()}
        districts = _synthetic_districts(p, next_code, layout_rng)
        next_code += len(districts)
        out.append(Chunk(i, code, p["province_name"], p["cccd_prefix"], districts, counts, students,
                         "national"))
    return out


# ----------------------------------------------------------------------------------------------
def build_institutions(chunk: Chunk, seed: int) -> pd.DataFrame:
    """One row per institution: code, name, district, levels, ownership, managed_by, flags."""
    r = rng(seed, chunk.index, "institutions")
    types = [t for t in INSTITUTION_TYPES for _ in range(chunk.inst_counts.get(t[0], 0))]
    n = len(types)
    levels = np.array([t[0] for t in types], dtype=object)
    type_idx = np.array([next(i for i, t in enumerate(INSTITUTION_TYPES) if t[0] == x[0]) for x in types])
    non_public = r.random(n) < np.array([t[2] for t in types])
    # districts by weight; in the demo every district gets at least one institution
    w = np.array([d.weight for d in chunk.districts])
    dist = r.choice(len(w), size=n, p=w / w.sum())
    if chunk.demo or n >= 5 * len(w):
        for d in range(len(w)):
            if not (dist == d).any():
                counts = np.bincount(dist, minlength=len(w))
                cand = np.flatnonzero((counts[dist] > 1) & (levels == "MN"))
                if len(cand) == 0:
                    cand = np.flatnonzero(counts[dist] > 1)
                dist[cand[r.integers(len(cand))]] = d
    order = np.lexsort((r.random(n), type_idx, dist))
    levels, type_idx, non_public, dist = levels[order], type_idx[order], non_public[order], dist[order]
    seq = np.zeros(n, dtype=np.int64)
    for d in np.unique(dist):
        sel = np.flatnonzero(dist == d)
        seq[sel] = np.arange(1, len(sel) + 1)
    dcodes = np.array([chunk.districts[d].code for d in dist], dtype=object)
    codes = [f"{chunk.province_code}{dc}{s:03d}" for dc, s in zip(dcodes, seq)]
    has_sec = np.array(["THPT" in l or "GDTX" in l for l in levels])
    managed = np.where(has_sec, "Sở", "Phòng")
    programme = np.where(np.array(["THPT" in l for l in levels]), "THPT",
                         np.where(np.array(["GDTX" in l for l in levels]), "GDTX", ""))
    # laggards: ~5 % of the institutions with grade 12 and of the others, at least one of each
    laggard = np.zeros(n, dtype=bool)
    # (the demo keeps 3 among grade-12 institutions: one that never entered its grade-12
    # students, one that entered them late, one with all its defects left unfixed)
    for grp, least in ((has_sec, 3 if chunk.demo else 1), (~has_sec, 2 if chunk.demo else 1)):
        idx = np.flatnonzero(grp)
        if len(idx):
            k = max(least, int(round(LAGGARD_SHARE * len(idx))))
            laggard[r.choice(idx, size=min(k, len(idx)), replace=False)] = True
    promptness = r.standard_normal(n)          # latent: low = early
    promptness[laggard] = 3.0
    return pd.DataFrame({
        "school_code": codes, "levels": levels, "type_idx": type_idx,
        "district_idx": dist, "district_code": dcodes,
        "ownership": np.where(non_public, "Ngoài công lập", "Công lập"),
        "non_public": non_public, "managed_by": managed, "has_g12": has_sec,
        "programme": programme, "laggard": laggard, "promptness": promptness,
    })


def student_counts(chunk: Chunk, inst: pd.DataFrame, seed: int) -> np.ndarray:
    """(n_institutions, 13 grades, 3 statuses) student counts."""
    r = rng(seed, chunk.index, "student_counts")
    n = len(inst)
    out = np.zeros((n, len(GRADES), len(STATUSES)), dtype=np.int64)
    lv_sets = [set(l.split(";")) for l in inst["levels"]]
    non_public = inst["non_public"].to_numpy()
    for g, total in chunk.level_students.items():
        members = np.array([any(level_group(l) == g for l in s) for s in lv_sets])
        if not members.any() or total <= 0:
            continue
        w = np.array([SIZE_WEIGHT[g][int(p)] for p in non_public])
        multi = np.array([len(s) > 1 for s in lv_sets])
        w = w * np.where(multi, MULTI_LEVEL_SIZE, 1.0)
        if g == "SEC":
            w = w * np.where(np.array(["GDTX" in s for s in lv_sets]), GDTX_SIZE, 1.0)
        w = w * r.lognormal(0.0, 0.35, n)
        w = np.where(members, w, 0.0)
        per_inst = r.multinomial(total, w / w.sum())
        grades = list(GRADE_SHARES[g])
        shares = np.array([GRADE_SHARES[g][k] for k in grades])
        by_grade = r.multinomial(per_inst, shares)           # (n, len(grades))
        for j, grade in enumerate(grades):
            ss = STATUS_SHARES_G12 if grade == 12 else STATUS_SHARES
            p = np.array([1.0 - sum(ss.values())] + [ss[s] for s in STATUSES[1:]])
            out[:, grade, :] = r.multinomial(by_grade[:, j], p)
    return out


def population_sizes(scale: str, seed: int | None = None) -> pd.DataFrame:
    """Counts of institutions and students per chunk/level/grade/status for a scale, computed
    exactly as the generator does but without building any record or writing any file.
    Columns: chunk, grade, status, students."""
    from .rand import DEFAULT_SEED
    seed = DEFAULT_SEED if seed is None else seed
    frames = []
    for ch in chunks_for(scale):
        inst = build_institutions(ch, seed)
        c = student_counts(ch, inst, seed)
        tot = c.sum(axis=0)
        for g in GRADES:
            for s, st in enumerate(STATUSES):
                frames.append((ch.index, ch.province_code, g, st, int(tot[g, s]), len(inst)))
    return pd.DataFrame(frames, columns=["chunk", "province_code", "grade", "status", "students",
                                         "institutions"])
