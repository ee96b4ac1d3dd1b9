//! Integration tests: the client against a wiremock Zendesk (one `MockServer` per test), and the
//! plugin through its FFI object.
//!
//! Response bodies come from recorded real Zendesk responses where one fits (go-zendesk, MIT:
//! tests/fixtures/zendesk, see its README and LICENSE-go-zendesk).

mod batch;
mod common;
mod conformance;
mod errors;
mod export;
mod ffi;
mod params;
mod reads;
mod tls;
mod writes;
