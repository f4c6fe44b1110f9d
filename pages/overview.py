"""Tổng quan — for leadership: each deadline's standing, progress over time, who is at risk and
who is dragging the city down. Every figure comes from data_access.queries (engine views)."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import app_state as A
from data_access import formatting as fmt

c = A.header("Tổng quan tiến độ", "Mỗi thẻ là một thời hạn của Công văn 1254/SGDĐT-KHTC: tỉ lệ "
             "đơn vị hoàn thành (đủ và hợp lệ), tỉ lệ hoàn thành đúng hạn và thay đổi so với "
             "lần trích xuất trước.")


def deadline_cards():
    """The cards' frame and its rows as tuples (itertuples over Arrow-backed columns costs
    more than drawing the four cards)."""
    df = c.q("deadline_cards")
    return df, list(df.itertuples())


cards, card_rows = c.memo("deadline_cards", deadline_cards)
if A.nothing_selected(cards):
    st.stop()


def delta_text(now, before):
    if pd.isna(before):
        return None
    d = round(float(now) - float(before), 1)
    if d == 0:
        return None
    return ("+" if d >= 0 else "-") + fmt.number(abs(d), 1) + " điểm %"


cols = st.columns(min(len(cards), 4))
for i, card in enumerate(card_rows):
    with cols[i % len(cols)].container(border=True):
        if pd.isna(card.due):
            st.markdown("**Không có thời hạn** · theo dõi tiến độ")
        else:
            st.markdown(f"**Hạn {fmt.date(card.due)}** · {fmt.days_phrase(card.days_left)}")
        names = list(card.requirement_names)
        if len(names) <= 2:
            st.caption("; ".join(names))
        else:
            st.caption(f"{len(names)} yêu cầu: báo cáo trên hệ thống và bản giấy",
                       help="\n".join("- " + n for n in names))
        m1 = m2 = st
        m1.metric("Hoàn thành", fmt.percent(card.completion_rate),
                  delta_text(card.completion_rate, card.prev_completion_rate),
                  help="Đơn vị đã hoàn thành (đủ và hợp lệ) / đơn vị phải thực hiện. "
                       "Mũi tên: thay đổi so với lần trích xuất trước.")
        m2.metric("Đúng hạn", fmt.percent(card.on_time_rate),
                  delta_text(card.on_time_rate, card.prev_on_time_rate),
                  help="Đơn vị hoàn thành đúng hạn / đơn vị phải thực hiện.")
        line = (f"{fmt.number(card.units_done)}/{fmt.number(card.units_expected)} đơn vị"
                f" · {fmt.number(card.units_overdue)} quá hạn · {fmt.number(card.units_at_risk)} có nguy cơ")
        if not pd.isna(card.records_expected):
            line += f" · {fmt.number(card.records_done)}/{fmt.number(card.records_expected)} học sinh đạt"
        st.caption(line)
        note = fmt.uncertain_units_note(card.units_timing_uncertain, card.units_timing_uncertain_no_prior)
        if note:
            st.caption(note)
        st.page_link(A.DISTRICTS[0], label="Theo quận/huyện", icon=":material/map:",
                     query_params=c.params(req=",".join(card.requirement_ids)))
if not pd.isna(cards["prev_as_of"].iloc[0]):
    st.caption(f"Thay đổi so với snapshot {fmt.date_time(cards['prev_as_of'].iloc[0])}.")


# ---- progress over time ----------------------------------------------------------------------
st.subheader("Tiến độ theo thời gian")


def history_figures():
    """(tab label, chart key, figure) per deadline, in deadline order (no due date last)."""
    hist = c.q("progress_over_time")
    if hist.empty:
        return []
    hist["due_key"] = hist["due"].map(lambda d: "khong-han" if pd.isna(d) else d.strftime("%Y%m%d%H%M"))
    groups = [(k, g) for k, g in hist.groupby("due_key", sort=False)]
    groups.sort(key=lambda kg: (pd.isna(kg[1]["due"].iloc[0]), kg[1]["due"].iloc[0] if not pd.isna(kg[1]["due"].iloc[0]) else 0))
    out = []
    for key, g in groups:
        traces = [dict(
            type="scatter", x=rg["as_of"], y=rg["completion_rate"], mode="lines+markers", name=rg["name"].iloc[0],
            customdata=list(zip(rg["as_of"].map(fmt.date_time), rg["units_done"].map(fmt.number),
                                rg["units_expected"].map(fmt.number))),
            hovertemplate="%{customdata[0]}<br>Hoàn thành: %{y:.1f} %"
                          "<br>%{customdata[1]}/%{customdata[2]} đơn vị<extra>%{fullData.name}</extra>")
            for _, rg in g.groupby("requirement_id", sort=False)]
        due = g["due"].iloc[0]
        marks = {} if pd.isna(due) else dict(
            shapes=[fmt.vline(due, dash="dash")],
            annotations=[dict(x=due, y=105, text=f"Hạn {fmt.date(due)}", showarrow=False,
                              font=dict(color=fmt.STATUS_COLORS["overdue"]))])
        # (One construction with plain dicts: add_trace/add_annotation/update_* cost several times more.)
        fig = go.Figure(data=traces, layout=dict(
            xaxis=dict(title="Thời điểm dữ liệu", tickformat="%d/%m"),
            yaxis=dict(title="Tỉ lệ đơn vị hoàn thành (%)", range=[0, 110]),
            legend=dict(orientation="h", y=-0.25), **marks, **fmt.layout_style(height=380)))
        label = "Không có hạn" if pd.isna(due) else "Hạn " + fmt.date(due)
        out.append((label, f"hist_{key}", fig))
    return out


figs = c.memo("overview_history", history_figures)
if figs:
    for tab, (_, key, fig) in zip(st.tabs([label for label, _, _ in figs]), figs):
        with tab:
            st.plotly_chart(fig, width="stretch", key=key)

# ---- who is dragging it down ----------------------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader("10 quận/huyện có tỉ lệ hoàn thành thấp nhất")
    wd = c.memo("worst_districts", lambda: c.with_links(c.q("worst_districts", n=10), A.DISTRICTS))
    if not A.nothing_selected(wd):
        cols = ["link", "completion_rate", "on_time_rate", "units_done", "units_expected", "units_overdue"]
        st.dataframe(A.styled(wd, numbers={"units_expected": 0, "units_done": 0, "units_overdue": 0}, columns=cols),
                     hide_index=True, width="stretch", column_order=cols,
                     column_config={
                         "link": st.column_config.LinkColumn("Quận/huyện", display_text=A.LINK_LABEL,
                                                             help="Bấm để mở trang của quận/huyện"),
                         "completion_rate": st.column_config.ProgressColumn(
                             "Hoàn thành (%)", min_value=0, max_value=100, format="localized"),
                         "on_time_rate": st.column_config.ProgressColumn(
                             "Đúng hạn (%)", min_value=0, max_value=100, format="localized"),
                         "units_done": "Đã xong", "units_expected": "Phải làm",
                         "units_overdue": "Quá hạn"})
        st.page_link(A.DISTRICTS[0], label=f"Mở {fmt.md(wd['district_name'].iloc[0])}", icon=":material/arrow_forward:",
                     query_params=c.params(district=wd["district_code"].iloc[0]))
with right:
    st.subheader("10 trường có tỉ lệ hoàn thành thấp nhất")
    ws = c.memo("worst_schools", lambda: c.with_links(c.q("worst_schools", n=10), A.INSTITUTION))
    if not A.nothing_selected(ws, "trường"):
        cols = ["link", "district_name", "completion_rate", "units_overdue", "records_missing"]
        st.dataframe(A.styled(ws, numbers={"units_overdue": 0, "records_missing": 0}, columns=cols),
                     hide_index=True, width="stretch", column_order=cols,
                     column_config={
                         "link": st.column_config.LinkColumn("Trường", display_text=A.LINK_LABEL,
                                                             help="Bấm để mở trang của trường"),
                         "district_name": "Quận/huyện",
                         "completion_rate": st.column_config.ProgressColumn(
                             "Hoàn thành (%)", min_value=0, max_value=100, format="localized"),
                         "units_overdue": st.column_config.NumberColumn(
                             "Yêu cầu quá hạn", help="Số yêu cầu đã quá hạn mà chưa hoàn thành"),
                         "records_missing": st.column_config.NumberColumn(
                             "Học sinh chưa đạt", help="Số lượt học sinh chưa đủ hoặc chưa hợp lệ")})
        st.page_link(A.INSTITUTION[0], label=f"Mở {fmt.md(ws['school_name'].iloc[0])}", icon=":material/arrow_forward:",
                     query_params=c.params(school=ws["school_code"].iloc[0]))

st.subheader("Đơn vị có nguy cơ trễ hạn")
risk = c.memo("at_risk_units", lambda: c.with_links(c.q("at_risk_units", limit=500), A.INSTITUTION))
if risk.empty:
    st.success("Không có đơn vị nào có nguy cơ trễ hạn với bộ lọc đang chọn "
               "(các yêu cầu còn hạn đều đang kịp tiến độ, hoặc đã hết hạn).", icon=":material/check_circle:")
else:
    st.caption(f"{fmt.number(len(risk))} lượt trường × yêu cầu chưa xong mà theo tốc độ gần đây sẽ "
               "không kịp hạn.")
    cols = ["link", "district_name", "requirement_name", "due", "status", "percent", "missing"]
    st.dataframe(A.styled(risk, numbers={"missing": 0}, dates=["due"],
                          labels={"status": fmt.STATUS_LABELS}, columns=cols),
                 hide_index=True, width="stretch", height=320, column_order=cols,
                 column_config={
                     "link": st.column_config.LinkColumn("Trường", display_text=A.LINK_LABEL),
                     "district_name": "Quận/huyện", "requirement_name": "Yêu cầu",
                     "due": "Hạn", "status": "Trạng thái",
                     "percent": st.column_config.ProgressColumn("Tiến độ (%)", min_value=0, max_value=100, format="localized"),
                     "missing": st.column_config.NumberColumn("Còn thiếu", help="Số bản ghi/báo cáo còn thiếu")})
