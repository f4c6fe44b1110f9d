"""Browser test: `streamlit run dashboard.py` on the committed sample store, driven by headless
Debian Chromium through Playwright: every page, Overview → a district → an institution by
clicking, a pasted link, a screenshot of each page under test-artifacts/, and no Streamlit
exception box anywhere. Fails (does not skip) when /usr/bin/chromium is missing: CI installs
it (.ci/run)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_helpers import (ARTIFACTS_DIR as ARTIFACTS, EXCEPTION, IDLE, NAV_LINK, PAGE_LINK,
                                   ROOT, launch_chromium, require_chromium, streamlit_server)
from tests.snapshot_factory import import_sample

SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"


@pytest.fixture(scope="module")
def browser_store(tmp_path_factory) -> Path:
    return import_sample(tmp_path_factory.mktemp("browser") / "store")


@pytest.fixture(scope="module")
def server(browser_store):
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "streamlit.log", "w") as log:
        # The tour runs as the administrator without the login form (TIENDO_VIEWER); logging
        # in and scope through the URL are tested in tests/test_browser_auth.py.
        with streamlit_server(browser_store, log=log, env={"TIENDO_VIEWER": "quan_tri"}) as (base, _):
            yield base


def wait_idle(page, timeout=30_000):
    page.wait_for_selector(IDLE, timeout=timeout)


# Every Plotly chart the user can see has drawn: its plot div exists, plotly.js laid it out
# (_fullLayout) and is not in the middle of a (re)plot, and its SVG is on the page with a size.
# A chart in a tab that is not open is rendered in a hidden panel (no layout box, width 0) until
# the tab is clicked; Chromium 156 (Debian 12, December 2026) never gives it a size, so waiting
# for it timed out the tour on a fresh machine. Such charts are waited for when their tab opens.
CHARTS_DRAWN = """() => {
  const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")]
    .filter(c => c.getClientRects().length > 0 && !c.closest('[hidden], [aria-hidden="true"]'));
  return charts.every(c => {
    const gd = c.querySelector('.js-plotly-plot');
    const svg = gd && gd.querySelector('svg.main-svg');
    return !!(svg && gd._fullLayout && !gd._fullLayout._replotting && svg.getBoundingClientRect().width > 0);
  });
}"""


def check_page(page, name: str, heading: str):
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
    wait_idle(page)
    page.wait_for_function(CHARTS_DRAWN, timeout=30_000)   # the charts drew: the event, not a delay
    wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
    assert page.locator(EXCEPTION).count() == 0, f"Streamlit exception on {name}"


def test_browser_tour(server):
    require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            page.goto(server + "/")
            check_page(page, "1-tong-quan", "Tổng quan tiến độ")
            assert page.get_by_text("Số liệu tính đến 17:00 27/04/2022").count() >= 1
            assert page.locator("[data-testid='stPlotlyChart']").count() >= 1
            tabs = page.get_by_role("tab")
            assert tabs.count() >= 2                                  # the overview's chart tabs
            for i in range(tabs.count()):                             # each tab's chart draws once open
                tabs.nth(i).click()
                page.wait_for_function(CHARTS_DRAWN, timeout=30_000)

            # Overview → the worst district (a page link carrying the state).
            page.locator(PAGE_LINK).filter(has_text=re.compile(r"Mở (Quận|Huyện|Thành phố)")).first.click()
            page.wait_for_url(re.compile(r"/quan-huyen\?.*district=\d+"), timeout=30_000)
            check_page(page, "2-quan-huyen-mot-quan", "Quận/huyện")
            # The status heatmap drew its cells (plotly.js paints a heatmap as one image).
            assert page.locator("[data-testid='stPlotlyChart'] g.hm image").count() == 1
            assert page.locator("[data-testid='stPlotlyChart']").count() >= 1   # status grid

            # District → an institution.
            page.locator(PAGE_LINK).filter(has_text=re.compile(r"Mở (Trường|Trung tâm)")).first.click()
            page.wait_for_url(re.compile(r"/truong\?.*school=\d+"), timeout=30_000)
            check_page(page, "3-truong", "Trường")
            assert page.get_by_text("Danh mục yêu cầu").count() == 1

            # The other pages through the sidebar navigation (the district filter holds).
            for path, name, heading in (("bao-cao", "4-bao-cao", "Báo cáo và bản giấy"),
                                        ("chat-luong-du-lieu", "5-chat-luong-du-lieu", "Chất lượng dữ liệu")):
                page.locator(f"{NAV_LINK}[href$='{path}']").first.click()
                page.wait_for_url(re.compile(rf"/{path}\?.*district=\d+"), timeout=30_000)
                check_page(page, name, heading)

            # A pasted link: the whole city map, a fresh page load.
            page.goto(server + "/quan-huyen?as_of=2022-04-27T17:00")
            check_page(page, "2-quan-huyen", "Quận/huyện")
            assert page.get_by_text("Tỉ lệ hoàn thành theo quận/huyện").count() == 1

            # Search without diacritics on a fresh institution page.
            page.goto(server + "/truong")
            check_page(page, "3-truong-tim", "Trường")
            box = page.locator(".st-key-school_search input")
            box.fill("le hong phong")
            box.press("Enter")
            page.get_by_text("trường tìm thấy").first.wait_for(timeout=30_000)
            wait_idle(page)
            assert page.locator(EXCEPTION).count() == 0
        finally:
            browser.close()
