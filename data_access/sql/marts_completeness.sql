-- Completeness index over the eight domains (RULES.md "Completeness index"): the per-snapshot
-- measures (hist_completeness, one row per snapshot x institution x domain, 'index' included,
-- from each snapshot's derived completeness.parquet) with the institution's dimensions of the
-- evaluated snapshot. Roll-ups are computed by data_access/completeness.py over the rows in the
-- viewer's scope, with cmp_mean below. Only the institutions of the evaluated snapshot: one
-- missing from it (closed, merged) has no district there and is in no point of the index over
-- time, at any scope (RULES.md «Roll-ups»; outside review of issue 15, finding 6: the city
-- counted it, no district did, and the district series had a row without a district).

-- round1 of the mean of n values given in integer tenths, as a percent (NULL when n = 0).
CREATE OR REPLACE MACRO cmp_mean(sum_t, n) AS
    CASE WHEN n > 0 THEN ((2 * sum_t + n) // (2 * n)) / 10.0 END;

CREATE OR REPLACE VIEW cmp_units AS
SELECT h.snapshot_id, h.as_of, h.school_code, s.school_name, s.district_code, d.district_name,
       s.level_group, s.ownership, h.domain, h.sort_order, h.items, h.items_ok,
       h.percent_t, h.percent_t / 10.0 AS percent, h.availability, h.domains_measured
FROM hist_completeness h
JOIN cur_schools s USING (school_code)
LEFT JOIN ref_districts d ON d.district_code = s.district_code;
