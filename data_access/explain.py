"""Why a verdict is what it is: everything one institution × requirement status rests on, from
the same evaluation the pages and the CLI read (issue 12, "Every verdict explains itself").

Why one function: the CLI (`python -m data_access explain`), the institution page ("Vì sao?")
and the school workbook must give the same reasons, so they all read ``explain_at``; the
Vietnamese wording is in ``render`` and ``one_line``, not in pages.
"""
from __future__ import annotations

import pandas as pd

from . import formatting as fmt
from . import queries
from .access import Viewer
from .evaluate import Evaluation

# What each kind of requirement means (RULES.md "Done, per requirement and institution").
RULE_TEXT = {
    "student_info": ("Mỗi học sinh lớp 12 đang học của trường phải có thông tin cá nhân đầy đủ và "
                     "hợp lệ (không còn lỗi nào); đạt khi số học sinh đạt bằng số học sinh phải có."),
    "student_results": ("Mỗi học sinh lớp 12 đang học phải có đủ điểm tổng kết từng môn tính điểm và "
                        "kết quả tổng kết hợp lệ cho các học kỳ yêu cầu, đúng năm học (lớp 12: năm học "
                        "của đợt; lớp 10, 11: năm học trước đó); đạt khi mọi học sinh đều đạt."),
    "report": ("Báo cáo phải ở trạng thái «Đã gửi» hoặc «Đã duyệt» với thời điểm gửi hợp lệ; "
               "thời điểm hoàn thành là thời điểm gửi."),
    "paper": ("Phải có bản giấy có chữ ký và đóng dấu, có ngày nhận hợp lệ; thời điểm hoàn thành là "
              "ngày nhận bản hợp lệ sớm nhất."),
}


def explain_at(ev: Evaluation, viewer: Viewer, school_code: str, requirement_id: str) -> dict:
    """The facts of one verdict, in the viewer's scope: requirement (name, kind, letter's words,
    rule text, due), counts (expected, done, percent), population breakdown of the institution's
    student rows (grade, status, n, counted) for record requirements, blocking findings by rule
    (rule_id, title, n_findings, n_records), the snapshot window (completed_after, completed_at,
    timing_uncertain), status, days_late, at_risk. LookupError when the institution or the
    requirement is not there (or outside the viewer's scope)."""
    chk = queries._one_school(ev, viewer, "school_checklist_explain", """
        SELECT u.school_code, u.district_code, u.school_name, u.requirement_id, u.requirement_name,
               u.kind, u.letter_words, u.due, u.status, u.expected, u.done, u.percent, u.completed_at,
               u.days_late, u.at_risk, u.timing_uncertain, u.completed_after
        FROM dash_units u WHERE {cond}""", school_code, "u.sort_order", "u.")
    row = chk[chk["requirement_id"] == requirement_id]
    if chk.empty:
        raise LookupError(f"Không có trường {school_code} trong số liệu (hoặc ngoài phạm vi được xem).")
    if row.empty:
        raise LookupError(f"Yêu cầu {requirement_id} không áp dụng cho trường {school_code}.")
    r = row.iloc[0]
    blocking = queries._df(ev, """
        SELECT f.rule_id, coalesce(any_value(c.title_vi), f.rule_id) AS title,
               count(DISTINCT (f.record_key, f.field)) AS n_findings, count(DISTINCT f.record_key) AS n_records
        FROM dash_findings f
        LEFT JOIN ref_rule_catalog c ON c.rule_id = f.rule_id AND c.entity = f.entity
        WHERE f.school_code = ? AND f.requirement_id = ? AND f.blocks
        GROUP BY f.rule_id ORDER BY n_findings DESC, f.rule_id""", [school_code, requirement_id])
    population = []
    if r.kind in ("student_info", "student_results"):
        db = ev.snapshot_db()
        params = queries._df(ev, "SELECT population_grade, population_status FROM cfg_params").iloc[0]
        pop = queries._df(ev, f"""
            SELECT coalesce(grade, '') AS grade, coalesce(status, '') AS status, count(*) AS n
            FROM {db}.main.students WHERE school_code = ? GROUP BY ALL ORDER BY grade DESC, status""",
                          [school_code])
        for p in pop.itertuples():
            counted = (p.grade.lstrip("0") == str(params.population_grade)
                       and p.status == params.population_status)
            population.append({"grade": p.grade, "status": p.status, "n": int(p.n), "counted": counted})
    return {
        "school_code": school_code, "school_name": r.school_name, "requirement_id": requirement_id,
        "requirement_name": r.requirement_name, "kind": r.kind, "letter_words": r.letter_words,
        "rule_text": RULE_TEXT.get(r.kind, ""), "due": r.due, "as_of": ev.as_of,
        "expected": int(r.expected), "done": int(r.done), "percent": float(r.percent),
        "status": r.status, "days_late": int(r.days_late), "at_risk": bool(r.at_risk),
        "completed_at": r.completed_at, "completed_after": r.completed_after,
        "timing_uncertain": bool(r.timing_uncertain),
        "blocking": blocking.to_dict("records"), "population": population,
    }


