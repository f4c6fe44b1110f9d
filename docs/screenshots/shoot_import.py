"""Takes docs/screenshots/nhap-du-lieu-dang-xuat.png, the README's picture of the import page on
an export-shape file (issue 14):

    python docs/screenshots/shoot_import.py [--keep DIR]     # needs LibreOffice and Chromium

A store holding the committed sample (canonical shape, 27/04/2022) is served as in the browser
tests (tests/browser_helpers.py: free port, health poll, always stopped); the same sample
rewritten in the education database's export shape (sample_data/export_shape.py: one .xlsx/.xls/
.ods per class under hoc_sinh/<school>/, title rows, split residence, "Khối 12") is zipped with
its manifest moved one day on (28/04/2022, so it is a new snapshot) and uploaded on the import
page as the administrator; after "Kiểm tra" the preview compares the two: every figure the same.
Why a script: the picture can be made again when the page changes, the same way.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sample_data.export_shape import write_export_shape  # noqa: E402
from tests.browser_helpers import IDLE, EXCEPTION, launch_chromium, streamlit_server  # noqa: E402

SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
OUT = ROOT / "docs" / "screenshots" / "nhap-du-lieu-dang-xuat.png"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, help="work folder (kept); default a temporary one")
    ap.add_argument("--export", type=Path, help="an export-shape folder already written from the sample")
    a = ap.parse_args()
    work = a.keep or Path(tempfile.mkdtemp(prefix="shoot-import-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store"
    if not store.exists():
        subprocess.run([sys.executable, "-m", "data_access", "ingest", str(SAMPLE), "--store", str(store)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    exp = a.export or write_export_shape(SAMPLE, work / "export", "mixed")
    zpath = work / "trich_xuat_csdl_28-04-2022.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(exp.rglob("*")):
            if f.is_file() and f.name != "manifest.toml":
                z.write(f, f.relative_to(exp).as_posix())
        z.writestr("manifest.toml", 'as_of = 2022-04-28T17:00:00+07:00\nsource = "csdl.hcm.edu.vn (dạng xuất)"\n')

    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with streamlit_server(store, env={"TIENDO_VIEWER": "quan_tri"}) as (base, _), sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1900}, locale="vi-VN")
            page.goto(base + "/nhap-du-lieu")
            page.get_by_role("heading", name="Nhập dữ liệu").first.wait_for(timeout=60_000)
            page.wait_for_selector(IDLE, timeout=60_000)
            page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(zpath))
            page.get_by_text("1 tệp:").first.wait_for(timeout=120_000)
            page.wait_for_selector(IDLE, timeout=60_000)
            page.locator(".st-key-imp_check button").click()
            page.get_by_role("heading", name="2. Xem trước thay đổi").wait_for(timeout=600_000)
            page.wait_for_selector(IDLE, timeout=60_000)
            assert page.locator(EXCEPTION).count() == 0, "Streamlit exception on the import page"
            page.screenshot(path=str(OUT))   # the page scrolls inside its own container: a tall viewport
        finally:
            browser.close()
    print(OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
