//! Integration tests: the simulator over real HTTP on 127.0.0.1 (one test binary).

mod binary;
mod common;
mod faults;
mod rate;
mod read;
mod search;
mod seed;
mod write;
