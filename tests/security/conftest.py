"""Fixtures of the security tests: a store of the committed sample extract (generated demo data,
so the demo accounts exist), copied fresh for each test so that accounts, sessions and the
audit log of one test never reach another."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from data_access import accounts
from data_access.access import SYSTEM
from data_access.store import TZ
from tests.snapshot_factory import import_sample

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"


@pytest.fixture(scope="session")
def sample_store_base(tmp_path_factory) -> Path:
    return import_sample(tmp_path_factory.mktemp("sec_sample") / "store")


@pytest.fixture
def demo_copy(sample_store_base, tmp_path) -> Path:
    s = tmp_path / "store"
    shutil.copytree(sample_store_base, s, ignore=shutil.ignore_patterns("ops.sqlite*"))
    return s


# The login tests: a fake clock for the throttle and a store with one administrator.
ADMIN_PW = "mat-khau-quan-tri-dai-1"
class Clock:
    def __init__(self):
        self.t = dt.datetime(2022, 4, 27, 9, 0, tzinfo=TZ)

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(accounts, "clock", c)
    return c


@pytest.fixture
def store(tmp_path):
    s = tmp_path / "store"
    accounts.add(s, SYSTEM, "quantri", "quan_tri", password=ADMIN_PW)
    return s
