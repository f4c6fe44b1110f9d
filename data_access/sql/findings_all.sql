-- All findings of one snapshot, one row each (columns: see RULES.md "Validity rules").
CREATE OR REPLACE VIEW findings AS
WITH u AS (
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_students
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_ids
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_results
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_reports
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_paper_copies
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_rooms
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_report_figures
    UNION ALL
    SELECT school_code, rule_id, severity, entity, record_key, field, message,
           student_id, grade, term, source_row FROM chk_report_figure_duplicates
)
SELECT CAST(school_code AS VARCHAR) AS school_code, CAST(rule_id AS VARCHAR) AS rule_id,
       CAST(severity AS VARCHAR) AS severity, CAST(entity AS VARCHAR) AS entity,
       CAST(record_key AS VARCHAR) AS record_key, CAST(field AS VARCHAR) AS field,
       CAST(message AS VARCHAR) AS message, CAST(student_id AS VARCHAR) AS student_id,
       CAST(grade AS INTEGER) AS grade, CAST(term AS VARCHAR) AS term,
       CAST(source_row AS BIGINT) AS source_row
FROM u;

-- Legend of the rules for the UI: one row per (rule_id, entity), from
-- data_access/reference/rule_catalog.csv (ref_rule_catalog).
CREATE OR REPLACE VIEW rule_catalog AS
SELECT rule_id, severity, entity, title_vi, description_vi FROM ref_rule_catalog;
