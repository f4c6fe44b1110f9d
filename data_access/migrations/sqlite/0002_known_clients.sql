-- Migration 2: known clients of a username (issue 13, finding 6, third outside review).
-- A client that has logged in successfully as a username is not held back by that username's
-- spacing and ceiling (data_access/accounts.py). Kept here, not in one process's memory, so a
-- restarted process or another replica knows it too. client_tag is an HMAC of the client key
-- (IPv4 address or IPv6 /64) with the store's secret: the address itself is never stored.
CREATE TABLE IF NOT EXISTS known_clients (
    username      TEXT NOT NULL,
    client_tag    TEXT NOT NULL,
    first_success TEXT NOT NULL,
    last_success  TEXT NOT NULL,
    PRIMARY KEY (username, client_tag)
);
