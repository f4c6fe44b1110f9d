-- Results findings (entity 'score' / 'term_summary'), for the population's required (grade, term).
-- One view over the narrow score rows (stg_score_rows, a table when computing a snapshot): two
-- aggregates (ys per subject block, g per term) give what every rule needs; only the few rows
-- with a finding of their own (bad, yr_bad) are read again, with their names joined back.

-- Number of required subjects per programme.
CREATE OR REPLACE VIEW chk_programme_counts AS
SELECT programme_id,
       count(*) AS n_req,
       count(*) FILTER (WHERE assessed = 'score') AS n_scored,
       count(*) FILTER (WHERE assessed = 'rating') AS n_rated,
       count(*) FILTER (WHERE assessed = 'score' AND is_key) AS n_key
FROM cfg_programme_subjects GROUP BY programme_id;

CREATE OR REPLACE VIEW chk_results AS
WITH
-- the score rows of a used year (stg_score_rows also holds, with used = false, the rows of a
-- well-formed year that is not their grade's: read only for RESULTS_YEAR_NOT_USED below)
u AS NOT MATERIALIZED (
    SELECT * EXCLUDE (used) FROM stg_score_rows WHERE used
),
-- per (student, grade, block of 9 programme subjects), over the narrow score rows (stg_score_rows,
-- not yet deduplicated): each subject of a block has a 7-bit slot (sid = 9 * block + slot + 1)
-- in p1, p2, p3 holding its valid HK1, HK2, CN score (tenths + 1; 0 = no valid score), and a bit
-- per (slot, term) in terms; n_rows > number of those bits means some subject has more than one
-- row in a term (those (student, grade) are recomputed after deduplication in yr below).
-- (Blocks rather than one group per subject: ~6 times fewer groups for the same information.)
ys AS MATERIALIZED (
    SELECT ckey // 2048 AS k_student, (ckey // 8) % 256 AS grade, ckey % 8 AS block,
           p1, p2, p3, n_rows <> bit_count(terms) AS has_dup
    FROM (SELECT (CAST(k_student AS BIGINT) * 256 + grade) * 8 + (sid - 1) // 9 AS ckey,  -- grade < 256, sid < 64
                 count(*) AS n_rows,
                 bit_or(CAST(1 AS BIGINT) << (((sid - 1) % 9) * 4 + term_code)) AS terms,
                 bit_or(CASE WHEN kind = 1 AND term_code = 1
                             THEN CAST(score_t + 1 AS BIGINT) << (7 * ((sid - 1) % 9)) END) AS p1,
                 bit_or(CASE WHEN kind = 1 AND term_code = 2
                             THEN CAST(score_t + 1 AS BIGINT) << (7 * ((sid - 1) % 9)) END) AS p2,
                 bit_or(CASE WHEN kind = 1 AND term_code = 3
                             THEN CAST(score_t + 1 AS BIGINT) << (7 * ((sid - 1) % 9)) END) AS p3
          FROM u
          WHERE sid IS NOT NULL
          GROUP BY ckey)
),
-- (student, grade) with a programme subject that has several rows in one term, or with rows of
-- several school years (stg_grade_years: a repeater; rare): their rows are reduced to the year
-- used for the grade, then deduplicated (highest spreadsheet row); all others are kept as they are
dup AS MATERIALIZED (
    SELECT DISTINCT k_student, grade FROM ys WHERE has_dup
    UNION
    SELECT k_student, grade FROM stg_grade_years
),
sc AS NOT MATERIALIZED (
    SELECT * FROM u ANTI JOIN dup USING (k_student, grade)
    UNION ALL
    SELECT x.* EXCLUDE (chosen_sy)
    FROM (SELECT u.*, m.sy AS chosen_sy FROM u SEMI JOIN dup USING (k_student, grade)
          LEFT JOIN stg_grade_years m USING (k_student, grade)) x
    WHERE x.chosen_sy IS NULL OR x.sy = x.chosen_sy
    QUALIFY x.sid IS NULL
         OR row_number() OVER (PARTITION BY x.k_student, x.grade, x.term_code, x.sid
                               ORDER BY x.sy DESC NULLS LAST, x.source_row DESC) = 1
),
sm AS NOT MATERIALIZED (   -- of the year used for the grade (stg_summaries is a table when computing)
    SELECT * FROM stg_summaries_used
),
-- per (student, grade, term): what the score rows hold
g AS MATERIALIZED (
    SELECT gkey // 1024 AS k_student, (gkey // 4) % 256 AS grade, gkey % 4 AS term_code, *
    FROM (SELECT (CAST(k_student AS BIGINT) * 256 + grade) * 4 + term_code AS gkey,   -- grade < 256, term_code < 4
                 count(*) AS n_rows,
                 max(sy) AS sy,
                 bit_or(CAST(1 AS BIGINT) << sid) AS sid_mask,   -- programme subjects with a row
                 sum(CAST(kind = 1 AND score_t IS NOT NULL AS INTEGER)) AS n_sc_valid,
                 -- rated subjects are not required (RULES.md): only a present rating counts
                 sum(CAST(kind = 2 AND rating_code = 0 AS INTEGER)) AS n_rt_bad,
                 sum(CAST(kind = 2 AND rating_code = 2 AS INTEGER)) AS n_rt_cd,
                 sum(CASE WHEN kind = 1 THEN score_t END) AS sum_t,
                 min(CASE WHEN kind = 1 THEN score_t END) AS min_t,
                 max(CASE WHEN kind = 1 AND is_key THEN score_t END) AS key_max_t,
                 sum(CAST(kind = 1 AND score_t < 65 AS INTEGER)) AS n_below65,
                 sum(CAST(kind = 1 AND score_t < 50 AS INTEGER)) AS n_below50
          FROM sc GROUP BY gkey)
),
-- required (grade, term) of each population student, with what exists for it
pt AS (
    SELECT pt.*,
           sm.school_year AS sm_year, sm.k_student IS NOT NULL AS has_summary,
           coalesce(g.n_rows, 0) AS n_rows, coalesce(bit_count(g.sid_mask), 0) AS n_req_rows,
           g.sid_mask, sy_text(g.sy) AS sc_year, coalesce(pc.n_req, 0) AS n_req,
           -- the year used for the grade (from any of its terms), for a term without rows
           max(coalesce(sm.sy, g.sy)) OVER (PARTITION BY pt.k_student, pt.grade) AS grade_sy
    FROM stg_population_term_keys pt
    LEFT JOIN sm ON sm.gkey = pt.gkey
    LEFT JOIN g ON g.gkey = pt.gkey
    LEFT JOIN chk_programme_counts pc ON pc.programme_id = pt.programme_id
),
-- required subjects without a row, where the (grade, term) has some data
incomplete AS (
    SELECT * FROM pt WHERE (has_summary OR n_rows > 0) AND n_req_rows < n_req
),
no_row AS (
    SELECT i.*, ps.subject, ps.assessed, ps.sid
    FROM incomplete i
    JOIN stg_programme_subjects ps ON ps.programme_id = i.programme_id AND ps.assessed = 'score'
    WHERE coalesce((i.sid_mask >> ps.sid) & 1, 0) = 0
),
-- score rows with a finding of their own, with names
bad AS (
    SELECT sc.k_student, sc.grade, sc.source_row, ps.assessed, sy_text(sc.sy) AS school_year,
           sc.score_err, sc.rating_code, p.student_id, p.school_code, ps.subject,
           CASE sc.term_code WHEN 1 THEN 'HK1' WHEN 2 THEN 'HK2' WHEN 3 THEN 'CN' END AS term
    FROM sc
    JOIN stg_population_keys p ON p.k_student = sc.k_student
    JOIN stg_programme_subjects ps ON ps.programme_id = p.programme_id AND ps.sid = sc.sid
    WHERE (sc.kind = 1 AND sc.score_t IS NULL) OR (sc.kind = 2 AND sc.rating_code = 0)
),
-- summaries with the score aggregates, the computed rank
r AS (
    SELECT sm.*, g.n_sc_valid, g.n_rt_bad, g.n_rt_cd, g.sum_t, g.min_t, g.key_max_t,
           g.n_below65, g.n_below50, pc.n_scored, pc.n_rated, pc.n_key,
           CASE WHEN pc.n_scored > 0 THEN round1_div(g.sum_t, pc.n_scored) END AS avg_t,
           -- "rated subjects all Đ": none rated CĐ/Chưa đạt (Miễn, exempt, does not count against)
           coalesce(g.n_rt_cd, 0) = 0 AS all_d,
           coalesce(pc.n_key, 0) = 0 AS no_key
    FROM sm
    LEFT JOIN g ON g.gkey = sm.gkey
    LEFT JOIN chk_programme_counts pc ON pc.programme_id = sm.programme_id
),
rk AS (
    SELECT r.*,
           CASE WHEN avg_t >= 80 AND (no_key OR key_max_t >= 80) AND min_t >= 65 AND all_d THEN 'Giỏi'
                WHEN avg_t >= 65 AND (no_key OR key_max_t >= 65) AND min_t >= 50 AND all_d THEN 'Khá'
                WHEN avg_t >= 50 AND (no_key OR key_max_t >= 50) AND min_t >= 35 AND all_d THEN 'Trung bình'
                WHEN avg_t >= 35 AND min_t >= 20 THEN 'Yếu'
                ELSE 'Kém' END AS raw_rank
    FROM r
    WHERE n_scored > 0 AND n_sc_valid = n_scored AND coalesce(n_rt_bad, 0) = 0
),
rc AS (
    SELECT rk.*,
           CASE WHEN avg_t >= 80 AND (no_key OR key_max_t >= 80) AND all_d AND n_below65 = 1
                     AND raw_rank IN ('Trung bình', 'Yếu')
                THEN CASE raw_rank WHEN 'Trung bình' THEN 'Khá' ELSE 'Trung bình' END
                WHEN avg_t >= 65 AND avg_t < 80 AND (no_key OR key_max_t >= 65) AND all_d AND n_below50 = 1
                     AND raw_rank IN ('Yếu', 'Kém')
                THEN CASE raw_rank WHEN 'Yếu' THEN 'Trung bình' ELSE 'Yếu' END
                ELSE raw_rank END AS computed_rank
    FROM rk
),
-- whole-year score vs the two terms, per (student, grade, scored subject) with HK1, HK2 and CN
-- all valid (scores in tenths): from ys, recomputed over the deduplicated rows where ys saw
-- duplicates
yr AS (
    SELECT k_student, grade, sid, h1 - 1 AS h1, h2 - 1 AS h2, cn - 1 AS cn
    FROM (SELECT y.k_student, y.grade, y.block * 9 + j.slot + 1 AS sid,
                 (y.p1 >> (7 * j.slot)) & 127 AS h1, (y.p2 >> (7 * j.slot)) & 127 AS h2,
                 (y.p3 >> (7 * j.slot)) & 127 AS cn
          FROM (SELECT * FROM ys ANTI JOIN dup USING (k_student, grade)) y CROSS JOIN range(9) j(slot))
    WHERE h1 > 0 AND h2 > 0 AND cn > 0
    UNION ALL
    SELECT k_student, grade, sid, max(score_t) FILTER (WHERE term_code = 1) AS h1,
           max(score_t) FILTER (WHERE term_code = 2) AS h2, max(score_t) FILTER (WHERE term_code = 3) AS cn
    FROM (SELECT * FROM sc SEMI JOIN dup USING (k_student, grade))
    WHERE kind = 1 AND score_t IS NOT NULL AND term_code IN (1, 2, 3)
    GROUP BY k_student, grade, sid
    HAVING count(DISTINCT term_code) = 3
),
yr_mismatch AS (
    SELECT * FROM yr WHERE cn <> round1_div(h1 + 2 * h2, 3)
),
yr_bad AS (
    SELECT sc.k_student, sc.grade, sc.sid, sy_text(sc.sy) AS cn_year, sc.source_row AS cn_row,
           p.student_id, p.school_code, ps.subject
    FROM yr_mismatch yr
    JOIN sc ON sc.k_student = yr.k_student AND sc.grade = yr.grade AND sc.sid = yr.sid AND sc.term_code = 3
    JOIN stg_population_keys p ON p.k_student = yr.k_student
    JOIN stg_programme_subjects ps ON ps.programme_id = p.programme_id AND ps.sid = yr.sid
),
-- rows that exist for a required (grade, term) without any used row of their entity, in a
-- well-formed year that is not used (RESULTS_YEAR_NOT_USED; rev12b finding 13): a grade-12 row of
-- an earlier year, a grade-10/11 row of the results year, or of an older year than the grade's
not_used AS (
    SELECT x.entity, pt.student_id, pt.school_code, pt.grade, pt.term, sy_text(x.sy) AS found_year,
           pt.grade_sy, count(*) AS n, min(x.source_row) AS source_row
    FROM (SELECT 'score' AS entity, k_student, grade, term_code, sy, source_row
          FROM stg_score_rows WHERE NOT used
          UNION ALL
          SELECT 'score', r.k_student, r.grade, r.term_code, r.sy, r.source_row
          FROM stg_score_rows r JOIN stg_grade_years m USING (k_student, grade)
          WHERE r.used AND r.sy <> m.sy
          UNION ALL
          SELECT 'term_summary', k_student, grade, term_code, sy, source_row FROM stg_summaries_wrong_year
          UNION ALL
          SELECT 'term_summary', s.k_student, s.grade, s.term_code, s.sy, s.source_row
          FROM stg_summaries s JOIN stg_grade_years m USING (k_student, grade)
          WHERE s.sy <> m.sy) x
    JOIN pt ON pt.k_student = x.k_student AND pt.grade = x.grade AND pt.term_code = x.term_code
    WHERE CASE x.entity WHEN 'score' THEN pt.n_rows = 0 ELSE NOT pt.has_summary END
    GROUP BY ALL
)
SELECT school_code, 'SCORE_OUT_OF_RANGE' AS rule_id, 'error' AS severity, 'score' AS entity,
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term, subject) AS record_key,
       'score' AS field,
       'Điểm môn ' || subject || ', ' || ctx_vi(grade, term, school_year)
       || ' không phải là số từ 0 đến 10. Hãy nhập điểm dạng số, ví dụ 7.5 hoặc 7,5.' AS message,
       student_id, grade, term, source_row
