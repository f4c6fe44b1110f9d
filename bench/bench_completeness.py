"""Issue 15 at scale: the completeness index and the report-figure comparison, computed cold and
served, and what the generator planted (figure mismatches by kind, incomplete domains).

Usage: python -m bench.bench_completeness STORE [--repeat 5] [--district 760] [--keep-copy]
STORE is left untouched: the cold phase runs on a copy (cp -a, derived files removed) in a
temporary folder next to it; the served and planting phases on a second copy whose derived files
the cold phase has just written (so STORE itself needs no derived files).
Each phase runs in its own child process (peak memory = its max RSS; bench/measure.py):
  cold      the newest snapshot's derived files from its raw tables: the whole derive
            (ensure_derived) and, inside it, the completeness layer (+ its Parquet files) and the
            indicator values + submitted figures; then the older snapshots' derive (not counted
            in the figure: context), then the evaluation, of which the materialisation of the
            comparison marts rf_figures and rf_reports.
  served    the query API calls the pages make once the derived files exist
            (pages/completeness.py: completeness.grid, .table city, .table district, .gaps,
            .over_time city, .over_time institution; pages/reports.py: report_figure_matches,
            report_figure_rates, report_figure_mismatches), each --repeat times on the opened
            evaluation: median and max (target ≤ 0.5 s). The evaluation's opening from the
            derived files (once per process, shared by every page) is given apart.
  planting  REPORT_FIGURE_MISMATCH findings by kind and institutions below 100 % per domain.
Why CPU seconds beside wall: the machine is shared; CPU (user + sys) varies much less."""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import run

