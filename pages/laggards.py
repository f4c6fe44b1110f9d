"""Trường chậm tiến độ — the planning office's daily list: who is behind (ranked), what exactly
is missing, whom to call; record the contact; copy the reminder e-mail or print it (DOCX).

Everything shown comes from data_access.planning (ranking, words) and data_access.ops
(follow-ups), filtered by the viewer's scope in SQL there."""
import datetime as dt

import pandas as pd
import streamlit as st

import app_state as A
from data_access import formatting as fmt
from data_access import ops, planning

c = A.header("Trường chậm tiến độ",
             "Xếp hạng: quá hạn trước (nhiều ngày trễ nhất, rồi nhiều bản ghi còn thiếu nhất), "
             "sau đó có nguy cơ trễ hạn, rồi đang thực hiện.")
ss = st.session_state
today = fmt.today_local()
ev = planning.evaluation(c.store, c.snapshot_id)

# ---- page filters (the sidebar's district, level, ownership and requirements apply too) ----
f1, f2, f3 = st.columns([1, 1, 1])
managed = f1.selectbox("Cấp quản lý", [None, "Sở", "Phòng"], key="lag_managed",
                       format_func=lambda v: "Sở và Phòng GD&ĐT" if v is None else
                       ("Sở quản lý trực tiếp" if v == "Sở" else "Phòng GD&ĐT quản lý"))
not_contacted = f2.number_input("Chưa liên hệ trong (ngày)", min_value=0, max_value=365, value=0,
                                step=1, key="lag_nocontact",
                                help="0 = không lọc. Ví dụ 3: chỉ các trường chưa được liên hệ "
                                     "trong 3 ngày qua (kể cả chưa liên hệ lần nào).")
only_promise = f3.checkbox("Chỉ trường đã quá ngày hẹn", key="lag_promise")

flt = planning.LaggardFilter(
    districts=[c.filters.district] if c.filters.district else [],
    levels=[c.filters.level_group] if c.filters.level_group else [],
    ownership=[c.filters.ownership] if c.filters.ownership else [],
    managed_by=[managed] if managed else [],
    requirements=list(c.filters.requirements),
    not_contacted_days=int(not_contacted) or None,
)
lag = planning.laggards(ev, c.viewer, c.store, flt, today=today)
if only_promise:
    lag = lag[lag["promise_passed"]].reset_index(drop=True)

counts = lag["category"].value_counts()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Trường chậm tiến độ", fmt.number(len(lag)))
m2.metric("Quá hạn", fmt.number(counts.get("overdue", 0)))
m3.metric("Có nguy cơ trễ hạn", fmt.number(counts.get("at_risk", 0)))
m4.metric("Đã quá ngày hẹn", fmt.number(int(lag["promise_passed"].sum())))

if A.nothing_selected(lag, "trường chậm tiến độ"):
    st.stop()

show = lag[["rank", "category_label", "school_code", "school_name", "district_name", "level_group",
            "days_late", "records_missing", "missing", "principal", "phone", "email",
            "last_contact_on", "last_channel", "promised_on", "promise_passed"]].copy()
show["level_group"] = show["level_group"].map(fmt.level_label)
for col in ("last_contact_on", "promised_on"):
    show[col] = pd.to_datetime(show[col])
CAT_COLOR = {"Quá hạn": fmt.STATUS_COLORS["overdue"], "Có nguy cơ trễ hạn": fmt.STATUS_COLORS["done_late"],
             "Đang thực hiện": fmt.STATUS_COLORS["in_progress"]}


def _row_style(row):
    base = ["background-color: #FBE3D6" if row["promise_passed"] else ""] * len(row)
    i = list(row.index).index("category_label")
    colour = CAT_COLOR.get(row["category_label"])
    if colour:
        text = "white" if colour in (fmt.STATUS_COLORS["overdue"],) else "black"
        base[i] = f"background-color: {colour}; color: {text}"
    return base


styler = A.styled(show, numbers={"days_late": 0, "records_missing": 0}, dates=("last_contact_on", "promised_on"),
                  labels={"promise_passed": {True: "Quá hẹn", False: ""}}).apply(_row_style, axis=1)
st.dataframe(
    styler, hide_index=True, width="stretch", height=min(38 + 35 * len(show), 520),
    column_config={
        "rank": "Thứ tự",
        "category_label": "Mức độ",
        "school_code": "Mã trường",
        "school_name": "Tên trường",
        "district_name": "Quận/huyện",
        "level_group": "Cấp học",
        "days_late": "Số ngày quá hạn",
        "records_missing": "Bản ghi còn thiếu",
        "missing": "Còn thiếu",
        "principal": "Hiệu trưởng",
        "phone": "Điện thoại",
        "email": "Email",
        "last_contact_on": "Liên hệ gần nhất",
        "last_channel": "Hình thức",
        "promised_on": "Ngày hẹn",
        "promise_passed": "Quá hẹn",
    },
)
st.caption("Dòng tô hồng: trường đã quá ngày hẹn hoàn thành mà vẫn chưa xong. "
           "Số ngày quá hạn tính theo yêu cầu trễ nhất.")

