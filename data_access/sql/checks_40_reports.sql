-- Reports and paper copies of all institutions of the snapshot.
CREATE OR REPLACE VIEW chk_reports AS
SELECT r.school_code, 'REPORT_RETURNED' AS rule_id, 'error' AS severity, 'report' AS entity,
       r.report_code AS record_key, 'status' AS field,
       'Báo cáo ' || r.report_code || ' bị Sở trả lại'
       || coalesce(' với ghi chú: «' || r.note || '»', ' (không có ghi chú)')
       || '. Hãy chỉnh sửa theo yêu cầu và gửi lại báo cáo.' AS message,
       NULL AS student_id, NULL AS grade, NULL AS term, r.source_row
FROM stg_reports r SEMI JOIN src_schools s ON s.school_code = r.school_code
WHERE r.status = 'Bị trả lại'
UNION ALL
-- A logged time after the snapshot's own as-of (a mistyped year): not a send at this snapshot.
SELECT r.school_code, 'REPORT_TIME_AFTER_EXTRACT', 'warning', 'report',
       r.report_code || '|' || r.source_row, 'submitted_at',
       'Tệp bao_cao, dòng ' || r.source_row || ': báo cáo ' || r.report_code || ' ghi thời điểm gửi '
       || strftime(timezone('Asia/Ho_Chi_Minh', r.submitted_at_read), '%d/%m/%Y %H:%M')
       || ', sau thời điểm trích xuất dữ liệu ('
       || strftime(timezone('Asia/Ho_Chi_Minh', (SELECT as_of FROM src_as_of)), '%d/%m/%Y %H:%M')
       || '). Lần gửi này chưa thể có lúc trích xuất (có thể gõ nhầm năm) nên chưa được tính là đã gửi '
       || 'ở bản dữ liệu này. Hãy kiểm tra và sửa cột «Thời điểm gửi» trong nhật ký gửi báo cáo.',
       NULL, NULL, NULL, r.source_row
FROM stg_report_rows r SEMI JOIN src_schools s ON s.school_code = r.school_code
WHERE r.after_as_of;

CREATE OR REPLACE VIEW chk_paper_copies AS
WITH p AS (
    SELECT p.*, bool_or(p.valid) OVER (PARTITION BY p.school_code, p.report_code) AS has_valid
    FROM stg_paper_copies p SEMI JOIN src_schools s ON s.school_code = p.school_code
)
SELECT school_code, 'PAPER_UNSIGNED' AS rule_id, 'error' AS severity, 'paper_copy' AS entity,
       report_code || '|' || source_row AS record_key, 'signed' AS field,
       'Bản giấy báo cáo ' || report_code || ' nhận được chưa có chữ ký của thủ trưởng đơn vị. '
       || 'Hãy gửi lại bản giấy có ký tên (và đóng dấu).' AS message,
       NULL AS student_id, NULL AS grade, NULL AS term, source_row
FROM p WHERE NOT has_valid AND NOT signed
UNION ALL
SELECT school_code, 'PAPER_UNSTAMPED', 'error', 'paper_copy',
       report_code || '|' || source_row, 'stamped',
       'Bản giấy báo cáo ' || report_code || ' nhận được chưa đóng dấu của đơn vị. '
       || 'Hãy gửi lại bản giấy có đóng dấu (và ký tên).',
       NULL, NULL, NULL, source_row
FROM p WHERE NOT has_valid AND NOT stamped;