def explain(viewer: Viewer, school_code: str, requirement_id: str, snapshot_id: str | None = None,
            store=None) -> dict:
    """``explain_at`` on the dashboard's evaluation of ``snapshot_id`` (None = newest)."""
    return explain_at(queries.evaluation(snapshot_id, store), viewer, school_code, requirement_id)


def one_line(e: dict) -> str:
    """A one-line reason (checklists, workbook)."""
    if e["status"] in ("done_on_time", "done_late"):
        when = (fmt.completion_window(e["completed_after"], e["completed_at"]) if e["timing_uncertain"]
                else f"hoàn thành lúc {fmt.date_time(e['completed_at'])}")
        late = f", trễ {e['days_late']} ngày" if e["status"] == "done_late" else ""
        return f"Đạt {e['done']}/{e['expected']}; {when}{late}."
    rules = ", ".join(f"{b['rule_id']} ({b['n_records']})" for b in e["blocking"][:3])
    tail = f"; còn lỗi: {rules}" if rules else ""
    head = f"Quá hạn {e['days_late']} ngày" if e["status"] == "overdue" else fmt.status_label(e["status"])
    return f"{head}: đạt {e['done']}/{e['expected']}{tail}."


def render(e: dict) -> str:
    """The whole explanation, in Vietnamese, as the CLI prints it."""
    lines = [f"{e['school_code']} – {e['school_name']}", f"Yêu cầu {e['requirement_id']}: {e['requirement_name']}",
             f"Số liệu tại {fmt.date_time(e['as_of'])}.",
             f"Quy định: {e['rule_text']}", f"Công văn: «{e['letter_words']}»",
             "Thời hạn: " + ("không có" if pd.isna(e["due"]) else fmt.date_time(e["due"]))]
    unit = "học sinh" if e["kind"] in ("student_info", "student_results") else "đơn vị"
    lines.append(f"Cần {e['expected']} {unit}, đạt {e['done']} ({fmt.percent(e['percent'])}); "
                 "đạt khi số đạt bằng số cần.")
    if e["population"]:
        lines.append("Học sinh của trường trong tệp hoc_sinh (khối · trạng thái: số dòng):")
        for p in e["population"]:
            mark = "tính" if p["counted"] else "không tính (chỉ tính khối 12, «Đang học»)"
            lines.append(f"  - Khối {p['grade'] or '(trống)'} · {p['status'] or '(trống)'}: {p['n']} — {mark}")
    if e["blocking"]:
        lines.append("Lỗi đang chặn (theo quy tắc: số bản ghi):")
        lines += [f"  - {b['rule_id']} {b['title']}: {b['n_records']}" for b in e["blocking"]]
    else:
        lines.append("Không có lỗi nào chặn yêu cầu này.")
    if e["status"] in ("done_on_time", "done_late"):
        if e["timing_uncertain"]:
            lines.append(f"Thời điểm: {fmt.completion_window(e['completed_after'], e['completed_at'])} "
                         "(khoảng này chứa thời hạn nên không chứng minh được là trễ).")
        elif e["kind"] in ("student_info", "student_results") and not pd.isna(e["completed_after"]):
            lines.append(f"Thời điểm: {fmt.completion_window(e['completed_after'], e['completed_at'])}.")
        else:
            lines.append(f"Thời điểm hoàn thành: {fmt.date_time(e['completed_at'])}.")
    status = fmt.status_label(e["status"])
    if e["status"] == "overdue":
        status = f"Quá hạn {e['days_late']} ngày"
    elif e["status"] == "done_late":
        status += f", trễ {e['days_late']} ngày (tính từ ngày hết hạn đến đầu khoảng hoàn thành)"
    lines.append(f"Kết luận: {status}.")
    return "\n".join(lines)
