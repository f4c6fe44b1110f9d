"""Campaign configuration: a TOML file under campaigns/ turned into validated data and into the
``cfg_*`` tables the SQL views join against.

Why config: a new official letter next year is a new TOML file, not a code change. A malformed
file is refused with a message naming the key, before any number is computed from it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from . import file_memo
from .schema import LEVELS, REPORT_CODES, TABLES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_CAMPAIGN = Path(__file__).resolve().parent.parent / "campaigns" / "2021-2022-cv1254.toml"
KINDS = ("student_info", "student_results", "report", "paper")
TERMS = ("HK1", "HK2", "CN")


class CampaignError(ValueError):
    """A campaign file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Requirement:
    id: str
    kind: str
    name: str
    applies_to_levels_any: tuple[str, ...]
    due: dt.datetime | None
    letter_words: str
    target_percent: float = 100.0
    report_code: str | None = None
    terms: tuple[tuple[int, str], ...] = ()
    order: int = 0
    # Rule ids whose error findings at the institution keep this requirement from done
    # (RPT_CSVC: ROOM_MULTI_LEVEL, the letter puts "one level per room" inside the report).
    blocked_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Programme:
    id: str
    when_levels_any: tuple[str, ...]
    scored: tuple[str, ...]
    rated: tuple[str, ...]
    key_subjects: tuple[str, ...]


@dataclass(frozen=True)
class Indicator:
    """A figure a report states, defined over the records (issue 15, RULES.md «Report figures»):
    ``sql`` is a DuckDB query over the staging views (and src_* tables) of one snapshot that
    returns the columns ``school_code`` and ``value`` (a whole number), at most one row per
    institution (more is refused when the snapshot is evaluated); an institution without a row
    has the value 0."""
    code: str
    name: str
    report_code: str
    sql: str
    order: int = 0
    # The snapshot tables the SQL counts (``source``: extract file names, e.g. "can_bo"; when
    # omitted, read from the table and view names in ``sql``): a snapshot whose extract had no
    # file of one of them is no evidence of the figure (not compared there; outside review of
    # issue 15).
    sources: tuple[str, ...] = ()


# Every staging view (data_access/sql/staging_*.sql) -> the snapshot tables (extract files) it
# reads, for an indicator without `source` (RULES.md «Report figures»): a snapshot without one of
# those files does not measure the figure. `src_<table>` is that table; src_files and src_as_of
# read no extract file. Any other stg_/src_ name in an indicator's SQL without `source` is
# refused when the campaign is read (outside review of issue 15, finding 1: an unmapped view,
# e.g. stg_summaries, counted as "reads no file" and a snapshot without tong_ket compared as 0).
# tests/test_indicator_sources.py checks that every staging view is here and that each mapping
# names only tables the view reads.
_S, _ST, _SC, _TS = ("schools",), ("students",), ("subject_scores",), ("term_summaries",)
_RESULTS = ("subject_scores", "term_summaries")
_VIEW_SOURCES: dict[str, tuple[str, ...]] = {
    # staging_10_schools.sql
    "stg_schools": _S, "stg_school_requirements": _S, "stg_required_terms": _S,
    # staging_20_students.sql
    "stg_grade_values": _ST, "stg_status_values": _ST, "stg_students": _ST,
    "stg_population_schools": _S, "stg_population_candidates": _ST, "stg_population": _ST,
    "stg_population_unplaced": _ST, "stg_population_terms": _ST, "stg_population_exclusions": _ST,
    # staging_30_results.sql
    "stg_population_keys": _ST, "stg_programme_subjects": (), "stg_required_term_keys": _S,
    "stg_population_term_keys": _ST, "stg_term_bits": _S, "stg_population_term_masks": _ST,
    "stg_score_values": _SC, "stg_score_rows": _SC, "stg_summaries": _TS, "stg_summaries_used": _TS,
    "stg_summaries_wrong_year": _TS, "stg_result_years": _RESULTS, "stg_result_grade_texts": _RESULTS,
    "stg_result_term_texts": _RESULTS, "stg_result_gt": _RESULTS, "stg_grade_years": _RESULTS,
    "stg_year_invalid_rows": _RESULTS, "stg_results_unreadable_rows": _RESULTS,
    # staging_40_reports.sql, staging_50_rooms.sql
    "stg_report_rows_read": ("reports",), "stg_report_rows": ("reports",), "stg_reports": ("reports",),
    "stg_paper_copies": ("paper_copies",), "stg_rooms": ("rooms",),
    # staging_60_report_figures.sql
    "stg_enrolled_students": _ST, "stg_classes": ("classes",), "stg_staff": ("staff",),
    "stg_report_figures": ("report_figures",), "stg_report_figure_rows": ("report_figures",), "stg_submitted_report_figures": ("report_figures",),
    # the engine's views of the snapshot's metadata (data_access/engine.py)
    "src_files": (), "src_as_of": (),
}


