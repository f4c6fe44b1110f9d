-- Subject scores and term summaries of the population, typed and deduplicated.
-- Only rows of a population student for a (grade, term) required at the student's institution
-- are kept (grade: integer text, '11' or '011'; term exactly HK1, HK2 or CN).
-- When a student has several rows for the same (grade, term, subject) - several school years -
-- the latest school year is used, then the highest spreadsheet row. Rows of subjects outside the
-- programme are kept as they are: they only show that the (grade, term) has data.
-- Internal integer keys (for fast grouping): k_student (per population student), term_code
-- (HK1 1, HK2 2, CN 3), sid (subject number within the programme), sy (school year, numbered in
-- text order so that max(sy) is the latest school year).

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
-- (unique on k_student, grade, term_code; gkey packs the three in one integer, grade < 256).
CREATE OR REPLACE VIEW stg_population_term_keys AS
SELECT p.k_student, p.student_id, p.school_code, p.programme_id, rt.grade, rt.grade_txt, rt.term,
       rt.term_code, (p.k_student * 256 + rt.grade) * 4 + rt.term_code AS gkey
FROM stg_population_keys p JOIN stg_required_term_keys rt USING (school_code);

-- Every (grade, term) required somewhere, numbered 0..n-1: its bit in the term masks below.
CREATE OR REPLACE VIEW stg_term_bits AS
SELECT grade, grade_txt, term, term_code,
       grade = (SELECT population_grade FROM cfg_params) AS current_grade,
       CASE WHEN n < 63 THEN n
            ELSE error('at most 63 required (grade, term) pairs are supported') END AS bit
FROM (SELECT *, CAST(row_number() OVER (ORDER BY grade, term) - 1 AS INTEGER) AS n
      FROM (SELECT DISTINCT grade, grade_txt, term, term_code FROM stg_required_term_keys));

-- Population students with the mask of the (grade, term) required at their institution.
-- (A row of the results tables is selected by two small hash joins, on its student and on its
-- (grade text, term), and a bit test, rather than by one join on all three keys against the
-- population x required terms: that build side is ten times larger.)
CREATE OR REPLACE VIEW stg_population_term_masks AS
SELECT p.k_student, p.student_id, p.school_code, p.programme_id, m.term_mask
FROM stg_population_keys p
JOIN (SELECT rt.school_code, bit_or(CAST(1 AS BIGINT) << b.bit) AS term_mask
      FROM stg_required_term_keys rt JOIN stg_term_bits b USING (grade, term)
      GROUP BY rt.school_code) m USING (school_code);

-- Each distinct score text of the results, parsed once. Score text: '8', '8.5' or '8,5'.
-- score_num: the number when the text is numeric; score_t: the score in integer tenths when
-- valid (numeric, at most one decimal - trailing zeros ignored: '8.50' is fine - and 0..10);
-- score_err: 0 when valid, else bit 1 = not a number 0..10 (SCORE_OUT_OF_RANGE), bit 2 = more
-- than one decimal (SCORE_PRECISION).
CREATE OR REPLACE VIEW stg_score_values AS
SELECT score,
       CASE WHEN is_num AND precision_ok AND num <= 10 THEN CAST(num * 10 AS SMALLINT) END AS score_t,
       CAST(CASE WHEN is_num AND num <= 10 THEN 0 ELSE 1 END
            + CASE WHEN is_num AND num IS NOT NULL AND NOT precision_ok THEN 2 ELSE 0 END AS TINYINT) AS score_err
FROM (SELECT score,
             regexp_full_match(score, '\d+([.,]\d+)?') AS is_num,
             regexp_full_match(score, '\d+([.,]\d?0*)?') AS precision_ok,
             try_cast(replace(score, ',', '.') AS DECIMAL(38, 10)) AS num
      FROM (SELECT DISTINCT score FROM src_subject_scores WHERE score IS NOT NULL));

