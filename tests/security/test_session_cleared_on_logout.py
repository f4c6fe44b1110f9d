"""Finding 2: session data must not outlive the login that made it. A workbook built by one
account stayed in st.session_state; after logout another account on the same browser tab was
served the first account's file. Logout, idle expiry and a change of account clear the whole
session state, and a prepared download is served only to the viewer that built it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access import accounts
from data_access.current_user import set_viewer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_bypass(monkeypatch):
    set_viewer(None)
    monkeypatch.delenv("TIENDO_VIEWER", raising=False)
    yield
    set_viewer(None)


def _app(store, monkeypatch):
    monkeypatch.setenv("TIENDO_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _login(at, user, pw):
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(pw)
    [b] = [b for b in at.button if b.label == "Đăng nhập"]
    b.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "_auth_token" in at.session_state


def _build_city_csv(at):
    at.switch_page("pages/downloads.py").run()
    at.radio(key="dl_format").set_value("csv").run()
    at.button(key="dl_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "dl_file" in at.session_state and len(at.get("download_button")) == 1


def _logout(at):
    [b] = [b for b in at.sidebar.button if b.label == "Đăng xuất"]
    b.click().run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.usefixtures("ops_backend")   # on SQLite and on PostgreSQL (issue 17)
def test_logout_then_another_account_is_not_served_the_first_accounts_file(demo_copy, monkeypatch):
    at = _app(demo_copy, monkeypatch)
    _login(at, "demo_khtc", "demo-khtc-2022")
    _build_city_csv(at)
    _logout(at)
    assert "dl_file" not in at.session_state and "_ctx" not in at.session_state
    assert "Đã đăng xuất" in " ".join(w.value for w in at.warning)
    _login(at, "demo_lanhdao", "demo-lanhdao-2022")
    at.switch_page("pages/downloads.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="dl_format").value == "xlsx"          # the widgets start afresh too
    at.radio(key="dl_format").set_value("csv").run()          # the same request as the first file
    assert len(at.get("download_button")) == 0, "the other account's file is still offered"


def test_a_prepared_file_is_refused_to_any_other_viewer(demo_copy, monkeypatch):
    at = _app(demo_copy, monkeypatch)
    _login(at, "demo_khtc", "demo-khtc-2022")
    _build_city_csv(at)
    built = dict(at.session_state["dl_file"])
    _logout(at)
    _login(at, "demo_lanhdao", "demo-lanhdao-2022")
    at.switch_page("pages/downloads.py").run()
    at.radio(key="dl_format").set_value("csv").run()
    at.session_state["dl_file"] = built        # as if the state had survived: still not served
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("download_button")) == 0
    assert "dl_file" not in at.session_state


def test_idle_expiry_clears_the_session_state(demo_copy, monkeypatch):
    t = [dt.datetime(2022, 4, 27, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))]
    monkeypatch.setattr(accounts, "clock", lambda: t[0])
    at = _app(demo_copy, monkeypatch)
    _login(at, "demo_khtc", "demo-khtc-2022")
    _build_city_csv(at)
    t[0] += dt.timedelta(minutes=accounts.idle_minutes() + 1)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "dl_file" not in at.session_state and "dl_format" not in at.session_state
    assert "_auth_token" not in at.session_state
    assert "hết hạn" in " ".join(w.value for w in at.warning)
