-- Webhook subscriptions, their persistent delivery queue with every attempt logged, the
-- cursor of the event detector, and the scheduler's jobs. These are operational tables, not
-- projections: they are not derived from the journal and are never rebuilt from it.
-- Deliveries and job runs are claimed with leases (lease_owner, lease_until_ms) taken under a
-- row lock, so that with several servers on one database each happens once.

CREATE TABLE webhooks (
    name       TEXT PRIMARY KEY,
    url        TEXT   NOT NULL,
    events     TEXT   NOT NULL, -- comma-separated event kinds
    shape      TEXT   NOT NULL, -- generic | slack
    secret     TEXT,            -- HMAC-SHA256 key; NULL: unsigned
    created_ms BIGINT NOT NULL
);

-- One row per (subscription, event): the body is rendered once, so every retry sends the same
-- bytes with the same signature. event_key makes enqueueing idempotent.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY, -- assigned by SQLite
    webhook        TEXT    NOT NULL,
    event_key      TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    status         TEXT    NOT NULL, -- pending | delivered | failed
    attempts       BIGINT  NOT NULL,
    created_ms     BIGINT  NOT NULL,
    next_ms        BIGINT  NOT NULL, -- due time of the next attempt
    lease_owner    TEXT,
    lease_until_ms BIGINT,
    delivered_ms   BIGINT,
    last_error     TEXT,
    UNIQUE (webhook, event_key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_ms);

CREATE TABLE webhook_attempts (
    delivery_id BIGINT  NOT NULL,
    attempt     BIGINT  NOT NULL,
    at_ms       BIGINT  NOT NULL,
    owner       TEXT    NOT NULL, -- the server instance that made it
    status_code BIGINT,           -- NULL when no HTTP answer came
    error       TEXT,
    duration_ms BIGINT  NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

-- How far a consumer of the journal (the event detector) has read; advanced with a
-- compare-and-set in the same transaction as the deliveries it queued.
CREATE TABLE journal_cursors (
    name  TEXT PRIMARY KEY,
    seq   BIGINT NOT NULL,
    at_ms BIGINT NOT NULL
);

CREATE TABLE jobs (
    name           TEXT PRIMARY KEY,
    next_ms        BIGINT  NOT NULL, -- when it is due
    failures       BIGINT  NOT NULL, -- consecutive failed runs (for the retry backoff)
    lease_owner    TEXT,
    lease_until_ms BIGINT,
    last_run_ms    BIGINT,
    last_ok_ms     BIGINT,
    last_outcome   TEXT
);
