"""Students of one chunk, clean (defects are planted later by defects.py): identity, class,
birth date fitting the grade, ethnicity, permanent address from the real ward list, and for
grade 12 a CCCD (or, for a few older students, only a 9-digit CMND).

CCCD = province prefix (mostly the chunk's own; others weighted to the South) + century/gender
digit (0/1 born 1900s, 2/3 born 2000s; even = male) + YY + 6 digits. Unique: within a chunk the
6 digits are drawn without repetition per (prefix, digit, YY); students registered in another
province draw from a block of numbers reserved for the chunk, so provinces generated
separately never collide.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import names as N
from . import refdata
from .population import Chunk, STATUSES
from .rand import rng

# Ethnicity shares of HCMC students (official names of ethnic_groups.csv) and name group
# (0 Kinh, 1 Hoa, 2 Khmer, 3 Chăm, 4 northern minority)
ETHNICITY_SHARES = (
    ("Kinh", 93.0, 0), ("Hoa", 4.5, 1), ("Khơ-me", 0.8, 2), ("Chăm", 0.5, 3), ("Tày", 0.3, 4),
    ("Nùng", 0.35, 4), ("Mường", 0.2, 4), ("Thái", 0.1, 4), ("Dao", 0.05, 4), ("Xtiêng", 0.05, 2),
    ("Chơ-ro", 0.05, 2), ("Ê-đê", 0.03, 4), ("Gia-rai", 0.03, 4), ("Cơ-ho", 0.04, 4),
)
KHMER_ALIAS_SHARE = 0.3                # 'Khmer' written instead of the official 'Khơ-me'
CMND_ONLY_SHARE_OLDER = 0.25           # grade-12 students born before 2004 holding only a CMND
CMND_ONLY_SHARE_2004 = 0.005
OWN_PREFIX_SHARE = 0.80                # grade-12 CCCD registered in the chunk's own province
OTHER_PROVINCE_RESIDENCE = 0.05        # permanent residence in another province
SAME_DISTRICT_RESIDENCE = 0.75
CLASS_SIZE = {0: 28, **{g: 35 for g in range(1, 6)}, **{g: 40 for g in range(6, 10)}, 10: 42, 11: 42, 12: 42}
# provinces near HCMC / in the South are more common birth-registration places
SOUTHERN = {"70", "72", "74", "75", "77", "80", "82", "83", "84", "86", "87", "89", "91", "92",
            "93", "94", "95", "96", "60", "68", "66", "58", "56", "52", "51", "49", "40", "38",
            "36", "34"}

DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_DD = pa.array([f"{d:02d}" for d in range(32)])
_YYYY = [str(y) for y in range(1900, 2030)]


@dataclass
class Students:
    n: int
    inst: np.ndarray            # institution row
    grade: np.ndarray
    status: np.ndarray          # index into STATUSES
    female: np.ndarray
    eth_idx: np.ndarray         # index into ETHNICITY_SHARES
    birth_y: np.ndarray
    birth_m: np.ndarray
    birth_d: np.ndarray
    student_id: pa.Array
    class_name: pa.Array
    full_name: pa.Array
    ethnicity: pa.Array
    birth_date: pa.Array
    gender: pa.Array
    address: pa.Array
    address_parts: list[pa.Array]   # [street part, ward, district, province]
    id_number: pa.Array         # '' for those without (younger grades)
    status_str: pa.Array
    classes: dict               # for lop.csv
    g12: np.ndarray             # row indices of grade-12 students (any status)
    cccd_kind: np.ndarray       # per g12: 0 CCCD, 1 CMND


def _dates(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(pc.take(_DD, pa.array(d)), pc.take(_DD, pa.array(m)),
                                       pc.take(pa.array(_YYYY), pa.array(y - 1900)), "/")


def birth_dates(r: np.random.Generator, grade: np.ndarray, gdtx: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(grade)
    y = 2016 - grade.astype(np.int64)
    u = r.random(n)
    y = np.where(u < 0.06, y - 1, np.where(u > 0.99, y + 1, y))
    mn = grade == 0
    y[mn] = r.choice([2016, 2017, 2018, 2019, 2020], size=int(mn.sum()), p=[0.3, 0.28, 0.24, 0.12, 0.06])
    # continuing education: a fifth of the students are older (born 1998-2002 for grade 12)
    older = gdtx & (grade >= 10) & (r.random(n) < 0.2)
    y[older] = y[older] - r.integers(2, 7, size=int(older.sum()))
    m = r.integers(1, 13, n)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    dim = DAYS_IN_MONTH[m - 1] + ((m == 2) & leap)
    d = 1 + np.floor(r.random(n) * dim).astype(np.int64)
    return y, m, d


def build_students(chunk: Chunk, inst, counts: np.ndarray, seed: int) -> Students:
    r = rng(seed, chunk.index, "students")
    n_inst = len(inst)
    # one row per student: institution, grade, status
    flat = counts.reshape(-1)
    n = int(flat.sum())
    cell = np.repeat(np.arange(flat.size), flat)
    inst_i, grade, status = np.unravel_index(cell, counts.shape)
    programme = inst["programme"].to_numpy()
    gdtx = programme[inst_i] == "GDTX"
    female = r.random(n) < 0.49
    by, bm, bd = birth_dates(r, grade, gdtx)

    # classes: MN by age group (Lá 5 tuổi, Chồi 4, Mầm 3, Nhà trẻ), others 12A1 ...
    sub = np.where(grade == 0, np.clip(by - 2016, 0, 3), 0)   # 0 Lá,1 Chồi,2 Mầm,3 Nhà trẻ
    key_rand = r.integers(0, 2**24, n)
    order = np.argsort(((inst_i * 64 + grade * 4 + sub) << 24) + key_rand, kind="stable")
    inst_i, grade, status, female, by, bm, bd, sub, gdtx = (a[order] for a in (inst_i, grade, status, female, by, bm, bd, sub, gdtx))
    grp = inst_i * 64 + grade * 4 + sub
    starts = np.r_[0, np.flatnonzero(np.diff(grp)) + 1]
    sizes = np.diff(np.r_[starts, n])
    grp_of = np.repeat(np.arange(len(starts)), sizes)
    rank = np.arange(n) - starts[grp_of]
    cap = np.array([CLASS_SIZE[g] for g in range(13)])[grade]
    n_classes = np.ceil(sizes / cap[starts]).astype(np.int64)
    k = rank % n_classes[grp_of] + 1
    order2 = np.argsort(((grp_of << 8) + k) << 20 | rank, kind="stable")
    inst_i, grade, status, female, by, bm, bd, sub, k, gdtx = (a[order2] for a in (inst_i, grade, status, female, by, bm, bd, sub, k, gdtx))

    # one entry per class, then taken per student
    cls_key = inst_i * 10**6 + grade * 10**4 + sub * 10**2 + k
    first = np.r_[0, np.flatnonzero(np.diff(cls_key)) + 1]
    cls_of = np.repeat(np.arange(len(first)), np.diff(np.r_[first, n]))
    mn_names = ("Lá", "Chồi", "Mầm", "Nhà trẻ")
    labels = [f"{mn_names[s_]} {k_}" if g_ == 0 else f"{g_}A{k_}"
              for g_, s_, k_ in zip(grade[first].tolist(), sub[first].tolist(), k[first].tolist())]
    class_names_u = pa.array(labels, type=pa.string())
    class_name = pc.take(class_names_u, pa.array(cls_of))
    seq = np.arange(1, n + 1, dtype=np.int64)
    student_id = pc.utf8_lpad(pc.cast(pa.array(int(chunk.province_code) * 10**8 + seq), pa.string()),
                              width=10, padding="0")

    # ethnicity and names
    eth_p = np.array([e[1] for e in ETHNICITY_SHARES])
    eth_idx = r.choice(len(ETHNICITY_SHARES), size=n, p=eth_p / eth_p.sum())
    eth_names = [e[0] for e in ETHNICITY_SHARES]
    eth_str_idx = eth_idx.copy()
    khmer = (eth_idx == 2) & (r.random(n) < KHMER_ALIAS_SHARE)
    eth_str_idx[khmer] = len(eth_names)
    ethnicity = pc.take(pa.array(eth_names + ["Khmer"]), pa.array(eth_str_idx))
    name_group = np.array([e[2] for e in ETHNICITY_SHARES])[eth_idx]
    full_name = N.person_names(r, female, name_group)
    gender = pc.take(pa.array(["Nam", "Nữ"]), pa.array(female.astype(np.int8)))
    birth_date = _dates(by, bm, bd)

    # permanent addresses
    address_parts = _addresses(r, chunk, inst["district_idx"].to_numpy()[inst_i])
    address = pc.binary_join_element_wise(*address_parts, ", ")

    # IDs for grade 12
    g12 = np.flatnonzero(grade == 12)
    id_vals, kind = _ids_grade12(r, chunk, female[g12], by[g12])
    id_full = np.full(n, None, dtype=object)
    id_full[g12] = id_vals
    id_number = pa.array(id_full, type=pa.string())

    status_str = pc.take(pa.array(list(STATUSES)), pa.array(status.astype(np.int8)))

    classes = {"inst": inst_i[first], "grade": grade[first], "class_name": class_names_u}
    return Students(n, inst_i, grade, status, female, eth_idx, by, bm, bd, student_id, class_name,
                    full_name, ethnicity, birth_date, gender, address, address_parts, id_number,
                    status_str, classes, g12, kind)


def _addresses(r: np.random.Generator, chunk: Chunk, school_district: np.ndarray) -> list[pa.Array]:
    n = len(school_district)
    nd = len(chunk.districts)
    w = np.array([d.weight for d in chunk.districts])
    home = np.where(r.random(n) < SAME_DISTRICT_RESIDENCE, school_district,
                    r.choice(nd, size=n, p=w / w.sum()))
    ward_pool: list[str] = []
    ward_start = []
    for d in chunk.districts:
        ward_start.append(len(ward_pool))
        ward_pool += d.wards
    ward_start = np.array(ward_start)
    ward_count = np.array([len(d.wards) for d in chunk.districts])
    ward = ward_start[home] + np.floor(r.random(n) * ward_count[home]).astype(np.int64)
    house = r.integers(1, 600, n)
    alley = r.integers(1, 80, n)
    has_alley = r.random(n) < 0.35
    street = r.integers(0, len(N.STREETS), n)
    house_s = pc.cast(pa.array(house), pa.string())
    house_s = pc.if_else(pa.array(has_alley),
                         pc.binary_join_element_wise(house_s, pc.cast(pa.array(alley), pa.string()), "/"),
                         house_s)
    street_part = pc.binary_join_element_wise(house_s, pc.take(pa.array(["Đường " + s for s in N.STREETS]),
                                                               pa.array(street)), " ")
    ward_s = pc.take(pa.array(ward_pool), pa.array(ward))
    district_s = pc.take(pa.array([d.name for d in chunk.districts]), pa.array(home))
    province_s = pa.array([chunk.province_name] * n)
    # residence in another province (registered there, living/studying here)
    other = r.random(n) < OTHER_PROVINCE_RESIDENCE
    if other.any():
        provs = [p for p in refdata.provinces() if p["gso_province_code"] != chunk.province_code]
        pw = np.array([3.0 if p["gso_province_code"] in SOUTHERN else 1.0 for p in provs])
        m = int(other.sum())
        pi = r.choice(len(provs), size=m, p=pw / pw.sum())
        idx = pa.array(np.flatnonzero(other))
        hamlet = pc.take(pa.array(N.HAMLETS), pa.array(r.integers(0, len(N.HAMLETS), m)))
        commune = pc.take(pa.array(["Xã " + c for c in N.GENERIC_COMMUNES]),
                          pa.array(r.integers(0, len(N.GENERIC_COMMUNES), m)))
        dist2 = pc.take(pa.array(N.GENERIC_DISTRICTS), pa.array(r.integers(0, len(N.GENERIC_DISTRICTS), m)))
        prov2 = pc.take(pa.array([p["province_name"] for p in provs]), pa.array(pi))
        street_part = _scatter(street_part, idx, hamlet)
        ward_s = _scatter(ward_s, idx, commune)
        district_s = _scatter(district_s, idx, dist2)
        province_s = _scatter(province_s, idx, prov2)
    return [street_part, ward_s, district_s, province_s]


def _scatter(base: pa.Array, idx: pa.Array, values: pa.Array) -> pa.Array:
    """base with base[idx] = values (arrow arrays)."""
    n = len(base)
    pos = np.arange(n, dtype=np.int64)
    pos[np.asarray(idx)] = n + np.arange(len(values))
    return pc.take(pa.concat_arrays([base, values.cast(base.type)]), pa.array(pos))


def _ids_grade12(r: np.random.Generator, chunk: Chunk, female: np.ndarray, by: np.ndarray):
    """Clean ID numbers for grade-12 students -> (values, kind 0 CCCD / 1 CMND)."""
    m = len(female)
    provs = refdata.provinces()
    prefixes = [p["cccd_prefix"] for p in provs]
    own = prefixes.index(chunk.cccd_prefix)
    pw = np.array([3.0 if p["gso_province_code"] in SOUTHERN else 1.0 for p in provs])
    pw[own] = 0.0
    pref = np.where(r.random(m) < OWN_PREFIX_SHARE, own, r.choice(len(provs), size=m, p=pw / pw.sum()))
    century = np.where(by >= 2000, 2, 0) + female.astype(np.int64)
    yy = by % 100
    is_own = pref == own
    rnd = np.where(is_own, r.integers(0, 900_000, m),
                   900_000 + (chunk.index % 63) * 1500 + r.integers(0, 1500, m))
    pref_num = np.array([int(p) for p in prefixes])[pref]
    for _ in range(100):                          # redraw collisions until unique
        num = ((pref_num * 10 + century) * 100 + yy) * 1_000_000 + rnd
        _, first, cnt = np.unique(num, return_index=True, return_counts=True)
        dup = np.ones(m, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        k = int(dup.sum())
        rnd[dup] = np.where(is_own[dup], r.integers(0, 900_000, k),
                            900_000 + (chunk.index % 63) * 1500 + r.integers(0, 1500, k))
    values = np.array([f"{x:012d}" for x in num], dtype=object)
    # older students: some hold only the old 9-digit CMND (HCMC police code 02, else 3xx)
    cmnd = r.random(m) < np.where(by < 2004, CMND_ONLY_SHARE_OLDER, CMND_ONLY_SHARE_2004)
    if cmnd.any():
        k = int(cmnd.sum())
        body = r.choice(10**7, size=k, replace=False)
        head = np.where(pref[cmnd] == prefixes.index("079"), "02", "3")
        values[cmnd] = [f"{h}{b:07d}" if h == "02" else f"{h}{b:08d}"[:9] for h, b in zip(head, body)]
    return values, cmnd.astype(np.int8)
