//! The server: [`Simulator::builder`] → [`SimHandle`] (or [`BlockingSim`] for synchronous
//! tests), the accept loop, and the per-request pipeline:
//! admin routes bypass everything; API requests get latency, the rate limit (429), a fault if a
//! rule fires, authentication, routing, then rate-limit and request-id headers. Token requests
//! (`POST /oauth/tokens`, [`crate::oauth`]) get latency and faults but no rate limit, and are
//! counted apart ([`SimHandle::oauth_stats`]).

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

use crate::{
    auth::{authenticate, bearer_token, Caller, Credential},
    error::{ApiError, SimError},
    faults::{Fault, FaultState, Faults},
    jobs::{self, Job, JobDelays},
    oauth::{OAuthClient, OAuthConfig, OAuthState, OAuthStats, TokenRequest, TOKEN_PATH},
    rate::{RateLimiter, RateLimits},
    routes::{self, oauth::TokenCall, Reply, Req},
    seed::SeedData,
    store::{Comment, Store, Ticket, User, WriteRecord},
};

/// Default API-token e-mail.
pub const DEFAULT_EMAIL: &str = "agent@example.com";
/// Default API token.
pub const DEFAULT_TOKEN: &str = "sim-token";
/// Default OAuth bearer token.
pub const DEFAULT_BEARER: &str = "sim-oauth-token";
/// The API user's id.
pub const API_USER_ID: u64 = 377_922_500_012;

/// Counters a test can assert on.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// API requests received (admin and token requests excluded; see [`SimHandle::oauth_stats`]).
    pub requests: u64,
    /// API requests not answered 429.
    pub accepted: u64,
    /// 429 answers sent.
    pub rate_limited: u64,
    /// The most accepted requests in any 60 s window (never above the budget).
    pub max_requests_in_60s: u64,
    /// 401 and 403 answers.
    pub unauthorized: u64,
    /// Faults that fired (drops included), on API and token requests.
    pub faults_injected: u64,
    /// Connections closed without an answer (API and token requests).
    pub dropped_connections: u64,
    /// Accepted writes recorded.
    pub writes: u64,
    /// `update_many` jobs submitted.
    pub jobs_submitted: u64,
    /// Jobs that reached `completed`.
    pub jobs_completed: u64,
    /// API answers by status code.
    pub by_status: BTreeMap<u16, u64>,
}

/// State shared by the server, the job tasks and the handles.
pub(crate) struct Shared {
    pub base_url: String,
    pub store: Mutex<Store>,
    initial: Store,
    pub jobs: Mutex<BTreeMap<String, Job>>,
    pub job_ids: Mutex<fastrand::Rng>,
    pub faults: Mutex<FaultState>,
    initial_faults: Faults,
    pub rate: Mutex<RateLimiter>,
    pub stats: Mutex<Stats>,
    pub job_delays: Mutex<JobDelays>,
    pub oauth: Mutex<OAuthState>,
    credentials: Vec<Credential>,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    requests_seq: Mutex<u64>,
}

impl Shared {
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.lock().unwrap().clone();
        s.max_requests_in_60s = self.rate.lock().unwrap().max_in_window;
        s.writes = self.store.lock().unwrap().writes().len() as u64;
        s
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap() = FaultState::new(faults);
    }

    pub fn spawn_job(self: &Arc<Shared>, id: String) {
        let h = tokio::spawn(jobs::run(self.clone(), id));
        self.tasks.lock().unwrap().push(h.abort_handle());
    }

    pub fn reset(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
        *self.store.lock().unwrap() = self.initial.clone();
        self.jobs.lock().unwrap().clear();
        self.set_faults(self.initial_faults.clone());
        let limits = self.rate.lock().unwrap().limits.clone();
        *self.rate.lock().unwrap() = RateLimiter::new(limits);
        *self.stats.lock().unwrap() = Stats::default();
        self.oauth.lock().unwrap().reset(Instant::now());
    }
}

/// Entry point: `Simulator::builder()`.
pub struct Simulator;

