//! [`FreshdeskApi`]: the simulated Freshdesk as the kit serves it ([`otai_sim_kit::SimApi`]):
//! admission (rate limits and their headers, the request log), routing, Basic authentication
//! with the API key, the endpoints under `/api/v2`, bulk jobs, the two agent faults
//! (`conflict`: the agent edits a ticket just before a write, which then proceeds, Freshdesk
//! having no optimistic concurrency; `agent_edit_after_read`: after a 2xx read, every ticket it
//! showed is edited), counters, the webhook for tickets customers add ([`crate::webhooks`])
//! and the Freshdesk admin routes under `/__sim/`.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::{Duration, Instant},
};

use base64::Engine as _;
use otai_sim_kit::{Admission, Clock, Fault, KitStats, Reply, Req, Shown as Answer, SimApi};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{
    error::{rate_limited, ApiError},
    jobs::{Job, JobStatus},
    log::{RequestLog, RequestRecord},
    query,
    ratelimit::{classify, cost, Plan, Verdict, Windows},
    seed::SeedData,
    shapes::{
        conversation_json, group_json, job_json, me_json, ticket_fields_json, ticket_json,
        TicketParts,
    },
    stamp::{parse_secs, DAY},
    store::{Conversation, NewTicket, Store, Ticket, WriteKind, API_AGENT_ID, INDEXED_LONG_AGO},
    update::{reply_record, Changes, BULK_KEYS, UPDATE_KEYS},
    webhooks::{WebhookTarget, Webhooks},
};

/// Search answers at most this many tickets per page (docs: fixed 30).
pub const SEARCH_PER_PAGE: usize = 30;
/// Search's last page (docs: "should not exceed 10").
pub const SEARCH_MAX_PAGE: u64 = 10;
/// The list's last page (docs: "A maximum of 300 pages").
pub const LIST_MAX_PAGE: u64 = 300;
/// Without `updated_since`, the list shows tickets created within this many days.
pub const LIST_DEFAULT_DAYS: i64 = 30;
/// A search query's longest length (between the double quotes).
pub const MAX_QUERY_LEN: usize = 512;

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
    /// Accepted API writes (PUTs, notes, creates, bulk applications to one ticket).
    pub writes: u64,
    /// Requests refused by the rate limit (429).
    pub rate_limited: u64,
    /// API requests per route, ids as `{id}`: `"PUT /api/v2/tickets/{id}"`. Requests a fault or
    /// the rate limit answered count too.
    pub by_route: BTreeMap<String, u64>,
}

/// The simulator's configuration (the builder's settings besides data and faults).
#[derive(Debug, Clone)]
pub struct Config {
    /// API keys accepted as the Basic user name.
    pub api_keys: Vec<String>,
    /// Rate-limit plan.
    pub plan: Plan,
    /// Rate-limit window (real time).
    pub rate_window: Duration,
    /// Search index lag (account clock).
    pub index_lag: Duration,
    /// Delay before a bulk job runs (real time).
    pub job_delay: Duration,
}

/// The route as counted: method and path with numeric and job-id segments as `{id}`.
pub fn route_key(method: &str, path: &str) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let path: Vec<&str> = segs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let numeric = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
            let job = i > 0 && segs[i - 1] == "jobs";
            if numeric || job {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("{method} {}", path.join("/"))
}

enum Route {
    Me,
    Groups,
    TicketFields,
    Tickets,
    CreateTicket,
    Ticket(u64),
    UpdateTicket(u64),
    Conversations(u64),
    Notes(u64),
    Bulk,
    Search,
    Job(String),
}

fn route(req: &Req) -> Result<Route, ApiError> {
    let segs = req.segs();
    let m = req.method.as_str();
    let Some(rest) = segs.strip_prefix(&["api", "v2"][..]) else {
        return Err(ApiError::NotFound);
    };
    let id = |s: &str| s.parse::<u64>().map_err(|_| ApiError::NotFound);
    let only = |allowed: &'static [&'static str], r: Route| {
        if allowed.contains(&m) {
            Ok(r)
        } else {
            Err(ApiError::MethodNotAllowed(m.to_string(), allowed))
        }
    };
    match rest {
        ["agents", "me"] => only(&["GET"], Route::Me),
        ["groups"] => only(&["GET"], Route::Groups),
        ["ticket_fields"] => only(&["GET"], Route::TicketFields),
        ["tickets"] if m == "POST" => Ok(Route::CreateTicket),
        ["tickets"] => only(&["GET", "POST"], Route::Tickets),
        ["tickets", "bulk_update"] => only(&["POST"], Route::Bulk),
        ["tickets", n] if m == "PUT" => Ok(Route::UpdateTicket(id(n)?)),
        ["tickets", n] => only(&["GET", "PUT"], Route::Ticket(id(n)?)),
        ["tickets", n, "conversations"] => only(&["GET"], Route::Conversations(id(n)?)),
        ["tickets", n, "notes"] => only(&["POST"], Route::Notes(id(n)?)),
        ["search", "tickets"] => only(&["GET"], Route::Search),
        ["jobs", j] => only(&["GET"], Route::Job(j.to_string())),
        _ => Err(ApiError::NotFound),
    }
}

/// The query pairs as a query string (decoded pairs re-encoded).
fn query_string(query: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        s.append_pair(k, v);
    }
    s.finish()
}

impl From<ApiError> for Answer {
    fn from(e: ApiError) -> Self {
        Answer::nothing(e.reply())
    }
}