PY = sys.executable


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _Timer:
    """Sums wall and CPU seconds of the calls of a wrapped function (by name)."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def wrap(self, name: str, fn):
        def timed(*a, **k):
            t, c = time.perf_counter(), _cpu()
            try:
                return fn(*a, **k)
            finally:
                self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - t
                self.cpu[name] = self.cpu.get(name, 0.0) + _cpu() - c
        return timed


def _step(info: dict, name: str, t0: float, c0: float) -> None:
    info[f"{name}_s"] = round(time.perf_counter() - t0, 2)
    info[f"{name}_cpu"] = round(_cpu() - c0, 2)


def phase_cold(store: str) -> dict:
    import data_access.engine as engine
    import data_access.evaluate as evaluate_mod
    import data_access.report_figures as rf
    from data_access.campaign import load_campaign
    from data_access.store import Store

    st, camp = Store(store), load_campaign()
    snaps = st.list_snapshots().sort_values("as_of").reset_index(drop=True)
    tm = _Timer()
    evaluate_mod._copy_completeness = tm.wrap("completeness", evaluate_mod._copy_completeness)
    rf.copy_derived = tm.wrap("figures", rf.copy_derived)   # (imported at call time by ensure_derived)
    new = snaps.iloc[-1]
    info: dict = {"snapshot": new.snapshot_id}
    t0, c0 = time.perf_counter(), _cpu()
    evaluate_mod.ensure_derived(st, new.snapshot_id, new.path, new.as_of, camp)
    _step(info, "derive_newest", t0, c0)
    info["of_which_completeness_s"] = round(tm.wall["completeness"], 2)
    info["of_which_completeness_cpu"] = round(tm.cpu["completeness"], 2)
    info["of_which_indicators_figures_s"] = round(tm.wall["figures"], 2)
    info["of_which_indicators_figures_cpu"] = round(tm.cpu["figures"], 2)
    t0, c0 = time.perf_counter(), _cpu()
    for r in snaps.iloc[:-1].itertuples():
        evaluate_mod.ensure_derived(st, r.snapshot_id, r.path, r.as_of, camp)
    _step(info, "derive_older", t0, c0)
    tm2 = _Timer()
    real = engine._materialize

    def materialize(con, view):
        if view in ("rf_figures", "rf_reports"):
            return tm2.wrap(view, real)(con, view)
        return real(con, view)
    engine._materialize = materialize
    t0, c0 = time.perf_counter(), _cpu()
    ev = evaluate_mod.evaluate(st, None, camp)
    _step(info, "evaluate", t0, c0)
    for v in ("rf_figures", "rf_reports"):
        info[f"of_which_{v}_s"] = round(tm2.wall.get(v, 0.0), 2)
        info[f"of_which_{v}_cpu"] = round(tm2.cpu.get(v, 0.0), 2)
    info["cmp_rows"] = int(ev.df("SELECT count(*) AS n FROM hist_completeness WHERE snapshot_id = ?",
                                 [ev.snapshot_id])["n"].iloc[0])
    info["rf_figures_rows"] = int(ev.df("SELECT count(*) AS n FROM rf_figures")["n"].iloc[0])
    info["rf_reports_rows"] = int(ev.df("SELECT count(*) AS n FROM rf_reports")["n"].iloc[0])
    return info


def _viewers(district: str):
    from data_access.access import Viewer
    return [Viewer("bench_khtc", "khtc"), Viewer("bench_phong", "phong_gd", district_code=district)]


def phase_served(store: str, repeat: int, district: str) -> dict:
    from data_access import completeness as cmp
    from data_access import queries
    from data_access import report_figures as rf

    info: dict = {}
    t0, c0 = time.perf_counter(), _cpu()
    ev = queries.evaluation(None, store)
    _step(info, "open_evaluation", t0, c0)
    sid = ev.snapshot_id
    calls = {}
    for v in _viewers(district):
        tag = v.role
        grid = cmp.grid(v, sid, store)
        pick = grid.sort_values(["index", "school_code"])["school_code"].iloc[0]   # as the page does
        calls.update({
            f"{tag} cmp.grid": lambda v=v: cmp.grid(v, sid, store),
            f"{tag} cmp.table city": lambda v=v: cmp.table(v, "city", sid, store),
            f"{tag} cmp.table district": lambda v=v: cmp.table(v, "district", sid, store),
            f"{tag} cmp.gaps": lambda v=v, p=pick: cmp.gaps(v, p, sid, store),
            f"{tag} cmp.over_time city": lambda v=v: cmp.over_time(v, "city", None, sid, store),
            f"{tag} cmp.over_time institution": lambda v=v, p=pick: cmp.over_time(v, "institution", p, sid, store),
            f"{tag} report_figure_matches": lambda v=v: rf.report_figure_matches(v, sid, queries.ALL, store),
            f"{tag} report_figure_rates": lambda v=v: rf.report_figure_rates(v, sid, queries.ALL, store),
            f"{tag} report_figure_mismatches": lambda v=v: rf.report_figure_mismatches(v, sid, queries.ALL, store),
        })
    rows = []
    for name, fn in calls.items():
        walls, cpus, n = [], [], 0
        for _ in range(repeat):
            t, c = time.perf_counter(), _cpu()
            n = len(fn())
            walls.append(time.perf_counter() - t)
            cpus.append(_cpu() - c)
        rows.append({"call": name, "rows": n, "median_s": round(statistics.median(walls), 3),
                     "max_s": round(max(walls), 3), "median_cpu": round(statistics.median(cpus), 3)})
    info["calls"] = rows
    return info


def phase_planting(store: str) -> dict:
    from data_access import queries
    ev = queries.evaluation(None, store)
    kinds = ev.df("""SELECT figure_state, count(*) AS figures, count(DISTINCT school_code) AS institutions
                     FROM rf_figures GROUP BY 1 ORDER BY 1""")
    findings = ev.df("""SELECT count(*) AS n, count(DISTINCT school_code) AS institutions FROM findings
                        WHERE rule_id = 'REPORT_FIGURE_MISMATCH'""")
    reports = ev.df("SELECT match_state, count(*) AS n FROM rf_reports GROUP BY 1 ORDER BY 1")
    below = ev.df("""SELECT domain, any_value(sort_order) AS o,
                            count(*) FILTER (WHERE percent IS NOT NULL) AS measured,
                            count(*) FILTER (WHERE percent < 100) AS below_100,
                            count(*) FILTER (WHERE percent IS NULL) AS not_measured,
                            min(percent) AS min_percent
                     FROM cmp_units WHERE snapshot_id = ? GROUP BY domain ORDER BY o""", [ev.snapshot_id])
    return {"snapshot": ev.snapshot_id,
            "figure_states": kinds.to_dict("records"),
            "REPORT_FIGURE_MISMATCH_findings": int(findings["n"].iloc[0]),
            "REPORT_FIGURE_MISMATCH_institutions": int(findings["institutions"].iloc[0]),
            "report_match_states": reports.to_dict("records"),
            "domains": below.drop(columns="o").to_dict("records")}


def _child(phase: str, store: Path, extra: list[str]) -> tuple[float, float, dict]:
    s, mb, out = run([PY, "-m", "bench.bench_completeness", str(store), "--phase", phase] + extra)
    return s, mb, json.loads(next(l for l in out.splitlines() if l.startswith("RESULT "))[7:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--phase", choices=("cold", "served", "planting"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--district", default="760")
    ap.add_argument("--keep-copy", action="store_true")
    args = ap.parse_args()
    if args.phase:
        info = {"cold": lambda: phase_cold(args.store),
                "served": lambda: phase_served(args.store, args.repeat, args.district),
                "planting": lambda: phase_planting(args.store)}[args.phase]()
        info["load"] = round(os.getloadavg()[0], 2)
        print("RESULT " + json.dumps(info, default=str))
        return
    src = Path(args.store).resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-cmp-", dir=src.parent))
    copy = work / "store"
    shutil.copytree(src, copy, symlinks=True)
    shutil.rmtree(copy / "derived", ignore_errors=True)
    print(f"# store {src} (copy {copy}, derived files removed)")
    try:
        s, mb, info = _child("cold", copy, [])
        print(f"cold     {'(whole child)':34} {s:8.2f} s {mb:7.0f} MB  load={info.pop('load')}")
        for k, v in info.items():
            print(f"cold     {k:34} {v}")
        s, mb, info = _child("served", copy, ["--repeat", str(args.repeat), "--district", args.district])
        print(f"served   {'(whole child)':34} {s:8.2f} s {mb:7.0f} MB  load={info.pop('load')}")
        print(f"served   {'open_evaluation':34} {info['open_evaluation_s']:8.2f} s  cpu={info['open_evaluation_cpu']}")
        print(f"served   {'call':34} {'rows':>7} {'median s':>9} {'max s':>7} {'cpu s':>7}")
        for r in info["calls"]:
            print(f"served   {r['call']:34} {r['rows']:7d} {r['median_s']:9.3f} {r['max_s']:7.3f} {r['median_cpu']:7.3f}")
        s, mb, info = _child("planting", copy, [])
        print(f"planting {'(whole child)':34} {s:8.2f} s {mb:7.0f} MB")
        for k, v in info.items():
            print(f"planting {k:34} {v}")
    finally:
        if args.keep_copy:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
