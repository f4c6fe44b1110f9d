"""Who is looking, what they may see, and how personal values are masked: one place.

Why here and not in pages: every query function of data_access takes a ``Viewer`` and filters
in SQL with ``scope_filter``, so a page that forgets a filter still cannot receive another
district's rows; masking is applied to the DataFrame before it leaves this layer, so exports
and pages show the same masked values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ROLES = {
    "lanh_dao": "Lãnh đạo Sở",
    "khtc": "Phòng Kế hoạch – Tài chính",
    "phong_gd": "Phòng GD&ĐT quận/huyện",
    "truong": "Trường",
    "quan_tri": "Quản trị",
}


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    district_code: str | None = None   # phong_gd: its district
    school_code: str | None = None     # truong: its institution
    display_name: str = ""

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"vai trò không hợp lệ: {self.role!r}")
        if self.role == "phong_gd" and not self.district_code:
            raise ValueError("tài khoản Phòng GD&ĐT phải gắn với một quận/huyện")
        if self.role == "truong" and not self.school_code:
            raise ValueError("tài khoản trường phải gắn với một trường")

    @property
    def sees_personal(self) -> bool:
        """May see unmasked personal values (CCCD, birth date, address) of the records in scope.
        khtc sees them only on a single record it opens (logged): see ``personal_on_open``."""
        return self.role in ("truong", "quan_tri")

    @property
    def personal_on_open(self) -> bool:
        return self.role in ("truong", "quan_tri", "khtc")


# The whole city, unmasked: for the CLI and tests that are not about access control.
SYSTEM = Viewer("system", "quan_tri", display_name="Hệ thống")


def scope_filter(viewer: Viewer, school_col: str = "school_code",
                 district_col: str | None = "district_code") -> tuple[str, list]:
    """SQL condition (with ? parameters) restricting rows to the viewer's scope.

    Rows need the school code column; district scope needs ``district_col`` on the same rows
    (join the institutions first). Returns ("TRUE", []) for city-wide roles."""
    if viewer.role == "truong":
        return f"{school_col} = ?", [viewer.school_code]
    if viewer.role == "phong_gd":
        if district_col is None:
            raise ValueError("district scope needs a district column")
        return f"{district_col} = ?", [viewer.district_code]
    return "TRUE", []


def scope_rows(viewer: Viewer, df, school_col: str = "school_code",
               district_col: str = "district_code"):
    """The rows of ``df`` in the viewer's scope: the rule of ``scope_filter`` applied to a
    frame already read (a slice of a city-wide result, data_access.keyed). Both forms are
    checked against each other in tests/test_keyed.py."""
    if viewer.role in ("truong", "phong_gd"):
        col, value = ((school_col, viewer.school_code) if viewer.role == "truong"
                      else (district_col, viewer.district_code))
        keep = df[col].eq(value).fillna(False).astype(bool)   # NULL is never in scope (as in SQL)
        return df[keep].reset_index(drop=True)
    return df


_DIGITS = re.compile(r"\d")


def mask_id(value: str | None) -> str | None:
    """CCCD/CMND: the first four and last two digits, the rest as dots: 0792••••••34."""
    if value is None or value != value:
        return value
    s = str(value)
    if len(s) <= 6:
        return "•" * len(s)
    return s[:4] + "•" * (len(s) - 6) + s[-2:]


def mask_birth_date(value: str | None) -> str | None:
    """Year only: 15/03/2004 → ••/••/2004 (or the year of an ISO date)."""
    if value is None or value != value:
        return value
    s = str(value)
    m = re.search(r"(\d{4})", s)
    return f"••/••/{m.group(1)}" if m else "••"


def mask_address(value: str | None) -> str | None:
    """Ward and district only: drop the house and street (the parts before the ward)."""
    if value is None or value != value:
        return value
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    if len(parts) >= 3:
        return ", ".join(parts[-3:-1])
    return "•••"