def _sql_names(sql: str) -> set[str]:
    import re
    return set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))


def unmapped_names(sql: str) -> list[str]:
    """The stg_/src_ names of ``sql`` whose extract files are not known (no ``_VIEW_SOURCES``
    entry, no snapshot table of that name)."""
    tables = {f"src_{t.name}" for t in TABLES}
    return sorted(w for w in _sql_names(sql) if (w.startswith("stg_") or w.startswith("src_"))
                  and w not in _VIEW_SOURCES and w not in tables)


def indicator_sources(sql: str) -> tuple[str, ...]:
    """The snapshot tables an indicator's SQL reads, from the names it uses."""
    words = _sql_names(sql)
    out = {t for k, v in _VIEW_SOURCES.items() if k in words for t in v}
    out |= {t.name for t in TABLES if f"src_{t.name}" in words}
    return tuple(sorted(out))


def _indicator_source(x: dict, w: str, sql: str) -> tuple[str, ...]:
    """`source` of an indicator: an extract file name (or table name), or a list of them."""
    if "source" not in x:
        bad = unmapped_names(sql)
        if bad:
            raise CampaignError(
                f"chỉ tiêu `{x.get('code')}` (`{w}sql`) đọc {', '.join(f'`{b}`' for b in bad)}: không biết "
                f"bảng/view này lấy từ tệp nào của bản trích xuất, nên không biết snapshot nào thiếu "
                f"nguồn của chỉ tiêu. Hãy thêm `{w}source = \"...\"` (tên tệp: "
                f"{', '.join(t.file for t in TABLES)}, hoặc danh sách các tên đó) [indicator source unknown]")
        return indicator_sources(sql)
    v = x["source"]
    vals = [v] if isinstance(v, str) else v
    by_name = {t.file: t.name for t in TABLES} | {t.name: t.name for t in TABLES}
    if not isinstance(vals, list) or not vals or not all(isinstance(s, str) and s in by_name for s in vals):
        raise CampaignError(f"khóa `{w}source` = {v!r} không hợp lệ: tên tệp của bản trích xuất "
                            f"({', '.join(t.file for t in TABLES)}) hoặc danh sách các tên đó [bad indicator source]")
    return tuple(sorted({by_name[s] for s in vals}))


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    letter: str
    school_year: str
    at_risk_window_days: float
    population_grade: int
    population_status: str
    programmes: tuple[Programme, ...]
    requirements: tuple[Requirement, ...]
    cohort_years: dict = field(default_factory=dict)
    indicators: tuple[Indicator, ...] = ()
    # Statuses a student row may carry (others are STATUS_INVALID); the first day of the school
    # year and the youngest possible age then (younger: BIRTH_DATE_IMPOSSIBLE).
    known_statuses: tuple[str, ...] = ("Đang học", "Đã chuyển trường", "Thôi học", "Đã tốt nghiệp")
    school_year_start_date: dt.date | None = None
    min_age_at_start: int = 14
    path: str = ""
    fingerprint: str = ""

    def requirement(self, rid: str) -> Requirement:
        for r in self.requirements:
            if r.id == rid:
                return r
        raise KeyError(rid)

    @property
    def start_date(self) -> dt.date:
        return self.school_year_start_date or dt.date(self.school_year_start, 9, 5)

    @property
    def school_year_start(self) -> int:
        return int(self.school_year[:4])

    @property
    def results_year(self) -> str:
        """The school year of the population's own grade (grade 12 of the cohort): its results
        count only from this year, lower grades only from an earlier one (RULES.md). From
        `[cohort_years]`, else the campaign's school year."""
        return str(self.cohort_years.get(self.population_grade, self.school_year))

    # -- tables for DuckDB ------------------------------------------------------------------
    def tables(self) -> dict[str, pd.DataFrame]:
        """The cfg_* tables. Columns are documented in data_access/RULES.md terms."""
        req = pd.DataFrame([
            {
                "requirement_id": r.id, "kind": r.kind, "name": r.name,
                "report_code": r.report_code,
                "due": pd.Timestamp(r.due) if r.due else pd.NaT,
                "letter_words": r.letter_words, "target_percent": float(r.target_percent),
                "applies_levels": list(r.applies_to_levels_any), "sort_order": r.order,
                "blocked_by": list(r.blocked_by),
            }
            for r in self.requirements
        ])
        req["due"] = pd.to_datetime(req["due"], utc=True)
        terms = pd.DataFrame(
            [{"requirement_id": r.id, "grade": g, "term": t}
             for r in self.requirements for g, t in r.terms],
            columns=["requirement_id", "grade", "term"],
        ).astype({"grade": "int32"})
        prog = pd.DataFrame([
            {"programme_id": p.id, "levels_any": list(p.when_levels_any), "priority": i}
            for i, p in enumerate(self.programmes)
        ])
        subj = pd.DataFrame(
            [{"programme_id": p.id, "subject": s, "assessed": "score", "is_key": s in p.key_subjects}
             for p in self.programmes for s in p.scored]
            + [{"programme_id": p.id, "subject": s, "assessed": "rating", "is_key": False}
               for p in self.programmes for s in p.rated],
            columns=["programme_id", "subject", "assessed", "is_key"],
        )
        params = pd.DataFrame([{
            "campaign_id": self.id, "school_year": self.school_year,
            "school_year_start": self.school_year_start,
            "results_year": self.results_year,
            "population_grade": self.population_grade,
            "population_status": self.population_status,
            "at_risk_window_days": float(self.at_risk_window_days),
            "known_statuses": list(self.known_statuses),
            "school_year_start_date": self.start_date,
            "min_age_at_start": int(self.min_age_at_start),
        }])
        ind = pd.DataFrame(
            [{"indicator": i.code, "indicator_name": i.name, "report_code": i.report_code,
              "sql": i.sql, "sort_order": i.order, "source_tables": ",".join(i.sources),
              "source_files": ", ".join(t.file for t in TABLES if t.name in i.sources)}
             for i in self.indicators],
            columns=["indicator", "indicator_name", "report_code", "sql", "sort_order",
                     "source_tables", "source_files"],
        ).astype({"indicator": "object", "indicator_name": "object", "report_code": "object",
                  "sql": "object", "sort_order": "int64", "source_tables": "object",
                  "source_files": "object"})
        return {"cfg_requirements": req, "cfg_requirement_terms": terms,
                "cfg_programmes": prog, "cfg_programme_subjects": subj, "cfg_params": params,
                "cfg_indicators": ind}


