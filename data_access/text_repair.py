"""Repair of names typed in the legacy Vietnamese font encodings TCVN3 (ABC) and VNI-Windows.

Why: many schools still keep lists in Excel files typed with the old ".VnTime" (TCVN3) or
"VNI-Times" fonts. When such a file is read as Windows-1252 / Latin-1 and stored as Unicode, a
TCVN3 "Nguyễn Thị" becomes "NguyÔn ThÞ" and a VNI "Nguyễn Thị" becomes "Nguyeãn Thò". The
importer calls :func:`repair_name` on every name (up to 1.7 million), so the common cases return
at once:

- pure ASCII text cannot be legacy text;
- text with any character above U+00FF (ạ, ễ, đ, ư, ...) cannot be either: both encodings only
  produce Latin-1 characters when misread;
- text whose non-ASCII words are all well-formed Vietnamese syllables (e.g. "Võ Thành Tâm", whose
  letters all happen to be Latin-1) is ordinary Unicode and is left alone.

Only when the text is NOT valid Vietnamese and its conversion gives well-formed Vietnamese
syllables for every word that had non-ASCII characters do we claim an encoding. Decomposed (NFD)
input is returned NFC with tag None (the importer records it through ``full_name_raw``).

The tables below are written from the published code charts (TCVN 5712:1993 VN3 font layout;
VNI-Windows font layout): a byte value is the Latin-1 code point of the misread character.
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

__all__ = ["repair_name", "needs_repair", "is_nfc", "is_vietnamese_syllable", "encode_tcvn3", "encode_vni",
           "TCVN3_TO_UNICODE", "UNICODE_TO_TCVN3", "VNI_TO_UNICODE", "UNICODE_TO_VNI",
           "detect_file_encoding", "Detection", "LegacyDecoder", "decode_tcvn3_text", "decode_vni_text",
           "tcvn3_name_case", "LEGACY_ENCODERS", "LEGACY_TAGS"]

# --------------------------------------------------------------------------------------------
# Vietnamese letters
_TONES = "\u0300\u0301\u0309\u0303\u0323"      # huyền, sắc, hỏi, ngã, nặng
_BASES = "aăâeêioôơuưy"


def _with_tone(base: str, tone: int) -> str:
    """tone 0 = none, 1..5 = huyền, sắc, hỏi, ngã, nặng."""
    return base if tone == 0 else unicodedata.normalize("NFC", base + _TONES[tone - 1])


VN_LOWER = frozenset("abcdefghijklmnopqrstuvwxyzđ" + "".join(
    _with_tone(b, t) for b in _BASES for t in range(6)))
VN_LETTERS = VN_LOWER | frozenset(c.upper() for c in VN_LOWER)

# --------------------------------------------------------------------------------------------
# TCVN3 (ABC): one byte per letter. Lower-case letters with tone have their own codes; of the
# capitals only Ă Â Ê Ô Ơ Ư Đ exist (capitals with a tone are typed with the lower-case codes,
# shown as capitals by the ".VnTimeH" fonts).
#   columns: no tone, huyền, sắc, hỏi, ngã, nặng
_TCVN3_ROWS = {
    "a": (None, 0xB5, 0xB8, 0xB6, 0xB7, 0xB9),
    "ă": (0xA8, 0xBB, 0xBE, 0xBC, 0xBD, 0xC6),
    "â": (0xA9, 0xC7, 0xCA, 0xC8, 0xC9, 0xCB),
    "e": (None, 0xCC, 0xD0, 0xCE, 0xCF, 0xD1),
    "ê": (0xAA, 0xD2, 0xD5, 0xD3, 0xD4, 0xD6),
    "i": (None, 0xD7, 0xDD, 0xD8, 0xDC, 0xDE),
    "o": (None, 0xDF, 0xE3, 0xE1, 0xE2, 0xE4),
    "ô": (0xAB, 0xE5, 0xE8, 0xE6, 0xE7, 0xE9),
    "ơ": (0xAC, 0xEA, 0xED, 0xEB, 0xEC, 0xEE),
    "u": (None, 0xEF, 0xF3, 0xF1, 0xF2, 0xF4),
    "ư": (0xAD, 0xF5, 0xF8, 0xF6, 0xF7, 0xF9),
    "y": (None, 0xFA, 0xFD, 0xFB, 0xFC, 0xFE),
}
_TCVN3_OTHER = {"đ": 0xAE, "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7}

TCVN3_TO_UNICODE: dict[str, str] = {}
for _b, _codes in _TCVN3_ROWS.items():
    for _t, _code in enumerate(_codes):
        if _code is not None:
            TCVN3_TO_UNICODE[chr(_code)] = _with_tone(_b, _t)
for _u, _code in _TCVN3_OTHER.items():
    TCVN3_TO_UNICODE[chr(_code)] = _u

# Inverse (for tests and for anyone producing TCVN3): a capital with a tone uses the
# lower-case code, as the fonts do.
UNICODE_TO_TCVN3: dict[str, str] = {u: c for c, u in TCVN3_TO_UNICODE.items()}
for _u in list(UNICODE_TO_TCVN3):
    if _u.upper() not in UNICODE_TO_TCVN3:
        UNICODE_TO_TCVN3[_u.upper()] = UNICODE_TO_TCVN3[_u]

_TCVN3_TABLE = str.maketrans(TCVN3_TO_UNICODE)

# --------------------------------------------------------------------------------------------
# VNI-Windows: a base ASCII vowel followed by a "mark" byte; a few letters are single bytes.
# Marks, lower-case form (the capital form is the upper-case Latin-1 letter):
#   tone only on a e o u y ơ ư:  ø huyền, ù sắc, û hỏi, õ ngã, ï nặng
#   circumflex (+ tone) on a e o: â, à, á, å, ã, ä
#   breve (+ tone) on a:          ê, è, é, ú, ü, ë
_VNI_TONE = {"ø": 1, "ù": 2, "û": 3, "õ": 4, "ï": 5}
_VNI_CIRC = {"â": 0, "à": 1, "á": 2, "å": 3, "ã": 4, "ä": 5}
_VNI_BREVE = {"ê": 0, "è": 1, "é": 2, "ú": 3, "ü": 4, "ë": 5}
# Single-byte letters (lower-case; capitals likewise).
_VNI_SINGLE = {"ì": "ì", "í": "í", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ", "ñ": "đ",
               "ô": "ơ", "ö": "ư"}
_CIRC_OF = {"a": "â", "e": "ê", "o": "ô"}

VNI_TO_UNICODE: dict[str, str] = {}     # sequence -> letter (lower and upper case)
for _v in "aeouy":
    for _m, _t in _VNI_TONE.items():
        VNI_TO_UNICODE[_v + _m] = _with_tone(_v, _t)
for _v, _cv in _CIRC_OF.items():
    for _m, _t in _VNI_CIRC.items():
        VNI_TO_UNICODE[_v + _m] = _with_tone(_cv, _t)
for _m, _t in _VNI_BREVE.items():
    VNI_TO_UNICODE["a" + _m] = _with_tone("ă", _t)
for _s, _u in _VNI_SINGLE.items():
    VNI_TO_UNICODE[_s] = _u
for _b in ("ô", "ö"):       # ơ, ư with a tone
    for _m, _t in _VNI_TONE.items():
        VNI_TO_UNICODE[_b + _m] = _with_tone(_VNI_SINGLE[_b], _t)
for _s, _u in list(VNI_TO_UNICODE.items()):
    VNI_TO_UNICODE[_s.upper()] = _u.upper()

UNICODE_TO_VNI: dict[str, str] = {}
for _s, _u in VNI_TO_UNICODE.items():
    UNICODE_TO_VNI.setdefault(_u, _s)

_VNI_MARKS = frozenset(list(_VNI_TONE) + list(_VNI_CIRC) + list(_VNI_BREVE))
_VNI_MARKS = _VNI_MARKS | frozenset(m.upper() for m in _VNI_MARKS)
_VNI_SINGLES = frozenset(_VNI_SINGLE) | frozenset(s.upper() for s in _VNI_SINGLE)
# Base (already decoded) letter + mark -> letter. Built from VNI_TO_UNICODE pairs.
_VNI_COMBINE: dict[tuple[str, str], str] = {}
for _s, _u in VNI_TO_UNICODE.items():
    if len(_s) == 2:
        _base = _VNI_SINGLE.get(_s[0].lower(), _s[0].lower())
        _base = _base.upper() if _s[0].isupper() else _base
        _VNI_COMBINE[(_base, _s[1])] = _u if _s[0].islower() else _u.upper()
        # accept a mark of the other case (fonts draw both the same on a capital)
        _other = _s[1].swapcase()
        _VNI_COMBINE.setdefault((_base, _other), _u if _s[0].islower() else _u.upper())


def _decode_vni(s: str) -> str | None:
    out: list[str] = []
    for ch in s:
        if ch in _VNI_MARKS:
            if out and (out[-1], ch) in _VNI_COMBINE:
                out[-1] = _VNI_COMBINE[(out[-1], ch)]
                continue
            if ch in _VNI_SINGLES:        # ó/ò/í/ì/ô/ö also stand alone
                out.append(VNI_TO_UNICODE[ch])
                continue
            return None                   # a mark with nothing to sit on: not VNI
        if ch in _VNI_SINGLES:
            out.append(VNI_TO_UNICODE[ch])
        else:
            out.append(ch)
    return "".join(out)


def _decode_tcvn3(s: str) -> str:
    return s.translate(_TCVN3_TABLE)


# --------------------------------------------------------------------------------------------
# Well-formed Vietnamese syllables
_ONSET = r"(?:ngh|ng|gh|gi|kh|ph|th|tr|ch|nh|qu|[bcdđghklmnprstvx])?"
_OPEN_ONLY = ("ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu uôi ươi ươu iêu yêu oai oay "
              "oao oeo uây uya uyu uơ iê").split()  # iê open: Niê (Ê Đê names)
_CODA_OPTIONAL = "a e ê i o ô ơ u ư y oa oe uê uy".split()
_CODA_REQUIRED = "ă â iê yê uô ươ oă uâ uyê".split()
_CODAS = "c ch m n ng nh p t".split()
_RIMES = (set(_OPEN_ONLY) | set(_CODA_OPTIONAL)
          | {n + c for n in _CODA_OPTIONAL + _CODA_REQUIRED for c in _CODAS})
_SYLLABLE_RE = re.compile(
    _ONSET + "(?:" + "|".join(sorted(_RIMES, key=len, reverse=True)) + ")")
_TONE_SET = frozenset(_TONES)


_ONSETS = ("ngh", "ng", "gh", "gi", "kh", "ph", "th", "tr", "ch", "nh", "qu",
           *"bcdđghklmnprstvx", "")
_QUALITY = frozenset("ăâêôơư")
_TONE_FREE_OPEN = frozenset(("oa", "oe", "uy"))   # hòa/hoà, khỏe/khoẻ, thủy/thuỷ


def _tone_of(c: str) -> int:
    for ch in unicodedata.normalize("NFD", c):
        if ch in _TONE_SET:
            return 1
    return 0


def _split_syllable(toneless: str) -> tuple[str, str] | None:
    for o in _ONSETS:
        if toneless.startswith(o) and toneless[len(o):] in _RIMES:
            return o, toneless[len(o):]
    return None


def is_vietnamese_syllable(part: str) -> bool:
    """A well-formed syllable (lower, Title or UPPER case), with at most one tone mark placed
    on the vowel that carries it (old and new placement both accepted for oa, oe, uy)."""
    if not part or any(c not in VN_LETTERS for c in part):
        return False
    if not (part.islower() or part.isupper() or (part[0].isupper() and part[1:].islower())
            or len(part) == 1):
        return False
    low = part.lower()
    tones = [_tone_of(c) for c in low]
    if sum(tones) > 1:
        return False
    toneless = unicodedata.normalize("NFC", "".join(
        c for c in unicodedata.normalize("NFD", low) if c not in _TONE_SET))
    split = _split_syllable(toneless)
    if split is None:
        return False
    if not sum(tones):
        return True
    onset, rime = split
    pos = tones.index(1) - len(onset)          # tone position inside the rime
    if pos < 0:
        return False
    nv = len(rime) - len(rime.lstrip("aăâeêioôơuưy"))  # vowels of the nucleus (+ glide)
    vowels = rime[:nv]
    if pos >= nv:
        return False
    if len(vowels) == 1:
        return True
    marked = [i for i, c in enumerate(vowels) if c in _QUALITY]
    if marked:
        return pos == marked[-1]
    if nv < len(rime):                          # closed syllable: on the last vowel
        return pos == nv - 1
    if vowels in _TONE_FREE_OPEN:
        return True
    return pos == nv - 2                        # open: on the vowel before the glide


# The most frequent syllables of Vietnamese names: tie-break between two readings.
_COMMON = frozenset("""nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý
đinh đào trương lâm mai tô lưu hà thị văn hữu đức công quang minh ngọc thanh thu xuân kim bảo
gia hoài anh ánh bình châu dũng duy đạt giang hải hạnh hiền hiếu hoa hòa hoà huệ hùng hương
khang khánh khoa lan linh loan long my mỹ nam nga ngân nghĩa nguyên nhi nhung oanh phong phúc
phương quân quốc quỳnh sơn tâm thảo thắng thịnh thủy thuỷ tiến toàn trâm trang trinh trung
tuấn tùng tuyết uyên vân việt vy yến thành thiện thư trí tài tú tuệ nhật như ưng nông""".split())

_SPLIT = re.compile(r"[ \-']+")


def _parts(s: str) -> list[str]:
    return [p for p in _SPLIT.split(s) if p]


def _valid_nonascii_parts(src: str, out: str) -> bool:
    """Every part of `out` whose source part had non-ASCII characters is a syllable."""
    sp, op = _parts(src), _parts(out)
    if len(sp) != len(op):
        return False
    touched = [o for s_, o in zip(sp, op) if not s_.isascii()]
    return bool(touched) and all(is_vietnamese_syllable(o) for o in touched)


def _fix_case_tcvn3(src: str, out: str) -> str:
    """TCVN3 has no codes for capitals with a tone: restore the case from the word's ASCII
    letters (all capitals => whole word capital) or, for a word starting with such a letter,
    capitalise it (names are written Title Case)."""
    res = []
    for sw, ow in zip(re.split(r"( +)", src), re.split(r"( +)", out)):
        if not ow.strip():
            res.append(ow)
            continue
        ascii_letters = [c for c in sw if c.isascii() and c.isalpha()]
        if ascii_letters and all(c.isupper() for c in ascii_letters) and (
                len(ascii_letters) > 1 or not sw[0].isascii() or len(sw) == 1):
            res.append(ow.upper())
        elif not sw[0].isascii() and ow[0].islower():
            res.append(ow[0].upper() + ow[1:])
        else:
            res.append(ow)
    return "".join(res)


# --------------------------------------------------------------------------------------------
def is_nfc(s: str) -> bool:
    return unicodedata.is_normalized("NFC", s)


def _latin1_only(s: str) -> bool:
    return max(s) <= "\xff"


def repair_name(s: str) -> tuple[str, str | None]:
    """(NFC text, 'TCVN3' | 'VNI' | None). The tag is set only when the text was legacy
    encoded and has been converted."""
    if s is None:
        return s, None
    if s.isascii():
        return s, None
    n = unicodedata.normalize("NFC", s)
    if not _latin1_only(n):
        return n, None
    nonascii = [p for p in _parts(n) if not p.isascii()]
    if all(is_vietnamese_syllable(p) for p in nonascii):
        return n, None
    cands = []
    t = _fix_case_tcvn3(n, _decode_tcvn3(n))
    if t != n and _valid_nonascii_parts(n, t):
        cands.append((unicodedata.normalize("NFC", t), "TCVN3"))
    v = _decode_vni(n)
    if v is not None and v != n and _valid_nonascii_parts(n, v):
        cands.append((unicodedata.normalize("NFC", v), "VNI"))
    if not cands:
        return n, None
    if len(cands) == 2:
        # Both readings are well-formed: the one with more of the most common name syllables
        # wins (TCVN3 on a tie, the older and more common encoding in school files).
        cands.sort(key=lambda c: -sum(p.lower() in _COMMON for p in _parts(c[0])))
    return cands[0]


def needs_repair(s: str) -> bool:
    """True when repair_name would change the text (decomposed or legacy-encoded)."""
    if s is None or s.isascii():
        return False
    if not is_nfc(s):
        return True
    if not _latin1_only(s):
        return False
    return repair_name(s)[1] is not None


def encode_tcvn3(s: str) -> str:
    """Unicode -> TCVN3 text as it looks when read as Latin-1 (for tests and sample data)."""
    return "".join(UNICODE_TO_TCVN3.get(c, c) for c in unicodedata.normalize("NFC", s))


def encode_vni(s: str) -> str:
    """Unicode -> VNI-Windows text as it looks when read as Latin-1."""
    return "".join(UNICODE_TO_VNI.get(c, c) for c in unicodedata.normalize("NFC", s))


# --------------------------------------------------------------------------------------------
# Whole files in TCVN3 / VNI bytes
#
# Why here: an old Windows tool (a .VnTime or VNI-Times spreadsheet saved as CSV) writes every
# Vietnamese letter as the font's byte(s). Such a file is not UTF-8, and read as Windows-1258 it
# garbles every letter. The importer decides between Windows-1258, TCVN3 and VNI on evidence
# (detect_file_encoding on a bounded sample), then decodes the whole file as a stream with
# LegacyDecoder. Bytes 0x80-0x9F that a table does not use are read as Windows-1252 (smart
# quotes, dashes typed in the same tool); the others keep their Latin-1 meaning.

def _base_char(b: int) -> str:
    if 0x80 <= b <= 0x9F:
        try:
            return bytes([b]).decode("cp1252")
        except UnicodeDecodeError:
            pass
    return chr(b)


# TCVN3: one character per byte (a decoding table for codecs.charmap_decode).
TCVN3_DECODING_TABLE = "".join(TCVN3_TO_UNICODE.get(chr(b), _base_char(b)) for b in range(256))

# VNI: single-byte letters decode to themselves; mark bytes decode to combining marks, which NFC
# composes with the letter before them (aâ → a + U+0302 → â, eã → e + U+0302 + U+0303 → ễ).
_COMBINING = {1: "\u0300", 2: "\u0301", 3: "\u0309", 4: "\u0303", 5: "\u0323"}
_VNI_BYTE_MAP: dict[int, str] = {b: _base_char(b) for b in range(0x80, 0x100)}
for _m, _t in _VNI_TONE.items():
    _VNI_BYTE_MAP[ord(_m)] = _VNI_BYTE_MAP[ord(_m.upper())] = _COMBINING[_t]
for _m, _t in _VNI_CIRC.items():
    _VNI_BYTE_MAP[ord(_m)] = _VNI_BYTE_MAP[ord(_m.upper())] = "\u0302" + _COMBINING.get(_t, "")
for _m, _t in _VNI_BREVE.items():
    _VNI_BYTE_MAP[ord(_m)] = _VNI_BYTE_MAP[ord(_m.upper())] = "\u0306" + _COMBINING.get(_t, "")
for _s, _u in _VNI_SINGLE.items():
    _VNI_BYTE_MAP[ord(_s)] = _u
    _VNI_BYTE_MAP[ord(_s.upper())] = _u.upper()
_VNI_TRANSLATE = {b: s for b, s in _VNI_BYTE_MAP.items()}   # Latin-1 code point → text

# TCVN3 has no code for a capital with a tone: in a word typed in capitals (.VnTimeH fonts) the
# letters come out lower-case ("NGUYÔN" → "NGUYễN"). A word made of capitals and such letters is
# put in capitals when it has two ASCII capitals, or starts with such a letter and has one
# (as _fix_case_tcvn3 does for names repaired from text).
_TCVN3_LOWER = "".join(sorted({u for u in TCVN3_TO_UNICODE.values() if u.islower()}))
_TCVN3_UPPER = "".join(sorted({u for u in TCVN3_TO_UNICODE.values() if u.isupper()}))
_TCVN3_CAPS_WORD = re.compile(
    rf"(?<![^\W\d_])(?=[A-Z{_TCVN3_UPPER}]*[{_TCVN3_LOWER}])[A-Z{_TCVN3_UPPER}{_TCVN3_LOWER}]+(?![^\W\d_])")


def _caps_word(m: re.Match) -> str:
    w = m.group(0)
    n_ascii = sum(c.isascii() for c in w)
    if n_ascii > 1 or (n_ascii == 1 and not w[0].isascii()):
        return w.upper()
    return w


def decode_tcvn3_text(data: bytes) -> str:
    """TCVN3 bytes → Unicode (NFC), capitals restored in words typed in capitals."""
    text = codecs.charmap_decode(data, "strict", TCVN3_DECODING_TABLE)[0]
    return _TCVN3_CAPS_WORD.sub(_caps_word, text)


def decode_vni_text(data: bytes) -> str:
    """VNI-Windows bytes → Unicode (NFC)."""
    return unicodedata.normalize("NFC", data.decode("latin-1").translate(_VNI_TRANSLATE))


def decode_cp1258_text(data: bytes) -> str:
    return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))


DECODERS: dict[str, Callable[[bytes], str]] = {
    "cp1258": decode_cp1258_text, "tcvn3": decode_tcvn3_text, "vni": decode_vni_text}


def tcvn3_name_case(name: str) -> str:
    """A name decoded from a TCVN3 file: a word starting with a letter TCVN3 has only in lower
    case (ánh) is capitalised — names are written Title Case, as repair_name does."""
    if name is None or name.isascii():
        return name
    return _fix_case_tcvn3(encode_tcvn3(name), name)


LEGACY_ENCODERS: dict[str, Callable[[str], str]] = {"tcvn3": encode_tcvn3, "vni": encode_vni}
LEGACY_TAGS = {"tcvn3": "TCVN3", "vni": "VNI"}


# ---- deciding on evidence --------------------------------------------------------------------
# A "word" is a run of ASCII letters and bytes >= 0x80 between other ASCII bytes; the same runs
# are judged under every reading, so the scores compare.
_BYTE_WORD = re.compile(rb"[A-Za-z\x80-\xff]+")
_HIGH = re.compile(rb"[\x80-\xff]")
SAMPLE_BYTES = 4 << 20          # the importer passes at most this much (x2: head + first bad chunk)
MIN_WORDS = 4                   # fewer words with non-ASCII bytes than this: too little evidence
MIN_DISTINCT_VALID = 3          # distinct well-formed words the winner must produce
MIN_SHARE = 0.6                 # share of (occurrences of) words that must be well formed
MIN_MARGIN = 0.3                # lead of the winner over each other reading


@dataclass
class Detection:
    encoding: str                          # 'cp1258' | 'tcvn3' | 'vni'
    words: int                             # occurrences of words with a non-ASCII byte
    shares: dict[str, float]               # reading → share of well-formed words
    reason: str = ""


def _word_ok(enc: str, raw: bytes, text: str) -> bool:
    if enc == "tcvn3" and not text.islower():
        text = _fix_case_tcvn3(raw.decode("latin-1"), text)
    return is_vietnamese_syllable(text)


def detect_file_encoding(sample: bytes) -> Detection:
    """Which of Windows-1258, TCVN3 and VNI a non-UTF-8 file is, from a sample of its bytes.
    Each reading is scored by the share of words with non-ASCII bytes it turns into
    well-formed Vietnamese syllables. TCVN3 or VNI wins only with enough words, a clear
    majority and a clear lead; anything else (few words, two readings close) keeps
    Windows-1258, as the importer did before."""
    counts: dict[bytes, int] = {}
    for w in _BYTE_WORD.findall(sample[: 2 * SAMPLE_BYTES]):
        if _HIGH.search(w):
            counts[w] = counts.get(w, 0) + 1
    total = sum(counts.values())
    shares: dict[str, float] = {}
    distinct: dict[str, int] = {}
    for enc, dec in DECODERS.items():
        ok = n_ok = 0
        for w, n in counts.items():
            try:
                text = dec(w)
            except (UnicodeDecodeError, ValueError):
                continue
            if _word_ok(enc, w, text):
                ok += n
                n_ok += 1
        shares[enc] = ok / total if total else 0.0
        distinct[enc] = n_ok
    if total < MIN_WORDS:
        return Detection("cp1258", total, shares, "too few words with non-ASCII bytes")
    best = max(("tcvn3", "vni"), key=lambda e: shares[e])
    others = [shares[e] for e in DECODERS if e != best]
    if (shares[best] >= MIN_SHARE and distinct[best] >= MIN_DISTINCT_VALID
            and all(shares[best] - s >= MIN_MARGIN for s in others)):
        return Detection(best, total, shares, "clear winner")
    return Detection("cp1258", total, shares, "no clear legacy reading")


class LegacyDecoder:
    """Streaming TCVN3 / VNI decoder: bytes in, NFC text out, only whole lines (the rest is kept
    for the next call), so a VNI mark at the start of a chunk still joins its letter and a
    capitals word is never cut."""

    def __init__(self, enc: str) -> None:
        self.decode_bytes = DECODERS[enc]
        self.carry = b""

    def decode(self, chunk: bytes, final: bool = False) -> str:
        data = self.carry + chunk
        if final:
            self.carry = b""
        else:
            cut = data.rfind(b"\n") + 1
            data, self.carry = data[:cut], data[cut:]
        return unicodedata.normalize("NFC", self.decode_bytes(data)) if data else ""
