-- Where a box stands, for the public trace page: the market's name and the stall number in it.
-- Empty = not given at registration.
ALTER TABLE devices ADD COLUMN market TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN stall_no TEXT NOT NULL DEFAULT '';
