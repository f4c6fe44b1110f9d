"""What kind of store this is: the generated demo store, a store a test marked, or a real one.

Why: two conveniences are dangerous on real data of minors: the demo accounts (their passwords
are published in the README and on the login page) and the TIENDO_VIEWER login bypass of tests
and benches. Before issue 13 the demo decision rested on the manifest's self-declared
``source``, which a real extract with a copied manifest also carries. Now:

- a **demo store** holds snapshots (hidden ones included) whose content hashes are all among
  ``DEMO_CONTENT_HASHES``: the hashes the importer computes over the raw bytes of the files
  of ``python -m sample_data.generate --scale demo --seed 20220425`` (the default seed; the
  generator is deterministic, byte for byte). A real extract cannot have one of these hashes
  without being byte-identical to the generated files. tests/security/test_demo_accounts.py
  regenerates the series and checks these values; if the generator changes on purpose,
  regenerate, import, and record the new values here (same commit).
- a **test store** carries the marker file ``TEST_MARKER`` in its root, written by the test
  and bench helpers (tests/browser_helpers.streamlit_server when it passes TIENDO_VIEWER) with
  ``mark_test_store``. It is an explicit act on the server's disk, never a property of data.
  The marker holds HMAC-SHA256(key, the store's resolved absolute path), the key being a random
  secret that only ``mark_test_store`` creates, in a file of the running user outside every
  store (``_key_path``). Before the outside review of issue 13 (finding 5) the marker counted
  by its mere presence, so a store got one by copying a folder; now a copied marker, a copied
  store (another path) and a hand-written marker enable nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from pathlib import Path

from .store import Store

# sha256 content hashes (data_access.ingest) of the 11 extracts of the generated demo series,
# recorded 07/12/2026 (again after issue 15: completeness gaps, sample_data/completeness_gaps.py,
# and report figures, sample_data/report_figures.py) from `python -m sample_data.generate --scale
# demo --out DIR` imported with `python -m data_access ingest`. 2022-04-27T17:00 is also the
# committed sample_data/extract.
DEMO_CONTENT_HASHES = frozenset({
    "395854a4b458a28adb8ea6e1283a128a7426d27d3cf18f38d509183f3b12bdfa",   # 20/04/2022 17:00
    "de4a902eb1c518acfa6e7318dd68483f6037424f637cf2686715c886882af37a",   # 25/04/2022 17:00
    "9012678b2005be2605e334818c3b491220dae18635d10a85d6067405eed009a8",   # 26/04/2022 17:00
    "60a32f2131c57f2e199b343632c5e835078771aa8990b5fd0b3dc6fa0625cf62",   # 26/04/2022 23:59:59 (cut-off)
    "a0fa162edbfb46f1629f01b353f9ac3a37e4ba9e4378d01c1914bf0ea13138b4",   # 27/04/2022 17:00
    "4d11f5d6d2df358699c9fbf2ee8bb19ea29f4ee5f6b4fbf4695edccbc6c6f9f0",   # 29/04/2022 08:00
    "6d57c4b511afee5cecdd0c4f2cf5a6e1079f92f8bae45c9c1640dc773c91fa2b",   # 16/05/2022 17:00
    "4d8d451c565d7368826d8e9572c61d70fde0fc2a1904713112750b06149c0f7a",   # 15/06/2022 17:00
    "86ca8341bc3424fcaf9ec286c531cb124dff89cc4724bc09fa261a059e4a522c",   # 29/06/2022 17:00
    "4b0a507b04369fd0fc518f35d211182b6c9c5cedb72c47110fb66ecf8aedf204",   # 29/06/2022 23:59:59 (cut-off)
    "fa0eac66b9c4caf2078255c12141c2667e21830bbab3597c1d0f6a62f1eb69be",   # 05/07/2022 17:00
})

TEST_MARKER = ".tiendo-test-store"
_MARKER_HEAD = "Kho dùng cho kiểm thử: TIENDO_VIEWER (bỏ qua đăng nhập) được phép trên kho này.\n"

_DEMO_CACHE: dict[tuple, bool] = {}


def _st(store) -> Store:
    return store if isinstance(store, Store) else Store(Path(store))


def is_demo_store(store) -> bool:
    """True when the store has snapshots and every one of them, hidden ones included, is one of
    the generated demo series (its content hash and the hash in its id are known ones)."""
    st = _st(store)
    try:
        snaps = st.list_snapshots(include_hidden=True)
    except Exception:  # noqa: BLE001 - no store: nothing to trust
        return False
    if snaps.empty:
        return False
    key = (str(st.root.resolve()), tuple(snaps["snapshot_id"]))
    if key in _DEMO_CACHE:
        return _DEMO_CACHE[key]
    ok = True
    for sid in snaps["snapshot_id"]:
        try:
            h = str(st.read_meta(sid).get("content_hash") or "")
        except Exception:  # noqa: BLE001 - an unreadable snapshot is not a demo snapshot
            ok = False
            break
        if h not in DEMO_CONTENT_HASHES or not str(sid).endswith("-" + h[:12]):
            ok = False
            break
    _DEMO_CACHE[key] = ok
    return ok


def _key_path() -> Path:
    """The test key of this user on this machine: in the temporary folder (tests and the servers
    they start share it), never in a store, so copying a store never copies it."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"tiendo-test-key-{uid}"


def _read_key() -> bytes | None:
    """The key, if it exists as a regular file of this user that no one else can read or
    write (a key planted by another user of a shared /tmp is refused)."""
    p = _key_path()
    try:
        st = os.lstat(p)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077:
        return None
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return None
    try:
        k = p.read_bytes().strip()
    except OSError:
        return None
    return k if len(k) >= 32 else None


def _make_key() -> bytes:
    k = _read_key()
    if k:
        return k
    p = _key_path()
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:        # another test process made it first (or a bad one is there)
        k = _read_key()
        if k is None:
            raise RuntimeError(f"khóa kiểm thử {p} không dùng được: hãy xóa tệp này rồi chạy lại")
        return k
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32))
    return _read_key()


def _tag(key: bytes, root: Path) -> str:
    return hmac.new(key, str(root.resolve()).encode("utf-8"), hashlib.sha256).hexdigest()


def is_test_store(store) -> bool:
    """True when the store's marker holds the keyed hash of this store's own path (see the
    module's docstring): a marker that was copied, or a store that was, is not one."""
    root = _st(store).root
    key = _read_key()
    if key is None:
        return False
    try:
        lines = (root / TEST_MARKER).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    want = _tag(key, root).encode()
    return any(hmac.compare_digest(line.strip().encode("utf-8"), want) for line in lines)


def mark_test_store(store) -> None:
    """Mark a store as a test store (tests and benches only: it allows TIENDO_VIEWER)."""
    root = _st(store).root
    root.mkdir(parents=True, exist_ok=True)
    (root / TEST_MARKER).write_text(_MARKER_HEAD + _tag(_make_key(), root) + "\n", encoding="utf-8")


def bypass_allowed(store) -> bool:
    """May TIENDO_VIEWER skip the login on this store? Only on a test or demo store."""
    return is_test_store(store) or is_demo_store(store)
