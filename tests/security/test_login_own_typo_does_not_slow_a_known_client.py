"""Third outside review of issue 13 (finding 6), point 1: one typo of the administrator's own made
his address a "failing client" for 15 minutes, and then the username's spacing (one try per
30 s after 5 failures in a row), which an outsider keeps running, bound HIM: with the outsider
on 1, 2, 4 and 20 addresses, 3, 6, 10 and 10 of his 19 logins in 30 minutes were refused.

Now a client that has logged in successfully as a username within KNOWN_CLIENT_DAYS is a known
client of it: never bound by the username's spacing nor its ceiling, only by its own failure
budget. Known clients are kept in the operational store (table known_clients, a keyed hash of
the client, never the address), so a restarted process or another replica knows them too."""
from __future__ import annotations

import datetime as dt

import pytest

from data_access import accounts, ops_db

from tests.security import login_simulation as sim
from tests.security.conftest import ADMIN_PW   # clock, store: fixtures of conftest


@pytest.fixture(autouse=True)
def _empty_tables():
    """The throttle tables are per process: a "restart" below is emptying them."""
    _clear()
    yield
    _clear()


def _clear():
    for name in ("_CLIENT_FAILS", "_NAME_FAILS", "_NAME_CHECKS"):
        getattr(accounts, name, {}).clear()


@pytest.mark.parametrize("n", [1, 2, 4, 20])
def test_one_typo_of_his_own_does_not_let_an_outsider_keep_the_administrator_out(store, clock, monkeypatch, n):
    state = sim.count_checks(monkeypatch, store)
    sim.admin_knows_his_address(store, clock)
    out = sim.simulate(store, clock, state, sim.ipv4_outsiders(n), minutes=30, every=5)
    assert out.admin_logins == (19, 0), out.refusals


@pytest.mark.usefixtures("ops_backend")
def test_known_clients_survive_a_restart_and_are_stored_as_keyed_hashes(store, clock, monkeypatch):
    """On both dialects (issue 17: several processes share one PostgreSQL): a process that never
    saw the administrator's login (here: the throttle tables emptied) still lets his known
    address through the spacing; the store holds a keyed hash, not the address."""
    sim.admin_knows_his_address(store, clock)
    _clear()                                                     # a restart, or another replica
    assert not accounts.authenticate(store, "quantri", "go-nham", client=sim.ADMIN_ADDRESS).ok
    for i in range(accounts.MAX_FAILURES):                       # an outsider starts the spacing
        clock.t += dt.timedelta(seconds=1)
        assert not accounts.authenticate(store, "quantri", f"doan-{i}", client="203.0.113.10").ok
    clock.t += dt.timedelta(seconds=1)
    # an address that never logged in as quantri and has just failed waits ...
    assert not accounts.authenticate(store, "quantri", "go-nham", client="198.51.100.1").ok
    clock.t += dt.timedelta(seconds=1)
    r = accounts.authenticate(store, "quantri", ADMIN_PW, client="198.51.100.1")
    assert not r.ok and "thử lại sau" in r.message
    # ... the administrator's known address, which has just failed once too, does not
    assert accounts.authenticate(store, "quantri", ADMIN_PW, client=sim.ADMIN_ADDRESS).ok
    cols, rows = ops_db.rows(accounts._st(store), "SELECT * FROM known_clients")
    assert len(rows) == 1
    text = " ".join(str(v) for v in rows[0])
    assert sim.ADMIN_ADDRESS not in text and "192.0.2" not in text
    assert ops_db.rows(accounts._st(store), "SELECT max(version) FROM schema_version")[1] == [(2,)]


def test_a_known_client_expires_after_known_client_days(store, clock, monkeypatch):
    sim.admin_knows_his_address(store, clock)
    clock.t += dt.timedelta(days=accounts.KNOWN_CLIENT_DAYS)
    assert not accounts.authenticate(store, "quantri", "go-nham", client=sim.ADMIN_ADDRESS).ok
    for i in range(accounts.MAX_FAILURES):
        clock.t += dt.timedelta(seconds=1)
        accounts.authenticate(store, "quantri", f"doan-{i}", client="203.0.113.10")
    clock.t += dt.timedelta(seconds=1)
    r = accounts.authenticate(store, "quantri", ADMIN_PW, client=sim.ADMIN_ADDRESS)
    assert not r.ok and "thử lại sau" in r.message      # a failing client like any other again


def test_a_known_client_still_has_its_own_failure_budget(store, clock):
    sim.admin_knows_his_address(store, clock)
    for i in range(accounts.CLIENT_MAX_FAILURES):
        clock.t += dt.timedelta(seconds=1)
        assert not accounts.authenticate(store, "quantri", f"doan-{i}", client=sim.ADMIN_ADDRESS).ok
    r = accounts.authenticate(store, "quantri", ADMIN_PW, client=sim.ADMIN_ADDRESS)
    assert not r.ok and "thử lại sau" in r.message


def test_a_password_reset_forgets_the_known_clients(store, clock):
    """A reset usually follows a leaked password: a client the thief logged in from must not
    keep its exemption."""
    from data_access.access import SYSTEM
    sim.admin_knows_his_address(store, clock)
    accounts.reset_password(store, SYSTEM, "quantri", ADMIN_PW)
    assert ops_db.rows(accounts._st(store), "SELECT count(*) FROM known_clients")[1] == [(0,)]
