"""Reference lists shipped with the project, as ``ref_*`` tables for the SQL views.

Why a Python module and not SQL reading the CSVs: the keys used for matching (accent-free,
case-, space- and hyphen-insensitive) are computed once here with the same function the tests
use, and every code column stays text (leading zeros kept: province 001, ethnic group 01).

Tables:
- ref_provinces(gso_code, cccd_prefix, province_name, province_key, type)
- ref_province_alias(alias_key, cccd_prefix, province_name): folded names (accent- and case-free,
  whitespace collapsed, no "Tỉnh"/"Thành phố") accepted as the province part of an address,
  plus the forms TP.HCM, TP HCM, TPHCM, Hồ Chí Minh, Sài Gòn.
- ref_ethnic_groups(code, official_name)
- ref_ethnic_alias(alias_key, official_name, exact): exact=true keys (case/space/hyphen
  insensitive) of the 54 official names and their aliases; exact=false accent-free keys, used
  only to suggest the official name in the ETHNICITY_UNKNOWN message.
- ref_districts(district_code, district_name, district_type, province_code, ward_count)
- ref_wards(ward_code, ward_name, ward_type, district_code, district_name)
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pandas as pd

REF_DIR = Path(__file__).resolve().parent / "reference"

# The 54 official groups have codes 01..54; 55 "Người nước ngoài" is a non-official extension
# of some systems and is not accepted (RULES.md, ETHNICITY_UNKNOWN).
OFFICIAL_ETHNIC_CODES = {f"{i:02d}" for i in range(1, 55)}


def strip_accents(s: str) -> str:
    """Lower-case, accents removed, đ -> d (same result as the SQL: strip_accents + đ)."""
    s = unicodedata.normalize("NFD", s.lower())
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", s).replace("đ", "d")


def ethnic_key(s: str) -> str:
    """Case-, space- and hyphen-insensitive key; the SQL computes the same for a cell:
    lower(regexp_replace(x, '[\\s\\-]+', '', 'g'))."""
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFC", s).lower())


def compact_key(s: str) -> str:
    """Accent-free, letters and digits only (for addresses)."""
    return re.sub(r"[^0-9a-z]+", "", strip_accents(s))


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name, dtype=str, keep_default_na=False).apply(
        lambda c: c.str.strip())


def fold(s: str) -> str:
    """Accent- and case-free, whitespace collapsed and trimmed (the SQL: addr_fold)."""
    return re.sub(r"\s+", " ", strip_accents(s)).strip()


_ADDR_SPACE = re.compile("[\t\n\x0b\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def address_parts(value: str) -> list[str]:
    """The comma-separated parts of an address as ADDRESS_INCOMPLETE reads them (the SQL macro
    addr_parts): Unicode spaces (U+00A0) read as spaces, trailing dots/spaces dropped
    (`TP.HCM.`), a trailing country part (`Việt Nam`, `Viet Nam`) dropped."""
    parts = re.sub(r"[ .]+$", "", _ADDR_SPACE.sub(" ", value)).split(",")
    if len(parts) > 1 and fold(parts[-1]) in ("viet nam", "vietnam"):
        parts = re.sub(r"[ .]+$", "", ",".join(parts[:-1])).split(",")
    return parts


def province_key(folded: str) -> str:
    """A folded province part as a key (the SQL macro province_key): hyphens and dashes read as
    spaces, spaces collapsed (`ba ria-vung tau` = `ba ria - vung tau` = `ba ria vung tau`)."""
    return re.sub(" +", " ", re.sub("[-\u2013\u2014]", " ", folded)).strip()


def _province_key(name: str) -> str:
    return re.sub(r"^(tinh|thanh pho)\s+", "", fold(name))


@lru_cache(maxsize=1)
def _tables() -> dict[str, pd.DataFrame]:
    prov = _read("provinces.csv")
    ref_provinces = pd.DataFrame({
        "gso_code": prov["gso_province_code"], "cccd_prefix": prov["cccd_prefix"],
        "province_name": prov["province_name"],
        "province_key": prov["province_name"].map(_province_key), "type": prov["type"],
    })
    alias_rows = list(zip(ref_provinces["province_key"], ref_provinces["cccd_prefix"],
                          ref_provinces["province_name"]))
    hcm = ref_provinces.loc[ref_provinces["cccd_prefix"] == "079"].iloc[0]
    for a in ("TP.HCM", "TP. HCM", "TP HCM", "TPHCM", "Hồ Chí Minh", "Sài Gòn"):
        alias_rows.append((fold(a), hcm["cccd_prefix"], hcm["province_name"]))
    ref_province_alias = pd.DataFrame(alias_rows, columns=["alias_key", "cccd_prefix", "province_name"]
                                      ).drop_duplicates("alias_key")

    eth = _read("ethnic_groups.csv")
    eth = eth[eth["code_qd121_1979"].isin(OFFICIAL_ETHNIC_CODES)]
    ref_ethnic_groups = pd.DataFrame({"code": eth["code_qd121_1979"], "official_name": eth["name"]})
    rows: list[tuple[str, str, bool]] = []
    for name, variants in zip(eth["name"], eth["common_variants"]):
        forms = [name] + [v.strip() for v in variants.split(";") if v.strip()]
        # "Kinh (Việt)": the form with and without the bracket are both accepted
        forms += [re.sub(r"\s*\(.*?\)\s*", "", f) for f in forms if "(" in f]
        forms += [re.sub(r"[()]", "", f) for f in forms if "(" in f]
        for f in forms:
            rows.append((ethnic_key(f), name, True))
    exact = {k for k, _, _ in rows}
    loose = []
    for k, name, _ in rows:
        lk = strip_accents(k)
        if lk not in exact:
            loose.append((lk, name, False))
    ref_ethnic_alias = pd.DataFrame(rows + loose, columns=["alias_key", "official_name", "exact"]
                                    ).drop_duplicates(["alias_key", "exact"])
    ref_ethnic_alias["exact"] = ref_ethnic_alias["exact"].astype(bool)

    d = _read("districts_hcmc_2022.csv")
    ref_districts = d[["district_code", "district_name", "district_type", "province_code", "ward_count"]].copy()
    w = _read("wards_hcmc_2022.csv")
    ref_wards = w[["ward_code", "ward_name", "ward_type", "district_code", "district_name"]].copy()
    # The legend of the validity rules (id, severity, entity, Vietnamese title and description).
    ref_rule_catalog = _read("rule_catalog.csv")
    return {"ref_provinces": ref_provinces, "ref_province_alias": ref_province_alias,
            "ref_ethnic_groups": ref_ethnic_groups, "ref_ethnic_alias": ref_ethnic_alias,
            "ref_districts": ref_districts, "ref_wards": ref_wards,
            "ref_rule_catalog": ref_rule_catalog}


def tables() -> dict[str, pd.DataFrame]:
    """The ref_* tables (fresh copies)."""
    return {k: v.copy() for k, v in _tables().items()}
