"""Time in the generator: the snapshot series, the deadlines, and helpers to draw event times.

Times are integer minutes since 2022-01-01 00:00 local time (Asia/Ho_Chi_Minh, +07:00), so
"has it happened by snapshot t" is an integer comparison over whole arrays. NEVER is a time
after every snapshot; ALWAYS one before every snapshot.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

TZ = dt.timezone(dt.timedelta(hours=7))
EPOCH = dt.datetime(2022, 1, 1, tzinfo=TZ)
DAY = 1440
HOUR = 60
NEVER = 10**9
ALWAYS = -(10**9)


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2022) -> int:
    return int((dt.datetime(year, month, day, hour, minute, tzinfo=TZ) - EPOCH).total_seconds() // 60)


def to_datetime(minutes: int) -> dt.datetime:
    return EPOCH + dt.timedelta(minutes=int(minutes))


# Cut-offs of campaigns/2021-2022-cv1254.toml (end of the day, inclusive).
INFO_DUE = at(4, 26, 23, 59)
REPORT_DUE = at(4, 28, 23, 59)
FINAL_DUE = at(6, 29, 23, 59)

# The snapshot series: when the city database was exported. Record requirements are only
# observed at snapshots, so a unit first seen done after a cut-off whose previous snapshot lies
# before it is "on time, timing uncertain" (RULES.md). The series therefore holds a snapshot taken
# at each record cut-off (G12_INFO 26/04, G12_RESULTS_FINAL 29/06), as of its last second
# 23:59:59 (see iso): every event of the minute 23:59 is in it, so the demo's verdicts are exact.
CUTOFF_SNAPSHOTS: tuple[int, ...] = (INFO_DUE, FINAL_DUE)
SNAPSHOTS: tuple[int, ...] = tuple(sorted((
    at(4, 20, 17), at(4, 25, 17), at(4, 26, 17), at(4, 27, 17), at(4, 29, 8),
    at(5, 16, 17), at(6, 15, 17), at(6, 29, 17), at(7, 5, 17)) + CUTOFF_SNAPSHOTS))
FIRST, LAST = SNAPSHOTS[0], SNAPSHOTS[-1]


def folder_name(t: int) -> str:
    return to_datetime(t).strftime("%Y-%m-%dT%H%M")


def iso(t: int) -> str:
    """as_of of the snapshot at minute t; a cut-off snapshot is as of the end of its minute
    (23:59:59, the due time itself), since it holds every event of that minute."""
    return (to_datetime(t) + dt.timedelta(seconds=59 if t in CUTOFF_SNAPSHOTS else 0)).isoformat()


def select_snapshots(spec: str) -> list[int]:
    """'all' | 'last:K' | comma-separated folder names (2022-04-27T1700) or dates (2022-04-27)."""
    spec = (spec or "all").strip()
    if spec == "all":
        return list(SNAPSHOTS)
    if spec.startswith("last:"):
        k = int(spec.split(":", 1)[1])
        if k < 1:
            raise ValueError("last:K needs K >= 1")
        return list(SNAPSHOTS[-k:])
    chosen = []
    for item in spec.split(","):
        item = item.strip()
        hits = [t for t in SNAPSHOTS if folder_name(t) == item or folder_name(t).startswith(item)]
        if not hits:
            names = ", ".join(folder_name(t) for t in SNAPSHOTS)
            raise ValueError(f"unknown snapshot {item!r}; the series is: {names}")
        chosen.extend(h for h in hits if h not in chosen)
    return sorted(chosen)


def piecewise(u: np.ndarray, segments: list[tuple[float, int, int | None]]) -> np.ndarray:
    """Map uniforms u in [0, 1) to times: segments = [(probability, start, end)], drawn
    uniformly within the chosen segment; end None = NEVER (the event does not happen).
    Probabilities are normalised."""
    p = np.array([s[0] for s in segments], dtype=float)
    p = p / p.sum()
    cum = np.cumsum(p)
    cum[-1] = 1.0
    idx = np.minimum(np.searchsorted(cum, u, side="right"), len(segments) - 1)
    lo = np.concatenate([[0.0], cum[:-1]])[idx]
    within = (u - lo) / p[idx]
    start = np.array([s[1] for s in segments], dtype=np.int64)[idx]
    end_raw = [s[2] for s in segments]
    end = np.array([NEVER if e is None else e for e in end_raw], dtype=np.int64)[idx]
    never = np.array([e is None for e in end_raw])[idx]
    out = start + np.floor(within * (end - start)).astype(np.int64)
    return np.where(never, NEVER, out)


def ranks_uniform(x: np.ndarray) -> np.ndarray:
    """Empirical-CDF transform: the i-th smallest of n values -> (i + 0.5) / n. Gives exactly the
    segment shares of `piecewise` even for a few institutions (stratified), and keeps order."""
    n = len(x)
    if n == 0:
        return np.zeros(0)
    r = np.empty(n, dtype=np.int64)
    r[np.argsort(x, kind="stable")] = np.arange(n)
    return (r + 0.5) / n


def correlated_uniform(rng: np.random.Generator, z: np.ndarray, rho: float) -> np.ndarray:
    """Uniforms whose order follows the latent promptness z with correlation rho."""
    x = rho * z + np.sqrt(1 - rho * rho) * rng.standard_normal(len(z))
    return ranks_uniform(x)


def daytime(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Move event times to plausible office hours of their day (07:00-22:59), keeping the day;
    NEVER/ALWAYS untouched."""
    t = np.asarray(t, dtype=np.int64)
    real = (t > ALWAYS) & (t < NEVER)
    day = np.floor_divide(t, DAY) * DAY
    minute = rng.integers(7 * 60, 23 * 60, size=t.shape)
    return np.where(real, day + minute, t)


def format_times(t: np.ndarray) -> np.ndarray:
    """minutes -> 'dd/mm/yyyy HH:MM' (object array)."""
    base = np.datetime64("2022-01-01T00:00")
    s = np.datetime_as_string(base + np.asarray(t, dtype="timedelta64[m]"), unit="m")
    return np.array([f"{x[8:10]}/{x[5:7]}/{x[0:4]} {x[11:16]}" for x in s], dtype=object)


def format_dates(t: np.ndarray) -> np.ndarray:
    """minutes -> 'dd/mm/yyyy' of the local day."""
    base = np.datetime64("2022-01-01")
    d = base + np.floor_divide(np.asarray(t, dtype=np.int64), DAY).astype("timedelta64[D]")
    s = np.datetime_as_string(d, unit="D")
    return np.array([f"{x[8:10]}/{x[5:7]}/{x[0:4]}" for x in s], dtype=object)
