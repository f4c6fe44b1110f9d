"""Why a verdict is what it is: everything one institution × requirement status rests on, from
the same evaluation the pages and the CLI read (issue 12, "Every verdict explains itself").

Why one function: the CLI (`python -m data_access explain`), the institution page ("Vì sao?")
and the school workbook ("Lý do") must give the same reasons, so they all read
``explain_school_at`` (``explain_at`` is its row); the Vietnamese wording is in ``render`` (the
whole text) and ``one_line`` (the reason of a checklist row), not in pages or exports.
"""
from __future__ import annotations

import pandas as pd

from . import formatting as fmt
from . import queries
from .access import Viewer
from .evaluate import Evaluation

# Warnings on results rows that exist but are not used: listed under the requirement whose
# (grade, term) they belong to, since they are why a required term may lack its rows.
UNUSED_ROW_RULES = ("SCHOOL_YEAR_INVALID", "RESULTS_YEAR_NOT_USED", "TERM_INVALID", "GRADE_INVALID")

# What each kind of requirement means (RULES.md "Done, per requirement and institution").
RULE_TEXT = {
    "student_info": ("Mỗi học sinh lớp 12 đang học của trường phải có thông tin cá nhân đầy đủ và "
                     "hợp lệ (không còn lỗi nào); đạt khi số học sinh đạt bằng số học sinh phải có."),
    "student_results": ("Mỗi học sinh lớp 12 đang học phải có đủ điểm tổng kết từng môn tính điểm và "
                        "kết quả tổng kết hợp lệ cho các học kỳ yêu cầu, đúng năm học (lớp 12: năm học "
                        "của đợt; lớp 10, 11: năm học trước đó); đạt khi mọi học sinh đều đạt."),
    "report": ("Báo cáo phải ở trạng thái «Đã gửi» hoặc «Đã duyệt» với thời điểm gửi hợp lệ; "
               "thời điểm hoàn thành là thời điểm gửi, hoặc, khi báo cáo đã gửi còn bị giữ lại (lỗi "
               "chặn, ví dụ phòng học khai báo cho hai cấp) hay bị trả lại, là khoảng giữa hai lần "
               "trích xuất mà lần sau mới thấy đạt."),
    "paper": ("Phải có bản giấy có chữ ký và đóng dấu, có ngày nhận hợp lệ; thời điểm hoàn thành là "
              "ngày nhận bản hợp lệ sớm nhất."),
}


