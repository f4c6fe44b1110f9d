"""Two dashboard processes on one store while a third process imports (issue 7).

Two `streamlit run dashboard.py` servers (two ports) read the same store. Each serves the
Overview in headless Chromium with the figures the engine computes for the newest snapshot;
they keep serving correct pages (no exception box, the as-of shown is the old or — once
published — the new snapshot) while `python -m data_access ingest` imports a newer extract
in a third process (stopped at test-only pause points: mid-build, built, renamed); after the import, opening the dashboard again shows
the new snapshot on both (its as-of in the caption "Số liệu tính đến …", its figures).
Fails (does not skip) when /usr/bin/chromium is missing: CI installs it (.ci/run).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from data_access import formatting as fmt
from data_access import queries
from data_access.access import Viewer
from tests.browser_helpers import (ARTIFACTS_DIR, EXCEPTION, IDLE, ROOT, health, launch_chromium,
                                   require_chromium, streamlit_server)

SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
OLD_CAPTION = "Số liệu tính đến 17:00 27/04/2022"
NEW_CAPTION = "Số liệu tính đến 08:00 29/04/2022"
METRIC = "[data-testid='stMetric']"
# The servers run as the city-wide administrator without login (TIENDO_VIEWER: a test hook).
VIEWER_ENV = {"TIENDO_VIEWER": "quan_tri"}
CITY = Viewer("test", "quan_tri")
PAUSE_ENV = "TIENDO_TEST_PAUSE_AT"


def _later_extract(dst: Path, repeat: int = 3) -> Path:
    """The committed sample as exported two days later, with its scores repeated (the
    import's length does not matter: it stops at pause points while the servers are asked
    for pages)."""
    shutil.copytree(SAMPLE, dst)
    src = (SAMPLE / "diem_mon_hoc.csv").read_bytes()
    head, body = src.split(b"\n", 1)
    body = body if body.endswith(b"\n") else body + b"\n"
    (dst / "diem_mon_hoc.csv").write_bytes(head + b"\n" + body * repeat)
    (dst / "manifest.toml").write_text('as_of = 2022-04-29T08:00:00+07:00\nsource = "multiprocess test"\n',
                                       encoding="utf-8")
    return dst


def _expected(store: Path) -> list[str]:
    """The Overview's "Hoàn thành" figures as the engine computes them (newest snapshot)."""
    cards = queries.deadline_cards(CITY, store=store)
    return sorted(fmt.percent(x) for x in cards["completion_rate"])


def _load_overview(page, url: str, caption: str, n_cards: int, timeout: int = 45_000) -> list[str]:
    """The "Hoàn thành" figures of the Overview at ``url`` once its ``n_cards`` deadline cards
    are on the page. (Waiting for the count, not only for the idle state: reading right after
    idle once found 1 card of 4 in the DOM while the servers themselves sent all 4, checked
    with the Streamlit protocol on 12 fresh server pairs.)"""
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_text(caption).first.wait_for(timeout=timeout)
    page.get_by_text("Tiến độ theo thời gian").first.wait_for(timeout=timeout)
    page.wait_for_selector(IDLE, timeout=timeout)
    assert page.locator(EXCEPTION).count() == 0, f"Streamlit exception on {url}"
    done = page.locator(METRIC).filter(has_text="Hoàn thành")
    done.first.wait_for(timeout=timeout)
    try:
        expect(done).to_have_count(n_cards, timeout=timeout)
    except AssertionError:
        pass   # the comparison below then shows what the page holds
    values = sorted(done.nth(i).locator("[data-testid='stMetricValue']").inner_text().strip()
                    for i in range(done.count()))
    if not values:
        page.screenshot(path=str(ARTIFACTS_DIR / "multiprocess-no-figures.png"), full_page=True)
    return values


