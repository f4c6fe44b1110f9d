"""Issue 12 point 3 as the pages show it: the completion window's wording (formatting, not
pages), the checklist's window columns and the deadline card's count of units whose on-time
status rests on a window, from the query API. Expected values worked out by hand."""
from __future__ import annotations

import pandas as pd

from data_access import formatting as fmt
from data_access import queries
from data_access.access import Viewer
from tests.snapshot_factory import school, student, write_store

ADMIN = Viewer("admin", "quan_tri")


def test_completion_window_wording():
    assert (fmt.completion_window(pd.Timestamp("2022-04-26T17:00:00+07:00"), pd.Timestamp("2022-04-27T17:00:00+07:00"))
            == "hoàn thành trong khoảng 17:00 26/04 – 17:00 27/04")
    assert fmt.completion_window(None, pd.Timestamp("2022-04-27T10:00:00Z")) == "hoàn thành trước 17:00 27/04"
    assert fmt.uncertain_units_note(0) == ""
    note = fmt.uncertain_units_note(2)
    assert note.startswith("2 đơn vị") and "đúng lúc hết hạn" in note


def test_checklist_and_deadline_card_count_the_windows(tmp_path):
    """S1 not done at 26/04 17:00, done at 27/04 17:00: window (26/04 17:00, 27/04 17:00] holds
    the 26/04 23:59:59 cut-off -> on time, uncertain. S2 done at both: certainly on time.
    S3 not done at either: overdue."""
    schools = [school("S1"), school("S2"), school("S3")]
    bad = lambda sid, sc: student(sid, school_code=sc, ethnicity=None)   # noqa: E731
    s0 = {"schools": schools, "students": [bad("A", "S1"), student("B", school_code="S2"), bad("C", "S3")]}
    s1 = {"schools": schools, "students": [student("A", school_code="S1"), student("B", school_code="S2"),
                                           bad("C", "S3")]}
    store = write_store(tmp_path, [("2022-04-26T17:00:00+07:00", s0), ("2022-04-27T17:00:00+07:00", s1)])
    chk = queries.school_checklist(ADMIN, "S1", store=store).set_index("requirement_id").loc["G12_INFO"]
    assert (chk.status, bool(chk.timing_uncertain)) == ("done_on_time", True)
    assert fmt.completion_window(chk.completed_after, chk.completed_at) == \
        "hoàn thành trong khoảng 17:00 26/04 – 17:00 27/04"
    chk2 = queries.school_checklist(ADMIN, "S2", store=store).set_index("requirement_id").loc["G12_INFO"]
    assert (chk2.status, bool(chk2.timing_uncertain)) == ("done_on_time", False)
    cards = queries.deadline_cards(ADMIN, store=store)
    info = cards[cards["requirement_ids"].map(lambda ids: "G12_INFO" in ids)].iloc[0]
    assert (info.units_expected, info.units_done_on_time, info.units_overdue, info.units_timing_uncertain) == (3, 2, 1, 1)
