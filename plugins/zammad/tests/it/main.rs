//! The Zammad adapter against wiremock on 127.0.0.1: Zammad's answer shapes (from its source and
//! docs), the adapter's requests, the resumable write, errors, history, and the SDK's
//! conformance kit.

mod common;
mod conformance;
mod errors;
mod export;
mod reads;
mod writes;
