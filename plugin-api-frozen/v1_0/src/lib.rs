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
//!   copy with no subscriber.
//!
//! ## Versioning rules
//! This crate is versioned by hand, starting at 1.0.0. `abi_stable` refuses to load a plugin whose
//! interface crate has a different **major** version (from 1.0 on, only the major must match) or whose
//! types' layouts differ from the host's. Therefore:
//! - **Minor releases (1.x) only append.** New root-module fields go after the last one, new
//!   `TicketSystemService` methods go at the end of the trait and must have a default body (returning
//!   [`ErrorKind::UNSUPPORTED`] or a fallback built from older methods), so a plugin built against
//!   1.0 still loads into a 1.x host, and a 1.x plugin into a 1.0 host.
//! - **Data types are frozen within a major.** [`Ticket`], [`TicketUpdate`], [`SearchQuery`] and
//!   friends are never changed in 1.x; data that does not fit travels in their JSON escape hatches
//!   (`Ticket::raw_json`, `TicketUpdate::system_fields_json`, `SearchQuery::system_query`) or in
//!   new types used by new methods.
//! - [`ErrorKind`] is an open set: new kinds may appear in a minor release, and a host that does not
//!   know a kind treats it as a generic error.
//! - Anything else (reordering, removing, changing a field's type) is a new major version.
//! - Items added after 1.0.0 say "since 1.x" in their documentation.
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

pub use error::{ErrorKind, PluginError};
pub use host::{HostContext, HostContextRef, LogLevel};
pub use module::{PluginInfo, PluginModule, PluginModuleRef, ServiceInfo, ServiceKind};
pub use service::{
    PluginResult, ServiceFuture, TicketSystemBox, TicketSystemService, TicketSystemService_TO,
};
pub use ticket::{CustomFieldValue, Note, Person, QueueRef, SearchQuery, Ticket, TicketUpdate};

/// Re-exported so plugins and host use the exact same versions as this crate.
pub use abi_stable;
/// Re-exported so plugins and host use the exact same versions as this crate.
pub use async_ffi;