label_of = {r.school_code: f"{r.rank}. {r.school_name} ({r.school_code}) – {r.category_label}"
            for r in lag.itertuples()}
codes = list(lag["school_code"])
tab_contact, tab_mail = st.tabs(["Ghi nhận liên hệ", "Thư nhắc việc"])

# ---- follow-up log ------------------------------------------------------------------------
with tab_contact:
    if ss.get("fu_school") not in codes:
        ss["fu_school"] = codes[0]
    school = st.selectbox("Trường", codes, key="fu_school", format_func=lambda s: label_of.get(s, s))
    row = lag[lag["school_code"] == school].iloc[0]
    # Imported values, shown as text (fmt.md: issue 13, finding 3).
    st.markdown(f"**Còn thiếu:** {fmt.md(row['missing'])}")
    st.caption(f"Hiệu trưởng: {fmt.md(row['principal']) or '–'} · Điện thoại: {fmt.md(row['phone']) or '–'} · "
               f"Email: {fmt.md(row['email']) or '–'}")
    can_write = c.viewer.role in ops.WRITE_ROLES_FOLLOW_UPS
    if "fu_msg" in ss:
        st.success(ss.pop("fu_msg"), icon=":material/check:")
    with st.form("fu_form", clear_on_submit=True):
        a, b = st.columns(2)
        day = a.date_input("Ngày liên hệ", value=today, max_value=today, format="DD/MM/YYYY", key="fu_day")
        channel = b.radio("Hình thức", ops.CHANNELS, horizontal=True, key="fu_channel",
                          format_func=lambda s: s[:1].upper() + s[1:])
        person = a.text_input("Người nghe máy / người nhận", key="fu_person")
        promised = b.date_input("Ngày trường hẹn hoàn thành (nếu có)", value=None, format="DD/MM/YYYY",
                                key="fu_promised")
        note = st.text_area("Nội dung trao đổi", key="fu_note", height=80)
        sent = st.form_submit_button("Lưu liên hệ", type="primary", disabled=not can_write,
                                     icon=":material/save:")
    if sent:
        try:
            fid = ops.add_follow_up(c.store, c.viewer, school, day, channel, contact_person=person,
                                    note=note, promised_on=promised, today=today)
            ss["fu_msg"] = f"Đã lưu liên hệ với {fmt.md(row['school_name'])} (số {fid})."
            st.rerun()
        except ops.OpsError as e:
            st.error(fmt.md(e), icon=":material/error:")
    hist = ops.list_follow_ups(c.store, c.viewer, school_code=school)
    if hist.empty:
        st.caption("Chưa có lần liên hệ nào với trường này.")
    else:
        h = hist[["contacted_on", "channel", "contact_person", "note", "promised_on", "recorded_by"]].copy()
        for col in ("contacted_on", "promised_on"):
            h[col] = pd.to_datetime(h[col])
        st.dataframe(A.styled(h, dates=("contacted_on", "promised_on")), hide_index=True, width="stretch",
                     column_config={"contacted_on": "Ngày liên hệ", "channel": "Hình thức",
                                    "contact_person": "Người liên hệ", "note": "Nội dung",
                                    "promised_on": "Ngày hẹn", "recorded_by": "Người ghi"})

# ---- reminder text and printable reminder -------------------------------------------------
with tab_mail:
    picked = st.multiselect("Trường cần nhắc", codes, default=codes[:1], key="rem_schools",
                            format_func=lambda s: label_of.get(s, s),
                            help="Chọn một hoặc nhiều trường; mỗi trường một thư riêng.")
    sender = st.text_input("Người ký cuối thư", value="Phòng Kế hoạch – Tài chính", key="rem_sender")
    for code in picked:
        mail = planning.reminder_email(ev, c.viewer, code, sender=sender)
        with st.container(border=True):
            st.markdown(f"**Gửi:** {fmt.md(mail['to']) or '(chưa có email)'}")
            st.markdown("**Tiêu đề**")
            st.code(mail["subject"], language=None, wrap_lines=True)
            st.markdown("**Nội dung**")
            st.code(mail["body"], language=None, wrap_lines=True)
            key = f"rem_docx_{code}"
            if st.button("Tạo phiếu nhắc việc để in (DOCX)", key=f"rem_build_{code}",
                         icon=":material/print:"):
                ss[key] = planning.reminder_docx(ev, c.viewer, code, sender=sender)
            if ss.get(key):
                name = f"nhac-viec-{code}-{c.as_of:%Y%m%d}.docx"
                st.download_button("Tải phiếu nhắc việc", ss[key], file_name=name, key=f"rem_dl_{code}",
                                   mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                   on_click=ops.audit, args=(c.store, c.viewer, "download"),
                                   kwargs={"object": name, "scope": f"truong:{code}", "rows": 1,
                                           "detail": {"kind": "reminder_docx", "as_of": str(c.as_of)}},
                                   icon=":material/download:")