def explain_school_at(ev: Evaluation, viewer: Viewer, school_code: str) -> list[dict]:
    """``explain_at`` for every checklist row of one institution, in the letter's order ([] when
    the institution is unknown or outside the viewer's scope).

    Why a batch: the institution page shows a "Vì sao?" for each of its ~15 rows and the school
    workbook a reason per row; three queries for the institution (its units, its blocking
    findings grouped by requirement and rule, its student rows by grade and status) instead of
    three per row. The findings are counted by rule only (rule id, title, counts): their
    messages, which may speak of other holders of a duplicate ID, are never part of it."""
    chk = queries._one_school(ev, viewer, "school_checklist_explain", """
        SELECT u.school_code, u.district_code, u.school_name, u.requirement_id, u.requirement_name,
               u.kind, u.letter_words, u.due, u.days_left, u.status, u.expected, u.done, u.percent,
               u.completed_at, u.days_late, u.at_risk, u.timing_uncertain, u.completed_after,
               u.changed_after_due
        FROM dash_units u WHERE {cond}""", school_code, "u.sort_order", "u.")
    if chk.empty:
        return []
    blocking = queries._df(ev, """
        SELECT f.requirement_id, f.rule_id, coalesce(any_value(c.title_vi), f.rule_id) AS title,
               any_value(f.entity) AS entity,
               count(DISTINCT (f.record_key, f.field)) AS n_findings, count(DISTINCT f.record_key) AS n_records,
               count(DISTINCT f.student_id) AS n_students
        FROM dash_findings f
        LEFT JOIN ref_rule_catalog c ON c.rule_id = f.rule_id AND c.entity = f.entity
        WHERE f.school_code = ? AND f.blocks
        GROUP BY f.requirement_id, f.rule_id ORDER BY f.requirement_id, n_findings DESC, f.rule_id""",
                           [school_code])
    by_req: dict[str, list[dict]] = {}
    for b in blocking.to_dict("records"):
        rid = b.pop("requirement_id")
        b.update(n_findings=int(b["n_findings"]), n_records=int(b["n_records"]),
                 n_students=int(b["n_students"]))
        by_req.setdefault(rid, []).append(b)
    # Results rows that exist but are not used (wrong or unreadable school year, grade or term):
    # warnings, they block nothing, but they are why a term may be missing (rev12b finding 13).
    # Their messages name only the row's year, grade, term and subject, never a personal value.
    unused = queries._df(ev, f"""
        SELECT f.requirement_id, f.rule_id, coalesce(any_value(c.title_vi), f.rule_id) AS title,
               any_value(f.entity) AS entity,
               count(DISTINCT (f.record_key, f.field, f.source_row)) AS n_findings,
               count(DISTINCT f.record_key) AS n_records, count(DISTINCT f.student_id) AS n_students,
               arg_min(f.message, coalesce(f.source_row, 0)) AS example
        FROM dash_findings f
        LEFT JOIN ref_rule_catalog c ON c.rule_id = f.rule_id AND c.entity = f.entity
        WHERE f.school_code = ? AND NOT f.blocks AND f.entity IN ('score', 'term_summary')
          AND f.rule_id IN ({', '.join(repr(r) for r in UNUSED_ROW_RULES)})
        GROUP BY f.requirement_id, f.rule_id ORDER BY f.requirement_id, n_findings DESC, f.rule_id""",
                         [school_code])
    warn_by_req: dict[str, list[dict]] = {}
    for w in unused.to_dict("records"):
        rid = w.pop("requirement_id")
        w.update(n_findings=int(w["n_findings"]), n_records=int(w["n_records"]),
                 n_students=int(w["n_students"]))
        warn_by_req.setdefault(rid, []).append(w)
    reasons = queries._df(ev, """
        SELECT requirement_id, string_agg(blocked_reason, ' ' ORDER BY blocked_reason) AS blocked_reason
        FROM dash_unit_block_reasons WHERE school_code = ? GROUP BY requirement_id""", [school_code])
    reason = dict(zip(reasons["requirement_id"], reasons["blocked_reason"]))
    cells = queries._df(ev, "SELECT requirement_id, cell_state FROM dash_report_cells WHERE school_code = ?",
                        [school_code])
    cell = dict(zip(cells["requirement_id"], cells["cell_state"]))
    population = []
    if chk["kind"].isin(["student_info", "student_results"]).any():
        from .population import school_breakdown
        population = school_breakdown(ev.snapshot_path, ev.campaign, school_code).to_dict("records")
    unplaced = _unplaced_blocking(ev, population)
    out = []
    for r in chk.itertuples():
        record = r.kind in ("student_info", "student_results")
        out.append({
            "school_code": school_code, "school_name": r.school_name, "requirement_id": r.requirement_id,
            "requirement_name": r.requirement_name, "kind": r.kind, "letter_words": r.letter_words,
            "rule_text": RULE_TEXT.get(r.kind, ""), "due": r.due, "as_of": ev.as_of,
            "days_left": None if pd.isna(r.days_left) else int(r.days_left),
            "expected": int(r.expected), "done": int(r.done), "percent": float(r.percent),
            "status": r.status, "days_late": int(r.days_late), "at_risk": bool(r.at_risk),
            "completed_at": r.completed_at, "completed_after": r.completed_after,
            "timing_uncertain": bool(r.timing_uncertain),
            "changed_after_due": bool(r.changed_after_due) if not pd.isna(r.changed_after_due) else False,
            "blocking": (_record_blocking(by_req.get(r.requirement_id, []), unplaced) if record
                         else by_req.get(r.requirement_id, [])),
            "warnings": warn_by_req.get(r.requirement_id, []),
            "blocked_reason": reason.get(r.requirement_id) or "",
            "report_state": cell.get(r.requirement_id),
            "population": [dict(p) for p in population] if record else [],
        })
    return out


