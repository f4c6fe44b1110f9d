"""Shared fixtures. The generated demo series is built once per test session (seconds) and
imported through the real CLI, so tests see exactly what a user's `make run` sees."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """A store holding the whole generated demo series (11 snapshots: 9 regular and one at each record cut-off), derived facts precomputed."""
    base = tmp_path_factory.mktemp("demo")
    extracts, store = base / "extracts", base / "store"
    subprocess.run([sys.executable, "-m", "sample_data.generate", "--scale", "demo", "--out", str(extracts),
                    "--quiet"], cwd=ROOT, check=True)
    for folder in sorted(p for p in extracts.iterdir() if p.is_dir()):
        subprocess.run([sys.executable, "-m", "data_access", "ingest", str(folder), "--store", str(store)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return store
