//! attest-formats (placeholder until its issue lands).
