"""Who is using the dashboard, as a ``Viewer``: the one place the pages ask.

Why a module of its own: ``st.user`` cannot be faked in AppTest, and tests must be able to be
any role. The order is:
1. ``set_viewer(...)`` (tests in the same process, e.g. AppTest);
2. ``TIENDO_VIEWER`` in the server's environment ("quan_tri", "phong_gd:760",
   "truong:79760001"; "phong_gd:*" = the district office of the session's first URL): a
   test/bench hook that skips login; the interface says so in red;
3. the logged-in session: ``resolve(store)`` (called by dashboard.py on every run) checks the
   session token kept in ``st.session_state`` against the sessions table (idle time, logout,
   disabled account) and puts the viewer in ``st.session_state``; with single sign-on
   configured (``[auth]`` in .streamlit/secrets.toml) the identity's e-mail comes from
   ``st.user`` and is mapped to a local account.
``current_viewer()`` returns None when nobody is logged in.
"""
from __future__ import annotations

import os

from .access import Viewer

K_TOKEN, K_VIEWER, K_NOTICE = "_auth_token", "_auth_viewer", "_auth_notice"
_override: Viewer | None = None


def set_viewer(viewer: Viewer | None) -> None:
    """Replace the current viewer (tests); None restores the default (login)."""
    global _override
    _override = viewer


def _env_spec() -> str:
    return os.environ.get("TIENDO_VIEWER", "").strip()


def bypass_refused(store=None) -> bool:
    """TIENDO_VIEWER is set but the store is neither a test store nor the generated demo store:
    the bypass is ignored (login as usual) and the login page says so (issue 13, finding 10:
    a variable left in an operator's shell must not turn login off on real data)."""
    if not _env_spec():
        return False
    from .store_kind import bypass_allowed
    if store is None:
        from .queries import store_path
        store = store_path()
    return not bypass_allowed(store)


BYPASS_REFUSED_MESSAGE = ("Biến môi trường TIENDO_VIEWER (bỏ qua đăng nhập, chỉ dành cho kiểm thử) đang được "
                          "đặt nhưng kho dữ liệu này không phải kho kiểm thử hay kho dữ liệu mẫu: biến này bị "
                          "bỏ qua, hãy đăng nhập. Người quản trị máy chủ nên xóa biến này (unset TIENDO_VIEWER) "
                          "rồi khởi động lại.")


def env_viewer() -> Viewer | None:
    """The viewer named by TIENDO_VIEWER (tests and benches run in a subprocess), or None.
    Only on a test store or the generated demo store (store_kind.bypass_allowed)."""
    spec = _env_spec()
    if not spec or bypass_refused():
        return None
    role, _, scope = spec.partition(":")
    if scope == "*" and role in ("phong_gd", "truong"):
        scope = _scope_from_url(role)
        if not scope:
            return None
    if role == "phong_gd":
        return Viewer("test_" + scope, role, district_code=scope, display_name=f"Kiểm thử {spec}")
    if role == "truong":
        return Viewer("test_" + scope, role, school_code=scope, display_name=f"Kiểm thử {spec}")
    return Viewer("test", role, display_name=f"Kiểm thử {spec}")


def _scope_from_url(role: str) -> str | None:
    """TIENDO_VIEWER="phong_gd:*" (or "truong:*"): each browser session is the office of the
    ?district= (?school=) its first URL names, kept for the session. For the load test, where
    the offices of a deadline morning each open their own slice; like every TIENDO_VIEWER
    value it exists only in a test or bench server's environment."""
    import streamlit as st
    try:
        ss = st.session_state
        if "_env_scope" not in ss:
            ss["_env_scope"] = st.query_params.get("district" if role == "phong_gd" else "school")
        return ss["_env_scope"]
    except Exception:  # noqa: BLE001 - outside a Streamlit run
        return None


def bypass_viewer() -> Viewer | None:
    """A viewer that skips login (test override or TIENDO_VIEWER), or None."""
    return _override if _override is not None else env_viewer()


def current_viewer() -> Viewer | None:
    v = bypass_viewer()
    if v is not None:
        return v
    try:
        import streamlit as st
        return st.session_state.get(K_VIEWER)
    except Exception:  # noqa: BLE001 - outside a Streamlit run
        return None


def sso_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section (OIDC through st.login)."""
    try:
        import streamlit as st
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file
        return False


REASONS = {
    "expired": "Phiên làm việc đã hết hạn do không hoạt động quá lâu. Hãy đăng nhập lại.",
    "ended": "Phiên làm việc đã kết thúc (đã đăng xuất trên thiết bị này hoặc mọi thiết bị). "
             "Hãy đăng nhập lại.",
    "disabled": "Tài khoản đã bị vô hiệu hóa hoặc không còn dùng được; phiên làm việc đã kết thúc.",
}


def clear_session_state() -> None:
    """Forget everything this browser session holds (token, viewer, built files, filters,
    widget values): on logout, idle expiry, a session ended elsewhere and a change of account.
    Why the whole state and not a list of keys: a page may keep anything there (a workbook of
    unmasked rows), and a list would miss the next one (issue 13, finding 2)."""
    import streamlit as st
    ss = st.session_state
    for k in list(ss.keys()):
        try:
            del ss[k]
        except (KeyError, Exception):  # noqa: BLE001 - a widget key that cannot be deleted
            pass


def resolve(store) -> Viewer | None:
    """Check this browser session's login and return its viewer (None: show the login page;
    a reason for the user, if any, is in st.session_state[K_NOTICE])."""
    import streamlit as st
    from . import accounts

    v = bypass_viewer()
    if v is not None:
        return v
    ss = st.session_state
    if sso_configured() and K_TOKEN not in ss:
        user = st.user
        if getattr(user, "is_logged_in", False):
            res = accounts.sso_account(store, user.get("email"))
            if not res.ok:
                ss[K_NOTICE] = res.message
                ss["_sso_refused"] = True
                return None
            ss[K_TOKEN] = accounts.open_session(store, res.viewer.username)
            from . import ops
            ops.audit(store, res.viewer, "login.success", f"account:{res.viewer.username}",
                      detail={"method": "sso"})
    token = ss.get(K_TOKEN)
    if not token:
        if K_VIEWER in ss:          # a viewer without a session: nothing of it is kept
            clear_session_state()
        return None
    state = accounts.check_session(store, token)
    if state.viewer is None:
        sso_refused = ss.get("_sso_refused")
        clear_session_state()
        if sso_refused:
            ss["_sso_refused"] = sso_refused
        ss[K_NOTICE] = REASONS.get(state.reason, REASONS["ended"])
        if sso_configured() and getattr(st.user, "is_logged_in", False):
            st.logout()   # else the identity cookie would open a new session at once
        return None
    old = ss.get(K_VIEWER)
    if old is not None and old != state.viewer:
        # The account changed under this session (role or scope edited): start afresh.
        clear_session_state()
        ss[K_TOKEN] = token
    ss[K_VIEWER] = state.viewer
    return state.viewer
