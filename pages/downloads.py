"""Tải xuống — status sheets to send: the city workbook for leadership, a district's for its
office, an institution's checklist; XLSX or CSV. A file is built only when asked (button), then
offered for download; each download is written to the audit trail."""
import streamlit as st

import app_state as A
from data_access import formatting as fmt
from data_access import ops, planning
from exports import csv_export, status_workbook

c = A.header("Tải xuống bảng tổng hợp",
             "Tệp được tạo khi bấm nút «Tạo tệp» (không tạo sẵn), theo thời điểm số liệu đang chọn "
             "ở thanh bên.")
ss = st.session_state
ev = planning.evaluation(c.store, c.snapshot_id)
v = c.viewer

districts = c.q("districts")   # the districts in the viewer's scope (query layer)
districts = districts[districts["n_schools"] > 0]
dname = dict(zip(districts["district_code"], districts["district_name"]))
KINDS = {"city": "Toàn thành phố (lãnh đạo Sở)", "district": "Một quận/huyện (gửi Phòng GD&ĐT)",
         "school": "Một trường (danh mục yêu cầu)"}
# What each role may download (the export layer enforces the same scope: exports/status_workbook).
allowed = {"truong": ["school"], "phong_gd": ["district", "school"],
           "lanh_dao": ["city", "district"]}.get(v.role, list(KINDS))
kind = st.radio("Phạm vi", allowed, format_func=KINDS.get, key="dl_kind", horizontal=True)

district = school = None
if kind == "district":
    options = [v.district_code] if v.role == "phong_gd" else list(dname)
    default = c.filters.district if c.filters.district in options else options[0]
    district = st.selectbox("Quận/huyện", options, index=options.index(default), key="dl_district",
                            format_func=lambda d: dname.get(d, d))
elif kind == "school":
    if v.role == "truong":
        school = v.school_code
        st.markdown(f"Trường: **{fmt.md(school)}**")
    else:
        school = (st.text_input("Mã trường", key="dl_school", placeholder="ví dụ 79760001") or "").strip() or None

fmt_choice = st.radio("Định dạng", ["xlsx", "csv"], key="dl_format", horizontal=True,
                      format_func=lambda f: {"xlsx": "Excel (.xlsx) – nhiều trang, có màu",
                                             "csv": "CSV (UTF-8) – một bảng"}[f])
table = None
if fmt_choice == "csv":
    names = {"tong-hop": "Tổng hợp thành phố và quận/huyện", "trang-thai": "Trạng thái từng trường",
             "cham-tien-do": "Trường chậm tiến độ", "danh-muc": "Danh mục yêu cầu của trường",
             "ban-ghi-can-sua": "Bản ghi cần sửa của trường",
             "hoc-sinh-chua-dat": "Học sinh lớp 12 chưa đạt của trường"}
    opts = (["danh-muc", "ban-ghi-can-sua", "hoc-sinh-chua-dat"] if kind == "school"
            else ["trang-thai", "tong-hop"] if v.role == "lanh_dao"
            else ["trang-thai", "tong-hop", "cham-tien-do"])
    table = st.selectbox("Bảng", opts, format_func=names.get, key="dl_table")

request = (c.snapshot_id, kind, district, school, fmt_choice, table)
# A built file belongs to the viewer that built it (account, role and scope): any other viewer
# of this browser session is refused it, even if the state survived (issue 13, finding 2).
built_for = (v.username, v.role, v.district_code, v.school_code)
if st.button("Tạo tệp", type="primary", key="dl_build", icon=":material/build:",
             disabled=(kind == "school" and not school)):
    try:
        with st.spinner("Đang tạo tệp…"), A.long_work():
            if fmt_choice == "xlsx":
                data, rows = status_workbook.workbook_bytes(ev, v, c.store, district, school)
            else:
                data, rows = csv_export.csv_bytes(ev, v, table, c.store, district, school)
        name = status_workbook.file_name(ev, district, school, fmt_choice)
        if table:
            name = name.replace(".csv", f"-{table}.csv")
        ss["dl_file"] = {"request": request, "data": data, "rows": rows, "name": name, "built_for": built_for}
    except (LookupError, PermissionError, ValueError) as e:
        ss.pop("dl_file", None)
        st.error(fmt.md(e), icon=":material/error:")

built = ss.get("dl_file")
if built and built.get("built_for") != built_for:
    ss.pop("dl_file", None)
    built = None
if built and built["request"] == request:
    mime = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt_choice == "xlsx"
            else "text/csv")
    scope = f"truong:{school}" if school else (f"quan:{district}" if district else "thanh_pho")
    st.download_button(f"Tải {fmt.md(built['name'])} ({len(built['data']) / 1024:,.0f} KB)".replace(",", "."),
                       built["data"], file_name=built["name"], mime=mime, key="dl_download", type="primary",
                       icon=":material/download:", on_click=ops.audit,
                       args=(c.store, v, "download"),
                       kwargs={"object": built["name"], "scope": scope, "rows": built["rows"],
                               "detail": {"as_of": str(c.as_of), "format": fmt_choice, "table": table}})
    st.caption(f"{built['rows']:,} dòng dữ liệu.".replace(",", "."))
elif built:
    st.caption("Lựa chọn đã thay đổi: bấm «Tạo tệp» để tạo lại.")
