"""Which pages each role has: the dashboard builds st.navigation from ``page_specs(role)``, so
a page a role may not use is not in its menu at all (and its URL opens the role's default page).

Why a module of its own: AppTest does not render the menu, so tests call ``page_specs`` here;
dashboard.py turns the same list into st.Page objects. The data-access layer still enforces
scope on every query: leaving a page out of the menu is not the protection, only its courtesy.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PageSpec:
    key: str
    file: str
    title: str
    icon: str
    url_path: str
    section: str


PAGES = {p.key: p for p in [
    PageSpec("overview", "pages/overview.py", "Tổng quan", ":material/dashboard:", "tong-quan", "Theo dõi"),
    PageSpec("districts", "pages/districts.py", "Quận/huyện", ":material/map:", "quan-huyen", "Theo dõi"),
    PageSpec("institution", "pages/institution.py", "Trường", ":material/school:", "truong", "Theo dõi"),
    PageSpec("reports", "pages/reports.py", "Báo cáo", ":material/assignment_turned_in:", "bao-cao", "Theo dõi"),
    PageSpec("quality", "pages/data_quality.py", "Chất lượng dữ liệu", ":material/rule:",
             "chat-luong-du-lieu", "Theo dõi"),
    PageSpec("completeness", "pages/completeness.py", "Mức độ đầy đủ dữ liệu", ":material/checklist:",
             "muc-do-day-du", "Theo dõi"),
    PageSpec("laggards", "pages/laggards.py", "Đơn vị chậm tiến độ", ":material/campaign:", "don-vi-cham",
             "Công việc"),
    PageSpec("paper", "pages/paper_register.py", "Sổ nhận bản giấy", ":material/inventory:",
             "so-nhan-ban-giay", "Công việc"),
    PageSpec("downloads", "pages/downloads.py", "Tải bảng tổng hợp", ":material/download:", "tai-ve",
             "Công việc"),
    PageSpec("imports", "pages/import_data.py", "Nhập dữ liệu", ":material/upload_file:", "nhap-du-lieu",
             "Quản trị"),
    PageSpec("accounts", "pages/accounts.py", "Tài khoản", ":material/manage_accounts:", "tai-khoan",
             "Quản trị"),
    PageSpec("audit", "pages/audit_log.py", "Nhật ký truy cập", ":material/history:", "nhat-ky-truy-cap",
             "Quản trị"),
]}

# The first page of each list is the role's default page.
ROLE_PAGES = {
    "lanh_dao": ["overview", "districts", "institution", "reports", "quality", "completeness", "downloads"],
    "khtc": ["overview", "districts", "institution", "reports", "quality", "completeness", "laggards", "paper",
             "downloads"],
    "phong_gd": ["overview", "districts", "institution", "reports", "quality", "completeness", "laggards",
                 "downloads"],
    "truong": ["institution", "reports", "quality", "downloads"],
    "quan_tri": list(PAGES),
}


def page_specs(role: str) -> list[PageSpec]:
    """The pages of a role, in menu order (the first is the default); pages whose file does
    not exist are left out."""
    return [PAGES[k] for k in ROLE_PAGES.get(role, []) if (ROOT / PAGES[k].file).exists()]


def allowed(role: str, key: str) -> bool:
    return key in ROLE_PAGES.get(role, [])


def sections(role: str) -> dict[str, list[PageSpec]]:
    out: dict[str, list[PageSpec]] = {}
    for p in page_specs(role):
        out.setdefault(p.section, []).append(p)
    return out
