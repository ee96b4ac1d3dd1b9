//! A plugin as it was written for otai-plugin-api 1.0.0 (built against the frozen copy in
//! `plugin-api-frozen/v1_0`): it knows nothing of `update_tickets` or `request_stats`. The e2e
//! tests load it into the current host to prove that 1.0 plugins keep loading (through the
//! host's 1.0 adapter) and that batch writes fall back to `update_ticket`.
//!
//! Plugin `otai_test_legacy`, service `LegacyService`: tickets "1" and "2" in memory; an update
//! sets the priority; other ids are not found.

use std::{collections::BTreeMap, sync::Mutex};

use abi_stable::{
    export_root_module,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use async_ffi::FutureExt;
use otai_plugin_api::{
    ErrorKind, HostContextRef, Note, PluginError, PluginInfo, PluginModule, PluginModuleRef,
    SearchQuery, ServiceFuture, ServiceInfo, ServiceKind, Ticket, TicketSystemBox,
    TicketSystemService, TicketSystemService_TO, TicketUpdate,
};

pub const PLUGIN_NAME: &str = "otai_test_legacy";
pub const SERVICE_NAME: &str = "LegacyService";

#[export_root_module]
pub fn get_library() -> PluginModuleRef {
    PluginModule {
        info,
        new_ticket_system,
    }
    .leak_into_prefix()
}

extern "C" fn info() -> PluginInfo {
    PluginInfo {
        name: PLUGIN_NAME.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        services: RVec::from(vec![ServiceInfo {
            name: SERVICE_NAME.into(),
            kind: ServiceKind::TICKET_SYSTEM,
            description: "In-memory tickets, built against plugin API 1.0.0 (tests only).".into(),
        }]),
    }
}

extern "C" fn new_ticket_system(
    service: RStr<'_>,
    _params_json: RStr<'_>,
    _host: HostContextRef,
) -> RResult<TicketSystemBox, PluginError> {
    if service.as_str() != SERVICE_NAME {
        return RResult::RErr(PluginError::new(
            ErrorKind::CONFIG,
            format!("{PLUGIN_NAME} has no service `{service}`"),
        ));
    }
    let tickets = ["1", "2"]
        .into_iter()
        .map(|id| {
            let ticket = Ticket {
                id: id.into(),
                subject: format!("Legacy ticket {id}").into(),
                status: "open".into(),
                ..Default::default()
            };
            (id.to_string(), ticket)
        })
        .collect();
    RResult::ROk(TicketSystemService_TO::from_value(
        Legacy(Mutex::new(tickets)),
        TD_Opaque,
    ))
}

struct Legacy(Mutex<BTreeMap<String, Ticket>>);

fn ready<T: Send + 'static>(value: RResult<T, PluginError>) -> ServiceFuture<T> {
    async move { value }.into_ffi()
}

fn not_found(id: &str) -> PluginError {
    PluginError::new(ErrorKind::NOT_FOUND, format!("ticket {id} does not exist"))
}

impl TicketSystemService for Legacy {
    fn find_tickets(&self, _query: SearchQuery) -> ServiceFuture<RVec<Ticket>> {
        let tickets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ready(RResult::ROk(tickets.values().cloned().collect()))
    }

    fn find_first_ticket(&self, _query: SearchQuery) -> ServiceFuture<ROption<Ticket>> {
        let tickets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ready(RResult::ROk(tickets.values().next().cloned().into()))
    }

    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<Ticket>> {
        let tickets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ready(RResult::ROk(tickets.get(id.as_str()).cloned().into()))
    }

    fn update_ticket(&self, id: RString, update: TicketUpdate) -> ServiceFuture<Ticket> {
        let mut tickets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ready(match tickets.get_mut(id.as_str()) {
            Some(ticket) => {
                if let ROption::RSome(priority) = update.priority {
                    ticket.priority = ROption::RSome(priority);
                }
                RResult::ROk(ticket.clone())
            }
            None => RResult::RErr(not_found(&id)),
        })
    }

    fn add_note(&self, id: RString, _note: Note) -> ServiceFuture<()> {
        let tickets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ready(if tickets.contains_key(id.as_str()) {
            RResult::ROk(())
        } else {
            RResult::RErr(not_found(&id))
        })
    }
}
