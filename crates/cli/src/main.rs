//! The `qts` command.
fn main() {}
