//! The two backends. Each compiles the shared operations in `ops.rs` against its own sqlx
//! database type and supplies the few statements that differ (taking the write lock,
//! notifications).

pub(crate) mod postgres;
pub(crate) mod sqlite;
