"""Finding 5: denial of service before login. Each login attempt ran argon2 inside a write
transaction on ops.sqlite, so bogus logins made every other write wait (up to 6 s); uploads of
2 GB were accepted from sessions that never logged in; a .zip was expanded without a bound."""
from __future__ import annotations

import inspect
import threading
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from data_access import accounts, ops, readers
from data_access.access import SYSTEM, Viewer
from data_access.errors import ExtractError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"


@pytest.mark.usefixtures("ops_backend")   # on SQLite and on PostgreSQL (issue 17)
def test_parallel_bogus_logins_leave_another_sessions_audited_write_under_half_a_second(tmp_path):
    store = tmp_path / "store"
    accounts.add(store, SYSTEM, "quantri", "quan_tri", password="mat-khau-quan-tri-dai")
    takes_client = "client" in inspect.signature(accounts.authenticate).parameters
    start = threading.Barrier(21)
    stop = threading.Event()

    def bogus(i):
        kw = {"client": f"198.51.100.{i}"} if takes_client else {}
        start.wait()
        while not stop.is_set():
            accounts.authenticate(store, "quantri" if i % 2 else f"khong-co-{i}", f"sai-{i}", **kw)

    threads = [threading.Thread(target=bogus, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    start.wait()
    worst = 0.0
    try:
        time.sleep(0.3)   # let the attempts pile up (not a wait for an event: the load itself)
        for _ in range(15):
            t0 = time.perf_counter()
            ops.audit(store, Viewer("lan.kh", "khtc"), "download", "tong-hop.csv", rows=3)
            worst = max(worst, time.perf_counter() - t0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    n_fail = len(ops.list_audit(store, SYSTEM, limit=100_000, action="login.failure"))
    assert n_fail >= 20, "the bogus attempts did run"
    assert len(ops.list_audit(store, SYSTEM, limit=1000, action="download")) == 15
    assert worst < 0.5, f"an audited write waited {worst:.2f} s behind the login attempts"


def test_upload_cap_is_at_most_one_gigabyte_and_readme_says_so():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    cap = cfg["server"]["maxUploadSize"]
    assert 0 < cap <= 1024
    assert f"maxUploadSize = {cap}" in (ROOT / "README.md").read_text(encoding="utf-8")


def _zip_with(path: Path, big_name: str, big: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in SAMPLE.iterdir():
            if f.name != big_name:
                z.write(f, f.name)
        z.writestr(big_name, big)
    return path


def test_zip_bomb_is_refused_before_it_is_expanded(tmp_path):
    head = (SAMPLE / "lop.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    bomb = _zip_with(tmp_path / "bom.zip", "lop.csv", head + b"0" * (64 * 1024 * 1024))
    info = [i for i in zipfile.ZipFile(bomb).infolist() if i.filename == "lop.csv"][0]
    assert info.file_size / info.compress_size > 500        # what a bomb looks like
    t0 = time.perf_counter()
    with pytest.raises(ExtractError) as e:
        readers.open_extract(bomb)
    assert time.perf_counter() - t0 < 2.0                    # refused from the directory, not by reading
    assert "lop.csv" in str(e.value) and "nén" in str(e.value)
    # the committed sample, zipped, is still accepted (real CSVs compress about 5-11 times)
    ok = _zip_with(tmp_path / "ok.zip", "lop.csv", (SAMPLE / "lop.csv").read_bytes())
    readers.open_extract(ok).close()


def test_zip_total_uncompressed_size_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ZIP_UNCOMPRESSED", 1_000_000)   # as if the city extract were 1 MB
    z = _zip_with(tmp_path / "lon.zip", "lop.csv", (SAMPLE / "lop.csv").read_bytes())
    with pytest.raises(ExtractError) as e:
        readers.open_extract(z)
    assert "giải nén" in str(e.value)
