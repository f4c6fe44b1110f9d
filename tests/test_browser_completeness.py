"""Browser test of the page «Mức độ đầy đủ dữ liệu» (issue 15): `streamlit run dashboard.py` on
the committed sample, headless Debian Chromium, for each role that has the page (leadership,
KHTC, a district office); the grid (the heatmap's cells as drawn, and a hovered not-measured
cell reads as its reason, not 0 %), a pasted drill-down link, the chart, no exception box, and
the documentation screenshots docs/screenshots/muc-do-day-du*.png (one per role) and
docs/screenshots/bao-cao-khop-du-lieu.png (the reports page's «khớp dữ liệu» columns, KHTC).
Fails (does not skip) when /usr/bin/chromium is missing."""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from tests.browser_helpers import (ARTIFACTS_DIR as ARTIFACTS, EXCEPTION, IDLE, METRIC_VALUE, NAV_LINK,
                                   ROOT, launch_chromium, require_chromium, streamlit_server)
from tests.snapshot_factory import import_sample
from tests.test_browser import CHARTS_DRAWN

SHOTS = ROOT / "docs" / "screenshots"
SCREENSHOT = {"lanh_dao": SHOTS / "muc-do-day-du.png", "khtc": SHOTS / "muc-do-day-du-khtc.png",
              "phong_gd": SHOTS / "muc-do-day-du-phong-gd.png"}
# the heatmap as plotly.js holds it, and the page position of cell (column i, row j) (category axes)
HEATMAP = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.data && g.data[0].type === 'heatmap');
  const t = gd.data[0];
  return {x: Array.from(t.x), y: Array.from(t.y), text: Array.from(t.text, r => Array.from(r))};
}"""
HOVERED = "() => [...document.querySelectorAll('.hoverlayer')].map(h => h.textContent).join('')"
CELL_AT = """([i, j]) => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.data && g.data[0].type === 'heatmap');
  const L = gd._fullLayout, box = gd.getBoundingClientRect();
  return [box.left + L.xaxis._offset + L.xaxis.l2p(i), box.top + L.yaxis._offset + L.yaxis.l2p(j)];
}"""
HEADING = "Mức độ đầy đủ dữ liệu"


@contextlib.contextmanager
def _browser_page(store: Path, viewer: str, log_name: str):
    """(page, base URL): a server on ``store`` seen as ``viewer`` (TIENDO_VIEWER) and a Chromium
    page at 1400 × 1000 in vi-VN; the server's log goes to test-artifacts/``log_name``."""
    require_chromium()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / log_name, "w") as log, \
            streamlit_server(store, log=log, env={"TIENDO_VIEWER": viewer}) as (base, _), \
            sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN"), base
        finally:
            browser.close()


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
    doms = cmp.domain_table()
    names = dict(zip(doms["domain"], doms["name"]))
    no_source = set(doms.loc[~doms["has_source"].astype(bool), "domain"])
    with _browser_page(store, viewer, f"streamlit-completeness-{role}.log") as (page, base):
        page.goto(base + "/")
        page.wait_for_selector(IDLE, timeout=60_000)
        page.locator(f"{NAV_LINK}[href$='muc-do-day-du']").first.click()      # in the role's menu
        page.wait_for_url(re.compile(r"/muc-do-day-du"), timeout=60_000)
        _ready(page)
        first = page.locator(METRIC_VALUE).first.inner_text()
        assert first == f"{head['index']:.1f}".replace(".", ",") + " %"
        assert page.get_by_text(f"Chỉ số chung · {scope}").count() == 1
        assert page.locator("[data-testid='stDataFrame']").count() >= 2          # grid + gaps
        # the grid as drawn: every institution in scope, weakest first, each cell 1.234,5 %
        # or the reason in words (never 0 % for a domain that is not measured)
        heat = page.evaluate(HEATMAP)
        assert heat["y"] == list(grid["school_code"])
        col = {name: i for i, name in enumerate(heat["x"])}
        for r, (_, g) in enumerate(grid.iterrows()):
            for d in cmp.DOMAINS + (cmp.INDEX,):
                v = g[d]
                want = (cmp.NO_SOURCE_TEXT if d in no_source else cmp.NOT_APPLICABLE_TEXT) if v != v or v is None \
                    else f"{v:.1f}".replace(".", ",") + " %"
                assert heat["text"][r][col[names[d]]] == want, (g["school_code"], d)
        # hovering a not-measured cell reads as its reason
        page.locator(".st-key-cmp_heatmap").scroll_into_view_if_needed()
        x, y = page.evaluate(CELL_AT, [col[names["programme"]], 0])      # the weakest row
        page.mouse.move(x - 3, y)
        page.mouse.move(x, y)
        page.wait_for_function(HOVERED, timeout=10_000)
        hover = page.evaluate(HOVERED)
        assert f"{names['programme']}: {cmp.NO_SOURCE_TEXT}" in hover and "0,0 %" not in hover
        assert any(code in hover for code in grid["school_code"].head(3))     # rows are ~2 px at 242 rows
        page.mouse.move(5, 5)
        page.get_by_role("heading", name=HEADING).first.scroll_into_view_if_needed()   # back to the top
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOT[role]), full_page=False)
        # a pasted link opens the drill-down of the weakest institution
        page.goto(f"{base}/muc-do-day-du?school={worst}")
        _ready(page)
        page.get_by_text("Trường còn thiếu gì").first.wait_for(timeout=60_000)
        line = page.get_by_text(re.compile(r"chỉ số chung .*trung bình của \d+ lĩnh vực")).first
        assert worst_name in line.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"muc-do-day-du-{role}.png"), full_page=True)


def test_reports_match_columns_screenshot(store):
    """The reports page's «…: khớp dữ liệu» columns beside each report's state (KHTC), for the
    README: docs/screenshots/bao-cao-khop-du-lieu.png."""
    with _browser_page(store, "khtc", "streamlit-reports-match.log") as (page, base):
        page.goto(base + "/bao-cao")
        page.wait_for_selector(IDLE, timeout=60_000)
        page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        assert page.locator(EXCEPTION).count() == 0
        page.get_by_role("heading", name="Trường × báo cáo").first.scroll_into_view_if_needed()
        grid = page.locator("[data-testid='stDataFrame']").first      # the school × report grid
        grid.scroll_into_view_if_needed()       # (a canvas: its header text is not in the DOM)
        assert grid.is_visible()
        page.screenshot(path=str(SHOTS / "bao-cao-khop-du-lieu.png"), full_page=False)
