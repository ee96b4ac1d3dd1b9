//! A plugin as it was written for otai-plugin-api 1.2.0 (built against the frozen copy in
//! `plugin-api-frozen/v1_2`): its own `ticket_state` and request counters, but no
//! `find_tickets_page`. The e2e tests load it into the current host to prove that 1.2 plugins
//! keep loading (through the host's 1.2 adapter), that their 1.2 methods are used, and that the
//! host reads their searches as one page.
//!
//! Plugin `otai_test_legacy_1_2`, service `Legacy12Service`: tickets "1" (`Offen`) and "2"
//! (`Erledigt`) in memory, statuses in German that only the plugin's `ticket_state` maps; every
//! call counts as one request.

use std::sync::atomic::{AtomicU64, Ordering};

use abi_stable::{
    export_root_module,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use async_ffi::FutureExt;
use otai_plugin_api::{
    ErrorKind, HostContextRef, Note, PluginError, PluginInfo, PluginModule, PluginModuleRef,
    RequestStats, SearchQuery, ServiceFuture, ServiceInfo, ServiceKind, StatusCategory, Ticket,
    TicketState, TicketSystemBox, TicketSystemService, TicketSystemService_TO, TicketUpdate,
};

pub const PLUGIN_NAME: &str = "otai_test_legacy_1_2";
pub const SERVICE_NAME: &str = "Legacy12Service";

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
            description: "In-memory tickets, built against plugin API 1.2.0 (tests only).".into(),
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
    RResult::ROk(TicketSystemService_TO::from_value(
        Legacy12 {
            calls: AtomicU64::new(0),
        },
        TD_Opaque,
    ))
}

struct Legacy12 {
    calls: AtomicU64,
}

impl Legacy12 {
    fn tickets(&self) -> RVec<Ticket> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        [("1", "Offen"), ("2", "Erledigt")]
            .into_iter()
            .map(|(id, status)| Ticket {
                id: id.into(),
                subject: format!("Legacy 1.2 ticket {id}").into(),
                status: status.into(),
                ..Default::default()
            })
            .collect()
    }
}

fn ready<T: Send + 'static>(value: RResult<T, PluginError>) -> ServiceFuture<T> {
    async move { value }.into_ffi()
}

impl TicketSystemService for Legacy12 {
    fn find_tickets(&self, _query: SearchQuery) -> ServiceFuture<RVec<Ticket>> {
        ready(RResult::ROk(self.tickets()))
    }

    fn find_first_ticket(&self, _query: SearchQuery) -> ServiceFuture<ROption<Ticket>> {
        ready(RResult::ROk(self.tickets().into_iter().next().into()))
    }

    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<Ticket>> {
        let found = self.tickets().into_iter().find(|t| t.id == id);
        ready(RResult::ROk(found.into()))
    }

    fn update_ticket(&self, id: RString, _update: TicketUpdate) -> ServiceFuture<Ticket> {
        ready(RResult::RErr(PluginError::new(
            ErrorKind::UNSUPPORTED,
            format!("read-only test desk: ticket {id} not written"),
        )))
    }

    fn add_note(&self, _id: RString, _note: Note) -> ServiceFuture<()> {
        ready(RResult::ROk(()))
    }

    fn request_stats(&self) -> ROption<RequestStats> {
        ROption::RSome(RequestStats {
            requests: self.calls.load(Ordering::Relaxed),
            retries: 0,
            rate_limited: 0,
        })
    }

    fn ticket_state(&self, status: RString, _tags: RVec<RString>) -> TicketState {
        let category = match status.as_str() {
            "Offen" => StatusCategory::OPEN,
            "Erledigt" => StatusCategory::SOLVED,
            _ => StatusCategory::UNKNOWN,
        };
        TicketState {
            category,
            merged: false,
            deleted: false,
        }
    }
}
