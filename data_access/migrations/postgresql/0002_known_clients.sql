-- Migration 2 on PostgreSQL: the same table as sqlite/0002_known_clients.sql (known clients of a
-- username; a keyed hash of the client, never its address). Text COLLATE "C" as in migration 1.
CREATE TABLE IF NOT EXISTS known_clients (
    username      TEXT COLLATE "C" NOT NULL,
    client_tag    TEXT COLLATE "C" NOT NULL,
    first_success TEXT COLLATE "C" NOT NULL,
    last_success  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (username, client_tag)
);
