"""Independent reference implementation of the compliance engine, in plain pandas.

Why it exists: the product computes every number with DuckDB views (data_access/sql/). This module
re-derives the same numbers from data_access/RULES.md alone, written without reading those views,
so that a test can compare both row for row on generated data. When they disagree, one of them
does not do what RULES.md says.

Only what decides "done" is re-implemented: the error-severity rules of entities student, score
and term_summary (warnings never block done, so RANK_INCONSISTENT, NAME_* warnings and
BIRTH_DATE_IMPLAUSIBLE are not computed), the report and paper rules, statuses, completed_at over
the snapshot history, days_late, at_risk and the roll-ups. Findings themselves (rule ids,
messages) are not produced: for done only "has any error" matters.

Style: vectorised pandas / numpy; the only Python loops run over requirements, programmes,
levels or snapshots, never over rows. The grade-12 results are evaluated on dense arrays
(student × grade × term × subject slot), which keeps the hcmc scale (~10 M score rows) in a few
hundred MB.

Public API (used by the agreement test):
- load_snapshot(path) -> dict of DataFrames (+ "as_of": pd.Timestamp)
- student_done(tables, campaign) -> school_code, requirement_id, expected, done
- progress(snapshots, as_of, campaign) -> one row per institution × applicable requirement
- rollup(progress_df, schools_df, by, campaign=None) -> one row per group × requirement
- completeness(tables, campaign, defs) -> one row per institution × domain of the completeness
  index (RULES.md "Completeness index"; defs = data_access.completeness.load_definitions())
- report_figures(snapshots, as_of, campaign) -> (figures, reports): each figure of a submitted
  report against the records at sending and now, and «khớp dữ liệu» per report (issue 15)

Readings of RULES.md where it leaves room (for the lead to settle; RULES.md is not edited here):
- paper: any receipt, even one not signed or stamped, makes a paper copy not done "in_progress"
  (settled in RULES.md).
- RPT_CSVC: a ROOM_MULTI_LEVEL at the institution keeps a sent report from done (campaign
  `blocked_by`; issue 12 point 4).
- addresses: "TP" and "TP." are one abbreviation (district and province); a word prefix
  (Quận, Phường, TT, TP ...) needs a space after it, a dotted one (Q., H., P., X., TP.) does not;
  "Q1"/"P5" are refused; province names are compared with their own spacing around hyphens.
- names: letters = ASCII A–Z, the Vietnamese precomposed letters and the apostrophe (' or ’,
  as in H'Hen Niê; settled in RULES.md); hyphens, tabs and other Latin letters are invalid.
- dates: d/m/yyyy (1–2 digit day and month) or yyyy-mm-dd (2 digits), optionally followed by
  " HH:MM[:SS]" (ISO also "T"), hour 1–2 digits and ≤ 23, no fraction of a second. Times
  (submitted_at): the same with the time required; a date alone is not a valid time.
- scores: trailing zeros do not count as decimals ("8.50" is 8.5; settled in RULES.md); ".5", "8.", "-1" are not
  numbers. Overall average: any number of decimals, tolerance inclusive (|x − avg| ≤ 0.05).
- several rows for the same student, grade, term (and subject) in the same latest school year:
  the highest `_row` is used; school years compare as text, NULL lowest; cohort_years unused.
- report row: the latest valid submitted_at; rows with an invalid or empty time count as the
  earliest; ties go to the highest `_row`.
- terms, subjects, statuses, signed/stamped compare exactly (no case or alias folding).
- ID: century code defined for 1900–2199 only (other years mismatch); an all-zero 9-digit value
  is also ID_FORMAT; ID_DUPLICATE looks at stored 12-digit values only.
- at_risk is computed exactly (integer milliseconds and hundredths of a percent); projected
  equal to the target is not at risk; s0's window [t − W, t) includes its start.
- snapshots with the same as_of keep the order of the list given; the last one is the newest.
"""
from __future__ import annotations

import os
import unicodedata
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from data_access.campaign import Campaign, load_campaign

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REF_DIR = Path(__file__).resolve().parent.parent / "data_access" / "reference"

LEVELS = ("MN", "TH", "THCS", "THPT", "GDTX")
RECORD_KINDS = ("student_info", "student_results")
TERMS = ("HK1", "HK2", "CN")
REPORT_DONE = ("Đã gửi", "Đã duyệt")
RANKS = ("Giỏi", "Khá", "Trung bình", "Yếu", "Kém")
CONDUCTS = ("Tốt", "Khá", "Trung bình", "Yếu")
RATINGS = ("Đ", "CĐ")
GENDERS = ("Nam", "Nữ")
YES = "Có"

PROGRESS_COLUMNS = ["school_code", "requirement_id", "expected", "done", "percent", "status",
                    "completed_at", "days_late", "at_risk", "timing_uncertain", "completed_after",
                    "changed_after_due"]
ROLLUP_COLUMNS = ["group", "requirement_id", "units_expected", "units_done", "units_done_on_time",
                  "completion_rate", "on_time_rate", "records_expected", "records_done"]
TS_DTYPE = "datetime64[us, Asia/Ho_Chi_Minh]"

for _s in (*REPORT_DONE, *RANKS, *CONDUCTS, *RATINGS, *GENDERS, YES):
    assert unicodedata.normalize("NFC", _s) == _s, _s


# ------------------------------------------------------------------------------------------
# Small exact helpers
# ------------------------------------------------------------------------------------------
def round1_tenths(num, den):
    """round1(num/den) half up, returned in integer tenths: floor((20·num + den) / (2·den)).

    RULES.md writes it floor((2a + b) / (2b)) with a the numerator already in tenths
    (a = 10·num); num, den ≥ 0 integers, den > 0."""
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    return (20 * num + den) // (2 * den)


def _ts(x) -> pd.Timestamp:
    t = pd.Timestamp(x)
    if t.tzinfo is None:
        t = t.tz_localize(TZ)
    return t.tz_convert(TZ)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    """A text column as pandas' str dtype (missing = NaN), whatever DuckDB handed over."""
    if name not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype="str")
    s = df[name]
    return s if s.dtype == "str" else s.astype("str")


def _present(s: pd.Series) -> pd.Series:
    return (s.notna() & (s != "")).astype(bool)


def _table(tables: dict, name: str) -> pd.DataFrame:
    df = tables.get(name)
    if df is None:
        return pd.DataFrame({"_row": pd.Series([], dtype="int64")})
    return df


def _parse_grade(s: pd.Series) -> pd.Series:
    """A student's grade as written: '12', '012', 'Khối 12', 'Lớp 12', 'K12' (case- and
    accent-free); anything else NaN."""
    m = _fold(s).str.extract(r"^(?:(?:khoi|lop) ?|k ?)?0*([0-9]{1,2})$")[0]
    return pd.to_numeric(m, errors="coerce").astype("float64")


def _parse_int(s: pd.Series) -> pd.Series:
    """Integer text ('12', '012'); anything else NaN (float Series)."""
    ok = s.str.fullmatch(r"[0-9]+").fillna(False).astype(bool)
    return pd.to_numeric(s.where(ok), errors="coerce").astype("float64")


_TIME = r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?"


def _parse_datetime(s: pd.Series, time_required: bool) -> pd.DataFrame:
    """Date (time optional) or time (time required) text -> columns y, m, d, H, M, S (float) and
    valid (bool). Accepted: d/m/yyyy (1–2 digit day and month) and yyyy-mm-dd, then (optionally
    for dates) ' HH:MM[:SS]' (ISO also 'T'); 1–2 digit hour. Impossible dates/times are invalid."""
    q = "" if time_required else "?"
    dmy = s.str.extract(rf"^([0-9]{{1,2}})/([0-9]{{1,2}})/([0-9]{{4}})(?: {_TIME}){q}$")
    iso = s.str.extract(rf"^([0-9]{{4}})-([0-9]{{2}})-([0-9]{{2}})(?:[ T]{_TIME}){q}$")
    num = lambda c: pd.to_numeric(c, errors="coerce").astype("float64")
    y = num(dmy[2]).fillna(num(iso[0]))
    m = num(dmy[1]).fillna(num(iso[1]))
    d = num(dmy[0]).fillna(num(iso[2]))
    use_dmy = dmy[2].notna()
    H = num(dmy[3]).where(use_dmy, num(iso[3]))
    M = num(dmy[4]).where(use_dmy, num(iso[4]))
    S = num(dmy[5]).where(use_dmy, num(iso[5]))
    yi = y.fillna(1).astype("int64").to_numpy()
    mi = m.fillna(1).clip(1, 12).astype("int64").to_numpy()
    leap = ((yi % 4 == 0) & (yi % 100 != 0)) | (yi % 400 == 0)
    dim = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[mi - 1] + ((mi == 2) & leap)
    valid = (y.notna() & (y >= 1) & m.between(1, 12) & (d >= 1) & (d <= dim)
             & (H.isna() | (H <= 23)) & (M.isna() | (M <= 59)) & (S.isna() | (S <= 59)))
    if time_required:
        valid &= H.notna()
    return pd.DataFrame({"y": y, "m": m, "d": d, "H": H.fillna(0), "M": M.fillna(0),
                         "S": S.fillna(0), "valid": valid.fillna(False).astype(bool)}, index=s.index)


def _to_local_ts(p: pd.DataFrame, with_time: bool) -> pd.Series:
    """Components from _parse_datetime -> aware local Timestamps (NaT where invalid)."""
    ok = p["valid"] & p["y"].between(1678, 2261)
    comp = pd.DataFrame({
        "year": p["y"].where(ok, 2000), "month": p["m"].where(ok, 1), "day": p["d"].where(ok, 1),
        "hour": p["H"].where(ok & with_time, 0), "minute": p["M"].where(ok & with_time, 0),
        "second": p["S"].where(ok & with_time, 0)}).astype("int64")
    ts = pd.to_datetime(comp, errors="coerce").dt.tz_localize(TZ).astype(TS_DTYPE)
    return ts.where(ok)


def parse_time(s: pd.Series) -> pd.Series:
    return _to_local_ts(_parse_datetime(s, time_required=True), with_time=True)


def parse_date(s: pd.Series) -> pd.Series:
    """Valid date -> local midnight of that date (time part dropped); else NaT."""
    return _to_local_ts(_parse_datetime(s, time_required=False), with_time=False)


def _fold(s: pd.Series) -> pd.Series:
    """Accent- and case-free, whitespace collapsed (đ -> d)."""
    out = s.str.normalize("NFD").str.replace("[\u0300-\u036f]", "", regex=True)
    out = out.str.replace("đ", "d").str.replace("Đ", "D").str.lower()
    return out.str.replace(r"\s+", " ", regex=True).str.strip()


