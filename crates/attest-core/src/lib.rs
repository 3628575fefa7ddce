//! attest-core (placeholder until its issue lands).
