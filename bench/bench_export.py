"""Time and peak memory to build the full city status workbook (XLSX) — target ≤ 10 s at hcmc.

Usage:
  python -m bench.bench_export --store DIR            # an existing store (e.g. built below)
  python -m bench.bench_export --scale hcmc [--work DIR]
      generates `--scale hcmc --snapshots last:2` and imports it first (not timed; minutes)

Each step runs in its own child process so its peak RSS is its own (bench.measure):
  evaluate      evaluate() at the newest snapshot (derived caches warm)
  workbook      evaluate + laggards + every sheet + save to bytes (what the download does)
  csv           evaluate + the status table as CSV
Prints a table and one JSON line per step.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import run

PY = sys.executable
ROOT = Path(__file__).resolve().parent.parent


def phase(name: str, store: str) -> dict:
    """Runs inside the child process; prints one JSON line."""
    from data_access.access import SYSTEM
    from data_access.evaluate import evaluate
    from exports import csv_export, status_workbook

    t0 = time.perf_counter()
    ev = evaluate(store)
    t_eval = time.perf_counter() - t0
    info: dict = {"evaluate_s": round(t_eval, 2)}
    if name == "workbook":
        t1 = time.perf_counter()
        wb, rows = status_workbook.build_workbook(ev, SYSTEM, store)
        t2 = time.perf_counter()
        import io
        buf = io.BytesIO()
        wb.save(buf)
        info.update(rows=rows, sheets=len(wb.sheetnames), bytes=buf.tell(),
                    build_s=round(t2 - t1, 2), save_s=round(time.perf_counter() - t2, 2))
    elif name == "csv":
        data, rows = csv_export.csv_bytes(ev, SYSTEM, "trang-thai", store)
        info.update(rows=rows, bytes=len(data))
    info["total_s"] = round(time.perf_counter() - t0, 2)
    ev.close()
    return info


def build_store(scale: str, work: Path) -> Path:
    extracts, store = work / f"{scale}-extracts", work / f"{scale}-store"
    if not store.exists():
        subprocess.run([PY, "-m", "sample_data.generate", "--scale", scale, "--snapshots", "last:2",
                        "--out", str(extracts), "--quiet"], cwd=ROOT, check=True)
        folders = sorted(str(p) for p in extracts.iterdir() if p.is_dir())
        subprocess.run([PY, "-m", "data_access", "ingest", *folders, "--store", str(store)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return store


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_export")
    ap.add_argument("--store")
    ap.add_argument("--scale", default="hcmc")
    ap.add_argument("--work", default=None)
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=2, help="runs per step (the best is reported)")
    args = ap.parse_args(argv)
    if args.phase:
        print(json.dumps(phase(args.phase, args.store)))
        return 0
    store = Path(args.store) if args.store else build_store(
        args.scale, Path(args.work or tempfile.mkdtemp(prefix="bench-export-")))
    # warm the derived caches once (not timed: ingest precomputes them)
    run([PY, "-m", "bench.bench_export", "--store", str(store), "--phase", "evaluate"])
    print(f"store: {store}")
    print(f"{'step':<10} {'seconds':>8} {'peak MB':>8}  detail")
    for name in ("evaluate", "workbook", "csv"):
        best = None
        for _ in range(max(1, args.repeat)):
            sec, mb, out = run([PY, "-m", "bench.bench_export", "--store", str(store), "--phase", name])
            info = json.loads(out.strip().splitlines()[-1])
            if best is None or sec < best[0]:
                best = (sec, mb, info)
        sec, mb, info = best
        print(f"{name:<10} {sec:8.2f} {mb:8.0f}  {info}")
        print(json.dumps({"step": name, "seconds": round(sec, 2), "peak_mb": round(mb), **info}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
