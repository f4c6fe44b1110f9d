"""Outside review of issue 12 (rev12b), findings 2, 13 and 14: which results rows count, and
that a row which does not count says so.

Hand-computed from RULES.md "Results" (campaign 2021-2022: grade 12 only from 2021-2022;
grades 10 and 11 from ONE earlier school year per student and grade: the latest earlier year
with any results row of that grade):
- 2: a repeater's repeat year is judged as a whole; a subject or summary missing there is
  never taken from the older year (c11.py A2, A3; c10.py A).
- 13: rows that exist but are not used carry a warning saying which year was found and which
  was needed (RESULTS_YEAR_NOT_USED), and explain lists it under the requirement. Year
  separators: `2021-2022`, `2021–2022` (en dash), `2021 — 2022`, `2021/2022`, `2021 - 2022` are
  one year, read as 2021-2022; `2021-22` is not a year (SCHOOL_YEAR_INVALID).
- 14: grades in the results tables are read like in hoc_sinh (`Khối 12`, `Lớp 12`, `K12`) and
  terms as people write them (`HK 2`, `HKII`, `Học kỳ 2`, `Cả năm`, `CN`, `hk1`); an unreadable
  grade or term is a warning on its row (GRADE_INVALID / TERM_INVALID), never silence.
Every student below is at an own school (the school code is the case name) with complete,
valid results (all 12 scored subjects 8.0, summaries 8.0 Giỏi Tốt) except what the case says.
"""
from __future__ import annotations

import pandas as pd
import pytest

from data_access import engine, explain
from data_access.access import Viewer
from data_access.campaign import load_campaign
from data_access.evaluate import evaluate
from tests import reference_pandas as ref
from tests.snapshot_factory import school, student, write_snapshot, write_store

CAMPAIGN = load_campaign()
SCORED = ["Toán", "Vật lí", "Hóa học", "Sinh học", "Tin học", "Ngữ văn", "Lịch sử", "Địa lí",
          "Ngoại ngữ", "GDCD", "Công nghệ", "GDQP-AN"]
YEARS = {10: "2019-2020", 11: "2020-2021", 12: "2021-2022"}
ALL = [(g, t) for g in (10, 11, 12) for t in ("HK1", "HK2", "CN")]
AS_OF = "2022-07-05T17:00:00+07:00"
ADMIN = Viewer("admin", "quan_tri")


def res(sid, terms=ALL, year=None, subjects=SCORED, summary=True, score="8.0"):
    """Rows of `sid` for `terms`; year(g, t) gives the school year (default: the cohort's)."""
    sc, tk = [], []
    for g, t in terms:
        y = year(g, t) if year else YEARS[g]
        sc += [{"student_id": sid, "school_year": y, "grade": str(g), "term": t, "subject": s,
                "score": score} for s in subjects]
        if summary:
            tk.append({"student_id": sid, "school_year": y, "grade": str(g), "term": t,
                       "overall_average": score, "academic_rank": "Giỏi", "conduct": "Tốt"})
    return sc, tk


