//! A plugin as it was written for otai-plugin-api 1.3.0 (built against the frozen copy in
//! `plugin-api-frozen/v1_3`): its own `ticket_state` and a paged `find_tickets_page`, but no
//! `verify_webhook`. The e2e tests load it into the current host to prove that 1.3 plugins keep
//! loading (through the host's 1.3 adapter), that their pages are read, and that `otai serve`
//! answers their webhooks "not supported" instead of accepting anything.
//!
//! Plugin `otai_test_legacy_1_3`, service `Legacy13Service`: tickets "1" (`Offen`) and "2"
//! (`Erledigt`) in memory, one per page, statuses in German that only the plugin's
//! `ticket_state` maps.

use abi_stable::{
    export_root_module,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use async_ffi::FutureExt;
use otai_plugin_api::{
    ErrorKind, HostContextRef, Note, PluginError, PluginInfo, PluginModule, PluginModuleRef,
    SearchQuery, ServiceFuture, ServiceInfo, ServiceKind, StatusCategory, Ticket, TicketPage,
    TicketState, TicketSystemBox, TicketSystemService, TicketSystemService_TO, TicketUpdate,
};

pub const PLUGIN_NAME: &str = "otai_test_legacy_1_3";
pub const SERVICE_NAME: &str = "Legacy13Service";

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
            description: "In-memory tickets, built against plugin API 1.3.0 (tests only).".into(),
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
    RResult::ROk(TicketSystemService_TO::from_value(Legacy13, TD_Opaque))
}

struct Legacy13;

fn tickets() -> Vec<Ticket> {
    [("1", "Offen"), ("2", "Erledigt")]
        .into_iter()
        .map(|(id, status)| Ticket {
            id: id.into(),
            subject: format!("Legacy 1.3 ticket {id}").into(),
            status: status.into(),
            ..Default::default()
        })
        .collect()
}

fn ready<T: Send + 'static>(value: RResult<T, PluginError>) -> ServiceFuture<T> {
    async move { value }.into_ffi()
}

impl TicketSystemService for Legacy13 {
    fn find_tickets(&self, _query: SearchQuery) -> ServiceFuture<RVec<Ticket>> {
        ready(RResult::ROk(tickets().into()))
    }

    fn find_first_ticket(&self, _query: SearchQuery) -> ServiceFuture<ROption<Ticket>> {
        ready(RResult::ROk(tickets().into_iter().next().into()))
    }

    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<Ticket>> {
        ready(RResult::ROk(
            tickets().into_iter().find(|t| t.id == id).into(),
        ))
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

    /// One ticket per page: the cursor is the index of the next one.
    fn find_tickets_page(
        &self,
        _query: SearchQuery,
        cursor: ROption<RString>,
    ) -> ServiceFuture<TicketPage> {
        let all = tickets();
        let at: usize = match cursor.as_ref().map(|c| c.parse()) {
            ROption::RNone => 0,
            ROption::RSome(Ok(at)) if at < all.len() => at,
            ROption::RSome(_) => {
                return ready(RResult::RErr(PluginError::new(
                    ErrorKind::VALIDATION,
                    "a cursor this plugin never handed out",
                )))
            }
        };
        let next = at + 1;
        ready(RResult::ROk(TicketPage {
            tickets: vec![all[at].clone()].into(),
            cursor: if next < all.len() {
                ROption::RSome(next.to_string().into())
            } else {
                ROption::RNone
            },
        }))
    }
}
