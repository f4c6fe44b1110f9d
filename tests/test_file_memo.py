"""data_access.file_memo: values remembered until their files change — the snapshot list and
the operational store's versions depend on it being exact, also across processes."""
import os
import subprocess
import sys
import types

import pandas as pd
import pytest

from data_access import file_memo, ops
from data_access.store import Store


def test_remembered_until_a_file_changes(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("1")
    calls = []

    def compute():
        calls.append(1)
        return f.read_text()

    assert file_memo.remembered("t1", [f], compute) == "1"
    assert file_memo.remembered("t1", [f], compute) == "1"
    assert len(calls) == 1                      # second call: a stat, no read
    f.write_text("22")                          # another writer, no bump: size changes
    assert file_memo.remembered("t1", [f], compute) == "22"
    assert len(calls) == 2


def test_same_size_rewrite_is_seen_by_mtime_or_age(tmp_path, monkeypatch):
    f = tmp_path / "a.txt"
    f.write_text("1")
    st0 = os.stat(f)
    assert file_memo.remembered("t2", [f], f.read_text) == "1"
    f.write_text("2")                           # same size; a later mtime (set, not waited for)
    os.utime(f, ns=(st0.st_atime_ns, st0.st_mtime_ns + 10_000_000))
    assert file_memo.remembered("t2", [f], f.read_text) == "2"
    # Same size and same times (a write inside one clock tick): seen once the value is MAX_AGE
    # old. file_memo's clock is the test's: the age is set, not slept (a sleep made the "still
    # remembered" step fail whenever a loaded machine paused the test longer than max_age).
    clock = [1000.0]
    monkeypatch.setattr(file_memo, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    st = os.stat(f)
    assert file_memo.remembered("t3", [f], f.read_text, max_age=0.2) == "2"
    f.write_text("3")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    clock[0] = 1000.19                          # younger than max_age: still the remembered value
    assert file_memo.remembered("t3", [f], f.read_text, max_age=0.2) == "2"
    clock[0] = 1000.2                           # max_age old: read again
    assert file_memo.remembered("t3", [f], f.read_text, max_age=0.2) == "3"


def test_missing_file_then_created(tmp_path):
    f = tmp_path / "later.txt"
    get = lambda: f.read_text() if f.exists() else None  # noqa: E731
    assert file_memo.remembered("t4", [f], get) is None
    f.write_text("x")
    assert file_memo.remembered("t4", [f], get) == "x"


def test_bump_forgets_everything(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("1")
    n = []
    file_memo.remembered("t5", [f], lambda: n.append(1))
    file_memo.bump()
    file_memo.remembered("t5", [f], lambda: n.append(1))
    assert len(n) == 2


@pytest.mark.sqlite_ops   # another process writes ops.sqlite with sqlite3 itself
def test_snapshot_list_sees_another_process_hiding_and_importing(tmp_path):
    """The list is remembered, yet a hide written by another process and a snapshot renamed
    into the folder by another process show on the next call."""
    st = Store(tmp_path / "store").ensure()
    assert st.list_snapshots().empty
    (st.snapshots_dir / "20220427T170000-aaaaaaaaaaaa.duckdb").write_bytes(b"")
    got = st.list_snapshots()
    assert list(got["snapshot_id"]) == ["20220427T170000-aaaaaaaaaaaa"]
    got.loc[0, "snapshot_id"] = "changed by the caller"    # callers get their own copy
    assert list(st.list_snapshots()["snapshot_id"]) == ["20220427T170000-aaaaaaaaaaaa"]
    code = f"""
import sqlite3, pathlib
p = pathlib.Path({str(st.ops_path)!r})
con = sqlite3.connect(p); con.execute('PRAGMA journal_mode=WAL')
con.execute('CREATE TABLE IF NOT EXISTS hidden_snapshots (snapshot_id TEXT, unhidden_at TEXT)')
con.execute("INSERT INTO hidden_snapshots VALUES ('20220427T170000-aaaaaaaaaaaa', NULL)")
con.commit(); con.close()
pathlib.Path({str(st.snapshots_dir)!r}, '20220428T170000-bbbbbbbbbbbb.duckdb').write_bytes(b'')
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    assert list(st.list_snapshots()["snapshot_id"]) == ["20220428T170000-bbbbbbbbbbbb"]
    assert st.list_snapshots(include_hidden=True)["hidden"].tolist() == [True, False]


@pytest.mark.sqlite_ops   # another process writes ops.sqlite with sqlite3 itself
def test_data_version_follows_writes_of_this_and_other_processes(tmp_path):
    st = Store(tmp_path / "store").ensure()
    assert ops.data_version(st) == (0, 0, 0)
    with ops.transaction(st) as con:            # this process: bump
        con.execute("INSERT INTO audit_log (at, username, role, action, detail) "
                    "VALUES ('2022-04-27T10:00:00+07:00', 'u', 'quan_tri', 'test', '{}')")
    v1 = ops.data_version(st)
    assert v1[2] == 1
    code = f"""
import sqlite3
con = sqlite3.connect({str(st.ops_path)!r})
con.execute("INSERT INTO audit_log (at, username, role, action, detail) VALUES ('2022-04-27T10:00:01+07:00', 'u', 'quan_tri', 'test', '{{}}')")
con.commit(); con.close()
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    assert ops.data_version(st)[2] == 2
    assert isinstance(st.list_snapshots(), pd.DataFrame)
