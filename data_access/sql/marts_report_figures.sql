-- Report figures against the records (issue 15; RULES.md «Report figures»). Runs after
-- marts_progress.sql (files of a layer run alphabetically) and before marts_ui.sql.
-- Inputs (data_access/report_figures.load_history): hist_indicator_values (every visible
-- snapshot's indicator values), cur_report_figures (the evaluated snapshot's submitted reports
-- and their figures), rf_eval_snapshot, hist_snapshots, progress, cur_schools, cfg_*.
-- The finding REPORT_FIGURE_MISMATCH is a warning and lives here, at evaluation time, because
-- it compares two snapshots; it never enters progress (the statuses are computed before).

-- One row per figure of a submitted report: what the report says (stated), what the records
-- said at sending (the newest snapshot at or before the sending time; NULL when none) and what
-- they say now (the evaluated snapshot). An indicator absent from a snapshot's values is 0 --
-- except where that snapshot cannot tell (outside review of issue 15): its extract had no file
-- of a table the indicator counts (hist_indicator_sources.measured false: no can_bo file says
-- nothing about the managers), or, at sending, the institution (with this report applying to it)
-- is not in that snapshot. Such a side is NULL and not compared: now -> 'no_source' (no
-- finding); at sending -> compared with now only ('no_snapshot_before' when the institution is
-- absent from it, 'no_source_at_sending' when the file is).
CREATE OR REPLACE VIEW rf_figures AS
WITH rep AS (
    SELECT DISTINCT c.school_code, c.report_code, c.submitted_at, r.requirement_id
    FROM cur_report_figures c
    JOIN cfg_requirements r ON r.kind = 'report' AND r.report_code = c.report_code
    -- only where the report applies to the institution
    SEMI JOIN progress p ON p.school_code = c.school_code AND p.requirement_id = r.requirement_id
),
newest AS (
    SELECT rep.school_code, rep.report_code, rep.submitted_at, rep.requirement_id,
           arg_max(s.snapshot_id, s.as_of) AS snapshot_id, max(s.as_of) AS as_of
    FROM rep LEFT JOIN hist_snapshots s ON s.as_of <= rep.submitted_at
    GROUP BY ALL
),
-- the snapshot at sending counts only if the institution is in it (with the report applying)
sending AS (
    SELECT n.school_code, n.report_code, n.submitted_at,
           CASE WHEN hp.school_code IS NOT NULL THEN n.snapshot_id END AS sending_snapshot_id,
           CASE WHEN hp.school_code IS NOT NULL THEN n.as_of END AS sending_as_of
    FROM newest n
    LEFT JOIN (SELECT DISTINCT snapshot_id, school_code, requirement_id FROM hist_progress) hp
           ON hp.snapshot_id = n.snapshot_id AND hp.school_code = n.school_code
          AND hp.requirement_id = n.requirement_id
),
f AS (
    SELECT c.school_code, c.report_code, rep.requirement_id, c.submitted_at,
           c.indicator, i.indicator_name, i.sort_order AS indicator_order, i.source_files,
           c.value_raw, c.value AS stated, c.source_row,
           sd.sending_snapshot_id, sd.sending_as_of,
           coalesce(ms.measured, TRUE) AS sending_measured,
           coalesce(mc.measured, TRUE) AS now_measured,
           CASE WHEN sd.sending_snapshot_id IS NOT NULL AND coalesce(ms.measured, TRUE)
                THEN coalesce(vs.value, 0) END::BIGINT AS at_sending,
           CASE WHEN coalesce(mc.measured, TRUE) THEN coalesce(vc.value, 0) END::BIGINT AS now_value
    FROM cur_report_figures c
    JOIN rep USING (school_code, report_code, submitted_at)
    JOIN sending sd USING (school_code, report_code, submitted_at)
    JOIN cfg_indicators i ON i.indicator = c.indicator AND i.report_code = c.report_code
    LEFT JOIN hist_indicator_values vs
           ON vs.snapshot_id = sd.sending_snapshot_id AND vs.school_code = c.school_code
          AND vs.indicator = c.indicator
    LEFT JOIN hist_indicator_values vc
           ON vc.snapshot_id = (SELECT snapshot_id FROM rf_eval_snapshot) AND vc.school_code = c.school_code
          AND vc.indicator = c.indicator
    LEFT JOIN hist_indicator_sources ms
           ON ms.snapshot_id = sd.sending_snapshot_id AND ms.indicator = c.indicator
    LEFT JOIN hist_indicator_sources mc
           ON mc.snapshot_id = (SELECT snapshot_id FROM rf_eval_snapshot) AND mc.indicator = c.indicator
    WHERE c.indicator IS NOT NULL
)
SELECT school_code, report_code, requirement_id, submitted_at, indicator, indicator_name,
       indicator_order, source_files, value_raw, stated, source_row, sending_snapshot_id,
       sending_as_of, at_sending, now_value,
       CASE WHEN stated IS NULL THEN 'invalid'
            WHEN NOT now_measured THEN 'no_source'
            WHEN stated = now_value THEN 'match'
            WHEN sending_snapshot_id IS NULL THEN 'no_snapshot_before'
            WHEN NOT sending_measured THEN 'no_source_at_sending'
            WHEN stated = at_sending THEN 'stale'
            ELSE 'different_at_sending' END AS figure_state
FROM f;

