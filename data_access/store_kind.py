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
# recorded 07/12/2026 (again after issue 15's completeness gaps, sample_data/completeness_gaps.py)
# from `python -m sample_data.generate --scale demo --out DIR` imported with
# `python -m data_access ingest`. 2022-04-27T17:00 is also the committed sample_data/extract.
DEMO_CONTENT_HASHES = frozenset({
    "ce025e674522fa29e338f8a2bdd8ef79daa774d479fd68da5b03b13bbadeb6e8",   # 20/04/2022 17:00
    "14e1599b960afb444856bae7a42a4f89f2576adbc0cd316b3746515e8150bea2",   # 25/04/2022 17:00
    "a9dbe0d5f32dfcac1132f385cb21dafa928b7cb8b654725902c1f022232d162a",   # 26/04/2022 17:00
    "8d880024ee17d19ef0f4afd122548371793c94f1b07bd63988bc709c420e930b",   # 26/04/2022 23:59:59 (cut-off)
    "cf0030adb8178a2103a79349f3d14eb02d3a0cf3e79d484ccd91a11497c8eba6",   # 27/04/2022 17:00
    "4a6d266d1f7e433181f59f0eb7475b44abe7795d58c1c04071d5f6e3e2a46f86",   # 29/04/2022 08:00
    "30c9c7ce19a5605852efc897f914599170d7c1d917b5b716fc8f9adc10c9b4b3",   # 16/05/2022 17:00
    "888ee3bcbd891a38ae527e8ea02bb1007b9be3e2b582d40f47b2208051f680ea",   # 15/06/2022 17:00
    "46d6d4708d504d490d077f7a246114c00877e498a081bb04090b27a3a0dd6fc4",   # 29/06/2022 17:00
    "aab4e70fbb17a6de54ffa9aa491e5b8c66929fc33bdd15ecd3f27879b4dac7ea",   # 29/06/2022 23:59:59 (cut-off)
    "3a6201601ae33f10c6b68bdf21a276e561a324b1f20a8f1aa1676e96e4f5517a",   # 05/07/2022 17:00
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
