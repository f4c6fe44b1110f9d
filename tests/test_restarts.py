"""Kill -9 in the middle of writes (issue 7, "Load and restarts").

1. The operational store: a child process writes follow-ups and paper-receipt corrections in a
   loop (data_access.ops, each followed by an acknowledgement line on stdout) and is killed
   with SIGKILL at random moments (after a random number of acknowledgements), 6 times. After each kill the store opens,
   ``PRAGMA integrity_check`` is ok, every acknowledged write is there, no write is half there
   (a follow-up or a receipt version always has its audit line, and the other way round), the
   sequence has no hole, and at most the one write in flight appears without acknowledgement.
2. The import: `python -m data_access ingest` is killed while hashing, inside DuckDB's load of a
   big diem_mon_hoc (the committed sample's scores repeated), between two tables, just before
   and just after the rename and while deriving, each on a fresh copy of the store. The kill
   lands in its phase whatever the machine's speed: the import stops at a test-only pause point
   (data_access/pause_points.py) and the test kills it on its line, or the test kills it on the
   progress line that starts the load and checks that the load's end line never came. After
   each kill snapshots/ holds what it held before (or, once the rename has happened, also the
   new snapshot, whole); then an import of the same extract succeeds and the store holds
   exactly one snapshot of it, and tmp/ is left empty.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import pytest

from data_access import ops
from data_access.access import Viewer
from data_access.store import SNAPSHOT_RE, Store
from tests.snapshot_factory import school, write_store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
KHTC = Viewer("lan.kh", "khtc", display_name="Nguyễn Thị Lan")
TODAY = dt.date(2022, 5, 2)

WRITER = textwrap.dedent("""
    import datetime as dt, sys
    from data_access import ops
    from data_access.access import Viewer
    store, start = sys.argv[1], int(sys.argv[2])
    v = Viewer("lan.kh", "khtc")
    today = dt.date(2022, 5, 2)
    print("ready", flush=True)
    for i in range(start, start + 100000):
        if i % 2 == 0:
            ops.add_follow_up(store, v, "S1", dt.date(2022, 4, 28), "điện thoại", note=f"n{i}",
                              promised_on=dt.date(2022, 5, 10), today=today)
        else:
            ops.correct_paper_receipt(store, v, 1, signed=bool((i // 2) % 2), reason=f"r{i}", today=today)
        print(i, flush=True)
""")


_STATE_SQL = {
    "follow_ups": "SELECT id, note FROM follow_ups ORDER BY id",
    "versions": "SELECT id, version, reason FROM paper_receipts WHERE receipt_id = 1 ORDER BY version",
    "audit": "SELECT action, object, detail FROM audit_log ORDER BY id",
}


def _ops_state(store: Path) -> dict:
    """Read the operational store as a fresh process would after a restart. On PostgreSQL
    (TIENDO_OPS_URL, issue 17) through a new connection of data_access.ops_db; the file checks
    (integrity, WAL) are SQLite's own."""
    from data_access import ops_db
    if ops_db.url():
        ops_db.close_pools()    # a fresh connection, as after a restart
        st = Store(store)
        return {"integrity": None, "journal": None,
                **{k: ops_db.rows(st, q)[1] for k, q in _STATE_SQL.items()}}
    con = sqlite3.connect(Store(store).ops_path)
    try:
        state = {
            "integrity": con.execute("PRAGMA integrity_check").fetchall(),
            "journal": con.execute("PRAGMA journal_mode").fetchone()[0],
            "follow_ups": con.execute("SELECT id, note FROM follow_ups ORDER BY id").fetchall(),
            "versions": con.execute("SELECT id, version, reason FROM paper_receipts WHERE receipt_id = 1 "
                                    "ORDER BY version").fetchall(),
            "audit": con.execute("SELECT action, object, detail FROM audit_log ORDER BY id").fetchall(),
        }
    finally:
        con.close()
    return state


def _writes_seen(state: dict) -> list[int]:
    """The loop indexes found in the store (follow-up notes n<i>, correction reasons r<i>)."""
    seen = [int(n[1:]) for _, n in state["follow_ups"]]
    seen += [int(r[1:]) for _, v, r in state["versions"] if v > 1]
    return sorted(seen)


def _check_ops(state: dict, acked: set[int], earlier: int = 0) -> list[int]:
    """``earlier``: writes already seen before this writer started (an unacknowledged write of
    an earlier killed writer stays in the store, rightly: only this writer's may be in flight)."""
    if state["integrity"] is not None:     # SQLite's file (None on PostgreSQL: the server's)
        assert state["integrity"] == [("ok",)], state["integrity"]
        assert state["journal"].lower() == "wal"
    seen = _writes_seen(state)
    assert len(seen) == len(set(seen)), "a write landed twice"
    # Nothing acknowledged is lost, no hole, at most the write in flight beyond the acks.
    assert acked <= set(seen), f"acknowledged writes lost: {sorted(acked - set(seen))[:10]}"
    assert seen == list(range(len(seen))), "a hole in the sequence of writes"
    beyond = len(set(seen) - acked - set(range(earlier)))
    assert beyond <= 1, f"{beyond} writes beyond the acknowledged ones"
    # All or nothing: every follow-up has its audit line and every audit line its row.
    fu_audit = {obj for action, obj, _ in state["audit"] if action == "follow_up.add"}
    assert fu_audit == {f"follow_up:{fid}" for fid, _ in state["follow_ups"]}
    versions = [v for _, v, _ in state["versions"]]
    assert versions == list(range(1, len(versions) + 1)), "receipt versions not contiguous"
    corr_audit = sorted(json.loads(d)["version"] for action, _, d in state["audit"]
                        if action == "paper_receipt.correct")
    assert corr_audit == versions[1:], "a receipt correction without its audit line (or the reverse)"
    return seen


@pytest.fixture()
def ops_store(tmp_path, ops_backend) -> Path:
    """On SQLite and on PostgreSQL (ops_backend, issue 17)."""
    store = write_store(tmp_path / "store", [("2022-04-27T17:00:00+07:00", {
        "schools": [school("S1", "THPT", "760"), school("S2", "TH", "761")]})])
    ops.add_paper_receipt(store, KHTC, "S1", "EMIS", "20/04/2022", signed=True, stamped=False, today=TODAY)
    return store


def test_kill_during_ops_writes(ops_store):
    rnd = random.Random(20220427)
    acked: set[int] = set()
    kills = 0
    in_flight_seen = 0
    while kills < 6:
        start = len(_writes_seen(_ops_state(ops_store)))
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(ops_store), str(start)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            # A random moment of the write loop, reached by events, not by a delay: the kill
            # follows the k-th acknowledgement (the writer is then in a later write).
            k = rnd.randint(1, 40)
            early = [proc.stdout.readline() for _ in range(k)]
            assert all(x.strip().isdigit() for x in early), early
            os.kill(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate(timeout=10)
            out = "".join(early) + out
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        kills += 1
        acked |= {int(x) for x in out.split()}
        seen = _check_ops(_ops_state(ops_store), acked, earlier=start)
        in_flight_seen += len(set(seen) - acked - set(range(start)))
    assert len(acked) >= 20, "the writer barely wrote anything: the kills tested little"
    # The store still takes writes and reads them back after all those kills.
    fid = ops.add_follow_up(ops_store, KHTC, "S2", "28/04/2022", "e-mail", note="after", today=TODAY)
    assert ops.list_follow_ups(ops_store, KHTC, school_code="S2")["id"].tolist() == [fid]
    # (in_flight_seen counts kills that landed after a commit but before its acknowledgement.)


# ---- import ---------------------------------------------------------------------------------
def _later_extract(dst: Path, repeat: int) -> Path:
    """The committed sample extract with its subject scores repeated ``repeat`` times and
    another as-of."""
    shutil.copytree(SAMPLE, dst)
    src = (SAMPLE / "diem_mon_hoc.csv").read_bytes()
    head, body = src.split(b"\n", 1)
    with open(dst / "diem_mon_hoc.csv", "wb") as f:
        f.write(head + b"\n")
        for _ in range(repeat):
            f.write(body if body.endswith(b"\n") else body + b"\n")
    (dst / "manifest.toml").write_text('as_of = 2022-05-03T17:00:00+07:00\nsource = "kill test"\n',
                                       encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> dict[str, Path]:
    """"small": the sample at a later as-of (the pause points make its size irrelevant);
    "big": its scores repeated 15 times (~37 MB, ~0.9 million rows, so that DuckDB's load of
    that one file lasts long enough to be killed inside it)."""
    base = tmp_path_factory.mktemp("extracts")
    return {"small": _later_extract(base / "small" / "2022-05-03T1700", 1),
            "big": _later_extract(base / "big" / "2022-05-03T1700", 15)}


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> Path:
    """A store holding the committed sample's snapshot; each kill moment works on its own copy
    (an earlier moment's publication must not turn a later one into "already there")."""
    store = tmp_path_factory.mktemp("base") / "store"
    r = subprocess.run(_ingest_cmd(SAMPLE, store) + ["--no-precompute"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return store


def _listing(store: Path) -> dict[str, tuple[int, int]]:
    d = Store(store).snapshots_dir
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(d.iterdir())}


def _ingest_cmd(path: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "data_access", "ingest", str(path), "--store", str(store)]


def _kill_at(path: Path, store: Path, line_re: str, env: dict | None = None, timeout: float = 120) -> str:
    """Run an import and SIGKILL it as soon as a line matching ``line_re`` is read (a progress
    line, or the ``TIENDO_TEST_PAUSE <phase>`` line of a pause point: the process then waits
    there, so the kill lands exactly in that phase); return the output read. A watchdog kills
    it after ``timeout`` s (the assertion below then says the line never came)."""
    proc = subprocess.Popen(_ingest_cmd(path, store), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1, env={**os.environ, **(env or {})})
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    lines, hit = [], False
    try:
        for line in proc.stdout:
            lines.append(line)
            if re.search(line_re, line):
                os.kill(proc.pid, signal.SIGKILL)
                hit = True
                break
        rest, _ = proc.communicate(timeout=30)
        lines.append(rest or "")
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    out = "".join(lines)
    assert hit and proc.returncode == -signal.SIGKILL, f"the import ended before the kill:\n{out[-2000:]}"
    return out


def _snapshot_whole(path: Path, extract: Path) -> bool:
    """The snapshot file opens and holds every score row of the extract, and its _meta."""
    with open(extract / "diem_mon_hoc.csv", "rb") as f:
        expected = sum(1 for line in f if line.strip()) - 1
    con = duckdb.connect(str(path), read_only=True)
    try:
        meta = dict(con.execute("SELECT key, value FROM _meta").fetchall())
        n = con.execute("SELECT count(*) FROM subject_scores").fetchone()[0]
    finally:
        con.close()
    return meta.get("snapshot_id") == path.name[: -len(".duckdb")] and n == expected


PAUSE = "TIENDO_TEST_PAUSE_AT"
# (id, extract, pause point or None, line to kill at, snapshot published by the time of the kill)
MOMENTS = [
    ("hashing", "small", "hash", r"^TIENDO_TEST_PAUSE hash$", False),
    ("inside-big-load", "big", None, r"^Nạp diem_mon_hoc", False),
    ("between-tables", "small", "load:term_summaries", r"^TIENDO_TEST_PAUSE load:term_summaries$", False),
    ("before-rename", "small", "publish", r"^TIENDO_TEST_PAUSE publish$", False),
    ("after-rename", "small", "published", r"^TIENDO_TEST_PAUSE published$", True),
    ("deriving", "small", "derive", r"^TIENDO_TEST_PAUSE derive$", True),
]


@pytest.mark.parametrize("name,which,pause,line_re,published", MOMENTS, ids=[m[0] for m in MOMENTS])
def test_kill_during_import(tmp_path, base_store, extracts, name, which, pause, line_re, published):
    store = tmp_path / "store"
    shutil.copytree(base_store, store)
    extract = extracts[which]
    before = _listing(store)
    assert len(before) == 1
    out = _kill_at(extract, store, line_re, env={PAUSE: pause} if pause else {})
    if name == "inside-big-load":
        # The kill came inside DuckDB's load of that file: its "N dòng" line never came.
        assert not re.search(r"^  diem_mon_hoc\.csv: ", out, re.M), out[-2000:]
    now = _listing(store)
    new = set(now) - set(before)
    # Nothing that was there changed, nothing but whole snapshots appeared.
    assert {k: now[k] for k in before} == before, out[-2000:]
    assert all(SNAPSHOT_RE.match(n) for n in now), now
    assert len(new) == (1 if published else 0), (new, out[-2000:])
    if new:
        (sid,) = new
        assert _snapshot_whole(Store(store).snapshots_dir / sid, extract), sid
    # A later import of the same extract succeeds and there is exactly one snapshot of it.
    r = subprocess.run(_ingest_cmd(extract, store), cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    final = _listing(store)
    assert {k: final[k] for k in before} == before
    ids = sorted(set(final) - set(before))
    assert len(ids) == 1 and ids[0].startswith("20220503T170000-"), final
    assert _snapshot_whole(Store(store).snapshots_dir / ids[0], extract)
    if published:
        assert set(ids) == new and "không tạo bản mới" in r.stdout, r.stdout
    else:
        assert "Đã tạo snapshot" in r.stdout, r.stdout
    assert "Đã tính sẵn tiến độ" in r.stdout
    # Leftovers of the killed run (work folders, locks, derived-cache work) are gone.
    left = [str(p.relative_to(Store(store).tmp_dir)) for p in Store(store).tmp_dir.rglob("*")]
    assert left == [], f"tmp/ leftovers: {left}"
    # The store evaluates (derived facts of the new snapshot complete).
    r = subprocess.run([sys.executable, "-m", "data_access", "rollup", "--store", str(store), "--by", "city",
                        "--format", "csv"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) > 2
