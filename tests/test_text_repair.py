"""Legacy-encoding name repair (data_access/text_repair.py).

Encoded test strings are derived from this module's own inverse tables (encode_tcvn3 /
encode_vni); a few are also written out literally, as they look in a misread file.
"""
from __future__ import annotations

import itertools
import time
import unicodedata

import pytest

from tests.corpus.cases import to_cp1258

from data_access import reference
from data_access.text_repair import (TCVN3_TO_UNICODE, VNI_TO_UNICODE, encode_tcvn3, encode_vni,
                                     is_nfc, is_vietnamese_syllable, needs_repair, repair_name)

ORDINARY = [
    "Lê Thị Ánh", "Nguyễn Văn Ân", "Y Đam", "Thạch Sô Phol", "H'Hen Niê", "Võ Thành Tâm", "Tô Hà",
    "Hồ Ngọc Hà", "Trương Mỹ Lan", "Đặng Quốc Đạt", "ĐẶNG THỊ HƯƠNG", "Phạm Gia Khiêm",
    "Ksor Y Phun", "Rơ Châm Pơl", "Kpă Thị Hoa", "Lò Văn Pó", "Nguyễn Thị Thuỷ", "Nguyễn Thị Thủy",
    "Lê Hoà", "Lê Hòa", "Huỳnh Quỳnh Anh", "Ông Văn Út", "Âu Dương Phong", "Tôn Nữ Thị Ý",
    "Nguyen Van An", "Danh Sà Rết", "Chau Sóc Khum", "Mã Thị Lý", "Tạ Thị Gấm",
    "Vòng A Sáng", "Ma Seo Chứ", "Thào A Dế", "Bế Văn Đàn", "Giàng Thị Mỷ", "José Nguyễn",
    "Lý Tiểu Long", "Ngô Bảo Châu", "Triệu Thị Ngoan", "Khổng Tú Quỳnh", "Ánh Dương",
]

NAMES = [
    "Nguyễn Văn An", "Lê Thị Ánh", "Trần Quốc Bảo", "Phạm Thị Hường", "Hoàng Minh Đức",
    "Huỳnh Ngọc Quỳnh", "Võ Thị Thuỷ", "Đặng Văn Ước", "Bùi Thị Yến", "Đỗ Ưng Hoàng",
    "Hồ Thị Ngọc Hân", "Ngô Đình Khiêm", "Dương Gia Huy", "Trương Thị Tuyết Nhung",
    "ĐẶNG THỊ HƯƠNG", "NGUYỄN VĂN ẤN", "Tô Hữu Nghĩa", "Lưu Thị Oanh", "Thạch Sô Phol",
    "Y Đam", "H'Hen Niê", "Ông Thị Ánh", "Âu Văn Ất",
]


def test_tables_cover_every_vietnamese_letter():
    lower = {c for c in "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"}
    assert lower <= set(TCVN3_TO_UNICODE.values())
    assert lower | {c.upper() for c in lower} <= set(VNI_TO_UNICODE.values())
    # TCVN3 codes are single Latin-1 characters, in 0xA1..0xFE; the famous ones:
    assert all(len(k) == 1 and 0xA1 <= ord(k) <= 0xFE for k in TCVN3_TO_UNICODE)
    assert TCVN3_TO_UNICODE["Ô"] == "ễ" and TCVN3_TO_UNICODE["¨"] == "ă" and TCVN3_TO_UNICODE["§"] == "Đ"
    assert TCVN3_TO_UNICODE["Þ"] == "ị" and TCVN3_TO_UNICODE["\xad"] == "ư"
    assert VNI_TO_UNICODE["eã"] == "ễ" and VNI_TO_UNICODE["aø"] == "à" and VNI_TO_UNICODE["Ñ"] == "Đ"
    assert VNI_TO_UNICODE["ò"] == "ị" and VNI_TO_UNICODE["ôù"] == "ớ" and VNI_TO_UNICODE["AÊ"] == "Ă"
    assert len(TCVN3_TO_UNICODE) == 67 + 7


def test_literal_examples():
    assert repair_name("NguyÔn V¨n An") == ("Nguyễn Văn An", "TCVN3")
    assert repair_name("Lª ThÞ Hoµng") == ("Lê Thị Hoàng", "TCVN3")
    assert repair_name("TrÇn Quèc B¶o") == ("Trần Quốc Bảo", "TCVN3")
    assert repair_name("§Æng V¨n §¹t") == ("Đặng Văn Đạt", "TCVN3")
    assert repair_name("Nguyeãn Vaên An") == ("Nguyễn Văn An", "VNI")
    assert repair_name("Leâ Thò Hoaøng") == ("Lê Thị Hoàng", "VNI")
    assert repair_name("Traàn Quoác Baûo") == ("Trần Quốc Bảo", "VNI")
    assert repair_name("Ñaëng Vaên Ñaït") == ("Đặng Văn Đạt", "VNI")


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name):
    t = encode_tcvn3(name)
    v = encode_vni(name)
    assert t != name and v != name
    assert repair_name(t) == (name, "TCVN3"), t
    assert repair_name(v) == (name, "VNI"), v
    assert needs_repair(t) and needs_repair(v)


