"""Encode Vietnamese text the way legacy files show it when opened as Windows-1252.

Before Unicode, Vietnamese offices typed with the TCVN3 ("ABC", TCVN 5712:1993 VN3, fonts
.VnTime) and VNI-Windows (fonts VNI-Times) encodings. A spreadsheet made with those fonts holds
bytes that, read as Windows-1252 (or Latin-1), look like ``NguyÔn ThÞ ¸nh`` (TCVN3) or
``Nguyeãn Thò AÙnh`` (VNI). The generator plants such names so the importer's repair
(``data_access/text_repair.py``, written independently from the same standard tables) has real
cases.

Only the encoder lives here: ``to_tcvn3(text)`` / ``to_vni(text)`` return the mojibake string.

TCVN3 (VN3) has codes for the lowercase letters with tone marks and for the capitals
Ă Â Ê Ô Ơ Ư Đ only; capitals with a tone mark are printed in ABC fonts from the lowercase code
with a capital-letter font (.VnTimeH), so the encoder writes the lowercase code for them (as the
usual converters do), e.g. ``Ánh`` -> ``¸nh``.

VNI-Windows writes a base ASCII letter followed by one mark byte (tone, or circumflex/breve
combined with a tone); ơ ư đ and some i/y forms are single bytes.
"""
from __future__ import annotations

import unicodedata

