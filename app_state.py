"""Shared state of the dashboard's pages: the snapshot shown, the global filters, links that
carry them, and cached calls into the query API.

Why here: dashboard.py renders the controls once (sidebar) for every page, and the pages read
the same context, so the as-of snapshot and the filters hold across pages; the URL's query
parameters mirror them (?as_of=2022-04-27T17:00&district=760&level=THPT&ownership=cong_lap
&req=G12_INFO,RPT_EMIS, and ?school=79760001 on the institution page), so a link pasted into a
message opens the same view. Query results are cached per (query, viewer, snapshot, filters,
campaign and engine fingerprints) with st.cache_data; the evaluations themselves are kept per
process by data_access.queries.
"""
from __future__ import annotations

import functools
import inspect
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Hashable, TypeVar
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from data_access import engine, ops, queries
from data_access import formatting as fmt
from data_access.access import Viewer
from data_access.campaign import load_campaign
from data_access.current_user import current_viewer
from data_access.evaluate import parse_as_of

# Pages: (file, url path). The default page (overview) is served at the root.
OVERVIEW = ("pages/overview.py", "tong-quan")
DISTRICTS = ("pages/districts.py", "quan-huyen")
INSTITUTION = ("pages/institution.py", "truong")
REPORTS = ("pages/reports.py", "bao-cao")
QUALITY = ("pages/data_quality.py", "chat-luong-du-lieu")

ALL_OPT = ""   # the "all" choice of the sidebar selectboxes (None would show a placeholder)
GLOBAL_PARAMS = ("as_of", "district", "level", "ownership", "req")
PAGE_PARAMS = {INSTITUTION[1]: ("school",), DISTRICTS[1]: (), REPORTS[1]: (), QUALITY[1]: ("rule",),
               "muc-do-day-du": ("school",)}   # pages/completeness.py: the institution drilled into
T = TypeVar("T")
K_SNAPSHOT, K_DISTRICT, K_LEVEL, K_OWNERSHIP, K_REQS = (
    "f_snapshot", "f_district", "f_level", "f_ownership", "f_reqs")


def _snapshots(store: str) -> pd.DataFrame:
    """Read fresh on every run (a folder listing and the hidden set: about a millisecond), so a
    snapshot imported by another process shows on the next page load, never a stale list."""
    return queries.snapshots(store)


def _fingerprints() -> tuple[str, str]:
    """Campaign and SQL fingerprints (remembered by data_access.file_memo until the files change)."""
    return load_campaign().fingerprint, engine.engine_fingerprint()


_RUN_SLOTS = threading.BoundedSemaphore(max(1, int(os.environ.get("TIENDO_RUN_SLOTS", "2"))))
_SLOT = threading.local()   # .held: this script thread holds a slot


@contextmanager
def run_slot():
    """At most TIENDO_RUN_SLOTS (default 2) page scripts compute at once; the other sessions'
    runs wait their turn, blocked without using the CPU.

    Why: a page run is Python holding the GIL most of the time, so one server process does one
    core's work whatever the number of threads. With 30 runs at once (deadline morning, every
    office opening the dashboard) they share the GIL in 5 ms turns with each other and with the
    event loop that sends their results: the same work cost ~35 % more CPU (measured with
    bench/load_test.py) and every page finished near the end of the wave. Taking turns, the
    pages finish one after another and the server's CPU goes to the pages, not to switching.
    Two slots, not one: DuckDB and Arrow release the GIL, so a second run overlaps them."""
    _RUN_SLOTS.acquire()
    _SLOT.held = True
    try:
        yield
    finally:
        _SLOT.held = False
        _RUN_SLOTS.release()


