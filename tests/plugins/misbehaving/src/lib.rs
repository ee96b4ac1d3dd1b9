//! A test plugin whose behaviour is chosen by its params, to check how the host copes with
//! plugins that work, panic, hang or answer nonsense.
//!
//! Plugin `otai_test_misbehaving`, service `MisbehavingService`, params:
//! - `mode`: `"ok"` (default) serves two in-memory tickets; `"panic"` panics inside every method
//!   (caught by the guard and returned as `PANICKED`); `"hang"` never answers; `"garbage"` answers
//!   with tickets the host must reject (custom field JSON that is not JSON, an empty id);
//!   `"block"` blocks the thread that polls any of its futures, for good (a plugin that calls a
//!   blocking API inside `poll`), and blocks in `request_stats` and `ticket_state` too.
//! - `panic_on_construct`: `true` panics in the constructor (caught, returned as `PANICKED`);
//!   `block_on_construct`: `true` blocks in the constructor for good.
//!
//! A second service, `OddService`, has a kind the host does not know, to test that the host
//! refuses to use it as a ticket system. No runtime: every future is ready at once or never.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use abi_stable::{
    export_root_module,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use otai_plugin_api::{
    guard::{catch_panic, guarded},
    CustomFieldValue, ErrorKind, HostContextRef, LogLevel, Note, Person, PluginError, PluginInfo,
    PluginModule, PluginModuleRef, PluginResult, QueueRef, RequestStats, SearchQuery,
    ServiceFuture, ServiceInfo, ServiceKind, Ticket, TicketState, TicketSystemBox,
    TicketSystemService, TicketSystemService_TO, TicketUpdate,
};

pub const PLUGIN_NAME: &str = "otai_test_misbehaving";
pub const SERVICE_NAME: &str = "MisbehavingService";
const QUEUES: [(&str, &str); 3] = [("10", "Inbox"), ("11", "Hardware"), ("12", "Billing")];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

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
        services: RVec::from(vec![
            ServiceInfo {
                name: SERVICE_NAME.into(),
                kind: ServiceKind::TICKET_SYSTEM,
                description: "In-memory tickets that misbehave on request (tests only).".into(),
            },
            ServiceInfo {
                name: "OddService".into(),
                kind: ServiceKind(99),
                description: "A service of a kind no host knows (tests only).".into(),
            },
        ]),
    }
}

