"""Chất lượng dữ liệu — findings by rule, severity, district and level; the institutions with
the most errors; the records behind a rule. Shows that "done" means valid, not just filled."""
import plotly.graph_objects as go
import streamlit as st

import app_state as A
from data_access import formatting as fmt

c = A.header("Chất lượng dữ liệu", "Một học sinh chỉ được tính là «đạt» khi dữ liệu vừa đủ vừa hợp "
             "lệ: không còn lỗi nào (cảnh báo không chặn).")

# ---- filled vs valid -------------------------------------------------------------------------
fv = c.q("filled_vs_valid")
if not fv.empty:
    st.subheader("«Hoàn thành» nghĩa là hợp lệ, không chỉ là đã nhập")
    cols = st.columns(len(fv))
    for col, r in zip(cols, fv.itertuples()):
        with col.container(border=True):
            st.markdown(f"**{r.requirement_name}**")
            st.metric("Đã nhập đủ", fmt.percent(r.filled_rate),
                      help="Học sinh đã có đủ mọi giá trị bắt buộc (chưa xét đúng sai).")
            st.metric("Đủ và hợp lệ (được tính)", fmt.percent(r.done_rate),
                      delta=f"-{fmt.number(r.records_filled - r.records_done)} học sinh có lỗi"
                      if r.records_filled > r.records_done else None,
                      help="Học sinh không còn lỗi nào: đây là số được tính vào tiến độ.")
            st.caption(f"{fmt.number(r.records_done)} / {fmt.number(r.records_filled)} / "
                       f"{fmt.number(r.records_expected)} (hợp lệ / đã nhập / phải có)")

summary = c.q("findings_summary")
if summary.empty:
    st.success("Không có lỗi hay cảnh báo nào với bộ lọc đang chọn.", icon=":material/check_circle:")
    st.stop()

# ---- by rule --------------------------------------------------------------------------------
st.subheader("Lỗi theo quy tắc")
m = st.columns(3)
m[0].metric("Lỗi (chặn hoàn thành)", fmt.number(int(summary.loc[summary.severity == "error", "n_findings"].sum())))
m[1].metric("Cảnh báo", fmt.number(int(summary.loc[summary.severity == "warning", "n_findings"].sum())))
m[2].metric("Trường có lỗi", fmt.number(len(c.q("schools_most_errors", n=100000))))
top = summary.head(15).iloc[::-1]
fig = go.Figure(data=[dict(type="bar", x=top["n_findings"], y=top["title"], orientation="h",
                            marker_color=[fmt.SEVERITY_COLORS[s] for s in top["severity"]],
                            customdata=[fmt.SEVERITY_LABELS[s] for s in top["severity"]],
                            hovertemplate="%{y}<br>%{x:,.0f} lỗi · %{customdata}<extra></extra>")],
                layout=dict(xaxis=dict(title="Số lỗi"), yaxis=dict(title=None),
                            **fmt.layout_style(height=140 + 28 * len(top))))
st.plotly_chart(fig, width="stretch", key="rule_bars")
st.caption("Màu: đỏ cam = lỗi (chặn hoàn thành), cam = cảnh báo.")
cols = ["title", "severity", "entity", "n_findings", "n_records", "n_schools", "blocks", "rule_id"]
st.dataframe(A.styled(summary, numbers={"n_findings": 0, "n_records": 0, "n_schools": 0},
                      labels={"severity": fmt.SEVERITY_LABELS, "entity": fmt.ENTITY_LABELS,
                              "blocks": {True: "Có", False: "Không"}}, columns=cols),
             hide_index=True, width="stretch",
             column_order=cols,
             column_config={"title": "Quy tắc", "severity": "Mức độ", "entity": "Đối tượng",
                            "n_findings": "Số lỗi", "n_records": "Số bản ghi", "n_schools": "Số trường",
                            "blocks": "Chặn hoàn thành", "rule_id": "Mã quy tắc"})

