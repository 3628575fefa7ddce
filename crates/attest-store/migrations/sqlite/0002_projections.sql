-- Current-state projections of the journal, written in the same transaction as each append.
-- They are derived data: the store rebuilds them from the journal whenever their version
-- (store_meta.projection_version) differs from the code's.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE rules (
    id       TEXT PRIMARY KEY,
    title    TEXT NOT NULL,
    format   TEXT NOT NULL,
    root     TEXT NOT NULL,
    path     TEXT NOT NULL,
    status   TEXT NOT NULL,
    owner    TEXT,
    severity TEXT,
    record   TEXT NOT NULL -- JSON of the rule with its change instants
);
CREATE INDEX rules_status ON rules (status);
CREATE INDEX rules_owner ON rules (owner);
CREATE INDEX rules_origin ON rules (format, root);

CREATE TABLE rule_techniques (
    rule_id   TEXT NOT NULL,
    technique TEXT NOT NULL,
    PRIMARY KEY (rule_id, technique)
);
CREATE INDEX rule_techniques_technique ON rule_techniques (technique);

CREATE TABLE rule_tactics (
    rule_id TEXT NOT NULL,
    tactic  TEXT NOT NULL,
    PRIMARY KEY (rule_id, tactic)
);
CREATE INDEX rule_tactics_tactic ON rule_tactics (tactic);

-- One row per dependency; `value_lc` and `channel_lc` are lower-cased for matching.
CREATE TABLE rule_dependencies (
    rule_id    TEXT NOT NULL,
    kind       TEXT NOT NULL, -- component | log_source | source
    value_lc   TEXT NOT NULL,
    channel_lc TEXT,
    origin     TEXT NOT NULL  -- declared | inferred
);
CREATE INDEX rule_dependencies_rule ON rule_dependencies (rule_id);
CREATE INDEX rule_dependencies_value ON rule_dependencies (kind, value_lc);

CREATE TABLE sources (
    name   TEXT PRIMARY KEY,
    state  TEXT NOT NULL,
    owner  TEXT,
    record TEXT NOT NULL
);
CREATE TABLE source_components (
    source_name  TEXT NOT NULL,
    component_lc TEXT NOT NULL
);
CREATE INDEX source_components_name ON source_components (source_name);
CREATE TABLE source_log_sources (
    source_name TEXT NOT NULL,
    name_lc     TEXT NOT NULL,
    channel_lc  TEXT
);
CREATE INDEX source_log_sources_name ON source_log_sources (source_name);
-- Every declaration and removal of a source, in journal order (record NULL for a removal).
CREATE TABLE source_history (
    name   TEXT NOT NULL,
    idx    INTEGER NOT NULL,
    at     TEXT NOT NULL,
    record TEXT,
    PRIMARY KEY (name, idx)
);
CREATE TABLE removed_sources (
    name       TEXT PRIMARY KEY,
    removed_at TEXT NOT NULL
);

CREATE TABLE tests (
    id     TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,
    record TEXT NOT NULL
);

CREATE TABLE results (
    seq       INTEGER NOT NULL, -- the journal entry that recorded it
    rule_id   TEXT    NOT NULL,
    technique TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    run_at_ms INTEGER NOT NULL,
    record    TEXT    NOT NULL
);
CREATE INDEX results_rule ON results (rule_id, technique);

CREATE TABLE actors (
    id     TEXT PRIMARY KEY,
    record TEXT NOT NULL
);
CREATE TABLE profiles (
    name   TEXT PRIMARY KEY,
    record TEXT NOT NULL
);
-- Singletons of the state: releases, policy.
CREATE TABLE state_singletons (
    key    TEXT PRIMARY KEY,
    record TEXT NOT NULL
);
