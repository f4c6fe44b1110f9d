"""Nhật ký truy cập — the administrator reads the audit trail: logins, records opened with
personal values, downloads, writes; filter by user, action and dates; export as CSV (the
export is itself written to the trail)."""
import datetime as dt

import streamlit as st

import app_state as A
import auth_ui
from data_access import audit, ops
from data_access import formatting as fmt

c = A.header("Nhật ký truy cập", "Ai làm gì, lúc nào, trên đối tượng nào, trong phạm vi nào, bao nhiêu dòng.")
v = auth_ui.require("audit")

f1, f2, f3, f4 = st.columns([1, 1, 1, 1])
user = f1.selectbox("Người dùng", [None] + audit.distinct(c.store, v, "username"), key="au_user",
                    format_func=lambda u: "Tất cả" if u is None else u)
actions = sorted({a.split(".")[0] for a in audit.distinct(c.store, v, "action")} |
                 set(audit.distinct(c.store, v, "action")))
action = f2.selectbox("Hành động", [None] + actions, key="au_action",
                      format_func=lambda a: "Tất cả" if a is None else a)
today = fmt.today_local()
since = f3.date_input("Từ ngày", value=today - dt.timedelta(days=30), format="DD/MM/YYYY", key="au_since")
until = f4.date_input("Đến ngày", value=today, format="DD/MM/YYYY", key="au_until")

df = audit.entries(c.store, v, username=user, action=action, since=since, until=until)
st.caption(f"{fmt.number(len(df))} dòng (mới nhất trước, tối đa 5.000).")
st.dataframe(df, hide_index=True, width="stretch", height=min(600, 38 + 35 * max(len(df), 1)),
             column_config={"id": "Số", "at": "Thời điểm", "username": "Người dùng", "role": "Vai trò",
                            "action": "Hành động", "object": "Đối tượng", "scope": "Phạm vi",
                            "rows": "Số dòng", "detail": st.column_config.TextColumn("Chi tiết", width="large")})
name = f"nhat-ky-truy-cap-{since:%Y%m%d}-{until:%Y%m%d}.csv"
st.download_button("Tải nhật ký (CSV)", audit.export_csv(df), file_name=name, mime="text/csv",
                   key="au_download", icon=":material/download:", on_click=ops.audit,
                   args=(c.store, v, "download"),
                   kwargs={"object": name, "scope": "thanh_pho", "rows": len(df),
                           "detail": {"kind": "audit_log", "username": user, "action": action,
                                      "since": str(since), "until": str(until)}})