def test_round_trip_many_combinations():
    sur = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Trương".split()
    mid = "Văn Thị Hữu Ngọc Minh Thanh Gia Bảo Xuân Đức Quốc".split()
    giv = ("An Anh Ánh Bình Châu Dũng Duy Đạt Giang Hà Hải Hạnh Hiền Hiếu Hoa Hòa Huệ Hùng Hương "
           "Khang Khánh Khoa Lan Linh Loan Long Mai Mỹ Nam Nga Ngân Nghĩa Ngọc Nguyên Nhi Nhung "
           "Oanh Phong Phúc Phương Quân Quang Quyên Quỳnh Sơn Tâm Thảo Thắng Thịnh Thủy Tiến "
           "Toàn Trâm Trang Trinh Trung Tuấn Tùng Tuyết Uyên Vân Việt Vy Xuân Yến").split()
    bad = []
    for s, m, g in itertools.product(sur, mid, giv):
        n = f"{s} {m} {g}"
        if repair_name(n) != (n, None):
            bad.append(("false positive", n))
        for enc, f in (("TCVN3", encode_tcvn3), ("VNI", encode_vni)):
            e = f(n)
            # a few encodings are themselves ordinary Vietnamese (VNI "Thò" = Unicode "Thò"):
            # those cannot be told apart and are left alone; everything else must come back
            r = repair_name(e)
            if r != (n, enc) and r != (e, None):
                bad.append((enc, n, e, r))
    assert bad == []


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_names_unchanged(name):
    assert repair_name(name) == (name, None)
    assert not needs_repair(name)


def test_nfd_is_normalised_without_tag():
    for name in ("Nguyễn Văn Ân", "Lê Thị Ánh", "Y Đăm"):
        d = unicodedata.normalize("NFD", name)
        assert not is_nfc(d) and is_nfc(name)
        assert repair_name(d) == (name, None)
        assert needs_repair(d)


def test_not_vietnamese_after_conversion_is_left_alone():
    for s in ("Müller Ångström", "Zoë Ñúñez", "François Øster"):
        assert repair_name(s) == (unicodedata.normalize("NFC", s), None)


def test_syllables():
    for w in ("Nguyễn", "quốc", "giữ", "Hoà", "hòa", "khuỷu", "ngoài", "THỦY", "Ưng", "Niê", "gì"):
        assert is_vietnamese_syllable(w), w
    for w in ("NguyÔn", "Nguyeãn", "Leõ", "Lª", "ThÞ", "Ksor", "Phol", "hoàngg", "Vaên"):
        assert not is_vietnamese_syllable(w), w


def test_fast_enough():
    names = [f"{a} {b}" for a, b in itertools.product(ORDINARY, NAMES)] * 30
    t = time.perf_counter()
    for n in names:
        repair_name(n)
    per = (time.perf_counter() - t) / len(names)
    assert per < 50e-6, per          # 1.7 million names in well under a minute


def test_reference_ethnic_keys_match_sql_rule():
    a = reference.tables()["ref_ethnic_alias"]
    exact = a[a["exact"]]
    assert {"kinh", "khơme", "khmer", "h'mông", "êđê", "kinh(việt)", "kinhviệt"} <= set(exact["alias_key"])
    assert "ngườinướcngoài" not in set(a["alias_key"])
    loose = a[~a["exact"]]
    assert dict(zip(loose["alias_key"], loose["official_name"]))["khome"] == "Khơ-me"
    p = reference.tables()["ref_provinces"]
    assert len(p) == 63 and p["cccd_prefix"].str.len().eq(3).all()
    assert dict(zip(p["cccd_prefix"], p["province_key"]))["079"] == "ho chi minh"
    assert dict(zip(p["cccd_prefix"], p["province_key"]))["077"] == "ba ria - vung tau"


# ---- whole files in TCVN3 / VNI bytes -------------------------------------------------------
from data_access.text_repair import (LegacyDecoder, decode_tcvn3_text, decode_vni_text,  # noqa: E402
                                     detect_file_encoding, tcvn3_name_case)


