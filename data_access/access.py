"""Who is looking, what they may see, and how personal values are masked: one place.

Why here and not in pages: every query function of data_access takes a ``Viewer`` and filters
in SQL with ``scope_filter``, so a page that forgets a filter still cannot receive another
district's rows; masking is applied to the DataFrame before it leaves this layer, so exports
and pages show the same masked values.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

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


def finding_message_sql(viewer: Viewer, f: str = "f") -> tuple[str, list]:
    """SQL expression (with ? parameters) of the message of the finding row aliased ``f`` as
    this viewer may read it.

    Why here: the engine's ID_DUPLICATE message gives only the number of other holders (it is
    computed once per snapshot, for everybody). Issue 12 point 5: it names another holder's
    institution only when that institution lies in the reader's scope: the city roles every
    one, a district office its district's, a school none but itself. The other holders'
    institutions (table ``cur_id_duplicate_others`` of the evaluation, one row per finding and
    other institution) are filtered with ``scope_filter`` IN SQL, like every other row, so no
    caller can receive an out-of-scope code by forgetting a filter. Every other message is
    returned as is. Needs ``cur_schools`` and the finding's school_code, student_id, field."""
    cond, params = scope_filter(viewer, "o.other_school_code", "o_s.district_code")
    expr = f"""CASE WHEN {f}.rule_id = 'ID_DUPLICATE' THEN {f}.message || coalesce((
        SELECT ' Trong phạm vi bạn được xem, học sinh trùng số đang học tại: '
               || string_agg(DISTINCT o.other_school_code || coalesce(' (' || o_s.school_name || ')', ''), '; '
                             ORDER BY o.other_school_code || coalesce(' (' || o_s.school_name || ')', ''))
               || '.'
        FROM cur_id_duplicate_others o
        LEFT JOIN cur_schools o_s ON o_s.school_code = o.other_school_code
        WHERE o.school_code = {f}.school_code AND o.student_id = {f}.student_id
          AND o.field = {f}.field AND {cond}), '') ELSE {f}.message END"""
    return expr, list(params)


# Masking works by construction: a value is first PARSED against the rule of its field; only a
# value that parsed shows the part the rule allows, anything else shows MASK. Why: the records
# the pages list are exactly the badly entered ones (15062004, an Excel serial 38153, an address
# without ward and district), and "keep the last parts" on such a value reveals what it was
# meant to hide (issue 13, finding 1; Decree 13/2023/NĐ-CP).
MASK = "••••"
# [0-9], never \d: in Python \d is any Unicode decimal digit (fullwidth ０-９, Arabic-Indic ٠-٩ …)
# and int() reads them, so ０７９２０９００９５１７ passed as a 12-digit CCCD and showed 0792••••••１７
# although the SQL rules (DuckDB's RE2: \d is [0-9]) call it invalid (outside review of issue 13,
# finding 2; tests/security/test_unicode_digits_are_not_digits.py).
_ID12 = re.compile(r"[0-9]{12}")
_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T].*)?")
# the same shapes as ADDRESS_INCOMPLETE (checks_10_students.sql, addr_ok, on addr_fold'ed parts)
_WARD_SHAPE = re.compile(r"((phuong|xa|thi tran|tt) |(p|x|tt)\. ?)\S.*")
_DISTRICT_SHAPE = re.compile(r"((quan|huyen|thi xa|thanh pho|tp|tx) |(q|h|tp|tx)\. ?)\S.*")
# A ward or district NAME: its prefix (any form the project accepts) and the rest, folded
_WARD_NAME = re.compile(r"(?:(phuong|xa|thi tran|tt) |(p|x|tt)\. ?)(.+)")
_DISTRICT_NAME = re.compile(r"(?:(quan|huyen|thi xa|thanh pho|tp|tx) |(q|h|tp|tx)\. ?)(.+)")
_KIND = {"phuong": "phuong", "p": "phuong", "xa": "xa", "x": "xa", "thi tran": "thi tran", "tt": "thi tran",
         "quan": "quan", "q": "quan", "huyen": "huyen", "h": "huyen", "thi xa": "thi xa", "tx": "thi xa",
         "thanh pho": "thanh pho", "tp": "thanh pho"}


def _missing(value) -> bool:
    return value is None or value != value or (isinstance(value, str) and not value.strip())


def mask_id(value: str | None) -> str | None:
    """CCCD: a 12-digit number shows its first four and last two digits (0792••••••34); any
    other value (letters, 9 or 10 digits, a lost leading zero, 7.92e+10) shows ••••."""
    if _missing(value):
        return None if value is None or value != value else MASK
    s = str(value).strip()
    if _ID12.fullmatch(s):
        return s[:4] + "•" * 6 + s[-2:]
    return MASK


