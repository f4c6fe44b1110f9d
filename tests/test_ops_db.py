"""data_access.ops_db (issue 17): the operational store's one module for both dialects —
versioned migrations (an ops.sqlite made before them upgrades in place and keeps its rows; a
new migration is applied once), the same tables and columns on SQLite and PostgreSQL, and the
placeholder translation."""
from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest

from data_access import accounts, ops, ops_db
from data_access.access import SYSTEM, Viewer
from data_access.store import Store
from tests import ops_backend as ob
from tests.snapshot_factory import school, write_store

ROOT = Path(__file__).resolve().parent.parent
# Written by the code of main at 339c2a5 (before migrations): 2 follow-ups, a receipt corrected
# once and another one, a download, an account with a session, 2 login lines (9 audit lines).
# Its tables imports and hidden_snapshots were never created (that code made them lazily).
BEFORE = ROOT / "tests" / "fixtures" / "ops" / "ops_made_before_migrations.sqlite"
KHTC = Viewer("lan.kh", "khtc", display_name="Nguyễn Thị Lan")
TODAY = dt.date(2022, 5, 2)


def _store(tmp_path) -> Path:
    return write_store(tmp_path / "store", [("2022-04-27T17:00:00+07:00", {
        "schools": [school("S1", "THPT", "760"), school("S2", "TH", "761"), school("S3", "MN", "760")]})])


def test_an_ops_sqlite_made_before_migrations_upgrades_in_place_and_keeps_its_rows(tmp_path, monkeypatch):
    monkeypatch.delenv(ops_db.URL_ENV, raising=False)
    root = _store(tmp_path)
    shutil.copy(BEFORE, Store(root).ops_path)
    ops_db.forget()
    f = ops.list_follow_ups(root, SYSTEM)
    notes = [n if isinstance(n, str) else None for n in f["note"]]
    assert list(zip(f["id"], f["school_code"], notes)) == [(2, "S3", None), (1, "S1", "Hứa gửi «EMIS» 100%")]
    assert f.loc[1, "promised_on"] == dt.date(2022, 4, 30)
    cur = ops.list_paper_receipts(root, SYSTEM)
    assert list(zip(cur["receipt_id"], cur["version"], cur["report_code"], cur["stamped"])) == [
        (2, 1, "EQMS", True), (1, 2, "EMIS", True)]
    assert len(ops.list_audit(root, SYSTEM, limit=100)) == 9
    assert accounts.authenticate(root, "pgd760", "mat-khau-du-dai-760").ok
    con = sqlite3.connect(Store(root).ops_path)
    try:
        assert con.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall() == [
            (1, "initial"), (2, "known_clients")]
        assert con.execute("PRAGMA user_version").fetchone()[0] == 2
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"imports", "hidden_snapshots", "schema_version"} <= tables   # created by migration 1
        assert "known_clients" in tables                                    # by migration 2
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()
    # new writes continue the old ids
    assert ops.add_follow_up(root, KHTC, "S1", "30/04/2022", "công văn", today=TODAY) == 3
    assert ops.add_paper_receipt(root, KHTC, "S2", "EMIS", "30/04/2022", True, True, today=TODAY) == 3
    assert len(ops.list_audit(root, SYSTEM, limit=100)) == 12   # + login.success above + 2 adds


@pytest.mark.usefixtures("ops_backend")
def test_a_new_migration_is_applied_once_on_top_of_the_existing_rows(tmp_path, ops_backend):
    root = _store(tmp_path)
    ops.add_follow_up(root, KHTC, "S1", "28/04/2022", "e-mail", note="trước", today=TODAY)
    folder = tmp_path / "migrations"
    d = ops_db.dialect()
    (folder / d).mkdir(parents=True)
    for f in (ops_db.MIGRATIONS / d).glob("*.sql"):          # the real ones, then one more
        shutil.copy(f, folder / d / f.name)
    nxt = ops_db.latest_version(d) + 1
    (folder / d / f"{nxt:04d}_follow_up_outcome.sql").write_text(
        "-- a later change\nALTER TABLE follow_ups ADD COLUMN outcome TEXT;\n"
        "UPDATE follow_ups SET outcome = 'chưa rõ' WHERE outcome IS NULL;\n", encoding="utf-8")
    st = Store(root)
    assert ops_db.migrate(st, folder) == [nxt]
    assert ops_db.migrate(st, folder) == []
    assert ops_db.rows(st, "SELECT version FROM schema_version ORDER BY version")[1] == [
        (v,) for v in range(1, nxt + 1)]
    assert ops_db.rows(st, "SELECT note, outcome FROM follow_ups")[1] == [("trước", "chưa rõ")]


