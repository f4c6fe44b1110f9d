"""Synthetic Vietnamese names, streets and school names (all NFC).

Surname shares follow the usual published frequencies for Vietnam, leaning to the South for
HCMC (Huỳnh before Hoàng, Võ before Vũ): Nguyễn ~38 %, Trần ~11 %, Lê ~9.5 %, Phạm ~7 %,
Huỳnh/Hoàng ~5 %, Phan, Võ/Vũ, Đặng, Bùi, Đỗ, Hồ, Ngô, Dương, Lý ... Middle names: Văn / Thị are
less common among children than among adults. Names of people are random combinations and
refer to nobody; school names always carry the marker "Mẫu số NNN" so no generated school is a
real one.
"""
from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _nfc(items):
    return [unicodedata.normalize("NFC", s) for s in items]


def _pool(pairs: list[tuple[str, float]]) -> tuple[list[str], np.ndarray]:
    names = _nfc([p[0] for p in pairs])
    w = np.array([p[1] for p in pairs], dtype=float)
    return names, w / w.sum()


SURNAMES_KINH = _pool([
    ("Nguyễn", 38.4), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Huỳnh", 3.1), ("Hoàng", 1.9),
    ("Phan", 4.3), ("Võ", 3.8), ("Vũ", 1.3), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Trương", 1.0), ("Đinh", 0.6), ("Lâm", 0.5),
    ("Mai", 0.5), ("Tô", 0.3), ("Cao", 0.4), ("Châu", 0.4), ("Tạ", 0.3), ("Lưu", 0.3),
    ("Thái", 0.3), ("Hà", 0.4), ("Đoàn", 0.5), ("La", 0.2), ("Kiều", 0.1), ("Lương", 0.4),
    ("Tăng", 0.2), ("Quách", 0.2), ("Triệu", 0.2), ("Từ", 0.2), ("Lại", 0.2), ("Trịnh", 0.4),
    ("Phùng", 0.2), ("Vương", 0.2), ("Giang", 0.1), ("Nghiêm", 0.1), ("Văn", 0.1), ("Tôn", 0.1),
    ("Khương", 0.1), ("Ông", 0.1), ("Âu", 0.1), ("Ung", 0.05), ("Ưng", 0.05),
])
SURNAMES_HOA = _pool([("Lâm", 12), ("Trương", 10), ("Lý", 10), ("Quách", 6), ("Tăng", 6), ("Hứa", 6),
                      ("Diệp", 5), ("Lưu", 6), ("Mạch", 3), ("La", 5), ("Trần", 8), ("Huỳnh", 8),
                      ("Tạ", 4), ("Thái", 4), ("Dương", 4), ("Châu", 3)])
SURNAMES_KHMER = _pool([("Thạch", 25), ("Sơn", 20), ("Kim", 15), ("Danh", 15), ("Lâm", 8),
                        ("Châu", 7), ("Trà", 5), ("Lý", 5)])
SURNAMES_CHAM = _pool([("Đàng", 25), ("Quảng", 20), ("Thông", 15), ("Châu", 10), ("Lưu", 10),
                       ("Trượng", 10), ("Từ", 10)])
SURNAMES_NORTHERN_MINORITY = _pool([("Hoàng", 20), ("Nông", 15), ("Lục", 8), ("Đinh", 10), ("Bùi", 10),
                                    ("Triệu", 8), ("Lộc", 8), ("Vi", 7), ("Hà", 8), ("Lò", 6)])