FROM bad
WHERE assessed = 'score' AND score_err & 1 = 1
UNION ALL
SELECT school_code, 'SCORE_PRECISION', 'error', 'score',
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term, subject), 'score',
       'Điểm môn ' || subject || ', ' || ctx_vi(grade, term, school_year)
       || ' có nhiều hơn một chữ số thập phân. Điểm trung bình môn được làm tròn đến một chữ số '
       || 'thập phân (ví dụ 7,25 thành 7,3): hãy nhập lại điểm đã làm tròn.',
       student_id, grade, term, source_row
FROM bad
WHERE assessed = 'score' AND score_err & 2 = 2
UNION ALL
SELECT school_code, 'RATING_INVALID', 'warning', 'score',
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term, subject), 'rating',
       'Đánh giá môn ' || subject || ', ' || ctx_vi(grade, term, school_year)
       || ' không hợp lệ: chỉ ghi «Đ»/«Đạt», «CĐ»/«Chưa đạt» hoặc «Miễn» (môn đánh giá bằng nhận xét '
       || 'không bắt buộc cho đợt thu thập này, nhưng nếu ghi thì phải đúng).',
       student_id, grade, term, source_row
FROM bad
WHERE assessed = 'rating' AND rating_code = 0
UNION ALL
SELECT school_code, 'SUBJECT_MISSING', 'error', 'score',
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term, subject),
       CASE assessed WHEN 'score' THEN 'score' ELSE 'rating' END,
       CASE assessed WHEN 'score'
            THEN 'Thiếu điểm môn ' || subject || ', ' || ctx_vi(grade, term, school_year)
                 || ': hãy nhập điểm trung bình môn.'
            ELSE 'Thiếu đánh giá môn ' || subject || ', ' || ctx_vi(grade, term, school_year)
                 || ': hãy nhập «Đ» hoặc «CĐ».' END,
       student_id, grade, term, source_row
