"""Planning office (Phòng KHTC) queries: who is behind, what exactly is missing in words,
the last follow-up, and the reminder text and printable reminder for an institution.

Why here: the words ("thiếu CCCD 37 học sinh; chưa gửi báo cáo CSVC") are derived from the
engine's views (progress + findings grouped by rule) and nowhere else, so the laggard page,
the e-mail, the printable reminder and the status workbook say the same thing. Every function
takes a ``Viewer`` and filters in SQL with ``access.scope_filter``.

Ranking of laggards (an institution with at least one requirement not done):
1. overdue (any requirement past its due time): most days late first, then most records
   missing;
2. at risk (none overdue, one at risk by the engine's pace): most records missing first;
3. in progress (the rest: behind but neither overdue nor at risk).
Ties: more requirements behind first, then school code. "Records missing" = Σ (expected − done)
over the record requirements (students × requirement) not done.
"""
from __future__ import annotations

import datetime as dt
import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import ops
from .access import Viewer, scope_filter
from .evaluate import Evaluation
from .store import TZ, Store

CATEGORY_LABELS = {"overdue": "Quá hạn", "at_risk": "Có nguy cơ trễ hạn", "in_progress": "Đang thực hiện"}
CATEGORY_RANK = {"overdue": 1, "at_risk": 2, "in_progress": 3}
# Short names of the reports (the extract's fixed codes) for compact sentences.
REPORT_SHORT = {"EMIS": "EMIS", "EQMS": "EQMS", "NGOAI_NGU": "đề án ngoại ngữ", "CSVC": "CSVC",
                "SUC_KHOE": "sức khỏe học sinh"}
# Field of a student finding → what the clerk must fix, in words.
STUDENT_FIELD_WORDS = {"id_number": "CCCD", "personal_id": "CCCD", "full_name": "họ tên",
                       "birth_date": "ngày sinh", "gender": "giới tính", "ethnicity": "dân tộc",
                       "permanent_address": "nơi thường trú", "school_code": "mã trường"}
FIELD_ORDER = ["CCCD", "họ tên", "ngày sinh", "giới tính", "dân tộc", "nơi thường trú", "mã trường"]
MISSING_RULES = ("MISSING_FIELD", "TERM_SUMMARY_MISSING", "SUBJECT_MISSING")


@dataclass
class LaggardFilter:
    """Empty lists mean "all". levels are level groups (MN, TH, THCS, THPT, GDTX, LIEN_CAP);
    managed_by is "Sở" or "Phòng"; requirements are requirement ids; not_contacted_days keeps
    institutions never contacted or last contacted more than N days before ``today``."""
    districts: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    ownership: list[str] = field(default_factory=list)
    managed_by: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    not_contacted_days: int | None = None


