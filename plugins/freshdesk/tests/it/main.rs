//! The Freshdesk adapter against wiremock on 127.0.0.1: Freshdesk's answer shapes (from its API
//! docs), the adapter's requests and their credits, the resumable write, bulk jobs, errors,
//! history, and the SDK's conformance kit.

mod common;
mod conformance;
mod errors;
mod export;
mod reads;
mod writes;
