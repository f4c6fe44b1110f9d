"""Finding 10: TIENDO_VIEWER (the login bypass of tests and benches) left in an operator's shell
turned login off on real data. It works only on the generated demo store or on a store a test
marked explicitly (store_kind.mark_test_store), and `make run` never passes it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access import current_user, store_kind
from data_access.current_user import set_viewer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"


@pytest.fixture
def real_store(tmp_path) -> Path:
    extract = tmp_path / "extract"
    shutil.copytree(SAMPLE, extract)
    m = extract / "manifest.toml"
    m.write_text(m.read_text(encoding="utf-8").replace("sample_data.generate", "CSDL HCM"), encoding="utf-8")
    t = extract / "truong.csv"
    t.write_bytes(t.read_bytes() + b"")
    b = extract / "bao_cao.csv"
    b.write_bytes(b.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))   # other bytes
    store = tmp_path / "real"
    subprocess.run([sys.executable, "-m", "data_access", "ingest", str(extract), "--store", str(store),
                    "--no-precompute"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    assert not store_kind.is_demo_store(store)
    return store


@pytest.fixture(autouse=True)
def _reset():
    set_viewer(None)
    yield
    set_viewer(None)


def test_bypass_refused_on_a_real_store(real_store, monkeypatch):
    monkeypatch.setenv("TIENDO_STORE", str(real_store))
    monkeypatch.setenv("TIENDO_VIEWER", "quan_tri")
    assert current_user.env_viewer() is None
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Tiến độ cập nhật CSDL" and not at.metric     # the login page
    assert any("TIENDO_VIEWER" in e.value for e in at.error)                  # and it says why


def test_bypass_works_on_a_marked_test_store_and_on_the_demo_store(real_store, demo_copy, monkeypatch):
    monkeypatch.setenv("TIENDO_VIEWER", "quan_tri")
    store_kind.mark_test_store(real_store)
    monkeypatch.setenv("TIENDO_STORE", str(real_store))
    assert current_user.env_viewer().role == "quan_tri"
    monkeypatch.setenv("TIENDO_STORE", str(demo_copy))
    assert current_user.env_viewer().role == "quan_tri"


def test_make_run_never_passes_tiendo_viewer():
    p = subprocess.run(["make", "-n", "run", "VENV=/nonexistent-venv"], cwd=ROOT, capture_output=True,
                       text=True, env={"PATH": "/usr/bin:/bin", "TIENDO_VIEWER": "quan_tri"})
    line = [x for x in p.stdout.splitlines() if "serve.py" in x or "streamlit run dashboard.py" in x]
    assert line, p.stdout + p.stderr
    assert "env -u TIENDO_VIEWER" in line[0]