impl Simulator {
    /// A builder with the defaults: no tickets, default ticket fields, credentials
    /// [`DEFAULT_EMAIL`]/[`DEFAULT_TOKEN`] and bearer [`DEFAULT_BEARER`], Zendesk Enterprise
    /// rate limits ([`RateLimits::default`]), 500 ms job delays, no faults, no OAuth clients
    /// (token lifetimes 30 minutes and 30 days), port 0.
    pub fn builder() -> SimBuilder {
        SimBuilder {
            seed: SeedData::default(),
            seed_file: None,
            credentials: Vec::new(),
            oauth: OAuthConfig::default(),
            limits: RateLimits::default(),
            job_delays: JobDelays::default(),
            faults: Faults::default(),
            port: 0,
        }
    }
}

/// Configures and starts a simulator.
#[derive(Debug, Clone)]
pub struct SimBuilder {
    seed: SeedData,
    seed_file: Option<PathBuf>,
    credentials: Vec<Credential>,
    oauth: OAuthConfig,
    limits: RateLimits,
    job_delays: JobDelays,
    faults: Faults,
    port: u16,
}

impl SimBuilder {
    /// Tickets (and groups, fields) from a JSON or JSONL file; see [`crate::seed`].
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_file = Some(path.into());
        self
    }

    /// Seed data built in code (merged with a seed file's).
    pub fn seed(mut self, seed: SeedData) -> Self {
        self.seed.tickets.extend(seed.tickets);
        self.seed.groups.extend(seed.groups);
        self.seed.ticket_fields.extend(seed.ticket_fields);
        self
    }

    /// Ticket objects in the seed format.
    pub fn tickets(mut self, tickets: Vec<Value>) -> Self {
        self.seed.tickets.extend(tickets);
        self
    }

    /// Groups by name (ids generated) in addition to the seed's.
    pub fn groups<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.seed = self.seed.with_groups(names);
        self
    }

    /// Groups as `{"id", "name", "deleted"}` objects.
    pub fn group_objects(mut self, groups: Vec<Value>) -> Self {
        self.seed.groups.extend(groups);
        self
    }

    /// Accepts this credential (replaces the defaults once any is given).
    pub fn credential(mut self, c: Credential) -> Self {
        self.credentials.push(c);
        self
    }

    /// Accepts API-token auth for `email` + `token`.
    pub fn credentials(self, email: &str, token: &str) -> Self {
        self.credential(Credential::ApiToken {
            email: email.into(),
            token: token.into(),
            read_only: false,
        })
    }

    /// Adds an OAuth client for `POST /oauth/tokens` (see [`crate::oauth`]). It is independent of
    /// [`credential`](Self::credential): the default credentials stay unless one is given.
    pub fn oauth_client(mut self, client: OAuthClient) -> Self {
        self.oauth.clients.push(client);
        self
    }

    /// Lifetime of the access tokens `POST /oauth/tokens` issues (default 30 minutes, as for new
    /// Zendesk global clients); a request's `expires_in` can shorten it.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.oauth.access_lifetime = lifetime;
        self
    }

    /// Lifetime of refresh tokens, the initial ones included (default 30 days).
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.oauth.refresh_lifetime = lifetime;
        self
    }

    /// Account-wide requests per minute (0 = unlimited).
    pub fn rate_limit_per_minute(mut self, n: u32) -> Self {
        self.limits.per_minute = n;
        self
    }

    /// All budgets.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Time a job spends queued and working.
    pub fn job_delays(mut self, queued: Duration, working: Duration) -> Self {
        self.job_delays = JobDelays { queued, working };
        self
    }

    /// Faults from the start.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Port on 127.0.0.1 (0 = any free port, the default).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds 127.0.0.1 and serves on the current tokio runtime.
    pub async fn start(self) -> Result<SimHandle, SimError> {
        let mut seed = match &self.seed_file {
            Some(p) => SeedData::from_file(p)?,
            None => SeedData::default(),
        };
        seed.tickets.extend(self.seed.tickets);
        seed.groups.extend(self.seed.groups);
        seed.ticket_fields.extend(self.seed.ticket_fields);
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let mut store = Store::new(&base_url);
        let api_user = User {
            id: API_USER_ID,
            name: "otai simulator agent".into(),
            email: DEFAULT_EMAIL.into(),
            role: "admin".into(),
        };
        let credentials = if self.credentials.is_empty() {
            vec![
                Credential::ApiToken {
                    email: DEFAULT_EMAIL.into(),
                    token: DEFAULT_TOKEN.into(),
                    read_only: false,
                },
                Credential::Bearer {
                    token: DEFAULT_BEARER.into(),
                    read_only: false,
                },
            ]
        } else {
            self.credentials.clone()
        };
        let api_user = match credentials.iter().find_map(|c| match c {
            Credential::ApiToken { email, .. } => Some(email.clone()),
            _ => None,
        }) {
            Some(email) => User { email, ..api_user },
            None => api_user,
        };
        seed.load(&mut store, &api_user)?;
        let shared = Arc::new(Shared {
            base_url: base_url.clone(),
            initial: store.clone(),
            store: Mutex::new(store),
            jobs: Mutex::new(BTreeMap::new()),
            job_ids: Mutex::new(fastrand::Rng::new()),
            faults: Mutex::new(FaultState::new(self.faults.clone())),
            initial_faults: self.faults,
            rate: Mutex::new(RateLimiter::new(self.limits)),
            stats: Mutex::new(Stats::default()),
            job_delays: Mutex::new(self.job_delays),
            oauth: Mutex::new(OAuthState::new(self.oauth, Instant::now())),
            credentials,
            tasks: Mutex::new(Vec::new()),
            requests_seq: Mutex::new(0),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let server = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        tracing::info!(base_url = %base_url, "Zendesk simulator listening.");
        Ok(SimHandle {
            shared,
            addr,
            base_url,
            stop: Arc::new(stop_tx),
            server: Arc::new(Mutex::new(Some(server))),
        })
    }

    /// Starts the simulator on its own runtime thread, for synchronous tests.
    pub fn start_blocking(self) -> Result<BlockingSim, SimError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("zendesk-sim".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(SimError::Io(e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    match self.start().await {
                        Ok(h) => {
                            let _ = tx.send(Ok(h.clone()));
                            let _ = stop_rx.await;
                            h.shutdown().await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        let handle = rx
            .recv()
            .map_err(|_| SimError::Io(std::io::Error::other("simulator thread ended")))??;
        Ok(BlockingSim {
            handle,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A running simulator. Cheap to clone; every method except [`shutdown`](Self::shutdown) is
/// synchronous (reads the state under a lock).
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    stop: Arc<watch::Sender<bool>>,
    server: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT` (no trailing slash, no `/api/v2`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds tickets in the seed format (see [`crate::seed`]) while the simulator runs, as customers
    /// writing in would: they are new to every search and export from now on.
    pub fn add_tickets(&self, tickets: Vec<Value>) -> Result<(), SimError> {
        let seed = SeedData {
            tickets,
            ..SeedData::default()
        };
        seed.load_tickets(&mut self.shared.store.lock().unwrap(), API_USER_ID)
    }

    /// A ticket's current state (deleted ones included).
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.shared.store.lock().unwrap().ticket(id).cloned()
    }

    /// A ticket as the API returns it.
    pub fn ticket_json(&self, id: u64) -> Option<Value> {
        let store = self.shared.store.lock().unwrap();
        store.ticket(id).map(|t| t.to_json(&store.base_url))
    }

    /// A ticket's comments, oldest first (the description is the first).
    pub fn comments(&self, id: u64) -> Vec<Comment> {
        self.shared.store.lock().unwrap().comments(id).to_vec()
    }

    /// The accepted writes to a ticket, in order.
    pub fn writes(&self, id: u64) -> Vec<WriteRecord> {
        let store = self.shared.store.lock().unwrap();
        store
            .writes()
            .iter()
            .filter(|w| w.ticket_id == id)
            .cloned()
            .collect()
    }

    /// How many accepted writes a ticket got.
    pub fn write_count(&self, id: u64) -> usize {
        let store = self.shared.store.lock().unwrap();
        store.writes().iter().filter(|w| w.ticket_id == id).count()
    }

    /// Every accepted write, in order.
    pub fn all_writes(&self) -> Vec<WriteRecord> {
        self.shared.store.lock().unwrap().writes().to_vec()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// The token endpoint's counters.
    pub fn oauth_stats(&self) -> OAuthStats {
        self.shared.oauth.lock().unwrap().stats.clone()
    }

    /// Every token request, in order (client secrets are never kept).
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.shared.oauth.lock().unwrap().requests.clone()
    }

    /// Mints a live refresh token for a client, as if an admin had just completed the
    /// authorization-code flow; `scope` (space separated) `None` means all the client may have.
    /// Errors: `invalid_client` for an unknown client, `invalid_scope`.
    pub fn grant_refresh_token(
        &self,
        client_id: &str,
        scope: Option<&str>,
    ) -> Result<String, ApiError> {
        self.shared
            .oauth
            .lock()
            .unwrap()
            .grant_refresh(client_id, scope, Instant::now())
    }

    /// An admin revokes every live refresh token of a client: they answer `invalid_grant` from
    /// now on (access tokens already issued run until they expire). Returns how many.
    pub fn revoke_refresh_tokens(&self, client_id: &str) -> usize {
        self.shared.oauth.lock().unwrap().revoke_refresh(client_id)
    }

    /// Every live access token expires now (the API answers 401 `invalid_token`), as if their
    /// lifetime had run out. Returns how many.
    pub fn expire_access_tokens(&self) -> usize {
        self.shared
            .oauth
            .lock()
            .unwrap()
            .expire_access(Instant::now())
    }

    /// Replaces the faults (and reseeds the RNG).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// The current faults (with `next` counters as they stand).
    pub fn faults(&self) -> Faults {
        self.shared.faults.lock().unwrap().faults.clone()
    }

    /// Changes the account-wide budget (counters are kept).
    pub fn set_rate_limit_per_minute(&self, n: u32) {
        self.shared.rate.lock().unwrap().limits.per_minute = n;
    }

    /// Changes the job delays for jobs submitted from now on.
    pub fn set_job_delays(&self, queued: Duration, working: Duration) {
        *self.shared.job_delays.lock().unwrap() = JobDelays { queued, working };
    }

    /// A job status as the API returns it.
    pub fn job(&self, id: &str) -> Option<Value> {
        let jobs = self.shared.jobs.lock().unwrap();
        jobs.get(id).map(|j| j.to_json(&self.base_url))
    }

    /// Stops the account's clock at `at` (unix seconds) for every stamp and `Date` header, or
    /// back to the system clock with `None`: same-second races made reproducible.
    pub fn set_clock(&self, at: Option<i64>) {
        self.shared.store.lock().unwrap().set_clock(at);
    }

    /// A simulated agent edits the ticket now (stamped now, `tag` is added).
    pub fn agent_edit(&self, id: u64, tag: &str) -> bool {
        self.shared.store.lock().unwrap().agent_edit(id, tag)
    }

    /// Everything back to the state at start (tickets, writes, jobs, counters, faults; OAuth:
    /// issued tokens forgotten, the initial refresh tokens live again for a full lifetime).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops accepting, closes connections and stops running jobs.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let server = self.server.lock().unwrap().take();
        if let Some(s) = server {
            let _ = s.await;
        }
        for t in self.shared.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

/// A simulator on its own runtime thread (see [`SimBuilder::start_blocking`]); derefs to
/// [`SimHandle`] and shuts down when dropped.
pub struct BlockingSim {
    handle: SimHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::ops::Deref for BlockingSim {
    type Target = SimHandle;

    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

impl Drop for BlockingSim {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, sh: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let sh = sh.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(sh.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
        while conns.try_join_next().is_some() {}
    }
    conns.abort_all();
}

/// The error that makes hyper close the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

async fn handle(sh: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    let started = Instant::now();
    let method = req.method().as_str().to_ascii_uppercase();
    let raw_path = req.uri().path().to_string();
    let path = raw_path
        .strip_suffix(".json")
        .unwrap_or(&raw_path)
        .trim_end_matches('/')
        .to_string();
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let header = |name: hyper::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let auth_header = header(hyper::header::AUTHORIZATION);
    let content_type = header(hyper::header::CONTENT_TYPE);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let mut r = Req {
        method,
        path,
        query,
        body,
        can_write: true,
        user_id: API_USER_ID,
        conflict_tag: None,
    };

    if r.path == "/__sim" || r.path.starts_with("/__sim/") {
        let reply = routes::admin::handle(&sh, &r).unwrap_or_else(Reply::from);
        return Ok(to_response(reply, None, Vec::new()));
    }
    if r.method == "POST" && r.path == TOKEN_PATH {
        let call = TokenCall {
            req: &r,
            content_type: content_type.as_deref(),
            authorization: auth_header.as_deref(),
        };
        return token_request(&sh, &call, &raw_path, started).await;
    }

    sh.stats.lock().unwrap().requests += 1;
    latency(&sh).await;
    let verdict = sh.rate.lock().unwrap().check(&r.method, &r.path);
    let mut headers = verdict.headers.clone();
    headers.push(("x-request-id".into(), next_request_id(&sh)));
    headers.push(("x-zendesk-api-version".into(), "v2".into()));

    let (reply, corrupt) = if let Some(wait) = verdict.retry_after {
        sh.stats.lock().unwrap().rate_limited += 1;
        (Reply::from(ApiError::rate_limited(wait)), None)
    } else {
        sh.stats.lock().unwrap().accepted += 1;
        match apply_fault(&sh, &r.method, &r.path, &raw_path).await {
            Faulted::Drop => return Err(Dropped),
            Faulted::Answer(reply) => (reply, None),
            Faulted::Proceed(other) => {
                if let Some(Fault::Conflict { tag }) = &other {
                    r.conflict_tag = Some(tag.clone().unwrap_or_else(|| "sim_agent_edit".into()));
                }
                let reply = authed(&sh, &mut r, auth_header.as_deref());
                if let Some(Fault::AgentEditAfterRead { tag }) = &other {
                    if (200..300).contains(&reply.status) {
                        let tag = tag.clone().unwrap_or_else(|| "sim_agent_edit".into());
                        agent_edits_what_was_read(&sh, reply.body.as_ref(), &tag);
                    }
                }
                (reply, other)
            }
        }
    };
    let status = reply.status;
    {
        let mut st = sh.stats.lock().unwrap();
        *st.by_status.entry(status).or_default() += 1;
        if status == 401 || status == 403 {
            st.unauthorized += 1;
        }
    }
    tracing::info!(
        method = %r.method,
        path = %raw_path,
        status,
        ms = started.elapsed().as_millis() as u64,
        "Served request."
    );
    // The account's clock, which also stamps `updated_at` (a manual one in same-second drills).
    let now = sh.store.lock().unwrap().now();
    headers.push(("date".into(), http_date(now)));
    Ok(to_response(reply, corrupt, headers))
}

/// The [`Fault::AgentEditAfterRead`] edits: every ticket an answer shows.
fn agent_edits_what_was_read(sh: &Shared, body: Option<&Value>, tag: &str) {
    let Some(body) = body else { return };
    let mut ids: Vec<u64> = Vec::new();
    for key in ["results", "tickets"] {
        if let Some(items) = body.get(key).and_then(Value::as_array) {
            ids.extend(
                items
                    .iter()
                    .filter_map(|t| t.get("id").and_then(Value::as_u64)),
            );
        }
    }
    if let Some(id) = body.pointer("/ticket/id").and_then(Value::as_u64) {
        ids.push(id);
    }
    let mut store = sh.store.lock().unwrap();
    for id in ids {
        store.agent_edit(id, tag);
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for unix seconds `secs`.
fn http_date(secs: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    httpdate::fmt_http_date(at)
}

/// `POST /oauth/tokens`: latency and faults as for the API, no rate limit, its own counters.
async fn token_request(
    sh: &Arc<Shared>,
    call: &TokenCall<'_>,
    raw_path: &str,
    started: Instant,
) -> Result<Response<Full<Bytes>>, Dropped> {
    latency(sh).await;
    let headers = vec![("x-request-id".into(), next_request_id(sh))];
    let (reply, corrupt) = match apply_fault(sh, &call.req.method, &call.req.path, raw_path).await {
        Faulted::Drop => {
            routes::oauth::record_fault(sh, call, None);
            return Err(Dropped);
        }
        Faulted::Answer(mut reply) => {
            routes::oauth::record_fault(sh, call, Some(reply.status));
            routes::oauth::no_store(&mut reply);
            (reply, None)
        }
        Faulted::Proceed(other) => {
            let breaks = matches!(other, Some(Fault::Truncate | Fault::Malformed));
            (routes::oauth::handle(sh, call, breaks), other)
        }
    };
    // The grant type and status only: never the client secret or a token.
    tracing::info!(
        method = %call.req.method,
        path = %raw_path,
        status = reply.status,
        ms = started.elapsed().as_millis() as u64,
        "Served a token request."
    );
    Ok(to_response(reply, corrupt, headers))
}

/// The configured latency (fixed plus jitter).
async fn latency(sh: &Shared) {
    let delay = sh.faults.lock().unwrap().delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

/// `sim-00000001`, `sim-00000002`, ...
fn next_request_id(sh: &Shared) -> String {
    let mut s = sh.requests_seq.lock().unwrap();
    *s += 1;
    format!("sim-{:08}", *s)
}

/// What a fault rule that fired means for the request.
enum Faulted {
    /// Close the connection without an answer.
    Drop,
    /// Answer this instead of processing the request.
    Answer(Reply),
    /// Process the request (a delay has been waited for); a conflict or a broken body may
    /// still have to be applied.
    Proceed(Option<Fault>),
}

/// Picks the fault for a request (counting it) and waits out a `delay` fault.
async fn apply_fault(sh: &Shared, method: &str, path: &str, raw_path: &str) -> Faulted {
    let fault = sh.faults.lock().unwrap().pick(method, path);
    if fault.is_some() {
        sh.stats.lock().unwrap().faults_injected += 1;
    }
    match fault {
        Some(Fault::Drop) => {
            sh.stats.lock().unwrap().dropped_connections += 1;
            tracing::info!(method = %method, path = %raw_path, "Dropped the connection (fault).");
            Faulted::Drop
        }
        Some(Fault::Error {
            status,
            retry_after,
        }) => {
            let retry_after = retry_after.or((status == 503).then_some(1));
            let mut e = ApiError::new(
                status,
                json!({"error": "SimulatedFault", "description": format!("Simulated HTTP {status} (otai-zendesk-sim fault injection)")}),
            );
            e.retry_after = retry_after;
            Faulted::Answer(Reply::from(e))
        }
        other => {
            if let Some(Fault::Delay { ms }) = &other {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
            }
            Faulted::Proceed(other)
        }
    }
}

/// Authenticates (tokens from `POST /oauth/tokens` first, then the configured credentials),
/// then routes.
fn authed(sh: &Arc<Shared>, r: &mut Req, auth_header: Option<&str>) -> Reply {
    let segs = r.segs();
    let is_me = r.method == "GET" && segs[..] == ["api", "v2", "users", "me"];
    let issued = bearer_token(auth_header)
        .and_then(|t| sh.oauth.lock().unwrap().check_access(t, Instant::now()));
    let caller = match issued {
        Some(checked) => checked.map(|read_only| Caller::User { read_only }),
        None => authenticate(auth_header, &sh.credentials),
    };
    match caller {
        Ok(Caller::User { read_only }) => {
            r.can_write = !read_only;
            routes::route(sh, r).unwrap_or_else(Reply::from)
        }
        Ok(Caller::Anonymous) if is_me => routes::users::me(sh, None).unwrap_or_else(Reply::from),
        Ok(Caller::Anonymous) => Reply::from(ApiError::unauthenticated()),
        Err(e) => Reply::from(e),
    }
}

fn to_response(
    reply: Reply,
    corrupt: Option<Fault>,
    mut headers: Vec<(String, String)>,
) -> Response<Full<Bytes>> {
    headers.extend(reply.headers);
    let mut bytes = match &reply.body {
        Some(v) => serde_json::to_vec(v).unwrap_or_default(),
        None => Vec::new(),
    };
    match corrupt {
        Some(Fault::Truncate) => bytes.truncate(bytes.len() / 2),
        Some(Fault::Malformed) => {
            bytes = b"{\"error\": <html><body>upstream hiccup</body></html>".to_vec();
        }
        _ => {}
    }
    let mut builder = Response::builder().status(reply.status);
    if reply.body.is_some() {
        builder = builder.header("content-type", "application/json; charset=utf-8");
    }
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    builder
        .body(Full::new(Bytes::from(bytes)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
