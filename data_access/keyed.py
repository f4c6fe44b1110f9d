"""A city-wide query result ordered by one key (school or district code), with each key's row
range, so that one institution's rows are a slice instead of a query.

Why: on deadline day ~30 offices open ~30 different institutions at once. Each of those first
visits ran five small queries (~3-8 ms each in DuckDB: parse, plan, a scan, the conversion to
pandas, all under Streamlit's one process), while the same five queries over the whole city
cost about as much once. The SQL is unchanged but for its WHERE on the key, which becomes
``ORDER BY key``; the rules stay in the views."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class KeyedFrame:
    """``df`` ordered by ``key``; ``ranges[k]`` = (first row, last row + 1) of key ``k``."""
    df: pd.DataFrame
    key: str
    ranges: dict

    @classmethod
    def build(cls, df: pd.DataFrame, key: str) -> "KeyedFrame":
        """``df`` must already be ordered by ``key`` (the SQL's ORDER BY key, ...): the order
        inside each key's rows is kept as the query gave it. Rows whose key is NULL (None,
        NaN, NA: e.g. a finding at an institution unknown to the snapshot, without a district)
        belong to no key's slice, exactly as ``WHERE key = ?`` never returns them; they are
        dropped, wherever the ORDER BY put them."""
        df = df[df[key].notna()] if len(df) else df
        df = df.reset_index(drop=True)
        codes = df[key].to_numpy(dtype=object)
        if len(codes) == 0:
            return cls(df, key, {})
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        stops = np.r_[starts[1:], len(codes)]
        ranges = {codes[a]: (int(a), int(b)) for a, b in zip(starts, stops)}
        if len(ranges) != len(starts):
            raise ValueError(f"KeyedFrame: rows are not grouped by {key}")
        return cls(df, key, ranges)

    def rows(self, value) -> pd.DataFrame:
        """The rows of one key value (empty, with the columns, when it has none); a new frame
        the caller may change."""
        a, b = self.ranges.get(value, (0, 0)) if not pd.isna(value) else (0, 0)
        return self.df.iloc[a:b].reset_index(drop=True).copy()
