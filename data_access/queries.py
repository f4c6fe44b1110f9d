"""The query API the pages call. Each function returns a DataFrame with documented columns.

Why one module: every function takes the ``Viewer`` first and restricts rows to the viewer's
scope IN SQL (``access.scope_filter``), and personal values are masked here before a frame
leaves (``access.mask_*``), so a page can only draw what this layer hands it. Pages never open
DuckDB themselves and hold no rule: statuses, percents, days late, at-risk and what blocks a
record come from the engine's views (``progress``, ``rollup``, ``findings``) and the thin marts
of ``sql/marts_ui.sql`` (``dash_*``) that add the institution's dimensions to them.

Arguments shared by most functions:
- ``viewer``: who is asking (data_access.access.Viewer).
- ``snapshot_id``: the snapshot evaluated (None = the newest); the evaluation is at its as-of.
- ``filters``: a ``Filters`` (district, level group, ownership, requirements); empty = all.
- ``store``: the store folder (None = $TIENDO_STORE or data/store).

One ``Evaluation`` is built per (store, snapshot, campaign, engine SQL) and kept for the
process; every query runs on its own DuckDB cursor (``Evaluation.df``), so Streamlit's threads
never share one connection's session.
"""
from __future__ import annotations

import functools
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from . import engine, file_memo, ops, reference
from .access import (Viewer, finding_message_sql, mask_address, mask_birth_date, mask_id, scope_filter,
                     scope_rows)
from .campaign import load_campaign
from .evaluate import Evaluation, NoSnapshotError, evaluate
from .store import Store

DEFAULT_STORE = Path(__file__).resolve().parent.parent / "data" / "store"
RECORD_KINDS = ("student_info", "student_results")

__all__ = ["Filters", "NoSnapshotError", "store_path", "snapshots", "evaluation", "requirements",
           "districts", "city_summary", "deadline_cards", "requirement_summary",
           "progress_over_time", "at_risk_units", "worst_districts", "worst_schools",
           "district_matrix", "district_completion", "school_matrix", "search_schools",
           "school_profile", "school_checklist", "school_findings_by_rule", "students_not_done",
           "student_record", "mask_people",
           "school_history", "report_matrix", "report_counts_by_district", "findings_summary",
           "findings_by", "schools_most_errors", "rule_records", "filled_vs_valid",
           "rule_catalog", "report_figure_matches", "report_figure_mismatches",
           "report_figure_rates"]


def store_path() -> Path:
    """The store the dashboard reads: $TIENDO_STORE, else data/store in the project."""
    return Path(os.environ.get("TIENDO_STORE") or DEFAULT_STORE)


def _store(store) -> Path:
    return Path(store) if store else store_path()


@dataclass(frozen=True)
class Filters:
    """The global filters of the dashboard. None/empty means "all".

    district: district code ('760'); level_group: MN/TH/THCS/THPT/GDTX/LIEN_CAP;
    ownership: 'Công lập' or 'Ngoài công lập'; requirements: requirement ids."""
    district: str | None = None
    level_group: str | None = None
    ownership: str | None = None
    requirements: tuple[str, ...] = field(default_factory=tuple)

    def key(self) -> tuple:
        return (self.district, self.level_group, self.ownership, tuple(self.requirements))


ALL = Filters()


# ---- snapshots and evaluations -------------------------------------------------------------
def snapshots(store: str | Path | None = None) -> pd.DataFrame:
    """Imported snapshots: snapshot_id, as_of (local time), path; oldest first.
    (Not scoped: the list of snapshots is the same for everyone.)"""
    return Store(_store(store)).list_snapshots()


_EVALS: "OrderedDict[tuple, Evaluation]" = OrderedDict()
_EVALS_LOCK = threading.Lock()
_EVALS_MAX = 6


_RECENT: dict[tuple, tuple[float, int, tuple]] = {}
RECHECK_SECONDS = 0.25


def evaluation(snapshot_id: str | None = None, store: str | Path | None = None) -> Evaluation:
    """The Evaluation at ``snapshot_id``'s as-of (None = newest), built once per process.

    Every query calls this, several times per page view. Finding the key (below) stats the
    snapshot folder, ops.sqlite, the campaign and the SQL files; within RECHECK_SECONDS of the
    last time, with no write by this process since (file_memo.generation), the answer found
    then is given again: another process's import or register write is seen at most that
    much later. (Measured: these stats were ~15 % of the server's CPU when 22 district offices
    opened their views at once.)

    Key: store, snapshot id, campaign fingerprint, engine SQL fingerprint, the version of
    the paper-copy register (the engine counts its receipts, so a new receipt rebuilds it) and
    the visible snapshots up to it (the history: a hidden, unhidden or late-imported older
    snapshot changes it).
    Raises NoSnapshotError when the store has no snapshot (or not that one)."""
    root = _store(store)
    recent_key, now, gen = (str(root), snapshot_id), time.monotonic(), file_memo.generation()
    hit = _RECENT.get(recent_key)
    if hit is not None and now - hit[0] < RECHECK_SECONDS and hit[1] == gen:
        with _EVALS_LOCK:
            ev = _EVALS.get(hit[2])
        if ev is not None:   # (not closed: still among the kept evaluations)
            return ev
    snaps = snapshots(root)
    if snaps.empty:
        raise NoSnapshotError(
            f"Chưa có snapshot nào trong kho {root}. Hãy nhập dữ liệu: "
            f"python -m data_access ingest THU_MUC --store {root}")
    if snapshot_id is None:
        row = snaps.iloc[-1]
    else:
        hit = snaps[snaps["snapshot_id"] == snapshot_id]
        if hit.empty:
            raise NoSnapshotError(f"Không có snapshot {snapshot_id} trong kho {root}")
        row = hit.iloc[-1]
    campaign = load_campaign()
    history = tuple(snaps.loc[snaps["as_of"] <= row.as_of, "snapshot_id"])
    key = (str(root.resolve()), row.snapshot_id, campaign.fingerprint, engine.engine_fingerprint(),
           ops.register_version(root), history)
    _RECENT[recent_key] = (now, gen, key)
    with _EVALS_LOCK:
        ev = _EVALS.get(key)
        if ev is not None:
            _EVALS.move_to_end(key)
            return ev
        # evaluate() picks the newest snapshot at or before an as-of: of two snapshots with the
        # same as-of, the later import (the list is ordered that way).
        ev = evaluate(root, row.as_of, campaign)
        _EVALS[key] = ev
        while len(_EVALS) > _EVALS_MAX:
            _, old = _EVALS.popitem(last=False)
            try:
                old.close()
            except Exception:  # noqa: BLE001 - a connection still in use elsewhere
                pass
        return ev


