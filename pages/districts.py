"""Quận/huyện — the 22 district-level units compared (map, districts × requirements), and one
district opened: its institutions × requirements as a status grid and a table.
?district=760 (the global district filter) opens that district."""
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from plotly.colors import sample_colorscale
import plotly.graph_objects as go
import streamlit as st

import app_state as A
from data_access import formatting as fmt
from data_access import queries

GEOJSON = Path(queries.__file__).resolve().parent / "reference" / "districts_hcmc.geojson"


def _signed_area(ring):
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:]))


@lru_cache(maxsize=1)
def geojson():
    """The district polygons with rings wound as plotly's geo projection (d3) expects:
    exterior rings clockwise, holes counter-clockwise (the file follows RFC 7946, the reverse)."""
    gj = json.loads(GEOJSON.read_text(encoding="utf-8"))
    for feat in gj["features"]:
        geom = feat["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for poly in polys:
            for i, ring in enumerate(poly):
                clockwise = _signed_area(ring) < 0
                if (i == 0) != clockwise:
                    ring.reverse()
    return gj


def district_map(comp):
    """Choropleth of the district polygons, drawn as filled plotly shapes (SVG): plotly's geo
    charts fetch base-map topojson from a CDN, which an office intranet may block; these
    polygons need nothing but the project's own geojson. Colour = completion, on the scale
    whose ends mean what the status colours mean (vermilion low, blue high)."""
    gj = geojson()
    by_code = comp.set_index("district_code")
    fig = go.Figure()
    for feat in gj["features"]:
        code = feat["properties"]["district_code"]
        if code not in by_code.index:
            continue
        row = by_code.loc[code]
        val = row["completion_rate"]
        color = "#EEEEEE" if pd.isna(val) else sample_colorscale(fmt.COMPLETION_SCALE, float(val) / 100)[0]
        text = (f"<b>{fmt.plotly_text(row['district_name'])}</b><br>Hoàn thành: {fmt.percent(val)}"
                f"<br>Đơn vị đã xong: {row['units_text']}")
        geom = feat["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        xs, ys = [], []
        for poly in polys:
            ring = poly[0]
            xs += [pt[0] for pt in ring] + [None]
            ys += [pt[1] for pt in ring] + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=color, mode="lines",
                                 line=dict(color="#FFFFFF", width=1), hoveron="fills",
                                 text=text, hoverinfo="text", name=fmt.plotly_text(row["district_name"]),
                                 showlegend=False))
    # The colour scale, as a colour bar on an invisible marker.
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                             marker=dict(colorscale=fmt.COMPLETION_SCALE, cmin=0, cmax=100, color=[0],
                                         showscale=True, colorbar=dict(title="Hoàn thành (%)",
                                                                       ticksuffix=" %"))))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1.02)
    fmt.plotly_layout(fig, height=600)
    fig.update_layout(plot_bgcolor="#FFFFFF", hovermode="closest")
    return fig


c = A.header("Quận/huyện")
f = c.filters
reqs = c.q("requirements")
rname = dict(zip(reqs["requirement_id"], reqs["name"]))


def pivot_progress(df, index, label_col):
    """Wide table: one ProgressColumn per requirement (completion rate of its units)."""
    wide = df.pivot_table(index=index, columns="requirement_id", values="completion_rate", aggfunc="first")
    order = [r for r in reqs["requirement_id"] if r in wide.columns]
    return wide[order], order


