"""A throw-away PostgreSQL server for the tests of the operational store (issue 17).

Why this shape: the tests must run the operational store on PostgreSQL as well as on SQLite,
without a system service and without root at run time. Debian's ``postgresql`` package puts
``initdb`` and ``postgres`` under /usr/lib/postgresql/<major>/bin; we make a cluster in a
temporary folder, listen only on a unix socket inside it (no TCP port to collide with other
test runs on the machine), and stop it at the end of the session. One server per test session;
each test gets its own fresh database (CREATE DATABASE is ~tens of ms on a tiny cluster with
fsync off), so tests never see each other's rows and the suite time grows little.

fsync=off is for speed only: the tests kill clients (kill -9 of a writer), never the server, so
the server's own durability is not what they check.
"""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote


def find_bin(name: str) -> str | None:
    """The newest /usr/lib/postgresql/*/bin/<name>, else one on PATH, else None."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return found[-1] if found else shutil.which(name)


class PgServer:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.user = "tiendo"
        self._n = itertools.count(1)
        self._proc: subprocess.Popen | None = None

    def start(self) -> "PgServer":
        initdb, postgres = find_bin("initdb"), find_bin("postgres")
        if not initdb or not postgres:
            raise RuntimeError("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): "
                               "run .ci/install-system-deps (apt-get install postgresql)")
        self.sock.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        run_as = self._run_as()
        if run_as:
            shutil.chown(self.root, run_as)
            shutil.chown(self.sock, run_as)
        subprocess.run(self._as(run_as, [initdb, "-D", str(self.data), "-U", self.user, "-A", "trust",
                                         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
                       check=True, capture_output=True, env=env)
        self._postgres, self._env, self._user = postgres, env, run_as
        self._launch()
        return self

    def restart(self) -> None:
        """Fast shutdown (clients disconnected, as in a server restart or failover), start again."""
        self.stop()
        self._launch()

    def _launch(self) -> None:
        postgres, env, run_as = self._postgres, self._env, self._user
        self._proc = subprocess.Popen(
            self._as(run_as, [postgres, "-D", str(self.data), "-k", str(self.sock), "-c", "listen_addresses=",
                              "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                              "-c", "max_connections=200", "-c", "shared_buffers=32MB"]),
            stdout=subprocess.DEVNULL, stderr=open(self.root / "server.log", "ab"), env=env)
        deadline = time.monotonic() + 60
        while True:   # wait for the server to accept connections (the event, not a fixed sleep)
            if self._proc.poll() is not None:
                raise RuntimeError("postgres stopped: " + (self.root / "server.log").read_text()[-2000:])
            try:
                self._admin("SELECT 1")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @staticmethod
    def _run_as() -> str | None:
        """postgres refuses to run as root: then run it as an unprivileged system user."""
        if os.geteuid() != 0:
            return None
        for u in ("postgres", "nobody"):
            try:
                import pwd
                pwd.getpwnam(u)
                return u
            except KeyError:
                continue
        raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run the server")

    @staticmethod
    def _as(user: str | None, cmd: list[str]) -> list[str]:
        if not user:
            return cmd
        return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *cmd] \
            if shutil.which("setpriv") else ["su", user, "-s", "/bin/sh", "-c", " ".join(map(quote_sh, cmd))]

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{dbname}?host={quote(str(self.sock), safe='')}"

    def _admin(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as con:
            con.execute(sql)

    def new_database(self) -> str:
        """A fresh empty database; returns its URL."""
        name = f"t{os.getpid()}_{next(self._n)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0 STRATEGY FILE_COPY')
        return self.url(name)

    def new_schema(self) -> str:
        """A fresh empty schema of the ``postgres`` database, as the URL whose search_path
        names it (~15 ms, against ~300 ms for a new database): the tests' default."""
        name = f"t{os.getpid()}_{next(self._n)}"
        self._admin(f'CREATE SCHEMA "{name}"')
        return self.url("postgres") + "&options=" + quote(f"-csearch_path={name}", safe="")

    def drop_database(self, url: str) -> None:
        name = url.split("/")[-1].split("?")[0]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)   # fast shutdown: does not wait for clients
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        self._proc = None


def quote_sh(s: str) -> str:
    import shlex
    return shlex.quote(s)


if __name__ == "__main__":   # manual check: python -m tests.pg_server
    d = Path(tempfile.mkdtemp(prefix="pg-"))
    s = PgServer(d).start()
    t = time.perf_counter()
    for _ in range(5):
        u = s.new_database()
    print("create database: %.3f s each" % ((time.perf_counter() - t) / 5), u)
    s.stop()
    shutil.rmtree(d)
