"""Trường — one institution: find it (code or name, diacritics optional), its checklist, its
findings by rule, the grade-12 students not done with what each lacks (personal values masked
by role in data_access) and its history. ?school=79760001 opens it."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import app_state as A
import navigation
from data_access import formatting as fmt
from data_access import queries

c = A.header("Trường", "Tìm theo mã trường hoặc tên trường; gõ không dấu cũng được "
             "(«le hong phong» tìm ra «Lê Hồng Phong»).")
ss = st.session_state

# ---- which institution --------------------------------------------------------------------
qp_school = st.query_params.get("school")
if qp_school and qp_school != ss.get("_school_qp_seen"):
    ss["cur_school"] = qp_school
    ss["_school_qp_seen"] = qp_school
if c.viewer.role == "truong":
    if qp_school and qp_school != c.viewer.school_code:
        A.scope_refused(f"Trường mã {fmt.md(qp_school)}", f"truong:{qp_school}")
    ss["cur_school"] = c.viewer.school_code


def _picked():
    code = ss.get("school_pick")
    if code:
        ss["cur_school"] = code


text = st.text_input("Tìm trường", key="school_search", placeholder="Mã trường hoặc tên, ví dụ: le hong phong",
                     disabled=c.viewer.role == "truong")
if text:
    found = c.q("search_schools", text=text, filters=queries.Filters(), limit=50)
    if found.empty:
        st.info(f"Không tìm thấy trường nào có mã hoặc tên chứa «{fmt.md(text)}».", icon=":material/search_off:")
    else:
        label = {r.school_code: f"{r.school_name} · {r.district_name or ''} · {r.school_code}"
                 for r in found.itertuples()}
        st.selectbox(f"{fmt.number(len(found))} trường tìm thấy", options=list(found["school_code"]),
                     index=None, key="school_pick", on_change=_picked, placeholder="— chọn trường —",
                     format_func=lambda s: label[s])
        if len(found) == 1 and not ss.get("cur_school"):
            ss["cur_school"] = found["school_code"].iloc[0]

school = ss.get("cur_school")
if not school:
    st.caption("Chưa chọn trường. Gõ mã hoặc tên trường ở trên, hoặc mở một trường từ trang "
               "Tổng quan hay Quận/huyện.")
    st.stop()
A.set_page_param("school", school)
ss["_school_qp_seen"] = school

prof = c.q("school_profile", school_code=school)
if prof.empty:
    if c.viewer.role in ("phong_gd", "truong"):
        # Out of scope (or unknown): the query layer returned nothing; say so, show nothing.
        A.scope_refused(f"Trường mã {fmt.md(school)}", f"truong:{school}")
        ss.pop("cur_school", None)
    else:
        st.warning(f"Không có trường mã {fmt.md(school)} trong dữ liệu tại thời điểm này.", icon=":material/help:")
    st.stop()
p = prof.iloc[0]
st.subheader(fmt.md(p.school_name))
# Imported values, shown as text (fmt.md: issue 13, finding 3).
st.caption(" · ".join(fmt.md(x) for x in [
    f"Mã {p.school_code}", p.district_name or "", ", ".join(fmt.level_label(l) for l in (p.levels or [])),
    p.ownership or "", f"quản lý: {p.managed_by}" if p.managed_by else "",
    f"Hiệu trưởng: {p.principal}" if p.principal else "", p.phone or "", p.email or ""] if x))
if navigation.allowed(c.viewer.role, "districts"):
    st.page_link(A.DISTRICTS[0], label=f"Xem {fmt.md(p.district_name)}", icon=":material/map:",
                 query_params=c.params(district=p.district_code))

# ---- checklist ------------------------------------------------------------------------------
st.markdown("#### Danh mục yêu cầu")
chk = c.q("school_checklist", school_code=school)
if chk.empty:
    st.info("Không có yêu cầu nào áp dụng cho trường này.")
else:
    def note(r):
        if r.status == "done_on_time" and r.timing_uncertain:
            return f"Đúng hạn (không chứng minh được là trễ): {fmt.completion_window(r.completed_after, r.completed_at)}"
        if r.status == "done_on_time":
            return f"Xong lúc {fmt.date_time(r.completed_at)}"
        if r.status == "done_late":
            return f"Xong lúc {fmt.date_time(r.completed_at)}, trễ {fmt.number(r.days_late)} ngày"
        if r.status == "overdue":
            return f"Quá hạn {fmt.number(r.days_late)} ngày"
        return fmt.days_phrase(r.days_left)

    chk["note"] = [note(r) for r in chk.itertuples()]
    chk["count"] = [f"{fmt.number(d)}/{fmt.number(e)}" for d, e in zip(chk["done"], chk["expected"])]
    chk["due_text"] = chk["due"].map(lambda d: "Không có hạn" if pd.isna(d) else fmt.date_time(d))
    chk["risk"] = chk["at_risk"].map(lambda x: "Có nguy cơ trễ hạn" if x else "")
    why = c.q("school_explanations", school_code=school).set_index("requirement_id")
    chk["reason"] = chk["requirement_id"].map(why["reason"]).fillna("")
    cols = ["requirement_name", "status", "percent", "count", "due_text", "note", "reason", "risk",
            "n_blocking_findings", "letter_words"]
    sty = A.styled(chk, dates=["due"], labels={"status": fmt.STATUS_LABELS},
                   numbers={"n_blocking_findings": 0}, columns=cols)
    sty = sty.map(lambda s: f"background-color: {fmt.STATUS_COLORS.get(s, '#fff')}; "
                            f"color: {fmt.STATUS_TEXT_COLORS.get(s, '#000')}", subset=["status"])
    st.dataframe(sty, hide_index=True, width="stretch",
                 column_order=cols,
                 column_config={
                     "requirement_name": "Yêu cầu", "status": "Trạng thái",
                     "percent": st.column_config.ProgressColumn("Tiến độ (%)", min_value=0, max_value=100, format="localized"),
                     "count": st.column_config.TextColumn("Đạt/Phải có", help="Học sinh đủ và hợp lệ / học sinh lớp 12 đang học; báo cáo: 1/1"),
                     "due_text": "Hạn", "note": "Hoàn thành / trễ", "risk": "Nguy cơ",
                     "reason": st.column_config.TextColumn("Lý do", help="Vì sao yêu cầu có trạng thái này; mở «Vì sao?» bên dưới để xem đầy đủ"),
                     "n_blocking_findings": st.column_config.NumberColumn("Lỗi chặn", help="Số lỗi (không phải cảnh báo) đang làm yêu cầu chưa hoàn thành"),
                     "letter_words": st.column_config.TextColumn("Công văn ghi", help="Lời văn của Công văn 1254 về thời hạn")})

    # "Vì sao?": the CLI's explanation of each row (data_access.explain), as plain text: st.text
    # parses no Markdown, so a school or rule name can never turn into a link or markup. All rows
    # at once: one query per institution (cached), one text element per row.
    st.caption("Mở «Vì sao?» của một yêu cầu để xem trạng thái dựa trên những gì: quy định, số học "
               "sinh phải có và lý do loại trừ, số đã đạt, các lỗi đang chặn, thời điểm hoàn thành.")
    for r in chk.itertuples():
        if r.requirement_id not in why.index:
            continue
        with st.expander(f"Vì sao? {fmt.md(r.requirement_name)} — {fmt.md(fmt.status_label(r.status))}",
                         icon=":material/help:"):
            st.text(why.at[r.requirement_id, "text"])   # keeps its line breaks (white-space: pre-line)

# ---- findings by rule ------------------------------------------------------------------------
st.markdown("#### Lỗi dữ liệu theo quy tắc")
fbr = c.q("school_findings_by_rule", school_code=school)
if fbr.empty:
    st.success("Không có lỗi hay cảnh báo nào trong dữ liệu của trường.", icon=":material/check_circle:")
else:
    reqs = c.q("requirements")
    rname = dict(zip(reqs["requirement_id"], reqs["name"]))
    fbr["blocks"] = fbr["requirement_ids"].map(lambda ids: "; ".join(rname.get(i, i) for i in ids))
    cols = ["title", "severity", "entity", "n_findings", "n_records", "blocks", "rule_id"]
    st.dataframe(A.styled(fbr, numbers={"n_findings": 0, "n_records": 0},
                          labels={"severity": fmt.SEVERITY_LABELS, "entity": fmt.ENTITY_LABELS}, columns=cols),
                 hide_index=True, width="stretch", column_order=cols,
                 column_config={"title": "Quy tắc", "severity": "Mức độ", "entity": "Đối tượng",
                                "n_findings": "Số lỗi", "n_records": "Số bản ghi",
                                "blocks": "Làm chưa hoàn thành", "rule_id": "Mã quy tắc"})

# ---- students not done ----------------------------------------------------------------------
st.markdown("#### Học sinh lớp 12 chưa đạt và còn thiếu gì")
snd = c.q("students_not_done", school_code=school)
if snd.empty:
    st.success("Mọi học sinh lớp 12 của trường đã đủ và hợp lệ (hoặc trường không có yêu cầu về học sinh).",
               icon=":material/check_circle:")
else:
    if not c.viewer.sees_personal:
        st.caption("Số CMND/CCCD, ngày sinh và nơi thường trú được che một phần theo quyền của tài khoản.")
    reqs = c.q("requirements")
    rname = dict(zip(reqs["requirement_id"], reqs["name"]))
    snd["requirements"] = snd["requirements"].map(lambda ids: "; ".join(rname.get(i, i) for i in ids))
    snd["lacks"] = snd["lacks"].map(lambda xs: " | ".join(xs))
    st.caption(f"{fmt.number(len(snd))} học sinh chưa đạt ít nhất một yêu cầu.")
    st.dataframe(snd, hide_index=True, width="stretch", height=min(600, 38 + 35 * len(snd)),
                 column_config={"student_id": "Mã học sinh", "full_name": "Họ và tên", "class_name": "Lớp",
                                "birth_date": "Ngày sinh", "id_number": "Số CMND/CCCD",
                                "permanent_address": "Nơi thường trú",
                                "requirements": "Chưa đạt yêu cầu", "lacks": st.column_config.TextColumn(
                                    "Còn thiếu / cần sửa", width="large"),
                                "n_errors": "Số lỗi"})

    if c.viewer.role == "khtc":
        # One record at a time, on purpose, and written to the audit trail (queries.student_record).
        with st.expander("Xem thông tin cá nhân của một học sinh", icon=":material/visibility:"):
            st.caption("Hiện số CMND/CCCD, ngày sinh và nơi thường trú đầy đủ của MỘT học sinh. "
                       "Mỗi lần xem được ghi vào nhật ký truy cập.")
            names = dict(zip(snd["student_id"], snd["full_name"]))
            sid = st.selectbox("Học sinh", list(snd["student_id"]), index=None, key="pii_student",
                               format_func=lambda s: f"{names.get(s) or ''} ({s})",
                               placeholder="— chọn học sinh —")
            if st.button("Xem thông tin cá nhân", key="pii_open", icon=":material/visibility:",
                         disabled=sid is None):
                try:
                    rec = queries.student_record(c.viewer, school, sid, snapshot_id=c.snapshot_id,
                                                 store=c.store)
                    # st.table renders Markdown in its cells: imported values through fmt.md.
                    st.table({"Mã học sinh": [fmt.md(rec["student_id"])], "Họ và tên": [fmt.md(rec["full_name"])],
                              "Ngày sinh": [fmt.md(rec["birth_date"])], "Số CMND/CCCD": [fmt.md(rec["id_number"])],
                              "Nơi thường trú": [fmt.md(rec["permanent_address"])]})
                except (PermissionError, LookupError) as e:
                    st.error(fmt.md(e), icon=":material/block:")

# ---- history ----------------------------------------------------------------------------------
st.markdown("#### Tiến độ qua các lần trích xuất")


def history_figure():
    hist = c.q("school_history", school_code=school)
    if hist.empty:
        return None
    traces = [dict(type="scatter", x=g["as_of"], y=g["percent"], mode="lines+markers",
                   name=g["requirement_name"].iloc[0],
                   customdata=[fmt.date_time(t) for t in g["as_of"].tolist()],
                   hovertemplate="%{customdata}<br>%{y:.1f} %<extra>%{fullData.name}</extra>")
              for _, g in hist.groupby("requirement_id", sort=False)]
    # (One construction with plain dicts: add_trace/add_vline/update_* cost several times more.)
    fig = go.Figure(data=traces, layout=dict(
        shapes=[fmt.vline(due, dash="dot", opacity=0.6) for due in sorted(set(hist["due"].dropna()))],
        xaxis=dict(title="Thời điểm dữ liệu", tickformat="%d/%m"),
        yaxis=dict(title="Tiến độ (%)", range=[0, 105]),
        legend=dict(orientation="h", y=-0.3), **fmt.layout_style(height=380)))
    return fig


fig = c.memo("school_history", history_figure, school)
if fig is not None:
    st.plotly_chart(fig, width="stretch", key="school_history")
    st.caption("Đường chấm đỏ: các thời hạn.")
