"""The outside reviewers' login simulation (issue 13, finding 6), shared by the login tests: a
fake clock, an outsider sending bogus logins for ``quantri`` from rotating clients, and the
administrator logging in with the right password from his own address every ~97 s.

Why a helper: the same scenario is measured with 1 to 100 outsider addresses, directly and
behind a reverse proxy; the numbers the tests assert (logins ok / refused, password checks of
the outsider) must come from one definition of the scenario."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from data_access import accounts

from tests.security.conftest import ADMIN_PW

ADMIN_ADDRESS = "192.0.2.1"


@dataclass
class Outcome:
    admin_ok: int = 0
    admin_refused: int = 0
    outsider_checks: int = 0                 # password checks (_verify calls) for the outsider
    refusals: list = field(default_factory=list)

    @property
    def admin_logins(self) -> tuple[int, int]:
        return self.admin_ok, self.admin_refused


THROTTLE_TABLES = ("_CLIENT_FAILS", "_NAME_FAILS", "_NAME_CHECKS")


def clear_throttle_tables() -> None:
    """The throttle's in-process tables, emptied so one test's attempts never throttle the next."""
    for name in THROTTLE_TABLES:
        getattr(accounts, name, {}).clear()


def count_checks(monkeypatch, store) -> dict:
    """Replace accounts._verify by a counter (who asked is in ``state['who']``). The check is
    the real one for the administrator's hash (compared with its right password), without
    argon2's 50 ms per call: the simulations run thousands of attempts."""
    admin_hash = accounts._rows(store, "SELECT password_hash FROM accounts WHERE username = 'quantri'")[0][
        "password_hash"]
    state = {"who": "admin", "outsider": 0, "admin": 0}

    def fake(h, p):
        state[state["who"]] += 1
        return h == admin_hash and p == ADMIN_PW
    monkeypatch.setattr(accounts, "_verify", fake)
    return state


def admin_knows_his_address(store, clock, login=None) -> None:
    """The administrator logged in from his own address yesterday (a known client)."""
    login = login or (lambda pw, who: accounts.authenticate(store, "quantri", pw, client=ADMIN_ADDRESS))
    clock.t -= dt.timedelta(days=1)
    r = login(ADMIN_PW, ADMIN_ADDRESS)
    assert r.ok, r.message
    accounts.logout(store, r.token)
    clock.t += dt.timedelta(days=1)


def simulate(store, clock, state, outsiders: list[str], minutes: int, every: int = 5,
             typo: bool = True, login=None) -> Outcome:
    """``minutes`` simulated minutes: the outsider sends one bogus login for quantri every
    ``every`` seconds, cycling through ``outsiders``; the administrator (ADMIN_ADDRESS) types
    his password wrong once at the start (``typo``) and then logs in every 97 s.
    ``login(password, client)``: how an attempt reaches accounts.authenticate (behind a proxy,
    the test gives its own)."""
    login = login or (lambda pw, who: accounts.authenticate(store, "quantri", pw, client=who))
    out = Outcome()
    if typo:
        state["who"] = "admin"
        assert not login("mat-khau-go-nham", ADMIN_ADDRESS).ok
    k = 0
    for sec in range(1, minutes * 60 + 1):
        clock.t += dt.timedelta(seconds=1)
        if sec % every == 0:
            state["who"] = "outsider"
            before = state["outsider"]
            r = login(f"doan-{sec}", outsiders[k % len(outsiders)])
            k += 1
            assert not r.ok
            out.outsider_checks += state["outsider"] - before
        if sec % 97 == 13:
            state["who"] = "admin"
            r = login(ADMIN_PW, ADMIN_ADDRESS)
            if r.ok:
                out.admin_ok += 1
                accounts.logout(store, r.token)
            else:
                out.admin_refused += 1
                out.refusals.append((sec, r.message))
    return out


def ipv4_outsiders(n: int) -> list[str]:
    return [f"203.0.113.{10 + i}" for i in range(n)]


def ipv6_outsiders(n: int) -> list[str]:
    """One address in each of ``n`` different /64s (a fresh address each round changes nothing:
    a client is its /64)."""
    return [f"2001:db8:{i // 256:x}:{i % 256:x}::{i + 1:x}" for i in range(n)]
