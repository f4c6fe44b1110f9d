"""Outside review of issue 13, finding 4: a RIGHT password on a disabled account (or on a demo
account when the store is not the generated demo series) got its own message («Tài khoản đã bị
vô hiệu hóa», «Tài khoản trình diễn chỉ dùng được với dữ liệu mẫu»), so an outsider learnt
that the password was right. The outside message is now the wrong-password one; the audit log
keeps the real reason for the administrator."""
from __future__ import annotations

from data_access import accounts, ops
from data_access.access import SYSTEM

PW = "mat-khau-phong-gd-dai-1"
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


def _reasons(store, username):
    log = ops.list_audit(store, SYSTEM)
    log = log[(log["action"] == "login.failure") & (log["username"] == username)]
    return list(log["detail"].astype(str))


def test_disabled_account_with_the_right_password_gets_the_wrong_password_message(tmp_path):
    s = tmp_path / "store"
    accounts.add(s, SYSTEM, "pgd760", "phong_gd", "760", password=PW)
    accounts.set_disabled(s, SYSTEM, "pgd760")
    right = accounts.authenticate(s, "pgd760", PW, client="192.0.2.10")
    wrong = accounts.authenticate(s, "pgd760", "sai-mat-khau", client="192.0.2.11")
    unknown = accounts.authenticate(s, "khong-co-ai", "sai-mat-khau", client="192.0.2.12")
    assert not right.ok and right.token is None and right.viewer is None
    assert right.message == wrong.message == unknown.message == WRONG
    assert any("disabled" in d for d in _reasons(s, "pgd760"))          # the log keeps the reason


def test_demo_account_on_other_data_with_the_right_password_gets_the_wrong_password_message(demo_copy, monkeypatch):
    assert accounts.ensure_demo_accounts(demo_copy)
    # the store stops being the generated series (how is tested in test_demo_accounts.py)
    monkeypatch.setattr(accounts, "store_is_sample", lambda _store: False)
    right = accounts.authenticate(demo_copy, "demo_quantri", "demo-quantri-2022", client="192.0.2.20")
    wrong = accounts.authenticate(demo_copy, "demo_quantri", "sai-mat-khau", client="192.0.2.21")
    assert not right.ok and right.token is None
    assert right.message == wrong.message == WRONG
    assert any("demo_on_real_data" in d for d in _reasons(demo_copy, "demo_quantri"))