@contextmanager
def long_work():
    """Gives the run's slot back during a job of seconds (a city workbook: ~4 s at city scale),
    so the short page runs of other sessions are not held behind it; the job shares the CPU
    with them meanwhile, as if there were no slots. Nothing happens outside a slot (a page run
    alone in a test). Enter it holding no lock that other runs may wait for: the run takes its
    slot back at the end, and two runs holding both slots while waiting for that lock would
    never give one."""
    if not getattr(_SLOT, "held", False):
        yield
        return
    _SLOT.held = False
    _RUN_SLOTS.release()
    try:
        yield
    finally:
        _RUN_SLOTS.acquire()
        _SLOT.held = True


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(name: str, viewer_key: tuple, snapshot_id: str, store: str, filters_key: tuple,
            kwargs: tuple, fingerprints: tuple, _viewer: Viewer) -> pd.DataFrame:
    kw = dict(kwargs)
    if _takes_filters(name):
        kw["filters"] = queries.Filters(*filters_key[:3], tuple(filters_key[3]))
    return getattr(queries, name)(_viewer, snapshot_id=snapshot_id, store=store, **kw)


@functools.lru_cache(maxsize=None)
def _takes_filters(name: str) -> bool:
    return "filters" in inspect.signature(getattr(queries, name)).parameters


@st.cache_resource(show_spinner=False, max_entries=2000)
def _memo(key: tuple, _build: Callable):
    return _build()


@dataclass
class Ctx:
    viewer: Viewer
    store: str
    snaps: pd.DataFrame
    snapshot_id: str
    as_of: pd.Timestamp
    filters: queries.Filters
    page_url: str = ""
    # What besides the snapshot can change a query's result: the campaign and SQL
    # fingerprints, the register version (a paper copy recorded on the register changes the
    # engine's results) and the visible history (hiding an older snapshot changes completed_at
    # and at-risk), also when another process changed them. Read once per page run.
    versions: tuple = ()

    @property
    def viewer_key(self) -> tuple:
        """What a cached result may depend on about the viewer: the role (masking, pages) and
        the scope (district, school). The query API reads nothing else of the Viewer, so the
        ~20 district offices on deadline day share one cache entry per district instead of one
        per account; the username is left out on purpose."""
        v = self.viewer
        return (v.role, v.district_code, v.school_code)

    def q(self, name: str, *, filters: queries.Filters | None = None, **kwargs) -> pd.DataFrame:
        """A query of data_access.queries, cached. ``filters`` defaults to the global ones."""
        f = self.filters if filters is None else filters
        # Key only on what the answer depends on: every district office then shares the
        # requirements list, and a function without filters one entry per scope.
        viewer_key = () if name in queries.UNSCOPED else self.viewer_key
        filters_key = f.key() if _takes_filters(name) else ()
        return _cached(name, viewer_key, self.snapshot_id, self.store, filters_key,
                       tuple(sorted(kwargs.items())), self.versions, self.viewer)   # a fresh copy (cache_data)

    def memo(self, name: str, build: Callable[[], T], *extra: Hashable) -> T:
        """What a page derives from its query results for display (a plotly figure, a table
        with its link column), built once per (name, viewer, snapshot, filters, versions,
        ``extra``) and shared by every session, so a page view by the 30th office on deadline
        day costs a lookup, not a rebuild. ``build`` must depend only on those; callers must
        not mutate the value (plotly_chart and st.dataframe do not)."""
        key = (name, self.viewer_key, self.snapshot_id, self.store, self.filters.key(),
               self.versions, extra)
        return _memo(key, build)

    # -- links ---------------------------------------------------------------------------------
    def params(self, **extra) -> dict:
        """The query parameters of the current state, plus ``extra`` (None drops a key).
        ``as_of`` only when an older snapshot is shown: a link to the newest data stays a link
        to the newest data (F5 after an import shows the new snapshot)."""
        p = {}
        if self.snapshot_id != self.snaps["snapshot_id"].iloc[-1]:
            p["as_of"] = self.as_of.strftime("%Y-%m-%dT%H:%M")
        f = self.filters
        if f.district:
            p["district"] = f.district
        if f.level_group:
            p["level"] = f.level_group
        if f.ownership:
            p["ownership"] = {v: k for k, v in fmt.OWNERSHIP_VALUES.items()}[f.ownership]
        if f.requirements:
            p["req"] = ",".join(f.requirements)
        for k, v in extra.items():
            if v is None:
                p.pop(k, None)
            else:
                p[k] = str(v)
        return p

    def with_links(self, df: pd.DataFrame, page: tuple[str, str]) -> pd.DataFrame:
        """A copy of ``df`` with a "link" column opening each row's district (DISTRICTS:
        district_code, district_name) or institution (other pages: school_code, school_name)."""
        df = df.copy()
        if page == DISTRICTS:
            df["link"] = [self.link(page, n, district=d)
                          for d, n in zip(df["district_code"].tolist(), df["district_name"].tolist())]
        else:
            df["link"] = [self.link(page, n, school=s)
                          for s, n in zip(df["school_code"].tolist(), df["school_name"].tolist())]
        return df

    def link(self, page: tuple[str, str], label: str | None = None, **extra) -> str:
        """A relative URL to a page with the current state (for LinkColumn; ``label`` after
        '#' is what the cell shows through display_text=LINK_LABEL)."""
        url = f"{page[1]}?{urlencode(self.params(**extra))}"
        return f"{url}#{label}" if label is not None else url


