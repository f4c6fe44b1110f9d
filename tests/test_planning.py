"""Planning office: the laggard ranking on hand-made institutions, the gaps in words, filters,
the last follow-up and promised dates, scope, and the reminder e-mail and printable DOCX."""
from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from data_access import ops, planning
from data_access.access import SYSTEM, Viewer
from data_access.evaluate import evaluate
from tests.snapshot_factory import results_rows, school, student, write_store
from tests.markdown_text import shown

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2022-04-29T17:00:00+07:00"        # after every April deadline
KHTC = Viewer("lan.kh", "khtc")
THPT_REPORTS = ("EMIS", "NGOAI_NGU", "CSVC", "SUC_KHOE")
EARLY = ((10, "HK1"), (10, "HK2"), (10, "CN"), (11, "HK1"), (11, "HK2"), (11, "CN"), (12, "HK1"))
FINAL = ((12, "HK2"), (12, "CN"))


def reports_done(code, codes=THPT_REPORTS):
    rep = [{"school_code": code, "report_code": r, "status": "Đã gửi", "submitted_at": "27/04/2022 10:00"}
           for r in codes]
    pap = [{"school_code": code, "report_code": r, "received_on": "27/04/2022", "signed": "Có", "stamped": "Có"}
           for r in codes]
    return rep, pap


def build(tmp_path):
    """A: THPT, G12_INFO overdue (1 of 2 students without an ID), reports all missing.
    B: THPT, G12_INFO overdue (2 of 3 without an ID), reports all missing — more records missing.
    C: MN, only its reports missing (overdue 1 day).
    D: THPT, everything done but grade-12 HK2/CN results (due 29/06): at risk, 1 student.
    E: THPT, as D with 2 students: at risk, more records missing.
    F: THPT, HK2/CN done but the early results missing (no due): in progress.
    G: THPT, everything done: not a laggard."""
    schools, students, scores, sums, reps, paps = [], [], [], [], [], []

    def add_students(code, n, bad=0, terms=EARLY + FINAL, district="760"):
        for i in range(n):
            sid = f"{code}-{i}"
            kw = {"id_number": None} if i < bad else {}
            students.append(student(sid, code, **kw))
            a, b = results_rows(sid, terms=terms)
            scores.extend(a)
            sums.extend(b)

    schools.append(school("A", "THPT", "760"))
    add_students("A", 2, bad=1)
    schools.append(school("B", "THPT", "761"))
    add_students("B", 3, bad=2)
    schools.append(school("C", "MN", "760", school_name="Trường Mầm non Hoa Sen"))
    for code, n, terms in (("D", 1, EARLY), ("E", 2, EARLY), ("F", 1, FINAL), ("G", 1, EARLY + FINAL)):
        schools.append(school(code, "THPT", "761"))
        add_students(code, n, terms=terms)
        r, p = reports_done(code)
        reps += r
        paps += p
    # C sent EMIS late and nothing else; A sent nothing; B's CSVC report was returned.
    reps.append({"school_code": "C", "report_code": "EMIS", "status": "Đã gửi", "submitted_at": "29/04/2022 09:00"})
    reps.append({"school_code": "B", "report_code": "CSVC", "status": "Bị trả lại", "submitted_at": "27/04/2022 09:00",
                 "note": "Sai số phòng"})
    paps.append({"school_code": "A", "report_code": "EMIS", "received_on": "28/04/2022", "signed": "Không",
                 "stamped": "Có"})
    tables = {"schools": schools, "students": students, "subject_scores": scores, "term_summaries": sums,
              "reports": reps, "paper_copies": paps}
    return write_store(tmp_path / "store", [("2022-04-22T17:00:00+07:00", tables), (AS_OF, tables)])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build(tmp_path_factory.mktemp("planning"))


@pytest.fixture(scope="module")
def ev(store):
    e = evaluate(store)
    yield e
    e.close()


def test_ranking_order(ev, store):
    lag = planning.laggards(ev, SYSTEM, store, today=dt.date(2022, 4, 30))
    assert list(lag["school_code"]) == ["B", "A", "C", "E", "D", "F"]
    assert list(lag["rank"]) == [1, 2, 3, 4, 5, 6]
    assert list(lag["category"]) == ["overdue"] * 3 + ["at_risk"] * 2 + ["in_progress"]
    by = lag.set_index("school_code")
    assert (by.loc["B", "days_late"], by.loc["A", "days_late"], by.loc["C", "days_late"]) == (3, 3, 1)
    # B and A: same days late, B has more records missing (G12_INFO 2 vs 1 + the same results)
    assert by.loc["B", "records_missing"] > by.loc["A", "records_missing"]
    assert (by.loc["E", "records_missing"], by.loc["D", "records_missing"]) == (2, 1)
    assert by.loc["F", "category_label"] == "Đang thực hiện"
    assert "G" not in set(lag["school_code"])


