//! [`ZammadApi`]: the simulated Zammad as the kit serves it ([`otai_sim_kit::SimApi`]): routing,
//! authentication, the endpoints under `/api/v1`, the two agent faults (`conflict`: the agent
//! edits the ticket just before a write, which then proceeds, last writer wins;
//! `agent_edit_after_read`: after a 2xx answer, every ticket it showed is edited), the
//! per-route counters, the webhook for tickets customers add ([`crate::webhooks`]) and the
//! Zammad admin routes under `/__sim/`.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, MutexGuard,
    },
};

use otai_sim_kit::{Clock, Fault, KitStats, Reply, Req, Shown as Answer, SimApi};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{
    auth::AuthConfig,
    error::ApiError,
    params::{flag, int_param, merged, str_param},
    search::{self, SearchBackend, SearchParams, SearchShape},
    seed::SeedData,
    stamp::Now,
    store::{Store, API_USER_ID},
    webhooks::{WebhookTarget, Webhooks},
};

/// The counters of `GET /__sim/stats` and [`crate::SimHandle::stats`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// API requests received (admin requests excluded).
    pub requests: u64,
    /// API answers by status.
    pub by_status: BTreeMap<u16, u64>,
    /// Faults that fired (drops included).
    pub faults_injected: u64,
    /// Connections closed without an answer.
    pub dropped_connections: u64,
    /// Successful API writes (`PUT /tickets/{id}`, `tags/add`, `tags/remove`).
    pub writes: u64,
    /// API requests per route, ids as `{id}`: `"GET /api/v1/tickets/{id}"`. Requests a fault
    /// answered or dropped count too.
    pub by_route: BTreeMap<String, u64>,
}

/// Which search backend and shape the instance has right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Elasticsearch or SQL.
    pub backend: SearchBackend,
    /// Current or legacy Zammad.
    pub shape: SearchShape,
}

/// The simulated Zammad.
#[derive(Debug)]
pub struct ZammadApi {
    store: Mutex<Store>,
    initial: Store,
    clock: Clock,
    auth: AuthConfig,
    search: Mutex<SearchConfig>,
    initial_search: SearchConfig,
    by_route: Mutex<BTreeMap<String, u64>>,
    writes: AtomicU64,
    webhooks: Webhooks,
}

