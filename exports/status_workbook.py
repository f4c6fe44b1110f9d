"""Status workbooks (XLSX, openpyxl): the city's, a district office's, and a school's checklist.

City workbook: "Tổng hợp" (city and district roll-ups), one sheet per district (institutions ×
requirements: status and percent), "Trường chậm tiến độ" (ranked, with contacts and gaps).
District workbook: the same for one district. School workbook: its checklist of requirements
and the records it must fix.

Every sheet: a title row with the letter's number and the as-of time, a legend of the status
colours, a bold header row that is frozen, repeated on every printed page and carries an
autofilter; column widths fitted to the content; status cells filled with the dashboard's
colours; numbers stored as numbers, dates as dates; A4 landscape, fitted to the page width.
Text that could be read as a formula is stored as text (exports.safety).
"""
from __future__ import annotations

import datetime as dt
import io
from copy import copy
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from data_access.access import Viewer
from data_access.evaluate import Evaluation
from data_access.store import TZ, Store

from . import tables as T
from .safety import is_dangerous

HEADER_ROW = 4
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_THIN = Side(style="thin", color="999999")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
CENTER = Alignment(horizontal="center", vertical="top")
FMT_INT, FMT_PCT, FMT_DATE, FMT_DT = "#,##0", "0.0", "dd/mm/yyyy", "dd/mm/yyyy hh:mm"


def _hex(c: str) -> str:
    return c.lstrip("#").upper()


def _text_color(fill_hex: str) -> str:
    r, g, b = (int(fill_hex[i:i + 2], 16) for i in (0, 2, 4))
    return "FFFFFF" if (0.299 * r + 0.587 * g + 0.114 * b) < 140 else "000000"


class _Styles:
    """Shared style objects. Why ``cell_style``: assigning font/fill/border to a cell makes
    openpyxl hash each style object to find it in the workbook's lists (most of the time of a
    big sheet); a combination is registered once on a scratch cell and then its index array is
    copied to each cell."""

    def __init__(self, wb: Workbook):
        self.fills: dict[str, tuple[PatternFill, Font]] = {}
        self._scratch = wb.create_sheet("_styles")
        self._arrays: dict[tuple, object] = {}

    def fill(self, colour: str) -> tuple[PatternFill, Font]:
        h = _hex(colour)
        if h not in self.fills:
            self.fills[h] = (PatternFill("solid", fgColor=h), Font(color=_text_color(h)))
        return self.fills[h]

    def cell_style(self, number_format: str | None = None, fill: str | None = None,
                   align: str | None = None, quote: bool = False):
        key = (number_format, fill, align, quote)
        arr = self._arrays.get(key)
        if arr is None:
            c = self._scratch.cell(row=1, column=1)
            c.border = BORDER
            c.number_format = number_format or "General"
            # The scratch cell is shared: reset what a previous combination set (a status
            # fill leaked into the percent and date cells styled after it).
            c.fill, c.font = self.fill(fill) if fill else (PatternFill(), Font())
            c.alignment = {"wrap": WRAP_TOP, "center": CENTER}.get(align, Alignment(vertical="top"))
            c.quotePrefix = quote
            arr = self._arrays[key] = copy(c._style)
        return arr

    def close(self, wb: Workbook) -> None:
        wb.remove(self._scratch)


