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
# recorded 07/12/2026 (again after issue 15's completeness gaps, sample_data/completeness_gaps.py)
# from `python -m sample_data.generate --scale demo --out DIR` imported with
# `python -m data_access ingest`. 2022-04-27T17:00 is also the committed sample_data/extract.
DEMO_CONTENT_HASHES = frozenset({
    "933136688335642f7245c0ab356455cae54dbd77d201c22ac9c71a91d82f3c2e",   # 20/04/2022 17:00
    "e279975e2cef1338de04f018c64cafc4c6d277170a243a7827d6f397849c538f",   # 25/04/2022 17:00
    "94dc546903ac40906bd74d3c0a14edffeec21fa925d097ea513e261b206cc2f7",   # 26/04/2022 17:00
    "909823af4d748381f4816ba578b65a0df4178fd60ef526bc23b494c15886673b",   # 26/04/2022 23:59:59 (cut-off)
    "ce2800d4da54751bbdd46aabbc5e33cc6c57d5ae63be9be9f7222af142076ab5",   # 27/04/2022 17:00
    "617ce45740f3e2d9c3211b5d04df8f75fa518df8589cc51687f8301f03423f24",   # 29/04/2022 08:00
    "d4991ecfd4334c6ce61e533b6bea27e983b641a1636b55afdd93c3f19c2de42d",   # 16/05/2022 17:00
    "4478233e390a2aeb9860a018750dedcbe2759c1a2b355f735fc61570429e9f28",   # 15/06/2022 17:00
    "bb98f951275a6d0ce619cf3bc5ed63b87955d463aa7fce0a4d0a0a8b275ede30",   # 29/06/2022 17:00
    "6b72d0fd48d2726ebddaf5dc8be3e7e7d8b1db4b523cf4a4cbf490726a543a06",   # 29/06/2022 23:59:59 (cut-off)
    "02913d6fe69ccd0a5060066ab3473dfb3b3d3c71e2e756081894ebba0bd74f12",   # 05/07/2022 17:00
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
