"""Mức độ đầy đủ dữ liệu — the completeness index over the eight domains of letter 1254, point 1:
the city's (or the scope's) and each district's index, an institution × domain grid on one
colour scale, what an institution misses, and the index over time. UI only: every number comes
from data_access.completeness (rules in RULES.md). ?school=CODE opens an institution."""
import plotly.graph_objects as go
import streamlit as st

import app_state as A
from data_access import completeness as cmp
from data_access import formatting as fmt

c = A.header("Mức độ đầy đủ dữ liệu",
             "Công văn 1254, điểm 1: các cơ sở giáo dục cập nhật thường xuyên, suốt năm học, 8 nhóm dữ liệu. "
             "Mỗi lĩnh vực là tỉ lệ mục đã có đủ trên số mục phải có; chỉ số chung là trung bình các lĩnh "
             "vực đo được (lĩnh vực chưa có nguồn dữ liệu không được tính là 0 %).")
doms = cmp.domain_table()
names = dict(zip(doms["domain"], doms["name"]))
# the definitions' domains without a source, and those whose file this snapshot's extract lacks
no_source = c.memo("cmp_no_source", lambda: cmp.no_source_domains(c.snapshot_id, c.store))
cols = list(doms["domain"])
grid = c.memo("cmp_grid", lambda: cmp.grid(c.viewer, c.snapshot_id, c.store))
district = c.filters.district
if c.filters.level_group or c.filters.ownership or c.filters.requirements:
    st.caption("Trang này chỉ dùng bộ lọc quận/huyện; các bộ lọc cấp học, loại hình, yêu cầu không áp dụng.")
if district:
    grid = grid[grid["district_code"] == district]
if A.nothing_selected(grid, "trường"):
    st.stop()
city = c.memo("cmp_city", lambda: cmp.table(c.viewer, "city", c.snapshot_id, c.store))
by_district = c.memo("cmp_district", lambda: cmp.table(c.viewer, "district", c.snapshot_id, c.store))
if district:
    by_district = by_district[by_district["unit"] == district]


def styled(df, keys):
    """The small district table (≤ 22 rows; a Styler is cheap there): percents as 1.234,5 %, a
    not-measured cell as its reason in words (cmp.cell_texts), each cell on fmt.COMPLETION_SCALE."""
    text = df[keys].join(cmp.cell_texts(df[cols], no_source=no_source))

    def paint(col):
        return [("background-color: {}; color: {}".format(*fmt.completion_colors(v))) for v in df[col.name]]
    return text.style.apply(paint, subset=cols)


def heatmap(df):
    """The institution × domain grid on one colour scale (go.Heatmap: the browser draws it, no
    per-cell styling in Python); hover: school, domain, value in words (reason when not measured)."""
    texts = cmp.cell_texts(df[cols], no_source=no_source)
    z = df[cols].astype("float64").to_numpy()
    names_2d = [[fmt.plotly_text(n)] * len(cols) for n in df["school_name"]]
    big = len(df) > 60
    fig = go.Figure(go.Heatmap(
        z=z, x=[names[d] for d in cols], y=list(df["school_code"]), text=texts.to_numpy(), customdata=names_2d,
        zmin=0, zmax=100, colorscale=fmt.COMPLETION_SCALE, xgap=1, ygap=0 if big else 1,
        colorbar=dict(title="%", ticksuffix=" %"),
        hovertemplate="%{customdata} · %{y}<br>%{x}: %{text}<extra></extra>"),
        layout=dict(yaxis=dict(autorange="reversed", showticklabels=not big, title=None, type="category"),
                    xaxis=dict(side="top", title=None), plot_bgcolor=fmt.NOT_MEASURED_COLOR,
                    **fmt.layout_style(height=min(max(22 * len(df) + 120, 300), 700))))
    return fig


# ---- the index of the scope and of each district -------------------------------------------
scoped = district or c.viewer.role == "phong_gd"     # a district office's scope is its district
head = by_district.iloc[0] if scoped and len(by_district) else city.iloc[0]
scope_name = fmt.md(head["name"])
m = st.columns(4)
m[0].metric(f"Chỉ số chung · {scope_name}", fmt.percent(head["index"]),
            help="Trung bình chỉ số của các trường (mỗi trường tính một lần).")
m[1].metric("Số trường", fmt.number(head["institutions"]))
weakest = min((d for d in cols[:-1] if d not in no_source and head[d] == head[d]), key=lambda d: head[d],
              default=None)
if weakest:
    m[2].metric(f"Thấp nhất: {names[weakest]}", fmt.percent(head[weakest]))
m[3].metric("Trường dưới 80 %", fmt.number(int((grid["index"] < 80).sum())))
column_config = {"unit": "Mã", "name": "Quận/huyện", **{d: names.get(d, "Chỉ số chung") for d in cols}}
if not scoped:
    st.subheader("Theo quận/huyện")
    st.dataframe(styled(by_district, ["unit", "name"]), hide_index=True, width="stretch",
                 column_config=column_config, key="cmp_districts")

