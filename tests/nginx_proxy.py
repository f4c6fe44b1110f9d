"""nginx in front of dashboard replicas, for tests and the load test: the configuration of
deploy/nginx/tiendo.conf itself, with only the addresses and file paths replaced (issue 17).

Why generated from deploy/ and not a second copy: the test must fail when the shipped file is
wrong (no WebSocket upgrade, no stickiness, a body limit below the app's). nginx runs as the
current user (as root: workers as root too, so they can use the temporary folder) with a
temporary prefix, in the foreground (``-g 'daemon off;'``), pid and logs in that folder; it is
always stopped by the context manager.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_CONF = ROOT / "deploy" / "nginx" / "tiendo.conf"
# Test only: which replica answered, as a response header (the deployed file logs it instead).
TEST_HEADER = "X-Tiendo-Upstream"


def nginx_bin() -> str:
    """Debian's /usr/sbin/nginx (not on a user's PATH), else one on PATH."""
    for p in ("/usr/sbin/nginx", shutil.which("nginx")):
        if p and os.access(p, os.X_OK):
            return p
    raise AssertionError("nginx is missing: apt-get install nginx (.ci/install-system-deps does)")


def render(replicas: list[str], listen_port: int, prefix: Path, conf_text: str | None = None) -> str:
    """A whole nginx.conf: deploy/nginx/tiendo.conf inside http {}, its upstream listing
    ``replicas`` ("127.0.0.1:PORT"), listening on 127.0.0.1:``listen_port``, logs in ``prefix``."""
    text = DEPLOY_CONF.read_text(encoding="utf-8") if conf_text is None else conf_text
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+ ([^;]*);\s*$", text, flags=re.M)
    assert servers, "deploy/nginx/tiendo.conf: no `server 127.0.0.1:PORT ...;` line in upstream"
    opts = servers[0]
    lines, done = [], False
    for line in text.splitlines():
        if re.match(r"^\s*server 127\.0\.0\.1:\d+ ", line):
            if not done:
                lines += [f"    server {r} {opts};" for r in replicas]
                done = True
            continue
        if re.match(r"^\s*listen 80;\s*$", line):
            line = f"    listen 127.0.0.1:{listen_port};"
        line = line.replace("/var/log/nginx/", f"{prefix}/")
        lines.append(line)
        if line.strip().startswith("add_header Set-Cookie"):
            lines.append(f"    add_header {TEST_HEADER} $upstream_addr always;")
    body = "\n".join(lines)
    assert f"listen 127.0.0.1:{listen_port};" in body, "deploy/nginx/tiendo.conf: no `listen 80;` line"
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {k}_temp_path {prefix}/{k}_temp;" for k in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
            f"events {{ worker_connections 1024; }}\nhttp {{\n{temp}\n{body}\n}}\n")


def check(conf: Path, prefix: Path) -> subprocess.CompletedProcess:
    """``nginx -t`` on a generated configuration."""
    return subprocess.run([nginx_bin(), "-t", "-p", str(prefix), "-e", str(prefix / "error.log"),
                           "-c", str(conf)], capture_output=True, text=True, timeout=30)


def upstream_of(base: str, route: str | None = None, timeout: float = 5.0) -> str:
    """The replica ("127.0.0.1:PORT") nginx sends a request to, for a browser with the sticky
    cookie ``route`` (None: a browser without it)."""
    req = urllib.request.Request(base + "/_stcore/health")
    if route is not None:
        req.add_header("Cookie", f"tiendo_route={route}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.headers.get(TEST_HEADER, "")


@contextlib.contextmanager
def nginx_proxy(replicas: list[str], prefix: Path, listen_port: int | None = None,
                start_timeout: float = 20.0) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """(base URL, process, access log) of nginx in front of ``replicas``; always stopped."""
    from tests.browser_helpers import free_port
    prefix = Path(prefix)
    prefix.mkdir(parents=True, exist_ok=True)
    port = listen_port or free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(render(replicas, port, prefix), encoding="utf-8")
    t = check(conf, prefix)
    assert t.returncode == 0, f"nginx -t refused the configuration made from deploy/:\n{t.stderr}"
    proc = subprocess.Popen([nginx_bin(), "-p", str(prefix), "-e", str(prefix / "error.log"),
                             "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=open(prefix / "stderr.log", "ab"))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:   # the event: nginx answers on its port (502 is an answer too)
            if proc.poll() is not None:
                raise RuntimeError("nginx exited: " + (prefix / "error.log").read_text(errors="replace")[-2000:])
            try:
                urllib.request.urlopen(base + "/_stcore/health", timeout=1).read()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield base, proc, prefix / "tiendo.access.log"
    finally:
        if proc.poll() is None:
            proc.terminate()   # SIGTERM: fast shutdown
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@contextlib.contextmanager
def replicas(store: Path, env: dict, n: int, logdir: Path, start_timeout: float = 90.0,
             app_dir: Path = ROOT) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    """``n`` dashboard replicas (`serve.py` as `make run` starts it) on free ports of 127.0.0.1,
    started together, reading ``store``; [(address "127.0.0.1:PORT", process)]; all stopped on
    exit. ``env`` values of None remove that variable; TIENDO_VIEWER is removed unless ``env``
    names it (the load test's login bypass, then only on a store marked as a test store)."""
    from tests.browser_helpers import free_port, health, stop, streamlit_cmd
    if env.get("TIENDO_VIEWER"):
        from data_access.store_kind import mark_test_store
        mark_test_store(store)
    full = {**os.environ, "TIENDO_VIEWER": None, **env, "TIENDO_STORE": str(store)}
    full = {k: v for k, v in full.items() if v is not None}
    procs: list[tuple[str, subprocess.Popen]] = []
    try:
        for i in range(n):
            port = free_port()
            log = open(Path(logdir) / f"replica-{i}.log", "w")
            p = subprocess.Popen(streamlit_cmd(port, app_dir=app_dir), cwd=app_dir, stdout=log, stderr=log,
                                 env=full)
            procs.append((f"127.0.0.1:{port}", p))
        deadline = time.monotonic() + start_timeout
        for addr, p in procs:   # the event: each answers its health check
            while not health("http://" + addr):
                assert p.poll() is None, f"replica {addr} exited with {p.returncode}"
                assert time.monotonic() < deadline, f"replica {addr} did not start in {start_timeout:.0f} s"
                time.sleep(0.2)
        yield procs
    finally:
        for _, p in procs:
            stop(p)
