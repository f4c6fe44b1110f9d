-- Helper macros used by the staging and check views (file name sorts first in its layer).
-- akey: lower-case, accents removed, đ -> d (the same key as data_access/reference.strip_accents).
CREATE OR REPLACE MACRO akey(x) AS replace(strip_accents(lower(x)), 'đ', 'd');
-- Vietnamese label of a term code, for messages.
CREATE OR REPLACE MACRO term_vi(t) AS
    CASE t WHEN 'HK1' THEN 'học kỳ I' WHEN 'HK2' THEN 'học kỳ II' WHEN 'CN' THEN 'cả năm' ELSE t END;
-- round1(a / b) in integer tenths for a, b >= 0 integers (half up): floor((2a + b) / (2b)).
CREATE OR REPLACE MACRO round1_div(a, b) AS (2 * a + b) // (2 * b);
-- "lớp 10, học kỳ I (năm học 2019-2020)" for messages.
CREATE OR REPLACE MACRO ctx_vi(g, t, sy) AS
    'lớp ' || g || ', ' || term_vi(t) || coalesce(' (năm học ' || sy || ')', '');