# The findings of a student row that cannot be placed (unreadable grade or status).
UNPLACED_RULES = ("GRADE_INVALID", "STATUS_INVALID")


def _unplaced_blocking(ev: Evaluation, population: list[dict]) -> list[dict]:
    """Blocking entries (as ``blocking``) for the institution's rows that cannot be placed
    (stg_population_unplaced: counted in expected of every record requirement, never done), by
    finding id, counted in rows. Why from the population breakdown and not from the findings:
    GRADE_INVALID / STATUS_INVALID also fire on rows outside the population (an unreadable grade
    on a transferred-out row), which do not hold any requirement back, while the unplaced rows
    hold back results requirements too, to which student findings are not attached (outside
    review of issue 12, finding 10)."""
    n: dict[str, int] = {}
    for p in population:
        if p["category"] == "unplaced":
            for rule in p.get("rules") or ():
                n[rule] = n.get(rule, 0) + int(p["n"])
    if not n:
        return []
    titles = queries._df(ev, "SELECT rule_id, any_value(title_vi) AS title FROM ref_rule_catalog "
                             "WHERE entity = 'student' GROUP BY rule_id")
    title = dict(zip(titles["rule_id"], titles["title"]))
    return [{"rule_id": rule, "title": title.get(rule, rule), "entity": "student", "n_findings": k,
             "n_records": k, "n_students": k, "unplaced": True}
            for rule, k in sorted(n.items(), key=lambda x: (-x[1], x[0]))]


def _record_blocking(found: list[dict], unplaced: list[dict]) -> list[dict]:
    """A record requirement's blocking rules: its findings except GRADE_INVALID/STATUS_INVALID,
    which count only for the rows that cannot be placed (``unplaced``)."""
    rows = [b for b in found if b["rule_id"] not in UNPLACED_RULES] + [dict(u) for u in unplaced]
    return sorted(rows, key=lambda b: -b["n_findings"])


def explain_at(ev: Evaluation, viewer: Viewer, school_code: str, requirement_id: str) -> dict:
    """The facts of one verdict, in the viewer's scope: requirement (name, kind, letter's words,
    rule text, due, days left), counts (expected, done, percent), population breakdown of the
    institution's student rows (grade, status, n, category, why) for record requirements, blocking
    findings by rule (rule_id, title, entity, n_findings, n_records, n_students), the warnings on
    results rows that exist but are not used (warnings: the same keys and ``example``, one message), why a
    requirement listing ``blocked_by`` rules is held back (blocked_reason), for reports and paper
    copies the state of the institution's row (report_state: sent_on_time, sent_late, held, returned,
    draft, missing, paper_valid, paper_invalid, paper_missing; None otherwise), the snapshot window
    (completed_after, completed_at, timing_uncertain), status, days_late, at_risk. LookupError
    when the institution or the requirement is not there (or outside the viewer's scope)."""
    rows = explain_school_at(ev, viewer, school_code)
    if not rows:
        raise LookupError(f"Không có trường {school_code} trong số liệu (hoặc ngoài phạm vi được xem).")
    for e in rows:
        if e["requirement_id"] == requirement_id:
            return e
    known = set(queries._df(ev, "SELECT requirement_id FROM cfg_requirements")["requirement_id"])
    if requirement_id not in known:
        raise LookupError(f"Không có yêu cầu {requirement_id} trong công văn; các yêu cầu: "
                          + ", ".join(sorted(known)) + ".")
    raise LookupError(f"Yêu cầu {requirement_id} không áp dụng cho trường {school_code}.")


def explain(viewer: Viewer, school_code: str, requirement_id: str, snapshot_id: str | None = None,
            store=None) -> dict:
    """``explain_at`` on the dashboard's evaluation of ``snapshot_id`` (None = newest)."""
    return explain_at(queries.evaluation(snapshot_id, store), viewer, school_code, requirement_id)