FROM bad
WHERE assessed = 'score' AND score_err IS NULL
UNION ALL
SELECT school_code, 'SUBJECT_MISSING', 'error', 'score',
       concat_ws('|', student_id, coalesce(sm_year, sc_year, ''), grade, term, subject),
       CASE assessed WHEN 'score' THEN 'score' ELSE 'rating' END,
       CASE assessed WHEN 'score'
            THEN 'Thiếu điểm môn ' || subject || ', ' || ctx_vi(grade, term, coalesce(sm_year, sc_year))
                 || ': hãy nhập điểm trung bình môn.'
            ELSE 'Thiếu đánh giá môn ' || subject || ', ' || ctx_vi(grade, term, coalesce(sm_year, sc_year))
                 || ': hãy nhập «Đ» hoặc «CĐ».' END,
       student_id, grade, term, NULL
FROM no_row
UNION ALL
SELECT school_code, 'TERM_SUMMARY_MISSING', 'error', 'term_summary',
       concat_ws('|', student_id, coalesce(sc_year, sy_text(grade_sy), ''), grade, term), NULL,
       'Chưa có kết quả tổng kết ' || ctx_vi(grade, term, coalesce(sc_year, sy_text(grade_sy)))
       || ' (điểm TB các môn, học lực, hạnh kiểm): hãy nhập kết quả tổng kết.',
       student_id, grade, term, NULL
