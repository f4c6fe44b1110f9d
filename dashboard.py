"""Tiến độ CSDL — entry point: navigation (st.navigation), the snapshot shown and the global
filters (sidebar, shared by every page; see app_state.py). Pages live in pages/, one per job.

The Planning–Finance Division's pages (issue 5) register themselves here by existing: a file
listed in KHTC_PAGES appears in the "Phòng KHTC" section as soon as it is in pages/.
"""
from pathlib import Path

import streamlit as st

import app_state

ROOT = Path(__file__).resolve().parent

st.set_page_config(page_title="Tiến độ CSDL", page_icon=":material/fact_check:", layout="wide")

KHTC_PAGES = [  # (file, title, icon, url path) — shown only when the file exists
    ("pages/laggards.py", "Đơn vị chậm tiến độ", ":material/campaign:", "don-vi-cham"),
    ("pages/paper_register.py", "Sổ nhận bản giấy", ":material/inventory:", "so-nhan-ban-giay"),
    ("pages/downloads.py", "Tải bảng tổng hợp", ":material/download:", "tai-ve"),
]


def no_data_page():
    st.title("Tiến độ cập nhật CSDL")
    st.warning("Chưa có dữ liệu: kho chưa có snapshot nào.", icon=":material/database_off:")
    st.markdown(
        "Hãy nhập một bản trích xuất từ Hệ thống CSDL HCM (thư mục hoặc tệp `.zip`):\n\n"
        f"```sh\npython -m data_access ingest THU_MUC_TRICH_XUAT --store {app_state.queries.store_path()}\n```\n\n"
        "hoặc tạo và nhập dữ liệu mẫu bằng `make run`. Sau khi nhập xong, tải lại trang này.")


main = {
    "Theo dõi": [
        st.Page(app_state.OVERVIEW[0], title="Tổng quan", icon=":material/dashboard:",
                url_path=app_state.OVERVIEW[1], default=True),
        st.Page(app_state.DISTRICTS[0], title="Quận/huyện", icon=":material/map:",
                url_path=app_state.DISTRICTS[1]),
        st.Page(app_state.INSTITUTION[0], title="Trường", icon=":material/school:",
                url_path=app_state.INSTITUTION[1]),
        st.Page(app_state.REPORTS[0], title="Báo cáo", icon=":material/assignment_turned_in:",
                url_path=app_state.REPORTS[1]),
        st.Page(app_state.QUALITY[0], title="Chất lượng dữ liệu", icon=":material/rule:",
                url_path=app_state.QUALITY[1]),
    ],
}
khtc = [st.Page(f, title=t, icon=i, url_path=u) for f, t, i, u in KHTC_PAGES if (ROOT / f).exists()]
if khtc:
    main["Phòng KHTC"] = khtc

if app_state.queries.snapshots().empty:
    pg = st.navigation([st.Page(no_data_page, title="Chưa có dữ liệu", icon=":material/database_off:",
                                default=True)])
    pg.run()
else:
    pg = st.navigation(main)
    app_state.setup(pg.url_path)
    pg.run()
