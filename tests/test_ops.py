"""Operational store: durable writes across processes, concurrent writers, refused receipts,
corrections with history, the audit trail, and the paper-copy register counted by the engine.
Every test runs on both operational stores (ops_backend: [sqlite] and [postgresql], issue 17)."""
from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from data_access import ops
from data_access.access import SYSTEM, Viewer
from data_access.evaluate import evaluate
from data_access.store import Store
from tests import ops_backend as ob
from tests.snapshot_factory import school, write_store

pytestmark = pytest.mark.usefixtures("ops_backend")

ROOT = Path(__file__).resolve().parent.parent
KHTC = Viewer("lan.kh", "khtc", display_name="Nguyễn Thị Lan")
Q1 = Viewer("pgd760", "phong_gd", district_code="760")
TODAY = dt.date(2022, 5, 2)


def _snap(extra_paper=None):
    return {"schools": [school("S1", "THPT", "760"), school("S2", "TH", "761"),
                        school("S3", "MN", "760")],
            "paper_copies": extra_paper or []}


@pytest.fixture()
def store(tmp_path) -> Path:
    return write_store(tmp_path / "store", [("2022-04-27T17:00:00+07:00", _snap())])


def _run(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _count(store: Path, table: str) -> int:
    return ob.count(store, table)


def test_writes_survive_a_new_process(store, ops_backend):
    _run(f"""
        import datetime as dt
        from data_access import ops
        from data_access.access import Viewer
        v = Viewer("lan.kh", "khtc")
        ops.add_follow_up({str(store)!r}, v, "S1", dt.date(2022, 4, 28), "điện thoại",
                          contact_person="Thầy Bình", note="Hứa gửi EMIS", promised_on="30/04/2022")
        ops.add_paper_receipt({str(store)!r}, v, "S2", "EQMS", "29/04/2022", True, True, note="Bản gốc")
    """)
    out = _run(f"""
        from data_access import ops
        from data_access.access import SYSTEM
        f = ops.list_follow_ups({str(store)!r}, SYSTEM)
        r = ops.current_paper_receipts({str(store)!r})
        print(f.loc[0, "school_code"], f.loc[0, "channel"], f.loc[0, "promised_on"].isoformat(), f.loc[0, "note"])
        print(r.loc[0, "school_code"], r.loc[0, "report_code"], r.loc[0, "received_on"].isoformat(), r.loc[0, "signed"])
    """)
    assert out.splitlines() == ["S1 điện thoại 2022-04-30 Hứa gửi EMIS", "S2 EQMS 2022-04-29 True"]
    if ops_backend.is_pg:     # nothing went to a file: the rows are in the server's database
        assert not Store(store).ops_path.exists() and _count(store, "follow_ups") == 1
    else:
        con = sqlite3.connect(Store(store).ops_path)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        con.close()


def test_concurrent_writers_from_two_processes_both_land(store):
    code = """
        import datetime as dt, sys
        from data_access import ops
        from data_access.access import Viewer
        v = Viewer(sys.argv[1], "khtc")
        for i in range(25):
            ops.add_follow_up({store!r}, v, "S1", dt.date(2022, 4, 28), "e-mail", note=f"{{sys.argv[1]}} {{i}}")
            ops.audit({store!r}, v, "download", object=f"f{{i}}.xlsx", rows=i)
    """.format(store=str(store))
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), name], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    f = ops.list_follow_ups(store, SYSTEM)
    assert len(f) == 50
    assert sorted(f["recorded_by"].value_counts().items()) == [("a", 25), ("b", 25)]
    assert len(ops.list_audit(store, SYSTEM, limit=1000, action="download")) == 50


@pytest.mark.parametrize("args, message", [
    (("S9", "EMIS", "28/04/2022"), "Không có trường mã «S9»"),
    (("S1", "XYZ", "28/04/2022"), "Không có báo cáo mã «XYZ»"),
    (("S1", "EQMS", "28/04/2022"), "Báo cáo EQMS không áp dụng"),       # THPT has no EQMS
    (("S1", "EMIS", "03/05/2022"), "Ngày nhận 03/05/2022 ở tương lai"),
    (("S1", "EMIS", "31/02/2022"), "Ngày nhận không hợp lệ"),
])
def test_invalid_receipt_refused_and_nothing_written(store, args, message):
    with pytest.raises(ops.OpsError, match=message):
        ops.add_paper_receipt(store, KHTC, *args, signed=True, stamped=True, today=TODAY)
    assert _count(store, "paper_receipts") == 0
    assert _count(store, "audit_log") == 0


