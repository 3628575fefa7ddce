-- The journal: the source of truth. Append-only; `seq` is assigned by the store under the
-- write lock, so it is gapless and strictly increasing.
CREATE TABLE journal (
    seq     INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL, -- journal time in epoch milliseconds, for range filters
    at      TEXT    NOT NULL, -- journal time, exact RFC 3339
    who     TEXT    NOT NULL,
    why     TEXT,
    kind    TEXT    NOT NULL,
    payload TEXT    NOT NULL  -- versioned JSON, see src/stored
);
CREATE INDEX journal_at_ms ON journal (at_ms);

CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;

-- Workspace metadata written by `attest init` (ATT&CK releases in use, cache paths, ...).
CREATE TABLE workspace_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