def test_gaps_in_words(ev, store):
    lag = planning.laggards(ev, SYSTEM, store).set_index("school_code")
    a = lag.loc["A", "missing"]
    assert a.startswith("thiếu CCCD 1 học sinh; ")
    assert "chưa gửi báo cáo CSVC" in a and "chưa gửi báo cáo đề án ngoại ngữ" in a
    assert "bản giấy EMIS chưa ký tên" in a and "chưa nhận bản giấy CSVC" in a
    assert "thiếu CCCD 2 học sinh" in lag.loc["B", "missing"]
    assert "báo cáo CSVC bị trả lại" in lag.loc["B", "missing"]
    assert lag.loc["C", "missing"] == ("chưa gửi báo cáo đề án ngoại ngữ; chưa gửi báo cáo CSVC; "
                                       "chưa gửi báo cáo sức khỏe học sinh; chưa nhận bản giấy EMIS; "
                                       "chưa nhận bản giấy đề án ngoại ngữ; chưa nhận bản giấy CSVC; "
                                       "chưa nhận bản giấy sức khỏe học sinh")
    assert lag.loc["E", "missing"] == "thiếu kết quả học tập HK II và cả năm lớp 12: 2 học sinh"
    assert lag.loc["F", "missing"] == "thiếu kết quả học tập lớp 10, 11 và HK I lớp 12: 1 học sinh"


def test_filters(ev, store):
    def codes(**kw):
        return list(planning.laggards(ev, SYSTEM, store, planning.LaggardFilter(**kw))["school_code"])

    assert codes(districts=["760"]) == ["A", "C"]
    assert codes(levels=["MN"]) == ["C"]
    assert codes(managed_by=["Phòng"]) == ["C"]
    assert codes(ownership=["Ngoài công lập"]) == []
    # One requirement: ranked on that requirement only
    assert codes(requirements=["RPT_EMIS"]) == ["A", "B"]          # C sent EMIS (late): done
    final = planning.laggards(ev, SYSTEM, store, planning.LaggardFilter(requirements=["G12_RESULTS_FINAL"]))
    assert set(final["school_code"]) == {"E", "D"} and list(final["category"]) == ["at_risk", "at_risk"]


def test_follow_ups_promises_and_not_contacted(ev, store):
    today = dt.date(2022, 5, 2)
    ops.add_follow_up(store, KHTC, "A", "25/04/2022", "điện thoại", note="lần 1", today=today)
    ops.add_follow_up(store, KHTC, "A", "30/04/2022", "e-mail", contact_person="Cô Hoa",
                      promised_on="01/05/2022", today=today)
    ops.add_follow_up(store, KHTC, "B", "01/05/2022", "công văn", promised_on="05/05/2022", today=today)
    lag = planning.laggards(ev, SYSTEM, store, today=today).set_index("school_code")
    assert lag.loc["A", "last_contact_on"] == dt.date(2022, 4, 30)
    assert lag.loc["A", "last_channel"] == "e-mail" and lag.loc["A", "last_contact_person"] == "Cô Hoa"
    assert bool(lag.loc["A", "promise_passed"]) and not bool(lag.loc["B", "promise_passed"])
    assert lag.loc["A", "days_since_contact"] == 2
    assert lag.loc["C", "last_contact_on"] is None and not bool(lag.loc["C", "promise_passed"])
    # not contacted in the last 1 day: A (2 days ago) and the never-contacted ones, not B
    f = planning.LaggardFilter(not_contacted_days=1)
    assert list(planning.laggards(ev, SYSTEM, store, f, today=today)["school_code"]) == ["A", "C", "E", "D", "F"]


def test_scope_of_a_district_office(ev, store):
    q1 = Viewer("pgd760", "phong_gd", district_code="760")
    assert list(planning.laggards(ev, q1, store)["school_code"]) == ["A", "C"]
    assert set(planning.gaps(ev, q1)["school_code"]) == {"A", "C"}
    with pytest.raises(LookupError):
        planning.reminder_email(ev, q1, "B")


def test_reminder_email(ev):
    mail = planning.reminder_email(ev, SYSTEM, "A", sender="Nguyễn Thị Lan – Phòng KHTC")
    assert mail["subject"] == "Trường Mẫu A - A"           # name + code (no principal/phone given)
    body = mail["body"]
    assert body.startswith("Kính gửi: Thủ trưởng Trường Mẫu A,")
    assert "Công văn số 1254/SGDĐT-KHTC ngày 25/04/2022" in body
    assert "Tính đến 17:00 ngày 29/04/2022, đơn vị còn" in body
    assert ("1. Thông tin cá nhân học sinh lớp 12 (hạn 26/04/2022, đã quá hạn 3 ngày): thiếu CCCD 1 học sinh."
            in body)
    assert "Báo cáo cơ sở vật chất (hạn 28/04/2022, đã quá hạn 1 ngày): chưa gửi báo cáo CSVC." in body
    assert "Kết quả học tập HK II và cả năm lớp 12 (hạn 29/06/2022)" not in body   # A has them
    assert body.rstrip().endswith("Nguyễn Thị Lan – Phòng KHTC\nSở Giáo dục và Đào tạo Thành phố Hồ Chí Minh")