def test_duplicate_receipt_refused(store):
    rid = ops.add_paper_receipt(store, KHTC, "S1", "EMIS", "28/04/2022", True, True, today=TODAY)
    before = (_count(store, "paper_receipts"), _count(store, "audit_log"))
    with pytest.raises(ops.OpsError, match=rf"Đã ghi nhận bản giấy EMIS .* 28/04/2022 \(phiếu số {rid}\)"):
        ops.add_paper_receipt(store, KHTC, "S1", "EMIS", "28/04/2022", False, True, today=TODAY)
    with pytest.raises(ops.OpsError, match="đã có bản giấy EMIS hợp lệ"):
        ops.add_paper_receipt(store, KHTC, "S1", "EMIS", "30/04/2022", True, True, today=TODAY)
    assert (_count(store, "paper_receipts"), _count(store, "audit_log")) == before
    # An unsigned copy then a proper one on another day: both are receipts.
    ops.add_paper_receipt(store, KHTC, "S1", "CSVC", "28/04/2022", False, True, today=TODAY)
    ops.add_paper_receipt(store, KHTC, "S1", "CSVC", "29/04/2022", True, True, today=TODAY)
    assert len(ops.current_paper_receipts(store)) == 3


def test_only_planning_office_registers_paper_copies(store):
    with pytest.raises(ops.OpsError, match="Chỉ Phòng Kế hoạch"):
        ops.add_paper_receipt(store, Q1, "S1", "EMIS", "28/04/2022", True, True, today=TODAY)
    with pytest.raises(ops.OpsError, match="không thuộc quận/huyện"):
        ops.add_follow_up(store, Q1, "S2", "28/04/2022", "điện thoại", today=TODAY)
    ops.add_follow_up(store, Q1, "S3", "28/04/2022", "điện thoại", today=TODAY)
    ops.add_follow_up(store, KHTC, "S2", "28/04/2022", "công văn", today=TODAY)
    assert list(ops.list_follow_ups(store, Q1)["school_code"]) == ["S3"]   # scope in SQL
    assert len(ops.list_follow_ups(store, KHTC)) == 2


def test_correction_keeps_history(store):
    rid = ops.add_paper_receipt(store, KHTC, "S1", "EMIS", "28/04/2022", True, False, today=TODAY)
    other = Viewer("minh.kh", "khtc")
    with pytest.raises(ops.OpsError, match="lý do"):
        ops.correct_paper_receipt(store, other, rid, stamped=True, reason=" ", today=TODAY)
    v = ops.correct_paper_receipt(store, other, rid, stamped=True, received_on="27/04/2022",
                                  reason="Nhập nhầm: bản giấy có đóng dấu", today=TODAY)
    assert v == 2
    h = ops.receipt_history(store, SYSTEM, rid)
    assert list(h["version"]) == [1, 2]
    assert list(h["stamped"]) == [False, True]
    assert list(h["received_on"]) == [dt.date(2022, 4, 28), dt.date(2022, 4, 27)]
    assert list(h["recorded_by"]) == ["lan.kh", "minh.kh"]
    assert h.loc[1, "reason"] == "Nhập nhầm: bản giấy có đóng dấu"
    cur = ops.current_paper_receipts(store)
    assert cur.to_dict("records") == [{"school_code": "S1", "report_code": "EMIS",
                                       "received_on": dt.date(2022, 4, 27), "signed": True, "stamped": True}]
    a = ops.list_audit(store, SYSTEM)
    assert list(a["action"]) == ["paper_receipt.correct", "paper_receipt.add"]
    assert "stamped" in a.loc[0, "detail"] and a.loc[0, "username"] == "minh.kh"
    # withdrawn: kept in history, no longer in force
    ops.correct_paper_receipt(store, KHTC, rid, withdrawn=True, reason="Nhập nhầm trường", today=TODAY)
    assert ops.current_paper_receipts(store).empty
    assert len(ops.receipt_history(store, SYSTEM, rid)) == 3


def test_audit_never_stores_passwords(store):
    ops.audit(store, KHTC, "login", detail={"password": "secret123", "mat_khau": "x", "ip": "10.0.0.1"})
    d = ops.list_audit(store, SYSTEM).loc[0, "detail"]
    assert "secret123" not in d and "mat_khau" not in d and "10.0.0.1" in d


def test_reading_does_not_create_the_store_file(tmp_path):
    s = write_store(tmp_path / "s", [("2022-04-27T17:00:00+07:00", _snap())])
    assert ops.current_paper_receipts(s).empty
    assert ops.list_follow_ups(s, SYSTEM).empty
    assert not Store(s).ops_path.exists()


