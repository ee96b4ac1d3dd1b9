//! [`OtoboApi`]: the simulated GenericInterface as the kit serves it ([`otai_sim_kit::SimApi`]):
//! the script path, the web service, the route table, the operations (SessionCreate,
//! TicketSearch, TicketGet, TicketUpdate), the agent faults (`conflict`: the agent edits the
//! ticket just before a TicketUpdate, which then proceeds, last writer wins; `agent_edit_after_read`:
//! after a TicketSearch or TicketGet answer, every ticket it showed is edited; `stop_mid_write`:
//! TicketUpdate stops after a setter), the counters, the webhook for tickets customers add
//! ([`crate::webhooks`]) and the admin routes under `/__sim/`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};

use otai_sim_kit::{Clock, Fault, KitStats, Reply, Req, Shown, SimApi};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{
    auth::Auth,
    error::{Failure, OpError, Refusal, TEXT_PLAIN},
    params::{list, request_data, scalar_with_data, truthy},
    routes::{target, Flavour, Operation, Routes, Target},
    search::search,
    seed::SeedData,
    shapes::{article_json, ticket_json, ArticleModel},
    store::{FieldKind, Store},
    update::{self, Stop},
    webhooks::{WebhookTarget, Webhooks},
};

/// What [`crate::SimHandle::stats`] and `GET /__sim/stats` count: the kit's counters
/// ([`KitStats`]) and the GenericInterface's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests to the web service or the script (`/__sim/` not counted).
    pub requests: u64,
    /// Those requests by the HTTP status answered (operation errors are 200s).
    pub by_status: BTreeMap<u16, u64>,
    /// Fault rules that fired, drops included.
    pub faults_injected: u64,
    /// Requests whose connection a `drop` fault closed.
    pub dropped_connections: u64,
    /// TicketUpdates that ran to the end (a stopped one is not counted).
    pub writes: u64,
    /// Requests per operation (`SessionCreate`, `TicketSearch`, `TicketGet`, `TicketUpdate`),
    /// counted when the route table resolves them, including those a fault answered or dropped.
    pub by_operation: BTreeMap<String, u64>,
    /// `<Operation>.AuthFail` answers.
    pub auth_failures: u64,
}

/// What the instance is, beyond its data.
#[derive(Debug, Clone)]
pub struct Config {
    /// Product (script path, small differences).
    pub flavour: Flavour,
    /// The web service's name.
    pub webservice: String,
    /// The web service's id.
    pub webservice_id: u64,
    /// Its route table.
    pub routes: Routes,
    /// TicketSearch's SearchLimit.
    pub search_limit: usize,
    /// The article model.
    pub article_model: ArticleModel,
}

/// The simulated help desk.
#[derive(Debug)]
pub struct OtoboApi {
    store: Mutex<Store>,
    initial: Store,
    clock: Clock,
    auth: Auth,
    config: Config,
    by_operation: Mutex<BTreeMap<String, u64>>,
    writes: AtomicU64,
    auth_failures: AtomicU64,
    webhooks: Webhooks,
}

/// An answer and the tickets it showed.
type Answer = Shown;

impl From<Refusal> for Shown {
    fn from(r: Refusal) -> Self {
        Shown::nothing(r.reply())
    }
}

impl From<OpError> for Shown {
    fn from(e: OpError) -> Self {
        Shown::nothing(e.reply())
    }
}

/// Creates a seed's queues and tickets; the new tickets' ids. The tags of Zendesk-shaped
/// tickets go to the first multiselect field, if there is one.
pub(crate) fn apply_seed(store: &mut Store, seed: SeedData, now: i64) -> Result<Vec<u64>, String> {
    for q in &seed.queues {
        store.ensure_queue(q);
    }
    let tag_field = store
        .fields
        .iter()
        .find(|f| f.kind == FieldKind::Multiselect)
        .map(|f| f.name.clone());
    seed.tickets
        .into_iter()
        .enumerate()
        .map(|(i, (mut t, tags))| {
            if let (Some(field), false) = (&tag_field, tags.is_empty()) {
                t.dynamic.entry(field.clone()).or_insert(json!(tags));
            }
            store
                .insert_ticket(t, now)
                .map_err(|e| format!("seed ticket {}: {e}", i + 1))
        })
        .collect()
}

impl OtoboApi {
    /// An instance holding `store` (also what a reset returns to).
    pub fn new(store: Store, clock: Clock, auth: Auth, config: Config) -> Self {
        OtoboApi {
            initial: store.clone(),
            store: Mutex::new(store),
            clock,
            auth,
            config,
            by_operation: Mutex::new(BTreeMap::new()),
            writes: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
            webhooks: Webhooks::new(),
        }
    }

