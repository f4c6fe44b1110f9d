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
-- A date 'dd/mm/yyyy', 'd/m/yyyy' or 'yyyy-mm-dd', optionally followed by a time; NULL when the
-- text has another form or is not a real date (31/02/2004). Year 0000 is not a date.
CREATE OR REPLACE MACRO parse_vn_date(x) AS
    CASE WHEN regexp_full_match(x, '\d{1,2}/\d{1,2}/\d{4}([ T]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?')
              AND NOT regexp_matches(x, '/0000')
         THEN CAST(try_strptime(regexp_extract(x, '^[0-9/]+'), '%d/%m/%Y') AS DATE)
         WHEN regexp_full_match(x, '\d{4}-\d{2}-\d{2}([ T]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?')
              AND NOT starts_with(x, '0000')
         THEN CAST(try_strptime(left(x, 10), '%Y-%m-%d') AS DATE) END;
-- A grade as the system and people write it: '12', '012', 'Khối 12', 'Lớp 12', 'K12' (case-
-- and accent-insensitive) -> INTEGER; anything else NULL (GRADE_INVALID where it matters).
CREATE OR REPLACE MACRO parse_grade(x) AS
    CAST(nullif(regexp_extract(trim(regexp_replace(replace(strip_accents(lower(x)), 'đ', 'd'), '\s+', ' ', 'g')),
                               '^(?:(?:khoi|lop) ?|k ?)?0*(\d{1,2})$', 1), '') AS INTEGER);
-- A results row's term as written: folded (accents, case), spaces and dots removed, then
-- hk1/hki/hocky1/hockyi -> 'HK1', hk2/hkii/hocky2/hockyii -> 'HK2', cn/canam -> 'CN'
-- ('HK 2', 'HKII', 'Học kỳ 2', 'Cả năm'); anything else NULL (TERM_INVALID where it matters).
CREATE OR REPLACE MACRO parse_term(x) AS
    CASE regexp_replace(akey(x), '[\s.]', '', 'g')
         WHEN 'hk1' THEN 'HK1' WHEN 'hki' THEN 'HK1' WHEN 'hocky1' THEN 'HK1' WHEN 'hockyi' THEN 'HK1'
         WHEN 'hk2' THEN 'HK2' WHEN 'hkii' THEN 'HK2' WHEN 'hocky2' THEN 'HK2' WHEN 'hockyii' THEN 'HK2'
         WHEN 'cn' THEN 'CN' WHEN 'canam' THEN 'CN' END;
-- A results row's school year with its separator read: 'yyyy' + '-', '–', '—' or '/' (spaces
-- around allowed) + 'yyyy' -> 'yyyy-yyyy' ('2021–2022', '2021 - 2022', '2021/2022'); any other
-- text unchanged.
CREATE OR REPLACE MACRO canon_year(x) AS
    regexp_replace(x, '^\s*(\d{4})\s*[-–—/]\s*(\d{4})\s*$', '\1-\2');
-- A text for loose reading: accents and case removed (đ -> d), every run of white space
-- (NBSP and the other Unicode spaces included: RE2's \s is ASCII only) one space, trimmed.
CREATE OR REPLACE MACRO loose_key(x) AS
    trim(regexp_replace(akey(x), '[\s\x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', ' ', 'g'));
-- A student's status as people write it ('đang học', 'ĐANG HỌC', 'Dang hoc', 'Đang  học') ->
-- the system's status of `known` (the campaign's known_statuses) it is, or NULL (STATUS_INVALID
-- where it matters). Read as loosely as the grade (outside review of issue 12, finding 7).
CREATE OR REPLACE MACRO parse_status(x, known) AS
    list_filter(known, lambda k: loose_key(k) = loose_key(x))[1];
-- Integer text ('12', '012') -> INTEGER, anything else NULL.
CREATE OR REPLACE MACRO parse_int(x) AS
    CASE WHEN regexp_full_match(x, '\d{1,9}') THEN CAST(x AS INTEGER) END;
-- Accent- and case-free, whitespace collapsed and trimmed (= data_access/reference.fold).
CREATE OR REPLACE MACRO addr_fold(x) AS trim(regexp_replace(akey(x), '\s+', ' ', 'g'));
-- A permanent address as people write it, split into its comma-separated parts
-- (= data_access/reference.address_parts and tests/reference_pandas._address_parts): every
-- whitespace character, Unicode spaces included (U+00A0 from a web form or Word; RE2's \s is
-- ASCII only, Python's is not: both sides use this explicit class), read as a space; a trailing
-- country (`, Việt Nam`, `, Viet Nam`, `, VIỆT NAM`) and trailing dots/spaces (`TP.HCM.`)
-- dropped (outside review of issue 12).
CREATE OR REPLACE MACRO addr_split(x) AS string_split(regexp_replace(
    regexp_replace(x, '[\t\n\x0B\f\r \x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]', ' ', 'g'),
    '[ .]+$', ''), ',');
CREATE OR REPLACE MACRO addr_parts(x) AS
    CASE WHEN len(addr_split(x)) > 1 AND addr_fold(addr_split(x)[-1]) IN ('viet nam', 'vietnam')
         THEN string_split(regexp_replace(array_to_string(list_slice(addr_split(x), 1, len(addr_split(x)) - 1), ','),
                                          '[ .]+$', ''), ',')
         ELSE addr_split(x) END;
-- A folded province part as a key: hyphens and dashes read as spaces (`Bà Rịa-Vũng Tàu`,
-- `Bà Rịa - Vũng Tàu`, `Thừa Thiên - Huế` = `Thừa Thiên Huế`), spaces collapsed.
CREATE OR REPLACE MACRO province_key(f) AS
    trim(regexp_replace(regexp_replace(f, '[\-\x{2013}\x{2014}]', ' ', 'g'), ' +', ' ', 'g'));
