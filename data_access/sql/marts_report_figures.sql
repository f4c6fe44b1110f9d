-- Report figures against the records (issue 15; RULES.md «Report figures»). Runs after
-- marts_progress.sql (files of a layer run alphabetically) and before marts_ui.sql.
-- Inputs (data_access/report_figures.load_history): hist_indicator_values (every visible
-- snapshot's indicator values), cur_report_figures (the evaluated snapshot's submitted reports
-- and their figures), rf_eval_snapshot, hist_snapshots, progress, cur_schools, cfg_*.
-- The finding REPORT_FIGURE_MISMATCH is a warning and lives here, at evaluation time, because
-- it compares two snapshots; it never enters progress (the statuses are computed before).

-- One row per figure of a submitted report: what the report says (stated), what the records
-- said at sending (the newest snapshot at or before the sending time; NULL when none) and what
-- they say now (the evaluated snapshot). An indicator absent from a snapshot's values is 0.
CREATE OR REPLACE VIEW rf_figures AS
WITH rep AS (
    SELECT DISTINCT c.school_code, c.report_code, c.submitted_at, r.requirement_id
    FROM cur_report_figures c
    JOIN cfg_requirements r ON r.kind = 'report' AND r.report_code = c.report_code
    -- only where the report applies to the institution
    SEMI JOIN progress p ON p.school_code = c.school_code AND p.requirement_id = r.requirement_id
),
sending AS (
    SELECT rep.school_code, rep.report_code, rep.submitted_at,
           arg_max(s.snapshot_id, s.as_of) AS sending_snapshot_id, max(s.as_of) AS sending_as_of
    FROM rep LEFT JOIN hist_snapshots s ON s.as_of <= rep.submitted_at
    GROUP BY ALL
)
SELECT c.school_code, c.report_code, rep.requirement_id, c.submitted_at,
       c.indicator, i.indicator_name, i.sort_order AS indicator_order,
       c.value_raw, c.value AS stated, c.source_row,
       sd.sending_snapshot_id, sd.sending_as_of,
       CASE WHEN sd.sending_snapshot_id IS NOT NULL THEN coalesce(vs.value, 0) END::BIGINT AS at_sending,
       coalesce(vc.value, 0)::BIGINT AS now_value,
       CASE WHEN c.value IS NULL THEN 'invalid'
            WHEN c.value = coalesce(vc.value, 0) THEN 'match'
            WHEN sd.sending_snapshot_id IS NULL THEN 'no_snapshot_before'
            WHEN c.value = coalesce(vs.value, 0) THEN 'stale'
            ELSE 'different_at_sending' END AS figure_state
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
WHERE c.indicator IS NOT NULL;

-- One row per submitted report that has indicators in the campaign, with its «khớp dữ liệu»:
-- match_state 'match' (every figure equals the records now), 'mismatch' (n_mismatch figures
-- differ or cannot be read), 'no_figures' (the extract holds no figure of it).
CREATE OR REPLACE VIEW rf_reports AS
WITH rep AS (
    SELECT DISTINCT c.school_code, c.report_code, r.requirement_id, c.submitted_at
    FROM cur_report_figures c
    JOIN cfg_requirements r ON r.kind = 'report' AND r.report_code = c.report_code
    SEMI JOIN progress p ON p.school_code = c.school_code AND p.requirement_id = r.requirement_id
),
n AS (
    SELECT school_code, report_code, count(*) AS n_figures,
           count(*) FILTER (WHERE figure_state <> 'match') AS n_mismatch,
           count(*) FILTER (WHERE figure_state = 'stale') AS n_stale
    FROM rf_figures GROUP BY ALL
)
SELECT rep.school_code, s.school_name, s.district_code, d.district_name, s.level_group, s.ownership,
       rep.requirement_id, rep.report_code, rep.submitted_at,
       coalesce(n.n_figures, 0) AS n_figures, coalesce(n.n_mismatch, 0) AS n_mismatch,
       coalesce(n.n_stale, 0) AS n_stale,
       CASE WHEN coalesce(n.n_figures, 0) = 0 THEN 'no_figures'
            WHEN n.n_mismatch = 0 THEN 'match' ELSE 'mismatch' END AS match_state,
       CASE WHEN coalesce(n.n_figures, 0) = 0 THEN 'không có số liệu'
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
    FROM rf_figures WHERE figure_state IN ('stale', 'different_at_sending', 'no_snapshot_before')
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
            ELSE 'Chưa có snapshot trước lúc gửi nên chỉ so với dữ liệu hiện tại. Hãy rà soát dữ liệu và số liệu '
                 || 'rồi gửi lại báo cáo nếu cần.' END AS VARCHAR) AS message,
       CAST(NULL AS VARCHAR) AS student_id, CAST(NULL AS INTEGER) AS grade,
       CAST(NULL AS VARCHAR) AS term, CAST(source_row AS BIGINT) AS source_row
FROM f;

-- The findings of the evaluation: the snapshot's own plus the figure mismatches.
ALTER VIEW findings RENAME TO findings_snapshot;
CREATE VIEW findings AS
SELECT * FROM findings_snapshot
UNION ALL
SELECT * FROM rf_mismatch_findings;
