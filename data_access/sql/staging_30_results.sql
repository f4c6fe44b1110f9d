-- Subject scores and term summaries of the population, typed and deduplicated.
-- Only rows of a population student for a (grade, term) required at the student's institution
-- are kept. When a student has several school years for the same (grade, term, subject), the
-- latest school year is used (then the highest spreadsheet row).
-- term: upper-cased, spaces removed ('hk 1' -> 'HK1'); grade: integer text.
-- Score text: '8', '8.5' or '8,5'. score_num: the number (DECIMAL) when the text is numeric;
-- score_precision_ok: at most one decimal (trailing zeros ignored: '8.50' is fine);
-- score_valid: numeric, precision ok and 0..10; score_t: the score in integer tenths when valid.
CREATE OR REPLACE VIEW stg_scores AS
WITH raw AS (
    SELECT s.student_id, p.school_code, p.programme_id, s.school_year,
           try_cast(s.grade AS INTEGER) AS grade,
           upper(replace(s.term, ' ', '')) AS term,
           s.subject, s.score, s.rating, s._row
    FROM src_subject_scores s
    JOIN stg_population p ON p.student_id = s.student_id
    WHERE regexp_full_match(s.grade, '\d{1,4}')
), req AS (
    SELECT raw.* FROM raw
    SEMI JOIN stg_required_terms rt
        ON rt.school_code = raw.school_code AND rt.grade = raw.grade AND rt.term = raw.term
), dedup AS (
    SELECT * FROM req
    QUALIFY row_number() OVER (PARTITION BY student_id, grade, term, subject
                               ORDER BY school_year DESC NULLS LAST, _row DESC) = 1
), parsed AS (
    SELECT d.*, ps.assessed, coalesce(ps.is_key, false) AS is_key,
           CASE WHEN regexp_full_match(d.score, '\d+([.,]\d+)?')
                THEN try_cast(replace(d.score, ',', '.') AS DECIMAL(38, 10)) END AS score_num,
           regexp_full_match(d.score, '\d+([.,]\d?0*)?') AS score_precision_ok
    FROM dedup d
    LEFT JOIN cfg_programme_subjects ps ON ps.programme_id = d.programme_id AND ps.subject = d.subject
)
SELECT student_id, school_code, programme_id, school_year, grade, term, subject,
       assessed, is_key,
       score AS score_raw, score_num,
       coalesce(score_precision_ok, false) AS score_precision_ok,
       coalesce(score_num IS NOT NULL AND score_precision_ok AND score_num BETWEEN 0 AND 10, false)
           AS score_valid,
       CASE WHEN score_num IS NOT NULL AND score_precision_ok AND score_num BETWEEN 0 AND 10
            THEN CAST(score_num * 10 AS INTEGER) END AS score_t,
       rating,
       coalesce(rating IN ('Đ', 'CĐ'), false) AS rating_valid,
       _row AS source_row
FROM parsed;

-- Term summaries, same selection and deduplication per (student, grade, term).
-- overall_average_num: the number when numeric (DECIMAL), else NULL.
CREATE OR REPLACE VIEW stg_summaries AS
WITH raw AS (
    SELECT s.student_id, p.school_code, p.programme_id, s.school_year,
           try_cast(s.grade AS INTEGER) AS grade,
           upper(replace(s.term, ' ', '')) AS term,
           s.overall_average, s.academic_rank, s.conduct, s._row
    FROM src_term_summaries s
    JOIN stg_population p ON p.student_id = s.student_id
    WHERE regexp_full_match(s.grade, '\d{1,4}')
), req AS (
    SELECT raw.* FROM raw
    SEMI JOIN stg_required_terms rt
        ON rt.school_code = raw.school_code AND rt.grade = raw.grade AND rt.term = raw.term
)
SELECT student_id, school_code, programme_id, school_year, grade, term,
       overall_average AS overall_average_raw,
       CASE WHEN regexp_full_match(overall_average, '\d+([.,]\d+)?')
            THEN try_cast(replace(overall_average, ',', '.') AS DECIMAL(38, 10)) END AS overall_average_num,
       academic_rank, conduct,
       _row AS source_row
FROM req
QUALIFY row_number() OVER (PARTITION BY student_id, grade, term
                           ORDER BY school_year DESC NULLS LAST, _row DESC) = 1;
