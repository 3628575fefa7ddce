-- Exposures (CTEM) projections: one row per finding on an asset, and the finding → technique
-- mapping sets. Derived data like 0002's tables: rebuilt from the journal when their layout
-- version changes.
CREATE TABLE exposures (
    key      TEXT PRIMARY KEY, -- FINDING@ASSET
    asset    TEXT NOT NULL,
    finding  TEXT NOT NULL,
    feed     TEXT NOT NULL,
    status   TEXT NOT NULL,    -- open | fixed | accepted
    severity DOUBLE PRECISION NOT NULL, -- normalised 0-10
    record   TEXT NOT NULL     -- JSON of the exposure with its change instants
);
CREATE INDEX exposures_finding ON exposures (finding);
CREATE INDEX exposures_status ON exposures (status);

CREATE TABLE exposure_mappings (
    name   TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,     -- cve | misconfiguration
    record TEXT NOT NULL
);