-- Which school year a results row may come from (RULES.md "Results"): a row of the population's
-- grade (12) counts only when its year is the campaign's results year (cfg_params.results_year,
-- 2021-2022 from [cohort_years]); a row of a lower grade only when its year is earlier, and then
-- only the year chosen for the student and grade as a whole (stg_grade_years). A year is read
-- with its separator ('2021–2022', '2021 - 2022', '2021/2022' are 2021-2022: canon_year). A
-- year not of the form 'yyyy-yyyy' (second = first + 1), empty, or later than the results year
-- is SCHOOL_YEAR_INVALID on its row; the row is not used.
-- One row per distinct year text of either results table ('' stands for an empty cell).
-- sy: the year's first calendar year (an integer: max(sy) is the latest year; sy_text(sy) its
-- text 'yyyy-yyyy'), NULL when not well formed.
CREATE OR REPLACE VIEW stg_result_years AS
SELECT y.school_year, y.year_key, y.well_formed,
       y.well_formed AND y.year_key = p.results_year AS is_current,
       y.well_formed AND y.year_key < p.results_year AS is_earlier,
       NOT y.well_formed OR y.year_key > p.results_year AS is_invalid,
       CASE WHEN y.well_formed THEN TRY_CAST(substr(y.year_key, 1, 4) AS INTEGER) END AS sy
FROM (SELECT school_year, year_key,
             -- TRY_CAST, not CAST: DuckDB does not short-circuit AND, so '' or '21-22' reached
             -- the cast and failed the whole evaluation (outside review of issue 12)
             coalesce(regexp_full_match(year_key, '\d{4}-\d{4}')
                      AND TRY_CAST(substr(year_key, 6, 4) AS INTEGER)
                          = TRY_CAST(substr(year_key, 1, 4) AS INTEGER) + 1, false)
             AS well_formed
      FROM (SELECT school_year, canon_year(school_year) AS year_key
            FROM (SELECT DISTINCT coalesce(school_year, '') AS school_year FROM src_subject_scores
                  UNION SELECT DISTINCT coalesce(school_year, '') FROM src_term_summaries))) y
CROSS JOIN cfg_params p;

-- 'yyyy-yyyy' of a school year's first calendar year (stg_result_years.sy).
CREATE OR REPLACE MACRO sy_text(sy) AS CAST(sy AS VARCHAR) || '-' || CAST(sy + 1 AS VARCHAR);

-- Grade and term texts of the results tables as read (parse_grade: '12', '012', 'Khối 12',
-- 'Lớp 12', 'K12'; parse_term: 'HK 2', 'HKII', 'Học kỳ 2', 'Cả năm' ...), one row per distinct
-- text; grade / term NULL when it cannot be read (GRADE_INVALID / TERM_INVALID, warnings).
CREATE OR REPLACE VIEW stg_result_grade_texts AS
SELECT grade_raw, parse_grade(grade_raw) AS grade
FROM (SELECT DISTINCT grade AS grade_raw FROM src_subject_scores WHERE grade IS NOT NULL
      UNION SELECT DISTINCT grade FROM src_term_summaries WHERE grade IS NOT NULL);

CREATE OR REPLACE VIEW stg_result_term_texts AS
SELECT term_raw, parse_term(term_raw) AS term
FROM (SELECT DISTINCT term AS term_raw FROM src_subject_scores WHERE term IS NOT NULL
      UNION SELECT DISTINCT term FROM src_term_summaries WHERE term IS NOT NULL);

-- (grade text, term text) pairs that name a required (grade, term), with its keys: a results
-- row is placed by one small hash join on its two texts (a table when computing a snapshot).
CREATE OR REPLACE VIEW stg_result_gt AS
SELECT g.grade_raw, t.term_raw, b.grade, b.grade_txt, b.term, b.term_code, b.bit, b.current_grade
FROM stg_result_grade_texts g
JOIN stg_term_bits b ON b.grade = g.grade
JOIN stg_result_term_texts t ON t.term = b.term;

-- Score rows of the population's required (grade, term), narrow (small integers only: what
-- the checks read; materialised once per snapshot computation, see engine.MATERIALIZED_STAGING).
-- NOT deduplicated: checks_30_results.sql removes the duplicates (rare) itself.
--   kind: 1 scored subject, 2 rated subject, NULL for a subject outside the programme (sid NULL)
--   score_t, score_err: see stg_score_values; score_err NULL when the score is empty
--   rating_code: NULL empty, 1 'Đ'/'Đạt', 2 'CĐ'/'Chưa đạt', 3 'Miễn' (exempt), 0 anything else
CREATE OR REPLACE VIEW stg_score_rows AS
SELECT CAST(pk.k_student AS INTEGER) AS k_student, CAST(b.grade AS SMALLINT) AS grade,
       CAST(b.term_code AS TINYINT) AS term_code,
       CAST(ps.sid AS TINYINT) AS sid,
       CAST(CASE ps.assessed WHEN 'score' THEN 1 WHEN 'rating' THEN 2 END AS TINYINT) AS kind,
       coalesce(ps.is_key, false) AS is_key,
       y.sy, v.score_t,
       v.score_err,
       CAST(CASE WHEN s.rating IS NULL THEN NULL WHEN s.rating IN ('Đ', 'Đạt') THEN 1
                 WHEN s.rating IN ('CĐ', 'Chưa đạt') THEN 2 WHEN s.rating = 'Miễn' THEN 3
                 ELSE 0 END AS TINYINT) AS rating_code,
       s._row AS source_row,
       -- false: a well-formed year that is not this grade's (a grade-12 row of an earlier year,
       -- a grade-10/11 row of the results year): kept only for RESULTS_YEAR_NOT_USED
       CASE WHEN b.current_grade THEN y.is_current ELSE y.is_earlier END AS used
