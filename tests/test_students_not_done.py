"""queries.students_not_done: what each grade-12 student lacks, computed in SQL, against the
findings themselves (plain pandas over dash_findings and the rule legend)."""
from __future__ import annotations

import pandas as pd

from data_access import queries
from data_access.access import Viewer, finding_message_sql

KHTC = Viewer("lan.kh", "khtc")
ADMIN = Viewer("admin", "quan_tri")
TERM_ORDER = {"HK1": 1, "HK2": 2, "CN": 3}


def _expected(ev, school: str) -> dict[str, tuple[list, set, int]]:
    # the message as KHTC may read it: ID_DUPLICATE names the other holders' institutions in the
    # reader's scope (issue 12 point 5; access.finding_message_sql, tested on its own in
    # tests/security/test_id_duplicate_scope.py)
    msg, params = finding_message_sql(KHTC, "f")
    f = ev.df(f"SELECT f.* REPLACE ({msg} AS message) FROM dash_findings f WHERE f.school_code = ? "
              "AND f.blocks AND f.student_id IS NOT NULL "
              "AND f.entity IN ('student', 'score', 'term_summary')", params + [school])
    cat = queries.rule_catalog()[["rule_id", "entity", "title_vi"]]
    f = f.merge(cat, on=["rule_id", "entity"], how="left")
    f["lack"] = f["title_vi"].fillna(f["rule_id"]) + ": " + f["message"].fillna("")
    out = {}
    for sid, g in f.groupby("student_id"):
        out[sid] = (sorted(set(g["requirement_id"])), set(g["lack"]), g["lack"].nunique())
    return out


def test_lacks_match_the_findings_and_are_listed_in_file_order(demo_store):
    ev = queries.evaluation(None, demo_store)
    schools = ev.df("SELECT school_code, count(DISTINCT student_id) AS n FROM dash_findings "
                    "WHERE blocks AND student_id IS NOT NULL GROUP BY 1 ORDER BY n DESC LIMIT 3")
    assert not schools.empty
    checked = 0
    for school in schools["school_code"]:
        got = queries.students_not_done(KHTC, school, store=demo_store)
        want = _expected(ev, school)
        assert set(got["student_id"]) == set(want)
        for r in got.itertuples():
            reqs, lacks, n = want[r.student_id]
            assert isinstance(r.requirements, list) and isinstance(r.lacks, list)
            assert r.requirements == reqs
            assert set(r.lacks) == lacks and len(r.lacks) == len(lacks) == r.n_errors == n
            # Missing term summaries come in school order: grade, then HK1, HK2, CN.
            tsm = [x for x in r.lacks if x.startswith("Thiếu kết quả tổng kết")]
            keys = [(int(x.split("lớp ")[1][:2]),
                     1 if "học kỳ I " in x else 2 if "học kỳ II" in x else 3) for x in tsm]
            assert keys == sorted(keys), tsm
            checked += 1
        # Vietnamese name order, personal values masked for KHTC (shown to the administrator).
        names = list(got["full_name"])
        assert names == list(queries._vi_sorted(pd.DataFrame({"full_name": names, "student_id": got["student_id"]}),
                                                "full_name", "student_id")["full_name"])
        plain = queries.students_not_done(ADMIN, school, store=demo_store)
        ids = dict(zip(plain["student_id"], plain["id_number"]))
        for sid, masked in zip(got["student_id"], got["id_number"]):
            if isinstance(ids.get(sid), str) and len(ids[sid]) >= 9:
                assert masked != ids[sid] and "•" in masked
    assert checked > 0