LINK_LABEL = r"#(.*)$"   # LinkColumn display_text: show the label after '#'


def ctx() -> Ctx:
    return st.session_state["_ctx"]


# ---- state <-> query parameters ----------------------------------------------------------------
def _apply_query_params(qp: dict, snaps: pd.DataFrame, viewer: Viewer) -> None:
    ss = st.session_state
    as_of = qp.get("as_of")
    sid = None
    if as_of:
        try:
            t = pd.Timestamp(parse_as_of(as_of))
            hit = snaps[snaps["as_of"] <= t]
            if not hit.empty:
                sid = hit.iloc[-1]["snapshot_id"]
        except ValueError:
            sid = None
    ss[K_SNAPSHOT] = sid or snaps.iloc[-1]["snapshot_id"]
    ss[K_DISTRICT] = qp.get("district") or ALL_OPT
    ss[K_LEVEL] = qp.get("level") if qp.get("level") in fmt.LEVEL_LABELS else ALL_OPT
    ss[K_OWNERSHIP] = fmt.OWNERSHIP_VALUES.get(qp.get("ownership") or "", ALL_OPT)
    reqs = [r for r in (qp.get("req") or "").split(",") if r]
    ss[K_REQS] = reqs


def setup(page_url: str) -> Ctx | None:
    """Read the URL and session, render the shared sidebar controls, write the URL back and
    return the context the pages use (None when the store has no snapshot yet)."""
    viewer = current_viewer()
    store = str(queries.store_path())
    snaps = _snapshots(store)
    if snaps.empty:
        return None
    ss = st.session_state
    qp = st.query_params.to_dict()
    ids = list(snaps["snapshot_id"])
    fresh_qp = bool(qp and qp != ss.get("_qp_last"))
    if fresh_qp or K_SNAPSHOT not in ss:
        _apply_query_params(qp, snaps, viewer)
    if ss.get(K_SNAPSHOT) not in ids:
        ss[K_SNAPSHOT] = ids[-1]
    sid = ss[K_SNAPSHOT]
    vkey = (viewer.role, viewer.district_code, viewer.school_code)   # as Ctx.viewer_key
    fingerprints = _fingerprints()
    reqs = _cached("requirements", vkey, sid, store, queries.ALL.key(), (), fingerprints, viewer)
    dists = _cached("districts", vkey, sid, store, queries.ALL.key(), (), fingerprints, viewer)
    req_ids = list(reqs["requirement_id"])
    ss[K_REQS] = [r for r in ss.get(K_REQS, []) if r in req_ids]
    dist_codes = list(dists["district_code"])
    if fresh_qp and qp.get("district") and qp["district"] not in dist_codes:
        # ?district= of another district: refused here (the queries would return nothing anyway).
        scope_refused(f"Quận/huyện mã {fmt.md(qp['district'])}", f"quan:{qp['district']}", store=store,
                      viewer=viewer)
    if viewer.role == "phong_gd":
        ss[K_DISTRICT] = viewer.district_code
    if ss.get(K_DISTRICT) not in dist_codes:
        ss[K_DISTRICT] = ALL_OPT
    if ss.get(K_LEVEL) not in fmt.LEVEL_LABELS:
        ss[K_LEVEL] = ALL_OPT
    if ss.get(K_OWNERSHIP) not in fmt.OWNERSHIP_VALUES.values():
        ss[K_OWNERSHIP] = ALL_OPT

    as_of_of = dict(zip(snaps["snapshot_id"], snaps["as_of"]))
    sb = st.sidebar
    sb.selectbox("Số liệu tại thời điểm", options=ids[::-1], key=K_SNAPSHOT,
                 format_func=lambda s: fmt.date_time(as_of_of[s]) + (" (mới nhất)" if s == ids[-1] else ""),
                 help="Chọn lần trích xuất dữ liệu (snapshot) để xem số liệu tại thời điểm đó. "
                      "Lựa chọn được giữ khi chuyển trang.")
    sb.markdown("**Bộ lọc chung**")
    name_of = dict(zip(dists["district_code"], dists["district_name"]))
    sb.selectbox("Quận/huyện", options=[ALL_OPT] + dist_codes, key=K_DISTRICT,
                 format_func=lambda c: "Toàn thành phố" if c == ALL_OPT else name_of.get(c, c),
                 disabled=viewer.role in ("phong_gd", "truong"))
    sb.selectbox("Cấp học", options=[ALL_OPT] + list(fmt.LEVEL_LABELS), key=K_LEVEL,
                 format_func=lambda c: "Tất cả cấp học" if c == ALL_OPT else fmt.level_label(c))
    sb.selectbox("Loại hình", options=[ALL_OPT] + list(fmt.OWNERSHIP_VALUES.values()), key=K_OWNERSHIP,
                 format_func=lambda c: "Công lập và ngoài công lập" if c == ALL_OPT else c)
    rname = dict(zip(reqs["requirement_id"], reqs["name"]))
    sb.multiselect("Yêu cầu", options=req_ids, key=K_REQS, format_func=lambda r: rname.get(r, r),
                   placeholder="Tất cả yêu cầu")
    def _clear():
        ss[K_LEVEL] = ss[K_OWNERSHIP] = ALL_OPT
        ss[K_REQS] = []
        if viewer.role not in ("phong_gd", "truong"):
            ss[K_DISTRICT] = ALL_OPT

    if sb.button("Bỏ lọc", key="clear_filters", icon=":material/filter_alt_off:", on_click=_clear):
        st.rerun()

    sid = ss[K_SNAPSHOT]
    c = Ctx(viewer=viewer, store=store, snaps=snaps, snapshot_id=sid, as_of=as_of_of[sid],
            filters=queries.Filters(ss.get(K_DISTRICT) or None, ss.get(K_LEVEL) or None,
                                    ss.get(K_OWNERSHIP) or None,
                                    tuple(ss.get(K_REQS) or ())),
            page_url=page_url,
            versions=fingerprints + (ops.register_version(store), tuple(snaps["snapshot_id"])))
    ss["_ctx"] = c
    # Mirror the state in the URL; keep the page's own parameters (e.g. school).
    keep = {k: v for k, v in qp.items() if k in PAGE_PARAMS.get(page_url, ())}
    want = {**c.params(), **keep}
    if qp != want:
        st.query_params.from_dict(want)
    ss["_qp_last"] = want
    return c


