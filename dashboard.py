"""Tiến độ CSDL — entry point: page navigation (st.navigation). Pages live in pages/."""
import streamlit as st

st.set_page_config(page_title="Tiến độ CSDL", page_icon=":material/fact_check:", layout="wide")

pages = {
    "Theo dõi": [
        st.Page("pages/home.py", title="Tổng quan", icon=":material/dashboard:", default=True),
    ],
}
st.navigation(pages).run()
