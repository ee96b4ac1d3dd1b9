//! The root module every plugin exports, and what it says about itself.

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{RResult, RStr, RString, RVec},
    StableAbi,
};

use crate::{error::PluginError, host::HostContextRef, service::TicketSystemBox};

/// What a service is for. An open set of codes (see [`ErrorKind`](crate::ErrorKind) for why).
#[repr(transparent)]
#[derive(StableAbi, Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct ServiceKind(pub u8);

impl ServiceKind {
    /// A [`TicketSystemService`](crate::TicketSystemService), built by
    /// [`PluginModule::new_ticket_system`].
    pub const TICKET_SYSTEM: ServiceKind = ServiceKind(1);

    /// A stable, lower-case name for listings.
    pub fn name(self) -> &'static str {
        match self {
            Self::TICKET_SYSTEM => "ticket_system",
            _ => "unknown",
        }
    }
}

/// One service a plugin can construct.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The name used after the colon in `use: <plugin>:<Service>`, e.g. `ZendeskTicketsystemService`.
    pub name: RString,
    /// What kind of service it is.
    pub kind: ServiceKind,
    /// One line for `otai plugins list`.
    pub description: RString,
}

/// What a plugin says about itself.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// The plugin's name, used before the colon in `use: <plugin>:<Service>`, e.g. `otai_zendesk`.
    /// Unique among the loaded plugins.
    pub name: RString,
    /// The plugin's own version (not the interface version), e.g. `0.1.0`.
    pub version: RString,
    /// The services it provides.
    pub services: RVec<ServiceInfo>,
}

/// The root module a plugin exports with `#[abi_stable::export_root_module]`.
///
/// A prefix type: later 1.x releases append fields after [`new_ticket_system`](Self::new_ticket_system).
/// Every function here must catch panics itself (a panic across the boundary aborts the host) and
/// must not touch the network: the host calls them while checking a configuration.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// The plugin's name, version and services.
    pub info: extern "C" fn() -> PluginInfo,
    /// Constructs the ticket-system service named `service` from its params, given as a JSON
    /// object (the `params:` of the operator's config, templates already rendered). The plugin
    /// validates the params and returns [`ErrorKind::CONFIG`](crate::ErrorKind::CONFIG) naming the
    /// offending key (never its value: it may be a secret). One call, one independent instance:
    /// two configured accounts get two services that share nothing.
    #[sabi(last_prefix_field)]
    pub new_ticket_system: extern "C" fn(
        service: RStr<'_>,
        params_json: RStr<'_>,
        host: HostContextRef,
    ) -> RResult<TicketSystemBox, PluginError>,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "otai_plugin";
    const NAME: &'static str = "otai_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
