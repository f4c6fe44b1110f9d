"""Tiến độ CSDL — entry point: navigation (st.navigation), the snapshot shown and the global
filters (sidebar, shared by every page; see app_state.py). Pages live in pages/, one per job.

Access control (issue 6): nobody sees a page before logging in (auth_ui.login_page); the menu
holds only the pages the viewer's role may use (navigation.page_specs); on generated sample
data the demo accounts are created on the first run (data_access.accounts).
"""
import logging
import uuid
from pathlib import Path

import streamlit as st

import app_state
import auth_ui
import navigation
from data_access import accounts, current_user

ROOT = Path(__file__).resolve().parent
_LOG = logging.getLogger("tiendo.incident")


def run_page(pg, before=None) -> None:
    """Run a page; an error shows a short Vietnamese message with an incident id, and the
    traceback goes to the server's log under that id, never to the browser (issue 13,
    finding 9; also .streamlit/config.toml: showErrorDetails = "none"). Streamlit's own
    control flow (st.stop, st.rerun, st.switch_page) are BaseExceptions and pass through."""
    try:
        if before is not None:
            before()
        pg.run()
    except Exception:  # noqa: BLE001 - every error of a page, shown the same way
        incident = uuid.uuid4().hex[:8]
        _LOG.exception("Sự cố %s trên trang %s", incident, getattr(pg, "url_path", "?"))
        st.error(f"Đã xảy ra lỗi khi hiển thị trang này. Mã sự cố: {incident}. Hãy tải lại trang; "
                 "nếu lỗi lặp lại, báo mã sự cố này cho quản trị hệ thống.", icon=":material/error:")

st.set_page_config(page_title="Tiến độ CSDL", page_icon=":material/fact_check:", layout="wide")

def no_data_page():
    st.title("Tiến độ cập nhật CSDL")
    st.warning("Chưa có dữ liệu: kho chưa có snapshot nào.", icon=":material/database_off:")
    st.markdown(
        "Hãy nhập một bản trích xuất từ Hệ thống CSDL HCM (thư mục hoặc tệp `.zip`):\n\n"
        f"```sh\npython -m data_access ingest THU_MUC_TRICH_XUAT --store {app_state.queries.store_path()}\n```\n\n"
        "hoặc tạo và nhập dữ liệu mẫu bằng `make run`. Sau khi nhập xong, tải lại trang này.")


def role_navigation(viewer):
    """The st.navigation pages of a role (navigation.page_specs): only the pages it may use."""
    out = {}
    for section, specs in navigation.sections(viewer.role).items():
        out[section] = [st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path,
                                default=(p == navigation.page_specs(viewer.role)[0]))
                        for p in specs]
    return out


store = app_state.queries.store_path()
demo = accounts.ensure_demo_accounts(store)
viewer = current_user.resolve(store)
if app_state.queries.snapshots().empty:
    # No snapshot yet: the instructions; the administrator (logged in) also gets the import page.
    pages = [st.Page(no_data_page, title="Chưa có dữ liệu", icon=":material/database_off:", default=True)]
    imp = navigation.PAGES["imports"]
    if viewer is not None and navigation.allowed(viewer.role, "imports") and (ROOT / imp.file).exists():
        pages.append(st.Page(imp.file, title=imp.title, icon=imp.icon, url_path=imp.url_path))
    pg = st.navigation(pages)
    run_page(pg)
    if viewer is None and not accounts.needs_first_admin(store):
        with st.expander("Đăng nhập (quản trị, để nhập dữ liệu từ trình duyệt)"):
            auth_ui.login_page(store, False)
    elif viewer is not None:
        auth_ui.sidebar_account(store, viewer, demo)
    st.stop()
if viewer is None:
    if current_user.bypass_refused(store):
        st.error(current_user.BYPASS_REFUSED_MESSAGE, icon=":material/gpp_bad:")
    # Every page's URL is known (hidden menu) so that, after login, the page and the query
    # parameters the URL asked for open; nothing but the login form runs before that.
    st.navigation([st.Page(p.file, title=p.title, url_path=p.url_path, default=(p.key == "overview"))
                   for p in navigation.PAGES.values()], position="hidden")
    auth_ui.login_page(store, demo)
else:
    pg = st.navigation(role_navigation(viewer))
    with app_state.run_slot():
        def before():
            app_state.setup(pg.url_path)
            auth_ui.sidebar_account(store, viewer, demo)
        run_page(pg, before)