def previous_snapshot_id(snapshot_id: str | None, store=None) -> str | None:
    """The snapshot just before ``snapshot_id`` (None = newest) by as-of, or None."""
    snaps = snapshots(store)
    if snaps.empty:
        return None
    ids = list(snaps["snapshot_id"])
    i = len(ids) - 1 if snapshot_id is None else ids.index(snapshot_id)
    return ids[i - 1] if i > 0 else None


# ---- SQL helpers -----------------------------------------------------------------------------
def _where(viewer: Viewer, filters: Filters | None, *, school_col="school_code",
           district_col="district_code", level_col="level_group", ownership_col="ownership",
           req_col: str | None = "requirement_id") -> tuple[str, list]:
    """The viewer's scope AND the filters, as one SQL condition with ? parameters."""
    cond, params = scope_filter(viewer, school_col, district_col)
    conds, ps = [cond], list(params)
    f = filters or ALL
    if f.district:
        conds.append(f"{district_col} = ?")
        ps.append(f.district)
    if f.level_group:
        conds.append(f"{level_col} = ?")
        ps.append(f.level_group)
    if f.ownership:
        conds.append(f"{ownership_col} = ?")
        ps.append(f.ownership)
    if f.requirements and req_col:
        conds.append(f"{req_col} IN ({', '.join('?' for _ in f.requirements)})")
        ps.extend(f.requirements)
    return " AND ".join(conds), ps


def _df(ev: Evaluation, sql: str, params=None) -> pd.DataFrame:
    return ev.df(sql, params)


def _district_of(viewer: Viewer, filters: Filters | None) -> str | None:
    """The one district the rows are restricted to when nothing else restricts them (a district
    office's own views; a city role's ?district= without other filters), else None."""
    f = filters or ALL
    if f.level_group or f.ownership or f.requirements or viewer.role == "truong":
        return None
    if viewer.role == "phong_gd":
        return viewer.district_code if f.district in (None, "", viewer.district_code) else None
    return f.district or None


def _in_scope(ev: Evaluation, viewer: Viewer, filters: Filters | None, name: str, sql: str,
              order: str) -> pd.DataFrame:
    """The rows of ``sql`` in the viewer's scope and the filters, ordered by ``order``.

    ``sql`` holds ``{key}`` at the head of its SELECT list, ``{group_key}`` at the head of its
    GROUP BY list (if it has one) and ``{cond}`` as its WHERE condition, on dash_units or
    dash_history columns. When one district is the only restriction (``_district_of``), the
    rows are a slice of the whole city's result by district, made once per evaluation
    (``Evaluation.keyed``): on a deadline morning ~22 district offices each open their own
    views for the first time, and each view was several queries. Otherwise, or when that
    result is too large to keep, the query runs with its condition."""
    d = _district_of(viewer, filters)
    if d is not None:
        kf = ev.keyed(name, sql.replace("{key}", "district_code AS _key, ").replace("{group_key}", "district_code, ")
                      .replace("{cond}", "TRUE") + f" ORDER BY _key, {order}", "_key")
        if kf is not None:
            return kf.rows(d).drop(columns="_key")
    cond, params = _where(viewer, filters)
    return _df(ev, sql.replace("{key}", "").replace("{group_key}", "").replace("{cond}", cond)
               + f" ORDER BY {order}", params)


_UNIT_AGG = """
    count(*) AS units_expected,
    count(*) FILTER (WHERE is_done) AS units_done,
    count(*) FILTER (WHERE is_on_time) AS units_done_on_time,
    dash_rate(count(*) FILTER (WHERE is_done), count(*)) AS completion_rate,
    dash_rate(count(*) FILTER (WHERE is_on_time), count(*)) AS on_time_rate,
    count(*) FILTER (WHERE status = 'overdue') AS units_overdue,
    count(*) FILTER (WHERE at_risk) AS units_at_risk,
    count(*) FILTER (WHERE timing_uncertain) AS units_timing_uncertain,
    count(*) FILTER (WHERE timing_uncertain AND completed_after IS NULL) AS units_timing_uncertain_no_prior,
    sum(expected) FILTER (WHERE is_record)::BIGINT AS records_expected,
    sum(done) FILTER (WHERE is_record)::BIGINT AS records_done"""


# ---- reference lists -------------------------------------------------------------------------
# Query functions whose answer is the same for every viewer (they read the campaign or the
# rules, no institution's data): callers may share one cached answer between all viewers.
UNSCOPED = frozenset({"requirements"})


def requirements(viewer: Viewer, snapshot_id: str | None = None, store=None) -> pd.DataFrame:
    """The campaign's requirements: requirement_id, name, kind, report_code, due (NaT = no due
    date), letter_words, target_percent, sort_order; in the letter's order. (Not scoped.)"""
    ev = evaluation(snapshot_id, store)
    return _df(ev, """SELECT requirement_id, name, kind, report_code, due, letter_words,
                             target_percent, sort_order
                      FROM cfg_requirements ORDER BY sort_order""")


def districts(viewer: Viewer, snapshot_id: str | None = None, store=None) -> pd.DataFrame:
    """District-level units in the viewer's scope: district_code, district_name, n_schools
    (institutions in the snapshot); in the official code order."""
    ev = evaluation(snapshot_id, store)
    return _in_scope(ev, viewer, ALL, "districts", """
        SELECT {key} district_code, d.district_name, count(s.school_code) AS n_schools
        FROM ref_districts d LEFT JOIN cur_schools s USING (district_code)
        WHERE {cond}
        GROUP BY ALL""", "district_code")


