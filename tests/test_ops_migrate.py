"""`python -m data_access ops migrate --from sqlite:PATH --to postgresql://...` (issue 17): a
running deployment's accounts, sessions, follow-ups, paper register, audit, imports and hidden
snapshots reach PostgreSQL whole (counts and a per-table hash checked at the end), the app then
works on the copy (same login, same session, same register, ids continue), and a non-empty
target is refused unless --force."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from data_access import accounts, imports, ops, ops_db, ops_migrate
from data_access.access import SYSTEM, Viewer
from data_access.store import Store
from tests.snapshot_factory import school, write_store

ROOT = Path(__file__).resolve().parent.parent
KHTC = Viewer("lan.kh", "khtc", display_name="Nguyễn Thị Lan")
ADMIN = Viewer("quantri", "quan_tri")
TODAY = dt.date(2022, 5, 2)
PW = "mat-khau-du-dai-760"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "data_access", "ops", "migrate", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch):
    """A deployment on SQLite with rows in every table of the operational store."""
    monkeypatch.delenv(ops_db.URL_ENV, raising=False)
    snap = {"schools": [school("S1", "THPT", "760"), school("S2", "TH", "761")]}
    root = write_store(tmp_path / "store", [("2022-04-26T17:00:00+07:00", snap),
                                            ("2022-04-27T17:00:00+07:00", snap)])
    ops.add_follow_up(root, KHTC, "S1", "28/04/2022", "điện thoại", note="Hứa gửi 100% «EMIS»",
                      promised_on="30/04/2022", today=TODAY)
    ops.add_follow_up(root, KHTC, "S2", "29/04/2022", "e-mail", today=TODAY)
    rid = ops.add_paper_receipt(root, KHTC, "S1", "EMIS", "28/04/2022", True, False, today=TODAY)
    ops.correct_paper_receipt(root, KHTC, rid, stamped=True, reason="có dấu", today=TODAY)
    accounts.add(root, SYSTEM, "pgd760", "phong_gd", district_code="760", password=PW, email="pgd760@hcm.edu.vn")
    token = accounts.authenticate(root, "pgd760", PW, client="192.0.2.9").token   # known_clients row
    accounts.authenticate(root, "khong.co", "sai")                      # secret_keys row
    older = Store(root).list_snapshots()["snapshot_id"].iloc[0]
    imports.hide_snapshot(root, ADMIN, older, "bản trích xuất sai")
    with ops.transaction(root) as con:
        con.execute("INSERT INTO imports (snapshot_id, created, as_of, imported_at, imported_by, seconds) "
                    "VALUES (?, 1, ?, ?, 'quantri', 12.345678901)",
                    [older, "2022-04-26T17:00:00+07:00", "2022-04-26T18:00:00+07:00"])
    return root, token, older


def test_copy_checked_row_for_row_then_the_app_works_on_postgresql(sqlite_store, pg_server, monkeypatch):
    root, token, hidden = sqlite_store
    before = {t: ops_db.rows(Store(root), f"SELECT * FROM {t}")[1] for t in ops_migrate.TABLES}
    assert all(before.values()), {t: len(r) for t, r in before.items()}   # every table has rows
    url = pg_server.new_schema()
    r = _cli("--from", f"sqlite:{root / 'ops.sqlite'}", "--to", url)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    counts = {ln.split()[0]: (int(ln.split()[1]), int(ln.split()[2])) for ln in lines[1:-1]}
    assert counts == {"accounts": (1, 1), "sessions": (1, 1), "secret_keys": (1, 1), "known_clients": (1, 1),
                      "follow_ups": (2, 2),
                      "paper_receipts": (2, 2), "audit_log": (8, 8), "imports": (1, 1),
                      "hidden_snapshots": (1, 1)}
    assert all(ln.endswith("khớp") for ln in lines[1:-1]) and "khớp từng dòng" in lines[-1]

    monkeypatch.setenv(ops_db.URL_ENV, url)
    try:
        st = Store(root)
        for t in ops_migrate.TABLES:                          # the very rows, value for value
            assert sorted(ops_db.rows(st, f"SELECT * FROM {t}")[1]) == sorted(before[t]), t
        assert accounts.check_session(root, token).viewer.district_code == "760"   # still logged in
        assert accounts.authenticate(root, "pgd760", PW).ok
        assert hidden not in set(st.list_snapshots()["snapshot_id"])
        cur = ops.current_paper_receipts(root)
        assert cur[["school_code", "report_code", "stamped"]].values.tolist() == [["S1", "EMIS", True]]
        # identity counters continue after the copied ids
        assert ops.add_follow_up(root, KHTC, "S1", "30/04/2022", "công văn", today=TODAY) == 3
        # audit: 2 follow-ups, receipt add + correct, account, login ok + failure, hide = 8
        # copied; then the login above (9) and this follow-up (10)
        assert ops.list_audit(root, SYSTEM, limit=1).loc[0, "id"] == 10
    finally:
        ops_db.close_pools()


def test_a_target_with_rows_is_refused_unless_force(sqlite_store, pg_server):
    root, _, _ = sqlite_store
    url = pg_server.new_schema()
    assert _cli("--from", f"sqlite:{root}", "--to", url).returncode == 0
    again = _cli("--from", f"sqlite:{root}", "--to", url)
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.startswith("Lỗi: Cơ sở dữ liệu đích đã có dữ liệu: accounts (1 dòng)")
    assert "--force" in again.stderr
    forced = _cli("--from", f"sqlite:{root}", "--to", url, "--force")
    assert forced.returncode == 0, forced.stderr
    assert re.search(r"^follow_ups +2 +2 ", forced.stdout, re.M)     # emptied first: not 4
    assert forced.stdout.splitlines()[-1] == "Đã chép 18 dòng, 9 bảng: khớp từng dòng."   # + known_clients


def test_bad_source_or_unreachable_target_is_one_clear_line(tmp_path, pg_server):
    r = _cli("--from", f"sqlite:{tmp_path / 'none.sqlite'}", "--to", pg_server.new_schema())
    assert r.returncode == 2 and r.stderr.startswith("Lỗi: Không có tệp") and len(r.stderr.splitlines()) == 1
    (tmp_path / "ops.sqlite").write_bytes(b"")
    r = _cli("--from", f"sqlite:{tmp_path}", "--to", f"postgresql://nobody@/x?host={tmp_path}&connect_timeout=2")
    assert r.returncode == 2 and r.stderr.startswith("Lỗi: không chép được sang PostgreSQL"), r.stderr
    assert "Không kết nối được" in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_the_digest_sees_one_changed_value_and_not_the_row_order():
    cols = ["id", "note", "seconds"]
    rows = [(1, "a", 1.5), (2, None, None)]
    assert ops_migrate.digest(cols, rows) == ops_migrate.digest(cols, list(reversed(rows)))
    assert ops_migrate.digest(cols, rows) != ops_migrate.digest(cols, [(1, "a", 1.5), (2, "", None)])
    assert ops_migrate.digest(cols, rows) != ops_migrate.digest(cols, [(1, "a", 1.5000001), (2, None, None)])
