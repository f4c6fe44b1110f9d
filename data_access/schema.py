"""The extract contract (EXTRACT_FORMAT.md) as data: one place that says which files and
columns an export of the city database holds, under which headers, and which are required.

Why a table and not code: the importer, the sample generator, the README and the tests all
read this, so a header alias added here is accepted everywhere at once.

Snapshot tables keep every value as text (VARCHAR), exactly as the file gave it (trimmed,
NFC-normalised). Typing and validation happen in the SQL staging/check views, so a bad cell
becomes a finding instead of a refused import. Every snapshot table also has ``_row``: the
spreadsheet row number of the record in its file (header = row 1), used in messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str                 # canonical (English) column name in the snapshot table
    header: str               # canonical Vietnamese header as the system prints it
    aliases: tuple[str, ...] = ()   # other headers seen (matched accent/case/space-insensitively)
    required: bool = True


@dataclass(frozen=True)
class Table:
    name: str                 # snapshot table name
    file: str                 # file stem in the extract (truong.csv, truong.xlsx)
    title: str                # Vietnamese description for messages
    columns: tuple[Column, ...]
    required: bool = True
    key: tuple[str, ...] = ()  # duplicate key => the snapshot is refused
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


C = Column

TABLES: tuple[Table, ...] = (
    Table("schools", "truong", "Danh sách trường", (
        C("school_code", "Mã trường", ("Mã đơn vị",)),
        C("school_name", "Tên trường", ("Tên đơn vị",)),
        C("district_code", "Mã quận/huyện", ("Mã quận huyện", "Mã huyện")),
        C("levels", "Cấp học", ("Cấp",)),
        C("ownership", "Loại hình", ("Loại hình trường",)),
        C("managed_by", "Cấp quản lý", ("Đơn vị quản lý",)),
        C("principal", "Hiệu trưởng", (), False),
        C("phone", "Điện thoại", ("Số điện thoại", "SĐT"), False),
        C("email", "Email", ("E-mail", "Thư điện tử"), False),
    ), key=("school_code",)),
    Table("students", "hoc_sinh", "Danh sách học sinh", (
        C("student_id", "Mã học sinh", ("Mã định danh Bộ GD&ĐT", "Mã định danh Bộ GDĐT", "Mã HS")),
        C("school_code", "Mã trường"),
        C("grade", "Khối", ("Khối học",)),
        C("class_name", "Lớp", ("Lớp học", "Tên lớp"), False),
        C("full_name", "Họ và tên", ("Họ tên",)),
        C("birth_date", "Ngày sinh"),
        C("gender", "Giới tính"),
        C("ethnicity", "Dân tộc"),
        # At least one of id_number / personal_id must be present (checked by the importer).
        C("id_number", "Số CMND/CCCD", ("Số CMND", "Số CCCD", "CMND/CCCD", "CCCD", "CMND"), False),
        C("personal_id", "Số định danh cá nhân", (), False),
        C("permanent_address", "Nơi thường trú", ("Hộ khẩu thường trú", "Địa chỉ thường trú")),
        C("status", "Trạng thái", ("Trạng thái học sinh",)),
    ), key=("student_id",)),
    Table("subject_scores", "diem_mon_hoc", "Điểm môn học", (
        C("student_id", "Mã học sinh", ("Mã định danh Bộ GD&ĐT",)),
        C("school_year", "Năm học"),
        C("grade", "Khối", ("Khối học",)),
        C("term", "Học kỳ"),
        C("subject", "Môn học", ("Môn",)),
        C("score", "Điểm", ("Điểm TB môn", "Điểm trung bình môn"), False),
        C("rating", "Đánh giá", ("Xếp loại môn",), False),
    ), required=False),
    Table("term_summaries", "tong_ket", "Tổng kết học kỳ", (
        C("student_id", "Mã học sinh", ("Mã định danh Bộ GD&ĐT",)),
        C("school_year", "Năm học"),
        C("grade", "Khối", ("Khối học",)),
        C("term", "Học kỳ"),
        C("overall_average", "Điểm TB các môn", ("Điểm trung bình các môn", "ĐTB các môn", "ĐTB")),
        C("academic_rank", "Học lực", ("Xếp loại học lực",)),
        C("conduct", "Hạnh kiểm", ("Xếp loại hạnh kiểm",)),
    ), required=False),
    Table("reports", "bao_cao", "Nhật ký gửi báo cáo", (
        C("school_code", "Mã trường"),
        C("report_code", "Mã báo cáo"),
        C("status", "Trạng thái"),
        C("submitted_at", "Thời điểm gửi", ("Thời gian gửi", "Ngày gửi")),
        C("note", "Ghi chú", (), False),
    )),
    Table("paper_copies", "ban_giay", "Sổ nhận bản giấy", (
        C("school_code", "Mã trường"),
        C("report_code", "Mã báo cáo"),
        C("received_on", "Ngày nhận"),
        C("signed", "Có chữ ký", ("Chữ ký",)),
        C("stamped", "Có đóng dấu", ("Đóng dấu", "Có dấu")),
    ), required=False),
    Table("rooms", "phong_hoc", "Phòng học", (
        C("school_code", "Mã trường"),
        C("room_code", "Mã phòng"),
        C("room_type", "Loại phòng", (), False),
        C("level", "Cấp học"),
    ), required=False),
    Table("classes", "lop", "Danh sách lớp", (
        C("school_code", "Mã trường"),
        C("class_code", "Mã lớp"),
        C("grade", "Khối", ("Khối học",)),
        C("class_name", "Tên lớp"),
    ), required=False),
    Table("staff", "can_bo", "Danh sách cán bộ", (
        C("staff_id", "Mã cán bộ"),
        C("school_code", "Mã trường"),
        C("full_name", "Họ và tên", ("Họ tên",)),
        C("birth_date", "Ngày sinh", (), False),
        C("gender", "Giới tính", (), False),
        C("position", "Vị trí", ("Vị trí việc làm",), False),
        C("qualification", "Trình độ", ("Trình độ chuyên môn",), False),
    ), required=False),
    # The figures of each submitted report as sent (issue 15): one row per report × indicator.
    # Optional; the indicators and their definitions over the records are campaign config.
    Table("report_figures", "so_lieu_bao_cao", "Số liệu báo cáo", (
        C("school_code", "Mã trường"),
        C("report_code", "Mã báo cáo"),
        C("indicator", "Mã chỉ tiêu", ("Chỉ tiêu", "Mã số liệu")),
        C("value", "Giá trị", ("Số liệu", "Giá trị báo cáo")),
    ), required=False),
)

# The education database's exports split the permanent residence over these columns (house or
# hamlet, ward, district, province). Without a "Nơi thường trú" column they are joined, in this
# order and skipping empty parts, into permanent_address; the parts stay as extra__ columns.
ADDRESS_PARTS = ("Tổ/thôn Hộ khẩu thường trú", "Nơi thường trú Xã (cũ)",
                 "Nơi thường trú Huyện (cũ)", "Nơi thường trú Tỉnh (cũ)")

# Optional tables whose absence leaves a rule unchecked: a snapshot without the file is "not
# observed" for that rule (engine.attach_snapshot, src_files; RULES.md "Status"), and the import
# summary says so by name (outside review of issue 12, point 4). table name -> what is unchecked.
UNCHECKED_WITHOUT = {
    "rooms": "quy tắc ROOM_MULTI_LEVEL (mỗi phòng học chỉ khai báo cho một cấp học; lỗi này giữ lại "
             "báo cáo CSVC)",
}

# Headers that are recognised and deliberately dropped (row numbers of the export).
IGNORED_HEADERS = ("STT", "Số thứ tự")

# Columns the importer adds beside the raw ones (documented in the README):
#   every table: _row                      spreadsheet row of the record (header = 1)
#   students, staff: full_name_raw         the name exactly as in the file when it differed
#                                          from the stored (repaired, NFC) full_name; else NULL
#                    full_name_legacy      'TCVN3' or 'VNI' when the raw name was legacy-encoded
#                                          text that was repaired; else NULL
#   any table: extra__<header>             unknown extra columns, kept and ignored

TABLES_BY_NAME = {t.name: t for t in TABLES}
TABLES_BY_FILE = {t.file: t for t in TABLES}

# The term combinations and level codes the extract uses.
LEVELS = ("MN", "TH", "THCS", "THPT", "GDTX")
REPORT_CODES = ("EMIS", "EQMS", "NGOAI_NGU", "CSVC", "SUC_KHOE")
REPORT_STATUSES = ("Chưa gửi", "Đã gửi", "Bị trả lại", "Đã duyệt")
STUDENT_STATUSES = ("Đang học", "Đã chuyển trường", "Thôi học", "Đã tốt nghiệp")
