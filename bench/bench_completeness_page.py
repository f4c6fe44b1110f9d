"""Warm rerun time of the page «Mức độ đầy đủ dữ liệu» (pages/completeness.py), AppTest, signed
in as KHTC (the whole city: the largest grid).

Usage: python -m bench.bench_completeness_page STORE [--synthetic 2403] [--repeat 5]

With --synthetic N the page's grid (cmp.grid) is replaced by N rows tiled from the store's own
grid (school codes made unique, the not-measured cells kept), so the page draws an hcmc-sized
grid on a small store (e.g. the committed sample imported with `data_access ingest`).
Prints the cold page run, each warm rerun and their median, in seconds, and the CPU seconds
(process time) of the warm reruns."""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--synthetic", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args(argv)
    os.environ["TIENDO_STORE"] = a.store
    import pandas as pd
    from streamlit.testing.v1 import AppTest

    from data_access import completeness as cmp
    from data_access.access import Viewer
    from data_access.current_user import set_viewer

    set_viewer(Viewer("bench", "khtc", display_name="Bench KHTC"))
    if a.synthetic:
        real = cmp.grid

        def grid(viewer, snapshot_id=None, store=None):
            g = real(viewer, snapshot_id, store)
            reps = -(-a.synthetic // len(g))
            out = pd.concat([g] * reps, ignore_index=True).iloc[:a.synthetic].copy()
            out["school_code"] = [f"{c}-{i // len(g)}" for i, c in enumerate(out["school_code"])]
            return out.sort_values("school_code").reset_index(drop=True)
        cmp.grid = grid
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    at.run()
    at.switch_page("pages/completeness.py")
    t = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t
    if at.exception:
        raise SystemExit(at.exception[0].message)
    rows = max(len(d.value) for d in at.dataframe) if len(at.dataframe) else 0
    warm, cpu = [], []
    for _ in range(a.repeat):
        t, c = time.perf_counter(), time.process_time()
        at.run()
        warm.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(f"largest table {rows} rows; cold page {cold:.2f} s; warm " + " ".join(f"{w:.2f}" for w in warm)
          + f" s; median {statistics.median(warm):.2f} s wall, {statistics.median(cpu):.2f} s CPU; "
          f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