-- One row per submitted report that has indicators in the campaign, with its «khớp dữ liệu»:
-- match_state 'match' (every compared figure equals the records now), 'mismatch' (n_mismatch
-- figures differ or cannot be read), 'no_figures' (the extract holds no figure of it, or none
-- can be compared: n_no_source figures whose source file the evaluated extract lacks).
CREATE OR REPLACE VIEW rf_reports AS
WITH rep AS (
    SELECT DISTINCT c.school_code, c.report_code, r.requirement_id, c.submitted_at
    FROM cur_report_figures c
    JOIN cfg_requirements r ON r.kind = 'report' AND r.report_code = c.report_code
    SEMI JOIN progress p ON p.school_code = c.school_code AND p.requirement_id = r.requirement_id
),
n AS (
    SELECT school_code, report_code, count(*) FILTER (WHERE figure_state <> 'no_source') AS n_figures,
           count(*) FILTER (WHERE figure_state NOT IN ('match', 'no_source')) AS n_mismatch,
           count(*) FILTER (WHERE figure_state = 'no_source') AS n_no_source,
           count(*) FILTER (WHERE figure_state = 'stale') AS n_stale
    FROM rf_figures GROUP BY ALL
)
SELECT rep.school_code, s.school_name, s.district_code, d.district_name, s.level_group, s.ownership,
       rep.requirement_id, rep.report_code, rep.submitted_at,
       coalesce(n.n_figures, 0) AS n_figures, coalesce(n.n_mismatch, 0) AS n_mismatch,
       coalesce(n.n_stale, 0) AS n_stale,
       CASE WHEN coalesce(n.n_figures, 0) = 0 THEN 'no_figures'
            WHEN n.n_mismatch = 0 THEN 'match' ELSE 'mismatch' END AS match_state,
       CASE WHEN coalesce(n.n_figures, 0) = 0 AND n.n_no_source > 0
                THEN 'không so được (bản trích xuất thiếu tệp nguồn)'
            WHEN coalesce(n.n_figures, 0) = 0 THEN 'không có số liệu'
            WHEN n.n_mismatch = 0 THEN 'khớp'
            ELSE n.n_mismatch || ' chỉ tiêu lệch' END AS match_label
FROM rep
LEFT JOIN n USING (school_code, report_code)
LEFT JOIN cur_schools s USING (school_code)
LEFT JOIN ref_districts d ON d.district_code = s.district_code;

-- REPORT_FIGURE_MISMATCH (warning), one per figure that differs from the records now.
CREATE OR REPLACE VIEW rf_mismatch_findings AS
WITH f AS (
    SELECT *,
           replace(format('{:,}', stated), ',', '.') AS stated_txt,
           replace(format('{:,}', now_value), ',', '.') AS now_txt,
           replace(format('{:,}', at_sending), ',', '.') AS sending_txt,
           strftime(timezone('Asia/Ho_Chi_Minh', submitted_at), '%d/%m/%Y %H:%M') AS sent_txt,
           strftime(timezone('Asia/Ho_Chi_Minh', sending_as_of), '%d/%m/%Y %H:%M') AS snap_txt
    FROM rf_figures WHERE figure_state IN ('stale', 'different_at_sending', 'no_snapshot_before',
                                           'no_source_at_sending')
)
SELECT CAST(school_code AS VARCHAR) AS school_code, 'REPORT_FIGURE_MISMATCH' AS rule_id,
       'warning' AS severity, 'report_figure' AS entity,
       CAST(report_code || '|' || indicator AS VARCHAR) AS record_key, 'value' AS field,
       CAST('Báo cáo ' || report_code || ' gửi lúc ' || sent_txt || ' ghi «' || indicator_name || '» ('
       || indicator || ') = ' || stated_txt || ', nhưng dữ liệu hiện có ' || now_txt || '. '
       || CASE figure_state
            WHEN 'stale' THEN 'Lúc gửi, dữ liệu (snapshot ' || snap_txt || ') khớp với báo cáo: dữ liệu đã thay đổi '
                 || 'sau khi gửi nên báo cáo không còn đúng. Hãy kiểm tra các thay đổi của dữ liệu và gửi lại báo cáo nếu cần.'
            WHEN 'different_at_sending' THEN 'Ngay lúc gửi, dữ liệu (snapshot ' || snap_txt || ') đã là ' || sending_txt
                 || ': số liệu báo cáo không khớp dữ liệu ngay từ khi gửi. Thủ trưởng đơn vị chịu trách nhiệm về '
                 || 'tính chính xác của báo cáo: hãy rà soát dữ liệu và số liệu rồi gửi lại báo cáo.'
            WHEN 'no_source_at_sending' THEN 'Bản trích xuất lúc gửi (snapshot ' || snap_txt || ') không có tệp '
                 || source_files || ' nên không biết dữ liệu lúc gửi; chỉ so với dữ liệu hiện tại. Hãy rà soát dữ liệu '
                 || 'và số liệu rồi gửi lại báo cáo nếu cần.'
            ELSE 'Chưa có snapshot trước lúc gửi có dữ liệu của trường nên chỉ so với dữ liệu hiện tại. Hãy rà '
                 || 'soát dữ liệu và số liệu rồi gửi lại báo cáo nếu cần.' END AS VARCHAR) AS message,
       CAST(NULL AS VARCHAR) AS student_id, CAST(NULL AS INTEGER) AS grade,
       CAST(NULL AS VARCHAR) AS term, CAST(source_row AS BIGINT) AS source_row
FROM f;

-- The findings of the evaluation: the snapshot's own plus the figure mismatches.
ALTER VIEW findings RENAME TO findings_snapshot;
CREATE VIEW findings AS
SELECT * FROM findings_snapshot
UNION ALL
SELECT * FROM rf_mismatch_findings;
