"""The query API the pages call. Each function returns a DataFrame with documented columns.

Why one module: scope filtering and masking (by role) are added here, so a page can only draw
what this layer hands it. Pages never open DuckDB themselves.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .campaign import load_campaign
from .evaluate import evaluate
from .store import Store

DEFAULT_STORE = Path(__file__).resolve().parent.parent / "data" / "store"


def store_path() -> Path:
    """The store the dashboard reads: $TIENDO_STORE, else data/store in the project."""
    return Path(os.environ.get("TIENDO_STORE") or DEFAULT_STORE)


def snapshots(store: str | Path | None = None) -> pd.DataFrame:
    """Imported snapshots: snapshot_id, as_of (local time), path; oldest first."""
    return Store(Path(store or store_path())).list_snapshots()


def city_summary(store: str | Path | None = None, as_of=None) -> pd.DataFrame:
    """City roll-up at as_of: requirement_id, name, due, units_expected, units_done,
    units_done_on_time, completion_rate, on_time_rate, records_expected, records_done."""
    ev = evaluate(Path(store or store_path()), as_of, load_campaign())
    try:
        return ev.df("""
            SELECT r.requirement_id, c.name, c.due, r.units_expected, r.units_done,
                   r.units_done_on_time, r.completion_rate, r.on_time_rate,
                   r.records_expected, r.records_done
            FROM rollup r JOIN cfg_requirements c USING (requirement_id)
            WHERE r.rollup_by = 'city' ORDER BY c.sort_order""")
    finally:
        ev.close()
