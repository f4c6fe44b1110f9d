"""Shared fixtures. The generated demo series is built once per test session (seconds) and
imported through the real CLI, so tests see exactly what a user's `make run` sees."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """A store holding the whole generated demo series (11 snapshots: 9 regular and one at each record cut-off), derived facts precomputed."""
    base = tmp_path_factory.mktemp("demo")
    extracts, store = base / "extracts", base / "store"
    subprocess.run([sys.executable, "-m", "sample_data.generate", "--scale", "demo", "--out", str(extracts),
                    "--quiet"], cwd=ROOT, check=True)
    for folder in sorted(p for p in extracts.iterdir() if p.is_dir()):
        subprocess.run([sys.executable, "-m", "data_access", "ingest", str(folder), "--store", str(store)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return store


# ---- the operational store on both dialects (issue 17) ------------------------------------------
# A test module that uses `ops_backend` (or a fixture that depends on it) runs every test twice:
# [sqlite] with ops.sqlite in the store folder (the embedded default) and [postgresql] with
# TIENDO_OPS_URL naming a fresh schema of one throw-away server started once per session
# (tests/pg_server.py). Subprocesses started by the test inherit the variable.

@pytest.fixture(scope="session")
def pg_server():
    import shutil
    import tempfile

    from data_access import ops_db
    from tests.pg_server import PgServer
    root = Path(tempfile.mkdtemp(prefix="tiendo-pg-"))   # short: the unix socket lives inside
    server = PgServer(root).start()
    try:
        yield server
    finally:
        ops_db.close_pools()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


class OpsBackend:
    """Which operational store a test runs on, and how to give a second store its own."""

    def __init__(self, name: str, monkeypatch, server=None):
        self.name, self._mp, self._server = name, monkeypatch, server
        self.url = self._fresh() if name == "postgresql" else None

    def _fresh(self) -> str:
        from data_access import file_memo
        url = self._server.new_schema()
        self._mp.setenv("TIENDO_OPS_URL", url)
        file_memo.bump()
        return url

    @property
    def is_pg(self) -> bool:
        return self.name == "postgresql"

    def separate(self):
        """Within the block, another (empty) operational store: on SQLite every store folder
        has its own ops.sqlite already; on PostgreSQL one URL is one store, so the block gets a
        fresh schema and the test's own is back afterwards."""
        import contextlib

        @contextlib.contextmanager
        def cm():
            if not self.is_pg:
                yield None
                return
            from data_access import file_memo
            url = self._fresh()
            try:
                yield url
            finally:
                self._mp.setenv("TIENDO_OPS_URL", self.url)
                file_memo.bump()
        return cm()


# ---- the whole suite on PostgreSQL (issue 17: "the full suite passes with TIENDO_OPS_URL set") ----
# `make test-pg` (TIENDO_TEST_OPS=postgresql) starts the throw-away server; a TIENDO_OPS_URL set
# when pytest starts names a server of the caller's (its user may CREATE DATABASE). Either way
# every test gets a fresh schema of that server as TIENDO_OPS_URL (tests must not see each
# other's accounts or audit), subprocesses included; tests parametrised by `ops_backend` keep
# running both dialects, and a test marked `sqlite_ops` is about the embedded file itself.
_GIVEN_OPS_URL = os.environ.pop("TIENDO_OPS_URL", None)
PG_EVERYWHERE = bool(_GIVEN_OPS_URL) or os.environ.get("TIENDO_TEST_OPS") == "postgresql"


def pytest_configure(config):
    config.addinivalue_line("markers", "ops_per_module: the module's tests share one operational store "
                            "(a module-scoped store fixture writes to it) in the suite-on-PostgreSQL mode")
    config.addinivalue_line("markers", "sqlite_ops: about the embedded ops.sqlite itself; runs without "
                            "TIENDO_OPS_URL in the suite-on-PostgreSQL mode")


def pytest_report_header(config):
    if PG_EVERYWHERE:
        return ("operational store: PostgreSQL for every test (" +
                ("TIENDO_OPS_URL given" if _GIVEN_OPS_URL else "throw-away server, TIENDO_TEST_OPS=postgresql") + ")")
    return "operational store: ops.sqlite (embedded default)"


class _GivenServer:
    """A PostgreSQL named by the caller: a fresh schema per test, made through its URL (its
    user needs CREATE on that database, not CREATEDB)."""

    def __init__(self, url: str):
        import itertools
        self._url, self._n = url, itertools.count(1)

    def new_schema(self) -> str:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
        name = f"tiendo_t{os.getpid()}_{next(self._n)}"
        with psycopg.connect(self._url, autocommit=True, connect_timeout=10) as con:
            con.execute(f'CREATE SCHEMA "{name}"')
        return make_conninfo(**{**conninfo_to_dict(self._url), "options": f"-csearch_path={name}"})


@pytest.fixture(scope="session")
def _suite_pg(request):
    if _GIVEN_OPS_URL:
        yield _GivenServer(_GIVEN_OPS_URL)
    else:
        yield request.getfixturevalue("pg_server")


@pytest.fixture(scope="module", autouse=True)
def _ops_store_of_the_module(request):
    """A module whose module-scoped store fixture writes to the operational store (a follow-up,
    an account) is marked ``ops_per_module``: its tests share one schema, as they share that
    store's ops.sqlite without PostgreSQL. Autouse: set before the module's other fixtures."""
    if not PG_EVERYWHERE or not request.node.get_closest_marker("ops_per_module"):
        yield
        return
    from data_access import file_memo, ops_db
    mp = pytest.MonkeyPatch()
    mp.setenv("TIENDO_OPS_URL", request.getfixturevalue("_suite_pg").new_schema())
    file_memo.bump()
    yield
    ops_db.close_pools()
    mp.undo()
    file_memo.bump()


@pytest.fixture(autouse=True)
def _ops_store_of_the_suite(request, monkeypatch):
    if not PG_EVERYWHERE or "ops_backend" in request.fixturenames or \
            request.node.get_closest_marker("sqlite_ops") or request.node.get_closest_marker("ops_per_module"):
        yield
        return
    from data_access import file_memo, ops_db
    monkeypatch.setenv("TIENDO_OPS_URL", request.getfixturevalue("_suite_pg").new_schema())
    file_memo.bump()
    yield
    ops_db.close_pools()
    file_memo.bump()


@pytest.fixture(params=["sqlite", "postgresql"])
def ops_backend(request, monkeypatch):
    from data_access import file_memo, ops_db
    monkeypatch.delenv("TIENDO_OPS_URL", raising=False)
    server = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    backend = OpsBackend(request.param, monkeypatch, server)
    yield backend
    if backend.is_pg:
        ops_db.close_pools()
    file_memo.bump()
