"""The sample-data generator (sample_data/): determinism, the committed extract, realism of the
demo series, the grading rules' worked examples, the timeline, and planted defects.

Fast: the demo series is generated once (about a second) and shared."""
from __future__ import annotations

import csv
import datetime as dt
import filecmp
import re
import tomllib
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_access.schema import TABLES_BY_FILE
from sample_data import defects as D
from sample_data.generate import generate, main
from sample_data.grading import RANKS, classify, classify_tenths, dtb_mcn, dtb_mhk, round_half_up
from sample_data.legacy_encodings import to_tcvn3, to_vni
from sample_data.population import (INSTITUTION_TYPES, build_institutions, chunks_for,
                                    population_sizes)
from sample_data.rand import DEFAULT_SEED
from sample_data.timeline import SNAPSHOTS, folder_name
from sample_data.world import FILES, World

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
NAMES = [folder_name(t) for t in SNAPSHOTS]


@pytest.fixture(scope="session")
def series(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["--scale", "demo", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="session")
def world() -> World:
    return World(chunks_for("demo")[0], DEFAULT_SEED)


def read(series: Path, name: str, stem: str) -> pd.DataFrame:
    return pd.read_csv(series / name / f"{stem}.csv", dtype=str, keep_default_na=False,
                       na_values=[""])


def same_tree(a: Path, b: Path) -> None:
    files_a = sorted(p.name for p in a.iterdir())
    assert files_a == sorted(p.name for p in b.iterdir())
    for f in files_a:
        assert filecmp.cmp(a / f, b / f, shallow=False), f"{a.name}/{f} differs"


# ---- files, determinism, committed extract ---------------------------------------------------
def test_series_has_every_snapshot_with_all_files(series):
    assert sorted(p.name for p in series.iterdir()) == NAMES
    for name in NAMES:
        folder = series / name
        assert sorted(p.name for p in folder.iterdir()) == sorted([f"{s}.csv" for s in FILES] + ["manifest.toml"])
        manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
        assert isinstance(manifest["as_of"], dt.datetime)
        assert manifest["as_of"].utcoffset() == dt.timedelta(hours=7)
        assert manifest["as_of"].strftime("%Y-%m-%dT%H%M") == name
        assert manifest["source"].startswith("sample_data.generate")
        for stem in FILES:
            raw = (folder / f"{stem}.csv").read_bytes()
            assert not raw.startswith(b"\xef\xbb\xbf")
            header = next(csv.reader([raw.decode("utf-8").split("\n", 1)[0]]))
            expected = [c.header for c in TABLES_BY_FILE[stem].columns]
            if stem == "hoc_sinh":
                expected.remove("Số định danh cá nhân")      # optional, not written
            assert header == expected, stem


def test_same_seed_same_bytes_other_seed_differs(series, tmp_path):
    again = tmp_path / "again"
    generate("demo", DEFAULT_SEED, again, "all", quiet=True)
    for name in NAMES:
        same_tree(series / name, again / name)
    other = tmp_path / "other"
    generate("demo", DEFAULT_SEED + 1, other, "last:1", quiet=True)
    for stem in FILES:
        if stem in ("truong", "lop"):
            continue          # codes and names may coincide by construction; rows do differ below
        assert (other / NAMES[-1] / f"{stem}.csv").read_bytes() != (series / NAMES[-1] / f"{stem}.csv").read_bytes(), stem
    assert (other / NAMES[-1] / "truong.csv").read_bytes() != (series / NAMES[-1] / "truong.csv").read_bytes()


def test_subset_of_snapshots_equals_full_series(series, tmp_path):
    generate("demo", DEFAULT_SEED, tmp_path, "last:2", quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES[-2:]
    for name in NAMES[-2:]:
        same_tree(series / name, tmp_path / name)


def test_committed_extract_is_what_the_generator_makes(series):
    assert COMMITTED.is_dir(), "sample_data/extract/2022-04-27T1700 is missing"
    same_tree(COMMITTED, series / "2022-04-27T1700")
    size = sum(p.stat().st_size for p in COMMITTED.iterdir())
    assert size < 6_000_000


def test_unknown_snapshot_is_refused(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--snapshots", "2022-01-01T0000", "--quiet"]) == 2
    assert "2022-04-27T1700" in capsys.readouterr().err


# ---- institutions -------------------------------------------------------------------------
def no_accents(s: str) -> str:
    s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


def test_institutions_cover_the_city(series):
    t = read(series, "2022-04-27T1700", "truong")
    districts = pd.read_csv(ROOT / "data_access" / "reference" / "districts_hcmc_2022.csv", dtype=str)
    assert set(t["Mã quận/huyện"]) == set(districts["district_code"])       # all 22
    assert t["Mã trường"].is_unique and t["Mã trường"].str.fullmatch(r"79\d{6}").all()
    assert set(t["Cấp học"]) == {x[0] for x in INSTITUTION_TYPES}            # every level and type
    levels = set(";".join(t["Cấp học"]).split(";"))
    assert levels == {"MN", "TH", "THCS", "THPT", "GDTX"}
    assert set(t["Loại hình"]) == {"Công lập", "Ngoài công lập"}
    sec = t["Cấp học"].str.contains("THPT|GDTX")
    assert (t.loc[sec, "Cấp quản lý"] == "Sở").all() and (t.loc[~sec, "Cấp quản lý"] == "Phòng").all()
    assert t["Tên trường"].str.contains("Mẫu số ").all()
    assert t["Tên trường"].map(no_accents).str.contains("le hong phong").sum() >= 1
    assert t["Điện thoại"].str.fullmatch(r"0[3789]\d{8}").all()
    # every e-mail is synthetic; a few are left empty (completeness gaps, test below)
    assert t["Email"].dropna().str.endswith("@example.edu.vn").all() and t["Email"].isna().sum() == 7
    non_public = (t["Loại hình"] == "Ngoài công lập")
    assert 0.2 <= non_public.mean() <= 0.4
    assert non_public[t["Cấp học"] == "MN"].mean() > non_public.mean()


def test_demo_level_proportions_follow_the_city():
    inst = build_institutions(chunks_for("demo")[0], DEFAULT_SEED)
    full = {x[0]: x[1] for x in INSTITUTION_TYPES}
    got = inst["levels"].value_counts().to_dict()
    for levels, n in full.items():
        assert got[levels] == max(1, round(n * 0.1)), levels
    assert 200 <= len(inst) <= 300


# ---- students ----------------------------------------------------------------------------
def valid_date(s) -> tuple[int, int, int] | None:
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", s if isinstance(s, str) else "")
    if not m:
        return None
    try:
        dt.date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return int(m[1]), int(m[2]), int(m[3])


def test_grade12_students_plausible(series):
    h = read(series, "2022-07-05T1700", "hoc_sinh")
    g12 = h[(h["Khối"] == "12") & (h["Trạng thái"] == "Đang học")]
    assert 600 <= len(g12) <= 1500
    years = g12["Ngày sinh"].map(lambda s: (valid_date(s) or (0, 0, 0))[2])
    assert (years == 2004).mean() > 0.8
    assert {2003, 2005} <= set(years)
    assert years[years > 0].between(1998, 2005).mean() > 0.98
    assert h["Trạng thái"].isin(["Đang học", "Đã chuyển trường", "Thôi học"]).all()
    assert 0.01 < (h["Trạng thái"] != "Đang học").mean() < 0.06
    assert set(h["Khối"].astype(int)) == set(range(13))
    assert (h.loc[h["Khối"] != "12", "Số CMND/CCCD"].isna()).all()
    # names: NFC (except the planted NFD ones), Nguyễn most common
    surnames = g12["Họ và tên"].dropna().str.split().str[0]
    assert surnames.value_counts().index[0] == "Nguyễn"
    eth = h["Dân tộc"].value_counts(normalize=True)
    assert eth["Kinh"] > 0.85 and "Hoa" in eth and "Khmer" in eth and "Khơ-me" in eth


def test_cccd_structure(series):
    h = read(series, "2022-07-05T1700", "hoc_sinh")
    g12 = h[h["Khối"] == "12"].dropna(subset=["Số CMND/CCCD"])
    ids = g12["Số CMND/CCCD"]
    twelve = g12[ids.str.fullmatch(r"\d{12}") & (ids != "000000000000")]
    assert (twelve["Số CMND/CCCD"].str[:3] == "079").mean() > 0.6
    assert (ids.str.len() == 9).any()                           # some older students: CMND only
    ok = twelve[twelve["Giới tính"].isin(["Nam", "Nữ"]) & twelve["Ngày sinh"].map(lambda s: valid_date(s) is not None)]
    year = ok["Ngày sinh"].str[-4:].astype(int)
    digit = (year >= 2000) * 2 + (ok["Giới tính"] == "Nữ")
    consistent = (ok["Số CMND/CCCD"].str[3].astype(int) == digit) & (ok["Số CMND/CCCD"].str[4:6].astype(int) == year % 100)
    assert consistent.mean() > 0.97
    assert ids[ids.str.fullmatch(r"\d{12}") & (ids != "000000000000")].duplicated().sum() <= 3


def test_addresses_name_ward_district_province(series):
    h = read(series, "2022-04-27T1700", "hoc_sinh")
    parts = h["Nơi thường trú"].dropna().str.split(", ")
    full = parts[parts.str.len() == 4]
    assert len(full) / len(parts) > 0.98
    assert full.str[1].str.match(r"(Phường|Xã|Thị trấn) ").all()
    assert full.str[2].str.match(r"(Quận|Huyện|Thị xã|Thành phố) ").all()
    assert (full.str[3] == "Thành phố Hồ Chí Minh").mean() > 0.9
    assert (full.str[3].str.startswith("Tỉnh ")).any()


# ---- results --------------------------------------------------------------------------------
def numeric_tenths(s: pd.Series) -> pd.Series:
    ok = s.fillna("").str.fullmatch(r"(10|\d)\.\d")
    return pd.Series(np.where(ok, (pd.to_numeric(s.where(ok), errors="coerce") * 10).round(), np.nan), index=s.index)


def test_whole_year_scores_and_summaries_follow_the_rules(series):
    d = read(series, "2022-07-05T1700", "diem_mon_hoc")
    scored = d[d["Môn học"] != "Thể dục"].copy()
    assert d.loc[d["Môn học"] == "Thể dục", "Điểm"].isna().all()
    assert d.loc[d["Môn học"] == "Thể dục", "Đánh giá"].dropna().isin(["Đ", "CĐ"]).mean() > 0.99
    scored["t"] = numeric_tenths(scored["Điểm"])
    wide = scored.pivot_table(index=["Mã học sinh", "Năm học", "Khối", "Môn học"], columns="Học kỳ",
                              values="t", aggfunc="first").dropna()
    expect = (2 * (wide["HK1"] + 2 * wide["HK2"]) + 3) // 6
    assert len(wide) > 10_000
    assert (wide["CN"] == expect).mean() > 0.995
    # overall average and rank of each term from its subject scores
    t = read(series, "2022-07-05T1700", "tong_ket").set_index(["Mã học sinh", "Năm học", "Học kỳ"])
    h = read(series, "2022-07-05T1700", "hoc_sinh")
    levels = read(series, "2022-07-05T1700", "truong").set_index("Mã trường")["Cấp học"]
    gdtx = h.set_index("Mã học sinh")["Mã trường"].map(levels).fillna("").str.contains("THPT") == False  # noqa: E712
    from sample_data.results import subjects
    names, avail, key, _rated = subjects()
    grid = scored.pivot_table(index=["Mã học sinh", "Năm học", "Học kỳ"], columns="Môn học",
                              values="t", aggfunc="first")
    rating = d[d["Môn học"] == "Thể dục"].set_index(["Mã học sinh", "Năm học", "Học kỳ"])["Đánh giá"]
    checked = agree_avg = agree_rank = 0
    prog = gdtx.reindex(grid.index.get_level_values(0)).to_numpy().astype(int)
    for p in (0, 1):
        subj = [n for n, a in zip(names, avail[p]) if a == 1]
        g = grid[prog == p][subj].dropna()
        g = g[g.index.isin(t.index)]
        all_d = np.ones(len(g), bool) if p == 1 else (rating.reindex(g.index) == "Đ").to_numpy()
        a, rk = classify_tenths(g.to_numpy().astype(np.int64), np.ones(len(subj), bool),
                                np.array([key[p][names.index(x)] for x in subj]), all_d)
        summ = t.loc[g.index]
        checked += len(g)
        agree_avg += int((numeric_tenths(summ["Điểm TB các môn"]).to_numpy() == a).sum())
        agree_rank += int((summ["Học lực"].to_numpy() == np.array(RANKS, dtype=object)[rk]).sum())
    assert checked > 5000
    assert agree_avg / checked > 0.98 and agree_rank / checked > 0.98
    conduct = t["Hạnh kiểm"].value_counts(normalize=True)
    assert conduct.index[0] == "Tốt" and conduct["Tốt"] > 0.6


# ---- grading rules --------------------------------------------------------------------------
BASE = {"Toán": 8.5, "Vật lí": 8.4, "Hóa học": 8.8, "Sinh học": 8.2, "Tin học": 8.6, "Ngữ văn": 7.0,
        "Lịch sử": 8.2, "Địa lí": 8.3, "Ngoại ngữ": 8.5, "GDCD": 8.8, "Công nghệ": 8.2, "GDQP-AN": 8.2}


@pytest.mark.parametrize("change, expected", [
    ({}, (8.3, "Giỏi")),
    ({"Sinh học": 6.0}, (8.1, "Khá")),
    ({"Sinh học": 4.5}, (8.0, "Khá")),            # raw TB, adjusted
    ({"Sinh học": 3.0}, (7.9, "Trung bình")),     # Khá-level average, raw Yếu -> TB
    ({"Sinh học": 4.5, "Hóa học": 4.5}, (7.6, "Trung bình")),   # two subjects: no adjustment
])
def test_classification_worked_examples(change, expected):
    assert classify({**BASE, **change}, {"Thể dục": "Đ"}) == expected


def test_averages_and_rounding():
    assert dtb_mhk([6, 8, 7.5], 5, 10) == 7.7
    assert dtb_mcn(9, 7.5) == 8.0
    assert round_half_up(8.25) == 8.3 and round_half_up(8.35) == 8.4 and round_half_up(6.45) == 6.5


def test_key_subject_failure_and_rated_cd_do_not_adjust():
    low_keys = {**BASE, "Toán": 7.9, "Ngữ văn": 7.0, "Ngoại ngữ": 7.9, "Sinh học": 4.5,
                "GDCD": 9.5, "Công nghệ": 9.5, "GDQP-AN": 9.6, "Tin học": 9.4}
    avg, rank = classify(low_keys, {"Thể dục": "Đ"})
    assert avg >= 8.0 and rank == "Trung bình"       # no key subject >= 8.0: not "one subject"
    assert classify(BASE, {"Thể dục": "CĐ"})[1] == "Yếu"


def naive_rank(scores: list[int], key: list[bool], all_d: bool) -> tuple[int, int]:
    n = len(scores)
    avg = (2 * sum(scores) + n) // (2 * n)
    table = [(80, 80, 65, True), (65, 65, 50, True), (50, 50, 35, True), (35, None, 20, False)]
    raw = 4
    for lvl, (amin, kmin, floor, need_d) in enumerate(table):
        if avg >= amin and min(scores) >= floor and (kmin is None or max(s for s, k in zip(scores, key) if k) >= kmin) \
                and (not need_d or all_d):
            raw = lvl
            break
    a = 0 if avg >= 80 else 1 if avg >= 65 else None
    adj = {(0, 2): 1, (0, 3): 2, (1, 3): 2, (1, 4): 3}
    if a is not None and (a, raw) in adj:
        floor = (65, 50)[a]
        kmin = (80, 65)[a]
        if sum(s < floor for s in scores) == 1 and max(s for s, k in zip(scores, key) if k) >= kmin and all_d:
            raw = adj[(a, raw)]
    return avg, raw


def test_vectorised_classification_matches_a_naive_one():
    r = np.random.default_rng(5)
    n, s = 4000, 12
    scores = np.clip(r.normal(72, 14, (n, s)).round(), 0, 100).astype(np.int64)
    low = r.random((n, s)) < 0.05
    scores[low] = r.integers(0, 40, int(low.sum()))
    key = np.zeros(s, bool)
    key[[0, 5, 8]] = True
    all_d = r.random(n) > 0.02
    avg, rank = classify_tenths(scores, np.ones(s, bool), key, all_d)
    for i in range(n):
        assert (avg[i], rank[i]) == naive_rank(list(scores[i]), list(key), bool(all_d[i])), i


# ---- legacy encodings ------------------------------------------------------------------------
def test_legacy_encoders():
    assert to_vni("Xin chào các bạn") == "Xin chaøo caùc baïn"
    assert to_tcvn3("Nguyễn Thị Ánh") == "NguyÔn ThÞ ¸nh"
    assert to_vni("Nguyễn Thị Ánh") == "Nguyeãn Thò AÙnh"
    assert to_tcvn3("Đặng Trương") == "§Æng Tr\xad¬ng"
    assert to_vni("Đặng Trương") == "Ñaëng Tröông"
    for s in ("Lê Hồng Phong", "Huỳnh Thị Mỹ Ỵ"):
        to_tcvn3(s).encode("cp1252")
        to_vni(s).encode("cp1252")


# ---- timeline -------------------------------------------------------------------------------
def test_progress_grows_and_nothing_is_from_the_future(series):
    prev = {}
    for t, name in zip(SNAPSHOTS, NAMES):
        as_of = dt.datetime.strptime(name, "%Y-%m-%dT%H%M")
        b = read(series, name, "bao_cao")
        sent_times = pd.to_datetime(b["Thời điểm gửi"].dropna(), format="%d/%m/%Y %H:%M")
        assert (sent_times <= as_of).all()
        assert b["Trạng thái"].isin(["Chưa gửi", "Đã gửi", "Bị trả lại", "Đã duyệt"]).all()
        assert b.loc[b["Trạng thái"] == "Chưa gửi", "Thời điểm gửi"].isna().all()
        assert b.loc[b["Trạng thái"] == "Bị trả lại", "Ghi chú"].notna().all()
        p = read(series, name, "ban_giay")
        assert (pd.to_datetime(p["Ngày nhận"], format="%d/%m/%Y") <= as_of).all()
        counts = {"sent": int(b["Thời điểm gửi"].notna().sum()), "rows": len(b), "paper": len(p),
                  "students": len(read(series, name, "hoc_sinh")),
                  "scores": len(read(series, name, "diem_mon_hoc"))}
        for k, v in counts.items():
            assert v >= prev.get(k, 0), (name, k)
        prev = counts
    first, last = read(series, NAMES[0], "bao_cao"), read(series, NAMES[-1], "bao_cao")
    assert last["Thời điểm gửi"].notna().sum() > 2 * first["Thời điểm gửi"].notna().sum()
    # grade-12 final results (HK2 / CN of grade 12) only from mid-May
    for name in NAMES:
        d = read(series, name, "diem_mon_hoc")
        final = ((d["Khối"] == "12") & d["Học kỳ"].isin(["HK2", "CN"])).sum()
        assert (final == 0) == (name < "2022-05-16")


def test_reports_apply_by_level(series):
    b = read(series, NAMES[-1], "bao_cao")
    levels = read(series, NAMES[-1], "truong").set_index("Mã trường")["Cấp học"].str.split(";").map(set)
    lv = b["Mã trường"].map(levels)
    assert lv.notna().all()
    assert lv[b["Mã báo cáo"] == "EQMS"].map(lambda x: "TH" in x).all()
    assert lv[b["Mã báo cáo"].isin(["NGOAI_NGU", "SUC_KHOE"])].map(lambda x: bool(x - {"GDTX"})).all()
    assert not b.duplicated(["Mã trường", "Mã báo cáo"]).any()
    applicable = sum(2 + ("TH" in x) + 2 * bool(x - {"GDTX"}) for x in levels)
    sent = b["Thời điểm gửi"].notna().sum()
    assert 0.9 < sent / applicable < 0.99, (sent, applicable)      # ~5 % never send


# ---- defects ---------------------------------------------------------------------------------
def test_every_info_defect_kind_appears_in_the_output(series, world):
    c, d = world.cohort, world.cohort.defects
    ids = np.array(world.students.student_id.to_pylist(), dtype=object)[c.rows]
    frames = {name: read(series, name, "hoc_sinh").set_index("Mã học sinh") for name in NAMES}
    headers = ["Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Số CMND/CCCD", "Nơi thường trú"]
    seen = set()
    for j in range(len(d.kind)):
        kind = D.INFO_DEFECTS[d.kind[j]][0]
        sid = ids[d.student[j]]
        col = "Mã trường" if d.field[j] < 0 else headers[d.field[j]]
        for name in NAMES:
            f = frames[name]
            if sid not in f.index:
                continue
            v = f.at[sid, col]
            if (kind.startswith("MISSING_") and pd.isna(v)) or (not kind.startswith("MISSING_") and v == d.value[j]):
                seen.add(kind)
                break
    assert seen == {k[0] for k in D.INFO_DEFECTS}


def test_every_result_defect_kind_appears_in_the_output(series, world):
    res, d = world.results, world.results.defects
    ids = np.array(res.student_ids.to_pylist(), dtype=object)
    from sample_data.results import BLOCKS
    from sample_data.refdata import cohort_years
    years = cohort_years()
    seen = set()
    for name in NAMES:
        s = read(series, name, "diem_mon_hoc").set_index(["Mã học sinh", "Khối", "Học kỳ", "Môn học"])
        t = read(series, name, "tong_ket").set_index(["Mã học sinh", "Khối", "Học kỳ"])
        for j in range(len(d.kind)):
            kind = D.RESULT_DEFECTS[d.kind[j]][0]
            if kind in seen:
                continue
            g, term = BLOCKS[d.block[j]]
            key3 = (ids[d.student[j]], str(g), term)
            if key3 not in t.index and kind != "SUMMARY_MISSING":
                continue                      # block not entered yet
            if kind == "SUMMARY_MISSING":
                present = s.index.isin([key3 + (res.subjects[0],)]).any()
                hit = present and key3 not in t.index
            elif d.subject[j] >= 0:
                key4 = key3 + (res.subjects[d.subject[j]],)
                if kind == "SUBJECT_ROW_MISSING":
                    hit = key4 not in s.index
                elif key4 not in s.index:
                    continue
                else:
                    row = s.loc[key4]
                    col = "Đánh giá" if kind == "RATING_INVALID" or (kind == "SUBJECT_SCORE_EMPTY" and d.subject[j] == res.rated_idx) else "Điểm"
                    v = row[col]
                    hit = pd.isna(v) if kind == "SUBJECT_SCORE_EMPTY" else v == d.value[j]
            else:
                row = t.loc[key3]
                if kind == "SUMMARY_FIELD_EMPTY":
                    col = {"avg": "Điểm TB các môn", "rank": "Học lực", "conduct": "Hạnh kiểm"}[d.value[j]]
                    hit = pd.isna(row[col])
                else:
                    col = {"AVERAGE_WRONG": "Điểm TB các môn", "RANK_INCONSISTENT": "Học lực",
                           "RANK_INVALID": "Học lực", "CONDUCT_INVALID": "Hạnh kiểm"}[kind]
                    hit = row[col] == d.value[j]
            if hit:
                seen.add(kind)
    assert seen == {k[0] for k in D.RESULT_DEFECTS}


def test_independent_detectors_find_planted_defects(series):
    found = set()
    for name in NAMES:
        h = read(series, name, "hoc_sinh")
        g12 = h[(h["Khối"] == "12") & (h["Trạng thái"] == "Đang học")]
        ids = g12["Số CMND/CCCD"].dropna()
        names = g12["Họ và tên"].dropna()
        if (names != names.map(lambda s: unicodedata.normalize("NFC", s))).any():
            found.add("nfd")
        if (ids == "000000000000").any():
            found.add("zeros")
        if ids.str.fullmatch(r"[1-9]\d{10}").any():
            found.add("leading zero lost")
        twelve = ids[ids.str.fullmatch(r"\d{12}") & (ids != "000000000000")]
        if twelve.duplicated().any():
            found.add("duplicate")
        if g12["Mã trường"].isin(read(series, name, "truong")["Mã trường"]).mean() < 1:
            found.add("school unknown")
        d = read(series, name, "diem_mon_hoc")
        sc = pd.to_numeric(d["Điểm"], errors="coerce")
        if ((sc > 10) | (sc < 0)).any():
            found.add("out of range")
        if d["Điểm"].dropna().str.fullmatch(r"\d+\.\d\d").any():
            found.add("two decimals")
        r = read(series, name, "phong_hoc")
        if r.groupby(["Mã trường", "Mã phòng"])["Cấp học"].nunique().max() > 1:
            found.add("room two levels")
        b = read(series, name, "bao_cao")
        if (b["Trạng thái"] == "Bị trả lại").any():
            found.add("returned")
        p = read(series, name, "ban_giay")
        if (p["Có chữ ký"] == "Không").any():
            found.add("unsigned")
        if (p["Có đóng dấu"] == "Không").any():
            found.add("unstamped")
    assert found == {"nfd", "zeros", "leading zero lost", "duplicate", "school unknown", "out of range",
                     "two decimals", "room two levels", "returned", "unsigned", "unstamped"}


def test_defect_rates_are_small():
    for kind, _field, rate, _rule in D.INFO_DEFECTS:
        assert 0.0005 <= rate <= 0.03, kind
    for kind, rate, _rule in D.RESULT_DEFECTS:
        assert 0.0005 <= rate <= 0.03, kind


# ---- scales -----------------------------------------------------------------------------------
def test_hcmc_population_sizes_without_writing():
    p = population_sizes("hcmc")
    total = p["students"].sum()
    assert abs(total - 1_725_530) / 1_725_530 < 0.01
    g12 = p[(p["grade"] == 12) & (p["status"] == "Đang học")]["students"].sum()
    assert abs(g12 - 82_000) / 82_000 < 0.05
    by_level = p.groupby(p["grade"].map(lambda g: "MN" if g == 0 else "TH" if g <= 5 else "THCS" if g <= 9 else "THPT"))["students"].sum()
    for level, approx in (("MN", 276_000), ("TH", 701_000), ("THCS", 488_000), ("THPT", 260_530)):
        assert abs(by_level[level] - approx) / approx < 0.02, level
    assert p["institutions"].iloc[0] == sum(x[1] for x in INSTITUTION_TYPES)
    assert 0.015 < (p[p["status"] != "Đang học"]["students"].sum() / total) < 0.05


def test_national_is_about_thirteen_times_hcmc():
    p = population_sizes("national")
    total = p["students"].sum()
    assert 12.5 < total / 1_725_530 < 13.5
    inst = p.groupby("chunk")["institutions"].first().sum()
    assert 45_000 < inst < 60_000
    chunks = chunks_for("national")
    codes = [d.code for c in chunks for d in c.districts]
    assert len(codes) == len(set(codes)) and all(re.fullmatch(r"\d{3}", c) for c in codes)
    assert {c.cccd_prefix for c in chunks} == set(pd.read_csv(ROOT / "data_access" / "reference" / "provinces.csv", dtype=str)["cccd_prefix"])


def test_completeness_gaps_are_planted(series):
    """sample_data/completeness_gaps.py: every incomplete domain has cases in every snapshot,
    the same ones (demo: 242 institutions -> 5 without principal, 7 without e-mail, 4 classes
    left out of lop, 11 staff without qualification, 2 rooms without level)."""
    for name in (NAMES[0], "2022-04-27T1700", NAMES[-1]):
        t = read(series, name, "truong")
        assert (t["Hiệu trưởng"].isna().sum(), t["Email"].isna().sum()) == (5, 7)
        assert read(series, name, "can_bo")["Trình độ"].isna().sum() == 11
        assert read(series, name, "phong_hoc")["Cấp học"].isna().sum() == 2
        hs, lop = read(series, name, "hoc_sinh"), read(series, name, "lop")
        named = set(zip(hs["Mã trường"], hs["Lớp"].fillna("")))
        listed = set(zip(lop["Mã trường"], lop["Tên lớp"]))
        missing = {code for code, cls in named - listed if cls and code in set(t["Mã trường"])}
        assert len(missing) == 4, missing
