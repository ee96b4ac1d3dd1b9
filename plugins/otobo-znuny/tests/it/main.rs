//! The OTOBO/Znuny adapter against wiremock on 127.0.0.1: the GenericInterface's shapes (read in
//! its source), the adapter's requests, sessions, errors in HTTP 200 answers, the two-step write
//! and its resumption, history, and the SDK's conformance kit.

mod common;
mod conformance;
mod reads;
mod writes;
