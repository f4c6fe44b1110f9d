"""EXCEPT ALL both ways (and the same columns and types) of every Parquet file of two folders
written by bench/dump_marts.py: python bench/compare_marts.py BEFORE AFTER (exit 1 on a difference)"""
import sys
from pathlib import Path
import duckdb
a, b = Path(sys.argv[1]), Path(sys.argv[2])
con = duckdb.connect()
bad = 0
names = sorted({p.name for p in a.glob("*.parquet")} | {p.name for p in b.glob("*.parquet")})
for n in names:
    if not (a / n).exists() or not (b / n).exists():
        print(f"{n}: only in {'A' if (a / n).exists() else 'B'}"); bad += 1; continue
    x, y = f"read_parquet('{a / n}')", f"read_parquet('{b / n}')"
    rows = con.execute(f"SELECT count(*) FROM {x}").fetchone()[0]
    ab = con.execute(f"SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})").fetchone()[0]
    ba = con.execute(f"SELECT count(*) FROM (SELECT * FROM {y} EXCEPT ALL SELECT * FROM {x})").fetchone()[0]
    cols = con.execute(f"DESCRIBE SELECT * FROM {x}").fetchall() == con.execute(f"DESCRIBE SELECT * FROM {y}").fetchall()
    print(f"{n:40} rows {rows:>8}  A-B {ab}  B-A {ba}  same columns/types {cols}")
    bad += (ab > 0) + (ba > 0) + (not cols)
print("DIFFERENCES" if bad else "ALL EQUAL", bad)
sys.exit(1 if bad else 0)