# ---- by district and level -------------------------------------------------------------------
left, right = st.columns(2)
for col, by, title in ((left, "district", "Theo quận/huyện"), (right, "level", "Theo cấp học")):
    with col:
        st.markdown(f"**{title}**")
        d = c.q("findings_by", by=by)
        d = d[d["key"].notna()]
        if d.empty:
            st.caption("Không có số liệu.")
            continue
        if by == "level":
            d["label"] = d["key"].map(fmt.level_label)
        bars = [dict(type="bar", x=d.loc[d["severity"] == sev, "label"], y=d.loc[d["severity"] == sev, "n_findings"],
                     name=fmt.SEVERITY_LABELS[sev], marker_color=fmt.SEVERITY_COLORS[sev],
                     hovertemplate="%{x}: %{y:,.0f}<extra>" + fmt.SEVERITY_LABELS[sev] + "</extra>")
                for sev in ("error", "warning")]
        f2 = go.Figure(data=bars, layout=dict(
            barmode="stack", legend=dict(orientation="h", y=-0.35), yaxis=dict(title="Số lỗi"),
            xaxis=dict(title=None, tickangle=-40), **fmt.layout_style(height=380)))
        st.plotly_chart(f2, width="stretch", key=f"by_{by}")

# ---- institutions with most errors ----------------------------------------------------------
st.subheader("Trường có nhiều lỗi nhất")
worst = c.q("schools_most_errors", n=20)
if not worst.empty:
    worst["link"] = [c.link(A.INSTITUTION, n, school=s) for s, n in zip(worst["school_code"], worst["school_name"])]
    cols = ["link", "district_name", "level_group", "n_errors", "n_records", "n_warnings"]
    st.dataframe(A.styled(worst, numbers={"n_errors": 0, "n_warnings": 0, "n_records": 0},
                          labels={"level_group": fmt.LEVEL_LABELS}, columns=cols),
                 hide_index=True, width="stretch",
                 column_order=cols,
                 column_config={"link": st.column_config.LinkColumn("Trường", display_text=A.LINK_LABEL),
                                "district_name": "Quận/huyện", "level_group": "Cấp học",
                                "n_errors": "Số lỗi", "n_records": "Bản ghi có lỗi", "n_warnings": "Cảnh báo"})

# ---- drill-down ------------------------------------------------------------------------------
st.subheader("Các bản ghi của một quy tắc")
title_of = {(r.rule_id): f"{r.title} ({r.rule_id}, {fmt.number(r.n_findings)})" for r in summary.itertuples()}
rules = list(dict.fromkeys(summary["rule_id"]))
qp_rule = st.query_params.get("rule")
if qp_rule in rules and st.session_state.get("_rule_qp_seen") != qp_rule:
    st.session_state["rule_pick"] = qp_rule
    st.session_state["_rule_qp_seen"] = qp_rule
rule = st.selectbox("Quy tắc", options=rules, key="rule_pick", format_func=lambda r: title_of[r])
A.set_page_param("rule", rule)
st.session_state["_rule_qp_seen"] = rule
recs = c.q("rule_records", rule_id=rule, limit=2000)
st.caption(f"{fmt.number(len(recs))} bản ghi (tối đa 2.000). Thông báo không chứa giá trị cá nhân; "
           "«Dòng» là số dòng trong tệp trích xuất.")
recs["link"] = [c.link(A.INSTITUTION, n, school=s) if isinstance(n, str) else None
                for s, n in zip(recs["school_code"], recs["school_name"])]
cols = ["link", "school_code", "district_name", "entity", "record_key", "field", "severity",
        "message", "source_row"]
st.dataframe(A.styled(recs, labels={"severity": fmt.SEVERITY_LABELS, "entity": fmt.ENTITY_LABELS}, columns=cols),
             hide_index=True, width="stretch", height=420,
             column_order=cols,
             column_config={"link": st.column_config.LinkColumn("Trường", display_text=A.LINK_LABEL),
                            "school_code": "Mã trường", "district_name": "Quận/huyện", "entity": "Đối tượng",
                            "record_key": "Mã bản ghi", "field": "Trường dữ liệu", "severity": "Mức độ",
                            "message": st.column_config.TextColumn("Thông báo", width="large"),
                            "source_row": st.column_config.NumberColumn("Dòng", format="%d")})
