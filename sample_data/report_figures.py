"""so_lieu_bao_cao: the figures of each submitted report (issue 15), and the two kinds of
mismatch planted in them.

Kept in one module on purpose (the generator's other parts do not depend on it): a World calls
``ReportFigures(world, seed).apply(t, tables)`` last, which adds ``so_lieu_bao_cao`` and the
staff rows added after a sending (``can_bo`` becomes time-dependent for those).

What a report states: the system builds the report from the records, so each figure is the
indicator (campaign `[[indicators]]`, computed here the way RULES.md «Report figures» defines
them) over the records of the latest snapshot time of the FULL series at or before the sending
time (the first one when sent earlier). Fixed series times keep a subset of snapshots equal to
the same folders of the full series. Then:
- different from the start: STATED_WRONG of the sent EMIS/CSVC/SUC_KHOE reports state one
  figure 1-3 too high (typed by hand);
- stale: STALE_EDIT of the sent EMIS reports are followed, 1-5 days after the (first) sending,
  by a new teacher in can_bo (the report's GV no longer matches the records);
- natural: records that change after sending (grade-12 students entered late, a room's second
  level removed) make other figures stale by themselves.
- no figures: NO_FIGURES of the sent reports have none in the extract («không có số liệu»).
At least two of each planted kind at every scale.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from data_access.reference import ethnic_key, tables as ref_tables

from .rand import rng
from .schedules import REPORTS
from .timeline import DAY, NEVER, select_snapshots

STATED_WRONG = 0.04
STALE_EDIT = 0.03
NO_FIGURES = 0.01
GRADES = (10, 11, 12)
LEVELS = ("MN", "TH", "THCS", "THPT", "GDTX")
ROOM_TYPES = {"PHONG_HOC": "Phòng học", "PHONG_BO_MON": "Phòng bộ môn", "PHONG_KHAC": "Phòng khác"}
POSITIONS = {"CBQL": "CBQL", "GV": "Giáo viên", "NV": "Nhân viên"}
HEADERS = ("Mã trường", "Mã báo cáo", "Mã chỉ tiêu", "Giá trị")


def indicator_codes() -> dict[str, list[str]]:
    """Indicator codes per report code, in the order of the default campaign file."""
    from data_access.campaign import load_campaign
    out: dict[str, list[str]] = {}
    for i in load_campaign().indicators:
        out.setdefault(i.report_code, []).append(i.code)
    return out


def _minority_keys() -> frozenset:
    a = ref_tables()["ref_ethnic_alias"]
    a = a[a["exact"]]
    return frozenset(a.loc[a["official_name"] != "Kinh", "alias_key"])


class ReportFigures:
    def __init__(self, world, seed: int):
        self.w = world
        self.codes = indicator_codes()
        self.series = select_snapshots("all")
        self._values: dict[int, pd.DataFrame] = {}
        r = rng(seed, world.chunk.index, "report_figures")
        rp = world.schools.reports.reset_index(drop=True)
        report = np.array(REPORTS, dtype=object)[rp["report"].to_numpy()]
        sent = rp["sent"].to_numpy()
        compared = np.isin(report, list(self.codes)) & (sent < NEVER)
        idx = np.flatnonzero(compared)
        k_wrong = max(2, int(round(STATED_WRONG * len(idx)))) if len(idx) else 0
        self.wrong = set(r.choice(idx, size=min(k_wrong, len(idx)), replace=False).tolist()) if len(idx) else set()
        self.wrong_pick = {i: (int(r.integers(0, 1 << 30)), int(r.integers(1, 4))) for i in sorted(self.wrong)}
        emis = np.flatnonzero(compared & (report == "EMIS"))
        emis = np.array([i for i in emis if i not in self.wrong], dtype=np.int64)
        k_stale = max(2, int(round(STALE_EDIT * len(emis)))) if len(emis) else 0
        stale = np.sort(r.choice(emis, size=min(k_stale, len(emis)), replace=False)) if len(emis) else emis
        codes = world.schools.codes
        self.extra_staff = pd.DataFrame({
            "school_code": codes[rp["inst"].to_numpy()[stale]].astype(object),
            "from": sent[stale] + (1 + r.integers(0, 5, len(stale))) * DAY + r.integers(0, 8 * 60, len(stale)),
        })
        self.extra_staff["staff_id"] = [f"{c}9{k + 1:03d}" for k, c in enumerate(self.extra_staff["school_code"])]
        rest = np.array([i for i in idx if i not in self.wrong and i not in set(stale.tolist())], dtype=np.int64)
        k_none = max(2, int(round(NO_FIGURES * len(idx)))) if len(rest) else 0
        self.none = set(r.choice(rest, size=min(k_none, len(rest)), replace=False).tolist()) if len(rest) else set()
        self.rp, self.report = rp, report
        self.minority = _minority_keys()

    # ---- the records that change after sending ------------------------------------------------
    def can_bo_at(self, t: int) -> pa.Table:
        base = self.w.schools.can_bo
        ex = self.extra_staff[self.extra_staff["from"] <= t]
        if ex.empty:
            return base
        add = pa.table({
            "Mã cán bộ": pa.array(ex["staff_id"].tolist(), pa.string()),
            "Mã trường": pa.array(ex["school_code"].tolist(), pa.string()),
            "Họ và tên": pa.array(["Nguyễn Thị Thu Hà"] * len(ex), pa.string()),
            "Ngày sinh": pa.array(["12/08/1995"] * len(ex), pa.string()),
            "Giới tính": pa.array(["Nữ"] * len(ex), pa.string()),
            "Vị trí": pa.array(["Giáo viên"] * len(ex), pa.string()),
            "Trình độ": pa.array(["Đại học"] * len(ex), pa.string()),
        })
        return pa.concat_tables([base, add])

    # ---- indicator values over the records at a series time -------------------------------------
    def values_at(self, T: int) -> pd.DataFrame:
        """school_code × indicator code → value (0 where no record) at series time T."""
        if T in self._values:
            return self._values[T]
        # (Arrow group-by: at hcmc scale this runs over 1.7 M rows once per series time used.)
        st = self.w.students_at(T).select(["Mã trường", "Khối", "Giới tính", "Dân tộc", "Trạng thái"])
        st = st.filter(pc.equal(st["Trạng thái"], "Đang học"))
        eth = st["Dân tộc"]
        raw = [e for e in pc.unique(eth).to_pylist() if e is not None]
        minority_raw = pa.array([e for e in raw if ethnic_key(e) in self.minority], pa.string())
        t = pa.table({
            "s": st["Mã trường"],
            "g": pc.cast(st["Khối"], pa.int64(), safe=False),
            "one": pa.array(np.ones(st.num_rows, dtype=np.int64)),
            "nu": pc.cast(pc.fill_null(pc.equal(st["Giới tính"], "Nữ"), False), pa.int64()),
            "dtts": pc.cast(pc.fill_null(pc.is_in(eth, value_set=minority_raw), False), pa.int64()),
        })
        agg = t.group_by(["s", "g"]).aggregate([("one", "sum"), ("nu", "sum"), ("dtts", "sum")]).to_pandas()
        cols: dict[str, pd.Series] = {"HS_DANG_HOC": agg.groupby("s")["one_sum"].sum()}
        for g in GRADES:
            d = agg[agg["g"] == g].set_index("s")
            cols[f"HS_KHOI_{g}"] = d["one_sum"]
            cols[f"HS_NU_KHOI_{g}"] = d["nu_sum"]
            cols[f"HS_DTTS_KHOI_{g}"] = d["dtts_sum"]
        lop = self.w.schools.lop
        ld = pd.DataFrame({"s": lop["Mã trường"].to_numpy(zero_copy_only=False),
                           "g": pd.to_numeric(pd.Series(lop["Khối"].to_numpy(zero_copy_only=False)), errors="coerce")})
        for g in GRADES:
            cols[f"LOP_KHOI_{g}"] = ld[ld["g"] == g].groupby("s").size()
        cb = self.can_bo_at(T)
        cd = pd.DataFrame({"s": cb["Mã trường"].to_numpy(zero_copy_only=False),
                           "p": cb["Vị trí"].to_numpy(zero_copy_only=False)})
        for code, pos in POSITIONS.items():
            cols[code] = cd[cd["p"] == pos].groupby("s").size()
        rm = self.w.schools.rooms
        rm = rm[rm["until"] > T]
        for tcode, tname in ROOM_TYPES.items():
            for lv in LEVELS:
                sel = rm[(rm["room_type"] == tname) & (rm["level"] == lv)]
                cols[f"{tcode}_{lv}"] = sel.groupby("school_code")["room_code"].nunique()
        out = pd.DataFrame(cols).fillna(0).astype("int64")
        self._values[T] = out
        return out

    # ---- the file at snapshot time t ----------------------------------------------------------
    def figures_at(self, t: int) -> pa.Table:
        rp = self.rp
        sent, resent = rp["sent"].to_numpy(), rp["resent"].to_numpy()
        when = np.where(resent <= t, resent, np.where(sent <= t, sent, NEVER))
        rows_s, rows_r, rows_i, rows_v = [], [], [], []
        codes = self.w.schools.codes
        series = np.array(self.series, dtype=np.int64)
        for i in np.flatnonzero((when < NEVER) & np.isin(self.report, list(self.codes))):
            if int(i) in self.none:
                continue
            k = max(0, int(np.searchsorted(series, when[i], side="right")) - 1)
            vals = self.values_at(int(series[k]))
            school = codes[rp["inst"].iat[i]]
            row = vals.loc[school] if school in vals.index else None
            inds = self.codes[self.report[i]]
            wrong = self.wrong_pick.get(int(i))
            for j, code in enumerate(inds):
                v = int(row[code]) if row is not None and code in row.index else 0
                if wrong is not None and j == wrong[0] % len(inds):
                    v += wrong[1]
                rows_s.append(school)
                rows_r.append(self.report[i])
                rows_i.append(code)
                rows_v.append(str(v))
        return pa.table({HEADERS[0]: pa.array(rows_s, pa.string()), HEADERS[1]: pa.array(rows_r, pa.string()),
                         HEADERS[2]: pa.array(rows_i, pa.string()), HEADERS[3]: pa.array(rows_v, pa.string())})

    def apply(self, t: int, tables: dict) -> None:
        tables["can_bo"] = self.can_bo_at(t)
        tables["so_lieu_bao_cao"] = self.figures_at(t)
