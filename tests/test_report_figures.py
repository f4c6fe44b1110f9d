"""Report figures against the records (issue 15, part 1): the optional extract file
so_lieu_bao_cao, the campaign's indicators, the comparison of every submitted report's figures
with the records of the snapshot at (or before) its sending time and of the evaluated snapshot,
and what the pages and exports show of it. Expected values are counted by hand from the small
extracts below."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data_access.errors import ExtractError
from data_access.ingest import ingest
from tests.test_ingest import BASE, write_extract

FIG_HEADER = ["Mã trường", "Mã báo cáo", "Mã chỉ tiêu", "Giá trị"]


def _table(path, name):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT school_code, report_code, indicator, value, _row FROM {name} ORDER BY _row").fetchall()
    finally:
        con.close()


# ---- 1. the extract file ---------------------------------------------------------------------
def test_so_lieu_bao_cao_is_imported_with_its_aliases(tmp_path):
    ex = write_extract(tmp_path / "ex", {"so_lieu_bao_cao": (
        ["Mã trường", "Mã báo cáo", "Chỉ tiêu", "Số liệu"],
        [["S001", "EMIS", "HS_KHOI_12", "2"], ["S001", "EMIS", "LOP_KHOI_12", "1"]])})
    res = ingest(ex, tmp_path / "store")
    assert res.rows["report_figures"] == 2
    rows = _table(res.path, "report_figures")
    assert [r[:4] for r in rows] == [("S001", "EMIS", "HS_KHOI_12", "2"), ("S001", "EMIS", "LOP_KHOI_12", "1")]
    assert [r[4] for r in rows] == [2, 3]          # _row: the spreadsheet row (header = 1)


def test_so_lieu_bao_cao_is_optional(tmp_path):
    res = ingest(write_extract(tmp_path / "ex"), tmp_path / "store")
    assert res.rows["report_figures"] == 0


def test_so_lieu_bao_cao_without_value_column_is_refused(tmp_path):
    ex = write_extract(tmp_path / "ex", {"so_lieu_bao_cao": (
        ["Mã trường", "Mã báo cáo", "Mã chỉ tiêu"], [["S001", "EMIS", "HS_KHOI_12"]])})
    with pytest.raises(ExtractError) as ei:
        ingest(ex, tmp_path / "store")
    msg = str(ei.value)
    assert "so_lieu_bao_cao.csv" in msg and "Giá trị" in msg, msg