def _need(d: dict, key: str, where: str, kind=None):
    if key not in d:
        raise CampaignError(f"thiếu khóa `{where}{key}` [missing key `{where}{key}`]")
    v = d[key]
    if kind is not None and not isinstance(v, kind):
        raise CampaignError(
            f"khóa `{where}{key}` có kiểu không hợp lệ ({type(v).__name__}) "
            f"[key `{where}{key}` has the wrong type]")
    return v


def _levels(v, where: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not v:
        raise CampaignError(f"khóa `{where}` phải là danh sách cấp học không rỗng [key `{where}` must be a non-empty list of levels]")
    bad = [x for x in v if x not in LEVELS]
    if bad:
        raise CampaignError(f"khóa `{where}` có cấp học không hợp lệ {bad}; hợp lệ: {list(LEVELS)} [unknown levels in `{where}`]")
    return tuple(v)


def _due(v, where: str) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=TZ)
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time(23, 59, 59), TZ)
    raise CampaignError(f"khóa `{where}` phải là thời điểm, ví dụ 2022-04-28T23:59:59+07:00 [key `{where}` must be a datetime]")


def load_campaign(path: str | Path | None = None) -> Campaign:
    """The campaign of ``path`` (default: the letter 1254 file). Every page view needs it:
    parsed once and remembered until the file changes (data_access.file_memo)."""
    path = Path(path) if path else DEFAULT_CAMPAIGN
    return file_memo.remembered(("campaign", os.path.abspath(path)), (path,), lambda: _load_campaign(path))


def read_toml(path: Path, what_vi: str, missing_en: str, invalid_en: str) -> tuple[dict, bytes]:
    """A configuration file's TOML and its bytes; a missing or unreadable file is a
    CampaignError naming it (one reader for the campaign file and the completeness
    definitions)."""
    try:
        raw_bytes = path.read_bytes()
        return tomllib.loads(raw_bytes.decode("utf-8")), raw_bytes
    except FileNotFoundError:
        raise CampaignError(f"không tìm thấy tệp{what_vi} {path} [{missing_en}]") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CampaignError(f"tệp{what_vi} {path} không đọc được: {e} [{invalid_en}]") from None


