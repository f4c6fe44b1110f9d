"""Completeness index over the eight domains of letter 1254, point 1: definitions and query API.

Why a config of its own (campaigns/completeness.toml) beside the campaign file: the domains and
their parameters (term end dates, required staff positions, optional student fields) describe
the year-round duty of every institution, not one letter's deadlines; a change there is a
config change. The measures themselves are SQL (sql/completeness_10_domains.sql), computed once
per snapshot and cached with its derived files (data_access/evaluate.py); the pandas reference
(tests/reference_pandas.py) recomputes them from RULES.md alone.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import file_memo
from .campaign import CampaignError, read_toml

DEFAULT_DEFINITIONS = Path(__file__).resolve().parent.parent / "campaigns" / "completeness.toml"
DOMAINS = ("institution", "classes", "staff", "students", "results", "conduct", "programme", "facilities")
# What a NULL measure means (availability column), shown as text, never as 0 %.
NO_SOURCE_TEXT = "Chưa có nguồn dữ liệu"
NOT_APPLICABLE_TEXT = "Không áp dụng"


@dataclass(frozen=True)
class Domain:
    id: str
    name: str
    what: str
    source: bool
    order: int


@dataclass(frozen=True)
class Definitions:
    domains: tuple[Domain, ...]
    required_positions: tuple[str, ...]
    positions: tuple[str, ...]
    optional_fields: tuple[str, ...]
    term_ends: dict
    path: str
    fingerprint: str

    def domain(self, did: str) -> Domain:
        return next(d for d in self.domains if d.id == did)

    def tables(self) -> dict[str, pd.DataFrame]:
        """cfg_completeness_* tables for the SQL (columns named as in RULES.md)."""
        dom = pd.DataFrame([{"domain": d.id, "name": d.name, "has_source": d.source,
                             "sort_order": d.order} for d in self.domains])
        terms = pd.DataFrame([{"term": t, "ended_on": pd.Timestamp(v)} for t, v in self.term_ends.items()],
                             columns=["term", "ended_on"])
        terms["ended_on"] = pd.to_datetime(terms["ended_on"]).dt.date
        params = pd.DataFrame([{"required_positions": list(self.required_positions),
                                "positions": list(self.positions),
                                "optional_fields": list(self.optional_fields)}])
        return {"cfg_completeness_domains": dom, "cfg_completeness_term_ends": terms,
                "cfg_completeness_params": params}


def load_definitions(path: str | Path | None = None) -> Definitions:
    """The completeness definitions (default campaigns/completeness.toml), parsed once and
    remembered until the file changes."""
    path = Path(path) if path else DEFAULT_DEFINITIONS
    return file_memo.remembered(("completeness", os.path.abspath(path)), (path,), lambda: _load(path))


def _load(path: Path) -> Definitions:
    data, raw = read_toml(path, "", "completeness definitions not found", "not valid TOML")
    where = path.name
    order = data.get("completeness", {}).get("domains")
    if order is None or sorted(order) != sorted(DOMAINS):
        raise CampaignError(f"{where}: khóa `completeness.domains` phải liệt kê đúng 8 lĩnh vực {list(DOMAINS)}")
    doms = []
    for i, did in enumerate(order):
        d = data.get("domains", {}).get(did)
        if not isinstance(d, dict) or not isinstance(d.get("name"), str):
            raise CampaignError(f"{where}: thiếu khóa `domains.{did}.name`")
        doms.append(Domain(did, d["name"], str(d.get("what", "")), bool(d.get("source", True)), i))
    staff = data["domains"]["staff"]
    ends = data.get("term_ends", {})
    for t in ("HK1", "HK2", "CN"):
        if not isinstance(ends.get(t), dt.date):
            raise CampaignError(f"{where}: khóa `term_ends.{t}` phải là một ngày, ví dụ 2022-01-15")
    return Definitions(
        domains=tuple(doms),
        required_positions=tuple(staff.get("required_positions", [])),
        positions=tuple(staff.get("positions", ["CBQL", "Giáo viên", "Nhân viên"])),
        optional_fields=tuple(data["domains"]["students"].get("optional_fields", [])),
        term_ends={t: ends[t] for t in ("HK1", "HK2", "CN")},
        path=str(path), fingerprint=hashlib.sha256(raw).hexdigest()[:12],
    )


# ---- query API (pages, CLI, workbook) ---------------------------------------------------------
# Every function takes the Viewer and keeps the rows in its scope IN SQL (access.scope_filter):
# a district office gets its district's institutions (and roll-ups over them only), a school
# itself. Percents are floats (one decimal) or None when the domain is not measured; the
# availability column says why (measured | not_applicable | no_source).
BY = ("institution", "district", "city")
INDEX = "index"


def _ev(snapshot_id=None, store=None):
    from .queries import evaluation
    return evaluation(snapshot_id, store)


def domain_table(defs: Definitions | None = None) -> pd.DataFrame:
    """domain, name, what, has_source, sort_order: the eight domains then the index (not scoped)."""
    defs = defs or load_definitions()
    rows = [{"domain": d.id, "name": d.name, "what": d.what, "has_source": d.source,
             "sort_order": d.order} for d in defs.domains]
    rows.append({"domain": INDEX, "name": "Chỉ số chung", "has_source": True, "sort_order": 99,
                 "what": "Trung bình các lĩnh vực đo được của đơn vị (không tính lĩnh vực chưa có nguồn dữ liệu)"})
    return pd.DataFrame(rows)


def units_at(ev, viewer, snapshot_id: str | None = None) -> pd.DataFrame:
    """Long form of one snapshot (default: the evaluated one): school_code, school_name,
    district_code, district_name, level_group, domain, sort_order, items, items_ok, percent,
    availability, domains_measured; institutions by code, domains in order."""
    from .access import scope_filter
    cond, params = scope_filter(viewer)
    return ev.df(f"""SELECT school_code, school_name, district_code, district_name, level_group,
                           domain, sort_order, items, items_ok, percent, availability, domains_measured
                    FROM cmp_units WHERE snapshot_id = ? AND {cond}
                    ORDER BY school_code, sort_order""", [snapshot_id or ev.snapshot_id] + params)


def no_source_at(ev, snapshot_id: str | None = None, defs: Definitions | None = None) -> set[str]:
    """The domains without a source in the snapshot (default: the evaluated one): those of the
    definitions (`source = false`, programme) and those whose file that snapshot's extract did
    not have (no lop / can_bo / phong_hoc / tong_ket file: availability no_source at every institution;
    outside review of issue 15). Shown «Chưa có nguồn dữ liệu», never 0 %."""
    doms = domain_table(defs)
    out = set(doms.loc[~doms["has_source"].astype(bool), "domain"])
    rows = ev.df("""SELECT domain FROM cmp_units WHERE snapshot_id = ? AND domain <> 'index'
                    GROUP BY domain HAVING bool_and(availability = 'no_source')""",
                 [snapshot_id or ev.snapshot_id])
    return out | set(rows["domain"])


def cell_texts(df: pd.DataFrame, defs: Definitions | None = None, no_source: set | None = None) -> pd.DataFrame:
    """The display text of each domain (and index) column of a grid or table: the percent as
    1.234,5 %, a not-measured cell as its reason in words (NO_SOURCE_TEXT when the extract has
    no source for the domain: ``no_source``, default the definitions' ones; else
    NOT_APPLICABLE_TEXT), never 0 %. Same index as ``df``."""
    from . import formatting as fmt
    doms = domain_table(defs)
    if no_source is None:
        no_source = set(doms.loc[~doms["has_source"].astype(bool), "domain"])
    out = pd.DataFrame(index=df.index)
    for d in doms["domain"]:
        if d in df.columns:
            reason = NO_SOURCE_TEXT if d in no_source else NOT_APPLICABLE_TEXT
            out[d] = [reason if fmt._missing(v) or v != v else fmt.percent(v) for v in df[d]]
    return out


def numbers_table(grid: pd.DataFrame, no_source: set, defs: Definitions | None = None) -> pd.DataFrame:
    """The institution grid as a sortable table: school_code, school_name, each domain (percent;
    a no-source domain's column is NO_SOURCE_TEXT), index, and not_applicable (the names of the
    measured domains that are not applicable to the institution, comma-separated; their cells
    stay missing numbers, never 0 %: the only missing cells of the table, which the page draws
    as NOT_APPLICABLE_TEXT with st.dataframe's placeholder, so the column stays numeric and
    sortable)."""
    doms = domain_table(defs)
    cols = list(doms["domain"])
    names = dict(zip(doms["domain"], doms["name"]))
    out = grid[["school_code", "school_name"] + cols].copy()
    for d in no_source & set(cols):
        out[d] = NO_SOURCE_TEXT
    measured = [d for d in cols if d != INDEX and d not in no_source]
    out["not_applicable"] = [", ".join(names[d] for d, x in zip(measured, row) if x != x)
                             for row in grid[measured].astype("float64").to_numpy()]
    return out


def _wide(long: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    order = list(domain_table()["domain"])
    if long.empty:
        return pd.DataFrame(columns=keys + order)
    w = long.drop_duplicates(keys + ["domain"]).set_index(keys + ["domain"])["percent"].unstack("domain")
    w = w.reindex(columns=order).reset_index()
    w.columns.name = None
    return w


def grid_at(ev, viewer) -> pd.DataFrame:
    """One row per institution in scope: school_code, school_name, district_code,
    district_name, domains_measured, then one column per domain and `index` (percent or
    None)."""
    long = units_at(ev, viewer)
    keys = ["school_code", "school_name", "district_code", "district_name"]
    w = _wide(long.fillna({"school_name": "", "district_code": "", "district_name": ""}), keys)
    n = long[long["domain"] == INDEX].set_index("school_code")["domains_measured"]
    w.insert(4, "domains_measured", w["school_code"].map(n).astype("Int64"))
    return w.sort_values("school_code").reset_index(drop=True)


def _rollup_sql(by: str, viewer) -> tuple[str, str]:
    if by == "district":
        return ("district_code AS unit, any_value(district_name) AS name", "district_code")
    # a district office's or a school's "city" is its own scope, never the city's numbers
    name = "Toàn thành phố" if viewer.role in ("lanh_dao", "khtc", "quan_tri") else "Trong phạm vi"
    return (f"'city' AS unit, '{name}' AS name", "1")


def rollup_at(ev, viewer, by: str = "city", history: bool = False) -> pd.DataFrame:
    """Roll-up over the institutions in scope (RULES.md): one row per unit (`city`, or district
    code) and domain with units (institutions measured) and percent = round1 of their mean.
    history: every snapshot up to the evaluated one (snapshot_id, as_of first), else the
    evaluated one."""
    from .access import scope_filter
    if by not in ("city", "district"):
        raise ValueError(f"--by phải là institution, district hoặc city (không phải {by!r})")
    cond, params = scope_filter(viewer)
    unit, group = _rollup_sql(by, viewer)
    snap = "TRUE" if history else "snapshot_id = ?"
    return ev.df(f"""SELECT snapshot_id, any_value(as_of) AS as_of, {unit}, domain,
                           any_value(sort_order) AS sort_order, count(percent_t) AS units,
                           cmp_mean(sum(percent_t), count(percent_t)) AS percent
                    FROM cmp_units WHERE {snap} AND {cond}
                    GROUP BY snapshot_id, {group}, domain
                    ORDER BY as_of, unit, sort_order""", ([] if history else [ev.snapshot_id]) + params)


def table_at(ev, viewer, by: str = "institution") -> pd.DataFrame:
    """The CLI's and the workbook's table: one row per unit (school code, district code or
    `city`), its name, the number of institutions, then one column per domain and `index`."""
    if by == "institution":
        g = grid_at(ev, viewer).rename(columns={"school_code": "unit", "school_name": "name"})
        g.insert(2, "institutions", 1)
        return g.drop(columns=["district_name"])
    long = rollup_at(ev, viewer, by)
    w = _wide(long.fillna({"name": ""}), ["unit", "name"])
    n = long[long["domain"] == INDEX].set_index("unit")["units"]
    w.insert(2, "institutions", w["unit"].map(n).astype("Int64"))
    return w


def over_time_at(ev, viewer, by: str = "city", school_code: str | None = None) -> pd.DataFrame:
    """The index (and each domain) across the snapshots up to the evaluated one: snapshot_id,
    as_of, unit, name, domain, units, percent. by='institution' needs school_code (one
    institution in scope, else no rows)."""
    if by == "institution":
        from .access import scope_filter
        cond, params = scope_filter(viewer)
        return ev.df(f"""SELECT snapshot_id, as_of, school_code AS unit, school_name AS name, domain,
                               sort_order, CASE WHEN percent IS NULL THEN 0 ELSE 1 END AS units, percent
                        FROM cmp_units WHERE school_code = ? AND {cond}
                        ORDER BY as_of, sort_order""", [school_code] + params)
    return rollup_at(ev, viewer, by, history=True)


def gaps_at(ev, viewer, school_code: str) -> pd.DataFrame:
    """What the institution misses at the evaluated snapshot: domain, domain_name, gap, n,
    examples; in domain order, most items first. Empty when out of scope."""
    from .access import scope_filter
    cond, params = scope_filter(viewer, "g.school_code", "s.district_code")
    return ev.df(f"""SELECT g.domain, d.name AS domain_name, g.gap, g.n, g.examples
                    FROM cur_completeness_gaps g
                    JOIN cur_schools s USING (school_code)
                    JOIN cfg_completeness_domains d USING (domain)
                    WHERE g.school_code = ? AND {cond}
                    ORDER BY d.sort_order, g.n DESC, g.gap""", [school_code] + params)


# Viewer-facing wrappers (the evaluation of the dashboard's process, data_access.queries).
def grid(viewer, snapshot_id=None, store=None) -> pd.DataFrame:
    return grid_at(_ev(snapshot_id, store), viewer)


def rollup(viewer, by: str = "city", snapshot_id=None, store=None) -> pd.DataFrame:
    return rollup_at(_ev(snapshot_id, store), viewer, by)


def table(viewer, by: str = "institution", snapshot_id=None, store=None) -> pd.DataFrame:
    return table_at(_ev(snapshot_id, store), viewer, by)


def over_time(viewer, by: str = "city", school_code=None, snapshot_id=None, store=None) -> pd.DataFrame:
    return over_time_at(_ev(snapshot_id, store), viewer, by, school_code)


def gaps(viewer, school_code: str, snapshot_id=None, store=None) -> pd.DataFrame:
    return gaps_at(_ev(snapshot_id, store), viewer, school_code)


def units(viewer, snapshot_id=None, store=None) -> pd.DataFrame:
    return units_at(_ev(snapshot_id, store), viewer)


def no_source_domains(snapshot_id=None, store=None) -> set[str]:
    return no_source_at(_ev(snapshot_id, store))