/// The route as counted: method and path with numeric segments as `{id}`.
pub fn route_key(method: &str, path: &str) -> String {
    let path: Vec<&str> = path
        .split('/')
        .map(|s| {
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("{method} {}", path.join("/"))
}

enum Route {
    UsersMe,
    User(u64),
    Tickets,
    Search,
    Ticket(u64),
    TicketUpdate(u64),
    ArticlesByTicket(u64),
    Article(u64),
    Tags,
    TagAdd,
    TagRemove,
    Groups,
    Group(u64),
    Priorities,
    Priority(u64),
    States,
    State(u64),
}

fn route(req: &Req) -> Option<Route> {
    let segs = req.segs();
    let id = |s: &str| s.parse::<u64>().ok();
    let m = req.method.as_str();
    let rest = segs.strip_prefix(&["api", "v1"][..])?;
    Some(match (m, rest) {
        ("GET", ["users", "me"]) => Route::UsersMe,
        ("GET", ["users", n]) => Route::User(id(n)?),
        ("GET", ["tickets"]) => Route::Tickets,
        ("GET" | "POST", ["tickets", "search"]) => Route::Search,
        ("GET", ["tickets", n]) => Route::Ticket(id(n)?),
        ("PUT", ["tickets", n]) => Route::TicketUpdate(id(n)?),
        ("GET", ["ticket_articles", "by_ticket", n]) => Route::ArticlesByTicket(id(n)?),
        ("GET", ["ticket_articles", n]) => Route::Article(id(n)?),
        ("GET", ["tags"]) => Route::Tags,
        ("POST", ["tags", "add"]) => Route::TagAdd,
        ("DELETE", ["tags", "remove"]) => Route::TagRemove,
        ("GET", ["groups"]) => Route::Groups,
        ("GET", ["groups", n]) => Route::Group(id(n)?),
        ("GET", ["ticket_priorities"]) => Route::Priorities,
        ("GET", ["ticket_priorities", n]) => Route::Priority(id(n)?),
        ("GET", ["ticket_states"]) => Route::States,
        ("GET", ["ticket_states", n]) => Route::State(id(n)?),
        _ => return None,
    })
}

impl From<ApiError> for Answer {
    fn from(e: ApiError) -> Self {
        Answer {
            reply: e.reply(),
            shown: Vec::new(),
        }
    }
}

impl ZammadApi {
    /// An instance holding `store` (also what a reset returns to).
    pub fn new(store: Store, clock: Clock, auth: AuthConfig, search: SearchConfig) -> Self {
        ZammadApi {
            initial: store.clone(),
            store: Mutex::new(store),
            clock,
            auth,
            search: Mutex::new(search),
            initial_search: search,
            by_route: Mutex::new(BTreeMap::new()),
            writes: AtomicU64::new(0),
            webhooks: Webhooks::new(),
        }
    }

    /// The store under its lock.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap()
    }

    /// The account's clock now.
    pub fn now(&self) -> Now {
        Now::from_clock(self.clock.stopped())
    }

    /// The search configuration.
    pub fn search_config(&self) -> SearchConfig {
        *self.search.lock().unwrap()
    }

    /// Switches the search backend.
    pub fn set_search_backend(&self, b: SearchBackend) {
        self.search.lock().unwrap().backend = b;
    }

    /// Switches the search shape (Zammad generation).
    pub fn set_search_shape(&self, s: SearchShape) {
        self.search.lock().unwrap().shape = s;
    }

    /// The simulated agent edits ticket `id` (tag added, stamp moved).
    pub fn agent_edit(&self, id: u64, tag: &str) -> bool {
        let now = self.now();
        self.store().agent_edit(id, tag, now)
    }

    /// Adds tickets (either seed dialect), as customers writing in; their ids. With a webhook
    /// target set, each new ticket's signed delivery goes out in the background.
    pub fn add_tickets(&self, tickets: &[Value]) -> Result<Vec<u64>, String> {
        let seed = SeedData::from_tickets(tickets)?;
        let now = self.now();
        let mut store = self.store();
        let ids = apply_seed(&mut store, seed, now)?;
        self.webhooks.tickets_created(&store, &ids);
        Ok(ids)
    }

    /// Where to send a signed webhook delivery for every ticket added from now on (none: stop).
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.webhooks.set_target(target);
    }

    /// Every webhook delivery sent so far, in the order answered.
    pub fn webhook_deliveries(&self) -> Vec<otai_sim_kit::WebhookDelivery> {
        self.webhooks.deliveries()
    }

    /// The counters, the kit's and this simulator's.
    pub fn stats_with(&self, kit: &KitStats) -> Stats {
        Stats {
            requests: kit.requests,
            by_status: kit.by_status.clone(),
            faults_injected: kit.faults_injected,
            dropped_connections: kit.dropped_connections,
            writes: self.writes.load(Ordering::Relaxed),
            by_route: self.by_route.lock().unwrap().clone(),
        }
    }

    fn count_route(&self, req: &Req) {
        *self
            .by_route
            .lock()
            .unwrap()
            .entry(route_key(&req.method, &req.path))
            .or_default() += 1;
    }

    /// The tickets a write request writes to (for `conflict`).
    fn write_targets(&self, r: &Route, p: &Map<String, Value>) -> Vec<u64> {
        match r {
            Route::TicketUpdate(id) => vec![*id],
            Route::TagAdd | Route::TagRemove => int_param(p, "o_id")
                .filter(|i| *i > 0)
                .map(|i| vec![i as u64])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn dispatch(&self, req: &Req, r: &Route, p: &Map<String, Value>) -> Answer {
        let now = self.now();
        let route = route_key(&req.method, &req.path);
        let mut store = self.store();
        let expand = flag(p, "expand");
        let full = flag(p, "full");
        let all = flag(p, "all");
        match r {
            Route::UsersMe => {
                let u = store.user(API_USER_ID).cloned().expect("API user");
                Answer::ok(store.user_json(&u), vec![])
            }
            Route::User(id) => match store.user(*id).cloned() {
                Some(u) => Answer::ok(store.user_json(&u), vec![]),
                None => ApiError::not_found("User", id).into(),
            },
            Route::Tickets => {
                let legacy = self.search_config().shape == SearchShape::Legacy;
                let paged = !legacy || (p.contains_key("page") && p.contains_key("per_page"));
                let (page, per_page) = if paged {
                    let per = int_param(p, "per_page")
                        .or_else(|| int_param(p, "limit"))
                        .unwrap_or(100)
                        .clamp(0, 100);
                    (int_param(p, "page").unwrap_or(1).max(1), per)
                } else {
                    (1, 100)
                };
                let ids: Vec<u64> = store
                    .ticket_ids()
                    .into_iter()
                    .skip(((page - 1) * per_page) as usize)
                    .take(per_page as usize)
                    .collect();
                let recs: Vec<_> = ids.iter().map(|i| store.tickets[i].clone()).collect();
                let body = if expand {
                    Value::Array(recs.iter().map(|t| store.ticket_expanded_json(t)).collect())
                } else if full {
                    let assets = store.tickets_assets(&recs);
                    json!({"record_ids": ids, "assets": assets})
                } else {
                    Value::Array(recs.iter().map(|t| store.ticket_json(t)).collect())
                };
                Answer::ok(body, ids)
            }
            Route::Search => {
                let cfg = self.search_config();
                let sp = SearchParams::from_params(p);
                let found = match search::search(&store, cfg.backend, cfg.shape, &sp, now.ms) {
                    Ok(f) => f,
                    Err(e) => return e.into(),
                };
                let recs: Vec<_> = found.ids.iter().map(|i| store.tickets[i].clone()).collect();
                let body = match cfg.shape {
                    SearchShape::Legacy if sp.expand => {
                        Value::Array(recs.iter().map(|t| store.ticket_expanded_json(t)).collect())
                    }
                    SearchShape::Legacy => {
                        let assets = store.tickets_assets(&recs);
                        json!({"tickets": found.ids, "tickets_count": found.ids.len(), "assets": assets})
                    }
                    SearchShape::Array if sp.only_total_count => {
                        json!({"total_count": found.total})
                    }
                    SearchShape::Array if sp.full => {
                        let assets = store.tickets_assets(&recs);
                        json!({"record_ids": found.ids, "assets": assets, "total_count": found.total})
                    }
                    SearchShape::Array => {
                        let list: Vec<Value> = recs
                            .iter()
                            .map(|t| {
                                if sp.expand {
                                    store.ticket_expanded_json(t)
                                } else {
                                    store.ticket_json(t)
                                }
                            })
                            .collect();
                        if sp.with_total_count {
                            json!({"records": list, "total_count": found.total})
                        } else {
                            Value::Array(list)
                        }
                    }
                };
                let shown = if sp.only_total_count {
                    vec![]
                } else {
                    found.ids
                };
                Answer::ok(body, shown)
            }
            Route::Ticket(id) => {
                let Some(t) = store.tickets.get(id).cloned() else {
                    return ApiError::not_found("Ticket", id).into();
                };
                let body = ticket_answer(&store, &t, expand, full, all);
                Answer::ok(body, vec![*id])
            }
            Route::TicketUpdate(id) => {
                match store.update_ticket(*id, &Value::Object(p.clone()), &route, now) {
                    Ok(_) => {
                        self.writes.fetch_add(1, Ordering::Relaxed);
                        let t = store.tickets[id].clone();
                        Answer::ok(ticket_answer(&store, &t, expand, full, all), vec![*id])
                    }
                    Err(e) => e.into(),
                }
            }
            Route::ArticlesByTicket(id) => {
                if !store.tickets.contains_key(id) {
                    return ApiError::not_found("Ticket", id).into();
                }
                let list: Vec<Value> = store
                    .article_recs(*id)
                    .into_iter()
                    .map(|a| store.article_json(a))
                    .collect();
                Answer::ok(Value::Array(list), vec![*id])
            }
            Route::Article(id) => match store.articles.get(id).cloned() {
                Some(a) => Answer::ok(store.article_json(&a), vec![a.ticket_id]),
                None => ApiError::not_found("Ticket::Article", id).into(),
            },
            Route::Tags => {
                let object = str_param(p, "object").unwrap_or_default();
                let o_id = int_param(p, "o_id").unwrap_or(0).max(0) as u64;
                if object != "Ticket" {
                    return Answer::ok(json!({"tags": []}), vec![]);
                }
                if !store.tickets.contains_key(&o_id) {
                    return ApiError::not_found("Ticket", o_id).into();
                }
                Answer::ok(json!({"tags": store.tags(o_id)}), vec![o_id])
            }
            Route::TagAdd | Route::TagRemove => {
                let object = str_param(p, "object").unwrap_or_default();
                if object != "Ticket" {
                    return ApiError::unprocessable(format!(
                        "Unknown tag object {object:?} (the simulator has tags on Ticket only)"
                    ))
                    .into();
                }
                let o_id = int_param(p, "o_id").unwrap_or(0).max(0) as u64;
                let Some(item) = str_param(p, "item") else {
                    return ApiError::unprocessable("Name can't be blank").into();
                };
                let result = if matches!(r, Route::TagAdd) {
                    store.tag_add(o_id, &item, &route, "api", now)
                } else {
                    store.tag_remove(o_id, &item, &route, now)
                };
                match result {
                    Ok(_) => {
                        self.writes.fetch_add(1, Ordering::Relaxed);
                        let status = if matches!(r, Route::TagAdd) { 201 } else { 200 };
                        Answer {
                            reply: Reply::status(status, Value::Bool(true)),
                            shown: vec![o_id],
                        }
                    }
                    Err(e) => e.into(),
                }
            }
            Route::Groups => Answer::ok(
                Value::Array(store.groups.iter().map(|g| store.group_json(g)).collect()),
                vec![],
            ),
            Route::Group(id) => match store.group(*id).cloned() {
                Some(g) => Answer::ok(store.group_json(&g), vec![]),
                None => ApiError::not_found("Group", id).into(),
            },
            Route::Priorities => Answer::ok(
                Value::Array(
                    store
                        .priorities
                        .iter()
                        .map(|x| store.priority_json(x))
                        .collect(),
                ),
                vec![],
            ),
            Route::Priority(id) => match store.priority(*id).cloned() {
                Some(x) => Answer::ok(store.priority_json(&x), vec![]),
                None => ApiError::not_found("Ticket::Priority", id).into(),
            },
            Route::States => Answer::ok(
                Value::Array(store.states.iter().map(|x| store.state_json(x)).collect()),
                vec![],
            ),
            Route::State(id) => match store.state(*id).cloned() {
                Some(x) => Answer::ok(store.state_json(&x), vec![]),
                None => ApiError::not_found("Ticket::State", id).into(),
            },
        }
    }

    fn admin_route(&self, req: &Req) -> Option<Reply> {
        let segs = req.segs();
        let m = req.method.as_str();
        let store_json = |s: &Store, id: u64| -> Value {
            json!({
                "ticket": s.ticket(id),
                "articles": s.articles(id),
                "tags": s.tags(id),
                "writes": s.writes().iter().filter(|w| w.ticket_id == id).collect::<Vec<_>>(),
            })
        };
        Some(match (m, &segs[..]) {
            ("GET", ["__sim", "tickets"]) => {
                let s = self.store();
                let list: Vec<_> = s
                    .ticket_ids()
                    .into_iter()
                    .filter_map(|i| s.ticket(i))
                    .collect();
                Reply::ok(json!(list))
            }
            ("POST", ["__sim", "tickets"]) => {
                let body = match req.json() {
                    Ok(Value::Array(a)) => a,
                    Ok(Value::Object(o)) => vec![Value::Object(o)],
                    _ => return Some(bad_admin("expected a ticket object or a list of them")),
                };
                match self.add_tickets(&body) {
                    Ok(ids) => Reply::status(201, json!({"ids": ids})),
                    Err(e) => bad_admin(&e),
                }
            }
            ("GET", ["__sim", "tickets", n]) => {
                let id = n.parse::<u64>().ok()?;
                let s = self.store();
                if s.ticket(id).is_none() {
                    return Some(Reply::status(
                        404,
                        json!({"error": "InvalidEndpoint", "description": format!("no ticket {id}")}),
                    ));
                }
                Reply::ok(store_json(&s, id))
            }
            ("GET", ["__sim", "writes"]) => Reply::ok(json!(self.store().writes())),
            ("POST", ["__sim", "agent_edit", n]) => {
                let id = n.parse::<u64>().ok()?;
                let tag = req
                    .q("tag")
                    .filter(|t| !t.is_empty())
                    .unwrap_or(otai_sim_kit::DEFAULT_AGENT_TAG)
                    .to_string();
                if !self.agent_edit(id, &tag) {
                    return Some(Reply::status(
                        404,
                        json!({"error": "InvalidEndpoint", "description": format!("no ticket {id}")}),
                    ));
                }
                Reply::ok(store_json(&self.store(), id))
            }
            ("PUT", ["__sim", "webhook"]) => {
                let target = match req.json() {
                    Ok(Value::Null) => None,
                    Ok(Value::Object(o)) => match (
                        o.get("url").and_then(Value::as_str),
                        o.get("secret").and_then(Value::as_str),
                    ) {
                        (Some(url), Some(secret)) => Some(WebhookTarget {
                            url: url.to_string(),
                            secret: secret.to_string(),
                        }),
                        _ => return Some(bad_admin("expected {\"url\", \"secret\"} or null")),
                    },
                    _ => return Some(bad_admin("expected {\"url\", \"secret\"} or null")),
                };
                self.set_webhook(target);
                Reply::ok(json!({"ok": true}))
            }
            ("GET", ["__sim", "webhook", "deliveries"]) => {
                Reply::ok(json!({"deliveries": self.webhook_deliveries()}))
            }
            ("GET", ["__sim", "search"]) => Reply::ok(json!(self.search_config())),
            ("PUT", ["__sim", "search"]) => {
                let Ok(Value::Object(o)) = req.json() else {
                    return Some(bad_admin("expected {\"backend\": ..., \"shape\": ...}"));
                };
                if let Some(b) = o.get("backend") {
                    match serde_json::from_value::<SearchBackend>(b.clone()) {
                        Ok(b) => self.set_search_backend(b),
                        Err(_) => return Some(bad_admin("backend: elasticsearch or sql")),
                    }
                }
                if let Some(s) = o.get("shape") {
                    match serde_json::from_value::<SearchShape>(s.clone()) {
                        Ok(s) => self.set_search_shape(s),
                        Err(_) => return Some(bad_admin("shape: array or legacy")),
                    }
                }
                Reply::ok(json!(self.search_config()))
            }
            _ => return None,
        })
    }
}

fn bad_admin(msg: &str) -> Reply {
    Reply::status(400, json!({"error": "InvalidValue", "description": msg}))
}

fn ticket_answer(
    store: &Store,
    t: &crate::store::TicketRec,
    expand: bool,
    full: bool,
    all: bool,
) -> Value {
    if expand {
        store.ticket_expanded_json(t)
    } else if full {
        store.ticket_full_json(t)
    } else if all {
        store.ticket_all_json(t)
    } else {
        store.ticket_json(t)
    }
}

/// Creates a seed's groups, attributes and tickets; the new tickets' ids.
pub(crate) fn apply_seed(store: &mut Store, seed: SeedData, now: Now) -> Result<Vec<u64>, String> {
    for g in &seed.groups {
        store.ensure_group(g);
    }
    store.declare_attributes(seed.attributes.iter().map(String::as_str));
    let mut ids = Vec::new();
    for (i, t) in seed.tickets.into_iter().enumerate() {
        let id = store
            .insert_ticket(t, now)
            .map_err(|e| format!("ticket {}: {e}", i + 1))?;
        ids.push(id);
    }
    Ok(ids)
}

impl SimApi for ZammadApi {
    fn name(&self) -> &str {
        "Zammad"
    }

    fn request_id_header(&self) -> &str {
        "x-request-id"
    }

    fn serve(&self, req: &Req, fault: Option<&Fault>) -> Reply {
        self.count_route(req);
        let Some(r) = route(req) else {
            return ApiError::no_route(&req.method, &req.raw_path).reply();
        };
        if let Err(e) = self.auth.check(req.header("authorization")) {
            return e.reply();
        }
        let body = match req.json() {
            Ok(v) => v,
            Err(e) => {
                // Rails answers an unparsable JSON body with 400 before the controller runs.
                return Reply::status(
                    400,
                    json!({"error": format!("Error occurred while parsing request parameters: {e}")}),
                );
            }
        };
        let p = merged(&req.query, &body);
        otai_sim_kit::edit_before_write(fault, self.write_targets(&r, &p), |id, tag| {
            self.agent_edit(id, tag)
        });
        self.dispatch(req, &r, &p).finish(fault, |id, tag| {
            self.agent_edit(id, tag);
        })
    }

    fn fault_error(&self, req: &Req, status: u16, _retry_after: Option<u64>) -> Reply {
        self.count_route(req);
        let message = match status {
            502 => "Bad Gateway".to_string(),
            503 => "Service Unavailable".to_string(),
            504 => "Gateway Timeout".to_string(),
            429 => "Too Many Requests (simulated: Zammad has no API rate limit)".to_string(),
            // Zammad's own 500 for a non-admin: an error id, nothing else.
            500 => format!(
                "Error ID sim{:05}: Please contact your administrator.",
                fastrand_id(req)
            ),
            s => format!("Simulated error {s}"),
        };
        ApiError::new(status, message).reply()
    }

    fn connection_dropped(&self, req: &Req) {
        self.count_route(req);
    }

    fn admin(&self, req: &Req) -> Option<Reply> {
        self.admin_route(req)
    }

    fn stats(&self, kit: &KitStats) -> Value {
        json!(self.stats_with(kit))
    }

    fn reset(&self) {
        *self.store() = self.initial.clone();
        *self.search.lock().unwrap() = self.initial_search;
        self.by_route.lock().unwrap().clear();
        self.writes.store(0, Ordering::Relaxed);
    }
}

/// A stable number for an error id (the path's length and the body's size: no RNG needed).
fn fastrand_id(req: &Req) -> usize {
    (req.path.len() * 31 + req.body.len()) % 100_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewArticle, NewTicket, DEFAULT_AGENT_LOGIN};

    fn api() -> ZammadApi {
        let mut s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        s.insert_ticket(
            NewTicket {
                title: "Card lost".into(),
                articles: vec![NewArticle {
                    body: "lost".into(),
                    ..NewArticle::default()
                }],
                ..NewTicket::default()
            },
            Now::at(0),
        )
        .unwrap();
        ZammadApi::new(
            s,
            Clock::system(),
            AuthConfig::default(),
            SearchConfig::default(),
        )
    }

    fn get(path: &str) -> Req {
        let (p, q) = path.split_once('?').unwrap_or((path, ""));
        Req::new("GET", p)
            .with_query_string(q)
            .with_header("Authorization", "Token token=sim-token")
    }

    #[test]
    fn routes_are_counted_with_ids_as_placeholders() {
        assert_eq!(
            route_key("GET", "/api/v1/tickets/17"),
            "GET /api/v1/tickets/{id}"
        );
        assert_eq!(
            route_key("GET", "/api/v1/ticket_articles/by_ticket/9"),
            "GET /api/v1/ticket_articles/by_ticket/{id}"
        );
        let a = api();
        a.serve(&get("/api/v1/tickets/1"), None);
        a.serve(&get("/api/v1/tickets/2"), None);
        let st = a.stats_with(&KitStats::default());
        assert_eq!(st.by_route["GET /api/v1/tickets/{id}"], 2);
    }

    #[test]
    fn unknown_routes_404_before_auth_and_known_ones_need_it() {
        let a = api();
        let r = a.serve(&Req::new("GET", "/api/v1/nope"), None);
        assert_eq!(r.status, 404);
        let r = a.serve(&Req::new("GET", "/api/v1/tickets"), None);
        assert_eq!(
            (r.status, r.header("x-failure")),
            (403, Some("Authentication required"))
        );
        let r = a.serve(&get("/api/v1/tickets/9"), None);
        assert_eq!(r.body.unwrap()["error"], "Couldn't find Ticket with 'id'=9");
    }

    #[test]
    fn conflict_edits_before_the_write_and_the_write_still_wins() {
        let a = api();
        let put = Req::new("PUT", "/api/v1/tickets/1")
            .with_header("Authorization", "Token token=sim-token")
            .with_body(r#"{"priority": "3 high"}"#);
        let fault = Fault::Conflict { tag: None };
        let r = a.serve(&put, Some(&fault));
        assert_eq!(r.status, 200);
        let t = a.store().ticket(1).unwrap();
        assert_eq!(t.priority, "3 high");
        assert_eq!(t.tags, ["sim_agent_edit"]);
        let by: Vec<_> = a.store().writes().iter().map(|w| w.by.clone()).collect();
        assert_eq!(by, ["agent", "api"]);
    }

    #[test]
    fn tag_answers_are_bare_true() {
        let a = api();
        let add = Req::new("POST", "/api/v1/tags/add")
            .with_header("Authorization", "Token token=sim-token")
            .with_body(r#"{"item": "otai", "object": "Ticket", "o_id": 1}"#);
        let r = a.serve(&add, None);
        assert_eq!((r.status, r.body.clone()), (201, Some(Value::Bool(true))));
        assert_eq!(a.serve(&add, None).status, 201);
        let r = a.serve(&get("/api/v1/tags?object=Ticket&o_id=1"), None);
        assert_eq!(r.body.unwrap(), json!({"tags": ["otai"]}));
    }
}
