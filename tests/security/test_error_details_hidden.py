"""Finding 9: errors showed Streamlit's traceback to users. Users see a short Vietnamese
message with an incident id; the traceback goes to the server log; the project's Streamlit
config says showErrorDetails = "none"."""
from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

from streamlit.testing.v1 import AppTest

import app_state
from data_access.access import Viewer
from data_access.current_user import set_viewer

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_config_hides_error_details():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["client"]["showErrorDetails"] == "none"


def test_a_failing_page_shows_an_incident_id_and_logs_the_traceback(demo_copy, monkeypatch, caplog):
    monkeypatch.setenv("TIENDO_STORE", str(demo_copy))
    set_viewer(Viewer("demo", "quan_tri"))

    def boom(*a, **k):
        raise RuntimeError("chi-tiet-noi-bo /duong/dan/bi-mat.py")
    monkeypatch.setattr(app_state, "header", boom)
    try:
        with caplog.at_level(logging.ERROR):
            at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    finally:
        set_viewer(None)
    assert not at.exception, "the traceback reached the page"
    shown = " ".join(e.value for e in at.error)
    m = re.search(r"Mã sự cố: ([0-9a-f]{8})", shown)
    assert m and "chi-tiet-noi-bo" not in shown
    logged = caplog.text
    assert m.group(1) in logged and "chi-tiet-noi-bo" in logged and "Traceback" in logged
