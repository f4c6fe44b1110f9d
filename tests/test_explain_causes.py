"""The explanation names the real cause (outside review of issue 12, findings 10 and 11).

Hand-computed, one snapshot at 27/04/2022 17:00 (G12_INFO due 26/04 23:59:59: overdue 1 day
when not done; RPT_CSVC due 28/04 23:59:59):
- U1: OK (valid) and BADST (grade 12, status «Đang theo học»: not a status of the system, so
  the row cannot be placed: counted in expected, never done). G12_INFO expected 2, done 1,
  overdue; the cause is BADST's STATUS_INVALID (1 học sinh) — in every record requirement,
  G12_RESULTS_EARLY included (student findings otherwise only block G12_INFO).
- U2: XII (grade «XII», Đang học): GRADE_INVALID, counted: G12_INFO 0/1.
- C1: OK + a row with grade «abc» and status «Đã chuyển trường» (GRADE_INVALID, NOT counted):
  G12_INFO 1/1 done; nothing blocks it.
- C2: OK + a row with grade 11 and status «??» (STATUS_INVALID, NOT counted): likewise.
- H1 (THCS;THPT): CSVC «Đã gửi» 25/04 10:00, room R1 declared under THCS and THPT
  (ROOM_MULTI_LEVEL): sent but held back; fixing the room alone makes it done, so the words
  are "sửa khai báo phòng học (mỗi phòng chỉ thuộc một cấp học)", never "gửi lại báo cáo".
- H2 (THCS;THPT): CSVC «Chưa gửi» (no time), the same room conflict: a draft, not held.
Finding 15: the only snapshot is after the G12_INFO cut-off, so C1 and C2 (done) are on time
only because nothing proves otherwise, and there is NO earlier snapshot; the import summary's
"ngoài diện" counts C1X and C2X only (BADST and XII are counted in expected).
"""
from __future__ import annotations

import pytest

from data_access import explain, formatting as fmt, queries
from data_access.access import SYSTEM
from tests.snapshot_factory import results_rows, school, student, write_store

AS_OF = "2022-04-27T17:00:00+07:00"


def tables() -> dict:
    st, sc, sm = [], [], []

    def add(s, res=True):
        st.append(s)
        if res:
            a, b = results_rows(s["student_id"])
            sc.extend(a)
            sm.extend(b)

    add(student("U1OK", "U1"))
    add(student("BADST", "U1", status="Đang theo học"), res=False)
    add(student("XII", "U2", grade="XII"), res=False)
    add(student("C1OK", "C1"))
    add(student("C1X", "C1", grade="abc", status="Đã chuyển trường"), res=False)
    add(student("C2OK", "C2"))
    add(student("C2X", "C2", grade="11", status="??"), res=False)
    schools = [school("U1"), school("U2", district="761"), school("C1", district="762"),
               school("C2", district="763"), school("H1", "THCS;THPT", district="764"),
               school("H2", "THCS;THPT", district="765")]
    reports = [{"school_code": "H1", "report_code": "CSVC", "status": "Đã gửi", "submitted_at": "25/04/2022 10:00"},
               {"school_code": "H2", "report_code": "CSVC", "status": "Chưa gửi"}]
    rooms = [{"school_code": h, "room_code": "R1", "level": lv} for h in ("H1", "H2") for lv in ("THCS", "THPT")]
    return {"schools": schools, "students": st, "subject_scores": sc, "term_summaries": sm,
            "reports": reports, "rooms": rooms}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("causes") / "store", [(AS_OF, tables())])


@pytest.fixture(scope="module")
def ev(store):
    return queries.evaluation(None, store)


def ex(ev, school, req):
    return explain.explain_at(ev, SYSTEM, school, req)


# ---- finding 10 --------------------------------------------------------------------------
def test_unplaced_row_named_as_the_cause(ev):
    e = ex(ev, "U1", "G12_INFO")
    assert (e["expected"], e["done"], e["status"]) == (2, 1, "overdue")
    text = explain.render(e)
    assert "Không có lỗi nào chặn" not in text
    assert "STATUS_INVALID" in text and "1 học sinh" in text
    assert "không đọc được khối/trạng thái" in text
    assert explain.one_line(e) == "Thiếu 1/2 (lỗi STATUS_INVALID: 1 học sinh); quá hạn 1 ngày."


def test_unplaced_row_is_the_cause_of_results_requirements_too(ev):
    e = ex(ev, "U1", "G12_RESULTS_EARLY")
    # U1OK has every early term; BADST counts and is never done
    assert (e["expected"], e["done"]) == (2, 1)
    text = explain.render(e)
    assert "Không có lỗi nào chặn" not in text and "STATUS_INVALID" in text
    assert "(lỗi STATUS_INVALID: 1 học sinh)" in explain.one_line(e)
    e = ex(ev, "U2", "G12_INFO")
    assert (e["expected"], e["done"]) == (1, 0)
    assert explain.one_line(e) == "Thiếu 1/1 (lỗi GRADE_INVALID: 1 học sinh); quá hạn 1 ngày."