FROM pt WHERE NOT has_summary
UNION ALL
SELECT school_code, 'YEAR_SCORE_MISMATCH', 'error', 'score',
       concat_ws('|', student_id, coalesce(cn_year, ''), grade, 'CN', subject), 'score',
       'Điểm cả năm môn ' || subject || ', lớp ' || grade || coalesce(' (năm học ' || cn_year || ')', '')
       || ' không bằng (điểm HK I + 2 × điểm HK II) / 3 làm tròn đến một chữ số thập phân. '
       || 'Hãy kiểm tra lại điểm cả năm và điểm hai học kỳ của môn này.',
       student_id, grade, 'CN', cn_row
FROM yr_bad
UNION ALL
SELECT school_code, 'MISSING_FIELD', 'error', 'term_summary',
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term), f.field,
       'Thiếu ' || f.label || ' trong kết quả tổng kết ' || ctx_vi(grade, term, school_year)
       || ': hãy nhập bổ sung.',
       student_id, grade, term, source_row
FROM sm CROSS JOIN (VALUES (1, 'overall_average', 'điểm trung bình các môn'),
                           (2, 'academic_rank', 'học lực'), (3, 'conduct', 'hạnh kiểm')) f(n, field, label)
WHERE CASE f.n WHEN 1 THEN overall_average_raw IS NULL
               WHEN 2 THEN academic_rank IS NULL ELSE conduct IS NULL END
