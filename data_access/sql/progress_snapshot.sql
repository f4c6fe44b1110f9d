-- Progress layer, one snapshot: for every institution × requirement that applies to it, how
-- many units the requirement counts (expected) and how many are done, plus the facts the
-- history marts need (the time a report was sent or a paper copy received, whether anything
-- was started). Rules: data_access/RULES.md "Done, per requirement and institution".
-- This table is what gets cached per snapshot (derived/…/progress_snapshot.parquet).

CREATE OR REPLACE VIEW progress_applicable AS
SELECT s.school_code, r.requirement_id, r.kind, r.report_code, r.sort_order, r.blocked_by
FROM stg_schools s
JOIN cfg_requirements r ON len(list_intersect(s.levels, r.applies_levels)) > 0;

-- Students whose records block a requirement: any error finding in the requirement's scope.
CREATE OR REPLACE VIEW progress_blocked_students AS
SELECT DISTINCT f.student_id, r.requirement_id
FROM findings f
JOIN cfg_requirements r ON r.kind = 'student_info'
WHERE f.severity = 'error' AND f.entity = 'student' AND f.student_id IS NOT NULL
UNION
SELECT DISTINCT f.student_id, t.requirement_id
FROM findings f
JOIN cfg_requirement_terms t ON f.grade = t.grade AND f.term = t.term
WHERE f.severity = 'error' AND f.entity IN ('score', 'term_summary') AND f.student_id IS NOT NULL;

-- expected = the population + the rows that may belong to it but cannot be placed
-- (stg_population_unplaced: never done until the row is fixed).
CREATE OR REPLACE VIEW progress_student_counts AS
SELECT c.school_code, c.requirement_id,
       c.expected + coalesce(u.n, 0) AS expected, c.done
FROM (SELECT a.school_code, a.requirement_id,
             count(p.student_id) AS expected,
             count(p.student_id) FILTER (WHERE b.student_id IS NULL) AS done
      FROM progress_applicable a
      LEFT JOIN stg_population p ON p.school_code = a.school_code
      LEFT JOIN progress_blocked_students b
             ON b.student_id = p.student_id AND b.requirement_id = a.requirement_id
      WHERE a.kind IN ('student_info', 'student_results')
      GROUP BY a.school_code, a.requirement_id) c
LEFT JOIN (SELECT school_code, count(*) AS n FROM stg_population_unplaced GROUP BY ALL) u
       ON u.school_code = c.school_code;

CREATE OR REPLACE VIEW progress_paper_receipts AS
SELECT school_code, report_code,
       min(received_on) FILTER (WHERE valid) AS first_valid_on,
       count(*) AS receipts
FROM stg_paper_copies
GROUP BY school_code, report_code;

-- Requirements held back by an institution-level error finding of a rule listed in the
-- requirement's `blocked_by` (RPT_CSVC while a room is declared under two levels: the letter
-- puts "one level per room" inside the report). Such a report is not done, but started.
CREATE OR REPLACE VIEW progress_unit_blocks AS
SELECT DISTINCT f.school_code, r.requirement_id
FROM findings f
JOIN cfg_requirements r ON list_contains(r.blocked_by, f.rule_id)
WHERE f.severity = 'error';

CREATE OR REPLACE VIEW progress_snapshot AS
SELECT a.school_code, a.requirement_id,
       CASE WHEN a.kind IN ('student_info', 'student_results') THEN coalesce(sc.expected, 0)
            ELSE 1 END::BIGINT AS expected,
       CASE WHEN a.kind IN ('student_info', 'student_results') THEN coalesce(sc.done, 0)
            WHEN a.kind = 'report' THEN
                 CASE WHEN rp.status IN ('Đã gửi', 'Đã duyệt') AND rp.submitted_at IS NOT NULL
                           AND ub.school_code IS NULL
                      THEN 1 ELSE 0 END
            ELSE CASE WHEN pc.first_valid_on IS NOT NULL THEN 1 ELSE 0 END
       END::BIGINT AS done,
       -- When the unit was completed, for requirements whose log says so.
       CASE WHEN a.kind = 'report' AND rp.status IN ('Đã gửi', 'Đã duyệt') AND ub.school_code IS NULL
            THEN rp.submitted_at
            WHEN a.kind = 'paper' THEN pc.first_valid_on::TIMESTAMPTZ
       END AS event_at,
       -- Reports: the row says sent (status and a valid time), whatever blocks it.
       (a.kind = 'report' AND coalesce(rp.status IN ('Đã gửi', 'Đã duyệt') AND rp.submitted_at IS NOT NULL,
                                       FALSE)) AS sent,
       -- Reports with `blocked_by` rules: held back by one of them (TRUE), not (FALSE), or NULL
       -- when the snapshot lacks a table such a rule reads (no phong_hoc file: the one-level
       -- rule cannot be checked there; RULES.md "Status", outside review of issue 12).
       CASE WHEN a.kind <> 'report' OR len(a.blocked_by) = 0 THEN NULL
            WHEN ub.school_code IS NOT NULL THEN TRUE
            -- the table each blocking rule reads: ROOM_MULTI_LEVEL, phong_hoc (rooms)
            WHEN list_contains(a.blocked_by, 'ROOM_MULTI_LEVEL')
                 AND NOT coalesce((SELECT bool_and(present) FROM src_files WHERE table_name = 'rooms'), TRUE)
                 THEN NULL
            ELSE FALSE END AS blocked,
       -- Something was started (a draft or returned report, any receipt, any record done).
       CASE WHEN a.kind = 'report' THEN rp.school_code IS NOT NULL
            WHEN a.kind = 'paper' THEN coalesce(pc.receipts, 0) > 0
            ELSE coalesce(sc.done, 0) > 0
       END AS started,
       -- A report validly sent (Đã gửi / Đã duyệt with a time) but held back by a blocked_by
       -- finding (RPT_CSVC and a room under two levels): fixing the finding alone makes it
       -- done, so it is shown as sent-but-held, not as a draft (outside review of issue 12).
       coalesce(a.kind = 'report' AND rp.status IN ('Đã gửi', 'Đã duyệt')
                AND rp.submitted_at IS NOT NULL AND ub.school_code IS NOT NULL, false) AS held
FROM progress_applicable a
LEFT JOIN progress_student_counts sc
       ON sc.school_code = a.school_code AND sc.requirement_id = a.requirement_id
LEFT JOIN stg_reports rp
       ON a.kind = 'report' AND rp.school_code = a.school_code AND rp.report_code = a.report_code
LEFT JOIN progress_paper_receipts pc
       ON a.kind = 'paper' AND pc.school_code = a.school_code AND pc.report_code = a.report_code
LEFT JOIN progress_unit_blocks ub
       ON ub.school_code = a.school_code AND ub.requirement_id = a.requirement_id;