# ---- overview --------------------------------------------------------------------------------
def city_summary(viewer: Viewer, snapshot_id: str | None = None, store=None) -> pd.DataFrame:
    """The engine's own roll-up for the viewer's whole scope (no filter): requirement_id, name,
    due, units_expected, units_done, units_done_on_time, completion_rate, on_time_rate,
    records_expected, records_done. City-wide roles read ``rollup`` (by='city'); a district
    office reads rollup by='district'; a school its own progress rows."""
    ev = evaluation(snapshot_id, store)
    if viewer.role == "truong":
        return requirement_summary(viewer, snapshot_id, ALL, store)[
            ["requirement_id", "name", "due", "units_expected", "units_done", "units_done_on_time",
             "completion_rate", "on_time_rate", "records_expected", "records_done"]]
    by, grp = ("district", viewer.district_code) if viewer.role == "phong_gd" else ("city", "city")
    return _df(ev, """
        SELECT r.requirement_id, c.name, c.due, r.units_expected, r.units_done,
               r.units_done_on_time, r.completion_rate, r.on_time_rate,
               r.records_expected, r.records_done
        FROM rollup r JOIN cfg_requirements c USING (requirement_id)
        WHERE r.rollup_by = ? AND r."group" = ? ORDER BY c.sort_order""", [by, grp])


def requirement_summary(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                        store=None) -> pd.DataFrame:
    """One row per requirement over the institutions in scope and filters: requirement_id,
    name, kind, due, letter_words, days_left (local days from the as-of date to the due date;
    NULL without a due date), units_expected, units_done, units_done_on_time, completion_rate,
    on_time_rate (percent, one decimal), units_overdue, units_at_risk, records_expected,
    records_done (record requirements only), records_rate; in the letter's order."""
    ev = evaluation(snapshot_id, store)
    return _in_scope(ev, viewer, filters, "requirement_summary", f"""
        SELECT {{key}} requirement_id, any_value(requirement_name) AS name, any_value(kind) AS kind,
               any_value(due) AS due, any_value(letter_words) AS letter_words,
               any_value(days_left) AS days_left, {_UNIT_AGG},
               CASE WHEN any_value(is_record) THEN dash_rate(sum(done), sum(expected)) END AS records_rate,
               any_value(sort_order) AS sort_order
        FROM dash_units WHERE {{cond}}
        GROUP BY {{group_key}} requirement_id""", "sort_order")


def deadline_cards(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                   store=None) -> pd.DataFrame:
    """One row per deadline (due time; NaT = requirements without a due date): due,
    days_left, n_requirements, requirement_ids (list), requirement_names (list),
    units_expected, units_done, units_done_on_time, completion_rate, on_time_rate,
    units_overdue, units_at_risk, units_timing_uncertain (done on time only by a snapshot window
    holding the due time), units_timing_uncertain_no_prior (of those, with no snapshot before
    the window: completed_after NULL), records_expected, records_done, and the same deadline at the
    previous snapshot: prev_as_of, prev_completion_rate, prev_on_time_rate (NULL when there is
    no earlier snapshot); ordered by due (no due date last)."""
    def cards(sid):
        return _in_scope(evaluation(sid, store), viewer, filters, "deadline_cards", f"""
            SELECT {{key}} due, any_value(days_left) AS days_left,
                   count(DISTINCT requirement_id) AS n_requirements,
                   list(DISTINCT requirement_id ORDER BY requirement_id) AS requirement_ids,
                   {_UNIT_AGG}, min(sort_order) AS first_order
            FROM dash_units WHERE {{cond}}
            GROUP BY {{group_key}} due""", "due NULLS LAST, first_order")

    cur = cards(snapshot_id)
    ev = evaluation(snapshot_id, store)
    names = _df(ev, "SELECT requirement_id, name FROM cfg_requirements ORDER BY sort_order")
    order = {r: i for i, r in enumerate(names["requirement_id"])}
    name_of = dict(zip(names["requirement_id"], names["name"]))
    cur["requirement_ids"] = cur["requirement_ids"].map(lambda ids: sorted(ids, key=order.get))
    cur["requirement_names"] = cur["requirement_ids"].map(lambda ids: [name_of[i] for i in ids])
    prev_id = previous_snapshot_id(snapshot_id, store)
    cur["prev_as_of"] = pd.NaT
    cur["prev_completion_rate"] = float("nan")
    cur["prev_on_time_rate"] = float("nan")
    if prev_id is not None:
        prev = cards(prev_id)
        pev = evaluation(prev_id, store)
        # Match deadlines by due time (NaT with NaT).
        def _k(d):
            return "none" if pd.isna(d) else pd.Timestamp(d).isoformat()
        pmap = {_k(d): (c, o) for d, c, o in zip(prev["due"].tolist(), prev["completion_rate"].tolist(),
                                                     prev["on_time_rate"].tolist())}
        matched = [pmap.get(_k(d), (float("nan"), float("nan"))) for d in cur["due"].tolist()]
        cur["prev_completion_rate"] = pd.array([m[0] for m in matched], dtype="float64")
        cur["prev_on_time_rate"] = pd.array([m[1] for m in matched], dtype="float64")
        cur["prev_as_of"] = pev.as_of
    return cur.drop(columns=["first_order"])


def progress_over_time(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                       store=None) -> pd.DataFrame:
    """Completion per snapshot up to the as-of, per requirement, over the institutions in scope
    and filters (as they are at the as-of): as_of, requirement_id, name, due, sort_order,
    units_expected, units_done, completion_rate, records_expected, records_done, records_rate
    (record requirements). Done at a snapshot = done by the engine's rule at that snapshot."""
    ev = evaluation(snapshot_id, store)
    return _in_scope(ev, viewer, filters, "progress_over_time", """
        SELECT {key} h.as_of, h.requirement_id, r.name, h.due, h.sort_order,
               count(*) AS units_expected,
               count(*) FILTER (WHERE h.is_done) AS units_done,
               dash_rate(count(*) FILTER (WHERE h.is_done), count(*)) AS completion_rate,
               CASE WHEN h.kind IN ('student_info', 'student_results') THEN sum(h.expected) END::BIGINT AS records_expected,
               CASE WHEN h.kind IN ('student_info', 'student_results') THEN sum(h.done) END::BIGINT AS records_done,
               CASE WHEN h.kind IN ('student_info', 'student_results')
                    THEN dash_rate(sum(h.done), sum(h.expected)) END AS records_rate
        FROM dash_history h JOIN cfg_requirements r USING (requirement_id)
        WHERE {cond}
        GROUP BY {group_key} h.as_of, h.requirement_id, r.name, h.due, h.sort_order, h.kind""",
                     "h.sort_order, h.as_of")


