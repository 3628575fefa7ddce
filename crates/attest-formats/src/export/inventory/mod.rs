//! Inventory as code, written: the data source inventory as the YAML file that
//! [`crate::import::inventory`] reads (`attest sources export`). Reading what this writes gives
//! the same sources back, except their health (`last_seen`), which is observed, not declared.

#[cfg(test)]
mod tests;
mod write;

pub use write::{WriteError, write_inventory};