def _load_campaign(path: Path) -> Campaign:
    data, raw_bytes = read_toml(path, " chiến dịch", "campaign file not found",
                                "campaign file is not valid TOML")
    try:
        c = _need(data, "campaign", "", dict)
        pop = _need(data, "population", "", dict)
        progs = []
        for i, p in enumerate(_need(data, "programmes", "", list)):
            w = f"programmes[{i}]."
            progs.append(Programme(
                id=_need(p, "id", w, str),
                when_levels_any=_levels(_need(p, "when_levels_any", w), w + "when_levels_any"),
                scored=tuple(_need(p, "scored", w, list)), rated=tuple(p.get("rated", [])),
                key_subjects=tuple(p.get("key_subjects", [])),
            ))
        reqs, seen = [], set()
        for i, r in enumerate(_need(data, "requirements", "", list)):
            w = f"requirements[{i}]."
            rid = _need(r, "id", w, str)
            if rid in seen:
                raise CampaignError(f"mã yêu cầu `{rid}` bị trùng ở `{w}id` [duplicate requirement id]")
            seen.add(rid)
            kind = _need(r, "kind", w, str)
            if kind not in KINDS:
                raise CampaignError(f"khóa `{w}kind` = {kind!r} không hợp lệ; hợp lệ: {list(KINDS)} [unknown kind]")
            terms: list[tuple[int, str]] = []
            if kind == "student_results":
                for j, t in enumerate(_need(r, "terms", w, list)):
                    if (not isinstance(t, list) or len(t) != 2 or not isinstance(t[0], int)
                            or t[1] not in TERMS):
                        raise CampaignError(f"khóa `{w}terms[{j}]` phải có dạng [12, \"HK1\"] [bad term]")
                    terms.append((t[0], t[1]))
            report_code = None
            if kind in ("report", "paper"):
                report_code = _need(r, "report_code", w, str)
                if report_code not in REPORT_CODES:
                    raise CampaignError(f"khóa `{w}report_code` = {report_code!r} không hợp lệ; hợp lệ: {list(REPORT_CODES)}")
            target = r.get("target_percent", 100)
            if not isinstance(target, (int, float)) or not 0 < target <= 100:
                raise CampaignError(f"khóa `{w}target_percent` phải trong (0, 100] [bad target]")
            reqs.append(Requirement(
                id=rid, kind=kind, name=_need(r, "name", w, str),
                applies_to_levels_any=_levels(_need(r, "applies_to_levels_any", w), w + "applies_to_levels_any"),
                due=_due(r["due"], w + "due") if "due" in r else None,
                letter_words=str(r.get("letter_words", "")), target_percent=float(target),
                report_code=report_code, terms=tuple(terms), order=i,
                blocked_by=tuple(str(x) for x in r.get("blocked_by", [])),
            ))
        inds, seen_ind = [], set()
        for i, x in enumerate(data.get("indicators", [])):
            w = f"indicators[{i}]."
            if not isinstance(x, dict):
                raise CampaignError(f"`indicators[{i}]` phải là một bảng [[indicators]] [bad indicator]")
            code = _need(x, "code", w, str)
            if not code or not all(ch.isalnum() or ch == "_" for ch in code):
                raise CampaignError(f"khóa `{w}code` = {code!r} chỉ được gồm chữ, số và dấu _ [bad indicator code]")
            if code in seen_ind:
                raise CampaignError(f"mã chỉ tiêu `{code}` bị trùng ở `{w}code` [duplicate indicator code]")
            seen_ind.add(code)
            rc = _need(x, "report_code", w, str)
            if rc not in REPORT_CODES:
                raise CampaignError(f"khóa `{w}report_code` = {rc!r} không hợp lệ; hợp lệ: {list(REPORT_CODES)}")
            sql = _need(x, "sql", w, str).strip().rstrip(";")
            if not sql:
                raise CampaignError(f"khóa `{w}sql` rỗng: hãy viết câu truy vấn trả về school_code, value [empty sql]")
            inds.append(Indicator(code=code, name=_need(x, "name", w, str), report_code=rc, sql=sql, order=i,
                                  sources=_indicator_source(x, w, sql)))
        if not progs and any(r.kind == "student_results" for r in reqs):
            raise CampaignError("thiếu `programmes` cho yêu cầu kết quả học tập [missing programmes]")
        sy = _need(c, "school_year", "campaign.", str)
        if len(sy) != 9 or not sy[:4].isdigit():
            raise CampaignError("khóa `campaign.school_year` phải có dạng 2021-2022")
        return Campaign(
            id=_need(c, "id", "campaign.", str), title=str(c.get("title", "")),
            letter=str(c.get("letter", "")), school_year=sy,
            at_risk_window_days=float(c.get("at_risk_window_days", 7)),
            population_grade=int(_need(pop, "grade", "population.", int)),
            population_status=_need(pop, "status", "population.", str),
            programmes=tuple(progs), requirements=tuple(reqs), indicators=tuple(inds),
            cohort_years={int(k): v for k, v in data.get("cohort_years", {}).items()},
            known_statuses=tuple(pop.get("known_statuses", Campaign.known_statuses)),
            school_year_start_date=pop.get("school_year_start_date"),
            min_age_at_start=int(pop.get("min_age_at_school_year_start", 14)),
            path=str(path), fingerprint=hashlib.sha256(raw_bytes).hexdigest()[:12],
        )
    except CampaignError as e:
        raise CampaignError(f"Tệp chiến dịch {path.name}: {e}") from None
