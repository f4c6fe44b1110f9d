"""Tiến độ CSDL — entry point: navigation (st.navigation), the snapshot shown and the global
filters (sidebar, shared by every page; see app_state.py). Pages live in pages/, one per job.

Access control (issue 6): nobody sees a page before logging in (auth_ui.login_page); the menu
holds only the pages the viewer's role may use (navigation.page_specs); on generated sample
data the demo accounts are created on the first run (data_access.accounts).
"""
from pathlib import Path

import streamlit as st

import app_state
import auth_ui
import navigation
from data_access import accounts, current_user

ROOT = Path(__file__).resolve().parent

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
    pg.run()
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
        app_state.setup(pg.url_path)
        auth_ui.sidebar_account(store, viewer, demo)
        pg.run()