# --- TCVN3 (ABC): Unicode letter -> byte --------------------------------------------------
_TCVN3_LOWER = {
    "à": 0xB5, "ả": 0xB6, "ã": 0xB7, "á": 0xB8, "ạ": 0xB9,
    "ă": 0xA8, "ằ": 0xBB, "ẳ": 0xBC, "ẵ": 0xBD, "ắ": 0xBE, "ặ": 0xC6,
    "â": 0xA9, "ầ": 0xC7, "ẩ": 0xC8, "ẫ": 0xC9, "ấ": 0xCA, "ậ": 0xCB,
    "đ": 0xAE,
    "è": 0xCC, "ẻ": 0xCE, "ẽ": 0xCF, "é": 0xD0, "ẹ": 0xD1,
    "ê": 0xAA, "ề": 0xD2, "ể": 0xD3, "ễ": 0xD4, "ế": 0xD5, "ệ": 0xD6,
    "ì": 0xD7, "ỉ": 0xD8, "ĩ": 0xDC, "í": 0xDD, "ị": 0xDE,
    "ò": 0xDF, "ỏ": 0xE1, "õ": 0xE2, "ó": 0xE3, "ọ": 0xE4,
    "ô": 0xAB, "ồ": 0xE5, "ổ": 0xE6, "ỗ": 0xE7, "ố": 0xE8, "ộ": 0xE9,
    "ơ": 0xAC, "ờ": 0xEA, "ở": 0xEB, "ỡ": 0xEC, "ớ": 0xED, "ợ": 0xEE,
    "ù": 0xEF, "ủ": 0xF1, "ũ": 0xF2, "ú": 0xF3, "ụ": 0xF4,
    "ư": 0xAD, "ừ": 0xF5, "ử": 0xF6, "ữ": 0xF7, "ứ": 0xF8, "ự": 0xF9,
    "ỳ": 0xFA, "ỷ": 0xFB, "ỹ": 0xFC, "ý": 0xFD, "ỵ": 0xFE,
}
_TCVN3_UPPER_BASE = {"Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7}


def _tcvn3_table() -> dict[str, str]:
    table = {u: bytes([b]).decode("cp1252") for u, b in _TCVN3_LOWER.items()}
    for u, b in _TCVN3_UPPER_BASE.items():
        table[u] = bytes([b]).decode("cp1252")
    # capitals with a tone mark: lowercase code (printed in the capital font)
    for low, b in _TCVN3_LOWER.items():
        up = low.upper()
        if up != low and up not in table:
            table[up] = bytes([b]).decode("cp1252")
    return table


# --- VNI-Windows: Unicode letter -> bytes ----------------------------------------------------
# mark bytes (lowercase, uppercase) for: acute, grave, hook, tilde, dot below
_VNI_TONES = {"acute": (0xF9, 0xD9), "grave": (0xF8, 0xD8), "hook": (0xFB, 0xDB),
              "tilde": (0xF5, 0xD5), "dot": (0xEF, 0xCF)}
# circumflex (â ê ô) alone and combined with a tone
_VNI_CIRC = {None: (0xE2, 0xC2), "acute": (0xE1, 0xC1), "grave": (0xE0, 0xC0),
             "hook": (0xE5, 0xC5), "tilde": (0xE3, 0xC3), "dot": (0xE4, 0xC4)}
# breve (ă) alone and combined with a tone
_VNI_BREVE = {None: (0xEA, 0xCA), "acute": (0xE9, 0xC9), "grave": (0xE8, 0xC8),
              "hook": (0xFA, 0xDA), "tilde": (0xFC, 0xDC), "dot": (0xEB, 0xCB)}
# single-byte letters
_VNI_SINGLE = {"đ": 0xF1, "Đ": 0xD1, "ơ": 0xF4, "Ơ": 0xD4, "ư": 0xF6, "Ư": 0xD6,
               "í": 0xED, "Í": 0xCD, "ì": 0xEC, "Ì": 0xCC, "ỉ": 0xE6, "Ỉ": 0xC6,
               "ĩ": 0xF3, "Ĩ": 0xD3, "ị": 0xF2, "Ị": 0xD2, "ỵ": 0xEE, "Ỵ": 0xCE}
_COMBINING_TONE = {"\u0301": "acute", "\u0300": "grave", "\u0309": "hook", "\u0303": "tilde",
                   "\u0323": "dot"}


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = {}
    letters = "aăâeêioôơuưy"
    tones = [None, "acute", "grave", "hook", "tilde", "dot"]
    for base in letters + letters.upper():
        for tone in tones:
            ch = base if tone is None else unicodedata.normalize(
                "NFC", base + {v: k for k, v in _COMBINING_TONE.items()}[tone])
            upper = base.isupper()
            plain = unicodedata.normalize("NFD", base)[0]   # a, e, o, u, i, y (or capitals)
            if ch in _VNI_SINGLE:
                table[ch] = bytes([_VNI_SINGLE[ch]]).decode("cp1252")
                continue
            if base.lower() in "âêô":
                mark = _VNI_CIRC[tone][upper]
                table[ch] = plain + bytes([mark]).decode("cp1252")
            elif base.lower() == "ă":
                mark = _VNI_BREVE[tone][upper]
                table[ch] = plain + bytes([mark]).decode("cp1252")
            elif base.lower() in "ơư":
                stem = bytes([_VNI_SINGLE[base]]).decode("cp1252")
                table[ch] = stem if tone is None else stem + bytes([_VNI_TONES[tone][upper]]).decode("cp1252")
            elif tone is not None:
                table[ch] = plain + bytes([_VNI_TONES[tone][upper]]).decode("cp1252")
    table["đ"] = bytes([_VNI_SINGLE["đ"]]).decode("cp1252")
    table["Đ"] = bytes([_VNI_SINGLE["Đ"]]).decode("cp1252")
    return table


TCVN3_TABLE: dict[str, str] = _tcvn3_table()
VNI_TABLE: dict[str, str] = _vni_table()


def _encode(text: str, table: dict[str, str]) -> str:
    return "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def to_tcvn3(text: str) -> str:
    """Unicode text -> what its TCVN3 (ABC) bytes look like read as Windows-1252."""
    return _encode(text, TCVN3_TABLE)


def to_vni(text: str) -> str:
    """Unicode text -> what its VNI-Windows bytes look like read as Windows-1252."""
    return _encode(text, VNI_TABLE)


def to_tcvn3_bytes(text: str) -> bytes:
    return to_tcvn3(text).encode("cp1252")


def to_vni_bytes(text: str) -> bytes:
    return to_vni(text).encode("cp1252")
