-- Student findings (entity 'student', record_key = student_id) for the population, plus
-- SCHOOL_UNKNOWN for population-like students at an unknown school code.
CREATE OR REPLACE VIEW chk_student_base AS
SELECT p.student_id, p.school_code, p.grade,
       st.full_name, st.full_name_raw, st.full_name_legacy,
       parse_vn_date(st.birth_date) AS birth_date,
       parse_vn_date(st.birth_date) IS NOT NULL AS birth_date_valid,
       st.birth_date AS birth_date_raw,
       st.gender, st.ethnicity, st.permanent_address, st.id_number, st.personal_id,
       p.source_row, prm.school_year_start,
       -- BIRTH_DATE_IMPOSSIBLE: born after the snapshot's as-of date, or younger than
       -- min_age_at_start on the first day of the school year (grade 12: 14 on 05/09/2021)
       coalesce(parse_vn_date(st.birth_date) > (SELECT as_of FROM src_as_of)::DATE, false) AS born_future,
       coalesce(parse_vn_date(st.birth_date)
                > CAST(prm.school_year_start_date AS DATE) - to_years(CAST(prm.min_age_at_start AS INTEGER)),
                false) AS too_young,
       prm.min_age_at_start, prm.school_year_start_date
FROM stg_population p
JOIN src_students st USING (student_id)
CROSS JOIN cfg_params prm;

-- The personal-field rules of a student (MISSING_FIELD, NAME_*, GENDER_INVALID, BIRTH_DATE_*,
-- ETHNICITY_UNKNOWN, ADDRESS_INCOMPLETE) over any table of students laid out as
-- chk_student_base: one definition, read by the grade-12 checks below (chk_students) and by the
-- completeness index over every grade (completeness_10_domains.sql), so both give the same verdict
-- on the same row. `base` is the name of that table or view.
CREATE OR REPLACE MACRO student_field_findings(base) AS TABLE
WITH b AS (SELECT * FROM query_table(base)),
missing AS (
    SELECT b.*, f.field, f.label
    FROM b CROSS JOIN (VALUES (1, 'full_name', 'Họ và tên'), (2, 'birth_date', 'Ngày sinh'),
                              (3, 'gender', 'Giới tính'), (4, 'ethnicity', 'Dân tộc'),
                              (5, 'permanent_address', 'Nơi thường trú'),
                              (6, 'id_number', 'Số CMND/CCCD')) f(n, field, label)
    WHERE CASE f.n WHEN 1 THEN b.full_name IS NULL
                   WHEN 2 THEN b.birth_date_raw IS NULL
                   WHEN 3 THEN b.gender IS NULL
                   WHEN 4 THEN b.ethnicity IS NULL
                   WHEN 5 THEN b.permanent_address IS NULL
                   ELSE b.id_number IS NULL AND b.personal_id IS NULL END
),
eth AS (
    SELECT b.*, ex.official_name AS exact_name, lo.official_name AS loose_name
    FROM b
    LEFT JOIN ref_ethnic_alias ex
        ON ex.exact AND ex.alias_key = lower(regexp_replace(b.ethnicity, '[\s\-]+', '', 'g'))
    LEFT JOIN ref_ethnic_alias lo
        ON lo.alias_key = akey(regexp_replace(b.ethnicity, '[\s\-]+', '', 'g'))
    WHERE b.ethnicity IS NOT NULL
),
-- MATERIALIZED: read four times below (folds, addr_f); inlined, each read (and each filter
-- pushed into it, which repeats the expression) re-ran addr_parts' regexps over every address:
-- ~65 CPU s over the 1.7 M students of the completeness index at city scale (perf15).
addr AS MATERIALIZED (
    SELECT b.*, parts, len(parts) AS n
    FROM (SELECT b.*, addr_parts(b.permanent_address) AS parts
          FROM b WHERE b.permanent_address IS NOT NULL) b
),
addr_p AS (
    SELECT addr.*, parts[n - 2] AS ward_p, parts[n - 1] AS district_p, parts[n] AS province_p
    FROM addr
),
-- each distinct last-three part folded once (a few hundred texts for 80 k addresses at city scale)
folds AS (
    SELECT p, addr_fold(p) AS f
    FROM (SELECT ward_p AS p FROM addr_p UNION SELECT district_p FROM addr_p
          UNION SELECT province_p FROM addr_p)
    WHERE p IS NOT NULL
),
addr_f AS (
    SELECT addr_p.*, fw.f AS ward_f, fd.f AS district_f, fp.f AS province_f
    FROM addr_p
    LEFT JOIN folds fw ON fw.p = addr_p.ward_p
    LEFT JOIN folds fd ON fd.p = addr_p.district_p
    LEFT JOIN folds fp ON fp.p = addr_p.province_p
),
-- the province names as keys (hyphen/space variants are one key: province_key)
prov_keys AS (SELECT DISTINCT province_key(alias_key) AS k FROM ref_province_alias),
addr_lv AS (
    SELECT addr_f.*,
           coalesce(regexp_full_match(ward_f, '((phuong|xa|thi tran|tt) |(p|x|tt)\. ?)\S.*'), FALSE) AS ward_ok,
           coalesce(regexp_full_match(district_f, '((quan|huyen|thi xa|thanh pho|tp|tx) |(q|h|tp|tx)\. ?)\S.*'), FALSE) AS district_ok,
           (pa.k IS NOT NULL OR pb.k IS NOT NULL) AS province_ok
    FROM addr_f
    LEFT JOIN prov_keys pa ON pa.k = province_key(addr_f.province_f)
    LEFT JOIN prov_keys pb
        ON pb.k = province_key(regexp_replace(addr_f.province_f, '^(tinh |thanh pho |tp\. ?|tp )', ''))
),
addr_ok AS (
    SELECT addr_lv.*, n >= 3 AND ward_ok AND district_ok AND province_ok AS ok FROM addr_lv
)
SELECT school_code, 'MISSING_FIELD' AS rule_id, 'error' AS severity, 'student' AS entity,
       student_id AS record_key, field,
       CASE field WHEN 'id_number'
            THEN 'Thiếu cả Số CMND/CCCD và Số định danh cá nhân: hãy nhập số CCCD (12 chữ số) hoặc số định danh cá nhân của học sinh.'
            ELSE 'Thiếu ' || label || ': hãy nhập ' || lower(label) || ' của học sinh.' END AS message,
       student_id, grade, NULL AS term, source_row
