-- Rooms declared under two or more levels (all institutions).
CREATE OR REPLACE VIEW chk_rooms AS
SELECT r.school_code, 'ROOM_MULTI_LEVEL' AS rule_id, 'error' AS severity, 'room' AS entity,
       r.room_code AS record_key, 'level' AS field,
       'Phòng ' || r.room_code || ' được khai ở ' || count(DISTINCT r.level) || ' cấp học khác nhau ('
       || array_to_string(list(DISTINCT r.level ORDER BY r.level), ', ')
       || '). Mỗi phòng chỉ được khai cho một cấp học: hãy giữ một cấp và xóa các dòng còn lại.' AS message,
       NULL AS student_id, NULL AS grade, NULL AS term, min(r.source_row) AS source_row
FROM stg_rooms r SEMI JOIN src_schools s ON s.school_code = r.school_code
WHERE r.level IS NOT NULL AND r.level <> '' AND r.room_code IS NOT NULL
GROUP BY r.school_code, r.room_code
HAVING count(DISTINCT r.level) > 1;