# ---- institutions x domains ------------------------------------------------------------------
st.subheader("Trường × lĩnh vực")
st.caption("Màu theo một thang cho mọi ô: đỏ cam 0 % · vàng 50 % · xanh 100 %; ô xám: lĩnh vực không đo. "
           f"«{cmp.NO_SOURCE_TEXT}»: bản trích xuất chưa có dữ liệu của lĩnh vực; "
           f"«{cmp.NOT_APPLICABLE_TEXT}»: trường không có học sinh lớp 12 (kết quả học tập, hạnh kiểm). "
           "Trường có chỉ số thấp nhất ở trên cùng; di chuột vào ô để xem trường, lĩnh vực, giá trị.")
shown = grid.sort_values(["index", "school_code"]).reset_index(drop=True)
st.plotly_chart(c.memo("cmp_heatmap", lambda: heatmap(shown), district), width="stretch", key="cmp_heatmap")


pct = {d: st.column_config.NumberColumn(f"{names[d]} (%)", format="localized", width="small")
       for d in cols[:-1] if d not in no_source}
# the grid as numbers (sortable; shown 1.234,5 in a Vietnamese browser); its only missing cells
# are the not-applicable ones (cmp.numbers_table), drawn in the page's words, never «None»
st.dataframe(c.memo("cmp_table", lambda: cmp.numbers_table(shown, no_source), district), hide_index=True, width="stretch", height=420,
             key="cmp_grid", placeholder=cmp.NOT_APPLICABLE_TEXT,
             column_config={"school_code": "Mã trường", "school_name": "Trường", **pct,
                            **{d: names[d] for d in no_source & set(cols)},
                            cols[-1]: st.column_config.ProgressColumn("Chỉ số chung (%)", min_value=0, max_value=100,
                                                                      format="localized"),
                            "not_applicable": cmp.NOT_APPLICABLE_TEXT})

# ---- what one institution misses --------------------------------------------------------------
st.subheader("Trường còn thiếu gì")
options = list(shown["school_code"])
label = dict(zip(shown["school_code"], shown["school_name"]))
qp = st.query_params.get("school")
if qp and qp not in label:
    A.scope_refused(f"Trường mã {fmt.md(qp)}", f"truong:{qp}")
    qp = None
pick = st.selectbox("Chọn trường", options, index=options.index(qp) if qp else 0, key="cmp_school",
                    format_func=lambda s: f"{label[s]} · {s}")
A.set_page_param("school", pick)
row = shown[shown["school_code"] == pick].iloc[0]
st.markdown(f"**{fmt.md(row['school_name'])}**: chỉ số chung {fmt.percent(row['index'])}, "
            f"trung bình của {fmt.number(row['domains_measured'])} lĩnh vực đo được.")
gaps = c.memo("cmp_gaps", lambda: cmp.gaps(c.viewer, pick, c.snapshot_id, c.store), pick)
if gaps.empty:
    st.success("Trường đã có đủ dữ liệu ở mọi lĩnh vực đo được.", icon=":material/check_circle:")
else:
    st.dataframe(gaps[["domain_name", "gap", "n", "examples"]], hide_index=True, width="stretch",
                 column_config={"domain_name": "Lĩnh vực", "gap": "Còn thiếu",
                                "n": st.column_config.NumberColumn("Số mục", format="localized"),
                                "examples": "Ví dụ (mã bản ghi)"}, key="cmp_gaps")

# ---- over time -----------------------------------------------------------------------------------
st.subheader("Chỉ số chung qua các lần trích xuất")
hist = c.memo("cmp_hist", lambda: cmp.over_time(c.viewer, "district" if district else "city",
                                                 None, c.snapshot_id, c.store), district)
hist = hist[(hist["domain"] == cmp.INDEX) & ((hist["unit"] == district) if district else True)]
own = c.memo("cmp_hist_school", lambda: cmp.over_time(c.viewer, "institution", pick, c.snapshot_id, c.store), pick)
own = own[own["domain"] == cmp.INDEX]
lines = [dict(type="scatter", mode="lines+markers", x=hist["as_of"], y=hist["percent"],
              name=fmt.plotly_text(head["name"]), hovertemplate="%{x|%d/%m/%Y %H:%M}: %{y:.1f} %<extra></extra>"),
         dict(type="scatter", mode="lines+markers", x=own["as_of"], y=own["percent"], line=dict(dash="dot"),
              name=fmt.plotly_text(row["school_name"]), hovertemplate="%{x|%d/%m/%Y %H:%M}: %{y:.1f} %<extra></extra>")]
fig = go.Figure(data=lines, layout=dict(yaxis=dict(title="Chỉ số chung (%)", range=[0, 100]),
                                        xaxis=dict(title=None, tickformat="%d/%m"),
                                        legend=dict(orientation="h", y=-0.2), **fmt.layout_style(height=360)))
st.plotly_chart(fig, width="stretch", key="cmp_history")