MIDDLE_MALE = _pool([
    ("Văn", 10), ("Minh", 10), ("Gia", 8), ("Hoàng", 6), ("Đức", 6), ("Quốc", 6), ("Thành", 5),
    ("Anh", 5), ("Tuấn", 4), ("Hữu", 4), ("Công", 3), ("Duy", 4), ("Nhật", 4), ("Thanh", 4),
    ("Trọng", 3), ("Bảo", 5), ("Đăng", 4), ("Khánh", 3), ("Tấn", 3), ("Phúc", 2), ("Hải", 2),
    ("Thiên", 2), ("Trung", 2), ("Xuân", 1), ("Kim", 1),
])
MIDDLE_FEMALE = _pool([
    ("Thị", 12), ("Ngọc", 12), ("Thanh", 5), ("Minh", 5), ("Bảo", 6), ("Khánh", 5), ("Gia", 5),
    ("Phương", 4), ("Thảo", 3), ("Mai", 3), ("Thu", 3), ("Hoài", 2), ("Kim", 3), ("Diệu", 2),
    ("Tường", 2), ("Hồng", 3), ("Yến", 2), ("Quỳnh", 3), ("Như", 3), ("Ánh", 2), ("Cẩm", 2),
    ("Thùy", 3), ("Uyên", 2), ("Bích", 2), ("Hải", 2), ("Tú", 2),
])
# adults (staff): Văn / Thị far more common
MIDDLE_MALE_ADULT = _pool([("Văn", 45), ("Minh", 8), ("Hoàng", 5), ("Đức", 6), ("Quốc", 6),
                           ("Thanh", 6), ("Hữu", 6), ("Công", 4), ("Ngọc", 4), ("Tấn", 4), ("Xuân", 3),
                           ("Trọng", 3)])
MIDDLE_FEMALE_ADULT = _pool([("Thị", 55), ("Ngọc", 10), ("Thanh", 6), ("Kim", 5), ("Hồng", 5),
                             ("Thu", 5), ("Minh", 4), ("Bích", 4), ("Phương", 3), ("Mỹ", 3)])
# a second middle name (about one child in eight): often a parent's surname or a soft word
MIDDLE_SECOND = _pool([("Ngọc", 5), ("Bảo", 5), ("Minh", 5), ("Gia", 4), ("Trần", 3), ("Lê", 3),
                       ("Nguyễn", 3), ("Phạm", 2), ("Hoàng", 3), ("Khánh", 3), ("Thiên", 2),
                       ("Anh", 3), ("Phương", 2), ("Tuệ", 1)])

GIVEN_MALE = _pool([(n, 1.0) for n in (
    "An", "Anh", "Bảo", "Bình", "Cường", "Danh", "Duy", "Dũng", "Đạt", "Đức", "Hải", "Hiếu",
    "Hoàng", "Huy", "Hùng", "Hưng", "Hào", "Khang", "Khánh", "Khoa", "Khôi", "Kiên", "Kiệt",
    "Lâm", "Long", "Lộc", "Lợi", "Minh", "Nam", "Nghĩa", "Nguyên", "Nhân", "Nhật", "Phát",
    "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Tâm", "Thái", "Thắng", "Thành", "Thiện",
    "Thịnh", "Thuận", "Tiến", "Toàn", "Trí", "Triết", "Trung", "Tuấn", "Tùng", "Việt", "Vinh",
    "Vũ", "Hậu", "Tín", "Đăng", "Ân", "Ẩn")])
GIVEN_FEMALE = _pool([(n, 1.0) for n in (
    "An", "Anh", "Ánh", "Châu", "Chi", "Diễm", "Dung", "Duyên", "Giang", "Hà", "Hân", "Hằng",
    "Hạnh", "Hiền", "Hoa", "Hương", "Huyền", "Khánh", "Linh", "Loan", "Mai", "My", "Nga", "Ngân",
    "Nghi", "Ngọc", "Nhi", "Nhung", "Như", "Oanh", "Phương", "Quyên", "Quỳnh", "Tâm", "Thảo",
    "Thư", "Thủy", "Tiên", "Trang", "Trâm", "Trân", "Trinh", "Uyên", "Vân", "Vy", "Xuân", "Yến",
    "Ý", "Hạ", "Ly", "Lan", "Thy", "Ân", "Ánh Dương")])

