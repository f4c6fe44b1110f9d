"""Outside review of issue 13, finding 5: the test-store marker ``.tiendo-test-store`` (it lets
TIENDO_VIEWER skip the login, finding 10) was accepted by its mere presence, so an operator's
store got one by copying a folder (a test store used as a template, a marker copied along with
other files). Now the marker must hold a keyed hash of that store's own absolute path, keyed
with a secret that only mark_test_store (called by tests and benches) creates, outside every
store: a copied marker, a copied store and a hand-written marker all enable nothing."""
from __future__ import annotations

import shutil

import pytest

from data_access import current_user, store_kind
from data_access.current_user import set_viewer
from tests.snapshot_factory import school, write_store


@pytest.fixture(autouse=True)
def _reset():
    set_viewer(None)
    yield
    set_viewer(None)


def _store(root):
    write_store(root, [("2022-04-27T17:00:00+07:00", {"schools": [school("79760001", "THPT", "760")],
                                                      "students": []})])
    assert not store_kind.is_demo_store(root)
    return root


def test_a_marked_store_allows_the_bypass(tmp_path, monkeypatch):
    s = _store(tmp_path / "test_store")
    store_kind.mark_test_store(s)
    assert store_kind.is_test_store(s)
    monkeypatch.setenv("TIENDO_STORE", str(s))
    monkeypatch.setenv("TIENDO_VIEWER", "quan_tri")
    assert current_user.env_viewer().role == "quan_tri"


def test_a_marker_copied_into_another_store_enables_nothing(tmp_path, monkeypatch):
    marked = _store(tmp_path / "test_store")
    store_kind.mark_test_store(marked)
    real = _store(tmp_path / "real")
    shutil.copy(marked / store_kind.TEST_MARKER, real / store_kind.TEST_MARKER)
    assert not store_kind.is_test_store(real)
    monkeypatch.setenv("TIENDO_STORE", str(real))
    monkeypatch.setenv("TIENDO_VIEWER", "quan_tri")
    assert current_user.env_viewer() is None


def test_a_copied_test_store_is_not_a_test_store(tmp_path):
    marked = _store(tmp_path / "test_store")
    store_kind.mark_test_store(marked)
    copy = tmp_path / "copy"
    shutil.copytree(marked, copy)
    assert store_kind.is_test_store(marked) and not store_kind.is_test_store(copy)


@pytest.mark.parametrize("text", [
    "Kho dùng cho kiểm thử: TIENDO_VIEWER (bỏ qua đăng nhập) được phép trên kho này.\n",   # the old marker
    "", "0" * 64, "test\n"])
def test_a_hand_written_marker_enables_nothing(tmp_path, text):
    s = _store(tmp_path / "s")
    (s / store_kind.TEST_MARKER).write_text(text, encoding="utf-8")
    assert not store_kind.is_test_store(s)


def test_a_marker_whose_key_is_gone_enables_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(store_kind, "_key_path", lambda: tmp_path / "key-a")
    s = _store(tmp_path / "s")
    store_kind.mark_test_store(s)
    assert store_kind.is_test_store(s)
    monkeypatch.setattr(store_kind, "_key_path", lambda: tmp_path / "key-b")   # another machine / user
    assert not store_kind.is_test_store(s)
