"""Finding 4: demo accounts (published passwords, full access) only on the generated demo
series, proven by the snapshots' content hashes, never by the manifest's self-declared
``source``: a real extract with a copied manifest got the demo passwords before."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from data_access import accounts, store_kind
from data_access.store import Store

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"


def _ingest(extract: Path, store: Path) -> None:
    subprocess.run([sys.executable, "-m", "data_access", "ingest", str(extract), "--store", str(store),
                    "--no-precompute"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def test_regenerating_the_demo_series_gives_the_known_hashes(demo_store):
    """The generator is deterministic: the hashes recorded in store_kind are what it makes."""
    s = Store(demo_store)
    got = {s.read_meta(sid)["content_hash"] for sid in s.list_snapshots(include_hidden=True)["snapshot_id"]}
    assert len(got) == 11
    assert got == set(store_kind.DEMO_CONTENT_HASHES)
    assert store_kind.is_demo_store(demo_store)


@pytest.mark.usefixtures("ops_backend")   # on SQLite and on PostgreSQL (issue 17)
def test_real_extract_with_a_copied_manifest_gets_no_demo_accounts(tmp_path):
    extract = tmp_path / "extract"
    shutil.copytree(SAMPLE, extract)              # manifest kept: source = "sample_data.generate ..."
    t = extract / "truong.csv"
    t.write_bytes(t.read_bytes().replace("Nguyễn Thị Minh Khai".encode(), "Nguyễn Thị Minh Khai 2".encode(), 1))
    assert "sample_data.generate" in (extract / "manifest.toml").read_text(encoding="utf-8")
    real = tmp_path / "real"
    _ingest(extract, real)
    assert not store_kind.is_demo_store(real)
    assert not accounts.store_is_sample(real)
    assert not accounts.ensure_demo_accounts(real) and accounts.count(real) == 0
    assert not accounts.authenticate(real, "demo_quantri", "demo-quantri-2022").ok


@pytest.mark.usefixtures("ops_backend")
def test_demo_accounts_end_when_any_other_snapshot_exists_even_hidden(demo_copy, tmp_path):
    assert accounts.ensure_demo_accounts(demo_copy)
    tok = accounts.authenticate(demo_copy, "demo_quantri", "demo-quantri-2022").token
    assert accounts.check_session(demo_copy, tok).viewer is not None
    extract = tmp_path / "extract"
    shutil.copytree(SAMPLE, extract)
    (extract / "manifest.toml").write_text('as_of = 2022-04-28T17:00:00+07:00\n'
                                           'source = "sample_data.generate scale=demo seed=20220425"\n',
                                           encoding="utf-8")
    _ingest(extract, demo_copy)            # same files, another as-of: not the generated series
    from data_access import imports
    from data_access.access import SYSTEM
    other = [s for s in Store(demo_copy).list_snapshots()["snapshot_id"] if s.startswith("20220428")]
    assert len(other) == 1
    imports.hide_snapshot(demo_copy, SYSTEM, other[0], "kiểm thử: bản không phải dữ liệu mẫu")
    assert other[0] not in set(Store(demo_copy).list_snapshots()["snapshot_id"])   # hidden, still there
    assert not store_kind.is_demo_store(demo_copy)
    assert not accounts.store_is_sample(demo_copy) and not accounts.demo_in_use(demo_copy)
    assert accounts.check_session(demo_copy, tok).viewer is None
    assert not accounts.authenticate(demo_copy, "demo_quantri", "demo-quantri-2022").ok
