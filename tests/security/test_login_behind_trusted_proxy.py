"""Third outside review of issue 13 (finding 6), point 2: behind a reverse proxy on the same host
st.context.ip_address is None (Streamlit maps loopback to None), so every browser was the one
client "?" and anyone could spend its budget and keep the administrator out. Now, with
TIENDO_TRUSTED_PROXIES naming the proxy, the client is the address the proxy forwarded
(X-Forwarded-For, rightmost entry that is not a trusted proxy; else X-Real-IP); a header from a
peer that is not a trusted proxy is ignored (anyone can write one)."""
from __future__ import annotations

import ipaddress
import logging

import pytest
import streamlit
from streamlit.runtime.context import StreamlitHeaders

import auth_ui
from data_access import accounts
from data_access import client_address as ca

from tests.security import login_simulation as sim

LOCAL = ca.parse_trusted("127.0.0.1,::1")


@pytest.fixture(autouse=True)
def _empty_tables():
    sim.clear_throttle_tables()
    yield
    sim.clear_throttle_tables()


# ---- the pure function --------------------------------------------------------------------------

def test_a_trusted_proxy_gives_the_forwarded_address():
    assert ca.forwarded_client(None, {"X-Forwarded-For": "203.0.113.5"}, LOCAL) == "203.0.113.5"
    assert ca.forwarded_client("127.0.0.1", {"x-forwarded-for": "203.0.113.5"}, LOCAL) == "203.0.113.5"
    assert ca.forwarded_client("::1", {"X-Real-IP": "203.0.113.6"}, LOCAL) == "203.0.113.6"
    assert ca.forwarded_client("", {"X-Forwarded-For": "203.0.113.5"}, LOCAL) == "203.0.113.5"


def test_headers_from_a_peer_that_is_not_a_trusted_proxy_are_ignored():
    spoof = {"X-Forwarded-For": "192.0.2.1", "X-Real-IP": "192.0.2.1"}
    assert ca.forwarded_client("198.51.100.9", spoof, LOCAL) == "198.51.100.9"
    # a None peer is loopback: not trusted when only another proxy is named
    assert ca.forwarded_client(None, spoof, ca.parse_trusted("10.0.0.2")) is None
    assert ca.forwarded_client("garbage", spoof, LOCAL) == "garbage"


def test_setting_off_is_todays_behaviour():
    assert ca.forwarded_client(None, {"X-Forwarded-For": "203.0.113.5"}, ()) is None
    assert ca.forwarded_client("198.51.100.9", {"X-Forwarded-For": "203.0.113.5"}, ()) == "198.51.100.9"


def test_chains_take_the_rightmost_address_that_is_not_a_trusted_proxy():
    two = ca.parse_trusted("127.0.0.1, 10.0.0.0/8")
    # what the browser wrote (left) is not believed; the hops our proxies appended are
    assert ca.forwarded_client(None, {"X-Forwarded-For": "192.0.2.1, 203.0.113.5, 10.1.2.3"}, two) == "203.0.113.5"
    assert ca.forwarded_client(None, {"X-Forwarded-For": "192.0.2.1, 203.0.113.5"}, two) == "203.0.113.5"
    # several header lines are one list, in order
    assert ca.forwarded_client(None, {"X-Forwarded-For": ["192.0.2.1", "203.0.113.5, 10.1.2.3"]}, two) == "203.0.113.5"
    # only proxies of ours: the leftmost of them
    assert ca.forwarded_client(None, {"X-Forwarded-For": "10.9.9.9, 10.1.2.3"}, two) == "10.9.9.9"


def test_ipv6_and_ports():
    assert ca.forwarded_client("::1", {"X-Forwarded-For": "2001:db8:1:2::7"}, LOCAL) == "2001:db8:1:2::7"
    assert ca.forwarded_client("::1", {"X-Forwarded-For": "[2001:db8:1:2::7]:443"}, LOCAL) == "2001:db8:1:2::7"
    assert ca.forwarded_client("::1", {"X-Forwarded-For": "203.0.113.5:5678"}, LOCAL) == "203.0.113.5"
    assert ca.forwarded_client("::ffff:127.0.0.1", {"X-Forwarded-For": "::ffff:203.0.113.5"}, LOCAL) == "203.0.113.5"
    v6 = ca.parse_trusted("2001:db8:ffff::/48")
    assert ca.forwarded_client("2001:db8:ffff::1", {"X-Forwarded-For": "2001:db8:1::5, 2001:db8:ffff::2"}, v6) \
        == "2001:db8:1::5"


