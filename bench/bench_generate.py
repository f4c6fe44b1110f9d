"""Time, peak memory and size on disk of the sample-data generator at each scale.

Usage: python -m bench.bench_generate [--runs demo:all,hcmc:last:1,hcmc:all,national:last:1]
                                      [--work DIR] [--keep]
Each run is a child process (peak memory = its max RSS). National last:1 writes ~9 GB and takes
a few minutes."""
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
    ap.add_argument("--runs", default="demo:all,hcmc:last:1")
    ap.add_argument("--work", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="tiendo-gen-"))
    print(f"# work folder {work}")
    print(f"{'scale':9} {'snapshots':10} {'seconds':>8} {'peak MB':>8} {'disk MB':>9}")
    for spec in args.runs.split(","):
        scale, snaps = spec.split(":", 1)
        out = work / f"{scale}-{snaps.replace(':', '')}"
        shutil.rmtree(out, ignore_errors=True)
        s, mb, _ = run([PY, "-m", "sample_data.generate", "--scale", scale, "--out", str(out),
                        "--snapshots", snaps, "--quiet"])
        print(f"{scale:9} {snaps:10} {s:8.1f} {mb:8.0f} {du_mb(out):9.0f}", flush=True)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
