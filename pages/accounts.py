"""Tài khoản — the administrator manages local accounts: list, add (a generated password shown
once), disable/enable, reset a password, set the single sign-on e-mail. Every change is written
to the audit trail by data_access.accounts; no password is ever stored or logged in clear."""
import streamlit as st

import app_state as A
import auth_ui
from data_access import accounts
from data_access import formatting as fmt
from data_access.access import ROLES

c = A.header("Tài khoản", "Tài khoản đăng nhập, vai trò và phạm vi. Mật khẩu mới chỉ hiện một lần.")
v = auth_ui.require("accounts")
ss = st.session_state

shown = ss.pop("acc_new_password", None)
if shown:
    st.success(f"Mật khẩu của **{fmt.md(shown[0])}**: `{shown[1]}` — hãy chuyển cho người dùng ngay; "
               "mật khẩu này sẽ không hiện lại.", icon=":material/key:")

accs = accounts.list_accounts(c.store)
st.dataframe(accs.drop(columns=["failed_count"]), hide_index=True, width="stretch",
             column_config={"username": "Tên đăng nhập", "role": "Vai trò", "district_code": "Quận/huyện",
                            "school_code": "Trường", "display_name": "Họ tên / đơn vị", "email": "E-mail (SSO)",
                            "disabled": st.column_config.CheckboxColumn("Vô hiệu"),
                            "is_demo": st.column_config.CheckboxColumn("Demo"),
                            "locked_until": "Khóa đến", "created_at": "Tạo lúc", "updated_at": "Sửa lúc"})

tab_add, tab_edit = st.tabs(["Thêm tài khoản", "Sửa tài khoản"])
with tab_add:
    with st.form("acc_add", clear_on_submit=True):
        a, b = st.columns(2)
        username = a.text_input("Tên đăng nhập", key="acc_username")
        role = b.selectbox("Vai trò", list(ROLES), format_func=ROLES.get, key="acc_role")
        district = a.text_input("Mã quận/huyện (Phòng GD&ĐT)", key="acc_district")
        school = b.text_input("Mã trường (tài khoản trường)", key="acc_school")
        name = a.text_input("Họ tên / đơn vị", key="acc_name")
        email = b.text_input("E-mail (đăng nhập một lần, nếu dùng)", key="acc_email")
        sent = st.form_submit_button("Tạo tài khoản", type="primary", icon=":material/person_add:")
    if sent:
        try:
            pw = accounts.add(c.store, v, username, role, district.strip() or None, school.strip() or None,
                              name, email.strip() or None)
            ss["acc_new_password"] = (username.strip(), pw)
            st.rerun()
        except accounts.AccountError as e:
            st.error(fmt.md(e), icon=":material/error:")

with tab_edit:
    if accs.empty:
        st.caption("Chưa có tài khoản.")
    else:
        who = st.selectbox("Tài khoản", list(accs["username"]), key="acc_pick")
        row = accs[accs["username"] == who].iloc[0]
        b1, b2, b3 = st.columns(3)
        if row["disabled"]:
            if b1.button("Cho dùng lại", key="acc_enable", icon=":material/lock_open:"):
                accounts.set_disabled(c.store, v, who, False)
                st.rerun()
        elif who != v.username and b1.button("Vô hiệu hóa", key="acc_disable", icon=":material/block:"):
            accounts.set_disabled(c.store, v, who, True)
            st.rerun()
        if b2.button("Đặt lại mật khẩu", key="acc_reset", icon=":material/key:"):
            ss["acc_new_password"] = (who, accounts.reset_password(c.store, v, who))
            st.rerun()
        mail = b3.text_input("E-mail (SSO)", value=row["email"] or "", key=f"acc_mail_{who}")
        if b3.button("Lưu e-mail", key="acc_mail_save"):
            try:
                accounts.set_email(c.store, v, who, mail)
                st.rerun()
            except Exception as e:  # noqa: BLE001 - e.g. the e-mail belongs to another account
                st.error(f"Không lưu được e-mail: {fmt.md(e)}", icon=":material/error:")