def set_page_param(key: str, value: str | None) -> None:
    """Set or clear a page's own query parameter and remember it as ours."""
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value
    st.session_state["_qp_last"] = st.query_params.to_dict()


K_SCOPE_NOTICE = "_scope_notice"


def scope_refused(what: str, obj: str, store: str | None = None, viewer: Viewer | None = None) -> None:
    """Say that ``what`` is out of the viewer's scope (shown by header(), or at once when the
    header is already drawn) and write the attempt to the audit trail. ``what`` is Markdown:
    a value in it from the URL goes through fmt.md (issue 13, finding 3)."""
    msg = (f"{what} nằm ngoài phạm vi được phân quyền của tài khoản này (hoặc không có trong dữ "
           "liệu): không hiển thị số liệu của đơn vị đó.")
    if store is None:
        c = ctx()
        store, viewer = c.store, c.viewer
        st.warning(msg, icon=":material/block:")
    else:
        st.session_state[K_SCOPE_NOTICE] = msg
    try:
        ops.audit(store, viewer, "scope.denied", obj)
    except Exception:  # noqa: BLE001 - the refusal holds even if the trail cannot be written
        pass


def header(title: str, help_text: str | None = None) -> Ctx:
    """Page title, the snapshot shown and a summary of the active filters."""
    c = ctx()
    st.title(title, help=help_text)
    notice = st.session_state.pop(K_SCOPE_NOTICE, None)
    if notice:
        st.warning(notice, icon=":material/block:")
    newest = c.snapshot_id == c.snaps.iloc[-1]["snapshot_id"]
    parts = [fmt.as_of_caption(c.as_of) + ("" if newest else " (không phải snapshot mới nhất)")]
    f = c.filters
    if f.district:
        d = c.q("districts", filters=queries.ALL)
        parts.append(fmt.md(dict(zip(d["district_code"], d["district_name"])).get(f.district, f.district)))
    if f.level_group:
        parts.append(fmt.level_label(f.level_group))
    if f.ownership:
        parts.append(f.ownership)
    if f.requirements:
        parts.append(f"{len(f.requirements)} yêu cầu được chọn")
    st.caption(" · ".join(parts))
    return c