def _df(ev: Evaluation, sql: str, params=None, frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    ev.prepare(sql)
    cur = ev.con.cursor()
    try:
        cur.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
        for name, frame in (frames or {}).items():
            cur.register(name, frame)
        return cur.execute(sql, params or []).df()
    finally:
        cur.close()


def _in(col: str, values) -> tuple[str, list]:
    values = [v for v in (values or []) if v is not None and v != ""]
    if not values:
        return "TRUE", []
    return f"{col} IN ({', '.join('?' for _ in values)})", list(values)


def _fmt_date(d) -> str:
    if d is None or d is pd.NaT or (not isinstance(d, dt.date) and pd.isna(d)):
        return ""
    if isinstance(d, pd.Timestamp) or isinstance(d, dt.datetime):
        d = pd.Timestamp(d)
        if d.tzinfo is not None:
            d = d.tz_convert(TZ)
    return d.strftime("%d/%m/%Y")


def _n(x) -> str:
    """Vietnamese thousands separator: 1.234."""
    return f"{int(x):,}".replace(",", ".")


# ---- evaluations that follow the paper-copy register -------------------------------------
def evaluation(store: Store | str | Path, snapshot_id: str | None = None) -> Evaluation:
    """The Evaluation at a snapshot's as-of (None = newest): the per-process one of
    data_access.queries, which is rebuilt when the paper-copy register changes."""
    from . import queries
    return queries.evaluation(snapshot_id, store.root if isinstance(store, Store) else store)


# ---- the gaps of each requirement not done ------------------------------------------------

def gaps(ev: Evaluation, viewer: Viewer, school_codes: list[str] | None = None,
         requirements: list[str] | None = None) -> pd.DataFrame:
    """One row per institution × requirement not done, in the viewer's scope: school_code,
    requirement_id, requirement_name, kind, report_code, due, letter_words, sort_order, status,
    at_risk, days_late, expected, done, percent, missing_count, words (Vietnamese).

    ``words`` says exactly what is missing, from the findings grouped by field and rule:
    "thiếu CCCD 37 học sinh", "chưa gửi báo cáo CSVC", "chưa nhận bản giấy EMIS"."""
    scope, sp = scope_filter(viewer, "p.school_code", "s.district_code")
    sc, scp = _in("p.school_code", school_codes)
    rq, rqp = _in("p.requirement_id", requirements)
    rows = _df(ev, f"""
        SELECT p.school_code, p.requirement_id, r.name AS requirement_name, p.kind, r.report_code,
               p.due, r.letter_words, p.sort_order, p.status, p.at_risk, p.days_late,
               p.expected, p.done, p.percent, (p.expected - p.done) AS missing_count
        FROM progress p JOIN cur_schools s USING (school_code)
        JOIN cfg_requirements r USING (requirement_id)
        WHERE p.status NOT IN ('done_on_time', 'done_late') AND {scope} AND {sc} AND {rq}
        ORDER BY p.school_code, p.sort_order""", sp + scp + rqp)
    if rows.empty:
        rows["words"] = pd.Series(dtype=object)
        return rows
    codes = sorted(rows["school_code"].unique())
    fc, fcp = _in("f.school_code", codes)
    # Student findings → G12 info words (by field); results findings → requirement by (grade, term).
    student = _df(ev, f"""
        SELECT f.school_code, f.field,
               count(DISTINCT f.student_id) FILTER (WHERE f.rule_id = 'MISSING_FIELD') AS missing,
               count(DISTINCT f.student_id) FILTER (WHERE f.rule_id <> 'MISSING_FIELD') AS invalid,
               count(DISTINCT f.student_id) AS students
        FROM findings f
        WHERE f.severity = 'error' AND f.entity = 'student' AND {fc}
        GROUP BY ALL""", fcp)
    results = _df(ev, f"""
        SELECT f.school_code, t.requirement_id,
               count(DISTINCT f.student_id) FILTER (WHERE f.rule_id IN {MISSING_RULES}) AS missing,
               count(DISTINCT f.student_id) FILTER (WHERE f.rule_id NOT IN {MISSING_RULES}) AS invalid
        FROM findings f JOIN cfg_requirement_terms t ON f.grade = t.grade AND f.term = t.term
        WHERE f.severity = 'error' AND f.entity IN ('score', 'term_summary') AND {fc}
        GROUP BY ALL""", fcp)
    other = _df(ev, f"""
        SELECT f.school_code, f.rule_id, split_part(f.record_key, '|', 1) AS report_code
        FROM findings f
        WHERE f.entity IN ('report', 'paper_copy') AND {fc}
        GROUP BY ALL""", fcp)
    # A sent report held back by a rule of its requirement's blocked_by (RPT_CSVC and
    # ROOM_MULTI_LEVEL): its words say so, not "chưa gửi" (outside review of issue 12).
    blocked = _df(ev, f"""
        SELECT f.school_code, r.requirement_id, f.rule_id, count(*) AS n
        FROM findings f JOIN cfg_requirements r ON list_contains(r.blocked_by, f.rule_id)
        WHERE f.severity = 'error' AND {fc}
        GROUP BY ALL""", fcp)
    blk = {(b.school_code, b.requirement_id): b for b in blocked.itertuples()}
    held = _df(ev, f"""
        SELECT f.school_code, f.requirement_id FROM hist_progress f
        WHERE f.held AND f.as_of = (SELECT as_of FROM eval_point) AND {fc}""", fcp)
    sent_held = set(zip(held["school_code"], held["requirement_id"]))
    stu = {k: g for k, g in student.groupby("school_code")}
    res = {(r.school_code, r.requirement_id): r for r in results.itertuples()}
    oth = set(zip(other["school_code"], other["rule_id"], other["report_code"]))

    def words(r) -> str:
        kind = r.kind
        if kind == "student_info":
            if r.expected == 0:
                return "chưa nhập học sinh lớp 12 nào"
            parts = []
            g = stu.get(r.school_code)
            if g is not None:
                by_word: dict[str, list[int]] = {}
                for f in g.itertuples():
                    w = STUDENT_FIELD_WORDS.get(f.field, f.field or "thông tin khác")
                    acc = by_word.setdefault(w, [0, 0, 0])
                    acc[0] += int(f.missing)
                    acc[1] += int(f.invalid)
                    acc[2] = max(acc[2], int(f.students))
                for w in sorted(by_word, key=lambda w: (FIELD_ORDER.index(w) if w in FIELD_ORDER else 99, w)):
                    missing, invalid, n = by_word[w]
                    if invalid == 0:
                        parts.append(f"thiếu {w} {_n(missing)} học sinh")
                    elif missing == 0:
                        parts.append(f"{w} không hợp lệ {_n(invalid)} học sinh")
                    else:
                        parts.append(f"thiếu hoặc sai {w} {_n(max(n, missing, invalid))} học sinh")
            return ", ".join(parts) or f"thông tin chưa đạt {_n(r.missing_count)} học sinh"
        if kind == "student_results":
            what = r.requirement_name[:1].lower() + r.requirement_name[1:]
            if r.expected == 0:
                return f"{what}: chưa nhập học sinh lớp 12 nào"
            x = res.get((r.school_code, r.requirement_id))
            parts = []
            if x is not None and x.missing:
                parts.append(f"thiếu {what}: {_n(x.missing)} học sinh")
            if x is not None and x.invalid:
                parts.append(f"{what} có điểm hoặc xếp loại sai: {_n(x.invalid)} học sinh")
            return ", ".join(parts) or f"{what} chưa đạt: {_n(r.missing_count)} học sinh"
        short = REPORT_SHORT.get(r.report_code, r.report_code)
        if kind == "report":
            if (r.school_code, "REPORT_RETURNED", r.report_code) in oth:
                return f"báo cáo {short} bị trả lại, chưa gửi lại"
            b = blk.get((r.school_code, r.requirement_id))
            if b is not None:
                what = ("phòng khai ở hai cấp học trở lên" if b.rule_id == "ROOM_MULTI_LEVEL"
                        else "lỗi của đơn vị")
                fix = ("sửa khai báo phòng học (mỗi phòng chỉ thuộc một cấp học)"
                       if b.rule_id == "ROOM_MULTI_LEVEL" else "sửa các lỗi này")
                if (r.school_code, r.requirement_id) in sent_held:
                    # sent: fixing the finding alone makes it done (no re-sending)
                    return (f"báo cáo {short} đã gửi nhưng chưa tính là hoàn thành: {_n(b.n)} {what} "
                            f"({b.rule_id}), {fix}")
                return f"chưa gửi báo cáo {short}; {_n(b.n)} {what} ({b.rule_id}), {fix}"
            return f"chưa gửi báo cáo {short}"
        unsigned = (r.school_code, "PAPER_UNSIGNED", r.report_code) in oth
        unstamped = (r.school_code, "PAPER_UNSTAMPED", r.report_code) in oth
        if unsigned and unstamped:
            return f"bản giấy {short} chưa ký tên, chưa đóng dấu"
        if unsigned:
            return f"bản giấy {short} chưa ký tên"
        if unstamped:
            return f"bản giấy {short} chưa đóng dấu"
        if r.status == "in_progress":
            return f"bản giấy {short} chưa hợp lệ"
        return f"chưa nhận bản giấy {short}"

    rows["words"] = [words(r) for r in rows.itertuples()]
    return rows


# ---- the ranked laggard list --------------------------------------------------------------

LAGGARD_COLUMNS = [
    "rank", "school_code", "school_name", "district_code", "district_name", "level_group",
    "ownership", "managed_by", "principal", "phone", "email", "category", "category_label",
    "days_late", "records_missing", "requirements_behind", "requirement_ids", "missing",
    "last_contact_on", "last_channel", "last_contact_person", "last_note", "promised_on",
    "promise_passed", "days_since_contact",
]


def laggards(ev: Evaluation, viewer: Viewer, store: Store | str | Path | None = None,
             filters: LaggardFilter | None = None, today: dt.date | None = None) -> pd.DataFrame:
    """The ranked laggard list (columns LAGGARD_COLUMNS; dates are datetime.date).

    ``store`` gives the follow-ups (operational store); without it the follow-up columns are
    empty. ``promise_passed``: the institution promised a date that is before ``today`` and it
    is still behind."""
    f = filters or LaggardFilter()
    today = today or dt.datetime.now(TZ).date()
    scope, sp = scope_filter(viewer, "p.school_code", "s.district_code")
    conds, params = [scope], list(sp)
    for col, vals in (("s.district_code", f.districts), ("s.level_group", f.levels),
                      ("s.ownership", f.ownership), ("s.managed_by", f.managed_by),
                      ("p.requirement_id", f.requirements)):
        c, p = _in(col, vals)
        conds.append(c)
        params += p
    df = _df(ev, f"""
        WITH behind AS (
            SELECT p.*, s.school_name, s.district_code, s.level_group, s.ownership, s.managed_by,
                   s.principal, s.phone, s.email
            FROM progress p JOIN cur_schools s USING (school_code)
            WHERE p.status NOT IN ('done_on_time', 'done_late') AND {' AND '.join(conds)}
        )
        SELECT b.school_code, any_value(b.school_name) AS school_name,
               any_value(b.district_code) AS district_code,
               any_value(d.district_name) AS district_name,
               any_value(b.level_group) AS level_group, any_value(b.ownership) AS ownership,
               any_value(b.managed_by) AS managed_by, any_value(b.principal) AS principal,
               any_value(b.phone) AS phone, any_value(b.email) AS email,
               CASE WHEN bool_or(b.status = 'overdue') THEN 'overdue'
                    WHEN bool_or(b.at_risk) THEN 'at_risk' ELSE 'in_progress' END AS category,
               max(b.days_late)::BIGINT AS days_late,
               coalesce(sum(b.expected - b.done) FILTER (WHERE b.kind IN ('student_info', 'student_results')), 0)::BIGINT
                   AS records_missing,
               count(*)::BIGINT AS requirements_behind,
               list(b.requirement_id ORDER BY b.sort_order) AS requirement_ids
        FROM behind b LEFT JOIN ref_districts d ON d.district_code = b.district_code
        GROUP BY b.school_code""", params)
    df["category_label"] = df["category"].map(CATEGORY_LABELS)
    df["_rank"] = df["category"].map(CATEGORY_RANK)
    df["_days"] = df["days_late"].where(df["category"] == "overdue", 0)
    df = df.sort_values(["_rank", "_days", "records_missing", "requirements_behind", "school_code"],
                        ascending=[True, False, False, False, True], kind="stable").reset_index(drop=True)
    df["rank"] = range(1, len(df) + 1)

    g = gaps(ev, viewer, list(df["school_code"]), f.requirements or None) if len(df) else None
    if g is not None and len(g):
        text = g.groupby("school_code", sort=False)["words"].agg("; ".join)
        df["missing"] = df["school_code"].map(text).fillna("")
    else:
        df["missing"] = pd.Series([""] * len(df), dtype=object)

    fu = ops.last_follow_ups(store, viewer) if store is not None else pd.DataFrame(columns=ops.FOLLOW_UP_COLUMNS)
    fu = fu.rename(columns={"contacted_on": "last_contact_on", "channel": "last_channel",
                            "contact_person": "last_contact_person", "note": "last_note"})
    df = df.merge(fu[["school_code", "last_contact_on", "last_channel", "last_contact_person", "last_note",
                      "promised_on"]], on="school_code", how="left")
    for c in ("last_contact_on", "promised_on"):
        df[c] = pd.Series([v if isinstance(v, dt.date) else None for v in df[c]], index=df.index, dtype=object)
    df["promise_passed"] = [bool(p is not None and p < today) for p in df["promised_on"]]
    df["days_since_contact"] = pd.array([(today - d).days if d is not None else None
                                         for d in df["last_contact_on"]], dtype="Int64")
    if f.not_contacted_days is not None:
        n = int(f.not_contacted_days)
        keep = df["days_since_contact"].isna() | (df["days_since_contact"] > n)
        df = df[keep.fillna(True).astype(bool)].reset_index(drop=True)
        df["rank"] = range(1, len(df) + 1)
    return df[LAGGARD_COLUMNS]


# ---- reminder text and printable reminder -------------------------------------------------

def _letter(ev: Evaluation) -> dict:
    c = ev.campaign
    info = {"letter": c.letter, "title": c.title, "letter_date": None}
    try:
        with open(c.path, "rb") as fh:
            d = tomllib.load(fh).get("campaign", {}).get("letter_date")
        if isinstance(d, dt.date):
            info["letter_date"] = d
    except (OSError, TypeError, tomllib.TOMLDecodeError):
        pass
    return info


def _institution(ev: Evaluation, viewer: Viewer, school_code: str) -> dict:
    scope, sp = scope_filter(viewer, "school_code", "district_code")
    df = _df(ev, f"SELECT * FROM cur_schools WHERE school_code = ? AND {scope}", [school_code] + sp)
    if df.empty:
        raise LookupError(f"Không có trường mã «{school_code}» trong phạm vi được xem.")
    return df.iloc[0].to_dict()


def _due_phrase(r) -> str:
    if r.due is None or r.due is pd.NaT or pd.isna(r.due):
        return "không nêu thời hạn"
    phrase = f"hạn {_fmt_date(r.due)}"
    if r.status == "overdue" and r.days_late:
        phrase += f", đã quá hạn {_n(r.days_late)} ngày"
    return phrase


def subject_line(inst: dict) -> str:
    """The subject line format the letter asks for: Tên trường + Mã trường + Họ và tên + Số điện
    thoại (here the head of the institution and its phone), parts joined by " - "."""
    parts = [inst.get("school_name"), inst.get("school_code"), inst.get("principal"), inst.get("phone")]
    return " - ".join(str(p).strip() for p in parts if p is not None and str(p).strip() and not pd.isna(p))


def reminder_email(ev: Evaluation, viewer: Viewer, school_code: str, sender: str | None = None) -> dict:
    """{"to", "subject", "body", "items"} for one institution: formal Vietnamese, each requirement
    not done with what is missing and its due date (dd/mm/yyyy). ``items`` is the gaps frame."""
    inst = _institution(ev, viewer, school_code)
    g = gaps(ev, viewer, [school_code])
    L = _letter(ev)
    as_of = pd.Timestamp(ev.as_of).tz_convert(TZ)
    letter_ref = f"Công văn số {L['letter']}"
    if L["letter_date"]:
        letter_ref += f" ngày {L['letter_date']:%d/%m/%Y}"
    principal = inst.get("principal") or ""
    lines = [f"Kính gửi: Thủ trưởng {inst['school_name']}"
             + (f" (Ông/Bà {principal})" if principal else "") + ",", ""]
    lines.append(f"Thực hiện {letter_ref} của Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh về việc "
                 f"{L['title'][:1].lower() + L['title'][1:]}, Phòng Kế hoạch – Tài chính đã rà soát "
                 f"dữ liệu của đơn vị trên Hệ thống CSDL HCM.")
    lines.append("")
    if g.empty:
        lines.append(f"Tính đến {as_of:%H:%M} ngày {as_of:%d/%m/%Y}, đơn vị đã hoàn thành tất cả các nội dung "
                     f"theo yêu cầu. Trân trọng cảm ơn sự phối hợp của đơn vị.")
    else:
        lines.append(f"Tính đến {as_of:%H:%M} ngày {as_of:%d/%m/%Y}, đơn vị còn {_n(len(g))} nội dung "
                     f"chưa hoàn thành:")
        for i, r in enumerate(g.itertuples(), 1):
            lines.append(f"{i}. {r.requirement_name} ({_due_phrase(r)}): {r.words}.")
        lines.append("")
        lines.append("Đề nghị Thủ trưởng đơn vị chỉ đạo bộ phận phụ trách khẩn trương cập nhật đầy đủ, chính "
                     "xác dữ liệu trên Hệ thống CSDL HCM, gửi báo cáo trên hệ thống và gửi bản giấy báo cáo "
                     "(có ký tên, đóng dấu) về Sở Giáo dục và Đào tạo (Phòng Kế hoạch – Tài chính).")
        lines.append("Việc không cập nhật hoặc cập nhật không đầy đủ, không kịp thời dữ liệu là vi phạm Luật "
                     "Thống kê số 89/2015/QH13.")
        lines.append("")
        lines.append("Khi cần trao đổi, đề nghị đơn vị gửi thư điện tử về Phòng Kế hoạch – Tài chính với tiêu "
                     "đề: Tên trường + Mã trường + Họ và tên + Số điện thoại.")
    lines += ["", "Trân trọng.", "", sender or "Phòng Kế hoạch – Tài chính",
              "Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh"]
    return {"to": inst.get("email") or "", "subject": subject_line(inst), "body": "\n".join(lines),
            "items": g}


def reminder_docx(ev: Evaluation, viewer: Viewer, school_code: str, sender: str | None = None) -> bytes:
    """A printable reminder for one institution (DOCX, A4 portrait) with the same content as the
    e-mail and a table of the gaps. Needs python-docx (requirements.txt)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    mail = reminder_email(ev, viewer, school_code, sender)
    inst = _institution(ev, viewer, school_code)
    L = _letter(ev)
    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.left_margin = sec.right_margin = Cm(2.0)
    sec.top_margin = sec.bottom_margin = Cm(1.8)
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)

    head = doc.add_table(rows=1, cols=2)
    left, right = head.rows[0].cells
    left.text = "SỞ GIÁO DỤC VÀ ĐÀO TẠO\nTHÀNH PHỐ HỒ CHÍ MINH\nPHÒNG KẾ HOẠCH – TÀI CHÍNH"
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập – Tự do – Hạnh phúc"
    for cell in (left, right):
        for p in cell.paragraphs:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in p.runs:
                run.bold = True
                run.font.size = Pt(12)
    as_of = pd.Timestamp(ev.as_of).tz_convert(TZ)
    p = doc.add_paragraph(f"Thành phố Hồ Chí Minh, ngày {dt.datetime.now(TZ):%d} tháng "
                          f"{dt.datetime.now(TZ):%m} năm {dt.datetime.now(TZ):%Y}")
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    p.runs[0].italic = True
    t = doc.add_paragraph()
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = t.add_run("PHIẾU NHẮC VIỆC\n")
    r.bold = True
    r.font.size = Pt(14)
    t.add_run(f"V/v hoàn thành các nội dung theo Công văn số {L['letter']}").italic = True
    doc.add_paragraph(f"Tiêu đề thư: {mail['subject']}").runs[0].font.size = Pt(11)
    body = mail["body"].split("\n")
    items_start = next((i for i, s in enumerate(body) if s.startswith("1. ")), None)
    intro = body[:items_start] if items_start is not None else body
    for s in intro:
        if s:
            doc.add_paragraph(s)
    g = mail["items"]
    if not g.empty:
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        hdr = table.rows[0].cells
        for c, text in zip(hdr, ("STT", "Nội dung", "Thời hạn", "Còn thiếu")):
            c.text = text
            c.paragraphs[0].runs[0].bold = True
        for i, row in enumerate(g.itertuples(), 1):
            cells = table.add_row().cells
            cells[0].text = str(i)
            cells[1].text = row.requirement_name
            cells[2].text = (_fmt_date(row.due) or "Không nêu") + (
                f"\n(quá hạn {_n(row.days_late)} ngày)" if row.status == "overdue" and row.days_late else "")
            cells[3].text = row.words
        for row in table.rows:
            for c, w in zip(row.cells, (Cm(1.2), Cm(5.5), Cm(3.0), Cm(7.3))):
                c.width = w
        rest = body[items_start + len(g):] if items_start is not None else []
        for s in rest:
            if s:
                doc.add_paragraph(s)
    else:
        pass
    doc.add_paragraph(f"(Số liệu tính đến {as_of:%H:%M} ngày {as_of:%d/%m/%Y}; "
                      f"{inst['school_name']} – mã {inst['school_code']}.)").runs[0].font.size = Pt(10)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
