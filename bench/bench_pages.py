"""Page script times of the dashboard (AppTest runs), cold and warm, at each store given.

Usage: python -m bench.bench_pages STORE [STORE ...] [--pages overview,districts,...] [--repeat 3]

For each store: first the snapshots' derived facts are made sure to exist (what `ingest` does
already; timed apart as "derive"), then for each page, in a fresh child process:
  cold  the first run of the page in a new process: empty st.cache_data, no Evaluation built
        yet (the entry script runs first on the default page, so the evaluation of the newest
        snapshot is counted in the first page's "cold" run only through that first script run;
        the figure reported is the page's own run right after the entry script ran),
  cold+ the whole first visit: entry script + page, from a new process,
  warm  the median of --repeat reruns of the same page (cached query results).
The institution page is measured with a ?school= of the institution with most errors, the
district page with ?district= unset (city map) and set (one district)."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "overview": ("pages/overview.py", {}),
    "districts": ("pages/districts.py", {}),
    "district_760": ("pages/districts.py", {"district": "760"}),
    "institution": ("pages/institution.py", {"school": "*"}),
    "reports": ("pages/reports.py", {}),
    "data_quality": ("pages/data_quality.py", {}),
    "completeness": ("pages/completeness.py", {}),   # issue 15: the completeness index page
}


def child(store: str, page: str, repeat: int) -> dict:
    """Runs inside the child process; returns the timings of one page."""
    os.environ["TIENDO_STORE"] = store
    from streamlit.testing.v1 import AppTest

    from data_access import queries
    from data_access.access import SYSTEM, Viewer
    from data_access.current_user import set_viewer

    # Signed in as a city-wide office (KHTC): without a viewer the dashboard shows its login
    # page, and every "page" time would be the login form's.
    set_viewer(Viewer("bench", "khtc", display_name="Bench KHTC"))
    path, params = PAGES[page]
    params = dict(params)
    if params.get("school") == "*":
        params["school"] = queries.schools_most_errors(SYSTEM, store=store, n=1)["school_code"].iloc[0]
        queries._EVALS.clear()   # measure the page cold, as a new process would be
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    t0 = time.perf_counter()
    if page == "overview" and not params:
        at.run()
        first = time.perf_counter() - t0
        entry = first
    else:
        at.run()
        entry = time.perf_counter() - t0
        at.switch_page(path)
        at.query_params.update(params)
        t1 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t1
    total = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"{page}: {at.exception[0].message}")
    if not any(t.value != "Tiến độ cập nhật CSDL" for t in at.title):
        raise SystemExit(f"{page}: the page did not render (titles {[t.value for t in at.title]})")
    warm = []
    for _ in range(repeat):
        t = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t)
    return {"page": page, "entry": entry, "cold": first, "cold_total": total,
            "warm": statistics.median(warm)}


def derive(store: str) -> float:
    from data_access import queries
    t = time.perf_counter()
    queries.evaluation(None, store)
    prev = queries.previous_snapshot_id(None, store)
    if prev:
        queries.evaluation(prev, store)
    return time.perf_counter() - t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("stores", nargs="*")
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print("RESULT " + json.dumps(child(a.child[0], a.child[1], a.repeat)))
        return
    for store in a.stores:
        print(f"== {store}")
        print(f"derive (evaluations of the newest and previous snapshot, caches filled): "
              f"{derive(store):.2f} s")
        print(f"{'page':<14}{'cold page':>11}{'cold visit':>12}{'warm':>8}")
        for page in a.pages.split(","):
            out = subprocess.run([sys.executable, "-m", "bench.bench_pages", "--repeat", str(a.repeat),
                                  "--child", store, page], cwd=ROOT, capture_output=True, text=True)
            line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                sys.stderr.write(out.stdout + out.stderr)
                raise SystemExit(f"{page} failed")
            r = json.loads(line[7:])
            print(f"{page:<14}{r['cold']:>10.2f}s{r['cold_total']:>11.2f}s{r['warm']:>7.2f}s")


if __name__ == "__main__":
    main()
