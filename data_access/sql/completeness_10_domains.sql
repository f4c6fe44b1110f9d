-- Completeness index over the eight domains of letter 1254, point 1 (RULES.md "Completeness
-- index"; definitions in campaigns/completeness.toml, tables cfg_completeness_*).
-- Every domain is a list of items per institution, each satisfied or not; the measure is
-- round1(100 x satisfied / items). When an institution has no record of a domain at all, the
-- domain has one item, "the list itself", not satisfied (0 %): nothing entered is incomplete.
-- cmp_items: one row per item (school_code, domain, item_key, ok);
-- cmp_gap_items: one row per missing thing of an item (school_code, domain, gap, item_key).

-- The snapshot's as-of, local date (the connection's TimeZone is Asia/Ho_Chi_Minh).
CREATE OR REPLACE VIEW cmp_as_of AS
SELECT as_of, CAST(as_of AS DATE) AS as_of_date FROM src_as_of;

CREATE OR REPLACE VIEW cmp_schools AS
SELECT * FROM stg_schools WHERE school_code IS NOT NULL;

-- Enrolled students (the population's status, every grade) at a known institution.
CREATE OR REPLACE VIEW cmp_enrolled AS
SELECT st.* FROM stg_students st JOIN cfg_params prm ON st.status = prm.population_status
WHERE st.school_known;

-- ---- institution: five profile fields ------------------------------------------------------
CREATE OR REPLACE VIEW cmp_institution_items AS
SELECT s.school_code, 'institution' AS domain, f.field AS item_key,
       CASE f.n WHEN 1 THEN s.principal IS NOT NULL
                WHEN 2 THEN s.phone IS NOT NULL
                WHEN 3 THEN coalesce(regexp_full_match(s.email, '[^@\s]+@[^@\s]+\.[^@\s]+'), false)
                WHEN 4 THEN len(s.levels) > 0
                ELSE coalesce(s.ownership IN ('Công lập', 'Ngoài công lập'), false) END AS ok,
       CASE WHEN f.n = 3 AND s.email IS NOT NULL
                THEN 'E-mail không đúng dạng (tệp truong, cột Email)'
            WHEN f.n = 4 AND src.levels IS NOT NULL
                THEN 'Cấp học không đọc được: ghi MN, TH, THCS, THPT hoặc GDTX (tệp truong, cột Cấp học)'
            WHEN f.n = 5 AND s.ownership IS NOT NULL
                THEN 'Loại hình phải là «Công lập» hoặc «Ngoài công lập» (tệp truong, cột Loại hình)'
            ELSE 'Thiếu ' || f.label || ' (tệp truong, cột ' || f.label || ')' END AS gap
FROM cmp_schools s
JOIN src_schools src USING (school_code)
CROSS JOIN (VALUES (1, 'principal', 'Hiệu trưởng'), (2, 'phone', 'Điện thoại'), (3, 'email', 'Email'),
                   (4, 'levels', 'Cấp học'), (5, 'ownership', 'Loại hình')) f(n, field, label);

-- ---- classes: each class named by an enrolled student is in lop; each grade has a class -----
CREATE OR REPLACE VIEW cmp_class_items AS
WITH lop_names AS (
    SELECT DISTINCT school_code, class_name AS k FROM src_classes WHERE class_name IS NOT NULL
    UNION
    SELECT DISTINCT school_code, class_code FROM src_classes WHERE class_code IS NOT NULL
),
lop_grades AS (SELECT DISTINCT school_code, parse_grade(grade) AS grade FROM src_classes),
named AS (SELECT DISTINCT school_code, class_name FROM cmp_enrolled WHERE class_name IS NOT NULL),
grades AS (SELECT DISTINCT school_code, grade FROM cmp_enrolled WHERE grade IS NOT NULL),
any_lop AS (SELECT DISTINCT school_code FROM src_classes)
SELECT n.school_code, 'classes' AS domain, 'Lớp ' || n.class_name AS item_key, l.k IS NOT NULL AS ok,
       'Lớp có học sinh nhưng không có trong danh sách lớp (tệp lop)' AS gap
FROM named n LEFT JOIN lop_names l ON l.school_code = n.school_code AND l.k = n.class_name
UNION ALL
SELECT g.school_code, 'classes', 'Khối ' || g.grade, lg.grade IS NOT NULL,
       'Khối có học sinh nhưng chưa có lớp nào trong danh sách lớp (tệp lop)'
FROM grades g LEFT JOIN lop_grades lg ON lg.school_code = g.school_code AND lg.grade = g.grade
UNION ALL
SELECT s.school_code, 'classes', 'Danh sách lớp', a.school_code IS NOT NULL,
       'Chưa có danh sách lớp (tệp lop)'
FROM cmp_schools s LEFT JOIN any_lop a USING (school_code)
WHERE s.school_code NOT IN (SELECT school_code FROM named UNION SELECT school_code FROM grades);

-- ---- staff: each staff row has a known position and a qualification; required positions -----
CREATE OR REPLACE VIEW cmp_staff_items AS
WITH st AS (
    SELECT c.school_code, c.staff_id, c.position, c.qualification,
           coalesce(list_contains(p.positions, c.position), false) AS position_ok,
           c.qualification IS NOT NULL AS qualification_ok
    FROM src_staff c SEMI JOIN cmp_schools s ON s.school_code = c.school_code
    CROSS JOIN cfg_completeness_params p
    -- a staff id listed twice: its highest row, as in stg_staff (rows without an id each count)
    QUALIFY c.staff_id IS NULL
         OR row_number() OVER (PARTITION BY c.school_code, c.staff_id ORDER BY c._row DESC) = 1
),
req AS (SELECT unnest(required_positions) AS position FROM cfg_completeness_params)
SELECT school_code, 'staff' AS domain, 'Cán bộ ' || coalesce(staff_id, '?') AS item_key,
       position_ok AND qualification_ok AS ok,
       CASE WHEN NOT position_ok AND NOT qualification_ok THEN 'Cán bộ thiếu vị trí việc làm và trình độ (tệp can_bo)'
            WHEN NOT position_ok THEN 'Cán bộ thiếu hoặc sai vị trí việc làm: CBQL, Giáo viên hoặc Nhân viên (tệp can_bo)'
            ELSE 'Cán bộ thiếu trình độ (tệp can_bo, cột Trình độ)' END AS gap
FROM st
UNION ALL
SELECT s.school_code, 'staff', 'Vị trí ' || r.position,
       EXISTS (SELECT 1 FROM st WHERE st.school_code = s.school_code AND st.position = r.position),
       'Danh sách cán bộ chưa có ai ở vị trí «' || r.position || '» (tệp can_bo)'
FROM cmp_schools s CROSS JOIN req r;

-- ---- students: the personal-field rules of checks_10_students.sql over every enrolled student
-- Laid out as chk_student_base; the grade-12 age rule applies to grade-12 students only.
CREATE OR REPLACE VIEW cmp_student_base AS
SELECT st.student_id, st.school_code, st.grade,
       st.full_name, st.full_name_raw, st.full_name_legacy,
       st.birth_date, st.birth_date_valid, st.birth_date_raw,
       st.gender, st.ethnicity, st.permanent_address, st.id_number, st.personal_id,
       st.source_row, prm.school_year_start,
       coalesce(st.birth_date > (SELECT as_of_date FROM cmp_as_of), false) AS born_future,
       coalesce(st.grade = prm.population_grade
                AND st.birth_date > CAST(prm.school_year_start_date AS DATE)
                                    - to_years(CAST(prm.min_age_at_start AS INTEGER)), false) AS too_young,
       prm.min_age_at_start, prm.school_year_start_date
FROM cmp_enrolled st CROSS JOIN cfg_params prm;

-- A table, not a view: read twice below (items and gaps); at city scale it runs the field
-- rules over ~1.7 M students once.
CREATE OR REPLACE TABLE cmp_student_gaps AS
SELECT f.school_code, f.student_id, f.rule_id, f.field
FROM student_field_findings('cmp_student_base') f
CROSS JOIN cfg_completeness_params p
WHERE f.severity = 'error'
  AND NOT (f.rule_id = 'MISSING_FIELD' AND list_contains(p.optional_fields, f.field));

CREATE OR REPLACE VIEW cmp_student_items AS
SELECT e.school_code, 'students' AS domain, e.student_id AS item_key,
       NOT EXISTS (SELECT 1 FROM cmp_student_gaps g WHERE g.student_id = e.student_id
                   AND g.school_code = e.school_code) AS ok,
       CAST(NULL AS VARCHAR) AS gap
FROM cmp_enrolled e
UNION ALL
SELECT s.school_code, 'students', 'Danh sách học sinh', false,
       'Chưa có học sinh đang học trong danh sách học sinh (tệp hoc_sinh)'
FROM cmp_schools s ANTI JOIN cmp_enrolled e ON e.school_code = s.school_code;

-- ---- results and conduct: term summaries of the ended required terms -----------------------
-- Population students (grade 12, RULES.md "Population") x the (grade, term) required at their
-- institution whose term has ended at the as-of: a lower grade's terms (earlier school years)
-- are over; the population grade's term once the as-of date is after its end (term_ends).
CREATE OR REPLACE VIEW cmp_result_terms AS
SELECT p.student_id, p.school_code, rt.grade, rt.term
FROM stg_population p
JOIN stg_required_terms rt USING (school_code)
CROSS JOIN cfg_params prm
LEFT JOIN cfg_completeness_term_ends te ON te.term = rt.term
WHERE rt.grade <> prm.population_grade
   OR (SELECT as_of_date FROM cmp_as_of) > te.ended_on;

CREATE OR REPLACE VIEW cmp_result_items AS
WITH s AS (SELECT student_id, grade, term, overall_average_raw, academic_rank, conduct FROM stg_summaries_used)
SELECT t.school_code, d.domain, t.student_id || '|' || t.grade || '|' || t.term AS item_key,
       CASE d.domain WHEN 'results' THEN s.overall_average_raw IS NOT NULL AND s.academic_rank IS NOT NULL
                     ELSE s.conduct IS NOT NULL END AS ok,
       CASE WHEN s.student_id IS NULL THEN 'Thiếu tổng kết ' || ctx_vi(t.grade, t.term, NULL) || ' (tệp tong_ket)'
            WHEN d.domain = 'results' THEN 'Tổng kết ' || ctx_vi(t.grade, t.term, NULL) || ' thiếu điểm TB các môn hoặc học lực'
            ELSE 'Tổng kết ' || ctx_vi(t.grade, t.term, NULL) || ' thiếu hạnh kiểm' END AS gap
FROM cmp_result_terms t
CROSS JOIN (VALUES ('results'), ('conduct')) d(domain)
LEFT JOIN s ON s.student_id = t.student_id AND s.grade = t.grade AND s.term = t.term;

-- ---- facilities: rooms, each declared under exactly one level ------------------------------
CREATE OR REPLACE VIEW cmp_room_items AS
WITH r AS (
    SELECT r.school_code, r.room_code,
           count(DISTINCT r.level) FILTER (WHERE r.level IS NOT NULL AND r.level <> '') AS n_levels
    FROM stg_rooms r SEMI JOIN cmp_schools s ON s.school_code = r.school_code
    WHERE r.room_code IS NOT NULL
    GROUP BY r.school_code, r.room_code
)
SELECT school_code, 'facilities' AS domain, 'Phòng ' || room_code AS item_key, n_levels = 1 AS ok,
       CASE WHEN n_levels = 0 THEN 'Phòng chưa khai cấp học (tệp phong_hoc, cột Cấp học)'
            ELSE 'Phòng khai ở nhiều cấp học: mỗi phòng chỉ một cấp (tệp phong_hoc)' END AS gap
FROM r
UNION ALL
SELECT s.school_code, 'facilities', 'Danh sách phòng', false, 'Chưa có danh sách phòng (tệp phong_hoc)'
FROM cmp_schools s ANTI JOIN r ON r.school_code = s.school_code;

-- A table: read by the gaps and the measures (~3 M items at city scale, computed once).
CREATE OR REPLACE TABLE cmp_items AS
SELECT school_code, domain, item_key, ok, gap FROM cmp_institution_items
UNION ALL SELECT school_code, domain, item_key, ok, gap FROM cmp_class_items
UNION ALL SELECT school_code, domain, item_key, ok, gap FROM cmp_staff_items
UNION ALL SELECT school_code, domain, item_key, ok, gap FROM cmp_student_items
UNION ALL SELECT school_code, domain, item_key, ok, gap FROM cmp_result_items
UNION ALL SELECT school_code, domain, item_key, ok, gap FROM cmp_room_items;

-- What is missing, one row per (institution, domain, gap): how many items and up to five of
-- them (record keys as in findings: student ids, class names, staff and room codes; never a
-- personal value). A student's gaps are its failed rules (the rule's title; MISSING_FIELD with
-- the field).
CREATE OR REPLACE VIEW completeness_gaps AS
WITH g AS (
    SELECT school_code, domain, gap, item_key FROM cmp_items WHERE NOT ok AND gap IS NOT NULL
    UNION ALL
    SELECT g.school_code, 'students',
           coalesce(c.title_vi, g.rule_id)
           || CASE WHEN g.rule_id = 'MISSING_FIELD' THEN ': ' || CASE g.field
                   WHEN 'full_name' THEN 'Họ và tên' WHEN 'birth_date' THEN 'Ngày sinh'
                   WHEN 'gender' THEN 'Giới tính' WHEN 'ethnicity' THEN 'Dân tộc'
                   WHEN 'permanent_address' THEN 'Nơi thường trú' ELSE 'Số CMND/CCCD' END ELSE '' END,
           g.student_id
    FROM cmp_student_gaps g
    LEFT JOIN ref_rule_catalog c ON c.rule_id = g.rule_id AND c.entity = 'student'
)
SELECT school_code, domain, gap, count(DISTINCT item_key) AS n,
       array_to_string(list_slice(list(DISTINCT item_key ORDER BY item_key), 1, 5), ', ') AS examples
