"""Second outside review of issue 13 (finding 7's neighbour): Streamlit's built-in "Download as
CSV" on every st.dataframe wrote imported values raw (a school named =HYPERLINK(...) stays a
formula; only separators are quoted) and no line of the audit log. The project's config turns
the built-in export off (client.disableDataExport), so every file leaves through the pages' own
st.download_button, formula-checked and audited (tests/test_exports.py, test_workbook_formula_injection.py)."""
from __future__ import annotations

import tomllib
from pathlib import Path

from streamlit import config as st_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_in_table_download_is_off_in_the_project_config():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["client"]["disableDataExport"] is True


def test_this_streamlit_knows_the_option():
    """A Streamlit without the option would ignore the line and show the button again."""
    assert st_config.get_option("client.disableDataExport") in (True, False)
