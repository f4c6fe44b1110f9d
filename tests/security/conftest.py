"""Fixtures of the security tests: a store of the committed sample extract (generated demo data,
so the demo accounts exist), copied fresh for each test so that accounts, sessions and the
audit log of one test never reach another."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
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