/// What a running simulator shares with its background jobs.
#[derive(Debug)]
struct Inner {
    base_url: String,
    clock: Clock,
    config: Config,
    started_secs: i64,
    store: Mutex<Store>,
    initial: Store,
    started: Mutex<Instant>,
    windows: Mutex<Windows>,
    log: Mutex<RequestLog>,
    jobs: Mutex<Vec<Job>>,
    job_tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    job_seq: AtomicU64,
    by_route: Mutex<BTreeMap<String, u64>>,
    writes: AtomicU64,
    rate_limited: AtomicU64,
    webhooks: Webhooks,
}

/// The simulated Freshdesk.
#[derive(Debug, Clone)]
pub struct FreshdeskApi {
    inner: Arc<Inner>,
}

/// A validated bulk_update, ready to run.
#[derive(Debug, Clone)]
struct BulkWork {
    job_id: String,
    ids: Vec<u64>,
    changes: Option<Changes>,
    reply: Option<String>,
    stop_after: Option<usize>,
    conflict_tag: Option<String>,
    path: String,
}

/// Page and per_page of a paginated list (`per_page` default 30, at most 100).
fn paging(req: &Req, max_page: Option<u64>) -> Result<(u64, u64), ApiError> {
    let positive = |name: &str, v: Option<&str>, default: u64| -> Result<u64, ApiError> {
        match v {
            None => Ok(default),
            Some(s) => s
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    ApiError::field(name, "It should be a/an Positive Integer", "invalid_value")
                }),
        }
    };
    let per_page = positive("per_page", req.q("per_page"), 30)?;
    if per_page > 100 {
        return Err(ApiError::field(
            "per_page",
            "Has to be a number between 1 and 100",
            "invalid_value",
        ));
    }
    let page = positive("page", req.q("page"), 1)?;
    if let Some(max) = max_page.filter(|m| page > *m) {
        return Err(ApiError::field(
            "page",
            format!("The page number should not exceed {max}"),
            "invalid_value",
        ));
    }
    Ok((page, per_page))
}

/// The `include` items, each one of `allowed`.
fn includes(req: &Req, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
    let Some(raw) = req.q("include") else {
        return Ok(Vec::new());
    };
    let items: Vec<String> = raw.split(',').map(|s| s.trim().to_string()).collect();
    if items.iter().any(|i| !allowed.contains(&i.as_str())) {
        return Err(ApiError::field(
            "include",
            format!(
                "It should be one/more of these values: '{}'",
                allowed.join(",")
            ),
            "invalid_value",
        ));
    }
    Ok(items)
}