if not f.district:
    # ---- the city: map and districts × requirements -------------------------------------------
    comp = c.q("district_completion")
    if A.nothing_selected(comp[comp["units_expected"] > 0]):
        st.stop()
    st.subheader("Tỉ lệ hoàn thành theo quận/huyện")
    st.caption("Tỉ lệ đơn vị (trường × yêu cầu) đã hoàn thành, đủ và hợp lệ, trên các yêu cầu đang chọn. "
               "Bấm vào tên quận/huyện trong bảng để mở trang của quận/huyện đó.")

    def city_map():
        comp["units_text"] = [f"{fmt.number(d)}/{fmt.number(e)}"
                              for d, e in zip(comp["units_done"], comp["units_expected"])]
        return district_map(comp)

    left, right = st.columns([5, 4])
    with left:
        st.plotly_chart(c.memo("district_map", city_map), width="stretch", key="district_map")
    with right:
        tbl = c.memo("district_table", lambda: c.with_links(comp[comp["units_expected"] > 0], A.DISTRICTS))
        cols = ["link", "completion_rate", "on_time_rate", "units_done", "units_expected",
                "units_overdue", "units_at_risk"]
        st.dataframe(A.styled(tbl, numbers={"units_done": 0, "units_expected": 0, "units_overdue": 0,
                                            "units_at_risk": 0}, columns=cols),
                     hide_index=True, width="stretch", height=560, column_order=cols,
                     column_config={
                         "link": st.column_config.LinkColumn("Quận/huyện", display_text=A.LINK_LABEL),
                         "completion_rate": st.column_config.ProgressColumn("Hoàn thành (%)", min_value=0,
                                                                            max_value=100, format="localized"),
                         "on_time_rate": st.column_config.ProgressColumn("Đúng hạn (%)", min_value=0,
                                                                         max_value=100, format="localized"),
                         "units_done": "Đã xong", "units_expected": "Phải làm",
                         "units_overdue": "Quá hạn", "units_at_risk": "Có nguy cơ"})

    st.subheader("Quận/huyện × yêu cầu")

    def district_grid():
        wide, order = pivot_progress(c.q("district_matrix"), ["district_code", "district_name"], "district_name")
        return c.with_links(wide.reset_index(), A.DISTRICTS), order

    wide, order = c.memo("district_grid", district_grid)
    cfg = {"link": st.column_config.LinkColumn("Quận/huyện", display_text=A.LINK_LABEL, pinned=True)}
    for r in order:
        cfg[r] = st.column_config.ProgressColumn(rname[r], help=rname[r], min_value=0, max_value=100, format="localized",
                                                 width="small")
    st.dataframe(A.styled(wide, percents=order, columns=["link"] + order), hide_index=True, width="stretch",
                 column_order=["link"] + order, column_config=cfg)
    codes = list(comp.loc[comp["units_expected"] > 0, "district_code"])
    names = dict(zip(comp["district_code"], comp["district_name"]))

    def _open_district():
        pick = st.session_state.get("open_district")
        if pick:
            st.session_state[A.K_DISTRICT] = pick
            st.session_state["open_district"] = None

    st.selectbox("Mở một quận/huyện", options=codes, index=None, key="open_district",
                 on_change=_open_district, placeholder="— chọn quận/huyện —", format_func=lambda x: names[x])
