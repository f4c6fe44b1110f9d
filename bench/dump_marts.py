"""Dump progress, rollup, findings and every dash_*/rf_*/cmp_*/hist_*/cur_* relation of the newest
evaluation to Parquet, to compare two code versions with bench/compare_marts.py (issue 12 perf).
Usage, from the code folder: PYTHONPATH=. python bench/dump_marts.py STORE OUTDIR"""
import sys
from pathlib import Path
from data_access.evaluate import evaluate
store, out = sys.argv[1], Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
ev = evaluate(store)
names = ev.df("""SELECT table_name AS n FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() WHERE NOT internal""")["n"]
names = sorted(n for n in names if not n.endswith(("__view", "__table")) and not n.startswith("_")
               and (n in ("progress", "rollup", "findings", "findings_snapshot", "progress_history", "progress_anchor")
                    or n.startswith(("dash_", "rf_", "cmp_", "hist_", "cur_"))))
for n in names:
    df = ev.df(f"SELECT * FROM {n}")
    df.to_parquet(out / f"{n}.parquet")
    print(n, len(df))
