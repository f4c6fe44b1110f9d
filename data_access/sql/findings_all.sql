-- All findings of one snapshot, one row each (columns: see RULES.md "Validity rules").
CREATE OR REPLACE VIEW findings AS
WITH u AS (
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_students
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_ids
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_results
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_reports
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_paper_copies
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_rooms
)
SELECT CAST(school_code AS VARCHAR) AS school_code, CAST(rule_id AS VARCHAR) AS rule_id,
       CAST(severity AS VARCHAR) AS severity, CAST(entity AS VARCHAR) AS entity,
       CAST(record_key AS VARCHAR) AS record_key, CAST(field AS VARCHAR) AS field,
       CAST(message AS VARCHAR) AS message, CAST(student_id AS VARCHAR) AS student_id,
       CAST(grade AS INTEGER) AS grade, CAST(term AS VARCHAR) AS term,
       CAST(source_row AS BIGINT) AS source_row
FROM u;

-- Legend of the rules for the UI: one row per (rule_id, entity).
CREATE OR REPLACE VIEW rule_catalog AS
SELECT * FROM (VALUES
 ('MISSING_FIELD', 'error', 'student', 'Thiếu thông tin bắt buộc',
  'Họ tên, ngày sinh, giới tính, dân tộc hoặc nơi thường trú để trống; hoặc để trống cả số CMND/CCCD và số định danh cá nhân.'),
 ('NAME_LEGACY_ENCODING', 'warning', 'student', 'Họ tên gõ bằng bảng mã cũ',
  'Họ tên được gõ bằng bảng mã TCVN3 (ABC) hoặc VNI và đã được tự động chuyển sang Unicode; cần cập nhật lại trên hệ thống.'),
 ('NAME_NOT_NFC', 'warning', 'student', 'Họ tên ở dạng Unicode tổ hợp',
  'Họ tên được lưu ở dạng Unicode tổ hợp (dấu tách rời chữ) và đã được chuẩn hóa về dạng dựng sẵn.'),
 ('NAME_INVALID_CHARS', 'error', 'student', 'Họ tên có ký tự không hợp lệ',
  'Họ tên chỉ được gồm chữ cái tiếng Việt/Latinh, khoảng trắng (và dấu nháy đơn trong tên dân tộc thiểu số như H''Hen).'),
 ('NAME_ONE_WORD', 'error', 'student', 'Họ tên chỉ có một từ',
  'Họ tên phải có ít nhất hai từ (họ và tên).'),
 ('GENDER_INVALID', 'error', 'student', 'Giới tính không hợp lệ',
  'Giới tính chỉ được ghi «Nam» hoặc «Nữ».'),
 ('BIRTH_DATE_INVALID', 'error', 'student', 'Ngày sinh không hợp lệ',
  'Ngày sinh sai định dạng (dd/mm/yyyy hoặc yyyy-mm-dd) hoặc không phải ngày có thật (ví dụ 31/02).'),
 ('BIRTH_DATE_IMPLAUSIBLE', 'warning', 'student', 'Năm sinh bất thường so với khối lớp',
  'Năm sinh nằm ngoài khoảng thường gặp của khối lớp (lớp 12 năm học 2021-2022: 1998–2005).'),
 ('ETHNICITY_UNKNOWN', 'error', 'student', 'Dân tộc không có trong danh mục',
  'Dân tộc không thuộc danh mục 54 dân tộc (tên chính thức hoặc tên gọi khác); ghi thiếu dấu cũng là lỗi, thông báo gợi ý tên đúng.'),
 ('ID_LEADING_ZERO_LOST', 'error', 'student', 'Số CCCD mất số 0 ở đầu',
  'Số có 11 chữ số, thêm số 0 ở đầu thì hợp lệ: Excel đã làm mất số 0. Là cảnh báo nếu số còn lại (CCCD hoặc định danh) hợp lệ.'),
 ('ID_FORMAT', 'error', 'student', 'Số CMND/CCCD sai định dạng',
  'Số không có đúng 9 hoặc 12 chữ số, hoặc toàn số 0. Là cảnh báo nếu số còn lại hợp lệ.'),
 ('ID_PROVINCE_UNKNOWN', 'error', 'student', 'Mã tỉnh trong số CCCD không đúng',
  'Ba chữ số đầu của số CCCD không phải mã tỉnh/thành phố. Là cảnh báo nếu số còn lại hợp lệ.'),
 ('ID_CENTURY_GENDER_MISMATCH', 'error', 'student', 'Mã giới tính/thế kỷ trong số CCCD không khớp',
  'Chữ số thứ 4 của số CCCD không khớp với giới tính và năm sinh. Là cảnh báo nếu số còn lại hợp lệ.'),
 ('ID_BIRTH_YEAR_MISMATCH', 'error', 'student', 'Năm sinh trong số CCCD không khớp',
  'Chữ số thứ 5–6 của số CCCD không khớp với năm sinh. Là cảnh báo nếu số còn lại hợp lệ.'),
 ('ID_DUPLICATE', 'error', 'student', 'Số CCCD trùng với học sinh khác',
  'Cùng một số CCCD 12 chữ số được khai cho nhiều học sinh trong toàn thành phố.'),
 ('ADDRESS_INCOMPLETE', 'error', 'student', 'Nơi thường trú chưa đủ ba cấp',
  'Nơi thường trú phải kết thúc bằng phường/xã/thị trấn, quận/huyện/thị xã/thành phố, tỉnh/thành phố, cách nhau bằng dấu phẩy.'),
 ('SCHOOL_UNKNOWN', 'error', 'student', 'Mã trường không có trong danh sách',
  'Học sinh (lớp 12, đang học) thuộc mã trường không có trong danh sách trường; không được tính vào tiến độ.'),
 ('SCORE_OUT_OF_RANGE', 'error', 'score', 'Điểm không hợp lệ',
  'Điểm môn tính điểm không phải là số từ 0 đến 10.'),
 ('SCORE_PRECISION', 'error', 'score', 'Điểm có quá một chữ số thập phân',
  'Điểm trung bình môn phải được làm tròn đến một chữ số thập phân.'),
 ('RATING_INVALID', 'error', 'score', 'Đánh giá môn không hợp lệ',
  'Môn đánh giá bằng nhận xét chỉ ghi «Đ» hoặc «CĐ».'),
 ('YEAR_SCORE_MISMATCH', 'error', 'score', 'Điểm cả năm không khớp hai học kỳ',
  'Điểm cả năm của môn phải bằng (HK I + 2 × HK II) / 3, làm tròn một chữ số thập phân.'),
 ('SUBJECT_MISSING', 'error', 'score', 'Thiếu điểm môn học',
  'Một môn bắt buộc của học kỳ đã có dữ liệu chưa có điểm (hoặc đánh giá).'),
 ('OVERALL_AVERAGE_MISMATCH', 'error', 'term_summary', 'Điểm TB các môn không khớp',
  'Điểm trung bình các môn không phải số 0–10 hoặc không bằng trung bình cộng điểm các môn tính điểm (làm tròn một chữ số thập phân).'),
 ('RANK_INVALID', 'error', 'term_summary', 'Học lực không hợp lệ',
  'Học lực chỉ ghi Giỏi, Khá, Trung bình, Yếu hoặc Kém.'),
 ('CONDUCT_INVALID', 'error', 'term_summary', 'Hạnh kiểm không hợp lệ',
  'Hạnh kiểm chỉ ghi Tốt, Khá, Trung bình hoặc Yếu.'),
 ('RANK_INCONSISTENT', 'warning', 'term_summary', 'Học lực không khớp với điểm',
  'Học lực khác với học lực tính từ điểm các môn theo Thông tư 58/2011 sửa đổi bởi Thông tư 26/2020 (kể cả điều chỉnh khoản 6 Điều 13).'),
 ('MISSING_FIELD', 'error', 'term_summary', 'Thiếu thông tin tổng kết',
  'Dòng tổng kết học kỳ thiếu điểm TB các môn, học lực hoặc hạnh kiểm.'),
 ('TERM_SUMMARY_MISSING', 'error', 'term_summary', 'Thiếu kết quả tổng kết',
  'Chưa có dòng tổng kết cho một học kỳ bắt buộc.'),
 ('REPORT_RETURNED', 'error', 'report', 'Báo cáo bị trả lại',
  'Lần gửi mới nhất của báo cáo bị Sở trả lại; xem ghi chú và gửi lại.'),
 ('PAPER_UNSIGNED', 'error', 'paper_copy', 'Bản giấy chưa ký',
  'Bản giấy nhận được chưa có chữ ký, và chưa có bản giấy hợp lệ nào của báo cáo đó.'),
 ('PAPER_UNSTAMPED', 'error', 'paper_copy', 'Bản giấy chưa đóng dấu',
  'Bản giấy nhận được chưa đóng dấu, và chưa có bản giấy hợp lệ nào của báo cáo đó.'),
 ('ROOM_MULTI_LEVEL', 'error', 'room', 'Phòng học khai ở nhiều cấp',
  'Cùng một mã phòng của trường được khai dưới hai cấp học trở lên.')
) t(rule_id, severity, entity, title_vi, description_vi);