FROM g GROUP BY school_code, domain, gap;

-- One row per institution x domain, plus domain 'index': items, items_ok, percent_t (tenths of a
-- percent, NULL when not measured) and availability: measured | not_applicable (results and
-- conduct of an institution without a grade-12 population or an ended term) | no_source
-- (programme: the extract has no data for it; classes, staff, facilities, results, conduct: this
-- snapshot's extract had no lop, can_bo, phong_hoc, tong_ket file, src_files; outside review of
-- issue 15). index =
-- round1 of the mean of the measured domains' percents (in tenths), over domains_measured of them.
-- A file present without rows of an institution is measured: 0 % (it entered nothing).
CREATE OR REPLACE VIEW cmp_domain_files AS
SELECT * FROM (VALUES ('classes', 'classes'), ('staff', 'staff'), ('facilities', 'rooms'),
                      ('results', 'term_summaries'), ('conduct', 'term_summaries')) t(domain, table_name);

CREATE OR REPLACE VIEW completeness_snapshot AS
WITH src AS (
    SELECT d.domain,
           d.has_source AND coalesce((SELECT bool_and(f.present) FROM src_files f
                                      JOIN cmp_domain_files df ON df.table_name = f.table_name
                                      WHERE df.domain = d.domain), TRUE) AS has_source
    FROM cfg_completeness_domains d
),
m AS (
    SELECT s.school_code, d.domain, d.sort_order, src.has_source,
           count(i.item_key) AS items, count(i.item_key) FILTER (WHERE i.ok) AS items_ok
    FROM cmp_schools s CROSS JOIN cfg_completeness_domains d
    JOIN src USING (domain)
    LEFT JOIN cmp_items i ON i.school_code = s.school_code AND i.domain = d.domain
    GROUP BY ALL
),
p AS (
    SELECT school_code, domain, sort_order, items, items_ok,
           CASE WHEN has_source AND items > 0 THEN CAST(round1_div(1000 * items_ok, items) AS INTEGER) END AS percent_t,
           CASE WHEN NOT has_source THEN 'no_source' WHEN items = 0 THEN 'not_applicable'
                ELSE 'measured' END AS availability
    FROM m
)
SELECT school_code, domain, sort_order, items, items_ok, percent_t, availability,
       CAST(NULL AS INTEGER) AS domains_measured FROM p
UNION ALL
SELECT school_code, 'index', 99, NULL, NULL,
       CAST(round1_div(sum(percent_t), count(percent_t)) AS INTEGER), 'measured', count(percent_t)
FROM p GROUP BY school_code;
