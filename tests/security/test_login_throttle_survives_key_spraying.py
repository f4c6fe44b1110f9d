"""Outside review of issue 13, finding 3: the login throttle tables were cleared ENTIRELY when
they held more than ``_MAX_TRACKED`` (20 000) keys, so an attacker who sprayed 20 000 client
keys (or usernames) wiped everyone's throttle state, the one on the attacked account and on the
attacker's own client included. Now only the oldest entries that hold no throttle go first, and
an IPv6 client is counted by its /64 (one attacker's /64 is 2^64 addresses, one key), an IPv4
client by its address."""
from __future__ import annotations

import datetime as dt

import pytest

from data_access import accounts

from tests.security.conftest import ADMIN_PW   # clock, store: fixtures of conftest



@pytest.fixture(autouse=True)
def _empty_tables():
    """The tables are per process: no other test's entries here, and none of ours left behind."""
    accounts._CLIENT_FAILS.clear()
    accounts._NAME_FAILS.clear()
    yield
    accounts._CLIENT_FAILS.clear()
    accounts._NAME_FAILS.clear()


def _throttled(r) -> bool:
    return not r.ok and "thử lại sau" in r.message


def test_spraying_more_keys_than_the_cap_keeps_the_attackers_throttle(store, clock):
    attacker = "203.0.113.50"
    for i in range(accounts.CLIENT_MAX_FAILURES):            # the attacker guesses quantri's password
        clock.t += dt.timedelta(seconds=1)
        assert not accounts.authenticate(store, "quantri", f"doan-{i}", client=attacker).ok
    assert _throttled(accounts.authenticate(store, "quantri", ADMIN_PW, client=attacker))
    # ... then sprays more distinct clients and usernames than the tables hold (one failure each;
    # recorded directly, as authenticate would, to keep the test fast)
    skey = str(store.resolve())
    for i in range(accounts._MAX_TRACKED + 500):
        accounts._note_failure(skey, f"khong-co-{i}", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", clock.t)
    assert len(accounts._CLIENT_FAILS) <= accounts._MAX_TRACKED
    assert len(accounts._NAME_FAILS) <= accounts._MAX_TRACKED
    # the attacker's client is still throttled, even with the right password
    assert _throttled(accounts.authenticate(store, "quantri", ADMIN_PW, client=attacker))


def test_spraying_more_keys_than_the_cap_keeps_the_slowing_of_the_targeted_account(store, clock):
    guesser = "198.51.100.7"
    for i in range(accounts.MAX_FAILURES):                 # five failures in a row on quantri
        clock.t += dt.timedelta(seconds=1)
        assert not accounts.authenticate(store, "quantri", f"doan-{i}", client=guesser).ok
    skey = str(store.resolve())
    for i in range(accounts._MAX_TRACKED + 500):
        accounts._note_failure(skey, f"khong-co-{i}", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", clock.t)
    # the guessing client's next try on quantri, within ACCOUNT_SLOW_STEP, still waits (the
    # spacing binds failing clients only: the spray must not make the guesser a clean client)
    clock.t += dt.timedelta(seconds=1)
    assert _throttled(accounts.authenticate(store, "quantri", ADMIN_PW, client=guesser))
    # ... while the administrator from a clean address is never held back by it
    assert accounts.authenticate(store, "quantri", ADMIN_PW, client="192.0.2.200").ok


def test_ipv6_addresses_in_one_64_share_one_throttle(store, clock):
    for i in range(accounts.CLIENT_MAX_FAILURES):           # a new address of the same /64 each time
        clock.t += dt.timedelta(seconds=1)
        assert not accounts.authenticate(store, f"user{i}", "sai", client=f"2001:db8:1:2::{i + 1:x}").ok
    assert _throttled(accounts.authenticate(store, "quantri", ADMIN_PW, client="2001:db8:1:2:ffff:ffff:ffff:ffff"))
    assert _throttled(accounts.authenticate(store, "quantri", ADMIN_PW, client="2001:0DB8:0001:0002::abcd"))
    # another /64 and an IPv4 address next door are other clients
    assert accounts.authenticate(store, "quantri", ADMIN_PW, client="2001:db8:1:3::1").ok
    assert accounts.authenticate(store, "quantri", ADMIN_PW, client="192.0.2.7").ok


def test_ipv4_clients_are_counted_by_their_own_address(store, clock):
    for i in range(accounts.CLIENT_MAX_FAILURES):
        clock.t += dt.timedelta(seconds=1)
        accounts.authenticate(store, f"user{i}", "sai", client="192.0.2.1")
    assert _throttled(accounts.authenticate(store, "quantri", ADMIN_PW, client="192.0.2.1"))
    assert _throttled(accounts.authenticate(store, "quantri", ADMIN_PW, client="::ffff:192.0.2.1"))  # the same, mapped
    assert accounts.authenticate(store, "quantri", ADMIN_PW, client="192.0.2.2").ok


def test_client_key():
    assert accounts._client_key("2001:db8:1:2::1") == accounts._client_key("2001:db8:1:2:abcd::9")
    assert accounts._client_key("2001:db8:1:2::1") != accounts._client_key("2001:db8:1:3::1")
    assert accounts._client_key("192.0.2.1") != accounts._client_key("192.0.2.2")
    assert accounts._client_key("?") == "?"