def test_whole_file_decoders_literal_bytes():
    # written from the code charts, byte by byte
    # TCVN3: ễ=0xD4 ị=0xDE á=0xB8 ế=0xD5 Đ=0xA7 ặ=0xC6 ă=0xA8 ư=0xAD ờ=0xEA
    assert decode_tcvn3_text(b"Nguy\xd4n Th\xde \xb8nh Tuy\xd5t") == "Nguyễn Thị ánh Tuyết"
    assert tcvn3_name_case("Nguyễn Thị ánh Tuyết") == "Nguyễn Thị Ánh Tuyết"
    assert decode_tcvn3_text(b"\xa7\xc6NG V\xa1N") == "ĐẶNG VĂN"        # capitals: the word's ASCII decides
    assert decode_tcvn3_text(b"Tr\xad\xeang") == "Trường"
    assert decode_tcvn3_text(b"TR\xad\xeaNG THPT") == "TRƯỜNG THPT"
    assert decode_tcvn3_text(b"H\xe5 Ch\xdd Minh") == "Hồ Chí Minh"          # one capital: Title Case kept
    # VNI: e + ã (0xE3) = ễ, ò (0xF2) = ị, A + Ù (0xD9) = Á, Ñ (0xD1) = Đ, a + ë (0xEB) = ặ
    assert decode_vni_text(b"Nguye\xe3n Th\xf2 A\xd9nh Tuye\xe1t") == "Nguyễn Thị Ánh Tuyết"
    assert decode_vni_text(b"\xd1A\xcbNG VA\xcaN") == "ĐẶNG VĂN"
    assert decode_vni_text(b"Tr\xf6\xf4\xf8ng") == "Trường"
    # bytes a table does not use: Windows-1252 in 0x80-0x9F (smart quotes), Latin-1 above
    assert decode_tcvn3_text(b"\x93x\x94") == "\u201cx\u201d"


def test_vni_byte_decoder_agrees_with_text_repair_tables():
    for seq, letter in VNI_TO_UNICODE.items():
        assert decode_vni_text(seq.encode("latin-1")) == letter, seq
    for code, letter in TCVN3_TO_UNICODE.items():
        assert decode_tcvn3_text(code.encode("latin-1")) == letter, code


@pytest.mark.parametrize("name", NAMES)
def test_whole_file_round_trip(name):
    line = f"{name},Phường Bến Nghé,Đang học\r\n"
    assert tcvn3_name_case(decode_tcvn3_text(encode_tcvn3(line).encode("latin-1")).split(",")[0]) == name
    assert decode_vni_text(encode_vni(line).encode("latin-1")) == line


_cp1258 = to_cp1258   # Windows-1258 as Excel writes it (tests/corpus/cases.py)


def test_detection_on_evidence():
    text = "".join(f"{n},12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh,Đang học\r\n" for n in NAMES)
    assert detect_file_encoding(encode_tcvn3(text).encode("latin-1")).encoding == "tcvn3"
    assert detect_file_encoding(encode_vni(text).encode("latin-1")).encoding == "vni"
    assert detect_file_encoding(_cp1258(text)).encoding == "cp1258"
    # weak evidence keeps Windows-1258: one name, or words that read well both ways
    assert detect_file_encoding(encode_tcvn3("Nguyễn Văn An").encode("latin-1")).encoding == "cp1258"
    d = detect_file_encoding(_cp1258("Lê Hà Vân,Tô Văn Tâm,Hà Văn Tô"))
    assert d.encoding == "cp1258" and d.shares["tcvn3"] == d.shares["cp1258"] == 1.0
    # nothing to go on, or noise: never an exception
    for sample in (b"", b"abc,def\r\n", bytes(range(256)) * 50, b"\xff" * 1000, b"\x80\x81\x8d\x8f\x90\x9d"):
        assert detect_file_encoding(sample).encoding == "cp1258"


def test_legacy_decoder_keeps_marks_and_words_across_chunks():
    data = encode_vni("Nguyễn Thị Ánh\r\nĐẶNG VĂN ỨNG\r\n").encode("latin-1")
    tdata = encode_tcvn3("ĐẶNG VĂN ỨNG\r\nLê\r\n").encode("latin-1")
    for enc, raw, want in (("vni", data, "Nguyễn Thị Ánh\r\nĐẶNG VĂN ỨNG\r\n"),
                           ("tcvn3", tdata, "ĐẶNG VĂN ỨNG\r\nLê\r\n")):
        for size in (1, 2, 3, 5, 7):
            dec = LegacyDecoder(enc)
            out = "".join(dec.decode(raw[i:i + size]) for i in range(0, len(raw), size)) + dec.decode(b"", True)
            assert out == want, (enc, size, out)