def _sqlite_columns(path: Path) -> dict[str, list[tuple[str, bool]]]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: [(r[1], bool(r[3]) or bool(r[5])) for r in con.execute(f"PRAGMA table_info({t})")]
                for t in tables}
    finally:
        con.close()


def test_both_dialects_have_the_same_tables_columns_and_indexes(tmp_path, pg_server, monkeypatch):
    monkeypatch.delenv(ops_db.URL_ENV, raising=False)
    lite = Store(tmp_path / "lite")
    ops_db.migrate(lite)
    want = _sqlite_columns(lite.ops_path)
    con = sqlite3.connect(lite.ops_path)
    want_idx = sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                                "AND name NOT LIKE 'sqlite_%'"))
    con.close()
    monkeypatch.setenv(ops_db.URL_ENV, pg_server.new_schema())
    try:
        pg = Store(tmp_path / "pg")
        ops_db.migrate(pg)
        _, cols = ops_db.rows(pg, "SELECT table_name, column_name, is_nullable = 'NO' FROM information_schema.columns "
                                  "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")
        got: dict[str, list] = {}
        for t, c, notnull in cols:
            got.setdefault(t, []).append((c, bool(notnull)))
        _, idx = ops_db.rows(pg, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                                 "AND indexname NOT LIKE '%%_pkey' AND indexname NOT LIKE '%%_key'")
        # NOT NULL: SQLite reports a primary key column as nullable unless declared; compare
        # names and order always, NOT NULL except on primary keys
        assert sorted(got) == sorted(want)
        for t in want:
            assert [c for c, _ in got[t]] == [c for c, _ in want[t]], t
        assert sorted(r[0] for r in idx) == want_idx
        assert len(want) == 10 and {"schema_version", "known_clients"} <= set(want)
    finally:
        ops_db.close_pools()


def test_placeholders_become_psycopgs_outside_quotes_and_comments():
    sql = "SELECT '?', \"a?\", x FROM t WHERE a = ? AND b LIKE 'x%' -- why?\nAND c = ?"
    assert ops_db.to_pg(sql) == ("SELECT '?', \"a?\", x FROM t WHERE a = %s AND b LIKE 'x%%' -- why?\n"
                                 "AND c = %s")
    assert ops_db.to_pg("SELECT 'it''s ?' , ?") == "SELECT 'it''s ?' , %s"


def test_a_url_that_is_not_postgresql_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setenv(ops_db.URL_ENV, "mysql://x@y/z")
    with pytest.raises(ops_db.OpsStoreError, match="TIENDO_OPS_URL=.*postgresql://"):
        ops_db.url()


def test_writes_go_on_after_the_postgresql_server_restarts(tmp_path, pg_server, monkeypatch):
    """A restart (or failover) of the server drops every pooled connection: the next write
    of a running dashboard must get a new connection, not an error. (PostgreSQL only: SQLite
    has no server.)"""
    monkeypatch.setenv(ops_db.URL_ENV, pg_server.new_schema())
    root = _store(tmp_path)
    ops.add_follow_up(root, KHTC, "S1", "28/04/2022", "e-mail", note="trước", today=TODAY)
    pg_server.restart()
    ops.add_follow_up(root, KHTC, "S1", "29/04/2022", "e-mail", note="sau", today=TODAY)
    try:
        assert [n for n in ops.list_follow_ups(root, SYSTEM)["note"]] == ["sau", "trước"]
    finally:
        ops_db.close_pools()
