//! Integration tests: reqwest against a running simulator on 127.0.0.1:0, and the real adapter
//! (`otai_zendesk::ZendeskClient`) against it.

mod adapter;
mod adapter_oauth;
mod api;
mod common;
mod faults;
mod jobs;
mod limits;
mod oauth;
mod search;
