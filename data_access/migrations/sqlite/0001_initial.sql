-- Migration 1: the operational store as it was before versioned migrations (issue 17).
-- Every statement is IF NOT EXISTS, so an ops.sqlite made by the earlier code (which created
-- these tables on first use, some of them lazily) upgrades in place and keeps its rows.

-- data_access/ops.py
CREATE TABLE IF NOT EXISTS follow_ups (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    school_code   TEXT NOT NULL,
    district_code TEXT,
    contacted_on  TEXT NOT NULL,
    channel       TEXT NOT NULL,
    contact_person TEXT,
    note          TEXT,
    promised_on   TEXT,
    recorded_by   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS follow_ups_school ON follow_ups (school_code, contacted_on);

CREATE TABLE IF NOT EXISTS paper_receipts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_id    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    school_code   TEXT NOT NULL,
    district_code TEXT,
    report_code   TEXT NOT NULL,
    received_on   TEXT NOT NULL,
    signed        INTEGER NOT NULL,
    stamped       INTEGER NOT NULL,
    note          TEXT,
    withdrawn     INTEGER NOT NULL DEFAULT 0,
    reason        TEXT,
    recorded_by   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    UNIQUE (receipt_id, version)
);
CREATE INDEX IF NOT EXISTS paper_receipts_school ON paper_receipts (school_code, report_code);

CREATE TABLE IF NOT EXISTS audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    username    TEXT NOT NULL,
    role        TEXT,
    action      TEXT NOT NULL,
    object      TEXT,
    scope       TEXT,
    rows        INTEGER,
    detail      TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);

-- data_access/accounts.py
CREATE TABLE IF NOT EXISTS accounts (
    username      TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    district_code TEXT,
    school_code   TEXT,
    display_name  TEXT,
    email         TEXT,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    is_demo       INTEGER NOT NULL DEFAULT 0,
    failed_count  INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS accounts_email ON accounts (lower(email)) WHERE email IS NOT NULL;
CREATE TABLE IF NOT EXISTS sessions (
    token_hash  TEXT PRIMARY KEY,
    username    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    ended_at    TEXT,
    end_reason  TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);
CREATE TABLE IF NOT EXISTS secret_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL);

-- data_access/imports.py
CREATE TABLE IF NOT EXISTS imports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    snapshot_id  TEXT NOT NULL,
    created      INTEGER NOT NULL,
    as_of        TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    role         TEXT,
    files        TEXT,
    source       TEXT,
    schools      INTEGER,
    students     INTEGER,
    grade12      INTEGER,
    findings     INTEGER,
    rows         TEXT,
    seconds      REAL
);
CREATE INDEX IF NOT EXISTS imports_snapshot ON imports (snapshot_id);
CREATE TABLE IF NOT EXISTS hidden_snapshots (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    snapshot_id   TEXT NOT NULL,
    hidden_at     TEXT NOT NULL,
    hidden_by     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    unhidden_at   TEXT,
    unhidden_by   TEXT,
    unhide_reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS hidden_snapshots_current
    ON hidden_snapshots (snapshot_id) WHERE unhidden_at IS NULL;
