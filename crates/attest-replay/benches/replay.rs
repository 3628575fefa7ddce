//! Replay benchmark (placeholder until written).
fn main() {}
