-- Students, typed. birth_date: dd/mm/yyyy, d/m/yyyy or yyyy-mm-dd, optionally followed by a time;
-- anything else or an impossible date (31/02/2004) gives birth_date NULL, birth_date_valid false.
CREATE OR REPLACE VIEW stg_students AS
WITH p AS (
    SELECT *,
           regexp_extract(birth_date,
               '^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$',
               ['d', 'm', 'y']) AS dmy,
           regexp_extract(birth_date,
               '^(\d{4})-(\d{2})-(\d{2})(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$',
               ['y', 'm', 'd']) AS ymd
    FROM src_students
), d AS (
    SELECT *,
           CASE WHEN dmy.y <> '' THEN dmy.y || '-' || lpad(dmy.m, 2, '0') || '-' || lpad(dmy.d, 2, '0')
                WHEN ymd.y <> '' THEN ymd.y || '-' || ymd.m || '-' || ymd.d END AS iso_date
    FROM p
)
SELECT d.student_id, d.school_code,
       d.grade AS grade_raw,
       CASE WHEN regexp_full_match(d.grade, '\d{1,4}') THEN CAST(d.grade AS INTEGER) END AS grade,
       d.class_name, d.full_name, d.full_name_raw, d.full_name_legacy,
       d.birth_date AS birth_date_raw,
       CASE WHEN left(d.iso_date, 4) <> '0000' THEN try_cast(d.iso_date AS DATE) END AS birth_date,
       (CASE WHEN left(d.iso_date, 4) <> '0000' THEN try_cast(d.iso_date AS DATE) END) IS NOT NULL
           AS birth_date_valid,
       d.gender, d.ethnicity, d.id_number, d.personal_id, d.permanent_address, d.status,
       (sch.school_code IS NOT NULL) AS school_known,
       d._row AS source_row
FROM d LEFT JOIN src_schools sch ON sch.school_code = d.school_code;

-- Institutions to which a grade-12 requirement (student_info / student_results) applies.
CREATE OR REPLACE VIEW stg_population_schools AS
SELECT DISTINCT school_code FROM stg_school_requirements
WHERE kind IN ('student_info', 'student_results');

-- The population of the grade-12 requirements: one row per student.
CREATE OR REPLACE VIEW stg_population AS
SELECT st.student_id, st.school_code, sc.district_code, sc.level_group, sc.programme_id,
       st.grade, st.class_name, st.source_row
FROM stg_students st
JOIN cfg_params prm ON st.status = prm.population_status AND st.grade = prm.population_grade
JOIN stg_population_schools ps ON ps.school_code = st.school_code
JOIN stg_schools sc ON sc.school_code = st.school_code;

-- Population student x required (grade, term) of the student's institution.
CREATE OR REPLACE VIEW stg_population_terms AS
SELECT p.student_id, p.school_code, p.programme_id, rt.grade, rt.term
FROM stg_population p JOIN stg_required_terms rt USING (school_code);