def at_risk_units(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                  store=None, limit: int | None = 200) -> pd.DataFrame:
    """Institution × requirement at risk of missing its deadline (engine's at_risk): school_code,
    school_name, district_code, district_name, level_group, requirement_id, requirement_name,
    due, days_left, status, percent, expected, done, missing (expected − done); the nearest due
    first, then the lowest percent, then Vietnamese name order."""
    ev = evaluation(snapshot_id, store)
    cond, params = _where(viewer, filters)
    lim = f"LIMIT {int(limit)}" if limit else ""
    return _df(ev, f"""
        SELECT school_code, school_name, district_code, district_name, level_group,
               requirement_id, requirement_name, due, days_left, status, percent,
               expected, done, expected - done AS missing
        FROM dash_units WHERE at_risk AND {cond}
        ORDER BY due, percent, school_name COLLATE vi {lim}""", params)


def worst_districts(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                    store=None, n: int = 10) -> pd.DataFrame:
    """The n district-level units with the lowest completion over the requirements in the
    filters: district_code, district_name, units_expected, units_done, units_done_on_time,
    completion_rate, on_time_rate, units_overdue, units_at_risk, records_expected,
    records_done. Ties: more overdue units first, then code."""
    ev = evaluation(snapshot_id, store)
    cond, params = _where(viewer, filters)
    return _df(ev, f"""
        SELECT district_code, any_value(district_name) AS district_name, {_UNIT_AGG}
        FROM dash_units WHERE {cond}
        GROUP BY district_code
        ORDER BY completion_rate, units_overdue DESC, district_code LIMIT {int(n)}""", params)


def worst_schools(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                  store=None, n: int = 10) -> pd.DataFrame:
    """The n institutions with the lowest completion over the requirements in the filters:
    school_code, school_name, district_code, district_name, level_group, units_expected,
    units_done, completion_rate, on_time_rate, units_overdue, units_at_risk, records_expected,
    records_done, records_missing. Ties: more records missing, more overdue, name."""
    ev = evaluation(snapshot_id, store)
    cond, params = _where(viewer, filters)
    return _df(ev, f"""
        SELECT school_code, any_value(school_name) AS school_name,
               any_value(district_code) AS district_code, any_value(district_name) AS district_name,
               any_value(level_group) AS level_group, {_UNIT_AGG},
               coalesce(sum(expected - done) FILTER (WHERE is_record), 0)::BIGINT AS records_missing
        FROM dash_units WHERE {cond}
        GROUP BY school_code
        ORDER BY completion_rate, records_missing DESC, units_overdue DESC,
                 any_value(school_name) COLLATE vi LIMIT {int(n)}""", params)


# ---- districts -------------------------------------------------------------------------------
def district_completion(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                        store=None) -> pd.DataFrame:
    """Every district-level unit in scope (all 22 for city roles, even one with no unit under
    the filters: then units_expected 0 and completion_rate NULL): district_code, district_name,
    units_expected, units_done, units_done_on_time, completion_rate, on_time_rate,
    units_overdue, units_at_risk, records_expected, records_done; official code order.
    The district filter itself is ignored here (the map shows all districts)."""
    ev = evaluation(snapshot_id, store)
    f = Filters(None, filters.level_group, filters.ownership, filters.requirements)
    cond, params = _where(viewer, f)
    scope, sparams = scope_filter(viewer, "NULL", "d.district_code") if viewer.role != "truong" \
        else ("TRUE", [])
    return _df(ev, f"""
        WITH agg AS (
            SELECT district_code, {_UNIT_AGG} FROM dash_units WHERE {cond} GROUP BY district_code
        )
        SELECT d.district_code, d.district_name,
               coalesce(a.units_expected, 0) AS units_expected,
               coalesce(a.units_done, 0) AS units_done,
               coalesce(a.units_done_on_time, 0) AS units_done_on_time,
               a.completion_rate, a.on_time_rate,
               coalesce(a.units_overdue, 0) AS units_overdue,
               coalesce(a.units_at_risk, 0) AS units_at_risk,
               a.records_expected, a.records_done
        FROM ref_districts d LEFT JOIN agg a USING (district_code)
        WHERE {scope} AND (a.district_code IS NOT NULL OR ? <> 'truong')
        ORDER BY d.district_code""", params + sparams + [viewer.role])


def district_matrix(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                    store=None) -> pd.DataFrame:
    """Districts × requirements (long form): district_code, district_name, requirement_id,
    requirement_name, sort_order, units_expected, units_done, units_done_on_time,
    completion_rate, on_time_rate, units_overdue, units_at_risk, records_expected,
    records_done; district code, then the letter's order."""
    ev = evaluation(snapshot_id, store)
    cond, params = _where(viewer, filters)
    return _df(ev, f"""
        SELECT district_code, any_value(district_name) AS district_name, requirement_id,
               any_value(requirement_name) AS requirement_name, any_value(sort_order) AS sort_order,
               {_UNIT_AGG}
        FROM dash_units WHERE {cond}
        GROUP BY district_code, requirement_id
        ORDER BY district_code, sort_order""", params)


def school_matrix(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                  store=None) -> pd.DataFrame:
    """Institutions × requirements (long form) in scope and filters: school_code, school_name,
    district_code, district_name, level_group, ownership, requirement_id, requirement_name,
    sort_order, status, percent, expected, done, days_late, at_risk, completed_at;
    Vietnamese name order, then the letter's order."""
    ev = evaluation(snapshot_id, store)
    return _in_scope(ev, viewer, filters, "school_matrix", """
        SELECT {key} school_code, school_name, district_code, district_name, level_group, ownership,
               requirement_id, requirement_name, sort_order, status, percent, expected, done,
               days_late, at_risk, completed_at
        FROM dash_units WHERE {cond}""", "school_name COLLATE vi, school_code, sort_order")


