"""A pasted link before login: opening /truong?school=79785017 on a server (the way a link in a
message arrives) showed Streamlit's English "Page not found" dialog over the login form. The
login form must be shown alone, in Vietnamese, and after login the linked page opens with its
filters. Headless Debian Chromium; fails (does not skip) without /usr/bin/chromium."""
from __future__ import annotations

import subprocess
import sys

from tests.browser_helpers import (ARTIFACTS_DIR, EXCEPTION, IDLE, ROOT, launch_chromium,
                                   require_chromium, streamlit_server)

SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
SCHOOL = "79785017"


def test_pasted_link_shows_the_login_alone_then_opens_the_linked_page(tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    store = tmp_path / "store"
    subprocess.run([sys.executable, "-m", "data_access", "ingest", str(SAMPLE), "--store", str(store)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    with open(ARTIFACTS_DIR / "streamlit-pasted-link.log", "w") as log, \
            streamlit_server(store, log=log, env={"TIENDO_VIEWER": None}) as (base, _), \
            sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            page.goto(f"{base}/truong?school={SCHOOL}&level=THPT")
            page.get_by_role("heading", name="Đăng nhập").first.wait_for(timeout=30_000)
            page.wait_for_selector(IDLE, timeout=30_000)
            page.screenshot(path=str(ARTIFACTS_DIR / "pasted-link-1-login.png"))
            body = page.inner_text("body")
            assert "Page not found" not in body and "main page" not in body, body[:1500]
            assert page.locator("[role='dialog']").count() == 0
            page.locator(".st-key-login_user input").fill("demo_khtc")
            page.locator(".st-key-login_password input").fill("demo-khtc-2022")
            page.get_by_role("button", name="Đăng nhập").click()
            page.get_by_text(SCHOOL).first.wait_for(timeout=30_000)
            page.wait_for_selector(IDLE, timeout=30_000)
            page.screenshot(path=str(ARTIFACTS_DIR / "pasted-link-2-page.png"))
            assert "/truong" in page.url and f"school={SCHOOL}" in page.url and "level=THPT" in page.url
            assert page.locator(EXCEPTION).count() == 0
            assert page.locator("[role='dialog']").count() == 0
        finally:
            browser.close()