extern "C" fn new_ticket_system(
    service: RStr<'_>,
    params_json: RStr<'_>,
    host: HostContextRef,
) -> RResult<TicketSystemBox, PluginError> {
    catch_panic("new_ticket_system", || {
        if service.as_str() != SERVICE_NAME {
            return RResult::RErr(PluginError::new(
                ErrorKind::CONFIG,
                format!("{PLUGIN_NAME} has no ticket-system service `{service}`"),
            ));
        }
        let params: serde_json::Value = match serde_json::from_str(params_json.as_str()) {
            Ok(params) => params,
            Err(e) => {
                return RResult::RErr(PluginError::new(
                    ErrorKind::CONFIG,
                    format!("params are not JSON: {e}"),
                ))
            }
        };
        if params.get("block_on_construct").and_then(|v| v.as_bool()) == Some(true) {
            block_forever();
        }
        if params.get("panic_on_construct").and_then(|v| v.as_bool()) == Some(true) {
            panic!("misbehaving plugin panics in its constructor as configured");
        }
        let mode = match params.get("mode").map(|m| m.as_str()) {
            None => Mode::Ok,
            Some(Some("ok")) => Mode::Ok,
            Some(Some("panic")) => Mode::Panic,
            Some(Some("hang")) => Mode::Hang,
            Some(Some("garbage")) => Mode::Garbage,
            Some(Some("block")) => Mode::Block,
            Some(_) => {
                return RResult::RErr(PluginError::new(
                    ErrorKind::CONFIG,
                    "params.mode must be one of `ok`, `panic`, `hang`, `garbage`, `block`",
                ))
            }
        };
        host.emit(
            LogLevel::Info,
            "otai_test_misbehaving",
            &format!("Constructed {SERVICE_NAME} in mode {mode:?}."),
        );
        let service = Misbehaving {
            mode,
            tickets: Arc::new(Mutex::new(sample_tickets())),
        };
        RResult::ROk(TicketSystemService_TO::from_value(service, TD_Opaque))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    Panic,
    Hang,
    Garbage,
    Block,
}

/// Holds the calling thread for good.
fn block_forever() -> ! {
    loop {
        std::thread::park();
    }
}

/// A stored ticket and its notes (reported back in `raw_json`).
#[derive(Clone)]
struct Stored {
    ticket: Ticket,
    notes: Vec<Note>,
    version: u32,
}

impl Stored {
    fn snapshot(&self) -> Ticket {
        let notes: Vec<serde_json::Value> = self
            .notes
            .iter()
            .map(|n| serde_json::json!({"body": n.body.as_str(), "html": n.html, "public": n.public}))
            .collect();
        let mut ticket = self.ticket.clone();
        ticket.raw_json = serde_json::json!({"id": ticket.id.as_str(), "notes": notes})
            .to_string()
            .into();
        ticket
    }
}

struct Misbehaving {
    mode: Mode,
    tickets: Arc<Mutex<BTreeMap<String, Stored>>>,
}

fn ticket(id: &str, subject: &str, status: &str, queue: usize, tags: &[&str]) -> Stored {
    Stored {
        ticket: Ticket {
            id: id.into(),
            subject: subject.into(),
            body: format!("Body of ticket {id}: {subject}.").into(),
            status: status.into(),
            priority: ROption::RSome("normal".into()),
            queue: ROption::RSome(QueueRef {
                id: ROption::RSome(QUEUES[queue].0.into()),
                name: ROption::RSome(QUEUES[queue].1.into()),
            }),
            tags: tags.iter().map(|t| RString::from(*t)).collect(),
            custom_fields: RVec::from(vec![CustomFieldValue {
                id: "100".into(),
                value_json: "\"printer\"".into(),
            }]),
            requester: ROption::RSome(Person {
                id: "900".into(),
                name: ROption::RSome("Ada Customer".into()),
                email: ROption::RSome("ada@example.com".into()),
            }),
            created_at: ROption::RSome("2024-01-01T00:00:00Z".into()),
            updated_at: ROption::RSome(stamp(0)),
            raw_json: RString::new(),
        },
        notes: Vec::new(),
        version: 0,
    }
}

fn stamp(version: u32) -> RString {
    format!("2024-01-02T00:00:{:02}Z", version % 60).into()
}

fn sample_tickets() -> BTreeMap<String, Stored> {
    [
        ticket("1", "Printer on fire", "new", 0, &["hardware"]),
        ticket("2", "Invoice missing", "open", 0, &["billing"]),
    ]
    .into_iter()
    .map(|t| (t.ticket.id.to_string(), t))
    .collect()
}

fn matches(t: &Ticket, q: &SearchQuery) -> bool {
    let has = |tag: &RString| t.tags.contains(tag);
    let queue_name = t
        .queue
        .as_ref()
        .into_option()
        .and_then(|tq| tq.name.as_ref().into_option());
    let updated_at = t.updated_at.as_ref().into_option();
    (q.statuses.is_empty() || q.statuses.contains(&t.status))
        && q.queue
            .as_ref()
            .into_option()
            .is_none_or(|queue| queue_name == Some(queue))
        && q.tags_all.iter().all(has)
        && !q.tags_none.iter().any(has)
        && q.updated_since
            .as_ref()
            .into_option()
            .is_none_or(|since| updated_at.is_some_and(|u| u >= since))
}

fn not_found(id: &str) -> PluginError {
    PluginError::new(ErrorKind::NOT_FOUND, format!("ticket {id} does not exist"))
}

fn apply(stored: &mut Stored, update: TicketUpdate) -> PluginResult<()> {
    if let ROption::RSome(since) = &update.if_unchanged_since {
        if stored.ticket.updated_at.as_ref() != ROption::RSome(since) {
            return RResult::RErr(PluginError::new(
                ErrorKind::CONFLICT,
                format!("ticket {} changed since {since}", stored.ticket.id),
            ));
        }
    }
    let mut next = stored.clone();
    if let ROption::RSome(queue) = update.queue {
        let found = QUEUES.iter().find(|(id, name)| {
            queue.id.as_ref().into_option().is_some_and(|q| q == id)
                || queue.name.as_ref().into_option().is_some_and(|q| q == name)
        });
        let Some((id, name)) = found else {
            return RResult::RErr(
                PluginError::new(ErrorKind::VALIDATION, "unknown queue").with_http_status(422),
            );
        };
        next.ticket.queue = ROption::RSome(QueueRef {
            id: ROption::RSome((*id).into()),
            name: ROption::RSome((*name).into()),
        });
    }
    if let ROption::RSome(priority) = update.priority {
        if !PRIORITIES.contains(&priority.as_str()) {
            return RResult::RErr(PluginError::new(
                ErrorKind::VALIDATION,
                format!("unknown priority `{priority}`"),
            ));
        }
        next.ticket.priority = ROption::RSome(priority);
    }
    if let ROption::RSome(status) = update.status {
        next.ticket.status = status;
    }
    for tag in update.add_tags {
        if !next.ticket.tags.contains(&tag) {
            next.ticket.tags.push(tag);
        }
    }
    next.ticket.tags.retain(|t| !update.remove_tags.contains(t));
    for field in update.custom_fields {
        next.ticket.custom_fields.retain(|f| f.id != field.id);
        next.ticket.custom_fields.push(field);
    }
    if let ROption::RSome(note) = update.note {
        next.notes.push(note);
    }
    next.version += 1;
    next.ticket.updated_at = ROption::RSome(stamp(next.version));
    *stored = next;
    RResult::ROk(())
}

/// What the host must reject: custom field JSON that is not JSON.
fn garble(mut t: Ticket) -> Ticket {
    t.custom_fields = RVec::from(vec![CustomFieldValue {
        id: "100".into(),
        value_json: "{not json".into(),
    }]);
    t
}

impl Misbehaving {
    /// Runs `work` according to the mode; `garbage` post-processes the good answer.
    fn serve<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut BTreeMap<String, Stored>) -> PluginResult<T>,
        garbage: impl FnOnce(T) -> T,
    ) -> ServiceFuture<T> {
        match self.mode {
            Mode::Panic => guarded::<T, _>(operation, async move {
                panic!("misbehaving plugin panics in {operation} as configured")
            }),
            Mode::Hang => guarded(operation, std::future::pending()),
            Mode::Block => guarded(operation, async { block_forever() }),
            Mode::Ok | Mode::Garbage => {
                let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
                let mut result = work(&mut tickets);
                if self.mode == Mode::Garbage {
                    result = result.map(garbage);
                }
                guarded(operation, async move { result })
            }
        }
    }
}

