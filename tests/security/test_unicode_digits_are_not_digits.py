"""Outside review of issue 13, finding 2: Python's ``\\d`` matches every Unicode decimal digit
(fullwidth ０-９, Arabic-Indic ٠-٩, Devanagari ०-९ …) and ``int()`` reads them, so a CCCD typed
``０７９２０９００９５１７`` was "a valid 12-digit number" to the mask and showed its first four
and last two digits, although the SQL rules (DuckDB's RE2, where ``\\d`` is [0-9] only) call it
invalid. Now the mask accepts ASCII digits only, and this test pins the SQL side too, so what SQL
calls valid and what the mask reveals agree."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data_access.access import mask_birth_date, mask_id
from data_access.store import SNAPSHOT_RE

ROOT = Path(__file__).resolve().parents[2]
M = "••••"

FULLWIDTH_ID = "０７９２０９００９５１７"
IDS = [FULLWIDTH_ID,
       "٠٧٩٢٠٩٠٠٩٥١٧",                 # Arabic-Indic
       "۰۷۹۲۰۹۰۰۹۵۱۷",                 # Extended Arabic-Indic (Persian)
       "०७९२०९००९५१७",                 # Devanagari
       "07920900951７",                # one fullwidth digit at the end
       "𝟎𝟕𝟗𝟐𝟎𝟗𝟎𝟎𝟗𝟓𝟏𝟕"]                 # mathematical bold digits
DATES = ["１５/０６/２００４", "15/06/２００４", "٢٠٠٤-٠٦-١٥", "2004-06-١٥", "१५/०६/२००४"]


@pytest.mark.parametrize("value", IDS)
def test_an_id_of_non_ascii_digits_is_fully_masked(value):
    assert mask_id(value) == M


@pytest.mark.parametrize("value", DATES)
def test_a_date_of_non_ascii_digits_is_fully_masked(value):
    assert mask_birth_date(value) == M


def test_ascii_controls_still_show_what_the_rule_allows():
    assert mask_id("079209009517") == "0792••••••17"
    assert mask_birth_date("15/06/2004") == mask_birth_date("2004-06-15") == "••/••/2004"


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute((ROOT / "data_access" / "sql" / "staging_00_macros.sql").read_text(encoding="utf-8"))
    yield c
    c.close()


@pytest.mark.parametrize("value", IDS)
def test_sql_does_not_call_a_non_ascii_id_a_12_digit_number(con, value):
    """checks_20_ids.sql tells a valid CCCD by regexp_full_match(val, '\\d{12}')."""
    assert con.execute(r"SELECT regexp_full_match(?, '\d{12}')", [value]).fetchone()[0] is False
    assert con.execute(r"SELECT regexp_full_match(?, '\d{12}')", ["079209009517"]).fetchone()[0] is True


@pytest.mark.parametrize("value", DATES)
def test_sql_does_not_parse_a_non_ascii_date(con, value):
    assert con.execute("SELECT parse_vn_date(?)", [value]).fetchone()[0] is None
    assert str(con.execute("SELECT parse_vn_date('15/06/2004')").fetchone()[0]) == "2004-06-15"


def test_a_snapshot_file_name_needs_ascii_digits():
    assert SNAPSHOT_RE.match("20220427T170000-4bc562f9b066.duckdb")
    assert not SNAPSHOT_RE.match("２0220427T170000-4bc562f9b066.duckdb")
