//! # otai-plugin-api: the stable interface between `otai` and its help-desk adapters
//!
//! A help-desk adapter is a shared library (`lib<name>.so`) that exports one root module,
//! [`PluginModule`], built with [`abi_stable`]. The `otai` host loads every `.so` in its plugins
//! directory at run time, checks that the library was built against a compatible version of this
//! crate, asks it for its [`PluginInfo`] and constructs the ticket-system services the operator
//! configured (`use: <plugin>:<Service>`).
//!
//! ## What may cross the boundary
//! Only `#[repr(C)]` types deriving [`StableAbi`](abi_stable::StableAbi), built from `abi_stable`'s
//! `R*` types (`RString`, `RVec`, `ROption`, `RResult`) and `async_ffi::FfiFuture`. Everything else
//! (tokio, reqwest, tracing, serde) is a private copy inside each side. In particular:
//! - configuration crosses as a JSON string that the plugin validates itself;
//! - async methods return an [`FfiFuture`](async_ffi::FfiFuture) that the plugin drives on its own
//!   runtime (a plugin's tokio cannot see the host's reactor), and the host awaits;
//! - a panic must never unwind across the boundary: every entry point catches it and returns
//!   [`PluginError`] of kind [`ErrorKind::PANICKED`];
//! - logs reach the host through [`HostContext::log`], because the plugin's `tracing` is a private
//!   copy with no subscriber;
//! - synchronous entry points (`info`, `new_ticket_system`, `request_stats`) must return
//!   immediately.
//!
//! ## Versioning rules
//! This crate is versioned by hand, starting at 1.0.0. When the host loads a plugin, `abi_stable`
//! compares the interface version and the type layouts the plugin was built with against the ones
//! the host checks it with. What it accepts, and what otai does about the rest:
//! - **Another major version is refused.** From 1.0 on, only the major must match.
//! - **An older host loads a newer plugin of the same major.** Prefix types (the root module,
//!   [`HostContext`], the `TicketSystemService` vtable) may have *more* fields in the plugin than
//!   the host expects; the host never sees the additions. A 1.0 host loads a 1.1 plugin.
//! - **A newer host does not load an older plugin by itself.** `abi_stable` refuses a prefix type
//!   with *fewer* fields than the host's, so a 1.0 plugin (8 vtable entries) checked against the
//!   1.1 types (11 entries) failed with "too many fields (expected 11, found 8)". Default method
//!   bodies do not change that. The host therefore keeps a **frozen copy of every released 1.x
//!   interface** (`plugin-api-frozen/v1_0`, a dependency of the host under another name), reads
//!   the version a plugin declares before initialising it, checks it against the types of that
//!   version, and adapts it to the current interface (`host/src/plugins/legacy.rs`): the older
//!   methods are delegated, the newer ones answer their default (below).
//!
//! Therefore:
//! - **Minor releases (1.x) only append.** New root-module fields go after the last one, new
//!   `TicketSystemService` methods go at the end of the trait and must have a default body
//!   (returning [`ErrorKind::UNSUPPORTED`] or a fallback built from older methods): it is what
//!   the host's adapter answers for a plugin built against an older minor.
//! - **Data types are frozen within a major.** [`Ticket`], [`TicketUpdate`], [`SearchQuery`] and
//!   friends are never changed in 1.x; data that does not fit travels in their JSON escape hatches
//!   (`Ticket::raw_json`, `TicketUpdate::system_fields_json`, `SearchQuery::system_query`) or in
//!   new types used by new methods. (The host's adapter copies them field by field between the
//!   frozen and current crates.)
//! - [`ErrorKind`] is an open set: new kinds may appear in a minor release, and a host that does not
//!   know a kind treats it as a generic error.
//! - Anything else (reordering, removing, changing a field's type) is a new major version.
//! - Items added after 1.0.0 say "since 1.x" in their documentation.
//!
//! ## Releasing 1.4 (and every later minor)
//! 1. Freeze 1.3 first: copy this crate as it is at its last 1.3 commit to
//!    `plugin-api-frozen/v1_3` (`src/` byte for byte; the manifest keeps `name = "otai-plugin-api"`
//!    and `version = "1.3.x"`, with the workspace-inherited keys spelled out, plus a `FROZEN.md`).
//!    `plugin-api-frozen` is excluded from the workspace (two members may not share a name).
//! 2. Add it to the host as `otai-plugin-api-v1-3 = { package = "otai-plugin-api", path = ... }`.
//! 3. Give the host's loader a 1.3 case and `host/src/plugins/legacy.rs` a 1.3 adapter (its
//!    service wrapper, conversions and `HostContext`), next to the older ones.
//! 4. Only then append the 1.4 items here and bump the version; add a test plugin built against
//!    the frozen 1.3 copy to the end-to-end tests, as `tests/plugins/legacy-1-0` to `legacy-1-2`
//!    are for 1.0 to 1.2.
//!
//! ## History
//! - 1.0.0: root module (`info`, `new_ticket_system`), `TicketSystemService` (`find_tickets`,
//!   `find_first_ticket`, `get_ticket`, `update_ticket`, `add_note`, `check_connection`).
//!   Frozen in `plugin-api-frozen/v1_0`.
//! - 1.1.0: `TicketSystemService::update_tickets` (batch writes) with [`BatchUpdate`] and
//!   [`BatchOutcome`], and `TicketSystemService::request_stats` ([`RequestStats`]). A 1.0 plugin
//!   loads through the host's frozen 1.0 copy and adapter, and answers their defaults:
//!   "unsupported" (the host writes one ticket at a time) and "not counted".
//!   Also `TicketSystemService::export_tickets` ([`ExportRequest`], [`ExportPage`]: the ticket
//!   history page by page with a resumable cursor, for `otai train --system`); a 1.0 plugin
//!   answers "unsupported".
//! - 1.2.0: `TicketSystemService::ticket_state` ([`TicketState`], [`StatusCategory`]): the plugin
//!   maps its help desk's statuses (and merge tags) onto otai's categories, so the host speaks no
//!   help desk's vocabulary; [`vocabulary`] (otai's priority and status names, defined once).
//!   A 1.0 or 1.1 plugin loads through the host's frozen copy of its version
//!   (`plugin-api-frozen/v1_0`, `v1_1`) and answers the default mapping by name. 1.1 is frozen
//!   in `plugin-api-frozen/v1_1`.
//! - 1.3.0: `TicketSystemService::find_tickets_page` ([`TicketPage`]): a search page by page
//!   with a cursor, so a large result streams. A plugin built against 1.0 to 1.2 answers its
//!   whole `find_tickets` as one page. 1.2 is frozen in `plugin-api-frozen/v1_2`.
//!
//! ## Layout
//! - [`module`]: the root module a plugin exports, [`PluginInfo`] and the service constructor.
//! - [`service`]: the [`TicketSystemService`] trait object and its async result type.
//! - [`ticket`]: the unified ticket, partial update, note and search query types.
//! - [`error`]: [`PluginError`] and [`ErrorKind`].
//! - [`guard`]: helpers that keep a plugin's panics from crossing the boundary.
//! - [`host`]: what the host hands to a plugin ([`HostContext`]: logging).

pub mod error;
pub mod guard;
pub mod host;
pub mod module;
pub mod service;
pub mod ticket;
pub mod vocabulary;

pub use error::{ErrorKind, PluginError};
pub use host::{HostContext, HostContextRef, LogLevel};
pub use module::{PluginInfo, PluginModule, PluginModuleRef, ServiceInfo, ServiceKind};
pub use service::{
    PluginResult, RequestStats, ServiceFuture, TicketSystemBox, TicketSystemService,
    TicketSystemService_TO,
};
pub use ticket::{
    BatchOutcome, BatchUpdate, CustomFieldValue, ExportPage, ExportRequest, Note, Person, QueueRef,
    SearchQuery, StatusCategory, Ticket, TicketPage, TicketState, TicketUpdate,
};

/// Re-exported so plugins and host use the exact same versions as this crate.
pub use abi_stable;
/// Re-exported so plugins and host use the exact same versions as this crate.
pub use async_ffi;