# ---- one institution -------------------------------------------------------------------------
def search_schools(viewer: Viewer, text: str, snapshot_id: str | None = None, store=None,
                   filters: Filters = ALL, limit: int = 50) -> pd.DataFrame:
    """Institutions whose code or name contains ``text``, ignoring case and diacritics
    ("le hong phong" finds "Lê Hồng Phong"; đ matches d): school_code, school_name,
    district_code, district_name, level_group, ownership; exact code first, then Vietnamese
    name order. Empty text lists the first ``limit`` institutions in scope and filters."""
    ev = evaluation(snapshot_id, store)
    cond, params = _where(viewer, filters, req_col=None)
    words = [w for w in (text or "").split() if w]
    conds = [cond]
    ps = list(params)
    for w in words:
        conds.append("(strpos(replace(strip_accents(lower(s.school_name)), 'đ', 'd'), "
                     "replace(strip_accents(lower(?)), 'đ', 'd')) > 0 OR strpos(s.school_code, ?) > 0)")
        ps += [w, w]
    q = (text or "").strip()
    return _df(ev, f"""
        SELECT s.school_code, s.school_name, s.district_code, d.district_name, s.level_group,
               s.ownership
        FROM cur_schools s LEFT JOIN ref_districts d USING (district_code)
        WHERE {' AND '.join(conds)}
        ORDER BY (s.school_code = ?) DESC, s.school_name COLLATE vi, s.school_code
        LIMIT {int(limit)}""", ps + [q])


def _one_school(ev: Evaluation, viewer: Viewer, name: str, sql: str, school_code: str,
                order: str, alias: str = "") -> pd.DataFrame:
    """One institution's rows of ``sql`` in the viewer's scope, ordered by ``order``.

    ``sql`` is a SELECT yielding school_code and district_code, with ``{cond}`` where its WHERE
    condition goes. The rows are a slice of the city-wide result kept on the evaluation
    (``Evaluation.keyed``: the first institution opened pays one query for all of them), or,
    when that result would be too large to keep, the query for this institution alone."""
    kf = ev.keyed(name, sql.replace("{cond}", "TRUE") + f" ORDER BY {alias}school_code, {order}",
                  "school_code")
    if kf is not None:
        return scope_rows(viewer, kf.rows(school_code))
    cond, params = scope_filter(viewer, f"{alias}school_code", f"{alias}district_code")
    return _df(ev, sql.replace("{cond}", f"{alias}school_code = ? AND {cond}") + f" ORDER BY {order}",
               [school_code] + params)


def school_profile(viewer: Viewer, school_code: str, snapshot_id: str | None = None,
                   store=None) -> pd.DataFrame:
    """The institution (0 or 1 row; 0 when out of scope or unknown): school_code, school_name,
    district_code, district_name, levels (list), level_group, ownership, managed_by,
    principal, phone, email."""
    ev = evaluation(snapshot_id, store)
    df = _one_school(ev, viewer, "school_profile", """
        SELECT s.school_code, s.school_name, s.district_code, d.district_name, s.levels,
               s.level_group, s.ownership, s.managed_by, s.principal, s.phone, s.email
        FROM cur_schools s LEFT JOIN ref_districts d USING (district_code)
        WHERE {cond}""", school_code, "s.school_name", "s.")
    # DuckDB hands a LIST over as a numpy array, whose truth value is ambiguous with two or
    # more levels: the page crashed for every multi-level school (outside review of issue 12).
    df["levels"] = [list(v) if v is not None else [] for v in df["levels"]]
    # A missing profile field is None whichever path served the row (the keyed city slice
    # gives Arrow strings with NaN, the per-school query None; test_keyed saw it once the
    # demo series planted empty e-mails for the completeness index).
    for col in ("school_name", "district_name", "level_group", "ownership", "managed_by",
                "principal", "phone", "email"):
        df[col] = pd.Series([None if pd.isna(v) else v for v in df[col]], index=df.index, dtype=object)
    return df


CHECKLIST_COLUMNS = ["requirement_id", "requirement_name", "kind", "letter_words", "due", "days_left",
                     "status", "expected", "done", "percent", "completed_at", "days_late", "at_risk",
                     "n_blocking_findings", "blocked_reason", "timing_uncertain",
                     "completed_after"]


def school_checklist(viewer: Viewer, school_code: str, snapshot_id: str | None = None,
                     store=None) -> pd.DataFrame:
    """The institution's requirements: requirement_id, requirement_name, kind, letter_words,
    due, days_left, status, expected, done, percent, completed_at, days_late, at_risk,
    n_blocking_findings (error findings that keep it from done), timing_uncertain and
    completed_after (the snapshot window a record requirement was reached in, RULES.md),
    blocked_reason (why a sent report is still not done, e.g. RPT_CSVC with a room under two
    levels; else empty). Rows in the letter's order."""
    ev = evaluation(snapshot_id, store)
    df = _one_school(ev, viewer, "school_checklist", """
        SELECT u.school_code, u.district_code, u.requirement_id, u.requirement_name, u.kind,
               u.letter_words, u.due, u.days_left, u.status, u.expected, u.done, u.percent,
               u.completed_at, u.days_late, u.at_risk,
               coalesce(b.n, 0) AS n_blocking_findings,
               coalesce(br.blocked_reason, '') AS blocked_reason,
               u.timing_uncertain, u.completed_after
        FROM dash_units u
        LEFT JOIN (SELECT school_code, requirement_id, count(*) AS n FROM dash_findings
                   WHERE blocks GROUP BY ALL) b USING (school_code, requirement_id)
        LEFT JOIN (SELECT school_code, requirement_id,
                          string_agg(blocked_reason, ' ' ORDER BY blocked_reason) AS blocked_reason
                   FROM dash_unit_block_reasons GROUP BY ALL) br USING (school_code, requirement_id)
        WHERE {cond}""", school_code, "u.sort_order", "u.")
    return df[CHECKLIST_COLUMNS]


def school_explanations(viewer: Viewer, school_code: str, snapshot_id: str | None = None,
                        store=None) -> pd.DataFrame:
    """Why each checklist row is what it is (issue 12): requirement_id, reason (the one line of
    the checklist and the workbook) and text (the whole explanation, exactly as `python -m
    data_access explain` prints it), in the checklist's order; empty when out of scope. Built by
    data_access.explain, so the page, the workbook and the CLI say the same thing."""
    from . import explain   # (explain reads this module)
    rows = explain.explain_school_at(evaluation(snapshot_id, store), viewer, school_code)
    return pd.DataFrame({"requirement_id": [e["requirement_id"] for e in rows],
                         "reason": [explain.one_line(e) for e in rows],
                         "text": [explain.render(e) for e in rows]},
                        columns=["requirement_id", "reason", "text"])


