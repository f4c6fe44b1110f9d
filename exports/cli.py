"""``python -m data_access export``: the status sheets from the command line, for scheduled
sending. The CLI runs as the system (whole city); --district / --school narrow the file."""
from __future__ import annotations

import os
import time
from pathlib import Path

from data_access import ops
from data_access.access import SYSTEM
from data_access.evaluate import evaluate
from data_access.store import Store

from . import csv_export, status_workbook


def run_export(store: str | Path, out: str | Path, as_of=None, campaign=None, district=None,
               school=None, table=None) -> str:
    """Write the file (atomically: a temporary name renamed into place), audit-log it, return a
    one-line summary."""
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in (".xlsx", ".csv"):
        raise ValueError(f"Tệp ra phải là .xlsx hoặc .csv: {out}")
    if table and ext != ".csv":
        raise ValueError("--table chỉ dùng với tệp .csv")
    t0 = time.perf_counter()
    st = Store(Path(store))
    ev = evaluate(st, as_of, campaign)
    try:
        if ext == ".xlsx":
            data, rows = status_workbook.workbook_bytes(ev, SYSTEM, st, district, school)
        else:
            data, rows = csv_export.csv_bytes(ev, SYSTEM, table, st, district, school)
        as_of_text = f"{ev.as_of:%H:%M %d/%m/%Y}"
    finally:
        ev.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    ops.audit(st, SYSTEM, "export.cli", object=out.name, rows=rows,
              scope=f"truong:{school}" if school else (f"quan:{district}" if district else "thanh_pho"),
              detail={"as_of": as_of_text, "table": table, "bytes": len(data)})
    return (f"Đã ghi {out} ({rows} dòng dữ liệu, {len(data) / 1024:.0f} KB, số liệu tính đến {as_of_text}, "
            f"{time.perf_counter() - t0:.1f} giây).")
