-- Subject scores and term summaries of the population, typed and deduplicated.
-- Only rows of a population student for a (grade, term) required at the student's institution
-- are kept (grade: integer text, '11' or '011'; term exactly HK1, HK2 or CN).
-- When a student has several rows for the same (grade, term, subject) - several school years -
-- the latest school year is used, then the highest spreadsheet row. Rows of subjects outside the
-- programme are kept as they are: they only show that the (grade, term) has data.
-- Internal integer keys (for fast grouping): k_student (per population student), term_code
-- (HK1 1, HK2 2, CN 3), sid (subject number within the programme).

-- Population students numbered 1..n (stable within one snapshot: ordered by student_id).
CREATE OR REPLACE VIEW stg_population_keys AS
SELECT student_id, school_code, programme_id,
       CAST(row_number() OVER (ORDER BY student_id) AS BIGINT) AS k_student
FROM stg_population;

CREATE OR REPLACE VIEW stg_programme_subjects AS
SELECT programme_id, subject, assessed, is_key,
       CAST(row_number() OVER (PARTITION BY programme_id ORDER BY subject) AS INTEGER) AS sid
FROM cfg_programme_subjects;

CREATE OR REPLACE VIEW stg_required_term_keys AS
SELECT school_code, grade, CAST(grade AS VARCHAR) AS grade_txt, term,
       CASE term WHEN 'HK1' THEN 1 WHEN 'HK2' THEN 2 WHEN 'CN' THEN 3 ELSE 0 END AS term_code
FROM stg_required_terms;

-- Population student x required (grade, term) of the student's institution, with the keys
-- (unique on k_student, grade, term_code).
CREATE OR REPLACE VIEW stg_population_term_keys AS
SELECT p.k_student, p.student_id, p.school_code, p.programme_id, rt.grade, rt.grade_txt, rt.term,
       rt.term_code
FROM stg_population_keys p JOIN stg_required_term_keys rt USING (school_code);

-- Score rows, narrow and deduplicated (integer keys; what the checks read).
-- Score text: '8', '8.5' or '8,5'. score_num: the number (DOUBLE) when the text is numeric;
-- score_precision_ok: numeric with at most one decimal (trailing zeros ignored: '8.50' is fine);
-- score_valid: numeric, precision ok and 0..10; score_t: the score in integer tenths when valid.
-- (One join on student, grade text and term: all three conditions in one hash join, so the
-- optimizer cannot join on the student alone and multiply the rows by the number of terms.)
CREATE OR REPLACE VIEW stg_score_rows AS
WITH raw AS MATERIALIZED (
    SELECT pt.k_student, pt.grade, pt.term_code, ps.sid, ps.assessed,
           coalesce(ps.is_key, false) AS is_key, s.school_year, s.score, s.rating, s._row
    FROM src_subject_scores s
    JOIN stg_population_term_keys pt
        ON pt.student_id = s.student_id AND pt.grade_txt = ltrim(s.grade, '0') AND pt.term = s.term
    LEFT JOIN stg_programme_subjects ps ON ps.programme_id = pt.programme_id AND ps.subject = s.subject
),
-- (student, grade, term) groups where a programme subject has more than one row
dup AS (
    SELECT k_student, grade, term_code FROM raw
    WHERE sid IS NOT NULL
    GROUP BY k_student, grade, term_code
    HAVING count(*) <> bit_count(bit_or(CAST(1 AS BIGINT) << sid))
),
kept AS (
    SELECT raw.* FROM raw ANTI JOIN dup USING (k_student, grade, term_code)
    UNION ALL
    SELECT raw.* FROM raw SEMI JOIN dup USING (k_student, grade, term_code)
    QUALIFY sid IS NULL
         OR row_number() OVER (PARTITION BY k_student, grade, term_code, sid
                               ORDER BY school_year DESC NULLS LAST, _row DESC) = 1
),
-- each distinct score text parsed once
vals AS (
    SELECT score, is_num, precision_ok, num,
           CAST(CASE WHEN is_num THEN num END AS DOUBLE) AS score_num,
           coalesce(is_num AND precision_ok, false) AS score_precision_ok,
           coalesce(is_num AND precision_ok AND num <= 10, false) AS score_valid,
           CASE WHEN is_num AND precision_ok AND num <= 10 THEN CAST(num * 10 AS INTEGER) END AS score_t
    FROM (SELECT score,
                 regexp_full_match(score, '\d+([.,]\d+)?') AS is_num,
                 regexp_full_match(score, '\d+([.,]\d?0*)?') AS precision_ok,
                 try_cast(replace(score, ',', '.') AS DECIMAL(38, 10)) AS num
          FROM (SELECT DISTINCT score FROM raw WHERE score IS NOT NULL))
)
SELECT r.k_student, r.grade, r.term_code, r.sid, r.assessed, r.is_key, r.school_year,
       r.score AS score_raw, v.score_num,
       coalesce(v.score_precision_ok, false) AS score_precision_ok,
       coalesce(v.score_valid, false) AS score_valid, v.score_t,
       r.rating,
       coalesce(r.rating IN ('Đ', 'CĐ'), false) AS rating_valid,
       r._row AS source_row
FROM kept r LEFT JOIN vals v ON v.score = r.score;

-- The same rows with their names (student_id, school_code, term, subject); rows of subjects
-- outside the programme have subject NULL here.
CREATE OR REPLACE VIEW stg_scores AS
SELECT p.student_id, r.k_student, p.school_code, p.programme_id, r.school_year, r.grade,
       CASE r.term_code WHEN 1 THEN 'HK1' WHEN 2 THEN 'HK2' WHEN 3 THEN 'CN' END AS term, r.term_code,
       ps.subject, r.sid, r.assessed, r.is_key, r.score_raw, r.score_num, r.score_precision_ok,
       r.score_valid, r.score_t, r.rating, r.rating_valid, r.source_row
FROM stg_score_rows r
JOIN stg_population_keys p USING (k_student)
LEFT JOIN stg_programme_subjects ps ON ps.programme_id = p.programme_id AND ps.sid = r.sid;

-- Term summaries, same selection; deduplicated per (student, grade, term).
-- overall_average_num: the number when the text is numeric ('7.8', '7,8'), else NULL.
CREATE OR REPLACE VIEW stg_summaries AS
SELECT s.student_id, pt.k_student, pt.school_code, pt.programme_id, s.school_year,
       pt.grade, pt.term, pt.term_code,
       s.overall_average AS overall_average_raw,
       CASE WHEN regexp_full_match(s.overall_average, '\d+([.,]\d+)?')
            THEN try_cast(replace(s.overall_average, ',', '.') AS DECIMAL(38, 10)) END AS overall_average_num,
       s.academic_rank, s.conduct,
       s._row AS source_row
FROM src_term_summaries s
JOIN stg_population_term_keys pt
    ON pt.student_id = s.student_id AND pt.grade_txt = ltrim(s.grade, '0') AND pt.term = s.term
QUALIFY row_number() OVER (PARTITION BY pt.k_student * 1024 + pt.grade * 4 + pt.term_code
                           ORDER BY s.school_year DESC NULLS LAST, s._row DESC) = 1;
