-- Rooms: level trimmed and upper-cased.
CREATE OR REPLACE VIEW stg_rooms AS
SELECT school_code, room_code, room_type, upper(trim(level)) AS level, _row AS source_row
FROM src_rooms;
