-- ID rules on each present value of id_number and personal_id of the population.
-- A student has a valid ID when one value passes every ID rule (a 9-digit CMND, or a 12-digit
-- number with no finding); the findings on the other value are then warnings.

-- 12-digit non-zero values held by more than one ENROLLED student (status = the population's,
-- any grade, city-wide; a transferred-out row is not a holder). agrees: the holder's number
-- carries their own century/gender code and birth year (digits 4-6). When exactly one holder
-- agrees, that one is the rightful holder (its ID_DUPLICATE is a warning, its number valid).
CREATE OR REPLACE VIEW chk_id_holders AS
WITH pv AS (   -- 12-digit values of the population (only these can produce a finding)
    SELECT id_number AS val FROM chk_student_base WHERE length(id_number) = 12
    UNION
    SELECT personal_id FROM chk_student_base WHERE length(personal_id) = 12
),
-- Rows of any student holding such a value; the enrolled status is tested after (in a), on
-- these ~80 k rows. (Speed only: joining cfg_params on the status first made both scans of the
-- 1.7 M students read every row and column, 0.43 s of chk_ids' 0.5 s at city scale, one
-- thread; with the value semi-join directly on the scan, DuckDB filters it there.)
v AS (
    SELECT s.student_id, s.school_code, s.id_number AS val, s.birth_date, s.gender, s.status
    FROM src_students s SEMI JOIN pv ON pv.val = s.id_number
    UNION
    SELECT s.student_id, s.school_code, s.personal_id, s.birth_date, s.gender, s.status
    FROM src_students s SEMI JOIN pv ON pv.val = s.personal_id
),
a AS (
    SELECT student_id, val, bool_or(
               year(bd) BETWEEN 1900 AND 2399 AND gender IN ('Nam', 'Nữ')
               AND substr(val, 4, 1) = CAST((year(bd) // 100 - 19) * 2 + CASE WHEN gender = 'Nữ' THEN 1 ELSE 0 END AS VARCHAR)
               AND substr(val, 5, 2) = lpad(CAST(year(bd) % 100 AS VARCHAR), 2, '0')) AS agrees
    FROM (SELECT v.*, parse_vn_date(v.birth_date) AS bd
          FROM v JOIN stg_status_values sv ON sv.status_raw = v.status   -- status read loosely
                 JOIN cfg_params prm ON sv.status = prm.population_status)
    WHERE regexp_full_match(val, '\d{12}') AND val <> '000000000000'
    GROUP BY student_id, val
)
SELECT * FROM a;

-- One row per duplicated value: its number of holders and the rightful one (the only holder
-- that agrees, when exactly one does). (Speed only: one GROUP BY instead of two windows over
-- the holders plus a GROUP BY: 0.3 s -> 0.05 s at city scale, one thread.)
CREATE OR REPLACE VIEW chk_id_duplicates AS
SELECT val, count(*) AS n_students,
       CASE WHEN count(*) FILTER (WHERE coalesce(agrees, false)) = 1
            THEN any_value(student_id) FILTER (WHERE coalesce(agrees, false)) END AS rightful
FROM chk_id_holders GROUP BY val HAVING count(*) > 1;

CREATE OR REPLACE VIEW chk_id_checked AS
WITH b AS (SELECT * FROM chk_student_base),
vals AS (
    SELECT b.*, 'id_number' AS field, id_number AS val FROM b WHERE id_number IS NOT NULL
    UNION ALL
    SELECT b.*, 'personal_id', personal_id FROM b WHERE personal_id IS NOT NULL
),
t AS (
    SELECT vals.*,
           CASE WHEN regexp_full_match(val, '\d{12}') THEN 12
                WHEN regexp_full_match(val, '\d{11}') THEN 11
                WHEN regexp_full_match(val, '\d{9}') THEN 9 ELSE 0 END AS kind,
           CASE WHEN regexp_full_match(val, '\d{12}') THEN val
                WHEN regexp_full_match(val, '\d{11}') THEN '0' || val END AS v12,
           CASE WHEN birth_date_valid AND gender IN ('Nam', 'Nữ')
                     AND year(birth_date) BETWEEN 1900 AND 2399
                THEN (year(birth_date) // 100 - 19) * 2 + CASE WHEN gender = 'Nữ' THEN 1 ELSE 0 END
           END AS century_code
    FROM vals
),
c AS (
    SELECT t.*,
           v12 IS NOT NULL AND v12 <> '000000000000' AS nonzero_ok,
           v12 IS NOT NULL AND pr.cccd_prefix IS NOT NULL AS province_ok,
           v12 IS NULL OR century_code IS NULL OR CAST(substr(v12, 4, 1) AS INTEGER) = century_code AS century_ok,
           v12 IS NULL OR NOT birth_date_valid
               OR substr(v12, 5, 2) = lpad(CAST(year(birth_date) % 100 AS VARCHAR), 2, '0') AS year_ok,
           d.val IS NOT NULL AND kind = 12 AS duplicate,
           coalesce(d.rightful = t.student_id, false) AS rightful_holder,
           d.n_students
    FROM t
    LEFT JOIN ref_provinces pr ON pr.cccd_prefix = left(t.v12, 3)
    LEFT JOIN chk_id_duplicates d ON d.val = t.val
),
r AS (
    SELECT c.*,
           kind = 11 AND nonzero_ok AND province_ok AND century_ok AND year_ok AS leading_zero_lost
    FROM c
)
SELECT r.*,
       (kind = 9 AND val <> '000000000')
       OR (kind = 12 AND nonzero_ok AND province_ok AND century_ok AND year_ok
           AND (NOT duplicate OR rightful_holder)) AS valid
FROM r;

CREATE OR REPLACE VIEW chk_id_values AS
WITH r AS (SELECT * FROM chk_id_checked)
SELECT r.*, x.rule_id
FROM r CROSS JOIN (VALUES ('ID_LEADING_ZERO_LOST'), ('ID_FORMAT'), ('ID_PROVINCE_UNKNOWN'),
                          ('ID_CENTURY_GENDER_MISMATCH'), ('ID_BIRTH_YEAR_MISMATCH'),
                          ('ID_DUPLICATE')) x(rule_id)
WHERE CASE x.rule_id
        WHEN 'ID_LEADING_ZERO_LOST' THEN leading_zero_lost
        WHEN 'ID_FORMAT' THEN (kind IN (0, 11) AND NOT leading_zero_lost)
                              OR (kind = 12 AND NOT nonzero_ok)
                              OR (kind = 9 AND val = '000000000')
        WHEN 'ID_PROVINCE_UNKNOWN' THEN kind = 12 AND nonzero_ok AND NOT province_ok
        WHEN 'ID_CENTURY_GENDER_MISMATCH' THEN kind = 12 AND nonzero_ok AND NOT century_ok
        WHEN 'ID_BIRTH_YEAR_MISMATCH' THEN kind = 12 AND nonzero_ok AND NOT year_ok
        ELSE duplicate END;

-- Students with a value that passes every ID rule.
CREATE OR REPLACE VIEW chk_id_valid_students AS
SELECT DISTINCT student_id FROM chk_id_checked WHERE valid;

CREATE OR REPLACE VIEW chk_ids AS
WITH iv AS MATERIALIZED (SELECT * FROM chk_id_values),
ok AS (SELECT DISTINCT student_id FROM chk_id_checked WHERE valid)
SELECT f.school_code, f.rule_id,
       CASE WHEN ok.student_id IS NOT NULL THEN 'warning' ELSE 'error' END AS severity,
       'student' AS entity, f.student_id AS record_key, f.field,
       CASE WHEN f.field = 'id_number' THEN 'Số CMND/CCCD' ELSE 'Số định danh cá nhân' END
       || CASE f.rule_id
            WHEN 'ID_LEADING_ZERO_LOST' THEN ' chỉ có 11 chữ số: có thể Excel đã làm mất số 0 ở đầu. '
                 || 'Hãy nhập lại đủ 12 chữ số và định dạng ô là Văn bản (Text).'
            WHEN 'ID_FORMAT' THEN CASE
                 WHEN regexp_full_match(f.val, '(?i)[0-9]+([.,][0-9]+)?E\+?[0-9]+')
                 THEN ' bị Excel đổi thành dạng số mũ (như 1,2E+11) nên đã mất chữ số. Hãy định dạng '
                      || 'cột là Văn bản (Text) và nhập lại đủ 12 chữ số.'
                 WHEN f.kind = 12 OR f.kind = 9
                 THEN ' toàn chữ số 0, không phải số thật. Hãy nhập số CCCD/định danh cá nhân đúng của học sinh.'
                 ELSE ' không đúng định dạng: số CCCD/định danh cá nhân phải có đúng 12 chữ số (CMND cũ: 9 chữ số), '
                      || 'không có khoảng trắng, dấu chấm hay chữ. Hãy nhập lại và định dạng ô là Văn bản (Text) '
                      || 'để Excel không làm mất số 0 ở đầu hay đổi sang dạng 1,2E+11.' END
            WHEN 'ID_PROVINCE_UNKNOWN' THEN ': ba chữ số đầu không phải mã tỉnh/thành phố nơi đăng ký khai sinh '
                 || '(001–096). Hãy đối chiếu lại với thẻ CCCD hoặc giấy khai sinh của học sinh.'
            WHEN 'ID_CENTURY_GENDER_MISMATCH' THEN ': chữ số thứ 4 (mã thế kỷ sinh và giới tính) không khớp với '
                 || 'giới tính và năm sinh đã khai (sinh 2000–2099: nam 2, nữ 3; sinh 1900–1999: nam 0, nữ 1). '
                 || 'Hãy kiểm tra lại số CCCD, giới tính và ngày sinh.'
            WHEN 'ID_BIRTH_YEAR_MISMATCH' THEN ': chữ số thứ 5–6 phải là hai số cuối của năm sinh nhưng không khớp '
                 || 'với ngày sinh đã khai. Hãy kiểm tra lại số CCCD và ngày sinh.'
            -- (Another institution is never named here: a school must not learn another
            -- school's code from its own findings.)
            WHEN 'ID_DUPLICATE' THEN ' trùng với số của ' || (f.n_students - 1) || ' học sinh khác đang học'
                 || CASE WHEN f.rightful_holder
                         THEN '. Số này khớp với năm sinh và giới tính của học sinh nên nhiều khả năng học sinh '
                              || 'kia bị nhập nhầm; hãy đối chiếu thẻ CCCD để xác nhận.'
                         ELSE '. Mỗi số chỉ thuộc về một học sinh: hãy đối chiếu thẻ CCCD hoặc giấy khai sinh '
                              || 'và sửa số nếu bị nhập sai (nếu đúng, báo Sở để xử lý trùng).' END
          END AS message,
       f.student_id, f.grade, NULL AS term, f.source_row
FROM iv f
LEFT JOIN ok ON ok.student_id = f.student_id
WHERE f.rule_id IS NOT NULL;