def _valid_year(d: str, m: str, y: str) -> str | None:
    try:
        dt.date(int(y), int(m), int(d))
    except ValueError:
        return None
    return y if 1900 <= int(y) <= 2100 else None


def mask_birth_date(value) -> str | None:
    """Year only, of a valid date: 15/03/2004 or 2004-03-15 → ••/••/2004. A value that is not a
    valid date (15062004, the Excel serial 38153, 31/02/2004, 2004) shows ••••."""
    if _missing(value):
        return None if value is None or value != value else MASK
    if isinstance(value, (dt.date, dt.datetime)):
        return f"••/••/{value.year:04d}"
    s = str(value).strip()
    m = _DMY.fullmatch(s)
    year = _valid_year(*m.groups()) if m else None
    if year is None:
        m = _ISO.fullmatch(s)
        year = _valid_year(m.group(3), m.group(2), m.group(1)) if m else None
    return f"••/••/{year}" if year else MASK


def _name_key(folded: str, pattern: re.Pattern) -> tuple[str, str] | None:
    """(kind, name) of a folded ward/district part: «P. 05», «Phường 5» → ("phuong", "5"),
    «TP. Thủ Đức» → ("thanh pho", "thu duc"); None when it has no prefix."""
    m = pattern.fullmatch(folded)
    if not m:
        return None
    name = m.group(3).strip()
    if re.fullmatch(r"[0-9]+", name):
        name = str(int(name))
    return _KIND[m.group(1) or m.group(2)], name


@lru_cache(maxsize=1)
def _reference_names() -> tuple[dict, dict, frozenset]:
    """name key → the reference's spelling, for the 312 HCMC wards/communes and 22 districts of
    data_access/reference (GSO list of 01/10/2022, see reference/SOURCES.md), and the folded
    province names ADDRESS_INCOMPLETE accepts."""
    from . import reference
    t = reference.tables()
    wards = {}
    for name in t["ref_wards"]["ward_name"]:
        k = _name_key(reference.fold(name), _WARD_NAME)
        if k:
            wards.setdefault(k, name)
    districts = {}
    for name in t["ref_districts"]["district_name"]:
        k = _name_key(reference.fold(name), _DISTRICT_NAME)
        if k:
            districts.setdefault(k, name)
    return wards, districts, frozenset(reference.province_key(k) for k in t["ref_province_alias"]["alias_key"])


def _address_shape_ok(parts: list[str], provinces: frozenset) -> bool:
    """addr_ok of checks_10_students.sql (and tests/reference_pandas._address_ok): at least three
    comma-separated parts, the last three a ward, a district and a province by shape."""
    from .reference import fold, province_key
    if len(parts) < 3:
        return False
    ward, district, province = (fold(p) for p in parts[-3:])
    return bool(_WARD_SHAPE.fullmatch(ward) and _DISTRICT_SHAPE.fullmatch(district)
                and (province_key(province) in provinces
                     or province_key(re.sub(r"^(tinh |thanh pho |tp\. ?|tp )", "", province)) in provinces))


def mask_address(value: str | None) -> str | None:
    """Ward and district only, and only a ward and a district RECOGNISED as names of the
    reference list (HCMC wards/communes, districts), shown as the reference spells them; any
    other part is ••••, and an address with neither, or one that ADDRESS_INCOMPLETE rejects
    (fewer than three parts, last three not ward/district/province by shape), is ••••.

    Why by name and not by shape: a ward part that merely BEGINS like a ward («Phường 558/58
    Đường Số 28», «Xã Hưng Long 558 Đường Số 28») holds the house and street; shown as typed it
    leaked them (outside review of issue 13, finding 1). A recognised name, spelled by the
    reference, cannot carry anything of the student beyond the ward and district. The rule
    ADDRESS_INCOMPLETE checks the shape only (addresses outside HCMC are valid): it is left so,
    and the mask shows nothing of an address it rejects. Addresses outside HCMC are fully
    masked (over-masking, on purpose: there is no reference list for them here)."""
    if _missing(value):
        return None if value is None or value != value else MASK
    from .reference import address_parts, fold
    wards, districts, provinces = _reference_names()
    parts = address_parts(str(value))
    if not _address_shape_ok(parts, provinces):
        return MASK
    ward = wards.get(_name_key(fold(parts[-3]), _WARD_NAME))
    district = districts.get(_name_key(fold(parts[-2]), _DISTRICT_NAME))
    if ward is None and district is None:
        return MASK
    return f"{ward or MASK}, {district or MASK}"