    /// The store under its lock.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The sessions.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The simulated agent edits ticket `id` (`Changed` moves, `value` added to the agent's
    /// field).
    pub fn agent_edit(&self, id: u64, value: &str) -> bool {
        let now = self.clock.now();
        self.store().agent_edit(id, value, now)
    }

    /// Adds tickets (either seed dialect), as customers writing in; their ids. With a webhook
    /// target set, each new ticket's delivery goes out in the background.
    pub fn add_tickets(&self, tickets: &[Value]) -> Result<Vec<u64>, String> {
        let seed = SeedData::from_tickets(tickets)?;
        let now = self.clock.now();
        let mut store = self.store();
        let ids = apply_seed(&mut store, seed, now)?;
        let config = &self.config;
        self.webhooks
            .tickets_created(&store, &ids, config.flavour, config.article_model, now);
        Ok(ids)
    }

    /// Where to send a webhook delivery for every ticket added from now on (none: stop).
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.webhooks.set_target(target);
    }

    /// Every webhook delivery sent so far, in the order answered.
    pub fn webhook_deliveries(&self) -> Vec<otai_sim_kit::WebhookDelivery> {
        self.webhooks.deliveries()
    }

    /// The kit's counters `kit` with this simulator's.
    pub fn stats_with(&self, kit: &KitStats) -> Stats {
        let KitStats {
            requests,
            faults_injected,
            dropped_connections,
            by_status,
        } = kit.clone();
        Stats {
            requests,
            by_status,
            faults_injected,
            dropped_connections,
            writes: self.writes.load(Relaxed),
            by_operation: self.by_operation.lock().unwrap().clone(),
            auth_failures: self.auth_failures.load(Relaxed),
        }
    }

    /// Where a request goes: the operation and its path parameters, or the answer that it goes
    /// nowhere.
    fn locate(&self, req: &Req) -> Result<(Operation, Vec<(String, String)>), Reply> {
        let script = self.config.flavour.script_path();
        let raw = req.raw_path.as_str();
        let route = match target(script, raw) {
            None => return Err(Reply::text(404, TEXT_PLAIN, "Not Found")),
            Some(Target::ByName(name, route)) if name == self.config.webservice => route,
            Some(Target::ById(id, route)) if *id == self.config.webservice_id.to_string() => route,
            // Provider.pm: no such web service → an empty 500.
            Some(_) => return Err(Failure::Transport(String::new()).reply()),
        };
        self.config
            .routes
            .resolve(&req.method, route)
            .ok_or_else(|| Failure::no_route(route).reply())
    }

    fn count_operation(&self, req: &Req) {
        if let Ok((op, _)) = self.locate(req) {
            *self
                .by_operation
                .lock()
                .unwrap()
                .entry(op.name().to_string())
                .or_default() += 1;
        }
    }

    fn auth_fail(&self, op: Operation, message: &str) -> Answer {
        self.auth_failures.fetch_add(1, Relaxed);
        OpError::new(op.name(), "AuthFail", message).into()
    }

    fn dispatch(
        &self,
        op: Operation,
        data: &Map<String, Value>,
        stop: Option<Option<&str>>,
    ) -> Answer {
        let now = self.clock.now();
        let failing = "Authorization failing!";
        match op {
            Operation::SessionCreate => {
                if data.is_empty() {
                    return OpError::new(op.name(), "MissingParameter", "The request is empty!")
                        .into();
                }
                if !truthy(data.get("Password")) {
                    return OpError::new(
                        op.name(),
                        "MissingParameter",
                        "Password parameter is missing!",
                    )
                    .into();
                }
                match self.auth.create_session(data, now) {
                    Some(id) => Answer::ok(json!({"SessionID": id}), vec![]),
                    None => self.auth_fail(op, failing),
                }
            }
            Operation::TicketSearch => {
                if self.auth.user(data, now).is_none() {
                    return self.auth_fail(op, failing);
                }
                let store = self.store();
                let ids = search(
                    &store,
                    data,
                    self.config.flavour,
                    self.config.search_limit,
                    now,
                );
                if ids.is_empty() {
                    Answer::ok(json!({}), vec![])
                } else {
                    let as_text: Vec<String> = ids.iter().map(u64::to_string).collect();
                    Answer::ok(json!({"TicketID": as_text}), ids)
                }
            }
            Operation::TicketGet => {
                if self.auth.user(data, now).is_none() {
                    return self.auth_fail(op, failing);
                }
                self.ticket_get(data, now)
            }
            Operation::TicketUpdate => {
                if let Err(e) = update::precheck(data) {
                    return e.into();
                }
                let Some(user) = self.auth.user(data, now) else {
                    return self.auth_fail(op, "User could not be authenticated!");
                };
                let mut store = self.store();
                let denied = || {
                    OpError::new(
                        op.name(),
                        "AccessDenied",
                        "User does not have access to the ticket!",
                    )
                };
                let Some(id) = update::target(&store, data) else {
                    return denied().into();
                };
                let plan = match update::plan(&store, data, id, self.config.article_model, now) {
                    Ok(p) => p,
                    Err(e) => return e.into(),
                };
                let echo = plan.echo_id.clone();
                let stop = stop.map_or(Stop::Never, Stop::After);
                let out = update::apply(&mut store, plan, user, now, stop);
                if let Some(e) = out.error {
                    return e.into();
                }
                self.writes.fetch_add(1, Relaxed);
                let mut body = json!({
                    "TicketID": if echo.is_null() { json!(id.to_string()) } else { echo },
                    "TicketNumber": store.tickets[&id].number,
                });
                if let Some(a) = out.article_id {
                    body["ArticleID"] = json!(a.to_string());
                }
                Answer::ok(body, vec![])
            }
        }
    }

    fn ticket_get(&self, data: &Map<String, Value>, now: i64) -> Answer {
        let op = "TicketGet";
        if !truthy(data.get("TicketID")) {
            return OpError::new(op, "MissingParameter", "TicketID parameter is missing!").into();
        }
        let raw: Vec<String> = match data.get("TicketID") {
            Some(Value::Array(_)) => list(data.get("TicketID")),
            other => match scalar_with_data(other) {
                Some(s) => s.split(',').map(|x| x.trim().to_string()).collect(),
                None => {
                    return OpError::new(
                        op,
                        "WrongStructure",
                        "Structure for TicketID is not correct!",
                    )
                    .into()
                }
            },
        };
        let store = self.store();
        let mut ids = Vec::new();
        for r in &raw {
            match r
                .parse::<u64>()
                .ok()
                .filter(|i| store.tickets.contains_key(i))
            {
                Some(id) => ids.push(id),
                None => {
                    return OpError::new(
                        op,
                        "AccessDenied",
                        "User does not have access to the ticket!",
                    )
                    .into()
                }
            }
        }
        let dynamic = truthy(data.get("DynamicFields"));
        let all_articles = truthy(data.get("AllArticles"));
        let descending = scalar_with_data(data.get("ArticleOrder")).as_deref() == Some("DESC");
        let limit = crate::params::count(data.get("ArticleLimit")).unwrap_or(0);
        let senders = list(data.get("ArticleSenderType"));
        let mut tickets = Vec::new();
        for id in &ids {
            let t = &store.tickets[id];
            let mut entry = ticket_json(&store, t, dynamic, now);
            if all_articles {
                let mut articles = store.article_recs(*id);
                if !senders.is_empty() {
                    // One article list per sender type asked for, in that order.
                    articles = senders
                        .iter()
                        .flat_map(|s| {
                            let sid = crate::store::id_in(crate::store::SENDER_TYPES, s);
                            articles
                                .iter()
                                .filter(move |a| Some(a.sender_type_id()) == sid)
                                .copied()
                        })
                        .collect();
                }
                if descending && limit > 0 {
                    articles.reverse();
                }
                if limit > 0 {
                    articles.truncate(limit);
                }
                if !articles.is_empty() {
                    entry["Article"] = Value::Array(
                        articles
                            .into_iter()
                            .map(|a| article_json(a, self.config.article_model))
                            .collect(),
                    );
                }
            }
            tickets.push(entry);
        }
        Answer::ok(json!({"Ticket": tickets}), ids)
    }

    /// This simulator's admin routes.
    fn sim_admin(&self, req: &Req) -> Option<Reply> {
        let segs = req.segs();
        let not_found = |id: u64| {
            Reply::status(
                404,
                json!({"error": "InvalidEndpoint", "description": format!("no ticket {id}")}),
            )
        };
        let ticket_view = |s: &Store, id: u64| {
            json!({
                "ticket": s.ticket(id),
                "articles": s.articles(id),
                "writes": s.writes.iter().filter(|w| w.ticket_id == id).collect::<Vec<_>>(),
            })
        };
        Some(match (req.method.as_str(), &segs[..]) {
            ("GET", ["__sim", "tickets"]) => {
                let s = self.store();
                let list: Vec<_> = s.tickets.keys().filter_map(|i| s.ticket(*i)).collect();
                Reply::ok(json!(list))
            }
            ("POST", ["__sim", "tickets"]) => {
                let added = match req.json() {
                    Ok(Value::Array(list)) => self.add_tickets(&list),
                    Ok(one @ Value::Object(_)) => self.add_tickets(&[one]),
                    _ => Err("send one ticket (an object) or a list of them".to_string()),
                };
                added.map_or_else(
                    |e| bad_admin(&e),
                    |ids| Reply::status(201, json!({"ids": ids})),
                )
            }
            ("GET", ["__sim", "tickets", n]) => {
                let id = n.parse::<u64>().ok()?;
                let s = self.store();
                if !s.tickets.contains_key(&id) {
                    return Some(not_found(id));
                }
                Reply::ok(ticket_view(&s, id))
            }
            ("GET", ["__sim", "writes"]) => Reply::ok(json!(self.store().writes)),
            ("POST", ["__sim", "agent_edit", n]) => {
                let id = n.parse::<u64>().ok()?;
                let value = req
                    .q("value")
                    .filter(|v| !v.is_empty())
                    .unwrap_or(otai_sim_kit::DEFAULT_AGENT_TAG)
                    .to_string();
                if !self.agent_edit(id, &value) {
                    return Some(not_found(id));
                }
                Reply::ok(ticket_view(&self.store(), id))
            }
            ("PUT", ["__sim", "webhook"]) => match req.json() {
                Ok(Value::Null) => {
                    self.set_webhook(None);
                    Reply::ok(json!({"ok": true}))
                }
                Ok(body) => match webhook_target(&body) {
                    Some(target) => {
                        self.set_webhook(Some(target));
                        Reply::ok(json!({"ok": true}))
                    }
                    None => bad_admin(
                        "expected {\"url\", \"secret\"[, \"header\" | \"basic_user\"]} or null",
                    ),
                },
                Err(_) => bad_admin("the body must be JSON"),
            },
            ("GET", ["__sim", "webhook", "deliveries"]) => {
                Reply::ok(json!({"deliveries": self.webhook_deliveries()}))
            }
            ("POST", ["__sim", "sessions", "expire"]) => {
                self.auth.expire_sessions();
                Reply::ok(json!({"expired": true}))
            }
            _ => return None,
        })
    }
}

