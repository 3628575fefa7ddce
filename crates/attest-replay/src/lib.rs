//! attest-replay (placeholder until its issue lands).