def build() -> dict:
    cases: dict[str, tuple[list, list]] = {}

    def case(code, *parts):
        sc, tk = [], []
        for a, b in parts:
            sc += a
            tk += b
        cases[code] = (sc, tk)

    G10 = [(10, t) for t in ("HK1", "HK2", "CN")]
    G11 = [(11, t) for t in ("HK1", "HK2", "CN")]
    G12 = [(12, t) for t in ("HK1", "HK2", "CN")]
    y = lambda v: (lambda g, t: v)  # noqa: E731
    # -- finding 2 ---------------------------------------------------------------------------
    # A2: grade 11 2019-2020 complete; repeat year 2020-2021 has the summaries and only Toán
    case("A2", res("HA2", G10, y("2018-2019")), res("HA2", G11, y("2019-2020")),
         res("HA2", G11, y("2020-2021"), subjects=["Toán"]), res("HA2", G12))
    # A3: grade 11 2019-2020 complete; repeat year 2020-2021 all subjects, no summary
    case("A3", res("HA3", G10, y("2018-2019")), res("HA3", G11, y("2019-2020")),
         res("HA3", G11, y("2020-2021"), summary=False), res("HA3", G12))
    # A (c10.py): repeat year 2020-2021 only Toán 5.0, no summary
    case("A", res("HA", G10, y("2018-2019")), res("HA", G11, y("2019-2020")),
         res("HA", G11, y("2020-2021"), subjects=["Toán"], summary=False, score="5.0"), res("HA", G12))
    # A4: repeat year 2020-2021 has HK1 only; HK2 and CN only in 2019-2020
    case("A4", res("HA4", G10, y("2018-2019")), res("HA4", G11, y("2019-2020")),
         res("HA4", [(11, "HK1")], y("2020-2021")), res("HA4", G12))
    # AOK: complete in both years of grade 11: done (the older year is simply not read)
    case("AOK", res("HAOK", G10, y("2018-2019")), res("HAOK", G11, y("2019-2020"), score="3.0"),
         res("HAOK", G11, y("2020-2021")), res("HAOK", G12))
    # -- finding 13 --------------------------------------------------------------------------
    # S2: grade-12 HK2/CN typed with last year's year
    case("S2", res("H2", year=lambda g, t: "2020-2021" if g == 12 and t != "HK1" else YEARS[g]))
    # S5: grade-11 rows dated in the campaign's year
    case("S5", res("H5", year=lambda g, t: "2021-2022" if g == 11 else YEARS[g]))
    # S6: grade-12 HK2/CN dated in a later year (SCHOOL_YEAR_INVALID)
    case("S6", res("H6", year=lambda g, t: "2022-2023" if g == 12 and t != "HK1" else YEARS[g]))
    # S3, S8, S13, S14: the same year written with other separators: read as 2021-2022, done
    for code, sid, text in (("S3", "H3", "2021–2022"), ("S8", "H8", "2021 - 2022"),
                            ("S13", "H13", "2021/2022"), ("S14", "H14", "2021 — 2022")):
        case(code, res(sid, year=lambda g, t, text=text: text if g == 12 and t != "HK1" else YEARS[g]))
    # S15: grade 11 HK1 written '2020 – 2021' in the summary only, '2020-2021' in the scores
    sc, tk = res("H15")
    for r in tk:
        if (r["grade"], r["term"]) == ("11", "HK1"):
            r["school_year"] = "2020 – 2021"
    cases["S15"] = (sc, tk)
    # -- finding 14 --------------------------------------------------------------------------
    # W: grade 'Khối 12' in both results tables; W2: 'Lớp 12' / 'K12' / ' 12'; W3: grade 10 as 'lớp 10'
    sc, tk = res("HW")
    for r in sc + tk:
        if r["grade"] == "12":
            r["grade"] = "Khối 12"
    cases["W"] = (sc, tk)
    sc, tk = res("HW2")
    for r in sc:
        if r["grade"] == "12":
            r["grade"] = "Lớp 12"
    for r in tk:
        if r["grade"] == "12":
            r["grade"] = "K12"
    cases["W2"] = (sc, tk)
    # V: terms 'HK 2' / 'Cả năm'; V2: 'HKII' / 'CN' / 'Học kỳ 2' / 'học kỳ I' / 'hk1' / 'Ca nam'
    sc, tk = res("HV")
    for r in sc + tk:
        r["term"] = {"HK2": "HK 2", "CN": "Cả năm"}.get(r["term"], r["term"])
    cases["V"] = (sc, tk)
    sc, tk = res("HV2")
    for r in sc:
        r["term"] = {"HK1": "hk1", "HK2": "HKII", "CN": "Ca nam"}[r["term"]]
    for r in tk:
        r["term"] = {"HK1": "học kỳ I", "HK2": "Học kỳ 2", "CN": "CN"}[r["term"]]
    cases["V2"] = (sc, tk)
    # U: the grade-12 HK2 summary has an unreadable term 'HK3'; U2: a grade-11 CN summary with
    # grade 'XI' (unreadable): both rows vanish with a warning, and the term is missing
    sc, tk = res("HU")
    for r in tk:
        if (r["grade"], r["term"]) == ("12", "HK2"):
            r["term"] = "HK3"
    cases["U"] = (sc, tk)
    sc, tk = res("HU2")
    for r in tk:
        if (r["grade"], r["term"]) == ("11", "CN"):
            r["grade"] = "XI"
    cases["U2"] = (sc, tk)
    # U3: complete, plus a stray Toán row with an empty term: a warning only, still done
    sc, tk = res("HU3")
    sc.append({"student_id": "HU3", "school_year": "2021-2022", "grade": "12", "term": None,
               "subject": "Toán", "score": "8.0"})
    cases["U3"] = (sc, tk)

    schools, students, scores, summaries = [], [], [], []
    for code, (sc, tk) in cases.items():
        schools.append(school(code))
        students.append(student("H" + code if code not in ("S2", "S3", "S5", "S6", "S8", "S13", "S14", "S15")
                                else "H" + code[1:], code))
        scores += sc
        summaries += tk
    return {"schools": schools, "students": students, "subject_scores": scores, "term_summaries": summaries}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tables = build()
    path = write_snapshot(tmp_path_factory.mktemp("ry") / "s.duckdb", tables, as_of=AS_OF)
    con = engine.open_snapshot(path, CAMPAIGN, upto="findings")
    try:
        f = con.execute("SELECT * FROM findings").df()
    finally:
        con.close()
    sd = ref.student_done(ref.load_snapshot(path), CAMPAIGN).set_index(["school_code", "requirement_id"])
    return {"f": f, "sd": sd, "tables": tables}