def rule_catalog() -> pd.DataFrame:
    """The rules' legend (data_access/reference/rule_catalog.csv, also the engine's
    ``rule_catalog`` view): rule_id, severity, entity, title_vi, description_vi.
    (Not scoped: it describes rules, not data.)"""
    return reference.tables()["ref_rule_catalog"]


def _with_titles(df: pd.DataFrame) -> pd.DataFrame:
    cat = rule_catalog()[["rule_id", "entity", "title_vi"]].rename(columns={"title_vi": "title"})
    out = df.merge(cat, on=["rule_id", "entity"], how="left")
    out["title"] = out["title"].fillna(out["rule_id"])
    return out


def school_findings_by_rule(viewer: Viewer, school_code: str, snapshot_id: str | None = None,
                            store=None) -> pd.DataFrame:
    """The institution's findings grouped by rule: rule_id, title (Vietnamese), severity,
    entity, requirement_ids (list of the requirements it blocks; empty for warnings),
    n_findings, n_records; errors first, then most findings."""
    ev = evaluation(snapshot_id, store)
    df = _one_school(ev, viewer, "school_findings_by_rule", """
        SELECT f.school_code, f.district_code, f.rule_id, coalesce(any_value(c.title_vi), f.rule_id) AS title,
               f.severity, f.entity,
               list(DISTINCT f.requirement_id ORDER BY f.requirement_id)
                   FILTER (WHERE f.blocks) AS requirement_ids,
               count(DISTINCT (f.record_key, f.field)) AS n_findings,
               count(DISTINCT f.record_key) AS n_records
        FROM dash_findings f
        LEFT JOIN ref_rule_catalog c ON c.rule_id = f.rule_id AND c.entity = f.entity
        WHERE {cond}
        GROUP BY f.school_code, f.district_code, f.rule_id, f.severity, f.entity""",
                     school_code, "f.severity <> 'error', n_findings DESC, f.rule_id, f.entity", "f.")
    df["requirement_ids"] = [list(x) if hasattr(x, "__len__") and not isinstance(x, str) else []
                             for x in df["requirement_ids"].tolist()]   # NULL (no blocking) = []
    return df[["rule_id", "title", "severity", "entity", "requirement_ids", "n_findings", "n_records"]]


def students_not_done(viewer: Viewer, school_code: str, snapshot_id: str | None = None,
                      store=None, requirement_id: str | None = None) -> pd.DataFrame:
    """Grade-12 students of the institution not done on a record requirement, with what each
    lacks: student_id, full_name, class_name, birth_date, id_number (CCCD/CMND),
    permanent_address, requirements (list of requirement ids not done), lacks (list of
    'title: message' of the blocking findings), n_errors. birth_date, id_number and
    permanent_address are masked (••/••/2005, 0792••••••34, ward and district only) unless
    ``viewer.sees_personal``. Vietnamese name order. Empty for an institution out of scope."""
    ev = evaluation(snapshot_id, store)
    return students_not_done_at(ev, viewer, school_code, _store(store), requirement_id)


STUDENT_COLUMNS = ["student_id", "full_name", "class_name", "birth_date", "id_number",
                   "permanent_address", "requirements", "lacks", "n_errors"]


def students_not_done_at(ev: Evaluation, viewer: Viewer, school_code: str, store,
                         requirement_id: str | None = None) -> pd.DataFrame:
    """students_not_done on a given Evaluation (the exports' entry point)."""
    cond, params = scope_filter(viewer, "f.school_code", "f.district_code")
    rq = "AND f.requirement_id = ?" if requirement_id else ""
    rparams = [requirement_id] if requirement_id else []
    # the message as this viewer may read it (an ID_DUPLICATE names in-scope holders only)
    msg, mparams = finding_message_sql(viewer, "f")
    # Per student: the requirements not done and the distinct blocking findings, as
    # "title: message" in the order of (requirement, rule), each listed once.
    out = _df(ev, f"""
        WITH f AS (
            SELECT f.student_id, f.requirement_id, f.rule_id,
                   coalesce(c.title_vi, f.rule_id) || ': ' || coalesce({msg}, '') AS lack,
                   -- listing order: requirement, rule, then grade, term and row as in the file
                   f.requirement_id || chr(1) || f.rule_id || chr(1)
                   || lpad(coalesce(CAST(f.grade AS VARCHAR), ''), 3, '0')
                   || CASE f.term WHEN 'HK1' THEN '1' WHEN 'HK2' THEN '2' WHEN 'CN' THEN '3' ELSE '0' END
                   || lpad(coalesce(CAST(f.source_row AS VARCHAR), ''), 12, '0') AS k
            FROM dash_findings f
            LEFT JOIN ref_rule_catalog c ON c.rule_id = f.rule_id AND c.entity = f.entity
            WHERE f.school_code = ? AND f.blocks AND f.student_id IS NOT NULL
              AND f.entity IN ('student', 'score', 'term_summary') AND {cond} {rq}),
        reqs AS (
            SELECT student_id, list(DISTINCT requirement_id ORDER BY requirement_id) AS requirements
            FROM f GROUP BY student_id),
        lacks AS (   -- each text once, where it first comes
            SELECT student_id, lack, min(k) AS k FROM f GROUP BY ALL)
        SELECT l.student_id, any_value(r.requirements) AS requirements,
               list(l.lack ORDER BY l.k, l.lack) AS lacks, count(*) AS n_errors
        FROM lacks l JOIN reqs r USING (student_id)
        GROUP BY l.student_id ORDER BY l.student_id""", mparams + [school_code] + params + rparams)
    cols = STUDENT_COLUMNS
    if out.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    for c in ("requirements", "lacks"):   # plain lists, as documented
        out[c] = [list(x) for x in out[c].tolist()]
    people = _people(ev, school_code, out[["student_id"]])
    out = out.merge(people, on="student_id", how="left")
    out = mask_people(viewer, out)[cols]
    return _vi_sorted(out, "full_name", "student_id")