# historical persons whose names schools and streets carry (used with a "Mẫu số NNN" marker)
HISTORICAL_PERSONS = _nfc([
    "Lê Hồng Phong", "Nguyễn Du", "Trần Hưng Đạo", "Lê Quý Đôn", "Nguyễn Thị Minh Khai",
    "Võ Thị Sáu", "Chu Văn An", "Nguyễn Trãi", "Lý Thường Kiệt", "Trần Phú", "Nguyễn Hiền",
    "Hai Bà Trưng", "Bùi Thị Xuân", "Phan Bội Châu", "Phan Chu Trinh", "Nguyễn Khuyến",
    "Lương Thế Vinh", "Trưng Vương", "Hùng Vương", "Quang Trung", "Lê Lợi", "Ngô Quyền",
    "Đinh Tiên Hoàng", "Nguyễn Đình Chiểu", "Trương Định", "Võ Trường Toản", "Huỳnh Thúc Kháng",
    "Nguyễn Văn Trỗi", "Lê Thánh Tông", "Trần Quốc Toản", "Nguyễn Bỉnh Khiêm", "Hồ Xuân Hương",
    "Đoàn Thị Điểm", "Nguyễn Thái Học", "Phạm Ngũ Lão", "Trần Nhân Tông", "Lý Tự Trọng",
    "Nguyễn An Ninh", "Trần Cao Vân", "Nguyễn Hữu Cảnh", "Lê Văn Tám", "Kim Đồng",
])
KINDERGARTEN_NAMES = _nfc([
    "Hoa Sen", "Hoa Mai", "Sơn Ca", "Họa Mi", "Vành Khuyên", "Tuổi Thơ", "Rạng Đông", "Măng Non",
    "Sao Mai", "Bình Minh", "Hướng Dương", "Hoa Hồng", "Thỏ Ngọc", "Búp Bê", "Ánh Dương",
    "Hoa Cúc", "Bé Ngoan", "Thiên Thần", "Mặt Trời Nhỏ", "Chim Non",
])
STREETS = _nfc([
    "Lê Lợi", "Nguyễn Trãi", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt", "Nguyễn Văn Cừ",
    "Phan Đình Phùng", "Võ Thị Sáu", "Điện Biên Phủ", "Cách Mạng Tháng Tám",
    "Nguyễn Thị Minh Khai", "Lê Văn Sỹ", "Quang Trung", "Phan Văn Trị", "Huỳnh Tấn Phát",
    "Nguyễn Văn Linh", "Lạc Long Quân", "Âu Cơ", "Hùng Vương", "Trường Chinh", "Cộng Hòa",
    "Lê Đức Thọ", "Nguyễn Oanh", "Tô Ký", "Nguyễn Ảnh Thủ", "Tỉnh Lộ 10", "Kinh Dương Vương",
    "Hậu Giang", "Tân Hòa Đông", "Phạm Văn Đồng", "Kha Vạn Cân", "Võ Văn Ngân", "Lê Văn Việt",
    "Đỗ Xuân Hợp", "Nguyễn Duy Trinh", "Bến Vân Đồn", "Khánh Hội", "Tôn Đản", "Nguyễn Tất Thành",
    "An Dương Vương", "Ba Tháng Hai", "Lý Thái Tổ", "Sư Vạn Hạnh", "Nguyễn Chí Thanh",
    "Hồng Bàng", "Minh Phụng", "Bình Thới", "Lãnh Binh Thăng", "Dương Bá Trạc", "Phạm Thế Hiển",
    "Tạ Quang Bửu", "Huỳnh Văn Bánh", "Phan Xích Long", "Nơ Trang Long", "Bạch Đằng",
    "Xô Viết Nghệ Tĩnh", "Nguyễn Kiệm", "Phạm Văn Chiêu", "Lê Quang Định", "Hà Huy Giáp",
    "Rừng Sác", "Nguyễn Bình", "Huỳnh Tấn Phát", "Lê Văn Lương",
] + [f"Số {k}" for k in range(1, 31)])
HAMLETS = _nfc(["Ấp 1", "Ấp 2", "Ấp 3", "Ấp 4", "Ấp 5", "Ấp Tân Lập", "Ấp Bình Hòa", "Ấp Phú Hòa",
                "Thôn Đông", "Thôn Tây", "Thôn Trung", "Khu phố 1", "Khu phố 2", "Tổ 5", "Tổ 12"])