def test_subject_line_format():
    inst = {"school_name": "Trường THPT Lê Lợi", "school_code": "79760701", "principal": "Trần Văn Bình",
            "phone": "0283 822 1234"}
    assert planning.subject_line(inst) == "Trường THPT Lê Lợi - 79760701 - Trần Văn Bình - 0283 822 1234"


def test_reminder_docx(ev):
    from docx import Document
    data = planning.reminder_docx(ev, SYSTEM, "B")
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "PHIẾU NHẮC VIỆC" in text and "1254/SGDĐT-KHTC" in text
    table = doc.tables[1]
    assert [c.text for c in table.rows[0].cells] == ["STT", "Nội dung", "Thời hạn", "Còn thiếu"]
    assert any("báo cáo CSVC bị trả lại" in r.cells[3].text for r in table.rows[1:])
    assert any(r.cells[2].text.startswith("26/04/2022") for r in table.rows[1:])


# ---- the three pages (AppTest on a copy of the demo store: the pages write to it) ----------

@pytest.fixture(scope="module")
def page_store(demo_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("pages") / "store"
    shutil.copytree(demo_store, root, ignore=shutil.ignore_patterns("ops.sqlite*", "tmp"))
    return root


@pytest.fixture(autouse=True)
def _as_admin():
    # AppTest cannot log in through st.user; the pages run as the administrator (set_viewer).
    from data_access.current_user import set_viewer
    set_viewer(Viewer("demo", "quan_tri"))
    yield
    set_viewer(None)


def _page(monkeypatch, store, page):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("TIENDO_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _submit(at, label):
    [b] = [b for b in at.button if b.label == label]
    b.click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_laggards_page_records_a_follow_up(monkeypatch, page_store):
    at = _page(monkeypatch, page_store, "pages/laggards.py")
    assert at.title[0].value == "Trường chậm tiến độ"
    assert len(at.dataframe) >= 1 and len(at.dataframe[0].value) > 0
    school_code = at.selectbox(key="fu_school").value
    at.text_input(key="fu_person").input("Thầy Minh (phó hiệu trưởng)")
    at.text_area(key="fu_note").input("Hứa gửi bản giấy EMIS trong tuần")
    _submit(at, "Lưu liên hệ")
    fu = ops.list_follow_ups(page_store, SYSTEM)
    assert len(fu) == 1
    assert (fu.loc[0, "school_code"], fu.loc[0, "note"]) == (school_code, "Hứa gửi bản giấy EMIS trong tuần")
    assert fu.loc[0, "recorded_by"] == "demo"
    assert any("Đã lưu liên hệ" in s.value for s in at.success)
    assert ops.list_audit(page_store, SYSTEM).loc[0, "action"] == "follow_up.add"
    # the reminder tab shows the e-mail ready to copy
    assert any("Kính gửi" in c.value for c in at.code)


def test_paper_register_page(monkeypatch, page_store):
    at = _page(monkeypatch, page_store, "pages/paper_register.py")
    assert at.title[0].value == "Sổ nhận bản giấy"
    at.text_input(key="pr_school").input("KHONG_CO")
    _submit(at, "Lưu vào sổ")
    assert any("Không có trường mã «KHONG_CO»" in shown(e.value) for e in at.error)
    assert ops.current_paper_receipts(page_store).empty
    at.text_input(key="pr_school").input("79760001")
    at.selectbox(key="pr_report").select("CSVC")
    at.date_input(key="pr_date").set_value(dt.date(2022, 4, 27))
    _submit(at, "Lưu vào sổ")
    reg = ops.current_paper_receipts(page_store)
    assert reg.to_dict("records") == [{"school_code": "79760001", "report_code": "CSVC",
                                       "received_on": dt.date(2022, 4, 27), "signed": True, "stamped": True}]
    assert any("Đã ghi phiếu số 1" in s.value for s in at.success)
    assert len(at.dataframe) >= 1


def test_downloads_page_builds_on_request_and_audits(monkeypatch, page_store):
    at = _page(monkeypatch, page_store, "pages/downloads.py")
    assert at.title[0].value == "Tải xuống bảng tổng hợp"
    assert len(at.download_button) == 0          # nothing built before it is asked for
    at.radio(key="dl_kind").set_value("district").run()
    _submit(at, "Tạo tệp")
    assert len(at.download_button) == 1
    before = len(ops.list_audit(page_store, SYSTEM, action="download"))
    at.download_button[0].click().run()
    audit = ops.list_audit(page_store, SYSTEM, action="download")
    assert len(audit) == before + 1 and audit.loc[0, "object"].endswith(".xlsx")
    assert audit.loc[0, "scope"].startswith("quan:")