FROM missing
UNION ALL
SELECT school_code, 'NAME_LEGACY_ENCODING', 'warning', 'student', student_id, 'full_name',
       'Họ tên được gõ bằng bảng mã cũ ' || full_name_legacy
       || ' và đã được tự động chuyển sang Unicode thành «' || full_name
       || '». Hãy kiểm tra lại và cập nhật họ tên trên hệ thống bằng bảng mã Unicode (dựng sẵn).',
       student_id, grade, NULL, source_row
FROM b WHERE full_name_legacy IS NOT NULL AND full_name IS NOT NULL
UNION ALL
SELECT school_code, 'NAME_NOT_NFC', 'warning', 'student', student_id, 'full_name',
       'Họ tên «' || full_name || '» được lưu ở dạng Unicode tổ hợp (dấu tách rời chữ) và đã được '
       || 'chuẩn hóa. Hãy nhập lại họ tên bằng bộ gõ Unicode dựng sẵn để tránh sai lệch khi tra cứu.',
       student_id, grade, NULL, source_row
FROM b WHERE full_name_raw IS NOT NULL AND full_name_legacy IS NULL AND full_name IS NOT NULL
UNION ALL
SELECT school_code, 'NAME_INVALID_CHARS', 'error', 'student', student_id, 'full_name',
       'Họ tên có ký tự không phải chữ cái tiếng Việt hoặc khoảng trắng (ví dụ chữ số, dấu chấm, '
       || 'ký hiệu). Hãy nhập lại họ tên chỉ gồm chữ cái và khoảng trắng.',
       student_id, grade, NULL, source_row
FROM b
WHERE full_name IS NOT NULL
  AND NOT regexp_full_match(full_name,
      '[A-Za-z ''’ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúýĂăĐđĨĩŨũƠơƯưẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệỈỉỊịỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹ]+')
UNION ALL
SELECT school_code, 'NAME_ONE_WORD', 'error', 'student', student_id, 'full_name',
       'Họ tên chỉ có một từ. Hãy nhập đầy đủ họ, chữ đệm (nếu có) và tên của học sinh.',
       student_id, grade, NULL, source_row
FROM b
WHERE full_name IS NOT NULL
  AND len(list_filter(regexp_split_to_array(trim(full_name), '\s+'), lambda x: x <> '')) < 2
UNION ALL
SELECT school_code, 'GENDER_INVALID', 'error', 'student', student_id, 'gender',
       'Giới tính không hợp lệ: chỉ được ghi đúng «Nam» hoặc «Nữ».',
       student_id, grade, NULL, source_row
