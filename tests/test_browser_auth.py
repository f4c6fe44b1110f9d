"""Browser test of access control: `streamlit run dashboard.py` on the committed sample store
(generated sample data, so the demo accounts exist), headless Debian Chromium through
Playwright. A district office (demo_phonggd, district 760) logs in through the real login form,
sees only its menu, and cannot reach another district's institution or district by editing the
URL's query parameters (?school=, ?district=): an "out of scope" message, no data. The server's
log never contains the password. Fails (does not skip) when /usr/bin/chromium is missing."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.browser_helpers import (ARTIFACTS_DIR as ARTIFACTS, EXCEPTION, IDLE, NAV_LINK, ROOT,
                                   launch_chromium, require_chromium, streamlit_server)

SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
USER, PASSWORD = "demo_phonggd", "demo-phonggd-2022"
OTHER_SCHOOL = "79764007"      # THPT of district 764
OTHER_DISTRICT = "764"


pytestmark = pytest.mark.ops_per_module   # the module-scoped server holds the accounts and audit


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    store = tmp_path_factory.mktemp("browser_auth") / "store"
    subprocess.run([sys.executable, "-m", "data_access", "ingest", str(SAMPLE), "--store", str(store)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "streamlit-auth.log"
    with open(log_path, "w") as log:
        # The real login form: no viewer override; debug logging, to show no password is logged.
        with streamlit_server(store, log=log, env={"TIENDO_VIEWER": None},
                              extra_args=("--logger.level", "debug")) as (base, _):
            yield base, store, log_path


def wait_idle(page, timeout=30_000):
    page.wait_for_selector(IDLE, timeout=timeout)


def login(page, user=USER, password=PASSWORD):
    page.get_by_role("heading", name="Đăng nhập").first.wait_for(timeout=30_000)
    wait_idle(page)
    page.locator(".st-key-login_user input").fill(user)
    page.locator(".st-key-login_password input").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_district_office_cannot_reach_another_district_by_url(auth_server):
    require_chromium()
    from playwright.sync_api import sync_playwright

    base, store, log_path = auth_server
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            page.goto(base + "/")
            # nothing but the login form before login
            login(page, USER, "sai-mat-khau")
            page.get_by_text("Tên đăng nhập hoặc mật khẩu không đúng").first.wait_for(timeout=30_000)
            assert page.locator("[data-testid='stMetric']").count() == 0
            login(page)
            page.get_by_role("heading", name="Tổng quan tiến độ").first.wait_for(timeout=30_000)
            wait_idle(page)
            assert page.get_by_text("DEMO").count() >= 1
            hrefs = [a.get_attribute("href") or "" for a in page.locator(NAV_LINK).all()]
            assert any(h.endswith("truong") for h in hrefs)
            assert not any(h.endswith(x) for h in hrefs for x in ("so-nhan-ban-giay", "tai-khoan",
                                                                  "nhat-ky-truy-cap"))
            page.screenshot(path=str(ARTIFACTS / "auth-1-phong-gd.png"))

            # Edited URL: another district's institution. (A fresh page load is a new session:
            # log in again; the page and the parameters asked for are kept.)
            page.goto(f"{base}/truong?school={OTHER_SCHOOL}")
            login(page)
            page.get_by_text("nằm ngoài phạm vi được phân quyền").first.wait_for(timeout=30_000)
            wait_idle(page)
            page.screenshot(path=str(ARTIFACTS / "auth-2-truong-ngoai-pham-vi.png"))
            assert page.get_by_text("Danh mục yêu cầu").count() == 0
            assert page.get_by_text("Nguyễn Thị Minh Khai").count() == 0
            assert page.locator("[data-testid='stDataFrame']").count() == 0
            assert page.locator(EXCEPTION).count() == 0

            # Edited URL: another district.
            page.goto(f"{base}/quan-huyen?district={OTHER_DISTRICT}")
            login(page)
            page.get_by_text("nằm ngoài phạm vi được phân quyền").first.wait_for(timeout=30_000)
            wait_idle(page)
            page.screenshot(path=str(ARTIFACTS / "auth-3-quan-ngoai-pham-vi.png"))
            assert re.search(r"district=760", page.url) and f"district={OTHER_DISTRICT}" not in page.url
            assert page.get_by_text("Quận 3").count() == 0
            assert page.locator(EXCEPTION).count() == 0

            # Logout everywhere: the next page load asks for login again.
            page.get_by_role("button", name="Đăng xuất khỏi mọi thiết bị").click()
            page.get_by_role("heading", name="Đăng nhập").first.wait_for(timeout=30_000)
        finally:
            browser.close()
    from data_access import ops
    from data_access.access import SYSTEM
    audit = ops.list_audit(store, SYSTEM, limit=1000)
    assert {"login.failure", "login.success", "scope.denied", "logout.everywhere"} <= set(audit["action"])
    assert {f"truong:{OTHER_SCHOOL}", f"quan:{OTHER_DISTRICT}"} <= set(audit["object"])
    text = log_path.read_text(encoding="utf-8", errors="replace") + audit.to_string()
    blobs = b"".join(f.read_bytes() for f in store.iterdir() if f.name.startswith("ops.sqlite"))
    for pw in (PASSWORD, "sai-mat-khau"):
        assert pw not in text and pw.encode() not in blobs
