-- Marts: status of every institution × requirement at the evaluated as-of time, using the
-- history of all visible snapshots up to it, and the roll-ups leadership reads.
-- Inputs (tables of the evaluation connection, see data_access/evaluate.py):
--   hist_snapshots(snapshot_id, as_of)            visible snapshots with as_of <= t
--   hist_progress(snapshot_id, as_of, school_code, requirement_id, expected, done, event_at, started)
--   eval_point(as_of)                              t, the evaluated snapshot's as_of
--   cur_schools(school_code, district_code, level_group, ...)   institutions of that snapshot
--   cfg_requirements, cfg_params                   the campaign
-- Semantics: data_access/RULES.md "Status at as-of t" and "Roll-ups".

CREATE OR REPLACE VIEW progress_history AS
SELECT h.snapshot_id, h.as_of, h.school_code, h.requirement_id, h.expected, h.done,
       h.event_at, h.started,
       CASE WHEN h.expected > 0
            THEN ((2000 * h.done + h.expected) // (2 * h.expected)) / 10.0
            ELSE 0.0 END AS percent,
       r.kind, r.due, r.target_percent, r.sort_order
FROM hist_progress h
JOIN cfg_requirements r USING (requirement_id);

-- Done compares the counts themselves, never the rounded percent: 1,999 of 2,000 shows 100.0 %
-- but is not done (with the default target 100 this is done = expected).
CREATE OR REPLACE VIEW progress_history_done AS
SELECT *, (expected > 0 AND 100 * done >= target_percent * expected) AS is_done
FROM progress_history;

-- For each institution × requirement of the evaluated snapshot: the as_of of the last snapshot
-- (<= t) in which it was NOT done (absent counts as not done), to find the unbroken done run.
CREATE OR REPLACE VIEW progress_last_break AS
WITH cur AS (
    SELECT school_code, requirement_id
    FROM progress_history_done
    WHERE as_of = (SELECT as_of FROM eval_point)
)
SELECT c.school_code, c.requirement_id,
       max(s.as_of) FILTER (WHERE NOT coalesce(h.is_done, FALSE)) AS last_break
FROM cur c
CROSS JOIN hist_snapshots s
LEFT JOIN progress_history_done h
       ON h.school_code = c.school_code AND h.requirement_id = c.requirement_id
      AND h.snapshot_id = s.snapshot_id
GROUP BY c.school_code, c.requirement_id;

-- Pace window start s0: earliest snapshot in [t - window, t).
CREATE OR REPLACE VIEW progress_pace_start AS
SELECT min(as_of) AS s0
FROM hist_snapshots
WHERE as_of < (SELECT as_of FROM eval_point)
  AND as_of >= (SELECT as_of FROM eval_point)
               - to_microseconds(CAST((SELECT at_risk_window_days FROM cfg_params) * 86400e6 AS BIGINT));

CREATE OR REPLACE VIEW progress AS
WITH t AS (SELECT as_of AS t FROM eval_point),
cur AS (
    SELECT h.*
    FROM progress_history_done h
    WHERE h.as_of = (SELECT t FROM t)
),
-- A record requirement is only observed at snapshots: it was reached in the window
-- (completed_after, completed_at] = (the last snapshot where it did not hold, the first of the
-- unbroken run where it holds]; no earlier snapshot: the window is open to the left. When the
-- window contains the due time, nobody knows whether it was reached on time: on time, with
-- timing_uncertain (RULES.md "Status"). Reports and paper copies carry their own time, except
-- a report held back after it was sent (below).
done_at AS (
    SELECT c.school_code, c.requirement_id, w.completed_at,
           CASE WHEN w.windowed THEN lb.last_break END AS completed_after,
           (w.windowed AND c.due IS NOT NULL
            AND w.completed_at > c.due AND (lb.last_break IS NULL OR lb.last_break < c.due)) AS timing_uncertain
    FROM cur c
    JOIN progress_last_break lb USING (school_code, requirement_id)
    -- windowed: the time comes from the snapshots. Record requirements always; a report too
    -- when a snapshot at or after its submission saw it not done (held back by blocked_by,
    -- RPT_CSVC with a room under two levels): it was done only when the fix was, which the
    -- snapshots bound (outside review of issue 12). Paper copies carry their own date.
    CROSS JOIN LATERAL (
        SELECT c.is_done AND (c.kind NOT IN ('report', 'paper')
                              OR (c.kind = 'report' AND coalesce(lb.last_break >= c.event_at, FALSE))) AS windowed) k
    CROSS JOIN LATERAL (
        SELECT k.windowed,
               CASE WHEN NOT c.is_done THEN NULL
                    WHEN NOT k.windowed THEN c.event_at
                    ELSE (SELECT min(s.as_of) FROM hist_snapshots s
                          WHERE lb.last_break IS NULL OR s.as_of > lb.last_break)
               END AS completed_at) w
),
pace AS (
    SELECT c.school_code, c.requirement_id,
           coalesce(h0.percent, 0.0) AS percent0, p.s0
    FROM cur c
    CROSS JOIN progress_pace_start p
    LEFT JOIN progress_history h0
           ON h0.as_of = p.s0 AND h0.school_code = c.school_code
          AND h0.requirement_id = c.requirement_id
)
SELECT c.school_code, c.requirement_id, c.expected, c.done, c.percent,
       CASE WHEN c.is_done AND (c.due IS NULL OR d.completed_at <= c.due OR d.timing_uncertain)
                 THEN 'done_on_time'
            WHEN c.is_done THEN 'done_late'
            WHEN c.due IS NOT NULL AND t.t > c.due THEN 'overdue'
            WHEN c.started OR c.done > 0 THEN 'in_progress'
            ELSE 'not_started' END AS status,
       d.completed_at,
       CASE WHEN c.is_done AND c.due IS NOT NULL AND d.completed_at > c.due AND NOT d.timing_uncertain
                 -- the earliest moment it can have been reached: just after the window's start
                 THEN date_diff('day', c.due::DATE,
                                coalesce(d.completed_after + INTERVAL 1 SECOND, d.completed_at)::DATE)
            WHEN NOT c.is_done AND c.due IS NOT NULL AND t.t > c.due
                 THEN date_diff('day', c.due::DATE, t.t::DATE)
            ELSE 0 END::BIGINT AS days_late,
       (NOT c.is_done AND c.due IS NOT NULL AND t.t <= c.due
        AND c.percent
            + greatest(0.0, CASE WHEN p.s0 IS NULL THEN 0.0
                                 ELSE (c.percent - p.percent0)
                                      / (epoch(t.t) - epoch(p.s0)) END)
              * (epoch(c.due) - epoch(t.t))
            < c.target_percent) AS at_risk,
       coalesce(d.timing_uncertain, FALSE) AS timing_uncertain, d.completed_after,
       c.kind, c.due, c.target_percent, c.sort_order
FROM cur c
CROSS JOIN t
JOIN done_at d USING (school_code, requirement_id)
JOIN pace p USING (school_code, requirement_id);

-- Roll-ups: one row per (rollup_by, group, requirement); rollup_by = city|district|level. group = 'city', district code, level group.
CREATE OR REPLACE VIEW rollup AS
WITH rows AS (
    SELECT p.*, s.district_code, s.level_group
    FROM progress p
    JOIN cur_schools s USING (school_code)
),
grouped AS (
    SELECT 'city' AS rollup_by, 'city' AS "group", requirement_id, kind, sort_order,
           count(*) AS units_expected,
           count(*) FILTER (WHERE status IN ('done_on_time', 'done_late')) AS units_done,
           count(*) FILTER (WHERE status = 'done_on_time') AS units_done_on_time,
           sum(expected) AS rec_expected, sum(done) AS rec_done
    FROM rows GROUP BY ALL
    UNION ALL
    SELECT 'district', district_code, requirement_id, kind, sort_order,
           count(*), count(*) FILTER (WHERE status IN ('done_on_time', 'done_late')),
           count(*) FILTER (WHERE status = 'done_on_time'), sum(expected), sum(done)
    FROM rows GROUP BY ALL
    UNION ALL
    SELECT 'level', level_group, requirement_id, kind, sort_order,
           count(*), count(*) FILTER (WHERE status IN ('done_on_time', 'done_late')),
           count(*) FILTER (WHERE status = 'done_on_time'), sum(expected), sum(done)
    FROM rows GROUP BY ALL
)
SELECT rollup_by, "group", requirement_id, units_expected, units_done, units_done_on_time,
       CASE WHEN units_expected > 0
            THEN ((2000 * units_done + units_expected) // (2 * units_expected)) / 10.0
            ELSE 0.0 END AS completion_rate,
       CASE WHEN units_expected > 0
            THEN ((2000 * units_done_on_time + units_expected) // (2 * units_expected)) / 10.0
            ELSE 0.0 END AS on_time_rate,
       CASE WHEN kind IN ('student_info', 'student_results') THEN rec_expected END::BIGINT AS records_expected,
       CASE WHEN kind IN ('student_info', 'student_results') THEN rec_done END::BIGINT AS records_done,
       sort_order
FROM grouped;