FROM b WHERE gender IS NOT NULL AND gender NOT IN ('Nam', 'Nữ')
UNION ALL
SELECT school_code, 'BIRTH_DATE_INVALID', 'error', 'student', student_id, 'birth_date',
       -- (The date an Excel serial stands for is not shown: findings never show a birth date;
       -- the import notes give it to the administrator.)
       CASE WHEN regexp_full_match(birth_date_raw, '[0-9]{5}([.,][0-9]+)?')
            THEN 'Ngày sinh là số sê-ri ngày của Excel (ô định dạng Số/General nên Excel hiện số thay cho '
                 || 'ngày), không phải một ngày. Hãy định dạng cột Ngày sinh là Ngày (dd/mm/yyyy) hoặc Văn bản '
                 || 'và nhập lại ngày dạng dd/mm/yyyy.'
            ELSE 'Ngày sinh không phải là một ngày có thật (ví dụ ngày 31 tháng 2) hoặc sai định dạng. '
                 || 'Hãy nhập theo dạng ngày/tháng/năm có 4 chữ số năm (dd/mm/yyyy) và định dạng ô là Văn bản hoặc Ngày.'
       END,
       student_id, grade, NULL, source_row
FROM b WHERE birth_date_raw IS NOT NULL AND NOT birth_date_valid
UNION ALL
SELECT school_code, 'BIRTH_DATE_IMPLAUSIBLE', 'warning', 'student', student_id, 'birth_date',
       'Năm sinh không phù hợp với học sinh khối ' || grade || ' (thường sinh trong khoảng '
       || (school_year_start - 5 - grade - 6) || '–' || (school_year_start - 5 - grade + 1)
       || '). Hãy kiểm tra lại ngày sinh, nhất là năm sinh.',
       student_id, grade, NULL, source_row
FROM b
WHERE birth_date_valid AND grade IS NOT NULL AND NOT born_future AND NOT too_young
  AND (year(birth_date) < school_year_start - 5 - grade - 6
       OR year(birth_date) > school_year_start - 5 - grade + 1)
UNION ALL
SELECT school_code, 'BIRTH_DATE_IMPOSSIBLE', 'error', 'student', student_id, 'birth_date',
       CASE WHEN born_future
            THEN 'Ngày sinh sau ngày của bản dữ liệu: không thể có. Hãy kiểm tra lại ngày sinh (nhất là năm sinh).'
            ELSE 'Theo ngày sinh, học sinh chưa đủ ' || min_age_at_start || ' tuổi vào đầu năm học ('
                 || strftime(CAST(school_year_start_date AS DATE), '%d/%m/%Y') || '): không thể học khối ' || grade
                 || '. Hãy kiểm tra lại ngày sinh, nhất là năm sinh.' END,
       student_id, grade, NULL, source_row
FROM b WHERE birth_date_valid AND (born_future OR too_young)
UNION ALL
SELECT school_code, 'ETHNICITY_UNKNOWN', 'error', 'student', student_id, 'ethnicity',
       CASE WHEN loose_name IS NOT NULL
            THEN 'Dân tộc ghi chưa đúng tên chính thức (thiếu hoặc sai dấu). Hãy ghi là «' || loose_name || '».'
            ELSE 'Dân tộc không có trong danh mục 54 dân tộc Việt Nam. Hãy chọn đúng tên dân tộc theo danh mục (ví dụ «Kinh», «Hoa», «Khơ-me»).' END,
       student_id, grade, NULL, source_row
FROM eth WHERE exact_name IS NULL
UNION ALL
-- The message says which level was not recognised (never repeats a part: no address in a message).
SELECT school_code, 'ADDRESS_INCOMPLETE', 'error', 'student', student_id, 'permanent_address',
       'Nơi thường trú chưa nhận ra đủ ba cấp hành chính ở cuối: '
       || CASE WHEN n < 3
               THEN 'chỉ có ' || n || ' phần cách nhau bằng dấu phẩy, cần ít nhất ba phần cuối là '
                    || 'phường/xã/thị trấn, quận/huyện/thị xã/thành phố, tỉnh/thành phố'
               ELSE array_to_string(list_filter([
                        CASE WHEN NOT ward_ok THEN 'phần thứ ba từ cuối không phải phường/xã/thị trấn '
                             || '(cần bắt đầu bằng «Phường», «Xã», «Thị trấn», «P.», «X.» hoặc «TT.»)' END,
                        CASE WHEN NOT district_ok THEN 'phần thứ hai từ cuối không phải quận/huyện/thị xã/thành phố '
                             || '(cần bắt đầu bằng «Quận», «Huyện», «Thị xã», «Thành phố», «TP.», «TX.», «Q.» hoặc «H.», '
                             || 'có khoảng trắng trước tên như «Quận 1»)' END,
                        CASE WHEN NOT province_ok THEN 'phần cuối không phải tên một tỉnh/thành phố trong danh mục '
                             || '(ví dụ «Thành phố Hồ Chí Minh», «TP.HCM», «Tỉnh Bình Dương»)' END],
                        lambda x: x IS NOT NULL), '; ') END
       || '. Dạng đúng: «số nhà đường, Phường/Xã ..., Quận/Huyện ..., Tỉnh/Thành phố ...», cách nhau bằng dấu phẩy.',
       student_id, grade, NULL, source_row
