//! # otai-zammad: the Zammad adapter for otai
//!
//! Built as `libotai_zammad.so` (plugin `otai_zammad`, service `ZammadTicketsystemService`, so a
//! config says `use: otai_zammad:ZammadTicketsystemService`) on the adapter SDK
//! (`otai-plugin-sdk`): [`ZammadDesk`] implements its `TicketSystemAdapter`, the SDK supplies the
//! FFI glue, the runtime, panic guards, logging and the retrying transport.
//!
//! Params (see [`config`]): `base_url`; `http_token`, `oauth_token` or `username` + `password`;
//! optional `timeout`, `verify`, `priorities`, `page_size`, `min_request_interval`; `webhook_secret`
//! for `otai serve`'s webhooks.
//!
//! What it does with Zammad's REST API (`/api/v1`):
//! - finds tickets with a ticket selector (works with and without Elasticsearch, every version,
//!   both search answer shapes) and reads each with `all=true` (ticket, articles, tags in one
//!   request): subject = title, body = the first article as plain text ([`search`]);
//! - writes group, priority, custom attributes and otai's **internal** note in one `PUT`, then
//!   each tag, resumably: a crash between the two never gives a second note ([`write`]);
//! - exports closed tickets for `otai train --system` ([`export`]);
//! - verifies Zammad's webhook deliveries for `otai serve` ([`webhook`]).
//!
//! # Layout
//! - `lib.rs`: the exported plugin, nothing else.
//! - [`config`]: params parsed and validated; errors name keys, never values.
//! - [`client`]: [`ZammadDesk`], the adapter trait, the full read.
//! - [`search`]: otai's query as a selector, paging.
//! - [`write`]: the guarded, resumable write and notes.
//! - [`export`]: history pages with a cursor.
//! - [`catalog`]: priorities and states, name ↔ id, otai's priorities onto Zammad's.
//! - [`convert`]: Zammad ticket → otai ticket, state names → otai's categories.
//! - [`api`]: Zammad's JSON, read leniently (both search shapes, `all=true`).
//! - [`html`]: plain text from an e-mail article's HTML.
//! - [`webhook`]: webhook deliveries for `otai serve`: HMAC-SHA1 `X-Hub-Signature`, the ticket id.
//! - `http`: Zammad's profile for the SDK's transport (error bodies, hints, auth headers).

#![warn(missing_docs)]

pub mod api;
pub mod catalog;
pub mod client;
pub mod config;
pub mod convert;
pub mod export;
pub mod html;
mod http;
pub mod search;
pub mod webhook;
pub mod write;

pub use client::ZammadDesk;
pub use config::{Auth, Config};
pub use otai_plugin_sdk::{Logger, Secret};

/// The plugin's name, used before the colon in `use: otai_zammad:ZammadTicketsystemService`.
pub const PLUGIN_NAME: &str = "otai_zammad";
/// The service's name, used after the colon.
pub const SERVICE_NAME: &str = "ZammadTicketsystemService";

otai_plugin_sdk::export_plugin! {
    name: PLUGIN_NAME,
    services: [
        ZammadTicketsystemService:
            "Zammad: find, read and route tickets, add internal notes, export closed tickets"
            => ZammadDesk::from_params_json,
    ],
}

/// The root module the host loads, for tests that drive the plugin as the host does.
pub use __otai_plugin_root::get_library;
