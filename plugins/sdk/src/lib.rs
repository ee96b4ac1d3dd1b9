//! # otai-plugin-sdk: write an otai help-desk adapter in plain async Rust
//!
//! An adapter implements one trait, [`TicketSystemAdapter`], over otai's native ticket types
//! ([`Ticket`], [`TicketUpdate`], [`SearchQuery`], ...), and exports itself with
//! [`export_plugin!`]. The SDK supplies everything between that and a `.so` the `otai` host
//! loads: the root module, a tokio runtime per service, panic guards on every call,
//! cancellation when the host drops a call, logging through the host ([`Logger`]), a [`Secret`]
//! that never prints, lenient JSON ([`lenient_json`]), a retrying HTTP transport ([`http::Http`])
//! and params helpers whose errors name the key ([`Params`]). No type of the binary interface
//! (`otai-plugin-api`'s `R*` types) appears in an adapter's code.
//!
//! ```text
//! use otai_plugin_sdk::{prelude::*, export_plugin};
//!
//! struct Acme { http: Http }
//!
//! impl TicketSystemAdapter for Acme {
//!     async fn find_tickets(&self, query: &SearchQuery) -> Result<Vec<Ticket>> { ... }
//!     // get_ticket, update_ticket, add_note, check_connection ...
//! }
//!
//! fn new_acme(params_json: &str, log: Logger) -> Result<Acme> { ... }
//!
//! export_plugin! {
//!     name: "otai_acme",
//!     services: [AcmeTicketSystemService: "Acme Desk: read and route tickets" => new_acme],
//! }
//! ```
//!
//! `docs/plugin-authors.md` in the otai repository is the guide: versioning, the conformance kit
//! ([`conformance`], feature `conformance`), shipping a closed `.so`.
//!
//! ## Features
//! - `runtime` (default): everything a plugin needs. Without it only the native types and their
//!   conversions remain: what the `otai` host itself uses.
//! - `conformance`: the test harness every adapter's tests should run.

pub mod convert;
pub mod cursor;
pub mod error;
pub mod ids;
pub mod lenient_json;
pub mod params;
pub mod secret;
pub mod ticket;
pub mod webhook;

#[cfg(feature = "runtime")]
pub mod adapter;
#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "runtime")]
pub mod http;
#[cfg(feature = "runtime")]
pub mod log;
#[cfg(feature = "runtime")]
pub mod plugin;
#[cfg(feature = "runtime")]
pub mod service;

pub use cursor::TimeCursor;
pub use error::{Error, ErrorKind, Result};
/// otai's priority and status names, defined once in the plugin interface.
pub use otai_plugin_api::vocabulary;
pub use params::{Params, Verify};
pub use secret::Secret;
pub use ticket::{
    BatchOutcome, BatchUpdate, CustomField, ExportPage, ExportRequest, Note, Person, Queue,
    RequestStats, SearchQuery, StatusCategory, Ticket, TicketPage, TicketState, TicketUpdate,
};
pub use webhook::{WebhookEvent, WebhookRequest};

#[cfg(feature = "runtime")]
pub use adapter::TicketSystemAdapter;
#[cfg(feature = "runtime")]
pub use log::Logger;
/// Log levels of [`Logger`].
#[cfg(feature = "runtime")]
pub use otai_plugin_api::LogLevel;

/// Everything an adapter usually imports.
#[cfg(feature = "runtime")]
pub mod prelude {
    pub use crate::{
        http::{Auth, Http, HttpSettings, Method, Vendor},
        vocabulary, BatchOutcome, BatchUpdate, CustomField, Error, ErrorKind, ExportPage,
        ExportRequest, LogLevel, Logger, Note, Params, Person, Queue, RequestStats, Result,
        SearchQuery, Secret, StatusCategory, Ticket, TicketPage, TicketState, TicketSystemAdapter,
        TicketUpdate, Verify, WebhookEvent, WebhookRequest,
    };
}

