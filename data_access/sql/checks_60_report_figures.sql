-- Figures of the reports (so_lieu_bao_cao) that cannot be compared with the records
-- (RULES.md «Report figures»): a value that is not a whole number, or an indicator code the
-- campaign does not define for that report. A warning: the report's status does not change.
CREATE OR REPLACE VIEW chk_report_figures AS
WITH f AS (
    SELECT f.*, i.indicator IS NOT NULL AS known
    FROM stg_report_figures f
    SEMI JOIN src_schools s ON s.school_code = f.school_code
    LEFT JOIN cfg_indicators i ON i.indicator = f.indicator AND i.report_code = f.report_code
)
SELECT school_code, 'REPORT_FIGURE_INVALID' AS rule_id, 'warning' AS severity,
       'report_figure' AS entity, report_code || '|' || indicator AS record_key,
       CASE WHEN known THEN 'value' ELSE 'indicator' END AS field,
       CASE WHEN NOT known
            THEN 'Số liệu báo cáo ' || report_code || ' có mã chỉ tiêu «' || indicator
                 || '» không có trong danh mục chỉ tiêu của báo cáo này nên chưa được đối chiếu với dữ liệu. '
                 || 'Hãy kiểm tra lại mã chỉ tiêu (cột Mã chỉ tiêu, tệp so_lieu_bao_cao, dòng '
                 || source_row || ').'
            ELSE 'Số liệu báo cáo ' || report_code || ', chỉ tiêu ' || indicator || ': giá trị '
                 || CASE WHEN value_raw IS NULL THEN 'bị bỏ trống' ELSE '«' || value_raw || '» không phải số nguyên' END
                 || ' nên chưa đối chiếu được với dữ liệu. Hãy ghi giá trị bằng số nguyên, ví dụ 120 hoặc 1.234 '
                 || '(một loại dấu phân cách hàng nghìn trong một giá trị; cột Giá trị, tệp so_lieu_bao_cao, dòng ' || source_row || ').' END AS message,
       NULL AS student_id, NULL AS grade, NULL AS term, source_row
FROM f
WHERE NOT known OR value IS NULL;

-- REPORT_FIGURE_DUPLICATE (warning): several rows of one (institution, report, indicator) whose
-- values differ (read as numbers; a value that cannot be read compares as written). The highest
-- spreadsheet row counts (stg_report_figures); the finding names the rows (up to five) and the
-- one that counts, so the school can delete the others. Equal values: no finding.
CREATE OR REPLACE VIEW chk_report_figure_duplicates AS
WITH r AS (
    SELECT r.*, coalesce(CAST(r.value AS VARCHAR), '~' || coalesce(r.value_raw, '')) AS value_key
    FROM stg_report_figure_rows r
    SEMI JOIN src_schools s ON s.school_code = r.school_code
),
g AS (
    SELECT school_code, report_code, indicator, count(*) AS n, max(source_row) AS counted_row,
           (list(value_raw ORDER BY source_row DESC))[1] AS counted_raw,   -- NULL kept (arg_max skips it)
           list('dòng ' || source_row || ': ' || coalesce('«' || value_raw || '»', 'bỏ trống')
                ORDER BY source_row) AS parts
    FROM r GROUP BY school_code, report_code, indicator
    HAVING count(DISTINCT value_key) > 1
)
SELECT school_code, 'REPORT_FIGURE_DUPLICATE' AS rule_id, 'warning' AS severity,
       'report_figure' AS entity, report_code || '|' || indicator AS record_key, 'value' AS field,
       'Số liệu báo cáo ' || report_code || ', chỉ tiêu ' || indicator || ' được ghi ở ' || n
       || ' dòng với giá trị khác nhau (' || array_to_string(parts[1:5], '; ')
       || CASE WHEN n > 5 THEN '; …' ELSE '' END || '); giá trị được dùng là '
       || coalesce('«' || counted_raw || '»', 'ô bỏ trống') || ' của dòng ' || counted_row
       || ' (dòng cuối cùng). Hãy xóa các dòng thừa, chỉ giữ một dòng với giá trị đúng '
       || '(tệp so_lieu_bao_cao).' AS message,
       NULL AS student_id, NULL AS grade, NULL AS term, counted_row AS source_row
FROM g;
