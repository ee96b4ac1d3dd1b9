//! # otai-freshdesk: the Freshdesk adapter for otai
//!
//! Built as `libotai_freshdesk.so` (plugin `otai_freshdesk`, service
//! `FreshdeskTicketsystemService`, so a config says
//! `use: otai_freshdesk:FreshdeskTicketsystemService`) on the adapter SDK (`otai-plugin-sdk`):
//! [`FreshdeskDesk`] implements its `TicketSystemAdapter`; the SDK supplies the FFI glue, the
//! runtime, panic guards, logging and the retrying transport.
//!
//! Params (see [`config`]): `domain` or `base_url`, `api_key`; optional `timeout`, `verify`,
//! `plan`, `rate_limit`, `rate_budget`, `lookback_days`, `bulk_update`; `webhook_secret` and
//! `webhook_header` for `otai serve`'s webhooks.
//!
//! What it does with Freshdesk's API v2:
//! - finds tickets with the ticket **list** ordered by `updated_at` from a watermark (no index
//!   lag, no 300-result cap, 3 credits per 100 tickets with their descriptions), and once per
//!   process sweeps older unassigned tickets with the **search** ([`find`]);
//! - writes otai's **private note first**, recording the whole write to come, then the fields and
//!   the merged tags with one `PUT` (or one `bulk_update` job per identical decision), so an
//!   interruption between the two is finished from the note, never noted twice ([`write`],
//!   [`bulk`]);
//! - keeps to a share of the account's per-minute credits, per endpoint too ([`budget`]);
//! - exports resolved and closed tickets for `otai train --system` ([`export`]);
//! - checks the shared secret of the Trigger webhook deliveries `otai serve` receives
//!   ([`webhook`]).
//!
//! # Layout
//! - `lib.rs`: the exported plugin, nothing else.
//! - [`config`]: params parsed and validated; errors name keys, never values.
//! - [`client`]: [`FreshdeskDesk`], the adapter trait, who otai is, the group list.
//! - [`find`]: otai's query as a list scan with a watermark, and the backlog sweep.
//! - [`write`]: the two-step, resumable write and notes.
//! - [`bulk`]: batches of identical decisions as background jobs.
//! - [`export`]: history pages with a cursor.
//! - [`budget`]: the rate budget (the SDK transport's pacer).
//! - [`convert`]: Freshdesk ticket ↔ otai's words (status, priority, queue).
//! - [`api`]: Freshdesk's JSON.
//! - [`webhook`]: webhook deliveries for `otai serve`: the shared-secret header, the ticket id.
//! - `http`: Freshdesk's profile for the SDK's transport (error bodies, hints, auth).

#![warn(missing_docs)]

pub mod api;
pub mod budget;
pub mod bulk;
pub mod client;
pub mod config;
pub mod convert;
pub mod export;
pub mod find;
mod http;
pub mod webhook;
pub mod write;

pub use client::FreshdeskDesk;
pub use config::Config;
pub use otai_plugin_sdk::{Logger, Secret};

/// The plugin's name, used before the colon in
/// `use: otai_freshdesk:FreshdeskTicketsystemService`.
pub const PLUGIN_NAME: &str = "otai_freshdesk";
/// The service's name, used after the colon.
pub const SERVICE_NAME: &str = "FreshdeskTicketsystemService";

otai_plugin_sdk::export_plugin! {
    name: PLUGIN_NAME,
    services: [
        FreshdeskTicketsystemService:
            "Freshdesk: find, read and route tickets, add private notes, export resolved tickets, within a rate budget"
            => FreshdeskDesk::from_params_json,
    ],
}

/// The root module the host loads, for tests that drive the plugin as the host does.
pub use __otai_plugin_root::get_library;