# What the blocking findings of a rule count, by the entity they are about.
_RECORD_UNIT = {"student": "học sinh", "score": "học sinh", "term_summary": "học sinh", "room": "phòng",
                "report": "báo cáo", "paper_copy": "bản giấy"}
# Why a report or paper copy is not done when no finding says so (dash_report_cells).
_STATE_TEXT = {"missing": "chưa gửi báo cáo", "draft": "báo cáo chưa ở trạng thái «Đã gửi»",
               "held": ("báo cáo đã gửi («Đã gửi») nhưng chưa tính là hoàn thành vì còn lỗi chặn; "
                        "sửa lỗi là đủ để hoàn thành"),
               "returned": "báo cáo bị trả lại", "paper_missing": "chưa nhận bản giấy",
               "paper_invalid": "bản giấy nhận được chưa hợp lệ"}


def _is_record(e: dict) -> bool:
    return e["kind"] in ("student_info", "student_results")


def _windowed(e: dict) -> bool:
    """The completion time is a snapshot window: always for a record requirement, and for a
    report whose time came from the snapshots (held back or returned, then fixed; outside
    review of issue 12, finding 12: a bare time made due 28/04 to 02/05 look like 4 days late)."""
    return _is_record(e) or not pd.isna(e.get("completed_after"))


def _counted(b: dict) -> tuple[int, str]:
    """(number, unit) a blocking rule is counted in: students for student records (a student
    missing five subjects is one student), else the records (rooms, reports, paper copies)."""
    unit = _RECORD_UNIT.get(b.get("entity"), "bản ghi")
    return (b["n_students"] if unit == "học sinh" and b.get("n_students") else b["n_records"]), unit


def one_line(e: dict) -> str:
    """A one-line reason (the checklist's "Lý do"): what is counted, what is missing and why,
    then the timing: 'Thiếu 3/120 (lỗi SUBJECT_MISSING: 2 học sinh, ID_DUPLICATE: 1 học sinh);
    quá hạn 3 ngày.' or 'Đạt 118/118 học sinh; hoàn thành trong khoảng 17:00 26/04 – 23:00 26/04.'"""
    unit = " học sinh" if _is_record(e) else ""
    if e["status"] in ("done_on_time", "done_late"):
        when = (fmt.completion_window(e["completed_after"], e["completed_at"]) if _windowed(e)
                else f"hoàn thành lúc {fmt.date_time(e['completed_at'])}")
        if e["timing_uncertain"]:
            when += " (không chứng minh được là trễ)"
        late = f", trễ {e['days_late']} ngày" if e["status"] == "done_late" else ""
        head = "Đạt đúng hạn" if e["status"] == "done_on_time" else "Đạt trễ hạn"
        if e.get("changed_after_due"):
            return (f"{head}; {when}{late}; sau hạn dữ liệu thay đổi: hiện thiếu "
                    f"{e['expected'] - e['done']}/{e['expected']}{unit}.")
        return f"Đạt {e['done']}/{e['expected']}{unit}; {when}{late}."
    causes = ["{}: {} {}".format(b["rule_id"], *_counted(b)) for b in e["blocking"][:3]]
    if len(e["blocking"]) > 3:
        causes.append(f"và {len(e['blocking']) - 3} quy tắc khác")
    if causes:
        why = f" (lỗi {', '.join(causes)})"
    elif e.get("report_state") in _STATE_TEXT:
        why = f" ({_STATE_TEXT[e['report_state']]})"
    else:
        why = ""
    if e["status"] == "overdue":
        when = f"quá hạn {e['days_late']} ngày"
    elif e["days_left"] is None:
        when = "không có hạn"
    elif e["days_left"] > 0:
        when = f"còn {e['days_left']} ngày"
    else:
        when = "hạn chót hôm nay"
    return f"Thiếu {e['expected'] - e['done']}/{e['expected']}{why}; {when}."


