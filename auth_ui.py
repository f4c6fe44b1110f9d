"""Login page, the sidebar's account box (who, role, scope, DEMO, logout) and the page guard.

Why apart from dashboard.py: the login form and the logout buttons are UI; the rules (hashing,
lockout, sessions, demo accounts) live in data_access.accounts and data_access.current_user.
"""
from __future__ import annotations

import streamlit as st

from data_access import accounts, client_address
from data_access import formatting as fmt
from data_access.access import ROLES, Viewer
from data_access.current_user import (K_NOTICE, K_TOKEN, K_VIEWER, bypass_viewer, clear_session_state,
                                      sso_configured)


def scope_text(v: Viewer) -> str:
    if v.role == "phong_gd":
        return f"Quận/huyện mã {fmt.md(v.district_code)}"
    if v.role == "truong":
        return f"Trường mã {fmt.md(v.school_code)}"
    return "Toàn thành phố"


def login_page(store, demo: bool) -> None:
    """The Vietnamese login form (or the single sign-on button). On success the session token
    goes into st.session_state and the app reruns on the page the URL asked for."""
    ss = st.session_state
    st.title("Tiến độ cập nhật CSDL")
    st.caption("Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh")
    notice = ss.pop(K_NOTICE, None)
    if notice:
        st.warning(notice, icon=":material/lock_clock:")
    if sso_configured():
        if ss.get("_sso_refused"):
            if st.button("Đăng xuất tài khoản đăng nhập một lần", key="sso_logout"):
                ss.pop("_sso_refused", None)
                st.logout()
            return
        st.write("Đăng nhập bằng tài khoản của Sở (đăng nhập một lần).")
        if st.button("Đăng nhập", type="primary", key="sso_login", icon=":material/login:"):
            st.login()
        return
    with st.form("login_form", clear_on_submit=False, enter_to_submit=True):
        st.subheader("Đăng nhập")
        user = st.text_input("Tên đăng nhập", key="login_user", autocomplete="username")
        pw = st.text_input("Mật khẩu", type="password", key="login_password",
                           autocomplete="current-password")
        sent = st.form_submit_button("Đăng nhập", type="primary", icon=":material/login:")
    if sent:
        res = accounts.authenticate(store, user, pw, client=_client_address())
        # The password leaves memory with the widget: nothing keeps it.
        ss.pop("login_password", None)
        if res.ok:
            # A new account starts with an empty session: nothing another login left (a built
            # file, filters, cached context) may reach it (finding 2 of issue 13).
            clear_session_state()
            ss[K_TOKEN] = res.token
            ss[K_VIEWER] = res.viewer
            st.rerun()
        else:
            st.error(fmt.md(res.message), icon=":material/error:")
    if demo:
        st.info("**DEMO** — bảng theo dõi đang chạy trên dữ liệu mẫu (sinh tự động, không phải dữ liệu "
                "thật). Tài khoản trình diễn:", icon=":material/science:")
        st.table({"Tên đăng nhập": [a[0] for a in accounts.DEMO_ACCOUNTS],
                  "Mật khẩu": [a[5] for a in accounts.DEMO_ACCOUNTS],
                  "Vai trò": [ROLES[a[1]] for a in accounts.DEMO_ACCOUNTS],
                  "Phạm vi": [f"Quận/huyện {a[2]}" if a[2] else (f"Trường {a[3]}" if a[3] else "Toàn thành phố")
                              for a in accounts.DEMO_ACCOUNTS]})
    elif accounts.needs_first_admin(store):
        st.info("Chưa có tài khoản nào. Người quản trị máy chủ tạo tài khoản quản trị đầu tiên bằng lệnh:\n\n"
                f"```sh\npython -m data_access users init-admin --store {store}\n```\n\n"
                "Mật khẩu được in ra một lần; sau đó đăng nhập tại đây và tạo các tài khoản khác ở trang "
                "«Tài khoản».", icon=":material/admin_panel_settings:")


def _client_address() -> str | None:
    """The browser's IP address, for throttling login attempts per client. Behind a reverse
    proxy Streamlit sees the proxy (loopback: None); with TIENDO_TRUSTED_PROXIES naming it, the
    address the proxy forwarded (data_access.client_address; SECURITY.md)."""
    try:
        ctx = st.context
        peer = ctx.ip_address
        raw = ctx.headers
    except Exception:  # noqa: BLE001 - AppTest, or an older Streamlit
        return None
    headers = {}
    for name in ("X-Forwarded-For", "X-Real-IP"):
        try:
            values = raw.get_all(name)
        except AttributeError:
            v = raw.get(name) if raw else None
            values = [v] if v else []
        if values:
            headers[name] = list(values)
    return client_address.client_address(peer, headers)


def sidebar_account(store, viewer: Viewer, demo: bool) -> None:
    sb = st.sidebar
    sb.divider()
    if demo:
        sb.badge("DEMO – dữ liệu mẫu, tài khoản trình diễn", icon=":material/science:", color="orange")
    if bypass_viewer() is not None:
        sb.caption(":red[Chế độ kiểm thử: không qua đăng nhập (TIENDO_VIEWER).]")
        return
    sb.markdown(f"**{fmt.md(viewer.display_name or viewer.username)}**  \n"
                f"{ROLES[viewer.role]} · {scope_text(viewer)}")
    ss = st.session_state
    c1, c2 = sb.columns(2)
    if c1.button("Đăng xuất", key="logout", icon=":material/logout:"):
        accounts.logout(store, ss.get(K_TOKEN), viewer)
        _forget(sso=True)
    if c2.button("Đăng xuất khỏi mọi thiết bị", key="logout_all", icon=":material/devices_off:"):
        accounts.logout_everywhere(store, viewer)
        _forget(sso=True)


def _forget(sso: bool = False) -> None:
    clear_session_state()
    st.session_state[K_NOTICE] = "Đã đăng xuất."
    if sso and sso_configured():
        st.logout()
    st.rerun()


def require(key: str) -> Viewer:
    """Stop a page a role may not use (defence in depth: it is not in that role's menu)."""
    import app_state as A
    import navigation
    v = A.ctx().viewer
    if not navigation.allowed(v.role, key):
        st.error("Tài khoản này không được dùng trang này.", icon=":material/block:")
        st.stop()
    return v