def _people(ev: Evaluation, school_code: str, ids: pd.DataFrame) -> pd.DataFrame:
    """Personal values from the snapshot itself (read-only), for these students only."""
    db = ev.snapshot_db()
    cur = ev.con.cursor()
    try:
        cur.register("_ids", ids)
        return cur.execute(f"""
            SELECT s.student_id, s.full_name, s.class_name, s.birth_date,
                   coalesce(s.id_number, s.personal_id) AS id_number, s.permanent_address
            FROM {db}.main.students s JOIN _ids USING (student_id)
            WHERE s.school_code = ?
            QUALIFY row_number() OVER (PARTITION BY s.student_id ORDER BY s._row DESC) = 1""",
                           [school_code]).df()
    finally:
        cur.close()


def mask_people(viewer: Viewer, df: pd.DataFrame) -> pd.DataFrame:
    """The personal columns of ``df`` masked by access.mask_* unless the viewer sees them."""
    if viewer.sees_personal:
        return df
    df = df.copy()
    for col, fn in (("id_number", mask_id), ("birth_date", mask_birth_date),
                    ("permanent_address", mask_address)):
        if col in df.columns:
            df[col] = df[col].map(fn)
    return df


def student_record(viewer: Viewer, school_code: str, student_id: str,
                   snapshot_id: str | None = None, store=None) -> dict:
    """One student's personal values unmasked ("Xem thông tin cá nhân"): student_id,
    full_name, class_name, birth_date, id_number, permanent_address. Only for roles with
    ``personal_on_open`` (khtc, truong, quan_tri), on a student of an institution in scope;
    every opening is written to the audit trail (action "personal.open") before the values are
    returned. Raises PermissionError otherwise, LookupError when there is no such student."""
    if not viewer.personal_on_open:
        raise PermissionError("Tài khoản này không được xem thông tin cá nhân chưa che.")
    ev = evaluation(snapshot_id, store)
    cond, params = scope_filter(viewer, "s.school_code", "s.district_code")
    if _df(ev, f"SELECT 1 FROM cur_schools s WHERE s.school_code = ? AND {cond}",
           [school_code] + params).empty:
        raise PermissionError("Trường này nằm ngoài phạm vi được phân quyền của tài khoản.")
    people = _people(ev, school_code, pd.DataFrame({"student_id": [student_id]}))
    if people.empty:
        raise LookupError(f"Không có học sinh mã {student_id} ở trường {school_code}.")
    ops.audit(_store(store), viewer, "personal.open", f"hoc_sinh:{student_id}", scope=f"truong:{school_code}",
              rows=1, detail={"snapshot_id": ev.snapshot_id,
                              "fields": ["birth_date", "id_number", "permanent_address"]})
    return people.iloc[0].to_dict()


