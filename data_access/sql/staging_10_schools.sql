-- Institutions, typed: levels as a list in canonical order, level group, programme.
-- RULES.md "Parsing": levels split on ';' or ',', trimmed, upper-cased, unknown tokens dropped;
-- level_group = the single level, LIEN_CAP when several, NULL when none is recognised.
CREATE OR REPLACE VIEW stg_schools AS
WITH s AS (
    SELECT *,
           list_transform(regexp_split_to_array(coalesce(levels, ''), '[;,]'),
                          lambda x: upper(trim(x))) AS tokens
    FROM src_schools
), l AS (
    SELECT *,
           list_filter(['MN', 'TH', 'THCS', 'THPT', 'GDTX'], lambda v: list_contains(tokens, v)) AS lv
    FROM s
), prog AS (
    SELECT l.school_code, arg_min(p.programme_id, p.priority) AS programme_id
    FROM l JOIN cfg_programmes p ON len(list_intersect(p.levels_any, l.lv)) > 0
    GROUP BY l.school_code
)
SELECT l.school_code, l.school_name, l.district_code,
       l.lv AS levels,
       CASE WHEN len(l.lv) = 1 THEN l.lv[1] WHEN len(l.lv) > 1 THEN 'LIEN_CAP' END AS level_group,
       l.ownership, l.managed_by, l.principal, l.phone, l.email,
       prog.programme_id,
       l._row AS source_row
FROM l LEFT JOIN prog USING (school_code);

-- Which requirement applies to which institution (levels intersect applies_levels).
CREATE OR REPLACE VIEW stg_school_requirements AS
SELECT s.school_code, r.requirement_id, r.kind, r.report_code
FROM stg_schools s JOIN cfg_requirements r ON len(list_intersect(r.applies_levels, s.levels)) > 0;

-- Required (grade, term) of the student_results requirements, per institution.
CREATE OR REPLACE VIEW stg_required_terms AS
SELECT DISTINCT sr.school_code, t.grade, t.term
FROM stg_school_requirements sr JOIN cfg_requirement_terms t USING (requirement_id)
WHERE sr.kind = 'student_results';
