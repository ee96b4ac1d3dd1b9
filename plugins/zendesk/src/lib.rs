//! # otai-zendesk: the Zendesk Support adapter for otai
//!
//! Built as `libotai_zendesk.so` (plugin `otai_zendesk`, service `ZendeskTicketsystemService`,
//! so a config says `use: otai_zendesk:ZendeskTicketsystemService`) and as an rlib whose
//! [`ZendeskClient`] can be used from Rust directly.
//!
//! Params (a JSON object, see [`config`]): `domain` or `base_url`; `oauth` (an OAuth client, renewed
//! tokens), or the legacy `email` + `api_token`, or a fixed `oauth_token`; optional `timeout`, `verify`, `max_attempts`, `max_retry_wait`, `job_timeout`,
//! `export_min_interval`.
//!
//! # Layout
//! - `lib.rs`: the exported root module, nothing else.
//! - [`ffi`]: the ABI-stable service: its own tokio runtime, panic guards, abort-on-drop tasks.
//! - [`config`]: params parsed and validated into [`Config`]; errors name keys, never values.
//! - [`secret`]: [`Secret`], a string whose `Debug`/`Display` print `[redacted]`.
//! - [`client`]: [`ZendeskClient`], the operations (find, get, update, note, check) in async Rust.
//! - [`export`]: the incremental ticket export (history pages with a cursor, paced to 10/min).
//! - [`batch`]: batch writes (`update_many` jobs, job polling, per-ticket outcomes).
//! - `http`: transport: pooled reqwest client, auth header, retries, error mapping.
//! - [`oauth`]: OAuth access tokens from `POST /oauth/tokens`, renewed before expiry and on a 401.
//! - `lenient_json`: repairs invalid UTF-8 and lone surrogate escapes in an answer that fails to parse.
//! - [`search`]: the unified query in Zendesk search syntax, paging, search export past 1,000.
//! - `groups`: group name → id cache.
//! - [`convert`]: Zendesk ticket → unified ticket; unified update → Zendesk ticket body.
//! - [`api`]: Zendesk's JSON types, parsed leniently.
//! - [`log`]: [`Logger`], forwarding log events to the host.

#![warn(missing_docs)]

pub mod api;
pub mod batch;
pub mod client;
pub mod config;
pub mod convert;
pub mod export;
pub mod ffi;
mod groups;
mod http;
mod lenient_json;
pub mod log;
pub mod oauth;
pub mod search;
pub mod secret;

pub use client::ZendeskClient;
pub use config::{Auth, Config, Verify};
pub use ffi::{ZendeskTicketsystemService, PLUGIN_NAME, SERVICE_NAME};
pub use groups::Group;
pub use log::Logger;
pub use secret::Secret;

pub use root::get_library;

/// A private module so that the static `#[export_root_module]` generates needs no docs.
mod root {
    use abi_stable::{export_root_module, prefix_type::PrefixTypeTrait};
    use otai_plugin_api::{PluginModule, PluginModuleRef};

    use crate::ffi;

    /// The root module the host loads: the plugin's info and the service constructor.
    #[export_root_module]
    pub fn get_library() -> PluginModuleRef {
        PluginModule {
            info: ffi::info,
            new_ticket_system: ffi::new_ticket_system,
        }
        .leak_into_prefix()
    }
}