def _py(v):
    """A DataFrame value → what openpyxl stores (None for missing; Python scalars)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (np.bool_, bool)):
        return "Có" if v else "Không"
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).to_pydatetime()
    if isinstance(v, str):
        return _ILLEGAL.sub("", v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return ", ".join(map(str, v))
    return v


def _display_len(v) -> int:
    if v is None:
        return 0
    if isinstance(v, dt.datetime):
        return 16
    if isinstance(v, dt.date):
        return 10
    if isinstance(v, float):
        return len(f"{v:.1f}")
    if isinstance(v, int):
        return len(f"{v:,}")
    return max((len(s) for s in str(v).split("\n")), default=0)


def put(ws, row: int, column: int, value) -> Cell:
    """The one writer of every cell of every workbook: the value made storable (``_py``) and,
    when it could be read as a formula (exports.safety), stored as text with the quote prefix.
    Why one writer: a subtitle written beside the check let a school named =HYPERLINK(...)
    become a formula (issue 13, finding 7)."""
    v = _py(value)
    c = Cell(ws, row=row, column=column, value=v)
    ws._cells[(row, column)] = c    # made directly: ws.cell() looks each one up first
    if is_dangerous(v):
        c.data_type = "s"            # text, never a formula
        c.quotePrefix = True
    return c


def write_table(ws, table: T.Table, title: str, subtitle: str, styles: _Styles) -> None:
    df = table.df
    cols = list(df.columns)
    ncol = max(len(cols), 1)
    last = get_column_letter(ncol)

    put(ws, 1, 1, title).font = TITLE_FONT
    put(ws, 2, 1, subtitle).font = Font(italic=True)
    for j, h in enumerate(cols, start=1):
        c = put(ws, HEADER_ROW, j, h)
        c.font, c.fill, c.alignment, c.border = HEADER_FONT, HEADER_FILL, HEADER_ALIGN, BORDER

    status_idx = {cols.index(c) for c in table.status_cols if c in cols}
    pct_idx = {cols.index(c) for c in table.percent_cols if c in cols}
    date_idx = {cols.index(c) for c in table.date_cols if c in cols}
    dt_idx = {cols.index(c) for c in table.datetime_cols if c in cols}
    wide_idx = {cols.index(c) for c in table.wide_cols if c in cols}
    widths = [0] * ncol

    values = df.to_numpy(dtype=object) if len(df) else np.empty((0, ncol), dtype=object)
    fills = table.fills
    for i, row in enumerate(values):
        r = HEADER_ROW + 1 + i
        for j, raw in enumerate(row):
            c = put(ws, r, j + 1, raw)
            v = c.value
            fmt = fill = align = None
            quote = False
            if isinstance(v, str):
                quote = c.data_type == "s" and is_dangerous(v)   # keep put()'s quote prefix
                if j in status_idx and v in fills:
                    fill, align = fills[v], "center"
                elif j in wide_idx:
                    align = "wrap"
            elif isinstance(v, dt.datetime):
                fmt = FMT_DATE if j in date_idx else FMT_DT
            elif isinstance(v, dt.date):
                fmt = FMT_DATE
            elif isinstance(v, float):
                fmt = FMT_PCT if j in pct_idx else "#,##0.0"
            elif isinstance(v, int):
                fmt = FMT_INT
            c._style = copy(styles.cell_style(fmt, fill, align, quote))
            n = _display_len(v)
            if n > widths[j]:
                widths[j] = n

    header_lines = 1
    for j, h in enumerate(cols):
        content = widths[j]
        head = max((len(w) for w in str(h).split()), default=4)   # header wraps at spaces
        cap = 60 if j in wide_idx else 40
        width = min(max(content, head, min(len(str(h)), 12)) + 2, cap)
        ws.column_dimensions[get_column_letter(j + 1)].width = width
        header_lines = max(header_lines, _wrapped_lines(str(h), width - 1))
    ws.row_dimensions[HEADER_ROW].height = 15 * header_lines + 3
    # Rows whose long text wraps get their height (LibreOffice does not grow them on opening).
    for j in wide_idx:
        width = ws.column_dimensions[get_column_letter(j + 1)].width - 1
        for i, v in enumerate(values[:, j]):
            if isinstance(v, str) and len(v) > width:
                rd = ws.row_dimensions[HEADER_ROW + 1 + i]
                h = 15 * _wrapped_lines(v, width / 1.1 * 1.0) + 2
                if h > (rd.height or 15):
                    rd.height = h
    if table.status_cols:
        _legend(ws, ["Chú giải màu:"] + list((table.legend or table.fills).items()), styles)

    last_row = HEADER_ROW + max(len(df), 1)
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=table.freeze_cols + 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{last_row}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:{last}{last_row}"
    ps = ws.page_setup
    ps.orientation = "landscape"
    ps.paperSize = ws.PAPERSIZE_A4
    ps.fitToWidth = 1
    ps.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True
    ws.oddHeader.center.text = _header_footer_text(title)
    ws.oddHeader.center.size = 9
    ws.oddFooter.center.text = "Trang &P / &N"
    ws.oddFooter.center.size = 9


def _legend(ws, entries, styles: _Styles) -> None:
    """Row 3: the colours of this sheet's status cells, each entry merged over as many columns
    as its text needs (widths are known by then)."""
    col = 1
    for entry in entries:
        label, colour = entry if isinstance(entry, tuple) else (entry, None)
        need, span, width = len(label) * 1.05 + 1, 0, 0.0
        while width < need:
            width += ws.column_dimensions[get_column_letter(col + span)].width or 8.43
            span += 1
        c = put(ws, 3, col, label)
        if colour:
            fill, font = styles.fill(colour)
            c.fill, c.font = fill, font
            c.alignment = Alignment(horizontal="center")
        else:
            c.font = Font(bold=True)
        if span > 1:
            ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + span - 1)
        col += span


def _wrapped_lines(text: str, width: float) -> int:
    """Lines a header takes when wrapped at spaces in a column of ``width`` characters (bold
    text is a little wider: count 1.1 per character)."""
    lines, cur = 1, 0.0
    for word in text.split():
        w = len(word) * 1.1
        if cur and cur + 1 + w > width:
            lines, cur = lines + 1, w
        else:
            cur = cur + (1 if cur else 0) + w
    return lines


def _header_footer_text(s: str) -> str:
    return s.replace("&", "&&")[:200]


def _sheet_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]\*\?/\\:]", " ", name).strip()[:31] or "Trang"
    out, k = base, 2
    while out.lower() in taken:
        suffix = f" ({k})"
        out, k = base[: 31 - len(suffix)] + suffix, k + 1
    taken.add(out.lower())
    return out


def _resolve_scope(viewer: Viewer, district: str | None, school: str | None) -> tuple[str | None, str | None]:
    """A district office can only export its district; a school only itself; leadership
    downloads summaries (city or district), not an institution's record lists."""
    if viewer.role == "lanh_dao" and school:
        raise PermissionError("Tài khoản lãnh đạo tải các bảng tổng hợp (toàn thành phố hoặc quận/huyện), "
                              "không tải danh sách bản ghi của từng trường.")
    if viewer.role == "phong_gd":
        if district and district != viewer.district_code:
            raise PermissionError("Tài khoản Phòng GD&ĐT chỉ tải được số liệu của quận/huyện mình.")
        district = district or (None if school else viewer.district_code)
    if viewer.role == "truong":
        if school and school != viewer.school_code:
            raise PermissionError("Tài khoản trường chỉ tải được số liệu của trường mình.")
        school = viewer.school_code
    return district, school


