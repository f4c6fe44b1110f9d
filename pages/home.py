"""Tổng quan: the snapshot shown and the city's standing against each requirement."""
import streamlit as st

from data_access import queries

st.title("Tiến độ cập nhật CSDL theo Công văn 1254/SGDĐT-KHTC")

snaps = queries.snapshots()
if snaps.empty:
    st.info(
        "Chưa có dữ liệu. Hãy nhập một bản trích xuất từ Hệ thống CSDL HCM:\n\n"
        "`python -m data_access ingest THU_MUC_TRICH_XUAT --store data/store`\n\n"
        "hoặc chạy `make run` để tạo dữ liệu mẫu."
    )
    st.stop()

latest = snaps.iloc[-1]
st.caption(f"Số liệu tính đến {latest.as_of:%H:%M %d/%m/%Y} · {len(snaps)} snapshot đã nhập")

summary = queries.city_summary()
st.dataframe(
    summary,
    hide_index=True,
    column_order=["name", "due", "units_expected", "units_done", "completion_rate", "on_time_rate",
                  "records_expected", "records_done"],
    column_config={
        "name": st.column_config.TextColumn("Yêu cầu"),
        "due": st.column_config.DatetimeColumn("Hạn", format="DD/MM/YYYY HH:mm"),
        "units_expected": st.column_config.NumberColumn("Số đơn vị phải thực hiện"),
        "units_done": st.column_config.NumberColumn("Đã hoàn thành"),
        "completion_rate": st.column_config.ProgressColumn("Tỉ lệ hoàn thành", format="%.1f%%",
                                                           min_value=0, max_value=100),
        "on_time_rate": st.column_config.ProgressColumn("Tỉ lệ đúng hạn", format="%.1f%%",
                                                        min_value=0, max_value=100),
        "records_expected": st.column_config.NumberColumn("Số học sinh"),
        "records_done": st.column_config.NumberColumn("Học sinh đạt"),
    },
)

with st.expander("Các snapshot đã nhập"):
    st.dataframe(snaps[["snapshot_id", "as_of"]], hide_index=True,
                 column_config={"snapshot_id": "Mã snapshot",
                                "as_of": st.column_config.DatetimeColumn("Thời điểm", format="HH:mm DD/MM/YYYY")})
