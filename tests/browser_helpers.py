"""Shared helpers for tests and benches that drive the real dashboard: start `streamlit run
dashboard.py` on 127.0.0.1 (free port, health poll, always stopped), launch Debian's Chromium
through Playwright, and the Streamlit 1.67 DOM hooks (internal attributes: kept in one place).

Why one module: the browser test, the multi-process test and bench/load_test.py must agree on
how the app is started and on what "idle" means; a Streamlit upgrade then changes one file.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Iterator

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]

# Streamlit 1.67 DOM hooks.
IDLE = ("[data-testid='stApp'][data-test-script-state='notRunning']"
        "[data-test-connection-state='CONNECTED']")
EXCEPTION = "[data-testid='stException']"
NAV_LINK = "[data-testid='stSidebarNavLink']"
PAGE_LINK = "[data-testid='stPageLink-NavLink']"
METRIC_VALUE = "[data-testid='stMetricValue']"
CAPTION = "[data-testid='stCaptionContainer']"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(base: str, timeout: float = 1.0) -> bool:
    try:
        return urllib.request.urlopen(f"{base}/_stcore/health", timeout=timeout).read() == b"ok"
    except OSError:
        return False


def streamlit_cmd(port: int, extra_args: tuple[str, ...] = (), app_dir: str | Path = ROOT) -> list[str]:
    # serve.py = `streamlit run dashboard.py` with the pages/ folder routing off before the
    # first session (a pasted link's first session otherwise gets "Page not found"); an older
    # checkout without it (bench/load_test.py --app-dir) runs as before.
    start = ["serve.py"] if (Path(app_dir) / "serve.py").exists() else ["-m", "streamlit", "run", "dashboard.py"]
    return [sys.executable, *start, "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra_args]


@contextlib.contextmanager
def streamlit_server(store: str | Path, log: IO | None = None, start_timeout: float = 60.0,
                     env: dict | None = None, app_dir: str | Path = ROOT,
                     extra_args: tuple[str, ...] = ()) -> Iterator[tuple[str, subprocess.Popen]]:
    """(base URL, process) of a dashboard on a free port of 127.0.0.1 reading ``store``
    (``app_dir``: the project folder holding dashboard.py; ``env`` values of None remove that
    variable); terminated (then killed) on exit, whatever happens inside."""
    if (env or {}).get("TIENDO_VIEWER"):
        # The login bypass works only on a store marked as a test store (or the demo store):
        # a test or bench that asks for it marks its store, explicitly (data_access.store_kind).
        from data_access.store_kind import mark_test_store
        mark_test_store(store)
    port = free_port()
    out = log if log is not None else subprocess.DEVNULL
    full_env = {**os.environ, **(env or {}), "TIENDO_STORE": str(store)}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    proc = subprocess.Popen(streamlit_cmd(port, extra_args, app_dir), cwd=app_dir, stdout=out, stderr=out,
                            env=full_env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while not health(base):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode} before answering")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer {base}/_stcore/health in {start_timeout:.0f} s")
            time.sleep(0.2)
        yield base, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def rss_mb(pid: int) -> float:
    """Resident memory of a process (MB) from /proc; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (s) from /proc; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def require_chromium() -> None:
    """Fail (never skip) without Debian's Chromium: CI installs it (.ci/run)."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"


def launch_chromium(playwright):
    """Headless Debian Chromium (sync or async Playwright object)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
