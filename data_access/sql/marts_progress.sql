-- Marts: status of every institution × requirement at the evaluated as-of time, using the
-- history of all visible snapshots up to it, and the roll-ups leadership reads.
-- Inputs (tables of the evaluation connection, see data_access/evaluate.py):
--   hist_snapshots(snapshot_id, as_of)            visible snapshots with as_of <= t
--   hist_progress(snapshot_id, as_of, school_code, requirement_id, expected, done, event_at, started)
--   eval_point(as_of)                              t, the evaluated snapshot's as_of
--   cur_schools(school_code, district_code, level_group, ...)   institutions of that snapshot
--   cfg_requirements, cfg_params                   the campaign
-- Semantics: data_access/RULES.md "Status at as-of t" and "Roll-ups".

-- A snapshot is "not observed" for a unit when it cannot say whether the unit held: a sent
-- report with `blocked_by` rules in a snapshot without a table they read (no phong_hoc file)
-- while the last snapshot that could check them saw it held back. Its done is 0 (nothing shows
-- the block gone) and the timing skips it (outside review of issue 12, finding 4).
CREATE OR REPLACE VIEW progress_history AS
WITH h AS (
    SELECT h.*, r.kind, r.due, r.target_percent, r.sort_order,
           last_value(h.blocked IGNORE NULLS) OVER (
               PARTITION BY h.school_code, h.requirement_id ORDER BY h.as_of
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_blocked
    FROM hist_progress h
    JOIN cfg_requirements r USING (requirement_id)
),
o AS (
    SELECT *, NOT (kind = 'report' AND blocked IS NULL AND coalesce(sent, FALSE)
                   AND coalesce(prev_blocked, FALSE)) AS observed
    FROM h
)
SELECT snapshot_id, as_of, school_code, requirement_id, expected,
       CASE WHEN observed THEN done ELSE 0 END::BIGINT AS done,
       CASE WHEN observed THEN event_at END AS event_at, started, observed,
       coalesce(blocked, FALSE) AS blocked,
       CASE WHEN expected > 0 AND observed
            THEN ((2000 * done + expected) // (2 * expected)) / 10.0
            ELSE 0.0 END AS percent,
       kind, due, target_percent, sort_order
FROM o;

-- Done compares the counts themselves, never the rounded percent: 1,999 of 2,000 shows 100.0 %
-- but is not done (with the default target 100 this is done = expected).
CREATE OR REPLACE VIEW progress_history_done AS
SELECT *, (observed AND expected > 0 AND 100 * done >= target_percent * expected) AS is_done
FROM progress_history;

-- Every institution × requirement of the evaluated snapshot at every visible snapshot (<= t):
-- held (absent counts as not done), observed, the log's time, held back by a blocking rule.
CREATE OR REPLACE VIEW progress_grid AS
WITH cur AS (
    SELECT school_code, requirement_id, kind, due
    FROM progress_history_done
    WHERE as_of = (SELECT as_of FROM eval_point)
)
SELECT c.school_code, c.requirement_id, c.kind, c.due, s.as_of,
       coalesce(h.is_done, FALSE) AS held, coalesce(h.observed, TRUE) AS observed,
       h.event_at, coalesce(h.blocked, FALSE) AS blocked
FROM cur c
CROSS JOIN hist_snapshots s
LEFT JOIN progress_history_done h
       ON h.school_code = c.school_code AND h.requirement_id = c.requirement_id
      AND h.snapshot_id = s.snapshot_id;

-- Which snapshot a verdict rests on (RULES.md "Status at as-of t"). The verdict of a deadline is
-- whether the target was met AT THE CUT-OFF, as far as snapshots show. P = the last observed
-- snapshot at or before the due time d. Up to d (t <= d), without d, or without P: the current
-- state (the last observed snapshot). After d: P when it held (done on time for ever after,
-- whatever later snapshots show); else the first observed snapshot after P that held (done
-- late, the earliest proven completion); else none (overdue). Then the run of held snapshots
-- containing that anchor gives the window (b, f]: b the last observed snapshot before it that
-- did not hold, f the run's first snapshot.
CREATE OR REPLACE VIEW progress_anchor AS
WITH g AS (SELECT * FROM progress_grid WHERE observed),
p AS (
    SELECT school_code, requirement_id, any_value(kind) AS kind, any_value(due) AS due,
           max(as_of) AS last_obs,
           max(as_of) FILTER (WHERE due IS NOT NULL AND as_of <= due) AS p_as_of
    FROM g GROUP BY school_code, requirement_id
),
a AS (
    SELECT p.school_code, p.requirement_id, p.kind, p.due,
           (p.due IS NOT NULL AND (SELECT as_of FROM eval_point) > p.due AND p.p_as_of IS NOT NULL
            AND coalesce(bool_or(g.held AND g.as_of = p.p_as_of), FALSE)) AS met_at_cutoff,
           CASE WHEN p.due IS NULL OR (SELECT as_of FROM eval_point) <= p.due OR p.p_as_of IS NULL
                     THEN p.last_obs
                WHEN coalesce(bool_or(g.held AND g.as_of = p.p_as_of), FALSE) THEN p.p_as_of
                ELSE min(g.as_of) FILTER (WHERE g.held AND g.as_of > p.p_as_of) END AS anchor
    FROM p JOIN g USING (school_code, requirement_id)
    GROUP BY p.school_code, p.requirement_id, p.kind, p.due, p.last_obs, p.p_as_of
),
w AS (
    SELECT a.school_code, a.requirement_id, a.kind, a.due, a.met_at_cutoff, a.anchor,
           coalesce(bool_or(g.held AND g.as_of = a.anchor), FALSE) AS held,
           max(g.event_at) FILTER (WHERE g.as_of = a.anchor) AS ev,
           max(g.as_of) FILTER (WHERE NOT g.held AND g.as_of < a.anchor) AS b
    FROM a JOIN g USING (school_code, requirement_id)
    GROUP BY a.school_code, a.requirement_id, a.kind, a.due, a.met_at_cutoff, a.anchor
)
SELECT w.school_code, w.requirement_id, w.kind, w.due, w.met_at_cutoff, w.anchor, w.held, w.ev, w.b,
       min(g.as_of) FILTER (WHERE (w.b IS NULL OR g.as_of > w.b) AND g.as_of <= w.anchor) AS f,
       coalesce(bool_or(g.blocked AND g.as_of = w.b), FALSE) AS blocked_at_b
FROM w JOIN g USING (school_code, requirement_id)
GROUP BY w.school_code, w.requirement_id, w.kind, w.due, w.met_at_cutoff, w.anchor, w.held, w.ev, w.b;

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
-- (completed_after, completed_at] = (b, f] of the anchor's run; no earlier snapshot: open to the
-- left. When the window contains the due time, nobody knows whether it was reached on time: on
-- time, with timing_uncertain (RULES.md "Status"). Reports and paper copies carry their own
-- time, except a report that a snapshot at or after its submission saw not done, or that a
-- snapshot saw held back by a blocking rule (a room under two levels) before it was sent: it was
-- done when both the sending and the fix were, in (max(b, sent), f] (outside review of issue 12,
-- findings 4-5). Paper copies carry their own date.
done_at AS (
    SELECT a.school_code, a.requirement_id, a.held, a.met_at_cutoff, k.windowed, w.completed_at,
           CASE WHEN k.windowed THEN CASE WHEN a.kind = 'report' THEN greatest(a.b, a.ev) ELSE a.b END
           END AS completed_after
    FROM progress_anchor a
    CROSS JOIN LATERAL (
        SELECT a.held AND (a.kind NOT IN ('report', 'paper')
                           OR (a.kind = 'report' AND a.b IS NOT NULL
                               AND (coalesce(a.b >= a.ev, FALSE) OR a.blocked_at_b))) AS windowed) k
    CROSS JOIN LATERAL (
        SELECT CASE WHEN NOT a.held THEN NULL WHEN NOT k.windowed THEN a.ev ELSE a.f END AS completed_at) w
),
timing AS (
    SELECT d.*, (d.windowed AND c.due IS NOT NULL AND NOT d.met_at_cutoff
                 AND d.completed_at > c.due
                 AND (d.completed_after IS NULL OR d.completed_after < c.due)) AS timing_uncertain
    FROM done_at d JOIN cur c USING (school_code, requirement_id)
),
pace AS (
    SELECT c.school_code, c.requirement_id,
           coalesce(h0.done, 0) AS done0, coalesce(nullif(h0.expected, 0), 1) AS expected0, p.s0
    FROM cur c
    CROSS JOIN progress_pace_start p
    LEFT JOIN progress_history h0
           ON h0.as_of = p.s0 AND h0.school_code = c.school_code
          AND h0.requirement_id = c.requirement_id
)
SELECT c.school_code, c.requirement_id, c.expected, c.done, c.percent,
       CASE WHEN d.held AND (d.met_at_cutoff OR c.due IS NULL OR d.completed_at <= c.due OR d.timing_uncertain)
                 THEN 'done_on_time'
            WHEN d.held THEN 'done_late'
            WHEN c.due IS NOT NULL AND t.t > c.due THEN 'overdue'
            WHEN c.started OR c.done > 0 THEN 'in_progress'
            ELSE 'not_started' END AS status,
       d.completed_at,
       CASE WHEN d.held AND NOT d.met_at_cutoff AND c.due IS NOT NULL AND d.completed_at > c.due
                 AND NOT d.timing_uncertain
                 -- the earliest moment it can have been reached: just after the window's start
                 THEN date_diff('day', c.due::DATE,
                                coalesce(d.completed_after + INTERVAL 1 SECOND, d.completed_at)::DATE)
            WHEN NOT d.held AND c.due IS NOT NULL AND t.t > c.due
                 THEN date_diff('day', c.due::DATE, t.t::DATE)
            ELSE 0 END::BIGINT AS days_late,
       -- Projected = p(t) + max(0, v)·(d − t) with the EXACT fractions done/expected (1,999 of
       -- 2,000 is 99.95 %, below 100, though shown 100.0), compared in integers:
       -- p = 100·a/e, v = (p − p0)/(t − s0); × 100·e·e0 (ms, target in hundredths).
       (NOT c.is_done AND c.due IS NOT NULL AND t.t <= c.due
        AND CASE WHEN p.s0 IS NULL
                 THEN 10000::HUGEINT * c.done < round(c.target_percent * 100)::HUGEINT * greatest(c.expected, 1)
                 ELSE 10000::HUGEINT * c.done * p.expected0 * (epoch_ms(t.t) - epoch_ms(p.s0))
                      + 10000::HUGEINT * greatest(0::HUGEINT, c.done::HUGEINT * p.expected0
                                                   - p.done0::HUGEINT * greatest(c.expected, 1))
                        * (epoch_ms(c.due) - epoch_ms(t.t))
                      < round(c.target_percent * 100)::HUGEINT * greatest(c.expected, 1) * p.expected0
                        * (epoch_ms(t.t) - epoch_ms(p.s0)) END) AS at_risk,
       coalesce(d.timing_uncertain, FALSE) AS timing_uncertain, d.completed_after,
       -- Done at the cut-off (or later) but the current snapshot no longer holds: the verdict
       -- stays, the counts are today's («Đạt đúng hạn; sau hạn dữ liệu thay đổi»).
       (d.held AND NOT c.is_done) AS changed_after_due,
       c.kind, c.due, c.target_percent, c.sort_order
FROM cur c
CROSS JOIN t
JOIN timing d USING (school_code, requirement_id)
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
