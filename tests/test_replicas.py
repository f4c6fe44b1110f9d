"""Two dashboard replicas behind nginx on one PostgreSQL (issue 17), as deployed: the nginx
configuration is deploy/nginx/tiendo.conf itself (tests/nginx_proxy.py replaces only ports and
paths), the replicas are `serve.py` as `make run` starts it, with TIENDO_OPS_URL naming the
throw-away test PostgreSQL (tests/pg_server.py) and the real login (no TIENDO_VIEWER).

Through the proxy, in headless Debian Chromium:
1. two browsers log in at the same time, one whose sticky cookie routes it to replica A, one
   routed to replica B (its register is empty); the first records a paper copy on the register
   (acknowledged: "Đã ghi phiếu số 1");
2. the second browser's session on B, at its next run (a filter typed), shows that receipt;
3. A records a second receipt (acknowledged), then A is killed with SIGKILL; the receipt is in
   PostgreSQL; a new browser whose cookie names A is served by B and sees it, and requests
   without a cookie all go to B;
4. the account is disabled by another process: that browser's session on B ends at its next
   run, with the reason («Tài khoản đã bị vô hiệu hóa…») and the login form.
Which replica served what: the test-only response header X-Tiendo-Upstream for page loads, and
the access log of deploy's format (upstream=, route=) for the WebSocket /_stcore/stream.
Every process (PostgreSQL, replicas, nginx, Chromium) is stopped in a finally. Fails (never
skips) without chromium or nginx: CI installs them (.ci/install-system-deps).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_access import accounts, current_user
from data_access.access import SYSTEM
from tests import nginx_proxy
from tests.browser_helpers import ARTIFACTS_DIR, EXCEPTION, IDLE, ROOT, launch_chromium, require_chromium
from tests.nginx_proxy import replicas

SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
USER, PASSWORD = "demo_khtc", "demo-khtc-2022"     # KH-TC writes the paper register
PAGE = "/so-nhan-ban-giay"
T = 45_000   # ms, Playwright waits (a loaded 2-core machine)


@pytest.fixture(scope="module")
def deployment(pg_server, tmp_path_factory):
    """(proxy URL, [(address, process)] of the two replicas, access log, store, ops URL)."""
    from data_access import ops_db
    base_dir = tmp_path_factory.mktemp("replicas")
    url = pg_server.new_database()
    env = {"TIENDO_OPS_URL": url}
    store = base_dir / "store"
    subprocess.run([sys.executable, "-m", "data_access", "ingest", str(SAMPLE), "--store", str(store)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env={**os.environ, **env})
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    try:
        with replicas(store, env, 2, base_dir) as procs:
            with nginx_proxy.nginx_proxy([a for a, _ in procs], base_dir / "nginx") as (base, _, access):
                yield base, procs, access, store, url
    finally:
        ops_db.close_pools()
        for f in base_dir.glob("replica-*.log"):
            (ARTIFACTS_DIR / f"replicas-{f.name}").write_bytes(f.read_bytes())


def _route_to(base: str, addr: str) -> str:
    """A sticky-cookie value nginx routes to the replica ``addr`` (consistent hash: probed)."""
    for k in range(200):
        if nginx_proxy.upstream_of(base, f"t{k}") == addr:
            return f"t{k}"
    raise AssertionError(f"no cookie among 200 routes to {addr}")


def _browser(browser, base: str, route: str | None):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    if route is not None:
        ctx.add_cookies([{"name": "tiendo_route", "value": route, "url": base + "/"}])
    return ctx


def _open(ctx, base: str) -> tuple[object, str]:
    """Open the register page through the proxy, up to the login form; (page, replica that
    served the page)."""
    page = ctx.new_page()
    resp = page.goto(base + PAGE)
    served = resp.headers.get(nginx_proxy.TEST_HEADER.lower(), "")
    page.get_by_role("heading", name="Đăng nhập").first.wait_for(timeout=T)
    page.wait_for_selector(IDLE, timeout=T)
    return page, served


def _login(page) -> None:
    page.locator(".st-key-login_user input").fill(USER)
    page.locator(".st-key-login_password input").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def _on_register(page) -> None:
    page.get_by_role("heading", name="Sổ nhận bản giấy").first.wait_for(timeout=T)
    page.wait_for_selector(IDLE, timeout=T)


def _open_and_login(ctx, base: str) -> tuple[object, str]:
    page, served = _open(ctx, base)
    _login(page)
    _on_register(page)
    return page, served


def _record(page, school: str) -> str:
    """Record a paper copy of the default report for ``school``; the acknowledgement shown."""
    page.locator(".st-key-pr_school input").fill(school)
    page.get_by_role("button", name="Lưu vào sổ").click()
    ok = page.get_by_text(re.compile(r"Đã ghi phiếu số \d+")).first
    ok.wait_for(timeout=T)
    page.wait_for_selector(IDLE, timeout=T)
    assert page.locator(EXCEPTION).count() == 0
    return ok.inner_text()


def _shows_receipt(page, receipt_id: int, school: str) -> None:
    """The register page's newest receipt (first choice of «Sửa phiếu», the register's table is
    a canvas) is ``receipt_id`` of ``school``."""
    from playwright.sync_api import expect
    expect(page.locator(".st-key-pr_fix_id input")).to_have_value(
        re.compile(rf"^{receipt_id} · {school} · "), timeout=T)


def _receipts(url: str) -> list[tuple]:
    """The receipts in PostgreSQL, read with a connection of this process (not a replica's)."""
    import psycopg
    with psycopg.connect(url, autocommit=True) as con:
        return con.execute("SELECT receipt_id, school_code, recorded_by FROM paper_receipts "
                           "ORDER BY receipt_id").fetchall()


def _stream_lines(access: Path, route: str, timeout: float = 20.0) -> list[str]:
    """The access-log lines of the WebSocket of browsers with ``route`` (written when it closes)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in access.read_text(encoding="utf-8").splitlines()
                 if "/_stcore/stream" in l and f"route={route} " in l]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_proxy_passes_an_upload_over_nginx_default_limit(deployment):
    """A 3 MB upload reaches the replica (nginx's default client_max_body_size is 1 MB: a
    district's extract would get nginx's own English "413 Request Entity Too Large"). The
    replica refuses it (no such session): what matters is who answered."""
    import urllib.error
    import urllib.request
    base = deployment[0]
    req = urllib.request.Request(base + "/_stcore/upload_file/no-session/no-file", data=b"x" * (3 << 20),
                                 method="PUT", headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    assert status != 413 and b"nginx" not in body, (status, body[:200])


def test_write_on_one_replica_read_on_the_other_and_survive_kill(deployment, monkeypatch):
    require_chromium()
    from playwright.sync_api import sync_playwright

    base, procs, access, store, url = deployment
    (a_addr, a_proc), (b_addr, b_proc) = procs
    to_a, to_b = _route_to(base, a_addr), _route_to(base, b_addr)
    t0, phases = time.monotonic(), []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            # Both browsers log in at once (each replica builds its first page meanwhile).
            ctx1, ctx2 = _browser(browser, base, to_a), _browser(browser, base, to_b)
            (page1, served1), (page2, served2) = _open(ctx1, base), _open(ctx2, base)
            assert (served1, served2) == (a_addr, b_addr)
            _login(page1)
            _login(page2)
            _on_register(page1)
            _on_register(page2)
            page2.get_by_text("Chưa có phiếu nào.").first.wait_for(timeout=T)

            ack1 = _record(page1, "79760001")
            assert "Đã ghi phiếu số 1" in ack1, ack1
            phases.append(("written on A", time.monotonic()))

            # B's session, already open: its next run (a filter typed) shows A's receipt.
            page2.locator(".st-key-pr_filter input").fill("79760001")
            page2.locator(".st-key-pr_filter input").press("Enter")
            _shows_receipt(page2, 1, "79760001")
            page2.screenshot(path=str(ARTIFACTS_DIR / "replicas-1-read-on-b.png"), full_page=True)
            ctx2.close()
            assert all(b_addr in l and a_addr not in l for l in _stream_lines(access, to_b)), \
                "the second browser's WebSocket went to another replica than its page"
            assert _stream_lines(access, to_b), "no WebSocket line for the second browser"
            phases.append(("read on B", time.monotonic()))

            ack2 = _record(page1, "79760002")
            assert "Đã ghi phiếu số 2" in ack2, ack2
            os.kill(a_proc.pid, signal.SIGKILL)   # acknowledged, then the replica dies at once
            a_proc.wait(10)
            phases.append(("killed A", time.monotonic()))
            assert [(r[0], r[1]) for r in _receipts(url)] == [(1, "79760001"), (2, "79760002")]
            lines = _stream_lines(access, to_a)
            assert lines and lines[0].split("upstream=")[1].split()[0] == a_addr, lines

            # A new browser whose cookie hashes to the dead replica is served by B and reads
            # both receipts; browsers without a cookie (10 requests) all go to B.
            ctx = _browser(browser, base, to_a)
            page, served = _open_and_login(ctx, base)
            # (nginx may have tried A first: $upstream_addr then lists "A, B")
            assert served.split(", ")[-1] == b_addr, served
            _shows_receipt(page, 2, "79760002")
            assert page.locator(EXCEPTION).count() == 0
            # The account disabled by another process (here the test's own): B's open session
            # ends at its next run, with the reason.
            monkeypatch.setenv("TIENDO_OPS_URL", url)
            accounts.set_disabled(store, SYSTEM, USER, True)
            page.locator(".st-key-pr_filter input").fill("79760001")
            page.locator(".st-key-pr_filter input").press("Enter")
            page.get_by_text(current_user.REASONS["disabled"]).first.wait_for(timeout=T)
            page.get_by_role("heading", name="Đăng nhập").first.wait_for(timeout=T)
            ctx.close()
            assert {nginx_proxy.upstream_of(base).split(", ")[-1] for _ in range(10)} == {b_addr}
            ctx1.close()
            phases.append(("after kill", time.monotonic()))
            print("phases (s):", [(n, round(t - t0, 1)) for n, t in phases])
        finally:
            browser.close()
    assert b_proc.poll() is None, "replica B stopped"