UNION ALL
SELECT school_code, 'OVERALL_AVERAGE_MISMATCH', 'error', 'term_summary',
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term), 'overall_average',
       CASE WHEN overall_average_num IS NULL OR overall_average_num > 10
            THEN 'Điểm trung bình các môn ' || ctx_vi(grade, term, school_year)
                 || ' không phải là số từ 0 đến 10. Hãy nhập dạng số, ví dụ 7.8 hoặc 7,8.'
            ELSE 'Điểm trung bình các môn ' || ctx_vi(grade, term, school_year)
                 || ' không bằng trung bình cộng điểm ' || n_scored
                 || ' môn tính điểm (làm tròn đến một chữ số thập phân). '
                 || 'Hãy kiểm tra lại điểm TB các môn và điểm từng môn.' END,
       student_id, grade, term, source_row
FROM r
WHERE overall_average_raw IS NOT NULL
  AND (overall_average_num IS NULL OR overall_average_num > 10
       OR (n_scored > 0 AND n_sc_valid = n_scored
           AND abs(overall_average_num * 10 - round1_div(sum_t, n_scored)) > 0.5))
UNION ALL
SELECT school_code, 'RANK_INVALID', 'error', 'term_summary',
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term), 'academic_rank',
       'Học lực ' || ctx_vi(grade, term, school_year)
       || ' không hợp lệ: chỉ ghi một trong «Giỏi», «Khá», «Trung bình», «Yếu», «Kém».',
       student_id, grade, term, source_row
FROM sm
WHERE academic_rank IS NOT NULL AND academic_rank NOT IN ('Giỏi', 'Khá', 'Trung bình', 'Yếu', 'Kém')
UNION ALL
SELECT school_code, 'CONDUCT_INVALID', 'error', 'term_summary',
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term), 'conduct',
       'Hạnh kiểm ' || ctx_vi(grade, term, school_year)
       || ' không hợp lệ: chỉ ghi một trong «Tốt», «Khá», «Trung bình», «Yếu».',
       student_id, grade, term, source_row
