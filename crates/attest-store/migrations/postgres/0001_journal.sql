-- The journal: the source of truth. Append-only; `seq` is assigned by the store under the
-- table lock, so it is gapless and strictly increasing.
CREATE TABLE journal (
    seq     BIGINT PRIMARY KEY,
    at_ms   BIGINT NOT NULL, -- journal time in epoch milliseconds, for range filters
    at      TEXT   NOT NULL, -- journal time, exact RFC 3339
    who     TEXT   NOT NULL,
    why     TEXT,
    kind    TEXT   NOT NULL,
    payload TEXT   NOT NULL  -- versioned JSON, see src/stored
);
CREATE INDEX journal_at_ms ON journal (at_ms);

CREATE FUNCTION attest_journal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION attest_journal_append_only();

-- Workspace metadata written by `attest init` (ATT&CK releases in use, cache paths, ...).
CREATE TABLE workspace_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
