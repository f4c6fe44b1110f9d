-- Students, typed (all students of the snapshot). birth_date: see parse_vn_date; an impossible
-- date (31/02/2004) or another form gives birth_date NULL and birth_date_valid false.
CREATE OR REPLACE VIEW stg_students AS
SELECT st.student_id, st.school_code,
       st.grade AS grade_raw, parse_int(st.grade) AS grade,
       st.class_name, st.full_name, st.full_name_raw, st.full_name_legacy,
       st.birth_date AS birth_date_raw,
       parse_vn_date(st.birth_date) AS birth_date,
       parse_vn_date(st.birth_date) IS NOT NULL AS birth_date_valid,
       st.gender, st.ethnicity, st.id_number, st.personal_id, st.permanent_address, st.status,
       (sch.school_code IS NOT NULL) AS school_known,
       st._row AS source_row
FROM src_students st LEFT JOIN src_schools sch ON sch.school_code = st.school_code;

-- Institutions to which a grade-12 requirement (student_info / student_results) applies.
CREATE OR REPLACE VIEW stg_population_schools AS
SELECT DISTINCT school_code FROM stg_school_requirements
WHERE kind IN ('student_info', 'student_results');

-- Students with the status and grade of [population], at any school code (known or not): the
-- population below, and the SCHOOL_UNKNOWN check (checks_10_students.sql) for the others.
-- The grade test `ltrim(grade, '0') = '12'` is parse_int(grade) = 12 without parsing every row.
CREATE OR REPLACE VIEW stg_population_candidates AS
SELECT st.student_id, st.school_code, st.grade AS grade_raw,
       CAST(prm.population_grade AS INTEGER) AS grade, st.class_name, st._row AS source_row
FROM src_students st
JOIN cfg_params prm
    ON st.status = prm.population_status
   AND ltrim(st.grade, '0') = CAST(prm.population_grade AS VARCHAR)
   AND regexp_full_match(st.grade, '\d{1,9}');

-- The population of the grade-12 requirements: one row per student (status and grade of
-- [population], at an institution to which such a requirement applies).
CREATE OR REPLACE VIEW stg_population AS
SELECT st.student_id, st.school_code, sc.district_code, sc.level_group, sc.programme_id,
       st.grade, st.class_name, st.source_row
FROM stg_population_candidates st
JOIN stg_population_schools ps ON ps.school_code = st.school_code
JOIN stg_schools sc ON sc.school_code = st.school_code;

-- Population student x required (grade, term) of the student's institution.
CREATE OR REPLACE VIEW stg_population_terms AS
SELECT p.student_id, p.school_code, p.programme_id, rt.grade, rt.term
FROM stg_population p JOIN stg_required_terms rt USING (school_code);