/// What [`export_plugin!`] expands to refers to; not part of the API.
#[doc(hidden)]
#[cfg(feature = "runtime")]
pub mod __private {
    pub use crate::plugin::{build_service, new_ticket_system, plugin_info, ServiceEntry};
    pub use otai_plugin_api::{
        abi_stable, HostContextRef, PluginError, PluginInfo, PluginModule, PluginModuleRef,
        TicketSystemBox,
    };
}

/// Exports the plugin's root module: its name, version (the crate's) and services, each with
/// the constructor `fn(params_json: &str, log: Logger) -> Result<Adapter>` that validates the
/// service's params and builds the adapter (locally: the host calls it while checking a config).
///
/// ```text
/// otai_plugin_sdk::export_plugin! {
///     name: "otai_acme",
///     services: [
///         AcmeTicketSystemService: "Acme Desk: read and route tickets" => Acme::from_params,
///     ],
/// }
/// ```
///
/// Use it once, in the crate built as a `cdylib`. It defines the symbol the host's loader looks
/// up, so a crate that uses it must not also use `#[abi_stable::export_root_module]`.
#[cfg(feature = "runtime")]
#[macro_export]
macro_rules! export_plugin {
    (
        name: $plugin:expr,
        services: [ $( $service:ident : $description:expr => $constructor:expr ),+ $(,)? ] $(,)?
    ) => {
        #[doc(hidden)]
        pub mod __otai_plugin_root {
            use super::*;
            use $crate::__private::{abi_stable, ServiceEntry};

            const __OTAI_PLUGIN_NAME: &str = $plugin;

            static SERVICES: &[ServiceEntry] = &[
                $(ServiceEntry {
                    name: stringify!($service),
                    description: $description,
                    build: |params_json, log, plugin| {
                        $crate::__private::build_service(($constructor)(params_json, log), plugin)
                    },
                }),+
            ];

            extern "C" fn info() -> $crate::__private::PluginInfo {
                $crate::__private::plugin_info(__OTAI_PLUGIN_NAME, env!("CARGO_PKG_VERSION"), SERVICES)
            }

            extern "C" fn new_ticket_system(
                service: abi_stable::std_types::RStr<'_>,
                params_json: abi_stable::std_types::RStr<'_>,
                host: $crate::__private::HostContextRef,
            ) -> abi_stable::std_types::RResult<
                $crate::__private::TicketSystemBox,
                $crate::__private::PluginError,
            > {
                $crate::__private::new_ticket_system(__OTAI_PLUGIN_NAME, SERVICES, service, params_json, host)
            }

            /// The root module: what `#[abi_stable::export_root_module]` would export.
            pub fn get_library() -> $crate::__private::PluginModuleRef {
                use abi_stable::prefix_type::PrefixTypeTrait as _;
                $crate::__private::PluginModule {
                    info,
                    new_ticket_system,
                }
                .leak_into_prefix()
            }

            // The static abi_stable's loader reads (see `otai_plugin_sdk::plugin::ROOT_MODULE_LOADER_NAME`),
            // written out as `#[export_root_module]` writes it.
            #[unsafe(no_mangle)]
            pub static _1as_0lib_1header_0root_bmodule_bloader: abi_stable::library::LibHeader = {
                extern "C" fn erased_module() -> abi_stable::library::RootModuleResult {
                    abi_stable::library::__call_root_module_loader(get_library)
                }
                // SAFETY: `erased_module` returns the `PrefixRef` of `PluginModuleRef` that
                // `get_library` built, erased by abi_stable's own loader helper, exactly as the
                // `export_root_module` attribute pairs them.
                unsafe {
                    abi_stable::library::LibHeader::from_constructor::<
                        $crate::__private::PluginModuleRef,
                    >(erased_module, abi_stable::library::CheckTypeLayout::Yes)
                }
            };
        }
    };
}