@pytest.fixture()
def mp_store(tmp_path) -> Path:
    store = tmp_path / "store"
    r = subprocess.run([sys.executable, "-m", "data_access", "ingest", str(SAMPLE), "--store", str(store)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return store


def test_two_servers_one_store_and_an_import(mp_store, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    later = _later_extract(tmp_path / "2022-04-29T0800")
    old_expected = _expected(mp_store)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        bases = []
        for name in ("a", "b"):
            log = stack.enter_context(open(ARTIFACTS_DIR / f"multiprocess-{name}.log", "w"))
            base, _proc = stack.enter_context(streamlit_server(mp_store, log=log, env=VIEWER_ENV))
            bases.append(base)
        p = stack.enter_context(sync_playwright())
        browser = launch_chromium(p)
        stack.callback(browser.close)
        pages = [browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN") for _ in bases]

        # Both serve the Overview of the current newest snapshot, with the engine's figures.
        for page, base in zip(pages, bases):
            assert _load_overview(page, base + "/", OLD_CAPTION, len(old_expected)) == old_expected

        # A third process imports a newer snapshot; the servers keep answering meanwhile. The
        # import stops at test-only pause points (data_access/pause_points.py) — before the big
        # score file's load (schools and students already in its work file), built but not
        # renamed, renamed with its content lock still held — and at each one both servers
        # serve the Overview before the test lets it go on (SIGUSR1): pages served during the
        # import are the event waited for, whatever the machine's speed.
        moments = [("load:subject_scores", (OLD_CAPTION,)), ("publish", (OLD_CAPTION,)),
                   ("published", (OLD_CAPTION, NEW_CAPTION))]
        imp = subprocess.Popen([sys.executable, "-m", "data_access", "ingest", str(later), "--store",
                                str(mp_store)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, bufsize=1,
                               env={**os.environ, PAUSE_ENV: ",".join(m for m, _ in moments)})
        stack.callback(lambda: imp.poll() is None and imp.kill())
        watchdog = threading.Timer(300, imp.kill)   # a pause line that never comes ends the read
        watchdog.start()
        stack.callback(watchdog.cancel)
        out_lines, served_during = [], []
        for moment, allowed in moments:
            for line in imp.stdout:
                out_lines.append(line)
                if line.startswith("TIENDO_TEST_PAUSE "):
                    break
            assert out_lines and out_lines[-1].strip() == f"TIENDO_TEST_PAUSE {moment}", \
                f"the import did not stop at {moment}:\n{''.join(out_lines)[-2000:]}"
            for page, base in zip(pages, bases):
                assert health(base, timeout=5)
                page.goto(base + "/")
                page.get_by_text("Số liệu tính đến").first.wait_for(timeout=45_000)
                page.wait_for_selector(IDLE, timeout=45_000)
                assert page.locator(EXCEPTION).count() == 0
                shown = page.get_by_text("Số liệu tính đến").first.inner_text()
                assert any(c in shown for c in allowed), (moment, shown)
                served_during.append((moment, base))
            imp.send_signal(signal.SIGUSR1)
        rest, _ = imp.communicate(timeout=120)
        out = "".join(out_lines) + rest
        assert imp.returncode == 0, out[-2000:]
        assert "Đã tạo snapshot" in out
        assert served_during == [(m, b) for m, _ in moments for b in bases]

        # After the import, opening the dashboard again shows the new snapshot on both servers.
        new_expected = _expected(mp_store)
        for i, (page, base) in enumerate(zip(pages, bases)):
            assert _load_overview(page, base + "/", NEW_CAPTION, len(new_expected)) == new_expected
            page.screenshot(path=str(ARTIFACTS_DIR / f"multiprocess-{i}-after-import.png"))
        # A pasted link that names the old as-of still opens the old snapshot, and says so.
        page = pages[0]
        page.goto(bases[0] + "/?as_of=2022-04-27T17:00")
        page.get_by_text("không phải snapshot mới nhất").first.wait_for(timeout=45_000)
        page.wait_for_selector(IDLE, timeout=45_000)
        assert page.get_by_text(OLD_CAPTION).count() >= 1
        assert page.locator(EXCEPTION).count() == 0
