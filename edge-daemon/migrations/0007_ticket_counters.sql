-- The box's own sale tickets indexed by the counter each code was minted from.
--
-- Why: ticket codes are a keyed permutation of a counter, unguessable by design, so a table
-- keyed by the code gets every insert on a random leaf page; a burst of 1000 sales dirtied
-- hundreds of pages (each written to the WAL at commit). The counter is monotonic, so keyed by
-- it the same burst appends to the tree's last pages. The box holds the code key, so it can
-- turn a code into its counter (and back) whenever it looks one up. Codes the box cannot
-- decode (another device's number, written without the key) stay in `ticket_codes`.
CREATE TABLE ticket_counters (
    counter INTEGER PRIMARY KEY NOT NULL,
    seq     INTEGER NOT NULL
) STRICT;