def fs(world, code, errors_only=False):
    f = world["f"][world["f"]["school_code"] == code]
    return f[f["severity"] == "error"] if errors_only else f


def done(world, code):
    sd = world["sd"]
    return (int(sd.loc[(code, "G12_RESULTS_EARLY"), "done"]), int(sd.loc[(code, "G12_RESULTS_FINAL"), "done"]))


# ---- finding 2 ---------------------------------------------------------------------------------
def test_repeat_year_with_only_toan_lacks_the_other_subjects_of_that_year(world):
    f = fs(world, "A2", errors_only=True)
    assert set(f["rule_id"]) == {"SUBJECT_MISSING"}
    # 11 subjects x 3 terms, all of the repeat year 2020-2021
    assert len(f) == 33
    assert set(f["record_key"].str.split("|").str[1]) == {"2020-2021"}
    assert "HA2|2020-2021|11|HK2|Vật lí" in set(f["record_key"])
    assert all("2020-2021" in m for m in f["message"])
    assert done(world, "A2") == (0, 1)


def test_repeat_year_without_summary_lacks_its_summary(world):
    f = fs(world, "A3", errors_only=True)
    assert sorted(zip(f["rule_id"], f["record_key"])) == [
        ("TERM_SUMMARY_MISSING", "HA3|2020-2021|11|CN"), ("TERM_SUMMARY_MISSING", "HA3|2020-2021|11|HK1"),
        ("TERM_SUMMARY_MISSING", "HA3|2020-2021|11|HK2")]
    assert all("2020-2021" in m for m in f["message"])
    assert done(world, "A3") == (0, 1)


def test_blame_lands_on_the_repeat_year_not_on_the_older_rows(world):
    f = fs(world, "A", errors_only=True)
    assert "OVERALL_AVERAGE_MISMATCH" not in set(f["rule_id"])
    assert set(f["rule_id"]) == {"SUBJECT_MISSING", "TERM_SUMMARY_MISSING"}
    assert (f["rule_id"] == "SUBJECT_MISSING").sum() == 33 and (f["rule_id"] == "TERM_SUMMARY_MISSING").sum() == 3
    assert set(f["record_key"].str.split("|").str[1]) == {"2020-2021"}
    assert done(world, "A") == (0, 1)


def test_term_only_in_the_older_year_is_missing_in_the_repeat_year(world):
    f = fs(world, "A4", errors_only=True)
    assert sorted(zip(f["rule_id"], f["record_key"])) == [
        ("TERM_SUMMARY_MISSING", "HA4|2020-2021|11|CN"), ("TERM_SUMMARY_MISSING", "HA4|2020-2021|11|HK2")]
    w = fs(world, "A4")
    w = w[w["rule_id"] == "RESULTS_YEAR_NOT_USED"]
    # the older year's HK2 and CN rows (scores and summaries) are said not to be used
    assert sorted(set(zip(w["entity"], w["record_key"]))) == [
        ("score", "HA4|2019-2020|11|CN"), ("score", "HA4|2019-2020|11|HK2"),
        ("term_summary", "HA4|2019-2020|11|CN"), ("term_summary", "HA4|2019-2020|11|HK2")]
    assert (w["severity"] == "warning").all()
    assert all("2019-2020" in m and "2020-2021" in m for m in w["message"])
    assert done(world, "A4") == (0, 1)


def test_complete_repeat_year_is_done_and_the_older_year_is_not_read(world):
    assert fs(world, "AOK").empty
    assert done(world, "AOK") == (1, 1)


# ---- finding 13 --------------------------------------------------------------------------------
def test_grade12_rows_of_an_earlier_year_are_said_not_to_be_used(world):
    f = fs(world, "S2")
    assert sorted(zip(f[f.severity == "error"]["rule_id"], f[f.severity == "error"]["term"])) == [
        ("TERM_SUMMARY_MISSING", "CN"), ("TERM_SUMMARY_MISSING", "HK2")]
    w = f[f["rule_id"] == "RESULTS_YEAR_NOT_USED"]
    assert sorted(set(zip(w["entity"], w["record_key"], w["severity"], w["field"]))) == [
        ("score", "H2|2020-2021|12|CN", "warning", "school_year"),
        ("score", "H2|2020-2021|12|HK2", "warning", "school_year"),
        ("term_summary", "H2|2020-2021|12|CN", "warning", "school_year"),
        ("term_summary", "H2|2020-2021|12|HK2", "warning", "school_year")]
    assert all("2020-2021" in m and "2021-2022" in m for m in w["message"])
    assert w["source_row"].notna().all()
    assert done(world, "S2") == (1, 0)