def render(e: dict) -> str:
    """The whole explanation, in Vietnamese, as the CLI prints it."""
    lines = [f"{e['school_code']} – {e['school_name']}", f"Yêu cầu {e['requirement_id']}: {e['requirement_name']}",
             f"Số liệu tại {fmt.date_time(e['as_of'])}.",
             f"Quy định: {e['rule_text']}", f"Công văn: «{e['letter_words']}»",
             "Thời hạn: " + ("không có" if pd.isna(e["due"]) else fmt.date_time(e["due"]))]
    unit = "học sinh" if e["kind"] in ("student_info", "student_results") else "đơn vị"
    if _is_record(e) and e["expected"] == 0:
        lines.append("Cần 0 học sinh: tệp hoc_sinh không có học sinh lớp 12 «Đang học» nào của trường, "
                     "nên yêu cầu chưa được thực hiện (hãy nhập danh sách học sinh lớp 12).")
    else:
        lines.append(f"Cần {e['expected']} {unit}, đạt {e['done']} ({fmt.percent(e['percent'])}); "
                     "đạt khi số đạt bằng số cần.")
    if e["population"]:
        lines.append("Học sinh của trường trong tệp hoc_sinh (khối · trạng thái: số dòng):")
        for p in e["population"]:
            mark = p["why"] if p["category"] in ("counted", "unplaced") else "không tính: " + p["why"]
            lines.append(f"  - Khối {p['grade'] or '(trống)'} · {p['status'] or '(trống)'}: {p['n']} — {mark}")
    if e["blocking"]:
        lines.append("Lỗi đang chặn (theo quy tắc):")
        lines += ["  - {} {}: {} {}".format(b["rule_id"], b["title"], *_counted(b))
                  + (" (không đọc được khối/trạng thái: vẫn tính vào số cần, chưa đạt đến khi sửa)"
                     if b.get("unplaced") else "") for b in e["blocking"]]
    else:
        lines.append("Không có lỗi nào chặn yêu cầu này.")
    if e.get("warnings"):
        lines.append("Dòng kết quả có trong tệp nhưng không được tính (cảnh báo, không chặn; "
                     "có thể là lý do thiếu học kỳ):")
        lines += ["  - {} {}: {} dòng — ví dụ: {}".format(w["rule_id"], w["title"], w["n_findings"], w["example"])
                  for w in e["warnings"]]
    if e.get("blocked_reason"):
        lines.append(e["blocked_reason"])
    if e.get("report_state") in _STATE_TEXT and e["status"] not in ("done_on_time", "done_late"):
        lines.append(f"Tình trạng: {_STATE_TEXT[e['report_state']]}.")
    if e["status"] in ("done_on_time", "done_late"):
        if e["timing_uncertain"]:
            lines.append(f"Thời điểm: {fmt.completion_window(e['completed_after'], e['completed_at'])} "
                         "(khoảng này chứa thời hạn nên không chứng minh được là trễ).")
        elif not pd.isna(e["completed_after"]):
            lines.append(f"Thời điểm: {fmt.completion_window(e['completed_after'], e['completed_at'])}"
                         + ("" if _is_record(e) else " (báo cáo đã gửi nhưng bị giữ lại hoặc trả lại; "
                            "chỉ các lần trích xuất cho biết lúc nó đạt)") + ".")
        else:
            lines.append(f"Thời điểm hoàn thành: {fmt.date_time(e['completed_at'])}.")
        if e.get("changed_after_due"):
            lines.append(f"Sau hạn dữ liệu thay đổi: hiện đạt {e['done']}/{e['expected']}; kết luận về "
                         "thời hạn vẫn dựa trên lần trích xuất cuối cùng trước hạn, khi yêu cầu đã đạt.")
    status = fmt.status_label(e["status"])
    if e["status"] == "overdue":
        status = f"Quá hạn {e['days_late']} ngày"
    elif e["status"] == "done_late":
        status += f", trễ {e['days_late']} ngày (tính từ ngày hết hạn đến đầu khoảng hoàn thành)"
    lines.append(f"Kết luận: {status}.")
    return "\n".join(lines)