/// Query parameters other than `allowed` are a 400 `invalid_field`.
fn only_params(req: &Req, allowed: &[&str]) -> Result<(), ApiError> {
    let errors: Vec<_> = req
        .query
        .iter()
        .filter(|(k, _)| !allowed.contains(&k.as_str()))
        .map(|(k, _)| {
            crate::error::FieldError::new(k, "Unexpected/invalid field in request", "invalid_field")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The body as a JSON object (`invalid_json` otherwise).
fn body_object(req: &Req) -> Result<Map<String, Value>, ApiError> {
    match req.json() {
        Ok(Value::Object(o)) => Ok(o),
        Ok(Value::Null) => Ok(Map::new()),
        _ => Err(ApiError::invalid_json()),
    }
}

impl FreshdeskApi {
    /// An instance holding `store` (also what a reset returns to).
    pub fn new(store: Store, clock: Clock, base_url: &str, config: Config) -> Self {
        let windows = Windows::new(config.plan.limits(), config.rate_window);
        FreshdeskApi {
            inner: Arc::new(Inner {
                base_url: base_url.to_string(),
                started_secs: clock.now(),
                clock,
                initial: store.clone(),
                store: Mutex::new(store),
                started: Mutex::new(Instant::now()),
                windows: Mutex::new(windows),
                log: Mutex::new(RequestLog::default()),
                jobs: Mutex::new(Vec::new()),
                job_tasks: Mutex::new(Vec::new()),
                job_seq: AtomicU64::new(0),
                by_route: Mutex::new(BTreeMap::new()),
                writes: AtomicU64::new(0),
                rate_limited: AtomicU64::new(0),
                webhooks: Webhooks::new(),
                config,
            }),
        }
    }

    /// The store under its lock.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.inner.store.lock().unwrap()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    fn elapsed(&self) -> Duration {
        self.inner.started.lock().unwrap().elapsed()
    }

    /// The simulated agent edits ticket `id` (tag added, stamp moved); `false`: no such ticket.
    pub fn agent_edit(&self, id: u64, tag: &str) -> bool {
        let now = self.now();
        self.store().agent_edit(id, tag, now)
    }

    /// Adds tickets (either seed dialect; search sees them after the index lag), as customers
    /// writing in; their ids. With a webhook target set, each new ticket's delivery goes out in
    /// the background.
    pub fn add_tickets(&self, tickets: &[Value]) -> Result<Vec<u64>, String> {
        let seed = SeedData::from_tickets(tickets)?;
        let now = self.now();
        let ids = apply_seed(&mut self.store(), seed, now, now)?;
        self.inner.webhooks.tickets_created(&ids);
        Ok(ids)
    }

    /// Where to send a webhook delivery for every ticket added from now on (none: stop).
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.inner.webhooks.set_target(target);
    }

    /// Every webhook delivery sent so far, in the order answered.
    pub fn webhook_deliveries(&self) -> Vec<otai_sim_kit::WebhookDelivery> {
        self.inner.webhooks.deliveries()
    }

    /// Every API request so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.inner.log.lock().unwrap().all()
    }

    /// The largest sum of consumed credits in any window of `window`.
    pub fn max_credits_in_window(&self, window: Duration) -> u64 {
        self.inner.log.lock().unwrap().max_credits_in_window(window)
    }

    /// Another integration uses `credits` of the current window.
    pub fn consume(&self, credits: u64) {
        let elapsed = self.elapsed();
        self.inner.windows.lock().unwrap().consume(elapsed, credits);
    }

    /// The bulk jobs, oldest first.
    pub fn jobs(&self) -> Vec<Job> {
        self.inner.jobs.lock().unwrap().clone()
    }

    /// The counters, the kit's and this simulator's.
    pub fn stats_with(&self, kit: &KitStats) -> Stats {
        Stats {
            requests: kit.requests,
            by_status: kit.by_status.clone(),
            faults_injected: kit.faults_injected,
            dropped_connections: kit.dropped_connections,
            writes: self.inner.writes.load(Ordering::Relaxed),
            rate_limited: self.inner.rate_limited.load(Ordering::Relaxed),
            by_route: self.inner.by_route.lock().unwrap().clone(),
        }
    }

    fn count_route(&self, req: &Req) {
        *self
            .inner
            .by_route
            .lock()
            .unwrap()
            .entry(route_key(&req.method, &req.path))
            .or_default() += 1;
    }

    fn answered(&self, req: &Req, status: u16) {
        self.inner.log.lock().unwrap().answered(
            &req.method,
            &req.path,
            &query_string(&req.query),
            status,
        );
    }

    fn authenticated(&self, req: &Req) -> bool {
        let Some(h) = req.header("authorization") else {
            return false;
        };
        let Some(encoded) = h
            .strip_prefix("Basic ")
            .or_else(|| h.strip_prefix("basic "))
        else {
            return false;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let text = String::from_utf8_lossy(&raw);
        let user = text.split_once(':').map_or(&*text, |(u, _)| u);
        self.inner.config.api_keys.iter().any(|k| k == user)
    }

    /// `<base/api/v2/...?...&page=N+1>; rel="next"`.
    fn next_link(&self, req: &Req, page: u64) -> String {
        let mut q: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        q.push(("page".into(), (page + 1).to_string()));
        format!(
            "<{}{}?{}>; rel=\"next\"",
            self.inner.base_url,
            req.path,
            query_string(&q)
        )
    }

    fn paged(&self, req: &Req, body: Vec<Value>, shown: Vec<u64>, page: u64, more: bool) -> Answer {
        let mut reply = Reply::ok(Value::Array(body));
        if more {
            reply = reply.with_header("link", self.next_link(req, page));
        }
        Answer { reply, shown }
    }

    fn dispatch(&self, req: &Req, r: &Route, fault: Option<&Fault>) -> Result<Answer, ApiError> {
        let now = self.now();
        match r {
            Route::Me => Ok(Answer::ok(
                me_json(&self.store(), self.inner.started_secs),
                vec![],
            )),
            Route::Groups => {
                only_params(req, &["page", "per_page"])?;
                let (page, per) = paging(req, None)?;
                let store = self.store();
                let start = ((page - 1) * per) as usize;
                let list: Vec<Value> = store
                    .groups
                    .iter()
                    .skip(start)
                    .take(per as usize)
                    .map(|g| group_json(g, self.inner.started_secs))
                    .collect();
                let more = store.groups.len() > start + per as usize;
                Ok(self.paged(req, list, vec![], page, more))
            }
            Route::TicketFields => {
                only_params(req, &["type"])?;
                let all = ticket_fields_json(&self.store());
                let list = match req.q("type") {
                    Some(t) => all
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|f| f["type"] == t)
                        .cloned()
                        .collect(),
                    None => all.as_array().cloned().unwrap_or_default(),
                };
                Ok(Answer::ok(Value::Array(list), vec![]))
            }
            Route::Tickets => self.list(req, now),
            Route::Ticket(id) => {
                only_params(req, &["include"])?;
                let inc = includes(req, &["conversations", "requester", "company", "stats"])?;
                let store = self.store();
                let t = store.tickets.get(id).ok_or(ApiError::NotFound)?;
                let has = |x: &str| inc.iter().any(|i| i == x);
                let parts = TicketParts {
                    description: true,
                    requester: has("requester"),
                    stats: has("stats"),
                    company: has("company"),
                    conversations: has("conversations"),
                };
                Ok(Answer::ok(ticket_json(&store, t, parts), vec![*id]))
            }
            Route::Conversations(id) => {
                only_params(req, &["page", "per_page"])?;
                let (page, per) = paging(req, None)?;
                let store = self.store();
                if !store.tickets.contains_key(id) {
                    return Err(ApiError::NotFound);
                }
                let all = store.conversations_of(*id);
                let start = ((page - 1) * per) as usize;
                let list: Vec<Value> = all
                    .iter()
                    .skip(start)
                    .take(per as usize)
                    .map(conversation_json)
                    .collect();
                let more = all.len() > start + per as usize;
                Ok(self.paged(req, list, vec![*id], page, more))
            }
            Route::UpdateTicket(id) => self.update(req, *id, now),
            Route::Notes(id) => self.note(req, *id, now),
            Route::CreateTicket => self.create(req, now),
            Route::Bulk => self.bulk(req, now, fault),
            Route::Search => self.search(req, now),
            Route::Job(j) => {
                let jobs = self.inner.jobs.lock().unwrap();
                let job = jobs.iter().find(|x| &x.id == j).ok_or(ApiError::NotFound)?;
                Ok(Answer::ok(job_json(job), vec![]))
            }
        }
    }

    fn list(&self, req: &Req, now: i64) -> Result<Answer, ApiError> {
        only_params(
            req,
            &[
                "filter",
                "requester_id",
                "email",
                "unique_external_id",
                "company_id",
                "updated_since",
                "order_by",
                "order_type",
                "include",
                "page",
                "per_page",
            ],
        )?;
        let inc = includes(req, &["description", "requester", "stats"])?;
        let (page, per) = paging(req, Some(LIST_MAX_PAGE))?;
        let order_by = req.q("order_by").unwrap_or("created_at");
        if !["created_at", "due_by", "updated_at", "status"].contains(&order_by) {
            return Err(ApiError::field(
                "order_by",
                "It should be one of these values: 'created_at,due_by,updated_at,status'",
                "invalid_value",
            ));
        }
        let desc = match req.q("order_type").unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            _ => {
                return Err(ApiError::field(
                    "order_type",
                    "It should be one of these values: 'asc,desc'",
                    "invalid_value",
                ))
            }
        };
        let since = match req.q("updated_since") {
            Some(s) => Some(parse_secs(s).ok_or_else(|| {
                ApiError::field(
                    "updated_since",
                    "It should be in the 'valid date time' format",
                    "invalid_value",
                )
            })?),
            None => None,
        };
        let filter = req.q("filter");
        if let Some(f) = filter {
            if !["new_and_my_open", "watching", "spam", "deleted"].contains(&f) {
                return Err(ApiError::field(
                    "filter",
                    "It should be one of these values: 'new_and_my_open,watching,spam,deleted'",
                    "invalid_value",
                ));
            }
        }
        let id_param = |k: &str| -> Result<Option<u64>, ApiError> {
            req.q(k)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        ApiError::field(
                            k,
                            "It should be a/an Positive Integer",
                            "datatype_mismatch",
                        )
                    })
                })
                .transpose()
        };
        let requester = id_param("requester_id")?;
        let company = id_param("company_id")?;
        let email = req.q("email");
        let store = self.store();
        let window_start = now - LIST_DEFAULT_DAYS * DAY;
        let mut list: Vec<&Ticket> = store
            .tickets
            .values()
            .filter(|t| match filter {
                Some("spam") => t.spam && !t.deleted,
                Some("deleted") => t.deleted,
                Some("watching") => false,
                Some("new_and_my_open") => {
                    t.visible() && t.status == 2 && t.responder_id.is_none_or(|a| a == API_AGENT_ID)
                }
                _ => t.visible(),
            })
            .filter(|t| match since {
                Some(s) => t.updated >= s,
                None => t.created >= window_start,
            })
            .filter(|t| requester.is_none_or(|r| t.requester_id == Some(r)))
            .filter(|t| company.is_none_or(|c| t.company_id == Some(c)))
            .filter(|t| email.is_none_or(|e| t.requester_email.as_deref() == Some(e)))
            .collect();
        let key = |t: &Ticket| -> i64 {
            match order_by {
                "updated_at" => t.updated,
                "due_by" => parse_secs(&t.due_by).unwrap_or(0),
                "status" => t.status as i64,
                _ => t.created,
            }
        };
        // Ties (same second, same status) are broken by id, ascending in both directions, so
        // that pages are deterministic.
        list.sort_by(|a, b| {
            let by_key = key(a).cmp(&key(b));
            let by_key = if desc { by_key.reverse() } else { by_key };
            by_key.then(a.id.cmp(&b.id))
        });
        let has = |x: &str| inc.iter().any(|i| i == x);
        let parts = TicketParts {
            description: has("description"),
            requester: has("requester"),
            stats: has("stats"),
            ..TicketParts::default()
        };
        let start = ((page - 1) * per) as usize;
        let shown: Vec<&Ticket> = list
            .iter()
            .skip(start)
            .take(per as usize)
            .copied()
            .collect();
        let more = list.len() > start + per as usize && page < LIST_MAX_PAGE;
        let body = shown
            .iter()
            .map(|t| ticket_json(&store, t, parts))
            .collect();
        let ids = shown.iter().map(|t| t.id).collect();
        drop(store);
        Ok(self.paged(req, body, ids, page, more))
    }

    fn search(&self, req: &Req, now: i64) -> Result<Answer, ApiError> {
        only_params(req, &["query", "page"])?;
        let raw = req.q("query").ok_or_else(|| {
            ApiError::field("query", "Mandatory attribute missing", "missing_field")
        })?;
        let invalid = |why: String| ApiError::field("query", why, "invalid_value");
        let inner = raw
            .trim()
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .ok_or_else(|| invalid("The query must be enclosed in double quotes".into()))?;
        if inner.chars().count() > MAX_QUERY_LEN {
            return Err(invalid(format!(
                "The query can have up to {MAX_QUERY_LEN} characters"
            )));
        }
        let page = match req.q("page") {
            None => 1,
            Some(p) => p
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=SEARCH_MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    ApiError::field(
                        "page",
                        format!("It should be a Positive Integer less than or equal to {SEARCH_MAX_PAGE}"),
                        "invalid_value",
                    )
                })?,
        };
        let expr =
            query::parse(inner).map_err(|e| invalid(format!("Given query is invalid: {e}")))?;
        let mut store = self.store();
        let custom = store.custom_fields.clone();
        if let Err(field) = query::check(&expr, &custom) {
            return Err(ApiError::field(
                &field,
                "Given field or its value is not supported in the query",
                "invalid_value",
            ));
        }
        let lag_ms = self.inner.config.index_lag.as_millis() as i64;
        let mut found: Vec<Ticket> = store
            .indexed(now, lag_ms)
            .into_iter()
            .filter(|t| t.visible() && query::matches(&expr, t, &custom))
            .collect();
        // Newest first; the same second by id, newest first.
        found.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
        let total = found.len();
        let start = (page as usize - 1) * SEARCH_PER_PAGE;
        let page_items: Vec<&Ticket> = found.iter().skip(start).take(SEARCH_PER_PAGE).collect();
        let results: Vec<Value> = page_items
            .iter()
            .map(|t| ticket_json(&store, t, TicketParts::default()))
            .collect();
        let ids = page_items.iter().map(|t| t.id).collect();
        Ok(Answer::ok(json!({"total": total, "results": results}), ids))
    }

    fn update(&self, req: &Req, id: u64, now: i64) -> Result<Answer, ApiError> {
        let body = body_object(req)?;
        let mut store = self.store();
        if !store.tickets.contains_key(&id) {
            return Err(ApiError::NotFound);
        }
        let changes =
            Changes::validate(&store, &body, UPDATE_KEYS).map_err(ApiError::Validation)?;
        if !changes.is_empty() {
            let t = store.tickets.get_mut(&id).expect("checked");
            changes.apply(t);
            t.touch(now);
            store.record(
                id,
                WriteKind::Update,
                &req.path,
                now,
                changes.sent.clone(),
                None,
            );
            store.snapshot(id, now);
            self.inner.writes.fetch_add(1, Ordering::Relaxed);
        }
        let t = &store.tickets[&id];
        let parts = TicketParts {
            description: true,
            ..TicketParts::default()
        };
        Ok(Answer::ok(ticket_json(&store, t, parts), vec![id]))
    }

    fn note(&self, req: &Req, id: u64, now: i64) -> Result<Answer, ApiError> {
        let body = body_object(req)?;
        let mut store = self.store();
        if !store.tickets.contains_key(&id) {
            return Err(ApiError::NotFound);
        }
        let mut errors = Vec::new();
        let fe = crate::error::FieldError::new;
        for k in body.keys() {
            if !["body", "private", "incoming", "notify_emails", "user_id"].contains(&k.as_str()) {
                errors.push(fe(
                    k,
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ));
            }
        }
        let text = match body.get("body") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Value::String(_)) => {
                errors.push(fe("body", "It should not be blank", "invalid_value"));
                String::new()
            }
            Some(_) => {
                errors.push(fe("body", "It should be a/an String", "datatype_mismatch"));
                String::new()
            }
            None => {
                errors.push(fe("body", "Mandatory attribute missing", "missing_field"));
                String::new()
            }
        };
        let mut flag = |k: &str, default: bool| match body.get(k) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                errors.push(fe(k, "It should be a/an Boolean", "datatype_mismatch"));
                default
            }
        };
        let private = flag("private", true);
        let incoming = flag("incoming", false);
        let notify: Vec<String> = match body.get("notify_emails") {
            None => Vec::new(),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(_) => {
                errors.push(fe(
                    "notify_emails",
                    "It should be a/an Array",
                    "datatype_mismatch",
                ));
                Vec::new()
            }
        };
        let user_id = match body.get("user_id") {
            None => API_AGENT_ID,
            Some(v) => v.as_u64().unwrap_or_else(|| {
                errors.push(fe(
                    "user_id",
                    "It should be a/an Positive Integer",
                    "datatype_mismatch",
                ));
                API_AGENT_ID
            }),
        };
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let html = crate::store::to_html(&text);
        let stamp = crate::stamp::format_secs(now);
        let c = store.push_conversation(Conversation {
            id: 0,
            ticket_id: id,
            body_text: crate::store::strip_html(&html),
            body: html,
            private,
            incoming,
            source: 2,
            user_id,
            notify_emails: notify,
            created_at: stamp.clone(),
            updated_at: stamp,
        });
        // Assumption (unverified): a note is activity on the ticket and moves its updated_at.
        store.tickets.get_mut(&id).expect("checked").touch(now);
        store.record(
            id,
            WriteKind::Note,
            &req.path,
            now,
            json!({"note_id": c.id, "private": private}),
            None,
        );
        store.snapshot(id, now);
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        Ok(Answer {
            reply: Reply::status(201, conversation_json(&c)),
            shown: vec![],
        })
    }

    fn create(&self, req: &Req, now: i64) -> Result<Answer, ApiError> {
        let mut body = body_object(req)?;
        let email = body.remove("email");
        body.remove("name");
        let mut store = self.store();
        let changes =
            Changes::validate(&store, &body, UPDATE_KEYS).map_err(ApiError::Validation)?;
        let requester = match (&email, body.get("requester_id")) {
            (Some(Value::String(e)), _) => Some(e.clone()),
            (_, Some(_)) => None,
            _ => {
                return Err(ApiError::field(
                    "requester_id",
                    "Please fill at least 1 of requester_id, phone, email, twitter_id, facebook_id, unique_external_id fields",
                    "missing_field",
                ))
            }
        };
        let new = NewTicket {
            status: 2,
            priority: 1,
            requester,
            ..NewTicket::default()
        };
        let id = store
            .insert_ticket(new, now, now)
            .map_err(|e| ApiError::Other(500, "internal_error".into(), e))?;
        let t = store.tickets.get_mut(&id).expect("inserted");
        changes.apply(t);
        store.index.remove(&id);
        store.snapshot(id, now);
        store.record(
            id,
            WriteKind::Create,
            &req.path,
            now,
            changes.sent.clone(),
            None,
        );
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let parts = TicketParts {
            description: true,
            ..TicketParts::default()
        };
        let v = ticket_json(&store, &store.tickets[&id], parts);
        Ok(Answer {
            reply: Reply::status(201, v),
            shown: vec![],
        })
    }

    fn bulk(&self, req: &Req, now: i64, fault: Option<&Fault>) -> Result<Answer, ApiError> {
        let body = body_object(req)?;
        let fe = crate::error::FieldError::new;
        let mut errors = Vec::new();
        for k in body.keys().filter(|k| *k != "bulk_action") {
            errors.push(fe(
                k,
                "Unexpected/invalid field in request",
                "invalid_field",
            ));
        }
        let Some(action) = body.get("bulk_action") else {
            errors.push(fe(
                "bulk_action",
                "Mandatory attribute missing",
                "missing_field",
            ));
            return Err(ApiError::Validation(errors));
        };
        let Some(action) = action.as_object() else {
            errors.push(fe(
                "bulk_action",
                "It should be a/an key/value pair",
                "datatype_mismatch",
            ));
            return Err(ApiError::Validation(errors));
        };
        for k in action.keys() {
            if !["ids", "properties", "reply"].contains(&k.as_str()) {
                errors.push(fe(
                    k,
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ));
            }
        }
        let ids: Vec<u64> = match action.get("ids").and_then(Value::as_array) {
            None => {
                errors.push(fe("ids", "Mandatory attribute missing", "missing_field"));
                Vec::new()
            }
            Some(list) => {
                let ids: Vec<u64> = list.iter().filter_map(Value::as_u64).collect();
                if ids.len() != list.len() {
                    errors.push(fe(
                        "ids",
                        "It should contain elements of type Positive Integer only",
                        "datatype_mismatch",
                    ));
                } else if ids.is_empty() || ids.len() > 100 {
                    errors.push(fe(
                        "ids",
                        "It should have 1 to 100 elements",
                        "invalid_value",
                    ));
                }
                ids
            }
        };
        let store = self.store();
        let changes = match action.get("properties") {
            None => None,
            Some(Value::Object(p)) => match Changes::validate(&store, p, BULK_KEYS) {
                Ok(c) => Some(c),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            },
            Some(_) => {
                errors.push(fe(
                    "properties",
                    "It should be a/an key/value pair",
                    "datatype_mismatch",
                ));
                None
            }
        };
        drop(store);
        let reply = match action.get("reply") {
            None => None,
            Some(r) => match r.get("body").and_then(Value::as_str) {
                Some(b) if !b.trim().is_empty() => Some(b.to_string()),
                _ => {
                    errors.push(fe("body", "Mandatory attribute missing", "missing_field"));
                    None
                }
            },
        };
        if errors.is_empty() && changes.is_none() && reply.is_none() {
            errors.push(fe(
                "properties",
                "Mandatory attribute missing",
                "missing_field",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let seq = self.inner.job_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let sent = action.get("properties").cloned().unwrap_or(json!({}));
        let job = Job::new(seq, ids.clone(), sent, now);
        let work = BulkWork {
            job_id: job.id.clone(),
            ids,
            changes,
            reply,
            stop_after: fault
                .and_then(Fault::stop_mid_write)
                .map(|after| after.and_then(|a| a.trim().parse().ok()).unwrap_or(0)),
            conflict_tag: fault.and_then(Fault::conflict_tag).map(str::to_string),
            path: req.path.clone(),
        };
        let answer = json!({
            "job_id": job.id,
            "href": format!("{}/api/v2/jobs/{}", self.inner.base_url, job.id),
        });
        self.inner.jobs.lock().unwrap().push(job);
        self.spawn_job(work);
        Ok(Answer {
            reply: Reply::status(202, answer),
            shown: vec![],
        })
    }

    fn spawn_job(&self, work: BulkWork) {
        let delay = self.inner.config.job_delay;
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let me = self.clone();
                let task = rt.spawn(async move {
                    tokio::time::sleep(delay).await;
                    me.run_job(&work);
                });
                let mut tasks = self.inner.job_tasks.lock().unwrap();
                tasks.retain(|t| !t.is_finished());
                tasks.push(task);
            }
            // Outside a runtime (unit tests of routes): run at once.
            Err(_) => self.run_job(&work),
        }
    }

    /// Applies a bulk job ticket by ticket; a `stop_mid_write` fault stops it after `after`
    /// tickets of its list (the rest untouched, the job `FAILED`).
    fn run_job(&self, w: &BulkWork) {
        let now = self.now();
        let mut store = self.store();
        let mut applied = Vec::new();
        let mut skipped = Vec::new();
        let mut outcome = (JobStatus::Completed, w.ids.len());
        for (i, id) in w.ids.iter().enumerate() {
            if w.stop_after.is_some_and(|n| i >= n) {
                tracing::info!(job = %w.job_id, after = i, "Bulk job stopped midway (fault).");
                outcome = (JobStatus::Failed, i);
                break;
            }
            if store.tickets.get(id).is_none_or(|t| t.deleted) {
                skipped.push(*id);
                continue;
            }
            if let Some(tag) = &w.conflict_tag {
                store.agent_edit(*id, tag, now);
            }
            let mut sent = w
                .changes
                .as_ref()
                .map(|c| c.sent.clone())
                .unwrap_or(json!({}));
            let t = store.tickets.get_mut(id).expect("checked");
            if let Some(c) = &w.changes {
                c.apply(t);
            }
            t.touch(now);
            if let Some(body) = &w.reply {
                let html = crate::store::to_html(body);
                let stamp = crate::stamp::format_secs(now);
                store.push_conversation(Conversation {
                    id: 0,
                    ticket_id: *id,
                    body_text: crate::store::strip_html(&html),
                    body: html,
                    private: false,
                    incoming: false,
                    source: 0,
                    user_id: API_AGENT_ID,
                    notify_emails: Vec::new(),
                    created_at: stamp.clone(),
                    updated_at: stamp,
                });
                if let (Some(o), Value::Object(r)) = (sent.as_object_mut(), reply_record(body)) {
                    o.extend(r);
                }
            }
            store.record(
                *id,
                WriteKind::BulkUpdate,
                &w.path,
                now,
                sent,
                Some(w.job_id.clone()),
            );
            store.snapshot(*id, now);
            self.inner.writes.fetch_add(1, Ordering::Relaxed);
            applied.push(*id);
        }
        drop(store);
        let mut jobs = self.inner.jobs.lock().unwrap();
        if let Some(job) = jobs.iter_mut().find(|j| j.id == w.job_id) {
            job.applied = applied;
            job.skipped = skipped;
            job.finish(outcome.0, outcome.1, now);
        }
    }

    fn admin_route(&self, req: &Req) -> Option<Reply> {
        let segs = req.segs();
        let m = req.method.as_str();
        let ticket_detail = |s: &Store, id: u64| -> Value {
            json!({
                "ticket": s.tickets.get(&id),
                "conversations": s.conversations_of(id),
                "writes": s.writes.iter().filter(|w| w.ticket_id == id).collect::<Vec<_>>(),
            })
        };
        let no_ticket = |id: u64| {
            Reply::status(
                404,
                json!({"error": "InvalidEndpoint", "description": format!("no ticket {id}")}),
            )
        };
        Some(match (m, &segs[..]) {
            ("GET", ["__sim", "tickets"]) => {
                Reply::ok(json!(self.store().tickets.values().collect::<Vec<_>>()))
            }
            ("POST", ["__sim", "tickets"]) => {
                let body = match req.json() {
                    Ok(Value::Array(a)) => a,
                    Ok(Value::Object(o)) if o.contains_key("tickets") => {
                        match o.get("tickets").and_then(Value::as_array) {
                            Some(a) => a.clone(),
                            None => return Some(bad_admin("tickets is not a list")),
                        }
                    }
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
                if !s.tickets.contains_key(&id) {
                    return Some(no_ticket(id));
                }
                Reply::ok(ticket_detail(&s, id))
            }
            ("GET", ["__sim", "writes"]) => Reply::ok(json!(self.store().writes)),
            ("POST", ["__sim", "agent_edit", n]) => {
                let id = n.parse::<u64>().ok()?;
                let tag = req
                    .q("tag")
                    .filter(|t| !t.is_empty())
                    .unwrap_or(otai_sim_kit::DEFAULT_AGENT_TAG)
                    .to_string();
                if !self.agent_edit(id, &tag) {
                    return Some(no_ticket(id));
                }
                Reply::ok(ticket_detail(&self.store(), id))
            }
            ("GET", ["__sim", "requests"]) => Reply::ok(json!(self.requests())),
            ("POST", ["__sim", "consume"]) => {
                let Some(n) = req.q("credits").and_then(|c| c.parse::<u64>().ok()) else {
                    return Some(bad_admin("credits=N (a whole number) is required"));
                };
                self.consume(n);
                let used = self.inner.windows.lock().unwrap().used(self.elapsed());
                Reply::ok(json!({"consumed": n, "used_in_window": used}))
            }
            ("GET", ["__sim", "jobs"]) => Reply::ok(json!(self.jobs())),
            ("PUT", ["__sim", "webhook"]) => {
                const EXPECTED: &str = "expected {\"url\", \"secret\"[, \"header\"]} or null";
                let target = match req.json() {
                    Ok(Value::Null) => None,
                    Ok(Value::Object(o)) => match (
                        o.get("url").and_then(Value::as_str),
                        o.get("secret").and_then(Value::as_str),
                        o.get("header"),
                    ) {
                        (Some(url), Some(secret), None) => Some(WebhookTarget::new(url, secret)),
                        (Some(url), Some(secret), Some(Value::String(header))) => {
                            Some(WebhookTarget::new(url, secret).with_header(header))
                        }
                        _ => return Some(bad_admin(EXPECTED)),
                    },
                    _ => return Some(bad_admin(EXPECTED)),
                };
                self.set_webhook(target);
                Reply::ok(json!({"ok": true}))
            }
            ("GET", ["__sim", "webhook", "deliveries"]) => {
                Reply::ok(json!({"deliveries": self.webhook_deliveries()}))
            }
            _ => return None,
        })
    }
}

impl FreshdeskApi {
    /// An error answer in Freshdesk's shape for a fault (or a single-ticket write stopped by
    /// `stop_mid_write`).
    fn error_reply(&self, status: u16, retry_after: Option<u64>) -> Reply {
        let code = match status {
            500 => "internal_error",
            502 => "bad_gateway",
            503 => "service_unavailable",
            504 => "gateway_timeout",
            _ => "simulated_error",
        };
        match status {
            429 => rate_limited(retry_after.unwrap_or(1)),
            s => ApiError::Other(s, code.into(), format!("Simulated error {s}")).reply(),
        }
    }
}

fn bad_admin(msg: &str) -> Reply {
    Reply::status(400, json!({"error": "InvalidValue", "description": msg}))
}

/// Creates a seed's groups and tickets (search sees them from `indexed_at` on); their ids.
pub(crate) fn apply_seed(
    store: &mut Store,
    seed: SeedData,
    now: i64,
    indexed_at: i64,
) -> Result<Vec<u64>, String> {
    for g in &seed.groups {
        store.ensure_group(g);
    }
    let mut ids = Vec::new();
    for (i, t) in seed.tickets.into_iter().enumerate() {
        let id = store
            .insert_ticket(t, now, indexed_at)
            .map_err(|e| format!("ticket {}: {e}", i + 1))?;
        ids.push(id);
    }
    Ok(ids)
}

/// Seeds are indexed long before the start.
pub(crate) fn apply_initial_seed(
    store: &mut Store,
    seed: SeedData,
    now: i64,
) -> Result<Vec<u64>, String> {
    apply_seed(store, seed, now, INDEXED_LONG_AGO)
}

impl SimApi for FreshdeskApi {
    fn name(&self) -> &str {
        "Freshdesk"
    }

    fn request_id_header(&self) -> &str {
        "x-request-id"
    }

    fn admit(&self, req: &Req) -> Admission {
        let c = cost(&req.method, &req.path, req.q("include"));
        let class = classify(&req.method, &req.path);
        let elapsed = self.elapsed();
        let mut windows = self.inner.windows.lock().unwrap();
        let verdict = windows.admit(elapsed, class, c);
        let total = windows.limits().total;
        drop(windows);
        let at_ms = elapsed.as_millis() as u64;
        let q = query_string(&req.query);
        let headers = |remaining: u64, used: u64| {
            vec![
                ("x-ratelimit-total".to_string(), total.to_string()),
                ("x-ratelimit-remaining".to_string(), remaining.to_string()),
                (
                    "x-ratelimit-used-currentrequest".to_string(),
                    used.to_string(),
                ),
                (
                    "x-freshdesk-api-version".to_string(),
                    "latest=v2; requested=v2".to_string(),
                ),
            ]
        };
        let mut log = self.inner.log.lock().unwrap();
        match verdict {
            Verdict::Admitted { remaining } => {
                log.admitted(at_ms, &req.method, &req.path, &q, c);
                Admission::admit(headers(remaining, c))
            }
            Verdict::Refused {
                retry_after,
                remaining,
            } => {
                log.refused(at_ms, &req.method, &req.path, &q, 429);
                drop(log);
                self.count_route(req);
                self.inner.rate_limited.fetch_add(1, Ordering::Relaxed);
                tracing::info!(method = %req.method, path = %req.path, retry_after, "Rate limit: 429.");
                Admission::refuse(rate_limited(retry_after), headers(remaining, 0))
            }
        }
    }

    fn serve(&self, req: &Req, fault: Option<&Fault>) -> Reply {
        self.count_route(req);
        let reply = match route(req) {
            Err(e) => e.reply(),
            Ok(_) if !self.authenticated(req) => ApiError::Unauthorized.reply(),
            Ok(Route::UpdateTicket(_) | Route::Notes(_) | Route::CreateTicket)
                if fault.and_then(Fault::stop_mid_write).is_some() =>
            {
                // Single-ticket writes are atomic: a stop midway is the server failing.
                self.error_reply(500, None)
            }
            Ok(r) => {
                let targets = match r {
                    Route::UpdateTicket(id) | Route::Notes(id) => vec![id],
                    _ => Vec::new(),
                };
                // Bulk jobs apply `conflict` themselves, just before each ticket's write.
                otai_sim_kit::edit_before_write(fault, targets, |id, tag| self.agent_edit(id, tag));
                let answer = self.dispatch(req, &r, fault).unwrap_or_else(Answer::from);
                answer.finish(fault, |id, tag| {
                    self.agent_edit(id, tag);
                })
            }
        };
        self.answered(req, reply.status);
        reply
    }

    fn partial_writes(&self) -> bool {
        // Only bulk jobs stop midway; a PUT or a note under `stop_mid_write` is answered 500
        // by `serve` itself (see below), since the kit then passes the fault on.
        true
    }

    fn fault_error(&self, req: &Req, status: u16, retry_after: Option<u64>) -> Reply {
        self.count_route(req);
        let reply = self.error_reply(status, retry_after);
        self.answered(req, reply.status);
        reply
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
        for t in self.inner.job_tasks.lock().unwrap().drain(..) {
            t.abort();
        }
        self.inner.jobs.lock().unwrap().clear();
        *self.store() = self.inner.initial.clone();
        *self.inner.started.lock().unwrap() = Instant::now();
        *self.inner.windows.lock().unwrap() = Windows::new(
            self.inner.config.plan.limits(),
            self.inner.config.rate_window,
        );
        self.inner.log.lock().unwrap().clear();
        self.inner.by_route.lock().unwrap().clear();
        self.inner.writes.store(0, Ordering::Relaxed);
        self.inner.rate_limited.store(0, Ordering::Relaxed);
    }

    fn shutdown(&self) {
        for t in self.inner.job_tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}