def _paper(store, code, req, as_of=None):
    ev = evaluate(store, as_of)
    try:
        return ev.df("SELECT status, completed_at, days_late FROM progress "
                     "WHERE school_code = ? AND requirement_id = ?", [code, req]).iloc[0]
    finally:
        ev.close()


def test_register_receipt_counts_and_survives_a_newer_snapshot(tmp_path):
    unsigned = {"school_code": "S1", "report_code": "EMIS", "received_on": "27/04/2022",
                "signed": "Không", "stamped": "Có"}
    root = write_store(tmp_path / "st", [("2022-04-27T17:00:00+07:00", _snap([unsigned]))])
    assert _paper(root, "S1", "PAPER_EMIS").status == "in_progress"
    ev = evaluate(root)
    assert ev.df("SELECT count(*) AS n FROM findings WHERE rule_id = 'PAPER_UNSIGNED'").n[0] == 1
    ev.close()

    ops.add_paper_receipt(root, KHTC, "S1", "EMIS", "28/04/2022", True, True, today=TODAY)
    # Not yet counted at 27/04 (received later), but the snapshot is all there is: in progress.
    assert _paper(root, "S1", "PAPER_EMIS").status == "in_progress"

    # A newer extract without any paper copy: the register's receipt still counts, on time.
    write_store(root, [("2022-04-30T17:00:00+07:00", _snap())])
    p = _paper(root, "S1", "PAPER_EMIS")
    assert p.status == "done_on_time"
    assert p.completed_at == pd.Timestamp("2022-04-28T00:00:00+07:00")
    ev = evaluate(root)
    assert ev.df("SELECT count(*) AS n FROM findings WHERE entity = 'paper_copy'").n[0] == 0
    # the history keeps each snapshot's own view: at 27/04 it was not done
    h = ev.df("SELECT as_of, done FROM progress_history WHERE school_code = 'S1' "
              "AND requirement_id = 'PAPER_EMIS' ORDER BY as_of")
    assert list(h.done) == [0, 1]
    ev.close()
    # Other institutions are untouched; an earlier extract receipt wins over a later register one.
    assert _paper(root, "S2", "PAPER_EMIS").status == "overdue"


def test_earliest_valid_receipt_counts(tmp_path):
    late_valid = {"school_code": "S1", "report_code": "CSVC", "received_on": "02/05/2022",
                  "signed": "Có", "stamped": "Có"}
    root = write_store(tmp_path / "st", [("2022-05-02T17:00:00+07:00", _snap([late_valid]))])
    assert _paper(root, "S1", "PAPER_CSVC").status == "done_late"
    ops.add_paper_receipt(root, KHTC, "S1", "CSVC", "27/04/2022", True, True, today=TODAY)
    p = _paper(root, "S1", "PAPER_CSVC")
    assert (p.status, p.completed_at) == ("done_on_time", pd.Timestamp("2022-04-27T00:00:00+07:00"))


def test_many_writers_creating_the_store_at_once(tmp_path, ops_backend):
    """Servers and the CLI started together all create ops.sqlite and switch it to WAL; the
    switch can find the file locked by another, which SQLite reports at once instead of
    waiting: every one of them must get a ready store, none an error (100 new stores, 6
    writers each, all starting at the same moment)."""
    import threading
    if ops_backend.is_pg:
        return _many_writers_migrating_postgres_at_once(tmp_path, ops_backend)
    errors, rounds = [], 100
    for r in range(rounds):
        path = tmp_path / f"s{r}" / "ops.sqlite"
        start = threading.Barrier(6)

        def create():
            try:
                start.wait()
                ops._ensure_schema(path)
            except Exception as e:  # noqa: BLE001 - counted
                errors.append(repr(e))

        threads = [threading.Thread(target=create) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == ops.SCHEMA_VERSION
        con.close()
    assert errors == []


def _many_writers_migrating_postgres_at_once(tmp_path, ops_backend):
    """The same on PostgreSQL: 6 threads (each its own pooled connection) apply the migrations
    of a fresh schema at the same moment, 10 times; each migration is applied exactly once."""
    import threading

    from data_access import ops_db
    errors = []
    for r in range(10):
        with ops_backend.separate():
            st = Store(tmp_path / f"s{r}")
            start = threading.Barrier(6)
            applied = []

            def create():
                try:
                    start.wait()
                    applied.extend(ops_db.migrate(st))
                except Exception as e:  # noqa: BLE001 - counted
                    errors.append(repr(e))

            threads = [threading.Thread(target=create) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert sorted(applied) == list(range(1, ops.SCHEMA_VERSION + 1))
            assert ob.count(st.root, "schema_version") == ops.SCHEMA_VERSION
    assert errors == []