# generic names of communes and districts used for addresses in other provinces (synthetic:
# they may or may not exist in that province)
GENERIC_COMMUNES = _nfc(["Tân Hòa", "Bình Thạnh", "Phú Mỹ", "An Thạnh", "Long Hưng", "Mỹ Phước",
                         "Tân Phú", "Hòa Bình", "Thạnh Lợi", "Vĩnh Thuận", "Phước Hưng", "Đông Thạnh"])
GENERIC_DISTRICTS = _nfc(["Huyện Châu Thành", "Huyện Tân Phú", "Huyện Phú Tân", "Huyện Bình Minh",
                          "Thị xã Tân Châu", "Huyện Long Phú", "Huyện Cái Bè", "Huyện Mỹ Xuyên",
                          "Thành phố Tân An", "Huyện Đức Hòa", "Huyện Hòa Thành", "Huyện Vĩnh Cửu"])

PHONE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035",
                  "036", "037", "038", "039", "070", "076", "077", "078", "079", "081", "082",
                  "083", "084", "085", "086", "088", "089"]


def _take(pool: list[str], idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(pool, type=pa.string())
    ind = pa.array(idx.astype(np.int32), mask=None if mask is None else ~mask)
    return pc.take(arr, ind)


def person_names(rng: np.random.Generator, female: np.ndarray, group: np.ndarray,
                 adult: bool = False) -> pa.Array:
    """Full names 'Họ [Đệm] [Đệm2] Tên'. group: 0 Kinh, 1 Hoa, 2 Khmer, 3 Chăm, 4 northern minority."""
    n = len(female)
    sur = np.empty(n, dtype=np.int64)
    surname_pool: list[str] = []
    for g, (names, p) in enumerate([SURNAMES_KINH, SURNAMES_HOA, SURNAMES_KHMER, SURNAMES_CHAM,
                                    SURNAMES_NORTHERN_MINORITY]):
        sel = group == g
        sur[sel] = len(surname_pool) + rng.choice(len(names), size=int(sel.sum()), p=p)
        surname_pool += names
    mm, mf = (MIDDLE_MALE_ADULT, MIDDLE_FEMALE_ADULT) if adult else (MIDDLE_MALE, MIDDLE_FEMALE)
    mid = np.where(female, len(mm[0]) + rng.choice(len(mf[0]), size=n, p=mf[1]),
                   rng.choice(len(mm[0]), size=n, p=mm[1]))
    middle_pool = mm[0] + mf[0]
    second = rng.choice(len(MIDDLE_SECOND[0]), size=n, p=MIDDLE_SECOND[1])
    has_second = rng.random(n) < (0.04 if adult else 0.12)
    given = np.where(female, len(GIVEN_MALE[0]) + rng.choice(len(GIVEN_FEMALE[0]), size=n, p=GIVEN_FEMALE[1]),
                     rng.choice(len(GIVEN_MALE[0]), size=n, p=GIVEN_MALE[1]))
    given_pool = GIVEN_MALE[0] + GIVEN_FEMALE[0]
    return pc.binary_join_element_wise(
        _take(surname_pool, sur), _take(middle_pool, mid),
        _take(MIDDLE_SECOND[0], second, has_second), _take(given_pool, given), " ",
        null_handling="skip")


def phones(rng: np.random.Generator, n: int) -> list[str]:
    pre = rng.integers(0, len(PHONE_PREFIXES), n)
    num = rng.integers(0, 10**7, n)
    return [f"{PHONE_PREFIXES[p]}{x:07d}" for p, x in zip(pre, num)]