def test_garbage_is_never_taken_for_an_address():
    for bad in ("unknown", "evil.example", "1.2.3.4.5", "", " , ", "[2001:db8::1", "_hidden", "<script>"):
        got = ca.forwarded_client(None, {"X-Forwarded-For": bad}, LOCAL)
        assert got is None, (bad, got)                     # the peer as before: nothing invented
    # garbage on the right stops the walk (nothing left of it was written by our proxy) ...
    assert ca.forwarded_client(None, {"X-Forwarded-For": "203.0.113.5, unknown"}, LOCAL) is None
    # ... and X-Real-IP, set by the proxy itself, is used then
    assert ca.forwarded_client(None, {"X-Forwarded-For": "203.0.113.5, unknown", "X-Real-IP": "198.51.100.3"},
                               LOCAL) == "198.51.100.3"
    assert ca.parse_trusted("127.0.0.1, nonsense, ::1") == (ipaddress.ip_network("127.0.0.1/32"),
                                                           ipaddress.ip_network("::1/128"))


def test_without_the_setting_a_forwarded_header_logs_one_warning(monkeypatch, caplog):
    monkeypatch.delenv(ca.TRUSTED_ENV, raising=False)
    monkeypatch.setattr(ca, "_warned", type(ca._warned)())
    with caplog.at_level(logging.WARNING, logger=ca.__name__):
        assert ca.client_address(None, {"X-Forwarded-For": "203.0.113.5"}) is None
        assert ca.client_address(None, {"X-Forwarded-For": "203.0.113.6"}) is None
        assert ca.client_address(None, {}) is None
    warnings = [r for r in caplog.records if ca.TRUSTED_ENV in r.getMessage()]
    assert len(warnings) == 1


# ---- the login page's wiring and the simulation ----------------------------------------------

class _Context:
    def __init__(self, ip, headers):
        self.ip_address = ip
        self.headers = StreamlitHeaders(list(headers.items()))


def _through_proxy(monkeypatch, store):
    """An attempt as the login page makes it behind nginx on the same host: Streamlit sees the
    peer as None and the proxy's X-Forwarded-For (with whatever the browser sent on its left)."""
    def login(pw, who):
        monkeypatch.setattr(streamlit, "context", _Context(None, {"X-Forwarded-For": f"10.6.6.6, {who}"}))
        return accounts.authenticate(store, "quantri", pw, client=auth_ui._client_address())
    return login


@pytest.mark.parametrize("n", [4, 20])
def test_behind_a_trusted_proxy_an_outsider_rotating_addresses_cannot_keep_the_administrator_out(
        store, clock, monkeypatch, n):
    monkeypatch.setenv("TIENDO_TRUSTED_PROXIES", "127.0.0.1,::1")
    login = _through_proxy(monkeypatch, store)
    state = sim.count_checks(monkeypatch, store)
    sim.admin_knows_his_address(store, clock, login)
    out = sim.simulate(store, clock, state, sim.ipv4_outsiders(n), minutes=30, every=5, login=login)
    print(f"behind a proxy, {n} addresses: admin {out.admin_logins}, outsider checks {out.outsider_checks}")
    assert out.admin_logins == (19, 0), out.refusals
    assert out.outsider_checks <= accounts.USERNAME_MAX_CHECKS


def test_the_login_page_ignores_forwarded_headers_of_an_untrusted_peer(monkeypatch):
    monkeypatch.setenv("TIENDO_TRUSTED_PROXIES", "127.0.0.1,::1")
    monkeypatch.setattr(streamlit, "context", _Context("198.51.100.9", {"X-Forwarded-For": "192.0.2.1"}))
    assert auth_ui._client_address() == "198.51.100.9"
    monkeypatch.setattr(streamlit, "context", _Context(None, {"X-Forwarded-For": "192.0.2.1"}))
    assert auth_ui._client_address() == "192.0.2.1"