@functools.lru_cache(maxsize=1)
def _collation_db() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB for Vietnamese sorting (a new database per call cost ~20 ms)."""
    return duckdb.connect(":memory:")


def _vi_sorted(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """The frame in Vietnamese alphabetical order of ``cols`` (DuckDB's ICU collation 'vi')."""
    con = _collation_db().cursor()   # a cursor per call: callers run in many threads
    try:
        con.register("_t", df.reset_index(drop=True).assign(_i=range(len(df))))
        order = con.execute("SELECT _i FROM _t ORDER BY " +
                            ", ".join(f'"{c}" COLLATE vi NULLS LAST' for c in cols)).fetchall()
    finally:
        con.close()
    return df.reset_index(drop=True).iloc[[r[0] for r in order]].reset_index(drop=True)


def school_history(viewer: Viewer, school_code: str, snapshot_id: str | None = None,
                   store=None) -> pd.DataFrame:
    """The institution's percent per snapshot up to the as-of: as_of, requirement_id,
    requirement_name, due, sort_order, expected, done, percent, is_done."""
    ev = evaluation(snapshot_id, store)
    df = _one_school(ev, viewer, "school_history", """
        SELECT h.school_code, h.district_code, h.as_of, h.requirement_id, r.name AS requirement_name,
               h.due, h.sort_order, h.expected, h.done, h.percent, h.is_done
        FROM dash_history h JOIN cfg_requirements r USING (requirement_id)
        WHERE {cond}""", school_code, "h.sort_order, h.as_of", "h.")
    return df[["as_of", "requirement_id", "requirement_name", "due", "sort_order", "expected", "done",
               "percent", "is_done"]]


# ---- reports ---------------------------------------------------------------------------------
def report_matrix(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                  store=None) -> pd.DataFrame:
    """Institutions × reports and paper copies (long form): school_code, school_name,
    district_code, district_name, level_group, ownership, requirement_id, requirement_name,
    kind (report|paper), report_code, sort_order, cell_state (sent_on_time, sent_late,
    returned, draft, missing | paper_valid, paper_invalid, paper_missing), status (engine),
    completed_at, days_late, due; Vietnamese name order."""
    ev = evaluation(snapshot_id, store)
    cond, params = _where(viewer, filters)
    return _df(ev, f"""
        SELECT school_code, school_name, district_code, district_name, level_group, ownership,
               requirement_id, requirement_name, kind, report_code, sort_order, cell_state,
               status, completed_at, days_late, due
        FROM dash_report_cells WHERE {cond}
        ORDER BY school_name COLLATE vi, school_code, sort_order""", params)


def report_counts_by_district(viewer: Viewer, snapshot_id: str | None = None,
                              filters: Filters = ALL, store=None) -> pd.DataFrame:
    """Counts of institutions per district × report/paper requirement × cell_state:
    district_code, district_name, requirement_id, report_code, kind, sort_order, cell_state, n."""
    ev = evaluation(snapshot_id, store)
    cond, params = _where(viewer, filters)
    return _df(ev, f"""
        SELECT district_code, any_value(district_name) AS district_name, requirement_id,
               any_value(report_code) AS report_code, any_value(kind) AS kind,
               any_value(sort_order) AS sort_order, cell_state, count(*) AS n
        FROM dash_report_cells WHERE {cond}
        GROUP BY district_code, requirement_id, cell_state
        ORDER BY district_code, sort_order, cell_state""", params)


# ---- data quality ----------------------------------------------------------------------------
def _findings_where(viewer, filters):
    cond, params = _where(viewer, filters, req_col=None)
    if filters and filters.requirements:
        cond += f" AND requirement_id IN ({', '.join('?' for _ in filters.requirements)})"
        params = params + list(filters.requirements)
    return cond, params


def findings_summary(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                     store=None) -> pd.DataFrame:
    """Findings by rule in scope and filters: rule_id, title, severity, entity, n_findings,
    n_records, n_schools, blocks (whether it keeps a requirement from done); errors first,
    then most findings. Findings of institutions not in the list (unknown school codes) are
    counted only for city-wide roles without filters on district/level/ownership."""
    ev = evaluation(snapshot_id, store)
    cond, params = _findings_where(viewer, filters)
    df = _df(ev, f"""
        SELECT rule_id, severity, entity, count(DISTINCT (record_key, field, school_code)) AS n_findings,
               count(DISTINCT (school_code, record_key)) AS n_records,
               count(DISTINCT school_code) AS n_schools, bool_or(blocks) AS blocks
        FROM dash_findings WHERE {cond}
        GROUP BY rule_id, severity, entity""", params)
    df = _with_titles(df)
    df["_sev"] = (df["severity"] != "error").astype(int)
    return df.sort_values(["_sev", "n_findings", "rule_id"], ascending=[True, False, True]) \
             .drop(columns="_sev").reset_index(drop=True)[
        ["rule_id", "title", "severity", "entity", "n_findings", "n_records", "n_schools", "blocks"]]


def findings_by(viewer: Viewer, by: str, snapshot_id: str | None = None, filters: Filters = ALL,
                store=None) -> pd.DataFrame:
    """Finding counts by one dimension: ``by`` = 'district' (key district_code, label
    district_name), 'level' (level_group), 'severity' or 'entity'. Columns: key, label,
    severity, n_findings, n_schools."""
    ev = evaluation(snapshot_id, store)
    cond, params = _findings_where(viewer, filters)
    key, label = {"district": ("district_code", "district_name"),
                  "level": ("level_group", "level_group"),
                  "severity": ("severity", "severity"),
                  "entity": ("entity", "entity")}[by]
    return _df(ev, f"""
        SELECT {key} AS key, any_value({label}) AS label, severity,
               count(DISTINCT (record_key, field, school_code)) AS n_findings,
               count(DISTINCT school_code) AS n_schools
        FROM dash_findings WHERE {cond}
        GROUP BY {key}, severity ORDER BY key NULLS LAST, severity""", params)


def schools_most_errors(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                        store=None, n: int = 20) -> pd.DataFrame:
    """The n institutions with the most error findings: school_code, school_name,
    district_code, district_name, level_group, n_errors, n_warnings, n_records (records with
    an error); most errors first, then Vietnamese name order."""
    ev = evaluation(snapshot_id, store)
    cond, params = _findings_where(viewer, filters)
    return _df(ev, f"""
        SELECT school_code, any_value(school_name) AS school_name,
               any_value(district_code) AS district_code, any_value(district_name) AS district_name,
               any_value(level_group) AS level_group,
               count(DISTINCT (rule_id, record_key, field)) FILTER (WHERE severity = 'error') AS n_errors,
               count(DISTINCT (rule_id, record_key, field)) FILTER (WHERE severity = 'warning') AS n_warnings,
               count(DISTINCT record_key) FILTER (WHERE severity = 'error') AS n_records
        FROM dash_findings WHERE {cond} AND school_name IS NOT NULL
        GROUP BY school_code
        HAVING n_errors > 0
        ORDER BY n_errors DESC, any_value(school_name) COLLATE vi LIMIT {int(n)}""", params)


def rule_records(viewer: Viewer, rule_id: str, snapshot_id: str | None = None,
                 filters: Filters = ALL, store=None, limit: int = 2000) -> pd.DataFrame:
    """The records behind a rule: school_code, school_name, district_name, entity, record_key,
    student_id, grade, term, field, severity, requirement_id, message, source_row (row in the
    extract file). Messages never contain a personal value. Vietnamese name order."""
    ev = evaluation(snapshot_id, store)
    cond, params = _findings_where(viewer, filters)
    msg, mparams = finding_message_sql(viewer, "r")
    return _df(ev, f"""
        SELECT r.* EXCLUDE (message), {msg} AS message
        FROM (SELECT school_code, school_name, district_name, entity, record_key, student_id, grade,
                     term, field, severity, string_agg(DISTINCT requirement_id, ', ') AS requirement_id,
                     any_value(message) AS message, any_value(source_row) AS source_row,
                     any_value(rule_id) AS rule_id
              FROM dash_findings WHERE rule_id = ? AND {cond}
              GROUP BY ALL
              ORDER BY school_name COLLATE vi NULLS LAST, school_code, record_key, field
              LIMIT {int(limit)}) r
        ORDER BY r.school_name COLLATE vi NULLS LAST, r.school_code, r.record_key, r.field""",
               mparams + [rule_id] + params)[["school_code", "school_name", "district_name", "entity",
                                             "record_key", "student_id", "grade", "term", "field",
                                             "severity", "requirement_id", "message", "source_row"]]


def filled_vs_valid(viewer: Viewer, snapshot_id: str | None = None, filters: Filters = ALL,
                    store=None) -> pd.DataFrame:
    """Per record requirement: records expected, filled (every required value present) and
    done (complete AND valid, the engine's count): requirement_id, requirement_name,
    records_expected, records_filled, records_done, filled_rate, done_rate (percent)."""
    ev = evaluation(snapshot_id, store)
    cond, params = _where(viewer, filters)
    return _df(ev, f"""
        SELECT requirement_id, any_value(requirement_name) AS requirement_name,
               sum(expected)::BIGINT AS records_expected, sum(filled)::BIGINT AS records_filled,
               sum(done)::BIGINT AS records_done,
               dash_rate(sum(filled), sum(expected)) AS filled_rate,
               dash_rate(sum(done), sum(expected)) AS done_rate
        FROM dash_filled_valid WHERE {cond}
        GROUP BY requirement_id ORDER BY any_value(sort_order)""", params)


# ---- report figures against the records (issue 15; data_access/report_figures.py) -----------
from .report_figures import (report_figure_matches, report_figure_mismatches,  # noqa: E402
                             report_figure_rates)
