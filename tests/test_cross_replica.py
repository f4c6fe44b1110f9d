"""Two dashboard processes on one operational store (issue 17): what one writes, the other
notices within the bound, although it remembers what it read (data_access.file_memo).

Process B (a subprocess: another replica) first reads everything a replica keeps between page
runs: the session of a logged-in account, the store's data version (the paper register's
version is part of the engine's and the page caches' keys), the list of visible snapshots (the
hidden set comes from the operational store). Then this process (replica A) disables the
account, records a paper copy and hides a snapshot, and B reports when it sees each: it polls
every 10 ms and waits on the event with a deadline, never a fixed sleep.

The bound: on PostgreSQL nothing tells B that A wrote, so B re-reads a remembered value once it
is older than ops_db.PG_MAX_AGE (1 s); queries.evaluation rechecks its key after 0.25 s more,
then a page run: within the 2 s the issue asks. The test allows 1.5 s here (1 s + a loaded
machine). On SQLite the files' change is seen at the next stat. Before PG_MAX_AGE the values
were kept 2 s (file_memo.MAX_AGE) and B saw the new register version ~1.95 s after the write:
this test failed.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from data_access import accounts, imports, ops, ops_db
from data_access.access import SYSTEM, Viewer
from data_access.store import Store
from tests.snapshot_factory import school, write_store

ROOT = Path(__file__).resolve().parent.parent
KHTC = Viewer("lan.kh", "khtc", display_name="Nguyễn Thị Lan")
TODAY = dt.date(2022, 5, 2)
BOUND = 1.5   # seconds, see the module docstring

READER = textwrap.dedent("""
    import json, sys, time
    from data_access import accounts, ops
    from data_access.store import Store
    store, token, hide = sys.argv[1], sys.argv[2], sys.argv[3]
    st = Store(store)
    # what a replica remembers between page runs, read once before the other replica writes
    assert accounts.check_session(store, token).viewer is not None
    v0 = ops.data_version(store)
    assert hide in set(st.list_snapshots()["snapshot_id"])
    n0 = len(ops.list_paper_receipts(store, accounts.SYSTEM_ACTOR))
    print("ready", flush=True)
    seen, deadline = {}, time.monotonic() + 20
    while len(seen) < 4 and time.monotonic() < deadline:
        t = time.time()
        if "disabled" not in seen and accounts.check_session(store, token).reason == "disabled":
            seen["disabled"] = t
        if "register_version" not in seen and ops.register_version(store) != v0[1]:
            seen["register_version"] = t
        if "receipt_listed" not in seen and len(ops.list_paper_receipts(store, accounts.SYSTEM_ACTOR)) > n0:
            seen["receipt_listed"] = t
        if "hidden" not in seen and hide not in set(st.list_snapshots()["snapshot_id"]):
            seen["hidden"] = t
        time.sleep(0.01)
    print(json.dumps(seen), flush=True)
""")


@pytest.fixture()
def store(tmp_path) -> Path:
    snap = {"schools": [school("S1", "THPT", "760"), school("S2", "TH", "761")]}
    return write_store(tmp_path / "store", [("2022-04-25T17:00:00+07:00", snap),
                                            ("2022-04-27T17:00:00+07:00", snap)])


def test_other_process_sees_writes_within_the_bound(store, ops_backend):
    accounts.add(store, SYSTEM, "lan.kh", "khtc", display_name="Nguyễn Thị Lan", password="mat-khau-dai-12345")
    token = accounts.open_session(store, "lan.kh")
    older = Store(store).list_snapshots()["snapshot_id"].iloc[0]
    b = subprocess.Popen([sys.executable, "-c", READER, str(store), token, older], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = b.stdout.readline()   # the event: B has read and remembers
        assert line.strip() == "ready", b.stderr.read()
        wrote = {}
        accounts.set_disabled(store, SYSTEM, "lan.kh", True)
        wrote["disabled"] = time.time()
        ops.add_paper_receipt(store, KHTC, "S1", "EMIS", "28/04/2022", True, True, today=TODAY)
        wrote["register_version"] = wrote["receipt_listed"] = time.time()
        imports.hide_snapshot(store, SYSTEM, older, "bản trích xuất sai (kiểm thử)")
        wrote["hidden"] = time.time()
        out, err = b.communicate(timeout=60)
    finally:
        if b.poll() is None:
            b.kill()
            b.wait(10)
    assert b.returncode == 0, err
    seen = json.loads(out.strip().splitlines()[-1])
    assert set(seen) == set(wrote), f"not seen by the other process in 20 s: {set(wrote) - set(seen)}"
    late = {k: round(seen[k] - wrote[k], 3) for k in wrote}
    print("seen after (s):", late, ops_db.dialect())
    assert all(v <= BOUND for v in late.values()), late