impl TicketSystemService for Misbehaving {
    fn find_tickets(&self, query: SearchQuery) -> ServiceFuture<RVec<Ticket>> {
        self.serve(
            "find_tickets",
            move |tickets| {
                let limit = query.limit.into_option().map_or(usize::MAX, |l| l as usize);
                let found = tickets
                    .values()
                    .filter(|s| matches(&s.ticket, &query))
                    .take(limit);
                RResult::ROk(found.map(Stored::snapshot).collect())
            },
            |found: RVec<Ticket>| {
                let mut found: Vec<Ticket> = found.into_iter().map(garble).collect();
                if let Some(first) = found.first_mut() {
                    first.id = RString::new();
                }
                found.into()
            },
        )
    }

    fn find_first_ticket(&self, query: SearchQuery) -> ServiceFuture<ROption<Ticket>> {
        self.serve(
            "find_first_ticket",
            move |tickets| {
                RResult::ROk(
                    tickets
                        .values()
                        .find(|s| matches(&s.ticket, &query))
                        .map(Stored::snapshot)
                        .into(),
                )
            },
            |found: ROption<Ticket>| found.map(garble),
        )
    }

    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<Ticket>> {
        self.serve(
            "get_ticket",
            move |tickets| RResult::ROk(tickets.get(id.as_str()).map(Stored::snapshot).into()),
            |found: ROption<Ticket>| found.map(garble),
        )
    }

    fn update_ticket(&self, id: RString, update: TicketUpdate) -> ServiceFuture<Ticket> {
        self.serve(
            "update_ticket",
            move |tickets| {
                let Some(stored) = tickets.get_mut(id.as_str()) else {
                    return RResult::RErr(not_found(&id));
                };
                apply(stored, update).map(|()| stored.snapshot())
            },
            |mut ticket: Ticket| {
                ticket.id = RString::new();
                ticket
            },
        )
    }

    fn add_note(&self, id: RString, note: Note) -> ServiceFuture<()> {
        self.serve(
            "add_note",
            move |tickets| {
                let Some(stored) = tickets.get_mut(id.as_str()) else {
                    return RResult::RErr(not_found(&id));
                };
                stored.notes.push(note);
                RResult::ROk(())
            },
            |()| (),
        )
    }

    fn check_connection(&self) -> ServiceFuture<RString> {
        self.serve(
            "check_connection",
            |_| RResult::ROk("tester@example.com on memory://misbehaving".into()),
            |who: RString| who,
        )
    }

    fn request_stats(&self) -> ROption<RequestStats> {
        if self.mode == Mode::Block {
            block_forever()
        }
        ROption::RNone
    }

    fn ticket_state(&self, status: RString, tags: RVec<RString>) -> TicketState {
        if self.mode == Mode::Block {
            block_forever()
        }
        drop(tags);
        otai_plugin_api::ticket::state_from_status_name(&status)
    }
}
