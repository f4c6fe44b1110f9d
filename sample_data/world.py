"""One chunk (the city, or one province of the national scale) built once, then viewed at any
snapshot time: ``World(chunk, seed).tables_at(t)`` -> {file stem: arrow table with the
canonical Vietnamese headers of data_access/schema.py}."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_access.schema import TABLES_BY_FILE

from .cohort import build_cohort
from .completeness_gaps import plant_completeness_gaps
from .population import Chunk, build_institutions, student_counts
from .results import build_results
from .schedules import build_schedules
from .schools import build_school_files
from .students import build_students

# files of a snapshot, in writing order; the students file leaves out the optional
# 'Số định danh cá nhân' column (the ID is in 'Số CMND/CCCD', as the brief's exports have it)
FILES = ("truong", "hoc_sinh", "diem_mon_hoc", "tong_ket", "bao_cao", "ban_giay", "phong_hoc",
         "lop", "can_bo", "so_lieu_bao_cao")
STUDENT_HEADERS = ("Mã học sinh", "Mã trường", "Khối", "Lớp", "Họ và tên", "Ngày sinh", "Giới tính",
                   "Dân tộc", "Số CMND/CCCD", "Nơi thường trú", "Trạng thái")


class World:
    def __init__(self, chunk: Chunk, seed: int):
        self.chunk = chunk
        self.inst = build_institutions(chunk, seed)
        self.counts = student_counts(chunk, self.inst, seed)
        self.sched = build_schedules(self.inst, seed, chunk.index, chunk.demo)
        self.students = st = build_students(chunk, self.inst, self.counts, seed)
        self.cohort = build_cohort(chunk, self.inst, self.sched, st, seed)
        self.results = build_results(chunk, self.inst, self.sched, self.cohort, st.student_id, seed)
        self.schools = build_school_files(chunk, self.inst, st, self.counts, self.sched, seed)
        # issue 15: incomplete domains for the completeness index (its own random stream)
        self.completeness_gaps = plant_completeness_gaps(self.schools, seed, chunk.index)
        codes = self.inst["school_code"].to_numpy().astype(object)
        # static student columns; the grade-12 rows' info columns change over time
        self._static = {
            "Mã học sinh": st.student_id,
            "Mã trường": pa.array(codes[st.inst].tolist(), pa.string()),
            "Khối": pc.cast(pa.array(st.grade), pa.string()),
            "Lớp": st.class_name,
            "Họ và tên": st.full_name,
            "Ngày sinh": st.birth_date,
            "Giới tính": st.gender,
            "Dân tộc": st.ethnicity,
            "Số CMND/CCCD": st.id_number,
            "Nơi thường trú": st.address,
            "Trạng thái": st.status_str,
        }
        self._g12_pos = st.g12
        self._n = st.n
        # so_lieu_bao_cao and its planted mismatches (issue 15): sample_data/report_figures.py
        from .report_figures import ReportFigures
        self.figures = ReportFigures(self, seed)

    def students_at(self, t: int) -> pa.Table:
        info, code = self.cohort.info_at(t)
        n, g12 = self._n, self._g12_pos
        pos = np.arange(n, dtype=np.int64)
        pos[g12] = n + np.arange(len(g12))
        take = pa.array(pos)
        cols = dict(self._static)
        for header, values in zip(("Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Số CMND/CCCD",
                                   "Nơi thường trú"), info):
            cols[header] = pc.take(pa.concat_arrays([cols[header], pa.array(values.tolist(), pa.string())]), take)
        cols["Mã trường"] = pc.take(pa.concat_arrays([cols["Mã trường"], pa.array(code.tolist(), pa.string())]), take)
        table = pa.table({h: cols[h] for h in STUDENT_HEADERS})
        keep = np.ones(n, dtype=bool)
        keep[g12] = self.cohort.present_from <= t
        if not keep.all():
            table = table.filter(pa.array(keep))
        return table

    def tables_at(self, t: int) -> dict[str, pa.Table]:
        scores, summaries = self.results.tables_at(t)
        out = {
            "truong": self.schools.truong,
            "hoc_sinh": self.students_at(t),
            "diem_mon_hoc": scores,
            "tong_ket": summaries,
            "bao_cao": self.schools.reports_at(t),
            "ban_giay": self.schools.papers_at(t),
            "phong_hoc": self.schools.rooms_at(t),
            "lop": self.schools.lop,
            "can_bo": self.schools.can_bo,
        }
        self.figures.apply(t, out)
        for stem, table in out.items():
            expected = [c.header for c in TABLES_BY_FILE[stem].columns]
            if stem == "hoc_sinh":
                expected = [h for h in expected if h != "Số định danh cá nhân"]
            assert table.column_names == expected, (stem, table.column_names, expected)
        return out
