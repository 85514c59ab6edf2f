//! placeholder; see lib.rs
pub fn main() -> i32 { 0 }