def _status(s: pd.Series, campaign: Campaign | None) -> pd.Series:
    """A student's status as written -> the system's status of known_statuses it is (accent-,
    case- and white-space-free: 'đang học', 'ĐANG HỌC', 'Dang hoc', 'Đang  học' are 'Đang học'),
    NaN when it is none of them."""
    known = list(campaign.known_statuses) if campaign is not None else ["Đang học"]
    by_key = dict(zip(_fold(pd.Series(known, dtype="str")), known))
    return _fold(s.astype("str")).map(by_key)


def _fold_ethnic(s: pd.Series) -> pd.Series:
    """Case-, hyphen- and space-insensitive (accents kept)."""
    return s.str.lower().str.replace(r"[-\s]", "", regex=True)


# ------------------------------------------------------------------------------------------
# Reference lists
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _ref() -> dict:
    prov = pd.read_csv(REF_DIR / "provinces.csv", dtype=str, keep_default_na=False)
    eth = pd.read_csv(REF_DIR / "ethnic_groups.csv", dtype=str, keep_default_na=False)
    eth = eth[pd.to_numeric(eth["code_qd121_1979"], errors="coerce").between(1, 54)]
    names = pd.concat([eth["name"], eth["common_variants"].str.split(";").explode()])
    names = names.str.strip()
    names = names[names != ""].astype("str").str.normalize("NFC")
    base = _fold(prov["province_name"].astype("str").str.replace(r"^(Tỉnh|Thành phố)\s+", "", regex=True))
    provinces = set(base)
    # "TP" and "TP." are read as the same abbreviation (RULES.md lists TP. for the province, TP
    # for the district); see the report of ambiguities.
    for pre in ("tinh ", "thanh pho ", "tp. ", "tp.", "tp "):
        provinces |= {pre + b for b in base}
    provinces |= set(_fold(pd.Series(["TP.HCM", "TP. HCM", "TP HCM", "TPHCM", "Hồ Chí Minh", "Sài Gòn"], dtype="str")))
    letters = set("abcdefghijklmnopqrstuvwxyzđ")
    for b in "aăâeêioôơuưy":
        for tone in ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"):
            c = unicodedata.normalize("NFC", b + tone)
            assert len(c) == 1
            letters.add(c)
    letters |= {c.upper() for c in letters}
    return {
        "cccd_prefixes": frozenset(prov["cccd_prefix"]),
        # as province keys: hyphen/space variants of a name are one key (_province_key)
        "provinces_folded": frozenset(_province_key(pd.Series(sorted(provinces), dtype="str"))),
        "ethnic_folded": frozenset(_fold_ethnic(names)),
        "letters": "".join(sorted(letters)),
    }


# ------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------
_STR = pd.StringDtype("pyarrow", na_value=np.nan)     # pandas' default "str" dtype
_ARROW_TYPES = {pa.string(): _STR, pa.large_string(): _STR, pa.string_view(): _STR}