def build_workbook(ev: Evaluation, viewer: Viewer, store: Store | str | Path | None = None,
                   district: str | None = None, school: str | None = None,
                   today: dt.date | None = None) -> tuple[Workbook, int]:
    """The workbook and the number of data rows it holds (for the audit trail).

    ``school``: the institution's checklist; ``district``: one district's workbook; neither:
    the city workbook (every district in the viewer's scope)."""
    district, school = _resolve_scope(viewer, district, school)
    letter = ev.campaign.letter
    when = T.as_of_text(ev)
    made = dt.datetime.now(TZ)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"Tiến độ thực hiện Công văn {letter}"
    wb.properties.creator = "Tiến độ CSDL – Sở GD&ĐT TP.HCM"
    styles = _Styles(wb)
    taken: set[str] = {"_styles"}
    rows = 0

    def add(table: T.Table, heading: str, scope_text: str):
        nonlocal rows
        ws = wb.create_sheet(_sheet_name(table.name, taken))
        title = f"{heading} – Công văn {letter} – số liệu tính đến {when}"
        sub = f"{scope_text}. Lập lúc {made:%H:%M %d/%m/%Y}."
        write_table(ws, table, title, sub, styles)
        rows += len(table.df)

    names = T.district_names(ev)
    if school:
        chk = T.checklist_table(ev, viewer, school)
        if chk.df.empty:
            raise LookupError(f"Không có trường mã «{school}» trong phạm vi được xem.")
        inst = planning_institution(ev, viewer, school)
        label = f"{inst['school_name']} (mã {school})"
        add(chk, f"Danh mục yêu cầu của {inst['school_name']}", label)
        add(T.findings_table(ev, viewer, school), "Các bản ghi cần sửa", label)
        add(T.students_table(ev, viewer, school, store), "Học sinh lớp 12 chưa đạt", label)
        styles.close(wb)
        return wb, rows

    long = T.status_long(ev, viewer, district)
    if long.empty:
        raise LookupError("Không có trường nào trong phạm vi được chọn.")
    scope_text = (f"Phạm vi: {names.get(district, district)}" if district
                  else ("Phạm vi: toàn thành phố" if viewer.role in ("quan_tri", "khtc", "lanh_dao")
                        else "Phạm vi: các trường được phân quyền"))
    add(T.summary_table(ev, viewer, district), "Tổng hợp tiến độ", scope_text)
    # One status table for every institution in scope, split into a sheet per district.
    full = T.status_table(ev, viewer, long=long, short=True, reqs=T.requirements(ev), names=names)
    keys = full.row_district
    for code in sorted(set(keys), key=lambda k: (k is None, k or "")):
        dname = names.get(code, code or "Không rõ quận/huyện")
        st = full.subset([k == code for k in keys], drop=("Quận/huyện",), name=dname)
        add(st, f"Trạng thái các trường – {dname}", f"Phạm vi: {dname}")
    add(T.laggards_table(ev, viewer, store, district, today=today), "Trường chậm tiến độ", scope_text)
    from .completeness_sheet import completeness_table   # issue 15: the eight domains
    add(completeness_table(ev, viewer, district),
        "Mức độ đầy đủ dữ liệu (chỉ số chung = trung bình các lĩnh vực đo được)", scope_text)
    styles.close(wb)
    return wb, rows


def planning_institution(ev: Evaluation, viewer: Viewer, school: str) -> dict:
    from data_access import planning
    return planning._institution(ev, viewer, school)


def workbook_bytes(ev: Evaluation, viewer: Viewer, store=None, district=None, school=None,
                   today=None) -> tuple[bytes, int]:
    wb, rows = build_workbook(ev, viewer, store, district, school, today)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), rows


def file_name(ev: Evaluation, district: str | None = None, school: str | None = None, ext: str = "xlsx") -> str:
    t = pd.Timestamp(ev.as_of).tz_convert(TZ)
    what = f"truong-{school}" if school else (f"quan-{district}" if district else "thanh-pho")
    return f"tien-do-cv1254-{what}-{t:%Y%m%d-%H%M}.{ext}"
