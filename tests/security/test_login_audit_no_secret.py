"""Finding 8: a password typed into the username field was kept in the audit log. An unknown
username is logged as a fixed "unknown account" entry with a keyed hash (the key lives in the
store, not in the code), so repeated attempts can be told apart but no name is kept."""
from __future__ import annotations

import pytest

from data_access import accounts, ops
from data_access.access import SYSTEM
from tests import ops_backend as ob

SECRET = "MatKhau-Cua-Toi-2024!"


def test_unknown_username_is_not_written_to_the_audit_log(tmp_path, ops_backend):
    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    accounts.add(s1, SYSTEM, "lan.kh", "khtc", password="mat-khau-du-dai-1")
    assert not accounts.authenticate(s1, SECRET, "x", client="192.0.2.5").ok
    assert not accounts.authenticate(s1, SECRET, "y", client="192.0.2.5").ok
    assert not accounts.authenticate(s1, "lan.kh", "sai", client="192.0.2.5").ok
    log = ops.list_audit(s1, SYSTEM, limit=100, action="login.failure")
    text = log.to_string()
    assert SECRET not in text and SECRET.lower() not in text.lower()
    blobs = ob.blobs(s1)
    assert SECRET.encode() not in blobs
    unknown = log[log["username"] == accounts.UNKNOWN_ACCOUNT]
    assert len(unknown) == 2
    assert unknown["detail"].nunique() == 1                      # the same name, the same hash
    assert "lan.kh" in set(log["username"])                      # a real account is named
    # the key is the store's own: another store gives another hash for the same name
    with ops_backend.separate():    # s2's own operational store (on PostgreSQL: its own schema)
        assert not accounts.authenticate(s2, SECRET, "x", client="192.0.2.5").ok
        other = ops.list_audit(s2, SYSTEM, limit=10, action="login.failure")["detail"].iloc[0]
    assert other != unknown["detail"].iloc[0]
    assert accounts._audit_key(s1) not in open(accounts.__file__, encoding="utf-8").read()
