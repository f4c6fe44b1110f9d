-- Report submissions. submitted_at: 'dd/mm/yyyy HH:MM[:SS]' or ISO 'yyyy-mm-dd[ T]HH:MM[:SS]'
-- (an ISO value may carry an explicit offset or Z), local time Asia/Ho_Chi_Minh -> TIMESTAMPTZ;
-- anything else (incl. a date without a time, or an impossible date) -> NULL.
CREATE OR REPLACE VIEW stg_report_rows_read AS
WITH p AS (
    SELECT *,
           regexp_extract(submitted_at,
               '^(\d{1,2})/(\d{1,2})/(\d{4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?$',
               ['d', 'm', 'y', 'hh', 'mi', 'ss']) AS a,
           regexp_extract(submitted_at,
               '^(\d{4})-(\d{2})-(\d{2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$',
               ['y', 'm', 'd', 'hh', 'mi', 'ss', 'tz']) AS b
    FROM src_reports
), t AS (
    SELECT *,
           CASE WHEN a.y <> '' THEN a.y || '-' || lpad(a.m, 2, '0') || '-' || lpad(a.d, 2, '0') || ' '
                                    || lpad(a.hh, 2, '0') || ':' || a.mi || ':' || coalesce(nullif(a.ss, ''), '00')
                WHEN b.y <> '' THEN b.y || '-' || b.m || '-' || b.d || ' '
                                    || lpad(b.hh, 2, '0') || ':' || b.mi || ':' || coalesce(nullif(b.ss, ''), '00')
           END AS iso_local,
           nullif(b.tz, '') AS tz
    FROM p
)
SELECT school_code, report_code, status,
       submitted_at AS submitted_at_raw,
       CASE WHEN tz IS NULL THEN timezone('Asia/Ho_Chi_Minh', try_cast(iso_local AS TIMESTAMP))
            ELSE try_cast(iso_local || CASE WHEN tz = 'Z' THEN '+00:00' ELSE tz END AS TIMESTAMPTZ)
       END AS submitted_at,
       note, _row AS source_row
FROM t;

-- A time after the snapshot's own as-of (impossible in a real export: a mistyped year) is no
-- send at this snapshot: submitted_at NULL (as an invalid time), the time read kept in
-- submitted_at_read and after_as_of TRUE (REPORT_TIME_AFTER_EXTRACT, a warning). Otherwise the
-- rule "the verdict rests on the last snapshot at or before the due time" could rest on a send
-- that had not happened (outside review of issue 12).
CREATE OR REPLACE VIEW stg_report_rows AS
WITH r AS (
SELECT school_code, report_code, status, submitted_at_raw, submitted_at AS submitted_at_read,
       coalesce(submitted_at > (SELECT as_of FROM src_as_of), FALSE) AS after_as_of,
       note, source_row
FROM stg_report_rows_read
)
SELECT school_code, report_code, status, submitted_at_raw,
       CASE WHEN NOT after_as_of THEN submitted_at_read END AS submitted_at,
       submitted_at_read, after_as_of, note, source_row
FROM r;

-- The institution's row for each report: latest submitted_at (rows without a valid time come
-- last), then the highest spreadsheet row. n_rows: how many rows the log has for it.
CREATE OR REPLACE VIEW stg_reports AS
SELECT school_code, report_code, status, submitted_at, submitted_at_raw,
       submitted_at IS NOT NULL AS submitted_at_valid, note, source_row,
       count(*) OVER (PARTITION BY school_code, report_code) AS n_rows
FROM stg_report_rows
QUALIFY row_number() OVER (PARTITION BY school_code, report_code
                           ORDER BY submitted_at DESC NULLS LAST, source_row DESC) = 1;

-- Paper copies received. received_on parsed like birth_date; signed/stamped true when exactly
-- 'Có'; valid = signed, stamped and a valid received_on.
CREATE OR REPLACE VIEW stg_paper_copies AS
WITH d AS (SELECT *, parse_vn_date(received_on) AS rdate FROM src_paper_copies)
SELECT school_code, report_code,
       received_on AS received_on_raw, rdate AS received_on, rdate IS NOT NULL AS received_on_valid,
       coalesce(signed = 'Có', false) AS signed,
       coalesce(stamped = 'Có', false) AS stamped,
       coalesce(signed = 'Có' AND stamped = 'Có' AND rdate IS NOT NULL, false) AS valid,
       _row AS source_row
FROM d;
