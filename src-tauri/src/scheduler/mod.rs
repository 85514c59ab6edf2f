//! placeholder; see lib.rs