FROM addr_ok WHERE NOT ok
;

CREATE OR REPLACE VIEW chk_students AS
SELECT * FROM student_field_findings('chk_student_base')
UNION ALL
SELECT st.school_code, 'SCHOOL_UNKNOWN', 'error', 'student', st.student_id, 'school_code',
       CASE WHEN n.near_code IS NOT NULL
            THEN 'Mã trường của học sinh không có trong danh sách trường, nhưng có trường mã «' || n.near_code
                 || '»: có thể Excel đã làm mất (hoặc thêm) số 0 ở đầu mã. Hãy định dạng cột Mã trường là '
                 || 'Văn bản (Text), sửa mã cho khớp rồi nhập lại.'
            WHEN regexp_full_match(st.school_code, '(?i)[0-9]+([.,][0-9]+)?E\+?[0-9]+')
            THEN 'Mã trường bị Excel đổi thành dạng số mũ (ví dụ 7,9E+07) nên đã mất chữ số. Hãy định dạng '
                 || 'cột Mã trường là Văn bản (Text) và nhập lại.'
            ELSE 'Mã trường của học sinh không có trong danh sách trường. Hãy kiểm tra lại mã trường '
                 || '(hoặc bổ sung trường vào danh sách trường).' END,
       st.student_id, st.grade, NULL, st.source_row
FROM (SELECT student_id, school_code, grade, source_row   -- the parsed grade (Khối 12 is 12)
      FROM stg_population_candidates s
      ANTI JOIN src_schools sc ON sc.school_code = s.school_code) st
-- A known school whose code differs only by leading zeros (Excel dropped or added them).
LEFT JOIN (SELECT ltrim(school_code, '0') AS k, min(school_code) AS near_code
           FROM src_schools GROUP BY 1) n
       ON n.k = ltrim(st.school_code, '0') AND regexp_full_match(st.school_code, '[0-9]+')
UNION ALL
-- A student row at an institution with a grade-12 requirement whose grade or status cannot be
-- read: it cannot be placed in (or out of) the population, so the school is told
-- (no student leaves the population silently; RULES.md).
SELECT e.school_code, x.rule_id, 'error', 'student', e.student_id, x.field,
       CASE x.rule_id
            WHEN 'GRADE_INVALID' THEN 'Khối của học sinh ' || CASE WHEN e.grade_raw IS NULL THEN 'bị bỏ trống'
                 ELSE '«' || e.grade_raw || '» không đọc được' END
                 || ' nên học sinh chưa được tính vào danh sách lớp 12. Hãy ghi khối bằng số (ví dụ 12 hoặc «Khối 12»).'
            ELSE 'Trạng thái của học sinh ' || CASE WHEN e.status IS NULL THEN 'bị bỏ trống'
                 ELSE '«' || e.status || '» không đọc được' END
                 || ' nên học sinh chưa được tính vào danh sách lớp 12. Hãy chọn một trạng thái của hệ thống: «'
                 || array_to_string(e.known_statuses, '», «') || '».' END,
       e.student_id, e.grade, NULL, e.source_row
FROM (SELECT st.student_id, st.school_code, st.grade AS grade_raw, gv.grade, st.status, st._row AS source_row,
             prm.known_statuses,
             gv.grade IS NULL AS grade_bad,
             sv.status IS NULL AS status_bad
      FROM src_students st
      SEMI JOIN stg_population_schools ps ON ps.school_code = st.school_code
      CROSS JOIN cfg_params prm
      LEFT JOIN stg_grade_values gv ON gv.grade_raw = st.grade
      LEFT JOIN stg_status_values sv ON sv.status_raw = st.status) e
JOIN (VALUES ('GRADE_INVALID', 'grade'), ('STATUS_INVALID', 'status')) x(rule_id, field)
  ON (x.rule_id = 'GRADE_INVALID' AND e.grade_bad) OR (x.rule_id = 'STATUS_INVALID' AND e.status_bad);
