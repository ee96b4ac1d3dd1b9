//! # otai-otobo-znuny: the OTOBO, Znuny and ((OTRS)) CE 6 adapter for otai
//!
//! Built as `libotai_otobo_znuny.so` (plugin `otai_otobo_znuny`, service
//! `OTOBOZnunyTicketSystemService`) on the adapter SDK, talking to the GenericInterface REST web
//! service (GenericTicketConnectorREST or any web service with the same operations). One adapter
//! for the three systems: `flavour` only changes defaults.
//!
//! - Reads: TicketSearch (Limit only, paged by creation time) and batched TicketGet ([`search`]).
//! - Writes: otai's internal note first (it records the whole decision), then the fields and
//!   dynamic fields; a write interrupted between the two, or between TicketUpdate's own setters,
//!   is finished from the note on the next pass, never taken for a ticket an agent routed
//!   ([`write`]).
//! - History: closed tickets for `otai train --system` ([`export`]).
//! - Webhooks: an invoker's ticket events pushed to `otai serve`, checked by a shared secret in
//!   a header or as the BasicAuth password (params `webhook_secret`, `webhook_header`,
//!   `webhook_user`; [`webhook`]).
//!
//! # Layout
//! - `lib.rs`: the exported plugin.
//! - [`config`]: params (and Open Ticket AI's names); [`routes`]: the web service's routes.
//! - [`gi`]: one operation call: credentials in the data, sessions, errors in HTTP 200 answers.
//! - [`client`]: [`OtoboDesk`], the adapter trait, batched TicketGet.
//! - [`search`], [`write`], [`export`]: the operations; [`convert`] and [`api`]: the JSON.
//! - [`webhook`]: an invoker's deliveries for `otai serve`: the shared secret, the TicketID.
//! - `http`: the transport's profile (500 faultstrings, hints).

#![warn(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod convert;
pub mod export;
pub mod gi;
mod http;
pub mod routes;
pub mod search;
pub mod webhook;
pub mod write;

pub use client::OtoboDesk;
pub use config::{Config, Flavour};
pub use otai_plugin_sdk::{Logger, Secret};

/// The plugin's name: `use: otai_otobo_znuny:OTOBOZnunyTicketSystemService`.
pub const PLUGIN_NAME: &str = "otai_otobo_znuny";
/// The service's name.
pub const SERVICE_NAME: &str = "OTOBOZnunyTicketSystemService";

otai_plugin_sdk::export_plugin! {
    name: PLUGIN_NAME,
    services: [
        OTOBOZnunyTicketSystemService:
            "OTOBO, Znuny, ((OTRS)) CE 6 (GenericInterface): find, read and route tickets, internal notes, closed-ticket history"
            => OtoboDesk::from_params_json,
    ],
}

/// The root module the host loads, for tests that drive the plugin as the host does.
pub use __otai_plugin_root::get_library;
