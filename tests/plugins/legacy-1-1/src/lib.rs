//! A plugin as it was written for otai-plugin-api 1.1.0 (built against the frozen copy in
//! `plugin-api-frozen/v1_1`): batch writes and request counters, but no `ticket_state`. The e2e
//! tests load it into the current host to prove that 1.1 plugins keep loading (through the host's
//! 1.1 adapter), that their 1.1 methods are used, and that the host maps their statuses by name.
//!
//! Plugin `otai_test_legacy_1_1`, service `Legacy11Service`: ticket "1" (`open`) and ticket "2"
//! (`Solved`) in memory; an update sets the priority; every call counts as one request.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use abi_stable::{
    export_root_module,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use async_ffi::FutureExt;
use otai_plugin_api::{
    BatchOutcome, BatchUpdate, ErrorKind, HostContextRef, Note, PluginError, PluginInfo,
    PluginModule, PluginModuleRef, RequestStats, SearchQuery, ServiceFuture, ServiceInfo,
    ServiceKind, Ticket, TicketSystemBox, TicketSystemService, TicketSystemService_TO,
    TicketUpdate,
};

pub const PLUGIN_NAME: &str = "otai_test_legacy_1_1";
pub const SERVICE_NAME: &str = "Legacy11Service";

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
            description: "In-memory tickets, built against plugin API 1.1.0 (tests only).".into(),
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
    let tickets = [("1", "open"), ("2", "Solved")]
        .into_iter()
        .map(|(id, status)| {
            let ticket = Ticket {
                id: id.into(),
                subject: format!("Legacy 1.1 ticket {id}").into(),
                status: status.into(),
                ..Default::default()
            };
            (id.to_string(), ticket)
        })
        .collect();
    RResult::ROk(TicketSystemService_TO::from_value(
        Legacy11 {
            tickets: Mutex::new(tickets),
            calls: AtomicU64::new(0),
        },
        TD_Opaque,
    ))
}

struct Legacy11 {
    tickets: Mutex<BTreeMap<String, Ticket>>,
    calls: AtomicU64,
}

impl Legacy11 {
    fn tickets(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Ticket>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.tickets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_priority(&self, id: &str, update: TicketUpdate) -> RResult<Ticket, PluginError> {
        set_priority(&mut self.tickets(), id, update)
    }
}

fn set_priority(
    tickets: &mut BTreeMap<String, Ticket>,
    id: &str,
    update: TicketUpdate,
) -> RResult<Ticket, PluginError> {
    {
        match tickets.get_mut(id) {
            Some(ticket) => {
                if let ROption::RSome(priority) = update.priority {
                    ticket.priority = ROption::RSome(priority);
                }
                RResult::ROk(ticket.clone())
            }
            None => RResult::RErr(PluginError::new(
                ErrorKind::NOT_FOUND,
                format!("ticket {id} does not exist"),
            )),
        }
    }
}

fn ready<T: Send + 'static>(value: RResult<T, PluginError>) -> ServiceFuture<T> {
    async move { value }.into_ffi()
}

impl TicketSystemService for Legacy11 {
    fn find_tickets(&self, _query: SearchQuery) -> ServiceFuture<RVec<Ticket>> {
        ready(RResult::ROk(self.tickets().values().cloned().collect()))
    }

    fn find_first_ticket(&self, _query: SearchQuery) -> ServiceFuture<ROption<Ticket>> {
        ready(RResult::ROk(self.tickets().values().next().cloned().into()))
    }

    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<Ticket>> {
        ready(RResult::ROk(
            self.tickets().get(id.as_str()).cloned().into(),
        ))
    }

    fn update_ticket(&self, id: RString, update: TicketUpdate) -> ServiceFuture<Ticket> {
        ready(self.set_priority(&id, update))
    }

    fn add_note(&self, _id: RString, _note: Note) -> ServiceFuture<()> {
        ready(RResult::ROk(()))
    }

    /// One "request" for the whole batch, so the host can tell it was used.
    fn update_tickets(&self, updates: RVec<BatchUpdate>) -> ServiceFuture<RVec<BatchOutcome>> {
        let mut tickets = self.tickets();
        let outcomes = updates
            .into_iter()
            .map(|item| BatchOutcome {
                result: match set_priority(&mut tickets, &item.id, item.update) {
                    RResult::ROk(_) => RResult::ROk(()),
                    RResult::RErr(e) => RResult::RErr(e),
                },
                id: item.id,
            })
            .collect::<RVec<_>>();
        ready(RResult::ROk(outcomes))
    }

    fn request_stats(&self) -> ROption<RequestStats> {
        ROption::RSome(RequestStats {
            requests: self.calls.load(Ordering::Relaxed),
            retries: 0,
            rate_limited: 0,
        })
    }
}
