"""Shared fixtures. The generated demo series is built once per test session (seconds) and
imported through the real CLI, so tests see exactly what a user's `make run` sees."""
from __future__ import annotations

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