FROM src_subject_scores s
JOIN stg_result_gt b ON b.grade_raw = s.grade AND b.term_raw = s.term
JOIN stg_population_term_masks pk ON pk.student_id = s.student_id
LEFT JOIN stg_programme_subjects ps ON ps.programme_id = pk.programme_id AND ps.subject = s.subject
-- (an empty, malformed or later year is never used: inner join on the well-formed years up to
-- the results year drops those rows; they are SCHOOL_YEAR_INVALID)
JOIN stg_result_years y
  ON y.school_year = s.school_year AND y.well_formed AND NOT y.is_invalid
LEFT JOIN stg_score_values v ON v.score = s.score
WHERE (pk.term_mask >> b.bit) & 1 = 1;

-- Term summaries, same selection (used years only); deduplicated per (student, grade, term)
-- where a student has several rows for one (the window runs over those groups only).
-- school_year: as read (canon_year); overall_average_num: the number when the text is numeric
-- ('7.8', '7,8'), else NULL.
CREATE OR REPLACE VIEW stg_summaries AS
WITH s AS MATERIALIZED (
    SELECT s.student_id, pk.k_student, pk.school_code, pk.programme_id, ry.year_key AS school_year,
           ry.sy, b.grade, b.term, b.term_code, (pk.k_student * 256 + b.grade) * 4 + b.term_code AS gkey,
           s.overall_average AS overall_average_raw,
           CASE WHEN regexp_full_match(s.overall_average, '\d+([.,]\d+)?')
                THEN try_cast(replace(s.overall_average, ',', '.') AS DECIMAL(38, 10)) END AS overall_average_num,
           s.academic_rank, s.conduct,
           s._row AS source_row
    FROM src_term_summaries s
    JOIN stg_result_gt b ON b.grade_raw = s.grade AND b.term_raw = s.term
    JOIN stg_population_term_masks pk ON pk.student_id = s.student_id
    JOIN stg_result_years ry
      ON ry.school_year = coalesce(s.school_year, '')
     AND CASE WHEN b.current_grade THEN ry.is_current ELSE ry.is_earlier END
    WHERE (pk.term_mask >> b.bit) & 1 = 1
),
dup AS (
    SELECT gkey FROM s GROUP BY gkey HAVING count(*) > 1
)
SELECT * FROM s ANTI JOIN dup USING (gkey)
UNION ALL
SELECT * FROM s SEMI JOIN dup USING (gkey)
QUALIFY row_number() OVER (PARTITION BY gkey ORDER BY sy DESC NULLS LAST, source_row DESC) = 1;

-- The school year used for a lower grade, per student and grade AS A WHOLE (RULES.md "Results";
-- outside review of issue 12, finding 2): the latest earlier year with any used results row of
-- that grade (a score of any subject or a summary). Only the (student, grade) with rows of more
-- than one year are listed (repeaters, typos: few); the others have one year, used as it is.
-- A table when computing a snapshot (engine.MATERIALIZED_STAGING).
CREATE OR REPLACE VIEW stg_grade_years AS
SELECT k_student, grade, max(hi) AS sy
FROM (SELECT k_student, grade, min(sy) AS lo, max(sy) AS hi FROM stg_score_rows
      WHERE used AND grade <> (SELECT population_grade FROM cfg_params) GROUP BY k_student, grade
      UNION ALL
      SELECT k_student, grade, min(sy), max(sy) FROM stg_summaries
      WHERE grade <> (SELECT population_grade FROM cfg_params) GROUP BY k_student, grade)
GROUP BY k_student, grade
HAVING min(lo) <> max(hi);