def test_grade11_rows_of_the_campaign_year_are_said_not_to_be_used(world):
    f = fs(world, "S5")
    assert sorted(f[f.severity == "error"]["record_key"]) == [
        "H5||11|CN", "H5||11|HK1", "H5||11|HK2"]
    w = f[f["rule_id"] == "RESULTS_YEAR_NOT_USED"]
    assert sorted(set(w["record_key"])) == ["H5|2021-2022|11|CN", "H5|2021-2022|11|HK1", "H5|2021-2022|11|HK2"]
    assert all("2021-2022" in m for m in w["message"])
    assert done(world, "S5") == (0, 1)


@pytest.mark.parametrize("code", ["S3", "S8", "S13", "S14", "S15"])
def test_other_year_separators_read_as_the_same_year(world, code):
    assert fs(world, code).empty, fs(world, code)[["rule_id", "record_key"]]
    assert done(world, code) == (1, 1)


def test_a_later_year_stays_school_year_invalid_and_no_not_used_twice(world):
    f = fs(world, "S6")
    assert set(f["rule_id"]) == {"SCHOOL_YEAR_INVALID", "TERM_SUMMARY_MISSING"}
    assert done(world, "S6") == (1, 0)


@pytest.fixture(scope="module")
def ev(tmp_path_factory):
    store = write_store(tmp_path_factory.mktemp("ry_store"), [(AS_OF, build())])
    e = evaluate(store)
    yield e
    e.close()


@pytest.mark.parametrize("code, rule", [("S2", "RESULTS_YEAR_NOT_USED"), ("S6", "SCHOOL_YEAR_INVALID"),
                                        ("U", "TERM_INVALID")])
def test_explain_lists_the_rows_not_used_under_the_requirement(ev, code, rule):
    e = explain.explain_at(ev, ADMIN, code, "G12_RESULTS_FINAL")
    assert e["status"] == "overdue" and e["done"] == 0
    got = {w["rule_id"]: w for w in e["warnings"]}
    assert rule in got and got[rule]["n_records"] >= 1
    text = explain.render(e)
    assert rule in text
    assert "TERM_SUMMARY_MISSING" in text


def test_explain_of_early_lists_the_grade_11_rows_of_the_campaign_year(ev):
    e = explain.explain_at(ev, ADMIN, "S5", "G12_RESULTS_EARLY")
    assert [w["rule_id"] for w in e["warnings"]] == ["RESULTS_YEAR_NOT_USED"]
    assert "2021-2022" in explain.render(e)


# ---- finding 14 --------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["W", "W2", "V", "V2"])
def test_results_rows_written_differently_are_read(world, code):
    assert fs(world, code).empty, fs(world, code)[["rule_id", "record_key"]]
    assert done(world, code) == (1, 1)


def test_unreadable_term_is_a_warning_and_the_term_is_missing(world):
    f = fs(world, "U")
    assert sorted(zip(f["rule_id"], f["severity"], f["entity"], f["field"].fillna(""))) == [
        ("TERM_INVALID", "warning", "term_summary", "term"),
        ("TERM_SUMMARY_MISSING", "error", "term_summary", "")]
    t = f[f["rule_id"] == "TERM_INVALID"].iloc[0]
    assert t["grade"] == 12 and pd.isna(t["term"]) and "HK3" in t["message"] and t["source_row"] > 0
    assert done(world, "U") == (1, 0)


def test_unreadable_grade_is_a_warning_and_the_term_is_missing(world):
    f = fs(world, "U2")
    assert sorted(zip(f["rule_id"], f["severity"], f["field"].fillna(""))) == [
        ("GRADE_INVALID", "warning", "grade"), ("TERM_SUMMARY_MISSING", "error", "")]
    g = f[f["rule_id"] == "GRADE_INVALID"].iloc[0]
    assert pd.isna(g["grade"]) and g["term"] == "CN" and "XI" in g["message"]
    assert done(world, "U2") == (0, 1)


def test_stray_row_with_empty_term_does_not_block(world):
    f = fs(world, "U3")
    assert list(zip(f["rule_id"], f["severity"], f["entity"])) == [("TERM_INVALID", "warning", "score")]
    assert done(world, "U3") == (1, 1)
