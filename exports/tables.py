"""The tables of the status sheets, as DataFrames with Vietnamese column headers.

Every function takes an ``Evaluation`` (one as-of time) and a ``Viewer``; rows are filtered in
SQL by ``access.scope_filter`` and, optionally, by one district or one institution. Values keep
their types (numbers, dates, datetimes) so the XLSX writer stores numbers as numbers and dates
as dates; a ``Table`` also says which column holds a status (coloured cells).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from data_access import explain, planning
from data_access.access import Viewer, finding_message_sql, scope_filter
from data_access.evaluate import Evaluation
from data_access.store import TZ, Store

try:  # the dashboard's one palette and labels (data_access/formatting.py)
    from data_access.formatting import LEVEL_LABELS, STATUS_COLORS, STATUS_LABELS
except ImportError:  # pragma: no cover - before that module exists
    STATUS_LABELS = {"done_on_time": "Hoàn thành đúng hạn", "done_late": "Hoàn thành trễ hạn",
                     "in_progress": "Đang thực hiện", "not_started": "Chưa thực hiện",
                     "overdue": "Quá hạn", "not_applicable": "Không áp dụng"}
    STATUS_COLORS = {"done_on_time": "#0072B2", "done_late": "#E69F00", "in_progress": "#F0E442",
                     "not_started": "#BBBBBB", "overdue": "#D55E00", "not_applicable": "#EEEEEE"}
    LEVEL_LABELS = {"MN": "Mầm non", "TH": "Tiểu học", "THCS": "THCS", "THPT": "THPT",
                    "GDTX": "GDTX", "LIEN_CAP": "Liên cấp"}

# Laggard categories coloured like the statuses they summarise.
CATEGORY_COLORS = {"Quá hạn": STATUS_COLORS["overdue"], "Có nguy cơ trễ hạn": STATUS_COLORS["done_late"],
                   "Đang thực hiện": STATUS_COLORS["in_progress"]}
STATUS_FILL_BY_LABEL = {STATUS_LABELS[k]: v for k, v in STATUS_COLORS.items()}
# Short labels for the institutions × requirements matrix (the legend gives the full ones).
STATUS_SHORT = {"done_on_time": "Đúng hạn", "done_late": "Trễ hạn", "in_progress": "Đang làm",
                "not_started": "Chưa làm", "overdue": "Quá hạn", "not_applicable": "KAD"}
STATUS_FILL_BY_SHORT = {STATUS_SHORT[k]: v for k, v in STATUS_COLORS.items()}
STATUS_LEGEND_SHORT = {f"{STATUS_SHORT[k]}: {STATUS_LABELS[k]}" if STATUS_SHORT[k] != "KAD"
                       else "KAD: Không áp dụng": v for k, v in STATUS_COLORS.items()}


@dataclass
class Table:
    """One sheet's table: ``df`` with display headers; ``status_cols`` hold status labels whose
    cells are coloured by ``fills`` (label → hex colour); ``wide_cols`` wrap (long text);
    ``percent_cols`` / ``date_cols`` / ``datetime_cols`` get number formats; ``freeze_cols``
    columns stay visible when scrolling right."""
    name: str          # sheet name (≤ 31 characters)
    title: str
    df: pd.DataFrame
    status_cols: list[str] = field(default_factory=list)
    fills: dict[str, str] = field(default_factory=lambda: dict(STATUS_FILL_BY_LABEL))
    legend: dict[str, str] | None = None   # label → colour shown above the table (default: fills)
    wide_cols: list[str] = field(default_factory=list)
    percent_cols: list[str] = field(default_factory=list)
    date_cols: list[str] = field(default_factory=list)
    datetime_cols: list[str] = field(default_factory=list)
    freeze_cols: int = 0
    csv_name: str = ""
    row_district: list | None = None   # district code of each row (to split a table by district)

    def subset(self, mask, drop: tuple[str, ...] = (), **changes) -> "Table":
        """The rows where ``mask`` holds (STT renumbered), without the ``drop`` columns."""
        import dataclasses
        df = self.df[list(mask)].drop(columns=list(drop)).reset_index(drop=True)
        if "STT" in df.columns:
            df["STT"] = range(1, len(df) + 1)
        keys = [k for k, m in zip(self.row_district or [], mask) if m] if self.row_district else None
        return dataclasses.replace(self, df=df, row_district=keys, **changes)


def _df(ev: Evaluation, sql: str, params=None) -> pd.DataFrame:
    return planning._df(ev, sql, params)


def _local_naive(s: pd.Series) -> pd.Series:
    """TIMESTAMPTZ → local wall-clock time without zone (Excel has no time zones)."""
    s = pd.to_datetime(s, utc=True)
    return s.dt.tz_convert(TZ).dt.tz_localize(None).astype("datetime64[us]")


def _scope(viewer: Viewer, district: str | None, school: str | None,
           school_col="p.school_code", district_col="s.district_code") -> tuple[str, list]:
    cond, params = scope_filter(viewer, school_col, district_col)
    if district:
        cond += f" AND {district_col} = ?"
        params = params + [district]
    if school:
        cond += f" AND {school_col} = ?"
        params = params + [school]
    return cond, params


def as_of_text(ev: Evaluation) -> str:
    t = pd.Timestamp(ev.as_of).tz_convert(TZ)
    return f"{t:%H:%M} ngày {t:%d/%m/%Y}"


def district_names(ev: Evaluation) -> dict[str, str]:
    d = _df(ev, "SELECT district_code, district_name FROM ref_districts")
    return dict(zip(d["district_code"], d["district_name"]))


def requirements(ev: Evaluation) -> pd.DataFrame:
    return _df(ev, "SELECT requirement_id, name, kind, report_code, due, letter_words, sort_order "
                   "FROM cfg_requirements ORDER BY sort_order")


SHORT_REQ = {"student_info": "TT HS lớp 12", "student_results": "KQHT"}


def short_name(req) -> str:
    """A short column header for a requirement: 'Báo cáo EMIS', 'Bản giấy CSVC', 'KQHT HK2, CN lớp 12'."""
    rid, kind, code = req["requirement_id"], req["kind"], req.get("report_code")
    short = planning.REPORT_SHORT.get(code, code)
    if kind == "report":
        return f"Báo cáo {short}"
    if kind == "paper":
        return f"Bản giấy {short}"
    if kind == "student_info":
        return "Thông tin HS lớp 12"
    if rid.endswith("EARLY"):
        return "KQHT lớp 10, 11, HK1 lớp 12"
    if rid.endswith("FINAL"):
        return "KQHT HK2, cả năm lớp 12"
    return req["name"]


# ---- summary: city and district roll-ups --------------------------------------------------

def summary_table(ev: Evaluation, viewer: Viewer, district: str | None = None) -> Table:
    """City roll-up (the whole city's aggregate) then one block per district in scope."""
    names = district_names(ev)
    cond, params = scope_filter(viewer, "p.school_code", "s.district_code")
    if district:
        cond += " AND s.district_code = ?"
        params = params + [district]
    city_scope = viewer.role in ("quan_tri", "khtc", "lanh_dao") and not district
    df = _df(ev, f"""
        WITH rows AS (
            SELECT p.*, s.district_code FROM progress p JOIN cur_schools s USING (school_code)
            WHERE {cond}
        ), g AS (
            SELECT 0 AS lvl, 'Thành phố' AS unit_kind, NULL AS grp, requirement_id, kind, sort_order,
                   count(*) AS ue,
                   count(*) FILTER (WHERE status IN ('done_on_time', 'done_late')) AS ud,
                   count(*) FILTER (WHERE status = 'done_on_time') AS uo,
                   count(*) FILTER (WHERE status = 'overdue') AS uov,
                   sum(expected) AS re, sum(done) AS rd
            FROM rows WHERE {'TRUE' if city_scope else 'FALSE'} GROUP BY ALL
            UNION ALL
            SELECT 1, 'Quận/huyện', district_code, requirement_id, kind, sort_order,
                   count(*), count(*) FILTER (WHERE status IN ('done_on_time', 'done_late')),
                   count(*) FILTER (WHERE status = 'done_on_time'),
                   count(*) FILTER (WHERE status = 'overdue'), sum(expected), sum(done)
            FROM rows GROUP BY ALL
        )
        SELECT g.*, r.name, r.due FROM g JOIN cfg_requirements r USING (requirement_id)
        ORDER BY lvl, grp, sort_order""", params)
    rec = df["kind"].isin(["student_info", "student_results"])
    out = pd.DataFrame({
        "Cấp tổng hợp": df["unit_kind"],
        "Mã đơn vị": df["grp"].fillna("79"),
        "Đơn vị": [("Thành phố Hồ Chí Minh" if l == 0 else names.get(g, g)) for l, g in zip(df["lvl"], df["grp"])],
        "Yêu cầu": df["name"],
        "Hạn": _local_naive(df["due"]),
        "Số đơn vị phải thực hiện": df["ue"].astype("int64"),
        "Đã hoàn thành": df["ud"].astype("int64"),
        "Hoàn thành đúng hạn": df["uo"].astype("int64"),
        "Quá hạn": df["uov"].astype("int64"),
        "Tỉ lệ hoàn thành (%)": _rate(df["ud"], df["ue"]),
        "Tỉ lệ đúng hạn (%)": _rate(df["uo"], df["ue"]),
        "Số học sinh phải đạt": df["re"].where(rec).astype("Int64"),
        "Số học sinh đạt": df["rd"].where(rec).astype("Int64"),
        "Tỉ lệ học sinh đạt (%)": _rate(df["rd"], df["re"]).where(rec),
    })
    return Table("Tổng hợp", "Tổng hợp tiến độ toàn thành phố và theo quận/huyện", out,
                 percent_cols=["Tỉ lệ hoàn thành (%)", "Tỉ lệ đúng hạn (%)", "Tỉ lệ học sinh đạt (%)"],
                 datetime_cols=["Hạn"], wide_cols=["Yêu cầu"], freeze_cols=3, csv_name="tong-hop")


def _rate(num: pd.Series, den: pd.Series) -> pd.Series:
    """round1(100 × num / den) in integer tenths, as the engine rounds (RULES.md)."""
    n = pd.to_numeric(num, errors="coerce").astype("float64")
    d = pd.to_numeric(den, errors="coerce").astype("float64")
    tenths = ((2000 * n + d) // (2 * d)).where(d > 0)
    return (tenths / 10.0).astype("float64")


# ---- status of institutions × requirements ------------------------------------------------

def status_long(ev: Evaluation, viewer: Viewer, district: str | None = None,
                school: str | None = None) -> pd.DataFrame:
    cond, params = _scope(viewer, district, school)
    return _df(ev, f"""
        SELECT s.district_code, s.school_code, s.school_name, s.level_group, s.ownership, s.managed_by,
               p.requirement_id, p.kind, p.sort_order, p.status, p.percent, p.expected, p.done,
               p.days_late, p.completed_at
        FROM progress p JOIN cur_schools s USING (school_code)
        WHERE {cond}
        ORDER BY s.district_code, s.school_code, p.sort_order""", params)


def status_table(ev: Evaluation, viewer: Viewer, district: str | None = None,
                 school: str | None = None, long: pd.DataFrame | None = None,
                 name: str = "Trạng thái", title: str = "", short: bool = False,
                 with_district: bool = True, reqs: pd.DataFrame | None = None,
                 names: dict | None = None) -> Table:
    """One row per institution: who it is, then for each requirement its status (a label,
    coloured) and, for record requirements, the percent done; "Không áp dụng" where a
    requirement does not apply."""
    long = status_long(ev, viewer, district, school) if long is None else long
    reqs = requirements(ev) if reqs is None else reqs
    names = district_names(ev) if names is None else names
    schools = long.drop_duplicates("school_code")[
        ["district_code", "school_code", "school_name", "level_group", "ownership", "managed_by"]]
    status = long.pivot(index="school_code", columns="requirement_id", values="status")
    pct = long.pivot(index="school_code", columns="requirement_id", values="percent")
    out = pd.DataFrame({
        "STT": range(1, len(schools) + 1),
        "Mã trường": schools["school_code"].to_numpy(),
        "Tên trường": schools["school_name"].to_numpy(),
        "Quận/huyện": [names.get(c, c) for c in schools["district_code"]],
        "Cấp học": [LEVEL_LABELS.get(c, c) for c in schools["level_group"]],
        "Loại hình": schools["ownership"].to_numpy(),
        "Cấp quản lý": schools["managed_by"].to_numpy(),
    })
    idx = schools["school_code"].to_numpy()
    status = status.reindex(index=idx)
    pct = pct.reindex(index=idx)
    done_n = np.zeros(len(idx), dtype="int64")
    due_n = np.zeros(len(idx), dtype="int64")
    status_cols, pct_cols = [], []
    labels = STATUS_SHORT if short else STATUS_LABELS
    na = labels["not_applicable"]
    for req in reqs.to_dict("records"):
        rid = req["requirement_id"]
        header = short_name(req)
        col = status[rid].to_numpy(dtype=object) if rid in status.columns else np.full(len(idx), None, dtype=object)
        out[header] = [labels.get(v, na) if isinstance(v, str) else na for v in col]
        status_cols.append(header)
        due_n += np.array([isinstance(v, str) for v in col], dtype="int64")
        done_n += np.array([v in ("done_on_time", "done_late") for v in col], dtype="int64")
        if req["kind"] in ("student_info", "student_results"):
            h = f"{header} (%)"
            out[h] = (pct[rid].to_numpy(dtype="float64") if rid in pct.columns
                      else np.full(len(idx), np.nan))
            pct_cols.append(h)
    out.insert(7, "Số yêu cầu", due_n)
    out.insert(8, "Đã hoàn thành", done_n)
    # «Khớp dữ liệu» of each report with indicators (issue 15): khớp / n chỉ tiêu lệch /
    # không có số liệu for a submitted report, empty otherwise.
    from data_access.report_figures import match_labels_at
    ml = match_labels_at(ev, viewer, district, school)
    for rid in sorted(ml.attrs["compared"]):
        req = reqs[reqs["requirement_id"] == rid]
        if req.empty:
            continue
        m = ml[ml["requirement_id"] == rid]
        lab = dict(zip(m["school_code"], m["match_label"]))
        out[f"{short_name(req.iloc[0].to_dict())}: khớp dữ liệu"] = [lab.get(c, "") for c in idx]
    order = list(out.columns[:9])
    for req in reqs.to_dict("records"):
        header = short_name(req)
        order.append(header)
        if f"{header} (%)" in out.columns:
            order.append(f"{header} (%)")
        if f"{header}: khớp dữ liệu" in out.columns:
            order.append(f"{header}: khớp dữ liệu")
    if not with_district:
        order.remove("Quận/huyện")
    out = out[order]
    return Table(name[:31], title or "Trạng thái từng trường theo từng yêu cầu", out,
                 status_cols=status_cols, percent_cols=pct_cols, wide_cols=["Tên trường"],
                 freeze_cols=3, csv_name="trang-thai",
                 fills=dict(STATUS_FILL_BY_SHORT if short else STATUS_FILL_BY_LABEL),
                 legend=dict(STATUS_LEGEND_SHORT) if short else None,
                 row_district=list(schools["district_code"]))


# ---- laggards -----------------------------------------------------------------------------

def laggards_table(ev: Evaluation, viewer: Viewer, store: Store | str | Path | None = None,
                   district: str | None = None, school: str | None = None,
                   today: dt.date | None = None) -> Table:
    f = planning.LaggardFilter(districts=[district] if district else [])
    lag = planning.laggards(ev, viewer, store, f, today=today)
    if school:
        lag = lag[lag["school_code"] == school]
    out = pd.DataFrame({
        "Thứ tự": lag["rank"].astype("int64"),
        "Mã trường": lag["school_code"],
        "Tên trường": lag["school_name"],
        "Quận/huyện": lag["district_name"].fillna(lag["district_code"]),
        "Cấp học": [LEVEL_LABELS.get(c, c) for c in lag["level_group"]],
        "Loại hình": lag["ownership"],
        "Cấp quản lý": lag["managed_by"],
        "Mức độ": lag["category_label"],
        "Số ngày quá hạn": lag["days_late"].astype("int64"),
        "Số bản ghi còn thiếu": lag["records_missing"].astype("int64"),
        "Số yêu cầu chưa đạt": lag["requirements_behind"].astype("int64"),
        "Còn thiếu": lag["missing"],
        "Hiệu trưởng": lag["principal"],
        "Điện thoại": lag["phone"],
        "Email": lag["email"],
        "Liên hệ gần nhất": lag["last_contact_on"],
        "Hình thức": lag["last_channel"],
        "Ngày hẹn hoàn thành": lag["promised_on"],
        "Đã quá ngày hẹn": ["Có" if p else "" for p in lag["promise_passed"]],
    }).reset_index(drop=True)
    return Table("Trường chậm tiến độ", "Danh sách trường chậm tiến độ (xếp theo mức độ)", out,
                 status_cols=["Mức độ"], fills=dict(CATEGORY_COLORS), wide_cols=["Còn thiếu", "Tên trường"],
                 date_cols=["Liên hệ gần nhất", "Ngày hẹn hoàn thành"], freeze_cols=3, csv_name="cham-tien-do")


# ---- one institution's checklist ----------------------------------------------------------

def checklist_table(ev: Evaluation, viewer: Viewer, school: str) -> Table:
    cond, params = _scope(viewer, None, school)
    df = _df(ev, f"""
        SELECT p.requirement_id, r.name, r.due, r.letter_words, p.status, p.expected, p.done,
               p.percent, p.completed_at, p.days_late
        FROM progress p JOIN cur_schools s USING (school_code)
        JOIN cfg_requirements r USING (requirement_id)
        WHERE {cond} ORDER BY p.sort_order""", params)
    words = planning.gaps(ev, viewer, [school]).set_index("requirement_id")["words"]
    # Why each row is what it is: the line the institution page shows (data_access.explain).
    reason = {e["requirement_id"]: explain.one_line(e) for e in explain.explain_school_at(ev, viewer, school)}
    out = pd.DataFrame({
        "STT": range(1, len(df) + 1),
        "Yêu cầu": df["name"],
        "Hạn": _local_naive(df["due"]),
        "Công văn ghi": df["letter_words"],
        "Trạng thái": [STATUS_LABELS.get(s, s) for s in df["status"]],
        "Phải đạt": df["expected"].astype("int64"),
        "Đã đạt": df["done"].astype("int64"),
        "Tỉ lệ (%)": df["percent"].astype("float64"),
        "Hoàn thành lúc": _local_naive(df["completed_at"]),
        "Số ngày trễ": df["days_late"].astype("int64"),
        "Còn thiếu": [words.get(r, "") for r in df["requirement_id"]],
        "Lý do": [reason.get(r, "") for r in df["requirement_id"]],
    })
    # «Khớp dữ liệu» of the school's submitted reports with indicators (issue 15).
    from data_access.report_figures import match_labels_at
    ml = match_labels_at(ev, viewer, None, school)
    if ml.attrs["compared"] & set(df["requirement_id"]):
        lab = dict(zip(ml["requirement_id"], ml["match_label"]))
        out.insert(out.columns.get_loc("Còn thiếu"), "Khớp dữ liệu", [lab.get(r, "") for r in df["requirement_id"]])
    return Table("Danh mục yêu cầu", "Danh mục yêu cầu của trường", out, status_cols=["Trạng thái"],
                 percent_cols=["Tỉ lệ (%)"], datetime_cols=["Hạn", "Hoàn thành lúc"],
                 wide_cols=["Yêu cầu", "Còn thiếu", "Công văn ghi", "Lý do"], freeze_cols=2,
                 csv_name="danh-muc")


def findings_table(ev: Evaluation, viewer: Viewer, school: str) -> Table:
    """The records to fix at one institution (messages never show a personal value)."""
    cond, params = _scope(viewer, None, school, "f.school_code", "s.district_code")
    # an ID_DUPLICATE names the other holders' institutions in the viewer's scope only
    msg, mparams = finding_message_sql(viewer, "f")
    df = _df(ev, f"""
        SELECT f.rule_id, f.severity, f.entity, f.record_key, f.field, {msg} AS message, f.student_id,
               f.grade, f.term, f.source_row
        FROM findings f JOIN cur_schools s USING (school_code)
        WHERE {cond}
        ORDER BY f.severity, f.rule_id, f.record_key, f.field""", mparams + params)
    try:
        from data_access.formatting import ENTITY_LABELS, SEVERITY_LABELS
    except ImportError:  # pragma: no cover
        ENTITY_LABELS, SEVERITY_LABELS = {}, {"error": "Lỗi", "warning": "Cảnh báo"}
    out = pd.DataFrame({
        "STT": range(1, len(df) + 1),
        "Mức độ": [SEVERITY_LABELS.get(s, s) for s in df["severity"]],
        "Loại bản ghi": [ENTITY_LABELS.get(e, e) for e in df["entity"]],
        "Mã học sinh / bản ghi": df["record_key"],
        "Khối": df["grade"].astype("Int64"),
        "Học kỳ": df["term"],
        "Trường dữ liệu": df["field"],
        "Mã lỗi": df["rule_id"],
        "Cần sửa": df["message"],
        "Dòng trong tệp": df["source_row"].astype("Int64"),
    })
    fills = {"Lỗi (chặn hoàn thành)": STATUS_COLORS["overdue"], "Lỗi": STATUS_COLORS["overdue"],
             "Cảnh báo": STATUS_COLORS["done_late"]}
    return Table("Bản ghi cần sửa", "Các bản ghi cần sửa", out, status_cols=["Mức độ"], fills=fills,
                 wide_cols=["Cần sửa"], freeze_cols=2, csv_name="ban-ghi-can-sua")


# ---- one institution's students not done (personal values masked by role) ----------------

def students_table(ev: Evaluation, viewer: Viewer, school: str,
                   store: Store | str | Path | None = None) -> Table:
    """The grade-12 students not done with what each lacks; CCCD, birth date and address
    masked by the same rule as the pages (data_access.queries.mask_people / access.mask_*)."""
    from data_access import queries
    root = store.root if isinstance(store, Store) else (Path(store) if store else queries.store_path())
    df = queries.students_not_done_at(ev, viewer, school, root)
    out = pd.DataFrame({
        "STT": range(1, len(df) + 1),
        "Mã học sinh": df["student_id"],
        "Họ và tên": df["full_name"],
        "Lớp": df["class_name"],
        "Ngày sinh": df["birth_date"],
        "Số CMND/CCCD": df["id_number"],
        "Nơi thường trú": df["permanent_address"],
        "Chưa đạt yêu cầu": [", ".join(x) for x in df["requirements"]],
        "Còn thiếu / cần sửa": [" | ".join(x) for x in df["lacks"]],
    }).reset_index(drop=True)
    return Table("Học sinh chưa đạt", "Học sinh lớp 12 chưa đạt và còn thiếu gì", out,
                 wide_cols=["Còn thiếu / cần sửa", "Nơi thường trú"], freeze_cols=3,
                 csv_name="hoc-sinh-chua-dat")