-- The term summaries that count: of the year used for their grade (what the checks and the
-- completeness index read).
CREATE OR REPLACE VIEW stg_summaries_used AS
SELECT s.* FROM stg_summaries s
LEFT JOIN stg_grade_years m ON m.k_student = s.k_student AND m.grade = s.grade
WHERE m.sy IS NULL OR s.sy = m.sy;

-- Term summaries of a well-formed year that is not their grade's (a grade-12 summary of an
-- earlier year, a grade-10/11 summary of the results year): RESULTS_YEAR_NOT_USED only.
CREATE OR REPLACE VIEW stg_summaries_wrong_year AS
SELECT pk.k_student, b.grade, b.term_code, ry.sy, s._row AS source_row
FROM src_term_summaries s
JOIN stg_result_gt b ON b.grade_raw = s.grade AND b.term_raw = s.term
JOIN stg_population_term_masks pk ON pk.student_id = s.student_id
JOIN stg_result_years ry
  ON ry.school_year = s.school_year AND ry.well_formed AND NOT ry.is_invalid
 AND NOT CASE WHEN b.current_grade THEN ry.is_current ELSE ry.is_earlier END
WHERE (pk.term_mask >> b.bit) & 1 = 1;

-- Results rows of the population's required (grade, term) whose school year is malformed, empty
-- or later than the results year (SCHOOL_YEAR_INVALID). Only the few distinct bad year texts
-- are joined against, so the large tables are probed, not regrouped.
CREATE OR REPLACE VIEW stg_year_invalid_rows AS
WITH bad AS (SELECT school_year FROM stg_result_years WHERE is_invalid)
SELECT 'score' AS entity, s.student_id, pk.school_code, b.grade, b.term, s.school_year, s.subject,
       s._row AS source_row
FROM src_subject_scores s
JOIN bad ON bad.school_year = coalesce(s.school_year, '')
JOIN stg_result_gt b ON b.grade_raw = s.grade AND b.term_raw = s.term
JOIN stg_population_term_masks pk ON pk.student_id = s.student_id
WHERE (pk.term_mask >> b.bit) & 1 = 1
UNION ALL
SELECT 'term_summary', s.student_id, pk.school_code, b.grade, b.term, s.school_year, NULL, s._row
FROM src_term_summaries s
JOIN bad ON bad.school_year = coalesce(s.school_year, '')
JOIN stg_result_gt b ON b.grade_raw = s.grade AND b.term_raw = s.term
JOIN stg_population_term_masks pk ON pk.student_id = s.student_id
WHERE (pk.term_mask >> b.bit) & 1 = 1;

-- Results rows of a population student (at an institution with a results requirement) whose
-- grade cannot be read, or whose term cannot be read while its grade is a required one or
-- unreadable (GRADE_INVALID / TERM_INVALID, warnings; rev12b finding 14): such a row is not
-- used and must not vanish silently. Only the few distinct unreadable texts are joined against.
CREATE OR REPLACE VIEW stg_results_unreadable_rows AS
WITH bad_g AS (SELECT grade_raw FROM stg_result_grade_texts WHERE grade IS NULL),
bad_t AS (SELECT term_raw FROM stg_result_term_texts WHERE term IS NULL),
req_g AS (SELECT DISTINCT grade FROM stg_term_bits),
r AS (
    SELECT 'score' AS entity, s.student_id, s.grade AS grade_raw, s.term AS term_raw,
           s.school_year, s.subject, s._row AS source_row
    FROM src_subject_scores s
    WHERE s.grade IS NULL OR s.term IS NULL OR s.grade IN (SELECT grade_raw FROM bad_g)
       OR s.term IN (SELECT term_raw FROM bad_t)
    UNION ALL
    SELECT 'term_summary', s.student_id, s.grade, s.term, s.school_year, NULL, s._row
    FROM src_term_summaries s
    WHERE s.grade IS NULL OR s.term IS NULL OR s.grade IN (SELECT grade_raw FROM bad_g)
       OR s.term IN (SELECT term_raw FROM bad_t)
)
SELECT r.entity, r.student_id, pk.school_code, g.grade, t.term, r.grade_raw, r.term_raw,
       r.school_year, r.subject, r.source_row
FROM r
JOIN (SELECT DISTINCT student_id, school_code FROM stg_population_term_masks) pk ON pk.student_id = r.student_id
LEFT JOIN stg_result_grade_texts g ON g.grade_raw = r.grade_raw
LEFT JOIN stg_result_term_texts t ON t.term_raw = r.term_raw
WHERE g.grade IS NULL OR (t.term IS NULL AND g.grade IN (SELECT grade FROM req_g));
