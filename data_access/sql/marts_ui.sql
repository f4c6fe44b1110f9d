-- (Named marts_ui so it runs after marts_progress.sql: files of a layer run alphabetically.)
-- Marts for the dashboard pages (data_access/queries.py reads only these and the engine's
-- marts). They add the institution's dimensions to the engine's progress and findings and
-- name a few facts the pages show; they decide no status: statuses, percents, days late and
-- at-risk come from the `progress` view (marts_progress.sql), validity from `findings`.
-- Inputs: progress, progress_history_done, hist_progress, eval_point, cur_schools, findings,
--         cfg_requirements, cfg_requirement_terms, ref_districts.

-- The same rounding as the roll-ups (RULES.md: round1(100 × a / b) in integer tenths), for
-- roll-ups over a filtered set of institutions.
CREATE OR REPLACE MACRO dash_rate(num, den) AS
    CASE WHEN den > 0 THEN ((2000 * num + den) // (2 * den)) / 10.0 ELSE 0.0 END;

-- One row per institution × applicable requirement at the evaluated as-of, with dimensions.
CREATE OR REPLACE VIEW dash_units AS
SELECT p.school_code, s.school_name, s.district_code, d.district_name, s.level_group,
       s.ownership, s.managed_by, s.principal, s.phone, s.email,
       p.requirement_id, r.name AS requirement_name, r.letter_words, p.kind, p.due,
       p.sort_order, p.target_percent,
       p.expected, p.done, p.percent, p.status, p.completed_at, p.days_late, p.at_risk,
       p.timing_uncertain, p.completed_after, p.changed_after_due,
       p.status IN ('done_on_time', 'done_late') AS is_done,
       p.status = 'done_on_time' AS is_on_time,
       p.kind IN ('student_info', 'student_results') AS is_record,
       -- Local calendar days from the as-of date to the due date (negative: past it).
       CASE WHEN p.due IS NOT NULL
            THEN date_diff('day', (SELECT as_of FROM eval_point)::DATE, p.due::DATE) END AS days_left
FROM progress p
JOIN cur_schools s USING (school_code)
JOIN cfg_requirements r USING (requirement_id)
LEFT JOIN ref_districts d ON d.district_code = s.district_code;

-- Per snapshot up to the as-of: each institution × requirement done or not (history charts).
-- Over the institutions of the evaluated snapshot, with their dimensions there (RULES.md
-- «Roll-ups»): an institution missing from it (closed, merged) is in no point of a series, at
-- any scope, so the city's series is the sum of its districts' (outside review of issue 15,
-- finding 5: its rows had no district, the city counted them and no district did).
CREATE OR REPLACE VIEW dash_history AS
SELECT h.snapshot_id, h.as_of, h.school_code, s.district_code, s.level_group, s.ownership,
       h.requirement_id, h.kind, h.due, h.sort_order, h.expected, h.done, h.percent, h.is_done
FROM progress_history_done h
JOIN cur_schools s USING (school_code);

-- Which requirement each finding blocks (only error findings block; warnings are listed but
-- do not stop "done"): student → student_info; score/term_summary → the student_results
-- requirement whose (grade, term) set holds it; report → the report; paper_copy → its paper.
CREATE OR REPLACE VIEW dash_findings AS
WITH req AS (
    SELECT f.*, r.requirement_id
    FROM findings f JOIN cfg_requirements r ON f.entity = 'student' AND r.kind = 'student_info'
    UNION ALL
    SELECT f.*, t.requirement_id
    FROM findings f JOIN cfg_requirement_terms t
      ON f.entity IN ('score', 'term_summary') AND t.grade = f.grade AND t.term = f.term
    UNION ALL
    -- a results row whose grade or term cannot be read (GRADE_INVALID, TERM_INVALID, warnings):
    -- under every results requirement with a (grade, term) that agrees with the part read
    SELECT f.*, r.requirement_id
    FROM findings f JOIN cfg_requirements r
      ON f.entity IN ('score', 'term_summary') AND (f.grade IS NULL OR f.term IS NULL)
     AND r.kind = 'student_results'
     AND EXISTS (SELECT 1 FROM cfg_requirement_terms t
                 WHERE t.requirement_id = r.requirement_id
                   AND (f.grade IS NULL OR t.grade = f.grade) AND (f.term IS NULL OR t.term = f.term))
    UNION ALL
    SELECT f.*, r.requirement_id
    FROM findings f JOIN cfg_requirements r ON f.entity = 'report' AND r.kind = 'report'
                                          AND r.report_code = f.record_key
    UNION ALL
    SELECT f.*, r.requirement_id
    FROM findings f JOIN cfg_requirements r ON f.entity = 'paper_copy' AND r.kind = 'paper'
                                          AND r.report_code = split_part(f.record_key, '|', 1)
    UNION ALL
    -- a report figure finding (REPORT_FIGURE_*, warnings) is listed under its report
    SELECT f.*, r.requirement_id
    FROM findings f JOIN cfg_requirements r ON f.entity = 'report_figure' AND r.kind = 'report'
                                          AND r.report_code = split_part(f.record_key, '|', 1)
    UNION ALL
    -- a room finding blocks the requirements that list its rule in `blocked_by` (RPT_CSVC)
    SELECT f.*, r.requirement_id
    FROM findings f JOIN cfg_requirements r ON f.entity = 'room' AND list_contains(r.blocked_by, f.rule_id)
    UNION ALL
    SELECT f.*, NULL::VARCHAR AS requirement_id FROM findings f
    WHERE f.entity = 'room'
      AND NOT EXISTS (SELECT 1 FROM cfg_requirements r WHERE list_contains(r.blocked_by, f.rule_id))
),
-- A finding counted under a requirement only where it applies to the institution.
applied AS (
    SELECT q.* FROM req q
    WHERE q.requirement_id IS NULL
       OR EXISTS (SELECT 1 FROM progress p
                  WHERE p.school_code = q.school_code AND p.requirement_id = q.requirement_id)
)
SELECT a.school_code, a.rule_id, a.severity, a.entity, a.record_key, a.field, a.message,
       a.student_id, a.grade, a.term, a.source_row, a.requirement_id,
       a.severity = 'error' AND a.requirement_id IS NOT NULL AS blocks,
       s.school_name, s.district_code, d.district_name, s.level_group, s.ownership
FROM applied a
LEFT JOIN cur_schools s USING (school_code)
LEFT JOIN ref_districts d ON d.district_code = s.district_code;

-- "Done means valid, not just filled": per institution × record requirement, the records
-- expected, those with every required value present (no MISSING_FIELD, SUBJECT_MISSING or
-- TERM_SUMMARY_MISSING error) and those done (complete and valid, from progress).
CREATE OR REPLACE VIEW dash_filled_valid AS
WITH missing AS (
    SELECT school_code, requirement_id, count(DISTINCT student_id) AS n_missing
    FROM dash_findings
    WHERE blocks AND entity IN ('student', 'score', 'term_summary')
      AND rule_id IN ('MISSING_FIELD', 'SUBJECT_MISSING', 'TERM_SUMMARY_MISSING')
    GROUP BY ALL
)
SELECT u.school_code, u.school_name, u.district_code, u.district_name, u.level_group,
       u.ownership, u.requirement_id, u.requirement_name, u.sort_order,
       u.expected, greatest(u.expected - coalesce(m.n_missing, 0), 0) AS filled, u.done
FROM dash_units u
LEFT JOIN missing m USING (school_code, requirement_id)
WHERE u.is_record;

-- Reports page: each institution × report/paper requirement as one cell state.
-- report: sent_on_time / sent_late (engine status done_*), returned (REPORT_RETURNED on its
-- latest row), held (validly sent but held back by a `blocked_by` finding: RPT_CSVC and a
-- room under two levels; fixing the finding alone makes it done), draft (a row exists but is
-- not a valid submission), missing (no row).
-- paper: paper_valid (done), paper_invalid (a receipt, none valid), paper_missing.
CREATE OR REPLACE VIEW dash_report_cells AS
WITH cur_hist AS (
    SELECT school_code, requirement_id, started, held
    FROM hist_progress WHERE as_of = (SELECT as_of FROM eval_point)
),
returned AS (
    SELECT DISTINCT school_code, requirement_id FROM dash_findings WHERE rule_id = 'REPORT_RETURNED'
)
SELECT u.school_code, u.school_name, u.district_code, u.district_name, u.level_group,
       u.ownership, u.requirement_id, u.requirement_name, u.kind, r.report_code, u.sort_order,
       u.status, u.completed_at, u.days_late, u.due,
       CASE WHEN u.kind = 'report' THEN
                CASE WHEN u.status = 'done_on_time' THEN 'sent_on_time'
                     WHEN u.status = 'done_late' THEN 'sent_late'
                     WHEN coalesce(h.held, FALSE) THEN 'held'
                     WHEN rt.school_code IS NOT NULL THEN 'returned'
                     WHEN coalesce(h.started, FALSE) THEN 'draft'
                     ELSE 'missing' END
            ELSE
                CASE WHEN u.is_done THEN 'paper_valid'
                     WHEN coalesce(h.started, FALSE) THEN 'paper_invalid'
                     ELSE 'paper_missing' END
       END AS cell_state
FROM dash_units u
JOIN cfg_requirements r USING (requirement_id)
LEFT JOIN cur_hist h USING (school_code, requirement_id)
LEFT JOIN returned rt USING (school_code, requirement_id)
WHERE u.kind IN ('report', 'paper');

-- Why a requirement listing rules in `blocked_by` is held back at an institution (checklist):
-- one Vietnamese sentence per institution × requirement with such error findings.
CREATE OR REPLACE VIEW dash_unit_block_reasons AS
SELECT f.school_code, f.requirement_id,
       'Chưa tính là hoàn thành: ' || count(*) || CASE WHEN any_value(f.rule_id) = 'ROOM_MULTI_LEVEL'
            THEN ' phòng được khai ở hai cấp học trở lên (' || f.rule_id
                 || '), trong khi công văn yêu cầu mỗi phòng chỉ thuộc một cấp học. Hãy sửa khai báo phòng học (mỗi phòng chỉ thuộc một cấp học).'
            ELSE ' lỗi ' || f.rule_id || ' của đơn vị. Hãy sửa các lỗi này.' END AS blocked_reason
FROM dash_findings f
JOIN cfg_requirements r ON r.requirement_id = f.requirement_id AND list_contains(r.blocked_by, f.rule_id)
WHERE f.blocks
GROUP BY f.school_code, f.requirement_id, f.rule_id;
