"""The store: layout, listing by file name, as-of lookup, metadata, cleaning of tmp/."""
from __future__ import annotations

import datetime as dt
import fcntl
import os

import pandas as pd
import pytest

from data_access.ingest import ingest
from data_access.store import Store, make_snapshot_id, parse_time
from tests.test_ingest import write_extract

IDS = ["20220420T170000-aaaaaaaaaaaa", "20220427T170000-bbbbbbbbbbbb", "20220504T083000-cccccccccccc"]


@pytest.fixture
def fake_store(tmp_path) -> Store:
    """Snapshot files that are not DuckDB files at all: listing must not open them."""
    s = Store(tmp_path / "store").ensure()
    for sid in reversed(IDS):
        (s.snapshots_dir / f"{sid}.duckdb").write_bytes(b"not a duckdb file")
    for junk in ("notes.txt", "20220427T170000-bbbbbbbbbbbb.duckdb.wal", "2022-bad-name.duckdb"):
        (s.snapshots_dir / junk).write_bytes(b"")
    (s.snapshots_dir / "20220501T000000-dddddddddddd.duckdb").mkdir()  # a folder, not a file
    return s


def test_layout(tmp_path):
    s = Store(tmp_path / "st")
    assert s.root == tmp_path / "st"
    assert (s.snapshots_dir, s.tmp_dir, s.derived_dir, s.ops_path) == (
        s.root / "snapshots", s.root / "tmp", s.root / "derived", s.root / "ops.sqlite")
    assert s.list_snapshots().empty and s.snapshot_at(None) is None  # nothing created yet
    s.ensure()
    assert s.snapshots_dir.is_dir() and s.tmp_dir.is_dir() and s.derived_dir.is_dir()


def test_list_snapshots_from_names_only(fake_store):
    df = fake_store.list_snapshots()
    assert list(df.columns) == ["snapshot_id", "as_of", "path"]
    assert df["snapshot_id"].tolist() == IDS
    assert str(df["as_of"].dt.tz) == "Asia/Ho_Chi_Minh"
    assert df["as_of"].iloc[2] == pd.Timestamp("2022-05-04T08:30:00+07:00")
    assert df["path"].iloc[0] == str(fake_store.snapshots_dir / f"{IDS[0]}.duckdb")


def test_snapshot_at(fake_store):
    s = fake_store
    assert s.snapshot_at("2022-04-20T16:59:59+07:00") is None          # before the first
    assert s.snapshot_at("2022-04-20 17:00")["snapshot_id"] == IDS[0]  # exact time, naive = +07:00
    assert s.snapshot_at("2022-04-20T10:00:00Z")["snapshot_id"] == IDS[0]  # same instant in UTC
    assert s.snapshot_at("2022-04-30T12:00:00+07:00")["snapshot_id"] == IDS[1]  # between
    assert s.snapshot_at(dt.datetime(2022, 4, 27, 16, 59))["snapshot_id"] == IDS[0]
    assert s.snapshot_at("27/04/2022 17:00")["snapshot_id"] == IDS[1]
    assert s.snapshot_at("2022-04-27")["snapshot_id"] == IDS[1]         # a bare date = end of day
    assert s.snapshot_at(None)["snapshot_id"] == IDS[2]                 # newest
    assert s.snapshot_at("2030-01-01")["snapshot_id"] == IDS[2]
    row = s.snapshot_at(pd.Timestamp("2022-05-04T08:30:00+07:00"))
    assert row["as_of"] == pd.Timestamp("2022-05-04T08:30:00+07:00") and row["path"].endswith(".duckdb")


def test_parse_time_and_snapshot_id():
    assert parse_time("2022-04-27T17:00:00+07:00").isoformat() == "2022-04-27T17:00:00+07:00"
    assert parse_time("2022-04-27 17:00").isoformat() == "2022-04-27T17:00:00+07:00"
    assert parse_time("27/04/2022 17:00:05").isoformat() == "2022-04-27T17:00:05+07:00"
    assert parse_time("2022-04-27T10:00:00.123+00:00").isoformat() == "2022-04-27T17:00:00+07:00"
    assert parse_time(None) is None
    with pytest.raises(ValueError):
        parse_time("hôm qua")
    assert make_snapshot_id(parse_time("2022-04-27 17:00"), "0123456789abcdef" * 4) == \
        "20220427T170000-0123456789ab"


def test_read_meta_of_an_imported_snapshot(tmp_path):
    res = ingest(write_extract(tmp_path / "ex", manifest='as_of = "27/04/2022 17:00"\nsource = "test"\n'),
                 tmp_path / "store")
    s = Store(tmp_path / "store")
    meta = s.read_meta(res.snapshot_id)
    assert meta["snapshot_id"] == res.snapshot_id and meta["as_of"] == "2022-04-27T17:00:00+07:00"
    assert meta["source"] == "test" and meta["format_version"] == "1"
    assert meta["rows"]["students"] == 3 and meta["rows"]["staff"] == 0
    assert {f["table_name"] for f in meta["files"] if f["present"]} == {
        "schools", "students", "subject_scores", "reports"}
    assert s.snapshot_at("2022-04-27T17:00:00+07:00")["snapshot_id"] == res.snapshot_id
    with pytest.raises(FileNotFoundError):
        s.read_meta("20990101T000000-000000000000")


def test_clean_tmp_removes_only_dead_imports(tmp_path):
    s = Store(tmp_path / "store").ensure()
    dead = s.tmp_dir / "import-1-dead"
    dead.mkdir()
    (dead / ".lock").write_bytes(b"")
    (dead / "half.duckdb").write_bytes(b"x" * 100)
    live = s.tmp_dir / "import-2-live"
    live.mkdir()
    fd = os.open(live / ".lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)   # another open file description: a live import
    other = s.tmp_dir / "derived-123"   # not the importer's
    other.mkdir()
    try:
        assert s.clean_tmp() == ["import-1-dead"]
        assert not dead.exists() and live.exists() and other.exists()
    finally:
        os.close(fd)
    assert s.clean_tmp() == ["import-2-live"]