def load_snapshot(path, tables: tuple[str, ...] | None = None) -> dict:
    """Every table of a snapshot DuckDB file as a DataFrame (text columns as pandas str dtype,
    `_row` int), plus "as_of": the snapshot's as_of (aware Timestamp, Asia/Ho_Chi_Minh) read from
    `_meta`. `tables` restricts which tables are read (the default reads all)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        out: dict = {}
        for n in names:
            if tables is not None and n not in tables and n != "_meta":
                continue
            # Arrow then pandas: the same frame as .df(), ~8x faster on 10 M score rows.
            df = con.sql(f'SELECT * FROM "{n}"').to_arrow_table().to_pandas(types_mapper=_ARROW_TYPES.get)
            for c in df.columns:
                if c != "_row" and df[c].dtype != "str":
                    df[c] = df[c].astype("str")
            out[n] = df
    finally:
        con.close()
    meta = out["_meta"]
    out["as_of"] = _ts(meta.loc[meta["key"] == "as_of", "value"].iloc[0])
    return out


# ------------------------------------------------------------------------------------------
# Institutions and population
# ------------------------------------------------------------------------------------------
def _schools(schools: pd.DataFrame, campaign: Campaign | None) -> pd.DataFrame:
    """school_code, district_code, one bool column per level, level_group, prog (index of the
    institution's programme, -1 none) and applies__<requirement id>."""
    code = _col(schools, "school_code")
    out = pd.DataFrame({"school_code": code, "district_code": _col(schools, "district_code")})
    tok = _col(schools, "levels").str.upper().str.split(r"[;,]", regex=True).explode().str.strip()
    tok = tok[tok.isin(LEVELS)]
    flags = (pd.get_dummies(tok).groupby(level=0).any()
             .reindex(index=out.index, columns=list(LEVELS), fill_value=False).astype(bool))
    for lv in LEVELS:
        out[lv] = flags[lv].to_numpy()
    n = flags.sum(axis=1).to_numpy()
    single = flags.idxmax(axis=1).to_numpy() if len(flags) else np.array([], dtype=object)
    out["level_group"] = pd.Series(np.where(n == 1, single, np.where(n > 1, "LIEN_CAP", None)),
                                   index=out.index, dtype="str")
    if campaign is not None:
        conds = [out[list(p.when_levels_any)].any(axis=1) for p in campaign.programmes]
        out["prog"] = np.select(conds, range(len(conds)), -1) if conds else -1
        for r in campaign.requirements:
            out["applies__" + r.id] = out[list(r.applies_to_levels_any)].any(axis=1)
    return out[code.notna()]


def _population(tables: dict, campaign: Campaign, sch: pd.DataFrame) -> pd.DataFrame:
    """Students with the population status and grade at a known institution to which at least one
    record requirement applies; with the institution's programme and applies__ flags."""
    st = _table(tables, "students")
    grade = _parse_grade(_col(st, "grade"))
    mask = (_status(_col(st, "status"), campaign) == campaign.population_status).fillna(False) & (grade == campaign.population_grade)
    st = st[mask.to_numpy()]
    rec = [r for r in campaign.requirements if r.kind in RECORD_KINDS]
    keep = sch[sch[["applies__" + r.id for r in rec]].any(axis=1)] if rec else sch.iloc[0:0]
    cols = ["school_code", "prog"] + ["applies__" + r.id for r in rec]
    pop = st.merge(keep[cols], on="school_code", how="inner")
    return pop.reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# Student rules (entity student): error findings that block G12_INFO
# ------------------------------------------------------------------------------------------
def _id_valid(v: pd.Series, year: pd.Series, female: pd.Series, gender_ok: pd.Series,
              dup_values: set, sid: pd.Series | None = None, rightful: set = frozenset()) -> pd.Series:
    """True where the ID value passes every ID rule (9-digit CMND or 12-digit CCCD)."""
    ref = _ref()
    is9 = v.str.fullmatch(r"[0-9]{9}").fillna(False).astype(bool)
    is12 = v.str.fullmatch(r"[0-9]{12}").fillna(False).astype(bool)
    zero = v.str.fullmatch(r"0+").fillna(False).astype(bool)
    prov_ok = v.str.slice(0, 3).isin(ref["cccd_prefixes"])
    yv = year.notna()
    yi = year.fillna(0).astype("int64")
    century = pd.Series(np.where((yi >= 1900) & (yi <= 2199), (yi - 1900) // 100 * 2, -10), index=v.index)
    want4 = (century + female.astype("int64")).astype("str")
    cg_ok = ~(gender_ok & yv) | (v.str.slice(3, 4) == want4).fillna(False)
    by_ok = ~yv | (v.str.slice(4, 6) == (yi % 100).astype("str").str.zfill(2)).fillna(False)
    dup = v.isin(dup_values)
    if sid is not None and rightful:
        # the one holder whose number agrees with their own birth year and gender keeps it
        dup &= ~pd.Series([(a, b) in rightful for a, b in zip(sid, v)], index=v.index)
    ok12 = is12 & ~zero & prov_ok & cg_ok & by_ok & ~dup
    return ((is9 & ~zero) | ok12).astype(bool)


def _duplicate_ids(students: pd.DataFrame, status: str, campaign: Campaign | None = None) -> tuple[set, set]:
    """12-digit non-zero values held by more than one ENROLLED student_id (status = the
    population's, any grade; both ID columns), and the rightful (student_id, value) pairs: the
    only holder of a value whose digits 4-6 agree with their own birth year and gender."""
    st = students[(_status(_col(students, "status"), campaign) == status).fillna(False).to_numpy(dtype=bool)]
    sid = _col(st, "student_id")
    p = _parse_datetime(_col(st, "birth_date"), time_required=False)
    y = p["y"].where(p["valid"])
    g = _col(st, "gender")
    yi = y.fillna(0).astype("int64")
    code = ((yi // 100 - 19) * 2 + (g == "Nữ").fillna(False).astype("int64")).astype("str")
    yy = (yi % 100).astype("str").str.zfill(2)
    agree_ok = y.between(1900, 2399) & g.isin(GENDERS)
    parts = []
    for col in ("id_number", "personal_id"):
        v = _col(st, col)
        ag = agree_ok & (v.str.slice(3, 4) == code).fillna(False) & (v.str.slice(4, 6) == yy).fillna(False)
        parts.append(pd.DataFrame({"sid": sid, "v": v, "agree": ag.astype(bool)}))
    both = pd.concat(parts)
    both = both[both["v"].str.fullmatch(r"[0-9]{12}").fillna(False).astype(bool)
                & ~both["v"].str.fullmatch(r"0+").fillna(False).astype(bool)]
    h = both.groupby(["v", "sid"], as_index=False)["agree"].any()
    n = h.groupby("v")["sid"].size()
    dups = set(n[n > 1].index)
    h = h[h["v"].isin(dups)]
    n_agree = h.groupby("v")["agree"].sum()
    one = set(n_agree[n_agree == 1].index)
    r = h[h["agree"] & h["v"].isin(one)]
    return dups, set(zip(r["sid"], r["v"]))


# Every whitespace character the address reading treats as a space (an explicit class: Python's
# \s and DuckDB's RE2 \s differ; U+00A0 from a web form or Word is the common one).
_ADDR_SPACE = "[\t\n\x0b\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _address_parts(addr: pd.Series) -> pd.Series:
    """Comma-separated parts of an address as people write it: Unicode spaces read as spaces,
    trailing dots/spaces dropped (`TP.HCM.`), a trailing country part (`Việt Nam`, `Viet Nam`,
    any case) dropped."""
    a = addr.str.replace(_ADDR_SPACE, " ", regex=True).str.replace(r"[ .]+$", "", regex=True)
    parts = a.str.split(",")
    last = _fold(parts.str[-1].astype("str"))
    country = last.isin(["viet nam", "vietnam"]) & parts.str.len().gt(1)
    dropped = parts.str[:-1].str.join(",").str.replace(r"[ .]+$", "", regex=True).str.split(",")
    return parts.where(~country.fillna(False).astype(bool), dropped)


def _province_key(f: pd.Series) -> pd.Series:
    """Hyphens and dashes read as spaces, spaces collapsed (`Bà Rịa-Vũng Tàu` = `Bà Rịa - Vũng
    Tàu`, `Thừa Thiên - Huế` = `Thừa Thiên Huế`)."""
    return f.str.replace("[-\u2013\u2014]", " ", regex=True).str.replace(" +", " ", regex=True).str.strip()


def _address_ok(addr: pd.Series) -> pd.Series:
    """Comma-separated parts ending in ward, district, province (compared without accents/case)."""
    ref = _ref()
    parts = _address_parts(addr)
    prov = _province_key(_fold(parts.str[-1].astype("str")))
    dist = _fold(parts.str[-2].astype("str"))
    ward = _fold(parts.str[-3].astype("str"))
    ok_p = prov.isin(ref["provinces_folded"])
    ok_d = dist.str.fullmatch(r"(?:(?:quan|huyen|thi xa|thanh pho|tp|tx) |(?:q|h|tp|tx)\. ?)\S.*")
    ok_w = ward.str.fullmatch(r"(?:(?:phuong|xa|thi tran|tt) |(?:p|x|tt)\. ?)\S.*")
    ok = ok_p & ok_d.fillna(False).astype(bool) & ok_w.fillna(False).astype(bool)
    return (ok & parts.str.len().ge(3)).fillna(False).astype(bool)


def _info_ok(pop: pd.DataFrame, all_students: pd.DataFrame, campaign: Campaign | None = None,
             as_of: pd.Timestamp | None = None) -> np.ndarray:
    """Per population student: True when it has no error finding of entity student."""
    ref = _ref()
    name, bd, gender = _col(pop, "full_name"), _col(pop, "birth_date"), _col(pop, "gender")
    eth, addr = _col(pop, "ethnicity"), _col(pop, "permanent_address")
    idn, pid = _col(pop, "id_number"), _col(pop, "personal_id")

    present = (_present(name) & _present(bd) & _present(gender) & _present(eth) & _present(addr)
               & (_present(idn) | _present(pid)))
    L = ref["letters"]
    name_ok = (name.str.fullmatch(f"[{L}'’ ]+").fillna(False).astype(bool)
               & name.str.fullmatch(r" *[^ ]+ +[^ ].*").fillna(False).astype(bool))
    gender_ok = gender.isin(GENDERS)
    p = _parse_datetime(bd, time_required=False)
    birth_ok = p["valid"]
    eth_ok = _fold_ethnic(eth).isin(ref["ethnic_folded"])
    year = p["y"].where(birth_ok)
    female = (gender == "Nữ").fillna(False).astype(bool)
    status = campaign.population_status if campaign is not None else "Đang học"
    dups, rightful = _duplicate_ids(all_students, status, campaign)
    sid = _col(pop, "student_id")
    id_ok = (_id_valid(idn, year, female, gender_ok, dups, sid, rightful) & _present(idn)) | \
            (_id_valid(pid, year, female, gender_ok, dups, sid, rightful) & _present(pid))
    # BIRTH_DATE_IMPOSSIBLE: after the snapshot's as-of date, or younger than the minimum age on
    # the first day of the school year
    if campaign is not None:
        bdate = pd.to_datetime(pd.DataFrame({"year": p["y"].where(birth_ok, 2000), "month": p["m"].where(birth_ok, 1),
                                             "day": p["d"].where(birth_ok, 1)}).astype("int64"), errors="coerce")
        start = pd.Timestamp(campaign.start_date)
        latest = start.replace(year=start.year - campaign.min_age_at_start)
        impossible = birth_ok & (bdate > latest)
        if as_of is not None:
            impossible |= birth_ok & (bdate > pd.Timestamp(as_of.tz_convert(TZ).date()))
        birth_ok = birth_ok & ~impossible
    addr_ok = _address_ok(addr)
    ok = present & name_ok & gender_ok & birth_ok & eth_ok & id_ok & addr_ok
    return ok.to_numpy(dtype=bool)


# ------------------------------------------------------------------------------------------
# Results rules (entities score, term_summary): error findings that block G12_RESULTS_*
# ------------------------------------------------------------------------------------------
def _score_tenths(s: pd.Series) -> np.ndarray:
    """Score text -> integer tenths when a valid score (number 0..10, at most one decimal), else -1."""
    m = s.str.extract(r"^([0-9]+)(?:[.,]([0-9]+))?$")
    frac = m[1].str.rstrip("0")  # trailing zeros do not count as decimals: 8.50 is 8.5
    ok = m[0].notna() & (m[1].isna() | (frac.str.len() <= 1))
    ip = pd.to_numeric(m[0], errors="coerce")
    fp = pd.to_numeric(frac.where(frac.str.len() > 0), errors="coerce").fillna(0)
    tenths = ip * 10 + fp
    ok &= tenths <= 100
    return np.where(ok.fillna(False).to_numpy(dtype=bool), tenths.fillna(-1).to_numpy(), -1).astype(np.int64)


def _number(s: pd.Series) -> pd.Series:
    """A decimal number text ('8', '8.25', '8,5') -> float; else NaN."""
    ok = s.str.fullmatch(r"[0-9]+(?:[.,][0-9]+)?").fillna(False).astype(bool)
    return pd.to_numeric(s.where(ok).str.replace(",", "."), errors="coerce").astype("float64")


def _codes(s: pd.Series, mapper) -> np.ndarray:
    """Vectorised lookup through the distinct values: mapper(uniques Series) -> int array per
    unique; -1 for missing values."""
    codes, uniq = pd.factorize(s)
    if len(uniq) == 0:
        return np.full(len(s), -1, dtype=np.int64)
    table = np.asarray(mapper(pd.Series(uniq, dtype="str")), dtype=np.int64)
    return np.where(codes >= 0, table[np.maximum(codes, 0)], -1)


def _latest(key: np.ndarray, year_rank: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Positions of the row kept per key: latest school year, then the highest _row."""
    order = np.lexsort((row, year_rank, key))
    ks = key[order]
    last = np.ones(len(ks), dtype=bool)
    last[:-1] = ks[1:] != ks[:-1]
    return order[last]


def _year_rank(s: pd.Series) -> np.ndarray:
    def rank(u: pd.Series):
        return u.rank(method="dense").astype("int64").to_numpy()
    return _codes(s, rank)


# Separators of a school year as people type them: '2021-2022', '2021–2022' (en dash), '2021 — 2022',
# '2021/2022', '2021 - 2022' are one year, read as '2021-2022' (RULES.md "Results").
YEAR_SEPARATORS = r"^\s*([0-9]{4})\s*[-\u2013\u2014/]\s*([0-9]{4})\s*$"
# Terms as people write them, folded (accents, case) and without spaces and dots.
TERM_TEXTS = {"hk1": "HK1", "hki": "HK1", "hocky1": "HK1", "hockyi": "HK1",
              "hk2": "HK2", "hkii": "HK2", "hocky2": "HK2", "hockyii": "HK2",
              "cn": "CN", "canam": "CN"}


def canon_year(s: pd.Series) -> pd.Series:
    """A results row's school year with its separator read: '2021–2022' -> '2021-2022'."""
    return s.str.replace(YEAR_SEPARATORS, r"\1-\2", regex=True)


def parse_term(s: pd.Series) -> pd.Series:
    """A results row's term as written ('HK 2', 'HKII', 'Học kỳ 2', 'Cả năm', 'hk1') -> HK1,
    HK2 or CN; anything else NaN."""
    return _fold(s).str.replace(r"[\s.]", "", regex=True).map(TERM_TEXTS)


def _year_counts(years: pd.Series, grade_idx: np.ndarray, grades: list, campaign: Campaign) -> np.ndarray:
    """Per results row: may its school year count for its grade? The population's grade only
    from the campaign's results year ([cohort_years], 2021-2022), lower grades only from a
    well-formed earlier year ('yyyy-yyyy', second = first + 1, separators read by canon_year;
    which one of them is used: see _results_ok). Rows with grade_idx < 0: False."""
    cur = campaign.results_year

    def flags(u: pd.Series) -> np.ndarray:
        u = canon_year(u)
        m = u.str.fullmatch(r"[0-9]{4}-[0-9]{4}")   # [0-9]: RE2's \d in SQL is ASCII only
        ok = m & (pd.to_numeric(u.str[5:9], errors="coerce") == pd.to_numeric(u.str[0:4], errors="coerce") + 1)
        ok = ok.fillna(False).to_numpy(dtype=bool)
        return np.where(ok & (u.to_numpy() == cur), 1, np.where(ok & (u.to_numpy() < cur), 2, 0))

    code = _codes(years, flags)                          # 1 current, 2 earlier, 0 / -1 neither
    is_pop = np.array([g == campaign.population_grade for g in grades] + [False])[grade_idx]
    return np.where(grade_idx >= 0, np.where(is_pop, code == 1, code == 2), False)


def _first_year(years: pd.Series) -> np.ndarray:
    """First calendar year of a (separator-read) school year, -1 when not 4 digits."""
    return _codes(years, lambda u: pd.to_numeric(canon_year(u).str[0:4], errors="coerce")
                  .where(canon_year(u).str.match(r"[0-9]{4}-"), -1).fillna(-1).astype("int64").to_numpy())


def _usable_year(years: pd.Series, grade: pd.Series, campaign: Campaign) -> np.ndarray:
    """_year_counts for a Series of parsed grades (NaN: False)."""
    grades = sorted({int(x) for x in grade.dropna().unique()})
    gi = grade.map({float(x): i for i, x in enumerate(grades)}).fillna(-1).astype("int64").to_numpy()
    return _year_counts(years, gi, grades, campaign)


def results_years_used(tables: dict, campaign: Campaign) -> dict:
    """(student_id, grade) -> first calendar year of the school year used for that grade: the
    latest usable year among ALL its results rows (scores of any subject and summaries) with a
    readable grade and term (rev12b finding 2)."""
    best: dict = {}
    for name in ("subject_scores", "term_summaries"):
        t = _table(tables, name)
        if not len(t):
            continue
        g = _parse_grade(_col(t, "grade"))
        ok = (_usable_year(_col(t, "school_year"), g, campaign) & parse_term(_col(t, "term")).notna().to_numpy()
              & _col(t, "student_id").notna().to_numpy())
        df = pd.DataFrame({"s": _col(t, "student_id"), "g": g, "y": _first_year(_col(t, "school_year"))})[ok]
        for k, y in df.groupby(["s", "g"])["y"].max().items():
            best[k] = max(best.get(k, -1), int(y))
    return best


def _results_ok(pop: pd.DataFrame, tables: dict, campaign: Campaign) -> dict[str, np.ndarray]:
    """Per results requirement: bool array over pop, True when the student has no error finding of
    entity score/term_summary in the requirement's (grade, term) set."""
    reqs = [r for r in campaign.requirements if r.kind == "student_results"]
    if not reqs:
        return {}
    n = len(pop)
    grades = sorted({g for r in reqs for g, _ in r.terms})
    G, T = len(grades), len(TERMS)
    progs = campaign.programmes
    P = len(progs)
    S = max([len(p.scored) + len(p.rated) for p in progs] + [1])
    scored = np.zeros((P + 1, S), dtype=bool)     # row P: no programme (nothing required)
    required = np.zeros((P + 1, S), dtype=bool)
    for i, p in enumerate(progs):
        scored[i, :len(p.scored)] = True
        # only scored subjects are required ("môn học có tính điểm"); a rated subject's rating,
        # even an invalid one, is a warning at most
        required[i, :len(p.scored)] = True
    n_scored = scored.sum(axis=1)
    prog = pop["prog"].to_numpy().astype(np.int64)
    prog = np.where(prog < 0, P, prog)
    sid_index = pd.Index(_col(pop, "student_id"))

    def grade_idx(u):
        # read like a student's grade ('Khối 12', 'Lớp 12', 'K12', '012'; rev12b finding 14)
        g = _parse_grade(u)
        return g.map({float(x): i for i, x in enumerate(grades)}).fillna(-1).to_numpy()

    def term_idx(u):
        return parse_term(u).map({t: i for i, t in enumerate(TERMS)}).fillna(-1).to_numpy()

    def subject_lut(u: pd.Series) -> np.ndarray:
        lut = np.full((P + 1, len(u)), -1, dtype=np.int64)
        for i, p in enumerate(progs):
            slots = {s: j for j, s in enumerate(list(p.scored) + list(p.rated))}
            lut[i] = u.map(slots).fillna(-1).to_numpy()
        return lut

    sc = _table(tables, "subject_scores")
    ts = _table(tables, "term_summaries")

    # -- the school year used per (student, grade): for a lower grade, the latest earlier year
    # with ANY results row of that grade (scores or summaries, any subject), judged as a whole:
    # nothing missing there is taken from an older year (rev12b finding 2). Grade 12: its one
    # year. Rows of another year are not used.
    chosen = np.full(max(n * G, 1), -1, dtype=np.int64)
    usable = {}
    for name, t in (("sc", sc), ("ts", ts)):
        if not (len(t) and n):
            continue
        sid = _codes(_col(t, "student_id"), sid_index.get_indexer)
        gi = _codes(_col(t, "grade"), grade_idx)
        ti = _codes(_col(t, "term"), term_idx)
        ok = (sid >= 0) & (gi >= 0) & (ti >= 0) & _year_counts(_col(t, "school_year"), gi, grades, campaign)
        fy = _first_year(_col(t, "school_year"))
        k2 = np.where(ok, sid.astype(np.int64) * G + gi, 0)
        np.maximum.at(chosen, k2[ok], fy[ok])
        usable[name] = (sid, gi, ti, ok, fy, k2)

    def in_chosen(name):
        sid, gi, ti, ok, fy, k2 = usable[name]
        return ok & (fy == chosen[k2])

    # -- subject scores: dense arr[student, grade, term, slot] = tenths / rating ok (1) / -1 --
    # Every column is turned into integer codes through its distinct values, then only numpy
    # arrays are filtered (no row-wise work, no copies of the text columns).
    arr = np.full(n * G * T * S, -1, dtype=np.int16)
    if len(sc) and n:
        sid, gi, ti = usable["sc"][:3]
        scodes, suniq = pd.factorize(_col(sc, "subject"))
        lut = subject_lut(pd.Series(suniq, dtype="str"))
        ok_row = (scodes >= 0) & in_chosen("sc")
        idx = np.flatnonzero(ok_row)
        pr = prog[sid[idx]]
        slot = lut[pr, scodes[idx]] if len(suniq) else np.full(len(idx), -1)
        keep = slot >= 0
        idx, pr, slot = idx[keep], pr[keep], slot[keep]
        key = ((sid[idx].astype(np.int64) * G + gi[idx]) * T + ti[idx]) * S + slot
        pick = _latest(key, np.zeros(len(idx), dtype=np.int64), sc["_row"].to_numpy()[idx])
        idx, key, slot, pr = idx[pick], key[pick], slot[pick], pr[pick]
        tenths = _codes(_col(sc, "score"), _score_tenths)[idx]
        rating_ok = _codes(_col(sc, "rating"), lambda u: u.isin(RATINGS).to_numpy(dtype=np.int64))[idx] == 1
        arr[key] = np.where(scored[pr, slot], tenths, np.where(rating_ok, 1, -1))
    arr = arr.reshape(n, G, T, S)

    valid = arr >= 0
    req_m = required[prog][:, None, None, :]
    sc_m = scored[prog][:, None, None, :]
    subjects_ok = (valid | ~req_m).all(axis=-1)                                     # n, G, T
    total = np.where(valid & sc_m, arr.astype(np.int64), 0).sum(axis=-1)            # tenths
    nsc = n_scored[prog][:, None, None]
    mean_r = (2 * total + nsc) // np.maximum(2 * nsc, 1)                             # round1, tenths
    h1, h2, cn = (arr[:, :, i, :].astype(np.int64) for i in range(3))
    chk = (h1 >= 0) & (h2 >= 0) & (cn >= 0) & scored[prog][:, None, :]
    year_bad = (chk & (cn != (2 * (h1 + 2 * h2) + 3) // 6)).any(axis=-1)             # n, G
    del arr, valid, total, h1, h2, cn, chk

    # -- term summaries: dense ok / overall average per (student, grade, term) --
    summ_ok = np.zeros(n * G * T, dtype=bool)
    avg = np.full(n * G * T, np.nan)
    if len(ts) and n:
        sid, gi, ti = usable["ts"][:3]
        idx = np.flatnonzero(in_chosen("ts"))
        key = (sid[idx].astype(np.int64) * G + gi[idx]) * T + ti[idx]
        pick = _latest(key, np.zeros(len(idx), dtype=np.int64), ts["_row"].to_numpy()[idx])
        idx, key = idx[pick], key[pick]
        a = _number(_col(ts, "overall_average")).to_numpy()[idx]
        ok = ((a >= 0) & (a <= 10)
              & _col(ts, "academic_rank").isin(RANKS).to_numpy(dtype=bool)[idx]
              & _col(ts, "conduct").isin(CONDUCTS).to_numpy(dtype=bool)[idx])
        summ_ok[key] = ok
        avg[key] = a
    summ_ok = summ_ok.reshape(n, G, T)
    avg = avg.reshape(n, G, T)
    with np.errstate(invalid="ignore"):
        avg_ok = (nsc == 0) | (np.abs(avg * 10 - mean_r) <= 0.5 + 1e-9)

    ok = summ_ok & subjects_ok & avg_ok
    ok[:, :, TERMS.index("CN")] &= ~year_bad

    out = {}
    for r in reqs:
        gi = [grades.index(g) for g, _ in r.terms]
        ti = [TERMS.index(t) for _, t in r.terms]
        out[r.id] = ok[:, gi, ti].all(axis=1) if r.terms else np.ones(n, dtype=bool)
    return out


# ------------------------------------------------------------------------------------------
# Done per institution
# ------------------------------------------------------------------------------------------
def _student_done(tables: dict, campaign: Campaign, sch: pd.DataFrame) -> pd.DataFrame:
    rec = [r for r in campaign.requirements if r.kind in RECORD_KINDS]
    cols = ["school_code", "requirement_id", "expected", "done"]
    if not rec:
        return pd.DataFrame(columns=cols)
    pop = _population(tables, campaign, sch)
    flags = {}
    if any(r.kind == "student_info" for r in rec):
        info = _info_ok(pop, _table(tables, "students"), campaign, tables.get("as_of"))
        flags.update({r.id: info for r in rec if r.kind == "student_info"})
    flags.update(_results_ok(pop, tables, campaign))
    parts = []
    for r in rec:
        applies = pop["applies__" + r.id].to_numpy(dtype=bool)
        counts = pd.DataFrame({"school_code": pop["school_code"][applies],
                               "ok": flags[r.id][applies].astype(np.int64)})
        agg = counts.groupby("school_code").agg(expected=("ok", "size"), done=("ok", "sum"))
        units = sch.loc[sch["applies__" + r.id], ["school_code"]]
        u = units.merge(agg, left_on="school_code", right_index=True, how="left")
        u["requirement_id"] = r.id
        parts.append(u)
    out = pd.concat(parts, ignore_index=True)
    out[["expected", "done"]] = out[["expected", "done"]].fillna(0).astype("int64")
    # Rows that may be in the population but cannot be placed (unreadable grade or status):
    # counted in expected, never done.
    st = _table(tables, "students")
    grade = _parse_grade(_col(st, "grade"))
    status = _status(_col(st, "status"), campaign)
    status_bad = status.isna()
    unplaced = ((grade.isna() | status_bad)
                & (grade.isna() | (grade == campaign.population_grade))
                & (status_bad | (status == campaign.population_status)))
    pop_schools = set(sch.loc[sch[["applies__" + r.id for r in rec]].any(axis=1), "school_code"])
    codes = _col(st, "school_code")[unplaced.fillna(False).to_numpy(dtype=bool)]
    n = codes[codes.isin(pop_schools)].value_counts()
    out["expected"] += out["school_code"].map(n).fillna(0).astype("int64")
    return _sort(out[cols], campaign)


def _sort(df: pd.DataFrame, campaign: Campaign) -> pd.DataFrame:
    order = {r.id: r.order for r in campaign.requirements}
    df = df.assign(_o=df["requirement_id"].map(order))
    first = "group" if "group" in df.columns else "school_code"
    return df.sort_values([first, "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def student_done(tables: dict, campaign: Campaign) -> pd.DataFrame:
    """One row per institution × record requirement that applies to it (expected 0 included):
    school_code, requirement_id, expected (population size), done (no error finding)."""
    sch = _schools(_table(tables, "schools"), campaign)
    return _student_done(tables, campaign, sch)


def _report_rows(tables: dict) -> pd.DataFrame:
    """The institution's row per report: latest valid submitted_at (invalid/empty ones count as
    the earliest), ties broken by the highest _row. A time after the snapshot's as-of is not a
    valid time there (a send that had not happened when the extract was taken)."""
    rep = _table(tables, "reports")
    at = parse_time(_col(rep, "submitted_at"))
    as_of = tables.get("as_of")
    if as_of is not None and not pd.isna(as_of):
        at = at.where(~(at > as_of))
    df = pd.DataFrame({"school_code": _col(rep, "school_code"), "report_code": _col(rep, "report_code"),
                       "status": _col(rep, "status"), "at": at,
                       "_row": rep["_row"].to_numpy() if "_row" in rep else 0}, index=rep.index)
    df = df.sort_values(["school_code", "report_code", "at", "_row"], na_position="first", kind="stable")
    df = df.drop_duplicates(["school_code", "report_code"], keep="last")
    df["ok"] = df["status"].isin(REPORT_DONE) & df["at"].notna()
    return df


def _paper_rows(tables: dict) -> pd.DataFrame:
    """Earliest valid receipt (signed and stamped, valid received_on) per institution × report."""
    pc = _table(tables, "paper_copies")
    df = pd.DataFrame({"school_code": _col(pc, "school_code"), "report_code": _col(pc, "report_code"),
                       "on": parse_date(_col(pc, "received_on"))}, index=pc.index)
    ok = (_col(pc, "signed") == YES) & (_col(pc, "stamped") == YES) & df["on"].notna()
    return df[ok.fillna(False).to_numpy(dtype=bool)].groupby(
        ["school_code", "report_code"], as_index=False)["on"].min()


def _multi_level_schools(tables: dict) -> set:
    """Institutions of the snapshot with a room declared under two or more levels (levels
    trimmed and upper-cased, empty ignored)."""
    rm = _table(tables, "rooms")
    df = pd.DataFrame({"s": _col(rm, "school_code"), "r": _col(rm, "room_code"),
                       "l": _col(rm, "level").str.strip().str.upper()})
    df = df[df["l"].notna() & (df["l"] != "") & df["r"].notna()]
    n = df.drop_duplicates().groupby(["s", "r"])["l"].nunique()
    known = set(_col(_table(tables, "schools"), "school_code").dropna())
    return {s for (s, _), k in n.items() if k > 1 and s in known}


def _units(tables: dict, campaign: Campaign) -> pd.DataFrame:
    """Every institution × applicable requirement of one snapshot: expected, done, tenths
    (percent in tenths), is_done, completed_at (reports/papers: from the data), active
    (something started: done > 0, or for reports a row exists)."""
    sch = _schools(_table(tables, "schools"), campaign)
    parts = []
    rec = _student_done(tables, campaign, sch)
    rec["completed_at"] = pd.Series(pd.NaT, index=rec.index, dtype=TS_DTYPE)
    rec["active"] = rec["done"] > 0
    rec["sent"] = False
    rec["blocked"] = pd.Series(None, index=rec.index, dtype=object)
    parts.append(rec)
    reports = _report_rows(tables) if any(r.kind == "report" for r in campaign.requirements) else None
    papers = _paper_rows(tables) if any(r.kind == "paper" for r in campaign.requirements) else None
    for r in campaign.requirements:
        if r.kind not in ("report", "paper"):
            continue
        u = sch.loc[sch["applies__" + r.id], ["school_code"]].copy()
        if r.kind == "report":
            rows = reports[reports["report_code"] == r.report_code]
            u = u.merge(rows[["school_code", "ok", "at"]], on="school_code", how="left")
            u["active"] = u["ok"].notna()
            u["done"] = u["ok"].eq(True).astype("int64")
            u["sent"] = u["ok"].eq(True)
            u["blocked"] = pd.Series(False if r.blocked_by else None, index=u.index, dtype=object)
            if "ROOM_MULTI_LEVEL" in r.blocked_by:
                # a sent report is not done while a room is declared under two levels; without a
                # phong_hoc file the rule cannot be checked (blocked unknown)
                multi = u["school_code"].isin(_multi_level_schools(tables))
                u.loc[multi, "done"] = 0
                files = tables.get("_files")
                absent = files is not None and bool(((files["table_name"] == "rooms")
                                                     & (files["present"].astype(str).str.lower() == "false")).any())
                u["blocked"] = pd.Series([None if (absent and not m) else bool(m) for m in multi],
                                         index=u.index, dtype=object)
            u["completed_at"] = u["at"].where(u["done"] == 1).astype(TS_DTYPE)
        else:
            rows = papers[papers["report_code"] == r.report_code]
            u = u.merge(rows[["school_code", "on"]], on="school_code", how="left")
            u["done"] = u["on"].notna().astype("int64")
            # Any receipt, even unsigned or unstamped, means the paper copy is under way.
            pc = _table(tables, "paper_copies")
            got = set(_col(pc, "school_code")[_col(pc, "report_code") == r.report_code].dropna())
            u["active"] = (u["done"] > 0) | u["school_code"].isin(got)
            u["completed_at"] = u["on"].astype(TS_DTYPE)
        u["requirement_id"] = r.id
        u["expected"] = 1
        if r.kind != "report":
            u["sent"] = False
            u["blocked"] = pd.Series(None, index=u.index, dtype=object)
        parts.append(u[["school_code", "requirement_id", "expected", "done", "completed_at", "active",
                        "sent", "blocked"]])
    out = pd.concat(parts, ignore_index=True)
    exp = out["expected"].to_numpy(dtype=np.int64)
    out["tenths"] = np.where(exp > 0, round1_tenths(100 * out["done"].to_numpy(dtype=np.int64), np.maximum(exp, 1)), 0)
    target = out["requirement_id"].map({r.id: r.target_percent for r in campaign.requirements})
    # Done compares the counts, never the rounded percent (1,999 of 2,000 shows 100.0 % and is
    # not done); with the default target 100 this is done = expected.
    out["is_done"] = (exp > 0) & (100 * out["done"].to_numpy(dtype=np.int64) >= target.to_numpy(dtype=float) * exp)
    return _sort(out, campaign)


_UNITS_CACHE: dict = {}


def _units_cached(path: str, campaign: Campaign) -> pd.DataFrame:
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_mtime_ns, st.st_size, repr(campaign))
    if key not in _UNITS_CACHE:
        if len(_UNITS_CACHE) > 64:
            _UNITS_CACHE.clear()
        tables = load_snapshot(path, tables=("schools", "students", "subject_scores", "term_summaries",
                                             "reports", "paper_copies", "rooms", "_files"))
        _UNITS_CACHE[key] = _units(tables, campaign)
        del tables
    return _UNITS_CACHE[key]


# ------------------------------------------------------------------------------------------
# Progress at an as-of time
# ------------------------------------------------------------------------------------------
def _empty_progress() -> pd.DataFrame:
    return pd.DataFrame({
        "school_code": pd.Series([], dtype="str"), "requirement_id": pd.Series([], dtype="str"),
        "expected": pd.Series([], dtype="int64"), "done": pd.Series([], dtype="int64"),
        "percent": pd.Series([], dtype="float64"), "status": pd.Series([], dtype="str"),
        "completed_at": pd.Series([], dtype=TS_DTYPE), "days_late": pd.Series([], dtype="int64"),
        "at_risk": pd.Series([], dtype="bool"), "timing_uncertain": pd.Series([], dtype="bool"),
        "completed_after": pd.Series([], dtype=TS_DTYPE),
        "changed_after_due": pd.Series([], dtype="bool")})


def _ms(ts) -> np.ndarray:
    """Aware timestamps -> integer milliseconds since epoch (NaT -> min int64)."""
    s = pd.Series(ts).astype(TS_DTYPE).dt.tz_convert("UTC").dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ms]").view("int64")


def progress(snapshots, as_of, campaign: Campaign) -> pd.DataFrame:
    """Progress of every institution × applicable requirement at `as_of`.

    snapshots: (as_of, path) of the visible snapshots of the store. The evaluated snapshot is the
    newest with as_of ≤ `as_of`; t is that snapshot's as_of; the history is every listed snapshot
    with as_of ≤ t, in time order."""
    as_of = _ts(as_of)
    snaps = sorted(((_ts(a), str(p)) for a, p in snapshots), key=lambda x: x[0])
    vis = [s for s in snaps if s[0] <= as_of]
    if not vis:
        return _empty_progress()
    t = vis[-1][0]
    hist = [(a, _units_cached(p, campaign)) for a, p in vis]
    cur = hist[-1][1].copy()
    if cur.empty:
        return _empty_progress()
    key = pd.MultiIndex.from_frame(cur[["school_code", "requirement_id"]])
    reqs = {r.id: r for r in campaign.requirements}
    kind = cur["requirement_id"].map({r.id: r.kind for r in campaign.requirements})
    is_record = kind.isin(RECORD_KINDS).to_numpy()

    # Per snapshot, aligned to the current units: held (absent: not done), observed, the log's
    # time (reports/papers), held back by a blocking rule. A sent report whose blocking table
    # is missing while the last check saw it held back is not observed (done 0, skipped).
    NONE = np.iinfo(np.int64).min
    m, n = len(cur), len(hist)
    H = np.zeros((n, m), bool); O = np.ones((n, m), bool); B = np.zeros((n, m), bool)
    EV = np.full((n, m), NONE, dtype=np.int64)
    A = np.array([a.value for a, _ in hist], dtype=np.int64)
    last_blk = np.zeros(m, bool)                        # last known block state (True/False)
    cur_done_eff = None
    for i, (a, u) in enumerate(hist):
        ui = u.set_index(["school_code", "requirement_id"]).reindex(key)
        present = ui["expected"].notna().to_numpy()
        blk = ui["blocked"].to_numpy(dtype=object)
        known = np.array([v is not None and v == v and not pd.isna(v) for v in blk]) & present
        blk_b = np.array([bool(v) if k else False for v, k in zip(blk, known)])
        sent = ui["sent"].fillna(False).to_numpy(dtype=bool) & present
        is_rep = (kind == "report").to_numpy()
        obs = ~(is_rep & present & ~known & sent & last_blk & np.array(
            [r.blocked_by != () for r in (reqs[x] for x in cur["requirement_id"])]))
        held = ui["is_done"].fillna(False).to_numpy(dtype=bool) & obs
        ev = (ui["completed_at"].astype(TS_DTYPE).dt.tz_convert("UTC").dt.tz_localize(None)
              .to_numpy(dtype="datetime64[ns]").view("int64"))
        H[i], O[i], B[i] = held, obs, blk_b & obs
        EV[i] = np.where(obs, ev, NONE)
        last_blk = np.where(known, blk_b, last_blk)
        if i == n - 1:
            cur_done_eff = obs
    # unobserved current rows: done 0
    cur = cur.copy()
    cur.loc[~cur_done_eff, "done"] = 0
    cur.loc[~cur_done_eff, "is_done"] = False
    exp_c = cur["expected"].to_numpy(dtype=np.int64)
    cur["tenths"] = np.where(exp_c > 0, round1_tenths(100 * cur["done"].to_numpy(dtype=np.int64), np.maximum(exp_c, 1)), 0)

    due = cur["requirement_id"].map(lambda rid: pd.Timestamp(reqs[rid].due) if reqs[rid].due else pd.NaT)
    due = pd.to_datetime(due, utc=True).dt.tz_convert(TZ).astype(TS_DTYPE)
    has_due = due.notna().to_numpy()
    due_ns = (due.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view("int64"))
    t_ns = t.value
    idx = np.arange(n)[:, None]
    # last observed; P = last observed at or before d
    last_obs = np.where(O, idx, -1).max(axis=0)
    p_idx = np.where(O & (A[:, None] <= due_ns[None, :]) & has_due[None, :], idx, -1).max(axis=0)
    cols = np.arange(m)
    held_p = (p_idx >= 0) & H[np.maximum(p_idx, 0), cols]
    after_p = O & H & (idx > p_idx[None, :])
    first_after = np.where(after_p.any(axis=0), np.where(after_p, idx, n).min(axis=0), -1)
    now_rule = ~has_due | (t_ns <= due_ns) | (p_idx < 0)
    met = ~now_rule & held_p
    anchor = np.where(now_rule, last_obs, np.where(held_p, p_idx, first_after))
    ok_a = anchor >= 0
    ai = np.maximum(anchor, 0)
    held = ok_a & H[ai, cols]
    ev_a = np.where(ok_a, EV[ai, cols], NONE)
    brk = O & ~H & (idx < anchor[None, :])
    b_idx = np.where(brk, idx, -1).max(axis=0)
    b_ns = np.where(b_idx >= 0, A[np.maximum(b_idx, 0)], NONE)
    blk_at_b = (b_idx >= 0) & B[np.maximum(b_idx, 0), cols]
    runrows = O & (idx > b_idx[None, :]) & (idx <= anchor[None, :])
    f_idx = np.where(runrows, idx, n).min(axis=0)
    f_ns = np.where(f_idx < n, A[np.minimum(f_idx, n - 1)], NONE)
    is_rep = (kind == "report").to_numpy()
    windowed = held & (is_record | (is_rep & (b_idx >= 0) & (((ev_a != NONE) & (b_ns >= ev_a)) | blk_at_b)))
    comp_ns = np.where(~held, NONE, np.where(windowed, f_ns, ev_a))
    after_ns = np.where(windowed, np.where(is_rep, np.maximum(b_ns, ev_a), b_ns), NONE)

    def _to_ts(v):
        return pd.Series(pd.to_datetime(v.view("datetime64[ns]"), utc=True),
                         index=cur.index).dt.tz_convert(TZ).astype(TS_DTYPE)
    completed, after = _to_ts(comp_ns), _to_ts(after_ns)
    done = cur["is_done"].to_numpy(dtype=bool)
    uncertain = windowed & has_due & ~met & (comp_ns > due_ns) & ((after_ns == NONE) | (after_ns < due_ns))
    on_time = met | ~has_due | (comp_ns <= due_ns) | uncertain
    overdue = ~held & has_due & (t_ns > due_ns)
    status = np.select(
        [held & on_time, held, overdue, cur["active"].to_numpy(dtype=bool) | (cur["done"].to_numpy() > 0)],
        ["done_on_time", "done_late", "overdue", "in_progress"], "not_started")
    changed = held & ~done

    due_day = due.dt.tz_localize(None).dt.normalize()
    t_day = t.tz_localize(None).normalize()
    late_overdue = (t_day - due_day).dt.days
    start_day = (after + pd.Timedelta(seconds=1)).where(after.notna(), completed).dt.tz_localize(None).dt.normalize()
    late_done = (start_day - due_day).dt.days
    days_late = np.where(status == "overdue", late_overdue.fillna(0), np.where(
        status == "done_late", late_done.fillna(0), 0)).astype("int64")
    t_ms = _ms([t])[0]
    due_ms = _ms(due)

    # at_risk: projected = p(t) + max(0, v)·(d − t), v from the earliest snapshot in the window,
    # with the EXACT fractions p = 100·done/expected (1,999 of 2,000 is below 100), in Python ints.
    p_t = cur["tenths"].to_numpy(dtype=np.int64)
    window_start = t - pd.Timedelta(days=campaign.at_risk_window_days)
    s0 = next(((a, u) for a, u in hist if window_start <= a < t), None)
    target_h = np.rint(cur["requirement_id"].map({r.id: r.target_percent for r in campaign.requirements})
                       .to_numpy(dtype=float) * 100).astype(np.int64)          # hundredths of %
    a_t = cur["done"].to_numpy(dtype=np.int64).astype(object)
    e_t = np.maximum(cur["expected"].to_numpy(dtype=np.int64), 1).astype(object)
    th = target_h.astype(object)
    if s0 is None:
        below = np.array(10000 * a_t < th * e_t, dtype=bool)
    else:
        h0 = s0[1].set_index(["school_code", "requirement_id"]).reindex(key)
        a0 = h0["done"].fillna(0).to_numpy(dtype=np.int64)
        e0 = h0["expected"].fillna(0).to_numpy(dtype=np.int64)
        a0 = np.where(e0 > 0, a0, 0).astype(object)
        e0 = np.maximum(e0, 1).astype(object)
        dw = int(t_ms - _ms([s0[0]])[0])                                       # > 0
        dd = (np.where(has_due, due_ms, t_ms) - t_ms).astype(object)
        gain = a_t * e0 - a0 * e_t
        gain = np.array([max(0, g) for g in gain], dtype=object)
        below = np.array(10000 * a_t * e0 * dw + 10000 * gain * dd < th * e_t * e0 * dw, dtype=bool)
    at_risk = ~done & has_due & (t_ms <= due_ms) & below

    out = pd.DataFrame({
        "school_code": cur["school_code"].astype("str"),
        "requirement_id": cur["requirement_id"].astype("str"),
        "expected": cur["expected"].astype("int64"),
        "done": cur["done"].astype("int64"),
        "percent": p_t / 10.0,
        "status": pd.Series(status, index=cur.index, dtype="str"),
        "completed_at": completed,
        "days_late": days_late,
        "at_risk": at_risk.astype(bool),
        "timing_uncertain": uncertain.astype(bool),
        "completed_after": after,
        "changed_after_due": changed.astype(bool),
    })
    return _sort(out, campaign)[PROGRESS_COLUMNS]


# ------------------------------------------------------------------------------------------
# Roll-ups
# ------------------------------------------------------------------------------------------
def rollup(progress_df: pd.DataFrame, schools_df: pd.DataFrame, by: str,
           campaign: Campaign | None = None) -> pd.DataFrame:
    """Roll-up of progress rows by 'city', 'district' (district_code) or 'level' (level group).
    `campaign` (default: the default campaign file) tells which requirements are record
    requirements (records_* set) and the requirement order."""
    if by not in ("city", "district", "level"):
        raise ValueError(f"by must be city, district or level, not {by!r}")
    campaign = campaign or load_campaign()
    kinds = {r.id: r.kind for r in campaign.requirements}
    sch = _schools(schools_df, None)[["school_code", "district_code", "level_group"]]
    df = progress_df.merge(sch, on="school_code", how="left")
    if by == "city":
        df["group"] = "city"
    else:
        df["group"] = df["district_code" if by == "district" else "level_group"]
    df["group"] = df["group"].astype("str")
    df["_done"] = df["status"].isin(["done_on_time", "done_late"]).astype("int64")
    df["_on_time"] = (df["status"] == "done_on_time").astype("int64")
    g = df.groupby(["group", "requirement_id"], dropna=False, sort=False).agg(
        units_expected=("status", "size"), units_done=("_done", "sum"),
        units_done_on_time=("_on_time", "sum"), records_expected=("expected", "sum"),
        records_done=("done", "sum")).reset_index()
    for c in ("units_expected", "units_done", "units_done_on_time"):
        g[c] = g[c].astype("int64")
    ue = np.maximum(g["units_expected"].to_numpy(dtype=np.int64), 1)
    g["completion_rate"] = round1_tenths(100 * g["units_done"].to_numpy(dtype=np.int64), ue) / 10.0
    g["on_time_rate"] = round1_tenths(100 * g["units_done_on_time"].to_numpy(dtype=np.int64), ue) / 10.0
    rec = g["requirement_id"].map(kinds).isin(RECORD_KINDS)
    for c in ("records_expected", "records_done"):
        g[c] = g[c].astype("float64").where(rec)
    if g.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64" if c.startswith(("records", "completion", "on_time"))
                                          else ("int64" if c.startswith("units") else "str"))
                             for c in ROLLUP_COLUMNS})
    return _sort(g, campaign)[ROLLUP_COLUMNS]


# ------------------------------------------------------------------------------------------
# Completeness index over the eight domains (RULES.md "Completeness index")
# ------------------------------------------------------------------------------------------
COMPLETENESS_COLUMNS = ["school_code", "domain", "items", "items_ok", "percent_t", "availability"]
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def _items(school, domain, key, ok) -> pd.DataFrame:
    school = pd.Series(school, dtype=object).to_numpy()
    key = np.full(len(school), key, dtype=object) if isinstance(key, str) else pd.Series(key, dtype=object).to_numpy()
    return pd.DataFrame({"school_code": school, "domain": domain, "item_key": key,
                         "ok": pd.Series(ok, dtype=object).fillna(False).astype(bool).to_numpy()})


def _student_fields_ok(st: pd.DataFrame, campaign: Campaign, as_of: pd.Timestamp,
                       optional: tuple) -> np.ndarray:
    """Per student row: no error of the personal-field rules (presence of the required fields,
    name, gender, birth date, ethnicity, address; not the ID rules)."""
    ref = _ref()
    name, bd, gender = _col(st, "full_name"), _col(st, "birth_date"), _col(st, "gender")
    eth, addr = _col(st, "ethnicity"), _col(st, "permanent_address")
    idn, pid = _col(st, "id_number"), _col(st, "personal_id")
    present = _present(name) & _present(bd) & _present(gender) & _present(eth) & _present(addr)
    if "id_number" not in optional:
        present &= _present(idn) | _present(pid)
    L = ref["letters"]
    name_ok = (name.str.fullmatch(f"[{L}'’ ]+").fillna(False).astype(bool)
               & name.str.fullmatch(r" *[^ ]+ +[^ ].*").fillna(False).astype(bool))
    p = _parse_datetime(bd, time_required=False)
    birth_ok = p["valid"]
    bdate = pd.to_datetime(pd.DataFrame({"year": p["y"].where(birth_ok, 2000), "month": p["m"].where(birth_ok, 1),
                                         "day": p["d"].where(birth_ok, 1)}).astype("int64"), errors="coerce")
    start = pd.Timestamp(campaign.start_date)
    latest = start.replace(year=start.year - campaign.min_age_at_start)
    g12 = (_parse_grade(_col(st, "grade")) == campaign.population_grade).to_numpy()
    impossible = birth_ok & ((bdate > pd.Timestamp(as_of.tz_convert(TZ).date())) | ((bdate > latest) & g12))
    ok = (present & name_ok & gender.isin(GENDERS) & (birth_ok & ~impossible)
          & _fold_ethnic(eth).isin(ref["ethnic_folded"]) & _address_ok(addr))
    return ok.to_numpy(dtype=bool)


def completeness(tables: dict, campaign: Campaign, defs) -> pd.DataFrame:
    """One row per institution × domain (defs.domains order) plus domain 'index':
    items, items_ok, percent_t (tenths of a percent, NaN when not measured), availability."""
    as_of = tables["as_of"]
    schools = _table(tables, "schools")
    sch = _schools(schools, campaign)
    codes = set(sch["school_code"])
    parts = []
    # institution
    s = schools[_col(schools, "school_code").notna()]
    lv = sch.set_index("school_code")[list(LEVELS)].any(axis=1)
    parts += [_items(s["school_code"], "institution", f, ok) for f, ok in (
        ("principal", _present(_col(s, "principal"))), ("phone", _present(_col(s, "phone"))),
        ("email", _col(s, "email").str.fullmatch(_EMAIL)),
        ("levels", s["school_code"].map(lv)),
        ("ownership", _col(s, "ownership").isin(["Công lập", "Ngoài công lập"])))]
    # enrolled students at known institutions
    st = _table(tables, "students")
    st = st[(_status(_col(st, "status"), campaign) == campaign.population_status).fillna(False).to_numpy()
            & _col(st, "school_code").isin(codes).to_numpy()]
    st_grade = _parse_grade(_col(st, "grade"))
    with_students = set(st["school_code"])
    # classes
    lop = _table(tables, "classes")
    names = set(zip(_col(lop, "school_code"), _col(lop, "class_name"))) | set(zip(_col(lop, "school_code"), _col(lop, "class_code")))
    lgr = set(zip(_col(lop, "school_code"), _parse_grade(_col(lop, "grade"))))
    named = pd.DataFrame({"s": st["school_code"], "c": _col(st, "class_name")}).dropna().drop_duplicates()
    parts.append(_items(named["s"], "classes", "Lớp " + named["c"],
                        [k in names for k in zip(named["s"], named["c"])]))
    gr = pd.DataFrame({"s": st["school_code"].to_numpy(), "g": st_grade.to_numpy()}).dropna().drop_duplicates()
    parts.append(_items(gr["s"], "classes", "Khối " + gr["g"].astype(int).astype(str),
                        [k in lgr for k in zip(gr["s"], gr["g"])]))
    has_items = set(named["s"]) | set(gr["s"])
    rest = sorted(codes - has_items)
    lop_schools = set(_col(lop, "school_code").dropna())
    parts.append(_items(rest, "classes", ["Danh sách lớp"] * len(rest), [c in lop_schools for c in rest]))
    # staff
    cb = _table(tables, "staff")
    cb = cb[_col(cb, "school_code").isin(codes).to_numpy()]
    if len(cb):     # a staff id listed twice: its last row (rows without an id each count)
        cb = cb.sort_values("_row")
        cb = cb[~(_col(cb, "staff_id").notna() & cb.duplicated(["school_code", "staff_id"], keep="last")).to_numpy()]
    pos = _col(cb, "position")
    parts.append(_items(cb["school_code"], "staff", "Cán bộ " + _col(cb, "staff_id").fillna("?"),
                        pos.isin(defs.positions) & _present(_col(cb, "qualification"))))
    have = set(zip(cb["school_code"], pos))
    for p in defs.required_positions:
        cs = sorted(codes)
        parts.append(_items(cs, "staff", ["Vị trí " + p] * len(cs), [(c, p) in have for c in cs]))
    # students
    parts.append(_items(st["school_code"], "students", _col(st, "student_id"),
                        _student_fields_ok(st, campaign, as_of, defs.optional_fields)))
    none = sorted(codes - with_students)
    parts.append(_items(none, "students", ["Danh sách học sinh"] * len(none), [False] * len(none)))
    # results and conduct: population x required terms ended at the as-of
    pop = _population(tables, campaign, sch)
    today = as_of.tz_convert(TZ).date()
    rows = []
    for r in campaign.requirements:
        if r.kind != "student_results":
            continue
        for g, t in r.terms:
            if g == campaign.population_grade and not today > defs.term_ends[t]:
                continue
            sel = pop[pop["applies__" + r.id]]
            rows.append(pd.DataFrame({"student_id": sel["student_id"].to_numpy(), "school_code": sel["school_code"].to_numpy(),
                                      "grade": g, "term": t}))
    terms = (pd.concat(rows).drop_duplicates() if rows
             else pd.DataFrame(columns=["student_id", "school_code", "grade", "term"]))
    ts = _table(tables, "term_summaries")
    used = results_years_used(tables, campaign)
    yr = canon_year(_col(ts, "school_year"))
    g = _parse_grade(_col(ts, "grade"))
    fy = pd.Series(_first_year(_col(ts, "school_year")), index=ts.index)
    used_fy = [used.get(k, -2) for k in zip(_col(ts, "student_id"), g)]
    usable = pd.Series(_usable_year(_col(ts, "school_year"), g, campaign), index=ts.index)
    usable &= fy.eq(pd.Series(used_fy, index=ts.index, dtype="int64"))
    sm = pd.DataFrame({"student_id": _col(ts, "student_id"), "grade": g, "term": parse_term(_col(ts, "term")), "yr": yr,
                       "_row": ts["_row"] if "_row" in ts else 0,
                       "res": _present(_col(ts, "overall_average")) & _present(_col(ts, "academic_rank")),
                       "con": _present(_col(ts, "conduct"))})[usable.to_numpy()]
    sm = sm.sort_values(["yr", "_row"]).drop_duplicates(["student_id", "grade", "term"], keep="last")
    terms = terms.astype({"grade": "float64"}).merge(sm, on=["student_id", "grade", "term"], how="left")
    key = terms["student_id"] + "|" + terms["grade"].astype(int).astype(str) + "|" + terms["term"]
    parts.append(_items(terms["school_code"], "results", key, terms["res"].fillna(False).astype(bool)))
    parts.append(_items(terms["school_code"], "conduct", key, terms["con"].fillna(False).astype(bool)))
    # facilities
    rm = _table(tables, "rooms")
    df = pd.DataFrame({"s": _col(rm, "school_code"), "r": _col(rm, "room_code"),
                       "l": _col(rm, "level").str.strip().str.upper()})
    df = df[df["s"].isin(codes) & df["r"].notna()]
    n = df.assign(l=df["l"].where(df["l"] != "")).groupby(["s", "r"])["l"].nunique().reset_index()
    parts.append(_items(n["s"], "facilities", "Phòng " + n["r"], n["l"] == 1))
    nor = sorted(codes - set(n["s"]))
    parts.append(_items(nor, "facilities", ["Danh sách phòng"] * len(nor), [False] * len(nor)))

    items = pd.concat(parts, ignore_index=True)
    agg = items.groupby(["school_code", "domain"]).agg(items=("ok", "size"), items_ok=("ok", "sum")).reset_index()
    grid = pd.MultiIndex.from_product([sorted(codes), [d.id for d in defs.domains]], names=["school_code", "domain"])
    out = agg.set_index(["school_code", "domain"]).reindex(grid, fill_value=0).reset_index()
    source = {d.id: d.source for d in defs.domains}
    # a domain whose file this extract lacks (_files.present false) has no source here
    files = tables.get("_files")
    if files is not None:
        absent = set(files.loc[files["present"].astype(str).str.lower() == "false", "table_name"])
        for dom, tab in (("classes", "classes"), ("staff", "staff"), ("facilities", "rooms"),
                         ("results", "term_summaries"), ("conduct", "term_summaries")):
            if tab in absent:
                source[dom] = False
    has = out["domain"].map(source).astype(bool)
    measured = has & (out["items"] > 0)
    tenths = (2 * 1000 * out["items_ok"] + out["items"]) // (2 * out["items"].where(out["items"] > 0, 1))
    out["percent_t"] = tenths.where(measured).astype("float64")
    out["availability"] = np.where(~has, "no_source", np.where(out["items"] == 0, "not_applicable", "measured"))
    m = out[measured].groupby("school_code")["percent_t"].agg(["sum", "count"])
    idx = pd.DataFrame({"school_code": m.index, "domain": "index", "items": np.nan, "items_ok": np.nan,
                        "percent_t": ((2 * m["sum"] + m["count"]) // (2 * m["count"])).to_numpy(),
                        "availability": "measured"})
    out = pd.concat([out, idx], ignore_index=True)
    return out[COMPLETENESS_COLUMNS].sort_values(["school_code", "domain"]).reset_index(drop=True)
# Report figures against the records (RULES.md «Report figures», issue 15)
# ------------------------------------------------------------------------------------------
# The campaign's indicators are SQL; the reference re-derives the indicators of letter 1254 from
# their definitions in RULES.md (by code), without reading that SQL. An unknown code is refused.
FIGURE_STATES = ("invalid", "match", "no_snapshot_before", "stale", "different_at_sending",
                 "no_source", "no_source_at_sending")
_ROOM_TYPES = {"PHONG_HOC": "Phòng học", "PHONG_BO_MON": "Phòng bộ môn", "PHONG_KHAC": "Phòng khác"}
_POSITIONS = {"CBQL": "CBQL", "GV": "Giáo viên", "NV": "Nhân viên"}


def _indicator_counts(tables: dict, code: str) -> pd.Series:
    """Value per school_code of one indicator (schools without a row: absent, i.e. 0)."""
    import re
    m = re.fullmatch(r"(LOP|HS|HS_NU|HS_DTTS)_KHOI_(\d+)", code)
    if m or code == "HS_DANG_HOC":
        if m and m.group(1) == "LOP":
            c = _table(tables, "classes")
            df = pd.DataFrame({"s": _col(c, "school_code"), "k": _col(c, "class_code"),
                               "g": _parse_grade(_col(c, "grade")), "_row": c["_row"]})
            df = df[df["s"].notna() & df["k"].notna()].sort_values("_row")
            df = df.drop_duplicates(["s", "k"], keep="last")       # a class listed twice: its last row
            return df[df["g"] == int(m.group(2))].groupby("s").size()
        st = _table(tables, "students")
        df = pd.DataFrame({"s": _col(st, "school_code"), "g": _parse_grade(_col(st, "grade")),
                           "sex": _col(st, "gender"), "eth": _fold_ethnic(_col(st, "ethnicity"))})
        df = df[(_col(st, "status") == "Đang học").fillna(False).to_numpy(dtype=bool) & df["s"].notna().to_numpy()]
        if m:
            df = df[df["g"] == int(m.group(2))]
            if m.group(1) == "HS_NU":
                df = df[df["sex"] == "Nữ"]
            elif m.group(1) == "HS_DTTS":
                kinh = {"kinh", "kinh(việt)", "kinhviệt"}
                df = df[df["eth"].isin(_ref()["ethnic_folded"] | _kinh_keys()) & ~df["eth"].isin(kinh)]
        return df.groupby("s").size()
    if code in _POSITIONS:
        c = _table(tables, "staff")
        df = pd.DataFrame({"s": _col(c, "school_code"), "k": _col(c, "staff_id"), "p": _col(c, "position"),
                           "_row": c["_row"]})
        df = df[df["s"].notna() & df["k"].notna()].sort_values("_row").drop_duplicates(["s", "k"], keep="last")
        return df[df["p"] == _POSITIONS[code]].groupby("s").size()
    m = re.fullmatch(r"(PHONG_HOC|PHONG_BO_MON|PHONG_KHAC)_(MN|TH|THCS|THPT|GDTX)", code)
    if m:
        c = _table(tables, "rooms")
        df = pd.DataFrame({"s": _col(c, "school_code"), "r": _col(c, "room_code"),
                           "t": _col(c, "room_type"), "l": _col(c, "level").str.strip().str.upper()})
        df = df[(df["t"] == _ROOM_TYPES[m.group(1)]) & (df["l"] == m.group(2))]
        return df.groupby("s")["r"].nunique()
    raise KeyError(f"the reference does not know indicator {code}")


@lru_cache(maxsize=1)
def _kinh_keys() -> frozenset:
    """The Kinh forms (RULES.md: a bracketed alias with and without the bracket)."""
    return frozenset({"kinh", "kinh(việt)", "kinhviệt"})


def indicator_values(tables: dict, campaign: Campaign) -> dict[str, pd.Series]:
    """{indicator code: value per school_code} of one snapshot."""
    return {i.code: _indicator_counts(tables, i.code) for i in campaign.indicators}


_IND_CACHE: dict = {}


def _indicator_values_cached(path: str, campaign: Campaign) -> dict:
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_mtime_ns, st.st_size, tuple(i.code for i in campaign.indicators))
    if key not in _IND_CACHE:
        tables = load_snapshot(path, tables=("students", "classes", "staff", "rooms"))
        _IND_CACHE[key] = indicator_values(tables, campaign)
    return _IND_CACHE[key]


_PRESENCE_CACHE: dict = {}


def _snapshot_presence(path: str, campaign: Campaign) -> tuple[set, dict]:
    """(tables whose file the extract lacked (_files.present false), {requirement id: the
    institutions of the snapshot it applies to})."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_mtime_ns, st.st_size, campaign.fingerprint)
    if key not in _PRESENCE_CACHE:
        tables = load_snapshot(path, tables=("schools", "_files"))
        files = tables.get("_files")
        absent = set() if files is None else set(
            files.loc[files["present"].astype(str).str.lower() == "false", "table_name"])
        sch = _schools(_table(tables, "schools"), campaign)
        applies = {r.id: set(sch.loc[sch["applies__" + r.id].astype(bool), "school_code"])
                   for r in campaign.requirements if r.kind == "report"}
        _PRESENCE_CACHE[key] = (absent, applies)
    return _PRESENCE_CACHE[key]


def _figure_value(s: pd.Series) -> pd.Series:
    """Whole number, or thousands in groups of three separated by one kind of separator per
    value: '.', ',' or a space (' ', U+00A0 and U+202F all count as a space); the first
    group has no leading zero ('0.002' is a decimal, not 2)."""
    plain = s.str.fullmatch(r"[0-9]{1,15}").fillna(False).astype(bool)
    grouped = pd.Series(False, index=s.index)
    for sep in (r"\.", ",", "[ \u00a0\u202f]"):
        grouped |= s.str.fullmatch(r"[1-9][0-9]{0,2}(?:" + sep + r"[0-9]{3}){1,4}").fillna(False).astype(bool)
    digits = s.str.replace("[., \u00a0\u202f]", "", regex=True)
    return pd.to_numeric(digits.where(plain | grouped), errors="coerce").astype("Int64")


def report_figures(snapshots, as_of, campaign: Campaign) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(figures, reports) at `as_of`: figures = school_code, report_code, indicator, stated,
    at_sending, now_value, figure_state; reports = school_code, report_code, n_figures,
    n_mismatch, match_label."""
    as_of = _ts(as_of)
    snaps = sorted(((_ts(a), str(p)) for a, p in snapshots), key=lambda x: x[0])
    vis = [s for s in snaps if s[0] <= as_of]
    cur_path = vis[-1][1]
    tables = load_snapshot(cur_path, tables=("schools", "reports", "report_figures"))
    sch = _schools(_table(tables, "schools"), campaign)
    codes = {i.report_code for i in campaign.indicators}
    req_of = {r.report_code: r.id for r in campaign.requirements if r.kind == "report"}
    rep = _report_rows(tables)
    rep = rep[rep["ok"] & rep["report_code"].isin(codes) & rep["school_code"].isin(set(sch["school_code"]))]
    applies = sch.set_index("school_code")
    rep = rep[np.array([bool(applies.at[s, "applies__" + req_of[c]])
                        for s, c in zip(rep["school_code"], rep["report_code"])], dtype=bool)]   # empty: a mask, not []
    fg = _table(tables, "report_figures")
    f = pd.DataFrame({"school_code": _col(fg, "school_code"), "report_code": _col(fg, "report_code"),
                      "indicator": _col(fg, "indicator"), "raw": _col(fg, "value"), "_row": fg["_row"]})
    f = f.dropna(subset=["school_code", "report_code", "indicator"]).sort_values("_row")
    f = f.drop_duplicates(["school_code", "report_code", "indicator"], keep="last")
    known = {(i.report_code, i.code) for i in campaign.indicators}
    f = f[np.array([(r, i) in known for r, i in zip(f["report_code"], f["indicator"])], dtype=bool)]
    f = f.merge(rep[["school_code", "report_code", "at"]], on=["school_code", "report_code"])
    f["stated"] = _figure_value(f["raw"])
    now = _indicator_values_cached(cur_path, campaign)
    # the newest visible snapshot at or before each sending time
    times = np.array([a.value for a, _ in vis], dtype=np.int64)
    at_ns = f["at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view("int64")
    idx = np.searchsorted(times, at_ns, side="right") - 1
    # a side whose extract lacked a file the indicator counts is not compared (NULL); at sending,
    # neither is a snapshot without the institution (the report applying to it)
    srcs = {i.code: set(i.sources) for i in campaign.indicators}
    cur_absent = _snapshot_presence(cur_path, campaign)[0]
    now_ok = np.array([not (srcs[i] & cur_absent) for i in f["indicator"]], dtype=bool)
    send_snap, send_ok = [], []
    for s, c, i, k in zip(f["school_code"], f["report_code"], f["indicator"], idx):
        if k >= 0:
            absent, applies = _snapshot_presence(vis[k][1], campaign)
            if s not in applies[req_of[c]]:
                k = -1
        send_snap.append(k)
        send_ok.append(k < 0 or not (srcs[i] & absent))
    idx = np.array(send_snap, dtype=np.int64)
    send_ok = np.array(send_ok, dtype=bool)
    f["now_value"] = pd.array([int(now[i].get(s, 0)) if ok else None
                               for s, i, ok in zip(f["school_code"], f["indicator"], now_ok)], dtype="Int64")
    f["at_sending"] = pd.array([None if k < 0 or not ok else int(_indicator_values_cached(vis[k][1], campaign)[i].get(s, 0))
                                for s, i, k, ok in zip(f["school_code"], f["indicator"], idx, send_ok)], dtype="Int64")
    st = f["stated"]
    f["figure_state"] = np.select(
        [st.isna().to_numpy(), ~now_ok, (st == f["now_value"]).fillna(False).to_numpy(dtype=bool), idx < 0,
         ~send_ok, (st == f["at_sending"]).fillna(False).to_numpy(dtype=bool)],
        ["invalid", "no_source", "match", "no_snapshot_before", "no_source_at_sending", "stale"],
        "different_at_sending")
    figures = f[["school_code", "report_code", "indicator", "stated", "at_sending", "now_value", "figure_state"]]
    fs = figures["figure_state"]
    n = figures.assign(cmp=fs != "no_source", bad=~fs.isin(["match", "no_source"]),
                       nos=fs == "no_source").groupby(["school_code", "report_code"]).agg(
        n_figures=("cmp", "sum"), n_mismatch=("bad", "sum"), n_no_source=("nos", "sum")).reset_index()
    reports = rep[["school_code", "report_code"]].merge(n, how="left", on=["school_code", "report_code"])
    reports[["n_figures", "n_mismatch", "n_no_source"]] = reports[["n_figures", "n_mismatch", "n_no_source"]].fillna(0).astype("int64")
    reports["match_label"] = np.where(
        (reports["n_figures"] == 0) & (reports["n_no_source"] > 0), "không so được (bản trích xuất thiếu tệp nguồn)",
        np.where(reports["n_figures"] == 0, "không có số liệu",
                 np.where(reports["n_mismatch"] == 0, "khớp", reports["n_mismatch"].astype(str) + " chỉ tiêu lệch")))
    reports = reports.drop(columns="n_no_source")
    return (figures.sort_values(["school_code", "report_code", "indicator"]).reset_index(drop=True),
            reports.sort_values(["school_code", "report_code"]).reset_index(drop=True))