/// `{"url", "secret"}` with at most one of `"header"` (its name) or `"basic_user"`.
fn webhook_target(body: &Value) -> Option<WebhookTarget> {
    let url = body.get("url")?.as_str()?;
    let secret = body.get("secret")?.as_str()?;
    let target = WebhookTarget::new(url, secret);
    match (body.get("header"), body.get("basic_user")) {
        (None, None) => Some(target),
        (Some(Value::String(h)), None) if !h.is_empty() => Some(target.with_header(h)),
        (None, Some(Value::String(u))) => Some(target.with_basic(u)),
        _ => None,
    }
}

fn bad_admin(msg: &str) -> Reply {
    Reply::status(400, json!({"error": "InvalidValue", "description": msg}))
}

impl SimApi for OtoboApi {
    fn name(&self) -> &str {
        match self.config.flavour {
            Flavour::Otobo => "OTOBO",
            Flavour::Znuny => "Znuny",
            Flavour::Otrs6 => "OTRS",
        }
    }

    fn partial_writes(&self) -> bool {
        true
    }

    fn serve(&self, req: &Req, fault: Option<&Fault>) -> Reply {
        let (op, params) = match self.locate(req) {
            Ok(x) => x,
            Err(reply) => return reply,
        };
        self.count_operation(req);
        let data = match request_data(&req.method, &req.query, &params, &req.body) {
            Ok(d) => d,
            Err(f) => return f.reply(),
        };
        if op == Operation::TicketUpdate {
            let target = update::target(&self.store(), &data);
            otai_sim_kit::edit_before_write(fault, target, |id, value| self.agent_edit(id, value));
        }
        let stop = fault.and_then(Fault::stop_mid_write);
        self.dispatch(op, &data, stop.filter(|_| op == Operation::TicketUpdate))
            .finish(fault, |id, value| {
                self.agent_edit(id, value);
            })
    }

