"""Third outside review of issue 13 (finding 6), point 3: there was no ceiling per username, so
the password checks an outsider got for `quantri` grew with the number of his addresses, about
4N + 120 an hour (40, 124, 187, 451 an hour with 1, 4, 20, 100 IPv6 /64s).

Now at most USERNAME_MAX_CHECKS password checks an hour for one username from clients that are
not known clients of it; beyond that such clients get the throttled message without hashing,
while the administrator from his known address still gets every login, a typo of his own
included."""
from __future__ import annotations

import datetime as dt

import pytest

from data_access import accounts

from tests.security import login_simulation as sim
from tests.security.conftest import ADMIN_PW   # clock, store: fixtures of conftest


@pytest.fixture(autouse=True)
def _empty_tables():
    sim.clear_throttle_tables()
    yield
    sim.clear_throttle_tables()


@pytest.mark.parametrize("n", [1, 4, 20, 100])
def test_password_checks_for_one_username_stay_under_the_ceiling_whatever_the_number_of_addresses(
        store, clock, monkeypatch, n):
    state = sim.count_checks(monkeypatch, store)
    sim.admin_knows_his_address(store, clock)
    out = sim.simulate(store, clock, state, sim.ipv6_outsiders(n), minutes=60, every=10)
    print(f"{n} /64s: outsider checks {out.outsider_checks} in 60 min, admin {out.admin_logins}")
    assert out.outsider_checks <= accounts.USERNAME_MAX_CHECKS, out.outsider_checks
    assert out.admin_logins == (37, 0), out.refusals        # 100 %, after a typo of his own


def test_beyond_the_ceiling_the_message_is_the_throttled_one_and_nothing_is_hashed(store, clock, monkeypatch):
    """The same for an unknown username (no enumeration through the ceiling: the message says
    when to try again, as every throttled refusal does)."""
    state = sim.count_checks(monkeypatch, store)
    for j, user in enumerate(("quantri", "khong-co-ai")):
        for i in range(accounts.USERNAME_MAX_CHECKS):   # a fresh address each: neither the client
            clock.t += dt.timedelta(seconds=1)          # budget nor the spacing binds
            assert not accounts.authenticate(store, user, f"doan-{i}", client=f"10.{i}.{j}.1").ok
    assert state["admin"] == 2 * accounts.USERNAME_MAX_CHECKS
    state["who"] = "outsider"
    for user in ("quantri", "khong-co-ai"):
        clock.t += dt.timedelta(seconds=1)
        r = accounts.authenticate(store, user, ADMIN_PW, client="198.51.100.77")
        assert not r.ok and r.message.startswith("Đã đăng nhập sai nhiều lần: hãy thử lại sau")
    assert state["outsider"] == 0
    # an hour after the first of these checks, a clean client is checked again
    clock.t += accounts.USERNAME_WINDOW
    assert accounts.authenticate(store, "quantri", ADMIN_PW, client="198.51.100.77").ok
