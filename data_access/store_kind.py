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
"""
from __future__ import annotations

from pathlib import Path

from .store import Store

# sha256 content hashes (data_access.ingest) of the 11 extracts of the generated demo series,
# recorded 07/12/2026 from `python -m sample_data.generate --scale demo --out DIR` imported with
# `python -m data_access ingest` (again for issue 15: the series now has so_lieu_bao_cao). 2022-04-27T17:00 is also the committed sample_data/extract.
DEMO_CONTENT_HASHES = frozenset({
    "d097e8efd4cac4d816171f25cf906b9da3450404a4a5b10998e975788d928b80",   # 20/04/2022 17:00
    "2cb121b254e50775e51c2e9d57950464fba6d618d9300c28bcf548962364f9a5",   # 25/04/2022 17:00
    "17c4b734cc31023995f306b2f3a14967d189aa581ed03dbb828a842a6cd16014",   # 26/04/2022 17:00
    "cce4e39667a55a6f067b394aa4774d0b02fefc9b7d9fa83b746178db94953d05",   # 26/04/2022 23:59:59 (cut-off)
    "7f04ef1b83e1934c0a4d74659ae1bdc29811d2358607297c9a001fe5f86275a8",   # 27/04/2022 17:00
    "d98d78433bf0102a66de9d988e39bbac88cb3f8599977ed94c0a62df462bc70b",   # 29/04/2022 08:00
    "e3c611b7c3f055b5276a50a1a57c86d2de5c15f601c583bd09630a49168b0928",   # 16/05/2022 17:00
    "d04c88226a4aa7a064fa4899b45131c8fb3a87f00596a5c11cb81c6079fc6bcb",   # 15/06/2022 17:00
    "7ac3ecdb5a21e1f25eb8086682d558796bf9df94f194202520b73f97e46030f8",   # 29/06/2022 17:00
    "45cf9382f372098ca354b433acd6cf4c2728e2daf1478f61b73836ed2908ee78",   # 29/06/2022 23:59:59 (cut-off)
    "2a993f920a95f45b06e93c22ba3901645b8b38b7ee104889398e9c16033cf270",   # 05/07/2022 17:00
})

TEST_MARKER = ".tiendo-test-store"
_MARKER_TEXT = "Kho dùng cho kiểm thử: TIENDO_VIEWER (bỏ qua đăng nhập) được phép trên kho này.\n"

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


def is_test_store(store) -> bool:
    return (_st(store).root / TEST_MARKER).is_file()


def mark_test_store(store) -> None:
    """Mark a store as a test store (tests and benches only: it allows TIENDO_VIEWER)."""
    root = _st(store).root
    root.mkdir(parents=True, exist_ok=True)
    (root / TEST_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")


def bypass_allowed(store) -> bool:
    """May TIENDO_VIEWER skip the login on this store? Only on a test or demo store."""
    return is_test_store(store) or is_demo_store(store)
