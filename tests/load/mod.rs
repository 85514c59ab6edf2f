//! A large history for load tests and the `history` bench: [`fill`] makes it, [`measure`] times
//! and checks the read paths on it.
#![allow(dead_code)]

pub mod fill;
pub mod measure;
