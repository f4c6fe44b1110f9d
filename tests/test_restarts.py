"""Kill -9 in the middle of writes (issue 7, "Load and restarts").

1. The operational store: a child process writes follow-ups and paper-receipt corrections in a
   loop (data_access.ops, each followed by an acknowledgement line on stdout) and is killed
   with SIGKILL at random moments, several times. After each kill the store opens,
   ``PRAGMA integrity_check`` is ok, every acknowledged write is there, no write is half there
   (a follow-up or a receipt version always has its audit line, and the other way round), the
   sequence has no hole, and at most the one write in flight appears without acknowledgement.
2. The import: `python -m data_access ingest` of an extract with a big diem_mon_hoc (the
   committed sample's scores repeated) is killed while hashing, while loading, at publication
   and while precomputing. After each kill snapshots/ holds what it held before (or, once the
   rename has happened, also the new snapshot, whole); then an import of the same extract
   succeeds and the store holds exactly one snapshot of it, and tmp/ is left empty.
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
import time
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


def _ops_state(store: Path) -> dict:
    """Read the operational store as a fresh process would after a restart."""
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
def ops_store(tmp_path) -> Path:
    store = write_store(tmp_path / "store", [("2022-04-27T17:00:00+07:00", {
        "schools": [school("S1", "THPT", "760"), school("S2", "TH", "761")]})])
    ops.add_paper_receipt(store, KHTC, "S1", "EMIS", "20/04/2022", signed=True, stamped=False, today=TODAY)
    return store


def test_kill_during_ops_writes(ops_store):
    rnd = random.Random(20220427)
    acked: set[int] = set()
    kills = 0
    in_flight_seen = 0
    deadline = time.monotonic() + 25
    while kills < 10 and time.monotonic() < deadline:
        start = len(_writes_seen(_ops_state(ops_store)))
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(ops_store), str(start)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rnd.uniform(0.05, 0.6))     # a random moment of the write loop
            os.kill(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        kills += 1
        acked |= {int(x) for x in out.split()}
        seen = _check_ops(_ops_state(ops_store), acked, earlier=start)
        in_flight_seen += len(set(seen) - acked - set(range(start)))
    assert kills >= 5
    assert len(acked) >= 20, "the writer barely wrote anything: the kills tested little"
    # The store still takes writes and reads them back after all those kills.
    fid = ops.add_follow_up(ops_store, KHTC, "S2", "28/04/2022", "e-mail", note="after", today=TODAY)
    assert ops.list_follow_ups(ops_store, KHTC, school_code="S2")["id"].tolist() == [fid]
    # (in_flight_seen counts kills that landed after a commit but before its acknowledgement.)


# ---- import ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_extract(tmp_path_factory) -> Path:
    """The committed sample extract with its subject scores repeated 15 times (~37 MB, ~0.9
    million rows: a few seconds to import) and another as-of."""
    d = tmp_path_factory.mktemp("big") / "2022-05-03T1700"
    shutil.copytree(SAMPLE, d)
    src = (SAMPLE / "diem_mon_hoc.csv").read_bytes()
    head, body = src.split(b"\n", 1)
    with open(d / "diem_mon_hoc.csv", "wb") as f:
        f.write(head + b"\n")
        for _ in range(15):
            f.write(body if body.endswith(b"\n") else body + b"\n")
    (d / "manifest.toml").write_text('as_of = 2022-05-03T17:00:00+07:00\nsource = "kill test"\n',
                                     encoding="utf-8")
    return d


def _listing(store: Path) -> dict[str, tuple[int, int]]:
    d = Store(store).snapshots_dir
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(d.iterdir())}


def _ingest_cmd(path: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "data_access", "ingest", str(path), "--store", str(store)]


def _kill_at(path: Path, store: Path, line_re: str, delay: float, timeout: float = 40) -> str:
    """Run an import, SIGKILL it ``delay`` s after a progress line matching ``line_re``;
    return the output read."""
    proc = subprocess.Popen(_ingest_cmd(path, store), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    try:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if re.search(line_re, line):
                time.sleep(delay)
                break
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=10)
        lines.append(rest or "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    out = "".join(lines)
    assert proc.returncode == -signal.SIGKILL, f"the import ended before the kill:\n{out[-2000:]}"
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


def test_kill_during_import(tmp_path, big_extract):
    store = tmp_path / "store"
    r = subprocess.run(_ingest_cmd(SAMPLE, store) + ["--no-precompute"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    before = original = _listing(store)
    assert len(before) == 1
    moments = [  # (progress line, delay): hashing, loading the big file, publication, precompute
        (r"^Bản trích xuất", 0.2),
        (r"Nạp diem_mon_hoc", 0.3),
        (r"Nạp diem_mon_hoc", 1.0),
        (r"^Ghi snapshot", 0.0),
        # Precompute: after "created" or, when the kill above came after the rename, "exists".
        (r"^Đã (tạo|có) snapshot", 0.3),
    ]
    published = None
    for line_re, delay in moments:
        out = _kill_at(big_extract, store, line_re, delay)
        now = _listing(store)
        new = set(now) - set(before)
        # Nothing that was there changed, nothing but whole snapshots appeared.
        assert {k: now[k] for k in before} == before, out[-2000:]
        assert all(SNAPSHOT_RE.match(n) for n in now), now
        assert len(new) <= 1, new
        if new:
            (published,) = new
            assert _snapshot_whole(Store(store).snapshots_dir / published, big_extract), published
            before = now   # once published it stays; later kills must not touch it either
    # A later import of the same extract succeeds and there is exactly one snapshot of it.
    r = subprocess.run(_ingest_cmd(big_extract, store), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    final = _listing(store)
    assert {k: final[k] for k in original} == original
    ids = sorted(set(final) - set(original))
    assert len(ids) == 1 and ids[0].startswith("20220503T170000-"), final
    assert _snapshot_whole(Store(store).snapshots_dir / ids[0], big_extract)
    if published:
        assert ids[0] == published and "không tạo bản mới" in r.stdout
    else:
        assert "Đã tạo snapshot" in r.stdout
    # Leftovers of the killed runs (work folders, locks, derived-cache work) are gone.
    left = [str(p.relative_to(Store(store).tmp_dir)) for p in Store(store).tmp_dir.rglob("*")]
    assert left == [], f"tmp/ leftovers: {left}"
    # The store evaluates (derived facts of the new snapshot complete).
    r = subprocess.run([sys.executable, "-m", "data_access", "rollup", "--store", str(store), "--by", "city",
                        "--format", "csv"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) > 2