else:
    # ---- one district ---------------------------------------------------------------------
    d = c.q("districts", filters=queries.ALL)
    dname = dict(zip(d["district_code"], d["district_name"])).get(f.district, f.district)
    st.subheader(fmt.md(dname))
    summ = c.q("requirement_summary")
    if A.nothing_selected(summ):
        st.stop()
    tot_exp, tot_done = int(summ["units_expected"].sum()), int(summ["units_done"].sum())
    m = st.columns(4)
    m[0].metric("Trường", fmt.number(c.q("school_matrix")["school_code"].nunique()))
    m[1].metric("Đơn vị đã xong", f"{fmt.number(tot_done)}/{fmt.number(tot_exp)}")
    m[2].metric("Quá hạn", fmt.number(int(summ["units_overdue"].sum())))
    m[3].metric("Có nguy cơ trễ hạn", fmt.number(int(summ["units_at_risk"].sum())))
    if c.viewer.role not in ("phong_gd", "truong"):
        st.page_link(A.DISTRICTS[0], label="Về toàn thành phố", icon=":material/arrow_back:",
                     query_params=c.params(district=None))

    sm = c.q("school_matrix")
    if A.nothing_selected(sm, "trường"):
        st.stop()
    st.markdown("**Trường × yêu cầu: trạng thái**")

    def school_grid():
        """The district's institutions × requirements: the status heatmap and the table of
        labels with a link per institution. (Filled from Python lists, and the figure made in
        one construction: pandas pivots and plotly's update_* calls cost ~3x more per district.)"""
        present = set(sm["requirement_id"].tolist())
        order = [r for r in reqs["requirement_id"].tolist() if r in present]
        schools = sm.drop_duplicates("school_code")[["school_code", "school_name"]]
        codes_ = schools["school_code"].tolist()
        row, col = {s_: i for i, s_ in enumerate(codes_)}, {r: j for j, r in enumerate(order)}
        na, na_label = fmt.STATUS_CODE["not_applicable"], "Không áp dụng"
        z = [[na] * len(order) for _ in codes_]
        label = [[na_label] * len(order) for _ in codes_]
        text = [[na_label] * len(order) for _ in codes_]
        pct_text = {}
        for s_, r, st_, p in zip(sm["school_code"].tolist(), sm["requirement_id"].tolist(),
                                 sm["status"].tolist(), sm["percent"].tolist()):
            i, j = row[s_], col[r]
            lb = fmt.STATUS_LABELS.get(st_, na_label)
            z[i][j], label[i][j] = fmt.STATUS_CODE.get(st_, na), lb
            if p is not None and p == p:
                if p not in pct_text:
                    pct_text[p] = fmt.percent(p)
                text[i][j] = f"{lb} · {pct_text[p]}"
            else:
                text[i][j] = lb
        # Imported names on the axis: plotly reads <a href> there (a clickable link), so as text.
        short = [fmt.plotly_text(s_.replace("Trường ", "")) for s_ in schools["school_name"].tolist()]
        legend = [dict(type="scatter", x=[None], y=[None], mode="markers", name=fmt.STATUS_LABELS[s_],
                       marker=dict(symbol="square", size=14, color=fmt.STATUS_COLORS[s_],
                                   line=dict(color="#999", width=1)))
                  for s_ in fmt.STATUS_ORDER]   # the legend: one square per status, as on every page
        heat = go.Figure(
            data=[dict(type="heatmap", z=np.array(z), x=[rname[r] for r in order], y=short,
                       text=np.array(text, dtype=object), zmin=-0.5, zmax=len(fmt.STATUS_ORDER) - 0.5,
                       colorscale=fmt.discrete_colorscale([fmt.STATUS_COLORS[s_] for s_ in fmt.STATUS_ORDER]),
                       xgap=2, ygap=2, hovertemplate="%{y}<br>%{x}<br>%{text}<extra></extra>",
                       showscale=False)] + legend,
            layout=dict(legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                        yaxis=dict(autorange="reversed", title=None),
                        xaxis=dict(title=None, tickangle=-30),
                        **fmt.layout_style(height=max(320, 26 * len(codes_) + 160))))
        lab = pd.DataFrame({"school_code": codes_, **{r: [lb[j] for lb in label] for j, r in enumerate(order)},
                            "school_name": schools["school_name"].tolist()})
        lab = c.with_links(lab, A.INSTITUTION)
        return heat, lab, order

    heat, lab, order = c.memo("school_grid", school_grid)
    st.plotly_chart(heat, width="stretch", key="school_heatmap")

    st.markdown("**Bảng trường × yêu cầu**")
    cfg = {"link": st.column_config.LinkColumn("Trường", display_text=A.LINK_LABEL, pinned=True),
           "school_code": "Mã trường"}
    cfg.update({r: st.column_config.TextColumn(rname[r], help=rname[r]) for r in order})
    st.dataframe(lab, hide_index=True, width="stretch", column_order=["link", "school_code"] + order,
                 column_config=cfg)
    first = lab.iloc[0]
    school_name = dict(zip(lab["school_code"], lab["school_name"]))
    pick = st.selectbox("Mở trang của trường", options=list(lab["school_code"]), index=None,
                        key="open_school", placeholder="— chọn trường —", format_func=school_name.get)
    target = pick or first["school_code"]
    tname = school_name[target]
    st.page_link(A.INSTITUTION[0], label=f"Mở {fmt.md(tname)}", icon=":material/arrow_forward:",
                 query_params=c.params(school=target))