def nothing_selected(df: pd.DataFrame, what: str = "đơn vị") -> bool:
    """Show the designed empty state when the filters select nothing; True when empty."""
    if df is None or df.empty:
        st.info(f"Không có {what} nào khớp với bộ lọc đang chọn. Hãy nới bộ lọc ở thanh bên "
                "(hoặc bấm «Bỏ lọc»).", icon=":material/filter_alt_off:")
        return True
    return False


PERCENT_COLUMNS = ("completion_rate", "on_time_rate", "percent", "records_rate", "filled_rate", "done_rate")


def styled(df: pd.DataFrame, numbers: dict[str, int] | None = None, percents=(), dates=(),
           datetimes=(), labels: dict | None = None, columns=None):
    """A Styler showing Vietnamese numbers (1.234,5), percents and dd/mm/yyyy dates while the
    values stay numbers/timestamps (so the table still sorts correctly).
    ``columns``: the columns the table shows (its column_order). Streamlit converts every cell
    of a Styler's frame to text on each run (~1 ms per column), so pass them."""
    if columns is not None:
        df = df[list(columns)]
    fm = {}
    percents = list(percents) + [c for c in PERCENT_COLUMNS if c in df.columns]
    for col, dec in (numbers or {}).items():
        fm[col] = (lambda d: (lambda x: fmt.number(x, d)))(dec)
    for col in percents:
        fm[col] = fmt.percent
    for col in dates:
        fm[col] = fmt.date
    for col in datetimes:
        fm[col] = fmt.date_time
    for col, mapping in (labels or {}).items():
        fm[col] = (lambda m: (lambda x: m.get(x, "–" if x is None or x != x else x)))(mapping)
    fm = {k: v for k, v in fm.items() if k in df.columns}
    return df.style.format(fm, na_rep="–")
