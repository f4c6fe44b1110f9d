"""Institution-level files: truong (institutions), lop (classes), can_bo (staff), phong_hoc
(rooms, with a few rooms declared under two levels), bao_cao (report log) and ban_giay (paper
copies received), the last three as of a time t."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import names as N
from .legacy_encodings import to_tcvn3, to_vni
from .population import INSTITUTION_TYPES, level_group
from .rand import rng
from .schedules import REPORTS, RETURN_REASONS, ROOM_FIX, Schedules
from .students import Students, _dates
from .timeline import DAY, NEVER, format_dates, format_times, piecewise

TYPE_SLUG = {"MN": "mn", "TH": "th", "THCS": "thcs", "THPT": "thpt", "GDTX": "gdtx"}
STAFF_RATIO = {"MN": 9, "TH": 22, "THCS": 20, "SEC": 20}
STAFF_LEGACY = {"NFD": 0.005, "TCVN3": 0.003, "VNI": 0.003}      # staff names as typed long ago
ROOM_CAPACITY = {"MN": 28, "TH": 35, "THCS": 40, "THPT": 42, "GDTX": 40}
ROOM_VIOLATION_SHARE = 0.25          # multi-level schools declaring a room under two levels
QUALIFICATIONS = {
    "CBQL": (("Thạc sĩ", 0.40), ("Đại học", 0.58), ("Tiến sĩ", 0.02)),
    "Giáo viên": (("Đại học", 0.75), ("Thạc sĩ", 0.12), ("Cao đẳng", 0.10), ("Trung cấp", 0.03)),
    "Nhân viên": (("Trung cấp", 0.40), ("Cao đẳng", 0.30), ("Đại học", 0.25), ("Sơ cấp", 0.05)),
}
QUALIFICATIONS_MN_TEACHER = (("Cao đẳng", 0.45), ("Đại học", 0.40), ("Trung cấp", 0.15))


@dataclass
class SchoolFiles:
    truong: pa.Table
    lop: pa.Table
    can_bo: pa.Table
    rooms: pd.DataFrame          # with 'until' (time the row disappears)
    reports: pd.DataFrame
    papers: pd.DataFrame
    codes: np.ndarray

    def rooms_at(self, t: int) -> pa.Table:
        df = self.rooms[self.rooms["until"] > t]
        return pa.table({"Mã trường": pa.array(df["school_code"].tolist(), pa.string()),
                         "Mã phòng": pa.array(df["room_code"].tolist(), pa.string()),
                         "Loại phòng": pa.array(df["room_type"].tolist(), pa.string()),
                         "Cấp học": pa.array(df["level"].tolist(), pa.string())})

    def reports_at(self, t: int) -> pa.Table:
        rp = self.reports
        draft, sent, ret, resent, appr = (rp[c].to_numpy() for c in ("draft", "sent", "returned", "resent", "approved"))
        visible = draft <= t
        status = np.full(len(rp), "Chưa gửi", dtype=object)
        when = np.full(len(rp), NEVER, dtype=np.int64)
        is_sent = sent <= t
        status[is_sent] = "Đã gửi"
        when[is_sent] = sent[is_sent]
        is_ret = ret <= t
        status[is_ret] = "Bị trả lại"
        is_resent = resent <= t
        status[is_resent] = "Đã gửi"
        when[is_resent] = resent[is_resent]
        status[appr <= t] = "Đã duyệt"
        note = np.full(len(rp), None, dtype=object)
        reasons = np.array(RETURN_REASONS, dtype=object)[rp["reason"].to_numpy()]
        note[is_ret & ~is_resent] = reasons[is_ret & ~is_resent]
        v = np.flatnonzero(visible)
        times = np.full(len(v), None, dtype=object)
        has_time = when[v] < NEVER
        times[has_time] = format_times(when[v][has_time])
        return pa.table({
            "Mã trường": pa.array(self.codes[rp["inst"].to_numpy()[v]].tolist(), pa.string()),
            "Mã báo cáo": pa.array(np.array(REPORTS, dtype=object)[rp["report"].to_numpy()[v]].tolist(), pa.string()),
            "Trạng thái": pa.array(status[v].tolist(), pa.string()),
            "Thời điểm gửi": pa.array(times.tolist(), pa.string()),
            "Ghi chú": pa.array(note[v].tolist(), pa.string()),
        })

    def papers_at(self, t: int) -> pa.Table:
        p = self.papers
        p = p[p["day"] <= t // DAY]
        yn = np.array(["Không", "Có"], dtype=object)
        return pa.table({
            "Mã trường": pa.array(self.codes[p["inst"].to_numpy()].tolist(), pa.string()),
            "Mã báo cáo": pa.array(np.array(REPORTS, dtype=object)[p["report"].to_numpy()].tolist(), pa.string()),
            "Ngày nhận": pa.array(format_dates(p["day"].to_numpy() * DAY).tolist(), pa.string()),
            "Có chữ ký": pa.array(yn[p["signed"].to_numpy().astype(int)].tolist(), pa.string()),
            "Có đóng dấu": pa.array(yn[p["stamped"].to_numpy().astype(int)].tolist(), pa.string()),
        })


def build_school_files(chunk, inst: pd.DataFrame, st: Students, counts: np.ndarray,
                       sched: Schedules, seed: int) -> SchoolFiles:
    r = rng(seed, chunk.index, "schools")
    n = len(inst)
    codes = inst["school_code"].to_numpy().astype(object)
    levels = inst["levels"].tolist()
    type_idx = inst["type_idx"].to_numpy()

    # ---- staff (the principal is the first CBQL)
    per_level_students = _students_per_level(levels, counts)
    n_staff = np.array([3 + sum(int(np.ceil(v / STAFF_RATIO[level_group(l)])) for l, v in d.items())
                        for d in per_level_students])
    is_mn = np.array([l == "MN" for l in levels])
    staff_inst = np.repeat(np.arange(n), n_staff)
    m = len(staff_inst)
    starts = np.r_[0, np.cumsum(n_staff)[:-1]]
    pos = np.arange(m) - starts[staff_inst]
    n_cbql = np.where(n_staff[staff_inst] >= 15, 3, np.where(n_staff[staff_inst] >= 8, 2, 1))
    n_nv = np.ceil(n_staff * 0.15).astype(np.int64)[staff_inst]
    position = np.where(pos < n_cbql, "CBQL",
                        np.where(pos >= n_staff[staff_inst] - n_nv, "Nhân viên", "Giáo viên")).astype(object)
    female = r.random(m) < np.where(is_mn[staff_inst], 0.97, 0.70)
    names = N.person_names(r, female, np.zeros(m, dtype=np.int64), adult=True)
    names_clean = names.to_pylist()
    principal = [names_clean[s] for s in starts]
    shown = list(names_clean)
    u = r.random(m)
    lim = np.cumsum(list(STAFF_LEGACY.values()))
    for i in np.flatnonzero(u < lim[-1]):
        kind = list(STAFF_LEGACY)[int(np.searchsorted(lim, u[i], side="right"))]
        shown[i] = {"NFD": lambda s: unicodedata.normalize("NFD", s), "TCVN3": to_tcvn3,
                    "VNI": to_vni}[kind](names_clean[i])
    by = r.integers(1963, 2000, m)
    bm = r.integers(1, 13, m)
    bd = r.integers(1, 29, m)
    qual = np.empty(m, dtype=object)
    for pos_name, opts in QUALIFICATIONS.items():
        sel = position == pos_name
        if pos_name == "Giáo viên":
            for mn_flag, o in ((True, QUALIFICATIONS_MN_TEACHER), (False, opts)):
                s2 = sel & (is_mn[staff_inst] == mn_flag)
                qual[s2] = np.array([x[0] for x in o], dtype=object)[
                    r.choice(len(o), size=int(s2.sum()), p=[x[1] for x in o])]
        else:
            qual[sel] = np.array([x[0] for x in opts], dtype=object)[
                r.choice(len(opts), size=int(sel.sum()), p=[x[1] for x in opts])]
    staff_id = [f"{codes[j]}{p + 1:04d}" for j, p in zip(staff_inst, pos)]
    can_bo = pa.table({
        "Mã cán bộ": pa.array(staff_id, pa.string()),
        "Mã trường": pa.array(codes[staff_inst].tolist(), pa.string()),
        "Họ và tên": pa.array(shown, pa.string()),
        "Ngày sinh": _dates(by, bm, bd),
        "Giới tính": pc.take(pa.array(["Nam", "Nữ"]), pa.array(female.astype(np.int8))),
        "Vị trí": pa.array(position.tolist(), pa.string()),
        "Trình độ": pa.array(qual.tolist(), pa.string()),
    })

    # ---- institutions
    num = np.zeros(n, dtype=np.int64)
    for t in np.unique(type_idx):
        sel = np.flatnonzero(type_idx == t)
        num[sel] = np.arange(1, len(sel) + 1)
    persons = N.HISTORICAL_PERSONS
    off_p = int(r.integers(0, len(persons)))
    off_k = int(r.integers(0, len(N.KINDERGARTEN_NAMES)))
    school_names, emails = [], []
    k_other = k_mn = 0
    for j in range(n):
        prefix = INSTITUTION_TYPES[type_idx[j]][3]
        if levels[j] == "MN":
            suffix = N.KINDERGARTEN_NAMES[(off_k + k_mn) % len(N.KINDERGARTEN_NAMES)]
            k_mn += 1
        else:
            suffix = persons[(off_p + k_other) % len(persons)]
            k_other += 1
        school_names.append(f"{prefix} Mẫu số {num[j]:03d} – {suffix}")
        slug = TYPE_SLUG.get(levels[j], "lc")
        emails.append(f"{slug}{num[j]:03d}.{chunk.province_code}{inst['district_code'].iat[j]}@example.edu.vn")
    truong = pa.table({
        "Mã trường": pa.array(codes.tolist(), pa.string()),
        "Tên trường": pa.array(school_names, pa.string()),
        "Mã quận/huyện": pa.array(inst["district_code"].tolist(), pa.string()),
        "Cấp học": pa.array(levels, pa.string()),
        "Loại hình": pa.array(inst["ownership"].tolist(), pa.string()),
        "Cấp quản lý": pa.array(inst["managed_by"].tolist(), pa.string()),
        "Hiệu trưởng": pa.array(principal, pa.string()),
        "Điện thoại": pa.array(N.phones(r, n), pa.string()),
        "Email": pa.array(emails, pa.string()),
    })

    # ---- classes
    c = st.classes
    ci, cg = c["inst"], c["grade"]
    key = ci * 100 + cg
    first = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    serial = np.arange(len(key)) - np.repeat(first, np.diff(np.r_[first, len(key)]))
    lop = pa.table({
        "Mã trường": pa.array(codes[ci].tolist(), pa.string()),
        "Mã lớp": pa.array([f"{codes[j]}.{g:02d}.{s + 1:02d}" for j, g, s in zip(ci, cg, serial)], pa.string()),
        "Khối": pc.cast(pa.array(cg), pa.string()),
        "Tên lớp": c["class_name"],
    })

    # ---- rooms
    rows = []
    multi = [j for j in range(n) if ";" in levels[j]]
    k_viol = max(2 if chunk.demo else 1, int(round(ROOM_VIOLATION_SHARE * len(multi)))) if multi else 0
    violators = set(r.choice(multi, size=min(k_viol, len(multi)), replace=False).tolist()) if multi else set()
    fix_at = piecewise(r.random(n), ROOM_FIX)
    for j in range(n):
        idx = 0
        declared = []
        for l in levels[j].split(";"):
            stud = per_level_students[j].get(l, 0)
            classes = max(1, int(np.ceil(stud / ROOM_CAPACITY[l])))
            special = 0 if l == "MN" else int(r.integers(1, 4))
            other = int(r.integers(1, 3))
            types = ["Phòng học"] * classes + ["Phòng bộ môn"] * special + ["Phòng khác"] * other
            for tp in types:
                code = f"P{1 + idx // 10}{idx % 10 + 1:02d}"
                rows.append((codes[j], code, tp, l, NEVER))
                declared.append((code, tp, l))
                idx += 1
        if j in violators:
            lv = levels[j].split(";")
            k = int(r.integers(1, 4))
            for code, tp, l in [declared[int(x)] for x in r.choice(len(declared), size=min(k, len(declared)), replace=False)]:
                other_l = [x for x in lv if x != l][int(r.integers(0, len(lv) - 1))]
                rows.append((codes[j], code, tp, other_l, int(fix_at[j])))
    rooms = pd.DataFrame(rows, columns=["school_code", "room_code", "room_type", "level", "until"])
    rooms = rooms.sort_values(["school_code", "room_code", "level"], kind="stable").reset_index(drop=True)
    return SchoolFiles(truong, lop, can_bo, rooms, sched.reports, sched.papers, codes)


def _students_per_level(levels: list[str], counts: np.ndarray) -> list[dict[str, int]]:
    per_grade = counts.sum(axis=2)
    out = []
    for j, lv in enumerate(levels):
        s = lv.split(";")
        d = {}
        for l in s:
            if l == "MN":
                d[l] = int(per_grade[j, 0])
            elif l == "TH":
                d[l] = int(per_grade[j, 1:6].sum())
            elif l == "THCS":
                d[l] = int(per_grade[j, 6:10].sum())
            else:
                d[l] = int(per_grade[j, 10:13].sum())
        out.append(d)
    return out
