//! # otai-zendesk: the Zendesk Support adapter for otai
//!
//! Built as `libotai_zendesk.so` (plugin `otai_zendesk`, service `ZendeskTicketsystemService`,
//! so a config says `use: otai_zendesk:ZendeskTicketsystemService`) and as an rlib whose
//! [`ZendeskClient`] can be used from Rust directly. Written on the adapter SDK
//! (`otai-plugin-sdk`): [`ZendeskClient`] implements its `TicketSystemAdapter`, and the SDK
//! supplies the FFI glue, the runtime, panic guards, logging and the retrying transport.
//!
//! Params (a JSON object, see [`config`]): `domain` or `base_url`; `oauth` (an OAuth client, renewed
//! tokens), or the legacy `email` + `api_token`, or a fixed `oauth_token`; optional `timeout`,
//! `verify`, `max_attempts`, `max_retry_wait`, `job_timeout`, `export_min_interval`; `webhook_secret`
//! for `otai serve`'s webhooks.
//!
//! # Layout
//! - `lib.rs`: the exported plugin, nothing else.
//! - [`config`]: params parsed and validated into [`Config`]; errors name keys, never values.
//! - [`client`]: [`ZendeskClient`], the operations (find, get, update, note, check) in async Rust.
//! - [`export`]: the incremental ticket export (history pages with a cursor, paced to 10/min).
//! - [`batch`]: batch writes (`update_many` jobs, job polling, per-ticket outcomes).
//! - `http`: Zendesk's profile for the SDK's transport (hints per status, auth headers).
//! - [`oauth`]: OAuth access tokens from `POST /oauth/tokens`, renewed before expiry and on a 401.
//! - [`search`]: the unified query in Zendesk search syntax, paging, search export past 1,000.
//! - `groups`: group name → id cache.
//! - `reads`: what was read and when by Zendesk's clock: the guard against same-second edits.
//! - [`convert`]: Zendesk ticket → otai ticket (with its state); otai update → Zendesk ticket body.
//! - [`api`]: Zendesk's JSON types, parsed leniently.
//! - [`webhook`]: webhook deliveries for `otai serve`: HMAC-SHA256 signature, freshness, the ticket id.

#![warn(missing_docs)]

pub mod api;
pub mod batch;
pub mod client;
pub mod config;
pub mod convert;
pub mod export;
mod groups;
mod http;
pub mod oauth;
mod reads;
pub mod search;
pub mod webhook;

pub use client::ZendeskClient;
pub use config::{Auth, Config, Verify};
pub use groups::Group;
pub use otai_plugin_sdk::{Logger, Secret};

/// The plugin's name, used before the colon in `use: otai_zendesk:ZendeskTicketsystemService`.
pub const PLUGIN_NAME: &str = "otai_zendesk";
/// The service's name, used after the colon.
pub const SERVICE_NAME: &str = "ZendeskTicketsystemService";

otai_plugin_sdk::export_plugin! {
    name: PLUGIN_NAME,
    services: [
        ZendeskTicketsystemService:
            "Zendesk Support: search, read and update tickets, add internal notes, export the ticket history"
            => ZendeskClient::from_params_json,
    ],
}

/// The root module the host loads, for tests that drive the plugin as the host does.
pub use __otai_plugin_root::get_library;
