//! attest-attack (placeholder until its issue lands).
