//! Integration tests: the simulator over real HTTP on 127.0.0.1 (one test binary).

mod api;
mod binary;
mod common;
mod faults;
mod search;
mod seed;
