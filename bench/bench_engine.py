"""Engine timings at demo / hcmc / national scale, against the pandas reference in the same run.

Usage: python -m bench.bench_engine [--scales demo,hcmc] [--snapshots last:3] [--work DIR]
For each scale: generate + import the series (not timed here, see bench_ingest), then, each
step in its own process so the peak memory is the step's own:
  derived (cold)      findings + per-school counts of every snapshot, computed from the raw tables
  progress+rollups    evaluate at the newest snapshot: progress + the 3 roll-ups (cache warm)
  findings            all findings of the newest snapshot (cache warm) and computed cold
  pandas reference    progress + the 3 roll-ups from the raw tables (tests/reference_pandas.py)
and the ratio pandas / DuckDB (cold, both from the raw tables). The detail column gives each
step's CPU seconds (user + sys) and the 1-minute load average at its end: compare CPU when the
machine is shared."""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import run

PY = sys.executable


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def phase(name: str, store: str) -> dict:
    """Runs inside the child process; prints one JSON line."""
    from data_access.campaign import load_campaign
    from data_access.evaluate import ensure_derived, evaluate
    from data_access.store import Store
    import data_access.engine as engine

    st = Store(store)
    camp = load_campaign()
    snaps = st.list_snapshots()
    t0 = time.perf_counter()
    c0 = _cpu_seconds()
    info: dict = {}
    if name == "derived":
        for r in snaps.itertuples():
            ensure_derived(st, r.snapshot_id, r.path, r.as_of, camp)
    elif name == "progress":
        ev = evaluate(st, None, camp)
        p = ev.df("SELECT * FROM progress")
        rl = [ev.df("SELECT * FROM rollup WHERE rollup_by = ?", [b]) for b in ("city", "district", "level")]
        info = {"progress_rows": len(p), "rollup_rows": sum(len(x) for x in rl)}
    elif name == "findings_warm":
        ev = evaluate(st, None, camp)
        f = ev.df("SELECT * FROM findings")
        info = {"findings": len(f)}
    elif name == "findings_cold":
        con = engine.open_snapshot(snaps.iloc[-1].path, camp, upto="findings")
        f = con.execute("SELECT * FROM findings").df()
        info = {"findings": len(f)}
    elif name == "pandas":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests import reference_pandas as ref
        pairs = [(r.as_of, r.path) for r in snaps.itertuples()]
        p = ref.progress(pairs, snaps.iloc[-1].as_of, camp)
        schools = ref.load_snapshot(snaps.iloc[-1].path)["schools"]
        rl = [ref.rollup(p, schools, b) for b in ("city", "district", "level")]
        info = {"progress_rows": len(p), "rollup_rows": sum(len(x) for x in rl)}
    info["seconds"] = time.perf_counter() - t0
    # CPU time (user + sys) of the step: on a shared machine it varies much less than the wall time.
    info["cpu_s"] = round(_cpu_seconds() - c0, 2)
    info["load"] = round(os.getloadavg()[0], 2)
    print("RESULT " + json.dumps(info))
    return info


def measured(name: str, store: Path) -> tuple[float, float, dict]:
    s, mb, out = run([PY, "-m", "bench.bench_engine", "--phase", name, "--store", str(store)])
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    info = json.loads(line[7:])
    return info["seconds"], mb, info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="demo,hcmc")
    ap.add_argument("--snapshots", default="last:3", help="snapshots generated for hcmc/national")
    ap.add_argument("--work")
    ap.add_argument("--phase")
    ap.add_argument("--store")
    ap.add_argument("--skip-pandas", action="store_true")
    args = ap.parse_args()
    if args.phase:
        phase(args.phase, args.store)
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="tiendo-bench-"))
    print(f"# work folder {work}")
    print(f"{'scale':8} {'step':30} {'seconds':>8} {'peak MB':>8}  detail")
    for scale in args.scales.split(","):
        out, store = work / f"extracts-{scale}", work / f"store-{scale}"
        if not (store / "snapshots").is_dir():
            snaps = "all" if scale == "demo" else args.snapshots
            run([PY, "-m", "sample_data.generate", "--scale", scale, "--out", str(out), "--snapshots", snaps, "--quiet"])
            for folder in sorted(p for p in out.iterdir() if p.is_dir()):
                run([PY, "-m", "data_access", "ingest", str(folder), "--store", str(store), "--no-precompute"])
            shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(store / "derived", ignore_errors=True)
        results = {}
        for name in ("derived", "progress", "findings_warm", "findings_cold") + (() if args.skip_pandas else ("pandas",)):
            s, mb, info = measured(name, store)
            results[name] = s
            detail = ", ".join(f"{k}={v}" for k, v in info.items() if k != "seconds")
            print(f"{scale:8} {name:30} {s:8.2f} {mb:8.0f}  {detail}", flush=True)
        cold = results["derived"] + results["progress"]
        print(f"{scale:8} {'duckdb cold (derived+progress)':30} {cold:8.2f}")
        if "pandas" in results:
            print(f"{scale:8} {'ratio pandas / duckdb cold':30} {results['pandas'] / cold:8.1f}x")
            print(f"{scale:8} {'ratio pandas / duckdb warm':30} {results['pandas'] / results['progress']:8.1f}x")


if __name__ == "__main__":
    main()
