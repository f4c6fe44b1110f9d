"""Browser test of the page «Mức độ đầy đủ dữ liệu» (issue 15): `streamlit run dashboard.py` on
the committed sample, headless Debian Chromium, for each role that has the page (leadership,
KHTC, a district office); the grid, a pasted drill-down link, the chart, no exception box, and
the documentation screenshot docs/screenshots/muc-do-day-du.png (leadership). Fails (does not
skip) when /usr/bin/chromium is missing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_helpers import (ARTIFACTS_DIR as ARTIFACTS, EXCEPTION, IDLE, METRIC_VALUE, NAV_LINK,
                                   ROOT, launch_chromium, require_chromium, streamlit_server)
from tests.snapshot_factory import import_sample
from tests.test_browser import CHARTS_DRAWN

SCREENSHOT = ROOT / "docs" / "screenshots" / "muc-do-day-du.png"
HEADING = "Mức độ đầy đủ dữ liệu"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return import_sample(tmp_path_factory.mktemp("browser_cmp") / "store")


def _ready(page):
    page.get_by_role("heading", name=HEADING).first.wait_for(timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.parametrize("viewer, scope", [("lanh_dao", "Toàn thành phố"), ("khtc", "Toàn thành phố"),
                                           ("phong_gd:760", "Quận 1")])
def test_completeness_page_in_chromium(store, viewer, scope):
    require_chromium()
    from playwright.sync_api import sync_playwright

    from data_access import completeness as cmp
    from data_access.access import Viewer
    from data_access.evaluate import evaluate
    role, _, district = viewer.partition(":")
    v = Viewer("t", role, district_code=district or None)
    ev = evaluate(store)
    try:
        grid = cmp.grid_at(ev, v).sort_values(["index", "school_code"])
        head = cmp.table_at(ev, v, "district" if district else "city").iloc[0]
    finally:
        ev.close()
    worst, worst_name = grid.iloc[0]["school_code"], grid.iloc[0]["school_name"]
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / f"streamlit-completeness-{role}.log", "w") as log, \
            streamlit_server(store, log=log, env={"TIENDO_VIEWER": viewer}) as (base, _), \
            sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
            page.goto(base + "/")
            page.wait_for_selector(IDLE, timeout=60_000)
            page.locator(f"{NAV_LINK}[href$='muc-do-day-du']").first.click()      # in the role's menu
            page.wait_for_url(re.compile(r"/muc-do-day-du"), timeout=60_000)
            _ready(page)
            first = page.locator(METRIC_VALUE).first.inner_text()
            assert first == f"{head['index']:.1f}".replace(".", ",") + " %"
            assert page.get_by_text(f"Chỉ số chung · {scope}").count() == 1
            assert page.locator("[data-testid='stDataFrame']").count() >= 2          # grid + gaps
            if role == "lanh_dao":
                page.screenshot(path=str(SCREENSHOT), full_page=False)
            # a pasted link opens the drill-down of the weakest institution
            page.goto(f"{base}/muc-do-day-du?school={worst}")
            _ready(page)
            page.get_by_text("Trường còn thiếu gì").first.wait_for(timeout=60_000)
            line = page.get_by_text(re.compile(r"chỉ số chung .*trung bình của \d+ lĩnh vực")).first
            assert worst_name in line.inner_text()
            page.screenshot(path=str(ARTIFACTS / f"muc-do-day-du-{role}.png"), full_page=True)
        finally:
            browser.close()