def test_findings_on_rows_outside_the_population_do_not_block(ev):
    for code in ("C1", "C2"):
        e = ex(ev, code, "G12_INFO")
        assert (e["expected"], e["done"], e["status"]) == (1, 1, "done_on_time"), code
        assert e["blocking"] == [], code
        text = explain.render(e)
        assert "Lỗi đang chặn" not in text and "Không có lỗi nào chặn yêu cầu này." in text, code


# ---- finding 11 --------------------------------------------------------------------------
def test_sent_report_held_back_by_a_room(ev):
    e = ex(ev, "H1", "RPT_CSVC")
    assert e["status"] == "in_progress"
    assert e["report_state"] == "held"
    text = explain.render(e)
    assert "chưa ở trạng thái «Đã gửi»" not in text
    assert "Tình trạng: báo cáo đã gửi («Đã gửi») nhưng chưa tính là hoàn thành" in text
    assert "sửa khai báo phòng học (mỗi phòng chỉ thuộc một cấp học)" in e["blocked_reason"]
    assert "gửi lại" not in e["blocked_reason"] and "gửi lại" not in text
    assert "gửi lại" not in explain.one_line(e)


def test_reports_grid_has_a_held_state(ev):
    cells = ev.df("SELECT school_code, cell_state FROM dash_report_cells WHERE requirement_id = 'RPT_CSVC'")
    got = dict(zip(cells["school_code"], cells["cell_state"]))
    assert got["H1"] == "held" and got["H2"] == "draft"
    assert "held" in fmt.REPORT_STATE_ORDER
    assert fmt.REPORT_STATE_LABELS["held"] == "Đã gửi, bị giữ lại (còn lỗi chặn)"
    colour = fmt.REPORT_STATE_COLORS["held"]
    assert colour not in {fmt.REPORT_STATE_COLORS[s] for s in fmt.REPORT_STATE_ORDER if s != "held"}


def test_held_report_gap_words(ev):
    from data_access import planning
    g = planning.gaps(ev, SYSTEM, ["H1"], ["RPT_CSVC"])
    assert list(g["words"]) == ["báo cáo CSVC đã gửi nhưng chưa tính là hoàn thành: 1 phòng khai ở hai "
                                "cấp học trở lên (ROOM_MULTI_LEVEL), sửa khai báo phòng học (mỗi phòng "
                                "chỉ thuộc một cấp học)"]


# ---- finding 15 --------------------------------------------------------------------------
def test_deadline_card_without_an_earlier_snapshot(store):
    cards = queries.deadline_cards(SYSTEM, store=store)
    card = cards[cards["requirement_ids"].map(lambda ids: "G12_INFO" in list(ids))].iloc[0]
    # C1, C2 done (U1, U2 overdue): both uncertain, neither has a snapshot before the cut-off
    assert (card.units_done, card.units_timing_uncertain, card.units_timing_uncertain_no_prior) == (2, 2, 2)
    note = fmt.uncertain_units_note(card.units_timing_uncertain, card.units_timing_uncertain_no_prior)
    assert note.startswith("2 đơn vị được tính đúng hạn")
    assert "chưa có lần trích xuất nào trước hạn" in note
    assert "lần trích xuất trước hạn chưa đạt" not in note


def test_uncertain_note_wording():
    assert fmt.uncertain_units_note(0, 0) == ""
    two = fmt.uncertain_units_note(2)            # (every unit had an earlier snapshot)
    assert "lần trích xuất trước hạn chưa đạt, lần sau hạn đã đạt" in two
    assert "chưa có lần trích xuất nào" not in two
    mixed = fmt.uncertain_units_note(3, 1)
    assert mixed.startswith("3 đơn vị được tính đúng hạn")
    assert "2 đơn vị: lần trích xuất trước hạn chưa đạt, lần sau hạn đã đạt" in mixed
    assert "1 đơn vị: chưa có lần trích xuất nào trước hạn" in mixed


def test_import_summary_splits_unplaced_rows(store):
    from data_access.campaign import load_campaign
    from data_access.population import exclusion_lines, exclusion_summary
    from data_access.store import Store
    path = Store(store).list_snapshots().iloc[-1].path
    lines = exclusion_lines(exclusion_summary(path, load_campaign()))
    assert lines[0] == "2 dòng học sinh ngoài diện lớp 12 của công văn (không tính vào số phải báo cáo):"
    i = lines.index("2 dòng học sinh không đọc được khối/trạng thái (vẫn tính vào số phải báo cáo, chưa đạt):")
    outside, unplaced = lines[1:i], lines[i + 1:]
    assert "  khối không đọc được: 1" in outside and "  khối không đọc được: 1" in unplaced
    st = "  trạng thái không đọc được (bỏ trống hoặc không phải trạng thái của hệ thống): 1"
    assert st in outside and st in unplaced
