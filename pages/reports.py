"""Báo cáo — institutions × reports: sent on time, sent late, returned, draft, missing; the signed
and stamped paper copy received (valid) or not; counts per district. Cell states come from the
dash_report_cells view (engine statuses + the REPORT_RETURNED finding)."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import app_state as A
from data_access import formatting as fmt

c = A.header("Báo cáo và bản giấy", "Báo cáo gửi trên hệ thống (EMIS, EQMS, đề án ngoại ngữ, cơ sở "
             "vật chất, sức khỏe học sinh) và bản giấy có ký tên, đóng dấu gửi Phòng KHTC.")

cells = c.q("report_matrix")
if A.nothing_selected(cells):
    st.stop()
reqs = c.q("requirements")
rname = dict(zip(reqs["requirement_id"], reqs["name"]))
order = [r for r in reqs["requirement_id"] if r in set(cells["requirement_id"])]
short = {r: (("Bản giấy " if k == "paper" else "") + code)
         for r, k, code in zip(reqs["requirement_id"], reqs["kind"], reqs["report_code"].fillna(""))}

# ---- overview bar chart ---------------------------------------------------------------------
counts = cells.groupby(["requirement_id", "cell_state"]).size().rename("n").reset_index()
bars = []
for state in fmt.REPORT_STATE_ORDER:
    sub = counts[counts["cell_state"] == state].set_index("requirement_id").reindex(order)
    if sub["n"].fillna(0).sum() == 0:
        continue
    bars.append(dict(type="bar", y=[short[r] for r in order], x=sub["n"].fillna(0), orientation="h",
                     name=fmt.REPORT_STATE_LABELS[state], marker_color=fmt.REPORT_STATE_COLORS[state],
                     customdata=[rname[r] for r in order],
                     hovertemplate="%{customdata}<br>" + fmt.REPORT_STATE_LABELS[state]
                                   + ": %{x:,.0f} trường<extra></extra>"))
# (One construction with plain dicts: add_trace/update_* cost several times more.)
fig = go.Figure(data=bars, layout=dict(
    barmode="stack", legend=dict(orientation="h", y=-0.2), xaxis=dict(title="Số trường"),
    yaxis=dict(autorange="reversed", title=None), **fmt.layout_style(height=120 + 34 * len(order))))
st.plotly_chart(fig, width="stretch", key="report_bars")

# ---- the matrix ------------------------------------------------------------------------------
st.subheader("Trường × báo cáo")
states = st.multiselect("Chỉ hiện trường có ô ở trạng thái", options=fmt.REPORT_STATE_ORDER[:-1],
                        default=["held", "returned", "draft", "missing", "paper_invalid", "paper_missing"],
                        format_func=lambda s: fmt.REPORT_STATE_LABELS[s], key="report_states",
                        help="Để trống để hiện mọi trường.")
show = cells
if states:
    keep = set(cells.loc[cells["cell_state"].isin(states), "school_code"])
    show = cells[cells["school_code"].isin(keep)]
if show.empty:
    st.info("Không có trường nào có ô ở các trạng thái đã chọn.", icon=":material/filter_alt_off:")
else:
    wide = show.pivot_table(index="school_code", columns="requirement_id", values="cell_state", aggfunc="first")
    wide = wide.reindex(columns=order)
    info = show.drop_duplicates("school_code").set_index("school_code")[["school_name", "district_name"]]
    wide = info.join(wide).reset_index()
    wide = wide.fillna({r: "not_applicable" for r in order})
    # «Khớp dữ liệu» of each submitted report with indicators, beside its cell (issue 15).
    matches = c.q("report_figure_matches")
    match_cols = {}
    for rid in order:
        m = matches[matches["requirement_id"] == rid]
        if rid in set(matches["requirement_id"]):
            match_cols[rid] = f"{rid}__khop"
            wide[match_cols[rid]] = wide["school_code"].map(dict(zip(m["school_code"], m["match_label"])))
    wide.insert(0, "link", [c.link(A.INSTITUTION, n, school=s) for s, n in zip(wide["school_code"], wide["school_name"])])
    MAX_ROWS = 400   # a styled grid of every institution of the city is slow to draw: cap it
    total = len(wide)
    if total > MAX_ROWS:
        wide = wide.head(MAX_ROWS)
        st.caption(f"Hiển thị {fmt.number(MAX_ROWS)}/{fmt.number(total)} trường (theo thứ tự tên). Chọn một "
                   "quận/huyện hoặc cấp học ở thanh bên để xem đủ. Bấm tên trường để mở trang của trường.")
    else:
        st.caption(f"{fmt.number(total)} trường. Bấm tên trường để mở trang của trường.")
    sty = A.styled(wide, labels={r: fmt.REPORT_STATE_LABELS for r in order})
    sty = sty.map(lambda s: f"background-color: {fmt.REPORT_STATE_COLORS.get(s, '#fff')}; "
                            f"color: {'#FFFFFF' if s in ('sent_on_time', 'paper_valid') else '#000000'}",
                  subset=order)
    cfg = {"link": st.column_config.LinkColumn("Trường", display_text=A.LINK_LABEL, pinned=True),
           "district_name": "Quận/huyện", "school_code": "Mã trường"}
    cfg.update({r: st.column_config.TextColumn(short[r], help=rname[r]) for r in order})
    cfg.update({k: st.column_config.TextColumn(f"{short[r]}: khớp dữ liệu",
                                               help="Số liệu báo cáo đã gửi so với dữ liệu hiện tại")
                for r, k in match_cols.items()})
    cols = ["link", "district_name"] + [x for r in order for x in ([r, match_cols[r]] if r in match_cols else [r])]
    st.dataframe(sty, hide_index=True, width="stretch", height=480,
                 column_order=cols, column_config=cfg)

# ---- report figures against the records (issue 15) -------------------------------------------
st.subheader("Số liệu báo cáo so với dữ liệu")
st.caption("Mỗi số liệu của báo cáo đã gửi được so với số tính từ dữ liệu của snapshot gần nhất trước lúc "
           "gửi và của snapshot đang xem. Lệch số liệu là cảnh báo: không làm thay đổi trạng thái báo cáo.")
rates = c.q("report_figure_rates")
if rates.empty or int(rates["reports"].sum()) == 0:
    st.info("Chưa có báo cáo đã gửi nào có số liệu để đối chiếu trong phạm vi đang xem.")
else:
    tot = rates[rates["level"] == "total"].iloc[0]
    k1, k2, k3 = st.columns(3)
    k1.metric("Tỉ lệ báo cáo khớp dữ liệu", fmt.percent(tot["match_rate"]),
              help="Số báo cáo khớp / số báo cáo có số liệu (trong phạm vi đang xem)")
    k2.metric("Báo cáo lệch số liệu", fmt.number(tot["mismatching"]))
    k3.metric("Báo cáo không có số liệu", fmt.number(tot["no_figures"]))
    byd_rf = rates[rates["level"] == "district"].copy()
    byd_rf.insert(0, "link", [c.link(A.DISTRICTS, n, district=d)
                              for d, n in zip(byd_rf["district_code"], byd_rf["district_name"].fillna(byd_rf["district_code"]))])
    st.dataframe(A.styled(byd_rf, numbers={k: 0 for k in ("reports", "with_figures", "matching", "mismatching", "no_figures")},
                          percents=("match_rate",)),
                 hide_index=True, width="stretch", key="rf_rates",
                 column_order=["link", "reports", "with_figures", "matching", "mismatching", "no_figures", "match_rate"],
                 column_config={"link": st.column_config.LinkColumn("Quận/huyện", display_text=A.LINK_LABEL),
                                "reports": "Báo cáo đã gửi", "with_figures": "Có số liệu", "matching": "Khớp",
                                "mismatching": "Lệch", "no_figures": "Không có số liệu",
                                "match_rate": "Tỉ lệ khớp (%)"})
    lech = c.q("report_figure_mismatches")
    if int(tot["with_figures"]) == 0:
        st.info("Chưa so được báo cáo nào với dữ liệu: các báo cáo đã gửi trong phạm vi đang xem không có số "
                "liệu, hoặc bản trích xuất thiếu tệp nguồn của các chỉ tiêu.")
    elif lech.empty:
        st.success("Mọi số liệu báo cáo đã gửi đều khớp với dữ liệu.", icon=":material/check_circle:")
    else:
        units = lech.drop_duplicates("school_code")
        label = dict(zip(units["school_code"], units["school_name"] + " (" + units["school_code"] + ")"))
        pick = st.selectbox("Số liệu lệch của đơn vị", options=list(label), format_func=label.get,
                            key="rf_school")
        one = lech[lech["school_code"] == pick]
        st.dataframe(A.styled(one, numbers={"stated": 0, "at_sending": 0, "now_value": 0},
                              datetimes=("submitted_at",)),
                     hide_index=True, width="stretch", key="rf_mismatches",
                     column_order=["report_code", "indicator_name", "value_raw", "stated", "at_sending",
                                   "now_value", "figure_state_label", "submitted_at"],
                     column_config={"report_code": "Báo cáo", "indicator_name": "Chỉ tiêu",
                                    "value_raw": "Giá trị ghi trong báo cáo",
                                    "stated": "Số đọc được", "at_sending": "Dữ liệu lúc gửi",
                                    "now_value": "Dữ liệu hiện tại", "figure_state_label": "Tình trạng",
                                    "submitted_at": "Gửi lúc"})

# ---- counts per district --------------------------------------------------------------------
st.subheader("Số trường theo quận/huyện")
byd = c.q("report_counts_by_district")
kind = st.radio("Xem", options=["report", "paper"], horizontal=True, key="report_kind",
                format_func=lambda k: "Báo cáo trên hệ thống" if k == "report" else "Bản giấy")
sub = byd[byd["kind"] == kind]
if sub.empty:
    st.info("Không có số liệu với bộ lọc đang chọn.")
else:
    states_k = [s for s in fmt.REPORT_STATE_ORDER if s in set(sub["cell_state"])]
    piv = sub.pivot_table(index=["district_code", "district_name"], columns="cell_state", values="n",
                          aggfunc="sum", fill_value=0).reindex(columns=states_k, fill_value=0).reset_index()
    piv["total"] = piv[states_k].sum(axis=1)
    piv.insert(0, "link", [c.link(A.DISTRICTS, n, district=d) for d, n in zip(piv["district_code"], piv["district_name"])])
    cfg = {"link": st.column_config.LinkColumn("Quận/huyện", display_text=A.LINK_LABEL),
           "total": st.column_config.NumberColumn("Tổng (trường × báo cáo)")}
    cfg.update({s: st.column_config.NumberColumn(fmt.REPORT_STATE_LABELS[s]) for s in states_k})
    st.dataframe(A.styled(piv, numbers={s: 0 for s in states_k + ["total"]}), hide_index=True,
                 width="stretch", column_order=["link"] + states_k + ["total"], column_config=cfg)
