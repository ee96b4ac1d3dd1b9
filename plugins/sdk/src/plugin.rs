//! The root module a plugin exports, built by [`export_plugin!`](crate::export_plugin): the
//! plugin's self-description and the service constructor, both panic-safe.

use otai_plugin_api::{
    self as ffi,
    abi_stable::std_types::{RResult, RStr, RVec},
    guard, LogLevel,
};

use crate::{
    adapter::TicketSystemAdapter,
    convert,
    error::{Error, ErrorKind},
    log::Logger,
    service::AdapterService,
};

/// One service of a plugin, as [`export_plugin!`](crate::export_plugin) lists it.
pub struct ServiceEntry {
    /// The name after the colon in `use: <plugin>:<Service>`.
    pub name: &'static str,
    /// One line for `otai plugins list`.
    pub description: &'static str,
    /// Builds the service from its params JSON; local only (no network).
    pub build: fn(&str, Logger, &'static str) -> Result<ffi::TicketSystemBox, Error>,
}

/// `build` for an adapter type: its constructor's result behind the SDK's glue.
pub fn build_service<A: TicketSystemAdapter>(
    made: Result<A, Error>,
    plugin: &'static str,
) -> Result<ffi::TicketSystemBox, Error> {
    Ok(AdapterService::new(made?, plugin)?.into_ffi())
}

/// The root module's `info`.
pub fn plugin_info(plugin: &str, version: &str, services: &[ServiceEntry]) -> ffi::PluginInfo {
    let describe = || ffi::PluginInfo {
        name: plugin.into(),
        version: version.into(),
        services: services
            .iter()
            .map(|s| ffi::ServiceInfo {
                name: s.name.into(),
                kind: ffi::ServiceKind::TICKET_SYSTEM,
                description: s.description.into(),
            })
            .collect(),
    };
    // `info` has no error channel: after a panic, a minimal description.
    std::panic::catch_unwind(describe).unwrap_or_else(|_| ffi::PluginInfo {
        name: plugin.into(),
        version: version.into(),
        services: RVec::new(),
    })
}

/// The root module's `new_ticket_system`: finds the service by name, builds it, never panics
/// into the host.
pub fn new_ticket_system(
    plugin: &'static str,
    services: &[ServiceEntry],
    service: RStr<'_>,
    params_json: RStr<'_>,
    host: ffi::HostContextRef,
) -> RResult<ffi::TicketSystemBox, ffi::PluginError> {
    guard::catch_panic("new_ticket_system", || {
        let Some(entry) = services.iter().find(|s| s.name == service.as_str()) else {
            let names: Vec<&str> = services.iter().map(|s| s.name).collect();
            return RResult::RErr(convert::error_to_ffi(&Error::new(
                ErrorKind::Config,
                format!(
                    "plugin {plugin} has no service `{}`; available services: {}",
                    service.as_str(),
                    names.join(", ")
                ),
            )));
        };
        match (entry.build)(params_json.as_str(), Logger::host(host), plugin) {
            Ok(svc) => {
                host.emit(
                    LogLevel::Debug,
                    plugin,
                    &format!("Created {} ({plugin}).", entry.name),
                );
                RResult::ROk(svc)
            }
            Err(e) => RResult::RErr(convert::error_to_ffi(&e)),
        }
    })
}

/// The name of the static abi_stable's loader looks up in a plugin library, as its
/// `#[export_root_module]` would name it (`abi_stable_shared::mangled_root_module_loader_name`);
/// [`export_plugin!`](crate::export_plugin) defines it itself so that adapters need no
/// `abi_stable` dependency. A test checks it against abi_stable's own.
pub const ROOT_MODULE_LOADER_NAME: &str = "_1as_0lib_1header_0root_bmodule_bloader";

#[cfg(test)]
mod tests {
    /// `export_plugin!` writes the loader's symbol name out by hand; abi_stable computes it.
    #[test]
    fn the_macro_exports_the_symbol_abi_stable_looks_up() {
        assert_eq!(
            super::ROOT_MODULE_LOADER_NAME,
            abi_stable_shared::mangled_root_module_loader_name()
        );
    }
}