    fn fault_error(&self, req: &Req, status: u16, _retry_after: Option<u64>) -> Reply {
        self.count_operation(req);
        // What answers in front of or instead of the GenericInterface: the web server's plain
        // status pages, or the provider's empty 500.
        let text = match status {
            500 => "",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            429 => "Too Many Requests",
            _ => "Simulated error",
        };
        Reply::text(status, TEXT_PLAIN, text)
    }

    fn connection_dropped(&self, req: &Req) {
        self.count_operation(req);
    }

    fn admin(&self, req: &Req) -> Option<Reply> {
        self.sim_admin(req)
    }

    fn stats(&self, kit: &KitStats) -> Value {
        serde_json::to_value(self.stats_with(kit)).unwrap_or_default()
    }

    fn reset(&self) {
        *self.store() = self.initial.clone();
        self.auth.expire_sessions();
        self.by_operation.lock().unwrap().clear();
        self.writes.store(0, Relaxed);
        self.auth_failures.store(0, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FieldDef, API_USER_ID};

    fn api(routes: Routes) -> OtoboApi {
        let mut s = Store::new("otai-agent");
        s.declare_field(FieldDef {
            name: "OTAITags".into(),
            kind: FieldKind::Multiselect,
            possible_values: None,
        });
        let seed = SeedData::from_tickets(&[json!({"Title": "Card lost", "Body": "lost"})]);
        apply_seed(&mut s, seed.unwrap(), 0).unwrap();
        let auth = Auth::new(
            vec![("otai-agent".into(), "secret".into(), API_USER_ID)],
            crate::auth::DEFAULT_SESSION_IDLE,
        );
        OtoboApi::new(
            s,
            Clock::system(),
            auth,
            Config {
                flavour: Flavour::Otobo,
                webservice: "GenericTicketConnectorREST".into(),
                webservice_id: 1,
                routes,
                search_limit: 500,
                article_model: ArticleModel::CommunicationChannel,
            },
        )
    }

    const BASE: &str = "/otobo/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST";

    fn req(method: &str, route: &str, query: &str, body: &str) -> Req {
        let mut r = Req::new(method, &format!("{BASE}{route}")).with_query_string(query);
        r.body = body.to_string().into();
        r
    }

    #[test]
    fn operations_are_counted_and_routes_resolve_by_method() {
        let a = api(Routes::shipped());
        let r = a.serve(
            &req(
                "GET",
                "/Ticket/1",
                "UserLogin=otai-agent&Password=secret",
                "",
            ),
            None,
        );
        assert_eq!(r.body.unwrap()["Ticket"][0]["TicketID"], "1");
        let r = a.serve(
            &req("GET", "/Ticket", "UserLogin=otai-agent&Password=secret", ""),
            None,
        );
        assert_eq!(r.body.unwrap(), json!({"TicketID": ["1"]}));
        let r = a.serve(&req("DELETE", "/Ticket/1", "", ""), None);
        assert_eq!(r.status, 500);
        let st = a.stats_with(&KitStats::default());
        assert_eq!(st.by_operation["TicketGet"], 1);
        assert_eq!(st.by_operation["TicketSearch"], 1);
        assert_eq!(st.by_operation.len(), 2);
    }

    #[test]
    fn conflict_edits_before_the_write_and_the_write_still_wins() {
        let a = api(Routes::shipped());
        let body = r#"{"UserLogin": "otai-agent", "Password": "secret",
                       "DynamicField": {"Name": "OTAITags", "Value": ["otai_processed"]}}"#;
        let fault = Fault::Conflict { tag: None };
        let r = a.serve(&req("PATCH", "/Ticket/1", "", body), Some(&fault));
        assert_eq!(
            r.body.unwrap(),
            json!({"TicketID": "1", "TicketNumber": a.store().tickets[&1].number})
        );
        let s = a.store();
        assert_eq!(s.tickets[&1].dynamic["OTAITags"], json!(["otai_processed"]));
        let by: Vec<_> = s.writes.iter().map(|w| w.by.clone()).collect();
        assert_eq!(by, ["agent", "api"]);
    }

    #[test]
    fn wrong_web_service_and_script_paths() {
        let a = api(Routes::shipped());
        let r = a.serve(
            &Req::new(
                "GET",
                "/otobo/nph-genericinterface.pl/Webservice/Other/Ticket",
            ),
            None,
        );
        assert_eq!((r.status, r.text.as_deref()), (500, Some("")));
        let r = a.serve(
            &Req::new(
                "GET",
                "/otobo/nph-genericinterface.pl/WebserviceID/1/Ticket",
            ),
            None,
        );
        assert_eq!(
            r.body.unwrap()["Error"]["ErrorCode"],
            "TicketSearch.AuthFail"
        );
        let r = a.serve(
            &Req::new(
                "GET",
                "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST/Ticket",
            ),
            None,
        );
        assert_eq!(r.status, 404);
        assert_eq!(a.stats_with(&KitStats::default()).auth_failures, 1);
    }
}