FROM sm
WHERE conduct IS NOT NULL AND conduct NOT IN ('Tốt', 'Khá', 'Trung bình', 'Yếu')
UNION ALL
SELECT school_code, 'RANK_INCONSISTENT', 'warning', 'term_summary',
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term), 'academic_rank',
       'Học lực ' || ctx_vi(grade, term, school_year) || ' không khớp với điểm các môn: theo '
       || 'Thông tư 58/2011 (sửa đổi bởi Thông tư 26/2020), kể cả quy định điều chỉnh, học lực là «'
       || computed_rank || '». Hãy kiểm tra lại học lực và điểm các môn.',
       student_id, grade, term, source_row
FROM rc
WHERE academic_rank IN ('Giỏi', 'Khá', 'Trung bình', 'Yếu', 'Kém') AND academic_rank <> computed_rank
UNION ALL
SELECT school_code, 'SCHOOL_YEAR_INVALID', 'warning', entity,
       concat_ws('|', student_id, coalesce(school_year, ''), grade, term, subject), 'school_year',
       CASE WHEN entity = 'score' THEN 'Dòng điểm môn ' || subject ELSE 'Dòng kết quả tổng kết' END
       || ', lớp ' || grade || ', ' || term_vi(term) || ' có năm học '
       || coalesce('«' || school_year || '»', 'để trống')
       || ' không hợp lệ: năm học phải có dạng 2021-2022 và không sau năm học '
       || (SELECT results_year FROM cfg_params)
       || '. Dòng này không được tính vào kết quả học tập; hãy sửa lại năm học.',
       student_id, grade, term, source_row
FROM stg_year_invalid_rows
UNION ALL
SELECT school_code, 'RESULTS_YEAR_NOT_USED', 'warning', entity,
       concat_ws('|', student_id, found_year, grade, term), 'school_year',
       'Có ' || n || CASE entity WHEN 'score' THEN ' dòng điểm môn ' ELSE ' dòng kết quả tổng kết ' END
       || ctx_vi(grade, term, found_year) || ' nhưng không được tính: '
       || CASE WHEN grade = (SELECT population_grade FROM cfg_params)
               THEN 'lớp ' || grade || ' chỉ tính năm học ' || (SELECT results_year FROM cfg_params)
               WHEN grade_sy IS NOT NULL
               THEN 'lớp ' || grade || ' được tính theo năm học ' || sy_text(grade_sy)
                    || ' (năm học gần nhất trước ' || (SELECT results_year FROM cfg_params)
                    || ' có kết quả lớp ' || grade || ' của học sinh)'
               ELSE 'lớp ' || grade || ' phải thuộc một năm học trước ' || (SELECT results_year FROM cfg_params) END
       || '. Hãy sửa năm học nếu bị nhập nhầm, hoặc nhập kết quả của năm học được tính.',
       student_id, grade, term, source_row
FROM not_used
UNION ALL
SELECT school_code, x.rule_id, 'warning', entity,
       concat_ws('|', student_id, coalesce(school_year, ''), coalesce(CAST(grade AS VARCHAR), grade_raw, ''),
                 coalesce(term, term_raw, ''), subject), x.field,
       CASE WHEN entity = 'score' THEN 'Dòng điểm môn ' || coalesce(subject, '(không tên)') ELSE 'Dòng kết quả tổng kết' END
       || coalesce(' năm học ' || school_year, '') || ' có '
       || CASE x.rule_id WHEN 'GRADE_INVALID'
               THEN 'khối ' || coalesce('«' || grade_raw || '»', 'để trống')
                    || ' không đọc được (ghi 10, 11, 12 hoặc «Khối 12»)'
               ELSE 'học kỳ ' || coalesce('«' || term_raw || '»', 'để trống')
                    || ' không đọc được (ghi HK1, HK2 hoặc CN, hay «Học kỳ 2», «Cả năm»)' END
       || '. Dòng này không được tính vào kết quả học tập; hãy sửa lại.',
       student_id, grade, term, source_row
FROM stg_results_unreadable_rows
CROSS JOIN (VALUES ('GRADE_INVALID', 'grade'), ('TERM_INVALID', 'term')) x(rule_id, field)
WHERE CASE x.rule_id WHEN 'GRADE_INVALID' THEN grade IS NULL ELSE term IS NULL END;
