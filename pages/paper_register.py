"""Sổ nhận bản giấy — register the signed and stamped paper copies of reports that arrive at
the Planning–Finance Division; correct an entry (the old version is kept). The engine counts
the register together with the extract's ban_giay (data_access.evaluate)."""
import pandas as pd
import streamlit as st

import app_state as A
from data_access import formatting as fmt
from data_access import ops, planning

c = A.header("Sổ nhận bản giấy",
             "Ghi nhận bản giấy báo cáo (có ký tên, đóng dấu) các trường gửi về Phòng Kế hoạch – "
             "Tài chính. Yêu cầu «bản giấy» được tính là hoàn thành từ ngày nhận bản hợp lệ, kể cả "
             "khi lần trích xuất dữ liệu sau không có bản giấy đó.")
ss = st.session_state
today = fmt.today_local()
ev = planning.evaluation(c.store, c.snapshot_id)
reqs = ev.df("SELECT report_code, name FROM cfg_requirements WHERE kind = 'paper' ORDER BY sort_order")
report_name = dict(zip(reqs["report_code"], reqs["name"]))
can_write = c.viewer.role in ops.WRITE_ROLES_RECEIPTS
if not can_write:
    st.info("Chỉ Phòng Kế hoạch – Tài chính ghi sổ; tài khoản này chỉ xem.", icon=":material/visibility:")

if "pr_msg" in ss:
    st.success(ss.pop("pr_msg"), icon=":material/check:")

# ---- record a receipt ---------------------------------------------------------------------
st.subheader("Ghi nhận bản giấy")
with st.form("pr_form", clear_on_submit=False):
    a, b = st.columns([1, 2])
    code = a.text_input("Mã trường", key="pr_school", placeholder="ví dụ 79760001")
    report = b.selectbox("Báo cáo", list(report_name), key="pr_report",
                         format_func=lambda r: report_name.get(r, r))
    a2, b2, c2 = st.columns(3)
    received = a2.date_input("Ngày nhận", value=today, format="DD/MM/YYYY", key="pr_date")
    signed = b2.checkbox("Có chữ ký của thủ trưởng", value=True, key="pr_signed")
    stamped = c2.checkbox("Có đóng dấu", value=True, key="pr_stamped")
    note = st.text_input("Ghi chú", key="pr_note")
    sent = st.form_submit_button("Lưu vào sổ", type="primary", disabled=not can_write, icon=":material/save:")
if sent:
    try:
        rid = ops.add_paper_receipt(c.store, c.viewer, code, report, received, signed, stamped, note, today=today)
        valid = "hợp lệ" if signed and stamped else "CHƯA hợp lệ (thiếu chữ ký hoặc dấu)"
        ss["pr_msg"] = (f"Đã ghi phiếu số {rid}: bản giấy {fmt.md(report)} của trường {fmt.md(code.strip())} nhận ngày "
                        f"{fmt.date(received)}, {valid}.")
        st.rerun()
    except ops.OpsError as e:
        st.error(fmt.md(e), icon=":material/error:")

# ---- the register -------------------------------------------------------------------------
st.subheader("Sổ đã ghi")
g1, g2 = st.columns([1, 1])
only = g1.text_input("Lọc theo mã trường", key="pr_filter")
withdrawn = g2.checkbox("Hiện cả phiếu đã hủy", key="pr_withdrawn")
reg = ops.list_paper_receipts(c.store, c.viewer, school_code=only.strip() or None, include_withdrawn=withdrawn)
if c.filters.district:
    reg = reg[reg["district_code"] == c.filters.district]
if reg.empty:
    st.caption("Chưa có phiếu nào.")
    st.stop()
names = ev.df("SELECT school_code, school_name FROM cur_schools")
reg = reg.merge(names, on="school_code", how="left")
show = reg[["receipt_id", "school_code", "school_name", "report_code", "received_on", "signed", "stamped",
            "note", "withdrawn", "version", "recorded_by"]].copy()
show["received_on"] = pd.to_datetime(show["received_on"])
yes = {True: "Có", False: "Không"}
st.dataframe(A.styled(show, dates=("received_on",), labels={"signed": yes, "stamped": yes,
                                                            "withdrawn": {True: "Đã hủy", False: ""}}),
             hide_index=True, width="stretch",
             column_config={"receipt_id": "Số phiếu", "school_code": "Mã trường", "school_name": "Tên trường",
                            "report_code": "Báo cáo", "received_on": "Ngày nhận", "signed": "Chữ ký",
                            "stamped": "Đóng dấu", "note": "Ghi chú", "withdrawn": "Trạng thái",
                            "version": "Lần sửa", "recorded_by": "Người ghi"})

# ---- correct a receipt --------------------------------------------------------------------
st.subheader("Sửa phiếu")
ids = list(reg["receipt_id"])
rid = st.selectbox("Số phiếu", ids, key="pr_fix_id",
                   format_func=lambda i: (lambda r: f"{i} · {r.school_code} · {r.report_code} · "
                                                    f"{fmt.date(r.received_on)}")(reg[reg.receipt_id == i].iloc[0]))
cur = reg[reg["receipt_id"] == rid].iloc[0]
with st.form(f"pr_fix_{rid}"):
    a, b, c3, d = st.columns(4)
    new_date = a.date_input("Ngày nhận", value=cur["received_on"], format="DD/MM/YYYY", key=f"pr_fix_date_{rid}")
    new_signed = b.checkbox("Có chữ ký", value=bool(cur["signed"]), key=f"pr_fix_signed_{rid}")
    new_stamped = c3.checkbox("Có đóng dấu", value=bool(cur["stamped"]), key=f"pr_fix_stamped_{rid}")
    new_withdrawn = d.checkbox("Hủy phiếu (nhập nhầm)", value=bool(cur["withdrawn"]), key=f"pr_fix_wd_{rid}")
    new_note = st.text_input("Ghi chú", value=cur["note"] or "", key=f"pr_fix_note_{rid}")
    reason = st.text_input("Lý do sửa (bắt buộc)", key=f"pr_fix_reason_{rid}")
    fix = st.form_submit_button("Lưu sửa đổi", disabled=not can_write, icon=":material/edit:")
if fix:
    try:
        v = ops.correct_paper_receipt(c.store, c.viewer, int(rid), received_on=new_date, signed=new_signed,
                                      stamped=new_stamped, note=new_note, withdrawn=new_withdrawn,
                                      reason=reason, today=today)
        ss["pr_msg"] = f"Đã lưu lần sửa thứ {v - 1} của phiếu số {rid}."
        st.rerun()
    except ops.OpsError as e:
        st.error(fmt.md(e), icon=":material/error:")
hist = ops.receipt_history(c.store, c.viewer, int(rid))
if len(hist) > 1 or fix:
    h = hist[["version", "received_on", "signed", "stamped", "note", "withdrawn", "reason", "recorded_by",
              "recorded_at"]].copy()
    h["received_on"] = pd.to_datetime(h["received_on"])
    st.markdown("**Lịch sử phiếu**")
    st.dataframe(A.styled(h, dates=("received_on",), labels={"signed": yes, "stamped": yes,
                                                             "withdrawn": {True: "Đã hủy", False: ""}}),
                 hide_index=True, width="stretch",
                 column_config={"version": "Phiên bản", "received_on": "Ngày nhận", "signed": "Chữ ký",
                                "stamped": "Đóng dấu", "note": "Ghi chú", "withdrawn": "Trạng thái",
                                "reason": "Lý do", "recorded_by": "Người ghi", "recorded_at": "Thời điểm ghi"})
