"""Time and peak memory to generate and import the sample data at demo and hcmc scale.

Usage: python -m bench.bench_ingest [--scales demo,hcmc] [--work DIR] [--hcmc-snapshots last:1]
Prints one line per step: scale, step, seconds, peak MB, rows per table, size on disk."""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench.measure import du_mb, run

PY = sys.executable


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="demo,hcmc")
    ap.add_argument("--work", default=None)
    ap.add_argument("--hcmc-snapshots", default="last:1")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="tiendo-bench-"))
    print(f"# work folder {work}")
    print(f"{'scale':8} {'step':28} {'seconds':>8} {'peak MB':>8} {'disk MB':>8}  detail")
    for scale in args.scales.split(","):
        out = work / f"extracts-{scale}"
        store = work / f"store-{scale}"
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)
        snaps = "all" if scale == "demo" else args.hcmc_snapshots
        s, mb, _ = run([PY, "-m", "sample_data.generate", "--scale", scale, "--out", str(out),
                        "--snapshots", snaps, "--quiet"])
        folders = sorted(p for p in out.iterdir() if p.is_dir())
        print(f"{scale:8} {'generate (' + str(len(folders)) + ' snapshots)':28} {s:8.1f} {mb:8.0f} {du_mb(out):8.0f}")
        for folder in folders:
            s, mb, text = run([PY, "-m", "data_access", "ingest", str(folder), "--store", str(store),
                               "--no-precompute"])
            rows = "; ".join(l.strip() for l in text.splitlines() if "dòng" in l and ":" in l)[:160]
            print(f"{scale:8} {'ingest ' + folder.name:28} {s:8.1f} {mb:8.0f} {du_mb(store):8.0f}  {rows}")
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
