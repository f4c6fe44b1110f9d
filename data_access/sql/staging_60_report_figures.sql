-- Report figures (issue 15; RULES.md «Report figures»). Three parts:
-- 1. typed views of the records the campaign's indicators count (their SQL reads these);
-- 2. the figures of the submitted reports as the extract gives them (so_lieu_bao_cao);
-- 3. stg_indicator_values, one row per institution x indicator, is built by the engine from
--    the campaign's [[indicators]] right after this layer (data_access/report_figures.py).

-- Enrolled students (status = the population's status, `Đang học`) of every grade, with the
-- grade read as elsewhere (parse_grade), and the official ethnic group when the written one is
-- one of the 54 names or their aliases (NULL otherwise: such a student is not counted as an
-- ethnic minority; ETHNICITY_UNKNOWN tells the school for grade 12).
CREATE OR REPLACE VIEW stg_enrolled_students AS
SELECT s.student_id, s.school_code, gv.grade, s.gender, s.ethnicity,
       ex.official_name AS ethnicity_official,
       ex.official_name IS NOT NULL AND ex.official_name <> 'Kinh' AS ethnic_minority
FROM src_students s
CROSS JOIN cfg_params prm
LEFT JOIN stg_grade_values gv ON gv.grade_raw = s.grade
LEFT JOIN ref_ethnic_alias ex
       ON ex.exact AND ex.alias_key = lower(regexp_replace(s.ethnicity, '[\s\-]+', '', 'g'))
WHERE s.status = prm.population_status AND s.school_code IS NOT NULL;

-- Classes (lop): one row per (institution, class code), grade read like a student's. A class
-- code listed twice: the highest spreadsheet row counts, as for reports and figures (was an
-- arbitrary row: outside review of issue 15).
CREATE OR REPLACE VIEW stg_classes AS
SELECT school_code, class_code, parse_grade(grade) AS grade, class_name
FROM src_classes
WHERE school_code IS NOT NULL AND class_code IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY school_code, class_code ORDER BY _row DESC) = 1;

-- Staff (can_bo): one row per (institution, staff id); position as written (CBQL, Giáo viên,
-- Nhân viên). A staff id listed twice: the highest row counts, here and in the completeness
-- measure (completeness_10_domains.sql), so the two never disagree on one person.
CREATE OR REPLACE VIEW stg_staff AS
SELECT school_code, staff_id, position
FROM src_staff
WHERE school_code IS NOT NULL AND staff_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY school_code, staff_id ORDER BY _row DESC) = 1;

-- The figures of the extract, typed, every row. value: a whole number written `1234`, or with
-- thousands separators in groups of three digits, ONE kind per value: dots `1.234.567`, commas
-- `1,234,567` or spaces `1 234 567` (a space, a no-break space U+00A0 or a narrow no-break space
-- U+202F, as Excel/LibreOffice write in vi_VN: all three are "a space"); a mix (`1.234,567`,
-- `1 234.567`) or anything else NULL (REPORT_FIGURE_INVALID, checks_60_report_figures.sql).
CREATE OR REPLACE VIEW stg_report_figure_rows AS
SELECT school_code, report_code, indicator, value AS value_raw,
       CASE WHEN regexp_full_match(value, '\d{1,15}') THEN CAST(value AS BIGINT)
            WHEN regexp_full_match(value, '[1-9]\d{0,2}(\.\d{3}){1,4}')
              OR regexp_full_match(value, '[1-9]\d{0,2}(,\d{3}){1,4}')
              OR regexp_full_match(value, '[1-9]\d{0,2}([ \x{00A0}\x{202F}]\d{3}){1,4}')
                 THEN CAST(regexp_replace(value, '[., \x{00A0}\x{202F}]', '', 'g') AS BIGINT) END AS value,
       _row AS source_row
FROM src_report_figures
WHERE school_code IS NOT NULL AND report_code IS NOT NULL AND indicator IS NOT NULL;

-- One figure per (institution, report, indicator): the highest spreadsheet row counts, as for
-- reports (rows with other values: REPORT_FIGURE_DUPLICATE, checks_60_report_figures.sql).
CREATE OR REPLACE VIEW stg_report_figures AS
SELECT * FROM stg_report_figure_rows
QUALIFY row_number() OVER (PARTITION BY school_code, report_code, indicator ORDER BY source_row DESC) = 1;

-- Reports to compare: the institution's report row (stg_reports) sent (`Đã gửi`/`Đã duyệt`
-- with a valid time), of a known institution and a report code with at least one indicator in
-- the campaign; with each of its figures (none: one row with NULL indicator, «không có số liệu»).
-- Figures of an indicator the campaign does not define for that report are not compared
-- (REPORT_FIGURE_INVALID).
CREATE OR REPLACE VIEW stg_submitted_report_figures AS
WITH sub AS (
    SELECT r.school_code, r.report_code, r.submitted_at
    FROM stg_reports r
    SEMI JOIN src_schools s ON s.school_code = r.school_code
    WHERE r.status IN ('Đã gửi', 'Đã duyệt') AND r.submitted_at IS NOT NULL
      AND r.report_code IN (SELECT report_code FROM cfg_indicators)
),
fig AS (
    SELECT f.* FROM stg_report_figures f
    SEMI JOIN cfg_indicators i ON i.indicator = f.indicator AND i.report_code = f.report_code
)
SELECT sub.school_code, sub.report_code, sub.submitted_at,
       fig.indicator, fig.value_raw, fig.value, fig.source_row
FROM sub LEFT JOIN fig USING (school_code, report_code);
