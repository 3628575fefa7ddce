//! attest-sigma (placeholder until its issue lands).
