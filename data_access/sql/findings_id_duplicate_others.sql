-- (Named findings_id_... so it runs after findings_all.sql: it reads the findings table.)
-- For each ID_DUPLICATE finding, the institutions of the OTHER enrolled holders of the same
-- number (one row per finding and other institution; the holder's own institution when another
-- holder studies there too). Issue 12 point 5: the message names another institution only to a
-- reader whose scope holds it, so the engine's message (computed once, for everybody) gives only
-- the count, and the names are added at query time from this table, filtered by the reader's
-- scope in SQL (data_access/access.py: finding_message_sql). Kept per snapshot beside the
-- findings (derived file id_duplicate_others.parquet). Holders: as in chk_id_holders, students
-- with the population's status (`Đang học`), any grade, city-wide, either ID column.
CREATE OR REPLACE VIEW chk_id_duplicate_others AS
WITH d AS (
    SELECT DISTINCT f.school_code, f.student_id, f.field,
           CASE f.field WHEN 'id_number' THEN b.id_number ELSE b.personal_id END AS val
    FROM findings f
    JOIN chk_student_base b ON b.student_id = f.student_id AND b.school_code = f.school_code
    WHERE f.rule_id = 'ID_DUPLICATE'
),
-- (the value semi-join on the scan first, the status after: as chk_id_holders, for speed)
h AS (
    SELECT h.student_id, h.school_code, h.val
    FROM (SELECT s.student_id, s.school_code, s.id_number AS val, s.status
          FROM src_students s SEMI JOIN d ON d.val = s.id_number
          UNION
          SELECT s.student_id, s.school_code, s.personal_id, s.status
          FROM src_students s SEMI JOIN d ON d.val = s.personal_id) h
    JOIN cfg_params prm ON h.status = prm.population_status
)
SELECT DISTINCT CAST(d.school_code AS VARCHAR) AS school_code, CAST(d.student_id AS VARCHAR) AS student_id,
       CAST(d.field AS VARCHAR) AS field, CAST(h.school_code AS VARCHAR) AS other_school_code
FROM d JOIN h ON h.val = d.val AND h.student_id <> d.student_id
WHERE h.school_code IS NOT NULL;
