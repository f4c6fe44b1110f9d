"""Vietnamese display formats and the one status palette, for every page, chart and export.

Why one module: a status must look the same everywhere (a leader learns "orange = late" once),
and numbers/dates must read as Vietnamese (1.234,5 · 27/04/2022) on every page. Nothing here
decides a status; it only names and colours the statuses the engine computed.

The palette is Okabe–Ito (safe for the common colour-vision deficiencies): done on time blue
(#0072B2), done late orange (#E69F00), in progress yellow (#F0E442), not started grey
(#BBBBBB), overdue vermilion (#D55E00), not applicable light grey.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import re
from functools import lru_cache

import pandas as pd
from babel import Locale
from babel.numbers import parse_pattern

LOCALE = "vi_VN"

# Engine statuses (data_access/RULES.md "Status at as-of t"), in display order.
STATUS_ORDER = ["done_on_time", "done_late", "in_progress", "not_started", "overdue", "not_applicable"]
STATUS_LABELS = {
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành trễ hạn",
    "in_progress": "Đang thực hiện",
    "not_started": "Chưa thực hiện",
    "overdue": "Quá hạn",
    "not_applicable": "Không áp dụng",
}
STATUS_COLORS = {
    "done_on_time": "#0072B2",   # blue
    "done_late": "#E69F00",      # orange
    "in_progress": "#F0E442",    # yellow
    "not_started": "#BBBBBB",    # grey
    "overdue": "#D55E00",        # vermilion
    "not_applicable": "#EEEEEE",
}
# Text colour readable on each status colour (white on the dark ones).
STATUS_TEXT_COLORS = {"done_on_time": "#FFFFFF", "done_late": "#000000", "in_progress": "#000000",
                      "not_started": "#000000", "overdue": "#FFFFFF", "not_applicable": "#000000"}
# Numeric code of each status for heatmaps (same order as STATUS_ORDER).
STATUS_CODE = {s: i for i, s in enumerate(STATUS_ORDER)}

# Report cells of the reports page (marts_dashboard.sql dash_report_cells.cell_state).
REPORT_STATE_ORDER = ["sent_on_time", "sent_late", "held", "returned", "draft", "missing",
                      "paper_valid", "paper_invalid", "paper_missing", "not_applicable"]
REPORT_STATE_LABELS = {
    "sent_on_time": "Đã gửi đúng hạn",
    "sent_late": "Đã gửi trễ hạn",
    "held": "Đã gửi, bị giữ lại (còn lỗi chặn)",
    "returned": "Bị trả lại",
    "draft": "Đang soạn (chưa gửi)",
    "missing": "Chưa có",
    "paper_valid": "Đã nhận bản giấy hợp lệ",
    "paper_invalid": "Bản giấy chưa hợp lệ",
    "paper_missing": "Chưa nhận bản giấy",
    "not_applicable": "Không áp dụng",
}
REPORT_STATE_COLORS = {
    "sent_on_time": STATUS_COLORS["done_on_time"],
    "sent_late": STATUS_COLORS["done_late"],
    # sent but held back by a finding (a room under two levels): sky blue, the sent family
    # (blue) with the "not yet" of a light shade; black text is readable on it
    "held": "#56B4E9",
    "returned": "#CC79A7",        # reddish purple: a distinct "act on this"
    "draft": STATUS_COLORS["in_progress"],
    "missing": STATUS_COLORS["not_started"],
    "paper_valid": STATUS_COLORS["done_on_time"],
    "paper_invalid": "#CC79A7",
    "paper_missing": STATUS_COLORS["not_started"],
    "not_applicable": STATUS_COLORS["not_applicable"],
}

SEVERITY_LABELS = {"error": "Lỗi (chặn hoàn thành)", "warning": "Cảnh báo"}
SEVERITY_COLORS = {"error": "#D55E00", "warning": "#E69F00"}

LEVEL_LABELS = {"MN": "Mầm non", "TH": "Tiểu học", "THCS": "THCS", "THPT": "THPT",
                "GDTX": "GDTX", "LIEN_CAP": "Liên cấp"}
OWNERSHIP_VALUES = {"cong_lap": "Công lập", "ngoai_cong_lap": "Ngoài công lập"}
ENTITY_LABELS = {"student": "Học sinh", "score": "Điểm môn học", "term_summary": "Tổng kết học kỳ",
                 "report": "Báo cáo", "paper_copy": "Bản giấy", "room": "Phòng học"}

# A continuous completion scale (0 → 100 %) for maps: vermilion → yellow → blue, the same
# meaning as the status colours (low = bad, high = done).
COMPLETION_SCALE = [[0.0, "#D55E00"], [0.5, "#F0E442"], [1.0, "#0072B2"]]
NOT_MEASURED_COLOR = "#EEEEEE"     # a cell with no percent (not measured): light grey, never a 0 % colour


def completion_colors(pct) -> tuple[str, str]:
    """(background, text) of a percent (0–100) on COMPLETION_SCALE, linear between its stops;
    the text is white on the dark end, black elsewhere. A missing percent: NOT_MEASURED_COLOR."""
    if _missing(pct):
        return NOT_MEASURED_COLOR, "#555555"
    t = min(max(float(pct) / 100, 0.0), 1.0)
    (a, ca), (b, cb) = next((lo, hi) for lo, hi in zip(COMPLETION_SCALE, COMPLETION_SCALE[1:]) if t <= hi[0])
    u = (t - a) / (b - a)
    rgb = [round(int(ca[i:i + 2], 16) * (1 - u) + int(cb[i:i + 2], 16) * u) for i in (1, 3, 5)]
    text = "#FFFFFF" if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140 else "#000000"
    return "#" + "".join(f"{x:02X}" for x in rgb), text


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is pd.NaT


def number(x, decimals: int = 0) -> str:
    """1234.5 → '1.234,5' (decimals fixed); None → '–'."""
    if _missing(x):
        return "–"
    return _pattern(decimals).apply(x, _VI)


# Pages format thousands of cells per view: the locale and the patterns are parsed once
# (what babel.numbers.format_decimal does on every call; 3× slower).
_VI = Locale.parse(LOCALE)


@lru_cache(maxsize=16)
def _pattern(decimals: int):
    return parse_pattern("#,##0" + ("." + "0" * decimals if decimals else ""))


def percent(x, decimals: int = 1) -> str:
    """45.25 (already in percent) → '45,3 %'."""
    if _missing(x):
        return "–"
    return f"{number(x, decimals)} %"


def signed_points(x, decimals: int = 1) -> str:
    """A change in percentage points: +2,5 điểm % / −1,0 điểm %."""
    if _missing(x):
        return "–"
    sign = "+" if x > 0 else ("−" if x < 0 else "±")
    return f"{sign}{number(abs(x), decimals)} điểm %"


def _ts(x):
    if _missing(x):
        return None
    t = pd.Timestamp(x)
    if t.tzinfo is not None:
        t = t.tz_convert("Asia/Ho_Chi_Minh")
    return t


def date(x) -> str:
    """dd/mm/yyyy in local time; None → '–'."""
    t = _ts(x)
    return "–" if t is None else t.strftime("%d/%m/%Y")


def date_time(x) -> str:
    """HH:MM dd/mm/yyyy (as the letter writes times: '17:00 27/04/2022')."""
    t = _ts(x)
    return "–" if t is None else t.strftime("%H:%M %d/%m/%Y")


def short_date(x) -> str:
    t = _ts(x)
    return "–" if t is None else t.strftime("%d/%m")


def status_label(s) -> str:
    return STATUS_LABELS.get(s, "–" if _missing(s) else str(s))


def level_label(s) -> str:
    return LEVEL_LABELS.get(s, "Không rõ" if _missing(s) else str(s))


def days_phrase(days_left) -> str:
    """Days until the due date (negative: past it)."""
    if _missing(days_left):
        return "Không có hạn"
    d = int(days_left)
    if d > 0:
        return f"Còn {number(d)} ngày"
    if d == 0:
        return "Hạn chót hôm nay"
    return f"Đã qua hạn {number(-d)} ngày"


def discrete_colorscale(colors: list[str]) -> list:
    """A plotly colorscale mapping integer codes 0..n-1 to ``colors`` in flat bands (heatmaps
    of statuses: z = STATUS_CODE[status], zmin=-0.5, zmax=n-0.5)."""
    n = len(colors)
    scale = []
    for i, col in enumerate(colors):
        scale += [[i / n, col], [(i + 1) / n, col]]
    return scale


def as_of_caption(as_of) -> str:
    return f"Số liệu tính đến {date_time(as_of)}"


def vline(x, *, dash: str = "dash", opacity: float = 1.0) -> dict:
    """A deadline as a vertical line across the whole plot (a layout shape, as
    Figure.add_vline draws it, without its per-call subplot search)."""
    return dict(type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="y domain", opacity=opacity,
                line=dict(dash=dash, color=STATUS_COLORS["overdue"]))


def layout_style(*, height: int | None = None, legend_title: str | None = None) -> dict:
    """Common plotly styling as layout properties: readable fonts, Vietnamese separators
    (',' decimal, '.' thousands). For a figure made in one construction (go.Figure(layout=...))."""
    out = dict(separators=",.", font=dict(size=14), margin=dict(l=10, r=10, t=40, b=10),
               legend_title_text=legend_title, hoverlabel=dict(font_size=14))
    if height:
        out["height"] = height
    return out


def plotly_layout(fig, *, height: int | None = None, legend_title: str | None = None):
    """Common plotly styling (layout_style) applied to a figure already made."""
    fig.update_layout(**layout_style(height=height, legend_title=legend_title))
    return fig


def today_local() -> dt.date:
    return pd.Timestamp.now(tz="Asia/Ho_Chi_Minh").date()


def _hm_dm(x) -> str:
    t = _ts(x)
    return "–" if t is None else t.strftime("%H:%M %d/%m")


def completion_window(completed_after, completed_at) -> str:
    """The snapshot window a record requirement was reached in (RULES.md "Status"): 'hoàn thành
    trong khoảng 17:00 26/04 – 17:00 27/04'; without an earlier snapshot 'hoàn thành trước
    17:00 27/04'. Why: the data show only that it held at one snapshot and not at the previous
    one, so the page must not claim more than that."""
    if _ts(completed_after) is None:
        return f"hoàn thành trước {_hm_dm(completed_at)}"
    return f"hoàn thành trong khoảng {_hm_dm(completed_after)} – {_hm_dm(completed_at)}"


def uncertain_units_note(n, n_no_prior=0) -> str:
    """The deadline card's line for units whose on-time status rests on such a window ('' when
    none). ``n_no_prior`` of them have no snapshot before the window at all (completed_after
    NULL): for them "the snapshot before the cut-off was not done" would be false (outside
    review of issue 12, finding 15), so they are told apart."""
    if _missing(n) or int(n) == 0:
        return ""
    n = int(n)
    k = 0 if _missing(n_no_prior) else min(int(n_no_prior), n)
    before = "lần trích xuất trước hạn chưa đạt, lần sau hạn đã đạt"
    none = "chưa có lần trích xuất nào trước hạn, lần trích xuất sau hạn đã đạt"
    if k == 0:
        why = before
    elif k == n:
        why = none
    else:
        why = f"{number(n - k)} đơn vị: {before}; {number(k)} đơn vị: {none}"
    return (f"{number(n)} đơn vị được tính đúng hạn vì dữ liệu không chứng minh được là trễ: "
            f"{why}. Hãy nhập một lần trích xuất lấy đúng lúc hết hạn để có kết luận chính xác.")


# ---- values shown as text -------------------------------------------------------------------
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")      # every ASCII punctuation character
_WWW = re.compile(r"(?i)\b(www)\.")
WORD_JOINER = "\u2060"


def md(value) -> str:
    """A value that came from a URL, an import or a user, made literal for an element that
    renders Markdown (st.markdown, st.caption, titles, alerts, metric/expander/tab/widget/page
    link labels, st.table cells). Issue 13, finding 3: a school name
    ``[Phiên đã hết hạn…](https://…)`` became a link to an outside site, ``![](https://…)``
    loaded a tracking image in a district office's browser.

    Why a helper of our own: neither Streamlit nor a maintained library offers one for
    Streamlit's Markdown (GitHub-flavoured, plus :color[…] directives, $LaTeX$, emoji and
    :material/…: shortcodes). What it does:
    - whitespace (newlines included) becomes one space: a newline could start a heading, a list
      or a table inside the message;
    - every ASCII punctuation character gets a backslash, CommonMark's escape, so links,
      images, emphasis, code, HTML tags and autolinks (``<https://…>``), ``:red[…]``, ``$…$``
      and tables show as the characters typed;
    - an invisible word joiner (U+2060) after every ``:`` and inside ``www.``: GitHub's
      autolinks of bare ``https://…``/``www.…`` addresses and the emoji and icon shortcodes
      are found in the text after the escapes are read, so only a broken sequence stops them.
    E-mail addresses (``a@b.vn``) still become ``mailto:`` links showing the address itself:
    breaking them would break copying the address into a mail client.
    Never pass the result to ``unsafe_allow_html=True``. Pure values are better shown in
    st.dataframe, st.code or st.text, which do not read Markdown at all."""
    if value is None or _missing(value):
        return ""
    s = " ".join(str(value).split())
    s = _WWW.sub(lambda m: m.group(1) + WORD_JOINER + ".", s)
    s = _MD_PUNCT.sub(r"\\\1", s)
    return s.replace("\\:", "\\:" + WORD_JOINER)


def plotly_text(value) -> str:
    """A value from an import for a plotly label, hover text, axis tick or legend: plotly reads
    a few HTML tags there (``<a href>`` makes a clickable link, ``<b>``, ``<br>``, ``<span
    style>``); its entities ``&lt;`` ``&gt;`` ``&amp;`` show the characters themselves."""
    if value is None or _missing(value):
        return ""
    return html.escape(str(value), quote=False)
