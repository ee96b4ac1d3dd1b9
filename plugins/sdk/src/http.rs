//! A retrying HTTP transport for help-desk REST APIs: one pooled `reqwest::Client`, an
//! `Authorization` source, TLS settings, retries, request counters, and the mapping of answers
//! onto [`Error`] with the URL path, the help desk's own explanation and its request id.
//!
//! Retry policy (at most `max_attempts` attempts per call):
//! - 429 and 503 are retried for every method, after `Retry-After` (or a backoff when absent):
//!   the help desk says it did not process the request. A `Retry-After` longer than
//!   `max_retry_wait` is not waited for: the call fails at once with `rate_limited` and
//!   `retry_after`, so the host can schedule the retry itself.
//! - GETs are also retried on 500/502/504 and on connection errors, with capped exponential
//!   backoff and jitter.
//! - Writes are never retried on anything else: after a timeout or a lost connection nobody can
//!   know whether the help desk applied the write, and a blind retry could apply it twice.
//! - Timeouts are not retried at all: `timeout` is the caller's budget per request.
//! - With a renewable credential ([`Authorizer`], e.g. OAuth), a 401 renews it once and sends the
//!   request again, writes included: a 401 was not processed, so the second send is not blind.
//!
//! What differs between help desks is a [`Vendor`]: its name in messages, the header carrying
//! its request id, how to read its error bodies, and a hint per status.
//!
//! Every attempt is counted ([`Http::stats`]): requests sent, retries among them, and answers that
//! said "slow down" (429, or 503 with `Retry-After`), for the host's API-calls-per-pass figures.
//!
//! A help desk with a rate limit gets a [`Pacer`] ([`Http::with_pacer`]): asked before every
//! attempt, retries included, and shown every answer's headers, so a budget holds however the
//! retries go.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::{
    header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER},
    StatusCode,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    error::{Error, ErrorKind},
    log::Logger,
    params::{config_error, Verify},
    secret::Secret,
    ticket::RequestStats,
};

pub use reqwest;

/// First backoff step; doubled per attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Longest backoff between two attempts when the help desk gave no `Retry-After`.
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// Longest piece of an error body quoted in a message.
const MAX_DETAIL_CHARS: usize = 400;

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default attempts per request (first try included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// Default longest `Retry-After` waited for.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
/// Default cap on the answer to a read: far above any page of tickets, far below what would hurt.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 128 * 1024 * 1024;

/// An HTTP method. Only GET is ever retried after a transport error or a 5xx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// `GET`, `POST`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether a blind retry is safe. PUT is idempotent in HTTP terms, but a ticket PUT that adds
    /// a comment adds it again; so only reads count.
    pub fn is_read(self) -> bool {
        matches!(self, Method::Get)
    }

    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// A successful answer: its body, status and the help desk's request id.
#[derive(Debug)]
pub struct Answer {
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    pub status: u16,
    /// The answer's headers (rate-limit counters, paging links).
    pub headers: HeaderMap,
}

impl Answer {
    /// The help desk's clock when it answered: its `Date` header (one-second resolution), if it
    /// sent a readable one. What tells whether a read may share its second with a later change.
    pub fn server_time(&self) -> Option<std::time::SystemTime> {
        let date = self.headers.get(reqwest::header::DATE)?.to_str().ok()?;
        httpdate::parse_http_date(date).ok()
    }
}

/// A parsed answer with the help desk's clock when it answered ([`Answer::server_time`]).
#[derive(Debug)]
pub struct Dated<T> {
    pub value: T,
    pub server_time: Option<std::time::SystemTime>,
}

/// What differs between help desks in how their answers read.
#[derive(Clone, Copy, Debug)]
pub struct Vendor {
    /// The plugin's name, for configuration errors found while building the client
    /// (`otai_acme params: ...`).
    pub plugin: &'static str,
    /// The help desk's name in messages: "no answer from Zendesk within 10 s".
    pub name: &'static str,
    /// The response header carrying the help desk's request id, lower case.
    pub request_id_header: &'static str,
    /// Reads the help desk's explanation from an error body; [`error_detail`] reads the usual
    /// shapes.
    pub error_detail: fn(&[u8]) -> Option<String>,
    /// A sentence appended to the error of a status (what to check), or `""`.
    pub hint: fn(u16) -> &'static str,
}

impl Vendor {
    /// A vendor with the usual shapes and no hints.
    pub const fn named(plugin: &'static str, name: &'static str) -> Vendor {
        Vendor {
            plugin,
            name,
            request_id_header: "x-request-id",
            error_detail,
            hint: no_hint,
        }
    }
}

fn no_hint(_: u16) -> &'static str {
    ""
}

/// The transport's settings, usually read from the standard params.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    /// Scheme, host, port and optional path prefix, without a trailing `/`; paths are appended.
    pub base_url: String,
    pub timeout: Duration,
    pub verify: Verify,
    /// Attempts per request, first try included (at least 1).
    pub max_attempts: u32,
    /// Longest `Retry-After` waited for before failing with `rate_limited`.
    pub max_retry_wait: Duration,
    /// The largest answer to a GET that is read; a larger one is an error.
    pub max_response_bytes: u64,
    /// `User-Agent`, e.g. `otai-acme/0.1.0`.
    pub user_agent: String,
}

impl HttpSettings {
    /// Settings for `base_url` with every other one at its default.
    pub fn new(base_url: impl Into<String>, user_agent: impl Into<String>) -> HttpSettings {
        HttpSettings {
            base_url: base_url.into(),
            timeout: DEFAULT_TIMEOUT,
            verify: Verify::System,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            user_agent: user_agent.into(),
        }
    }

    /// Reads the standard params `timeout`, `verify`, `max_attempts`, `max_retry_wait` and
    /// `max_response_bytes` (see the plugin authors' guide for their meaning and bounds).
    pub fn read_params(
        mut self,
        params: &mut crate::params::Params,
    ) -> Result<HttpSettings, Error> {
        self.timeout = params.seconds("timeout", self.timeout, 0.001, 3600.0)?;
        self.verify = params.verify()?;
        self.max_attempts = params.integer("max_attempts", self.max_attempts.into(), 1, 10)? as u32;
        self.max_retry_wait = params.seconds("max_retry_wait", self.max_retry_wait, 0.0, 3600.0)?;
        self.max_response_bytes = params.integer(
            "max_response_bytes",
            self.max_response_bytes,
            1024,
            u32::MAX.into(),
        )?;
        Ok(self)
    }
}

/// A boxed future, for [`Authorizer`]'s object-safe methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The header for one attempt and which credential generation it carries.
pub struct Authorization {
    /// The `Authorization` header value, marked sensitive.
    pub header: HeaderValue,
    /// Which credential this is (renewals count up); passed back to [`Authorizer::rejected`].
    pub generation: u64,
}

/// A credential that can be renewed (an OAuth client): asked before every attempt, told when the
/// help desk answered 401 to a generation.
pub trait Authorizer: Send + Sync {
    /// The header for the next attempt (renewing first if due).
    fn authorization(&self) -> BoxFuture<'_, Result<Authorization, Error>>;
    /// The help desk refused `generation`: renew it (unless another call already did).
    fn rejected(&self, generation: u64) -> BoxFuture<'_, Result<(), Error>>;
}

/// Where a request's `Authorization` header comes from.
#[derive(Clone, Default)]
pub enum Auth {
    /// No header (credentials travel in the body, or none are needed).
    #[default]
    None,
    /// The same header every time (an API token, Basic auth).
    Fixed(HeaderValue),
    /// A renewable credential.
    Renewing(Arc<dyn Authorizer>),
}

impl Auth {
    /// `Basic base64(user:password)`.
    pub fn basic(user: &str, password: &Secret) -> Result<Auth, Error> {
        use base64::Engine as _;
        let raw = format!("{user}:{}", password.expose());
        Auth::header(&format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }

    /// `Bearer <token>`.
    pub fn bearer(token: &Secret) -> Result<Auth, Error> {
        Auth::header(&format!("Bearer {}", token.expose()))
    }

    /// Any fixed header value (e.g. `Token token=...`), marked sensitive.
    pub fn header(value: &str) -> Result<Auth, Error> {
        let mut header = HeaderValue::from_str(value).map_err(|_| {
            Error::new(
                ErrorKind::Config,
                "the credentials contain characters not allowed in a header",
            )
        })?;
        // Keeps the value out of reqwest/hyper debug output and HTTP/2 header compression tables.
        header.set_sensitive(true);
        Ok(Auth::Fixed(header))
    }
}

/// The transport shared by all operations of one service.
pub struct Http {
    client: reqwest::Client,
    settings: HttpSettings,
    vendor: Vendor,
    auth: Auth,
    log: Logger,
    /// `<plugin>::http`: log lines name the plugin, not the SDK.
    target: String,
    stats: Counters,
    pacer: Option<Arc<dyn Pacer>>,
}

/// Paces the requests of a help desk with a rate limit (a budget per minute, say).
pub trait Pacer: Send + Sync + std::fmt::Debug {
    /// Waits until this attempt may be sent. The cost of a request is the pacer's to judge from
    /// its method, path and query; the future borrows only the pacer.
    fn admit(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// Sees every answer's status and headers (rate-limit counters).
    fn observe(&self, status: u16, headers: &HeaderMap);
}

/// Request counters; relaxed atomics are enough, the figures are only ever summed and read.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

impl Http {
    /// Builds the client. Local only (reads a CA bundle if configured), never touches the
    /// network. Warns (through `log`) about `verify: false` and cleartext to another machine.
    pub fn new(settings: HttpSettings, vendor: Vendor, log: Logger) -> Result<Http, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect could carry the Authorization header elsewhere, and REST APIs do not
            // redirect; a 3xx is reported instead.
            .redirect(reqwest::redirect::Policy::none());
        let params_error = |m: &str| config_error(vendor.plugin, m);
        let target = format!("{}::http", vendor.plugin);
        match &settings.verify {
            Verify::System => {}
            Verify::Disabled => {
                log.warn(&target, || {
                    format!(
                        "{}: TLS certificate verification is OFF (`verify: false`): anyone on the way \
                         to {} can read and change the credentials and tickets. Use it for test \
                         setups only; for a private CA use `verify: {{ca: /path/to/ca.pem}}`.",
                        settings.base_url, vendor.name
                    )
                });
                builder = builder.tls_danger_accept_invalid_certs(true)
            }
            Verify::CaBundle(path) | Verify::CaOnly(path) => {
                // The path is a param value: the message names the key only.
                let pem = std::fs::read(path).map_err(|e| {
                    params_error(&format!(
                        "`verify`: cannot read the CA bundle file ({})",
                        e.kind()
                    ))
                })?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| {
                    params_error("`verify`: the file is not a PEM bundle of CA certificates")
                })?;
                if certs.is_empty() {
                    return Err(params_error(
                        "`verify`: the CA bundle file contains no certificate",
                    ));
                }
                builder = match &settings.verify {
                    Verify::CaOnly(_) => builder.tls_certs_only(certs),
                    _ => builder.tls_certs_merge(certs),
                };
            }
        }
        if settings.base_url.starts_with("http://")
            && !crate::params::is_loopback(&settings.base_url)
        {
            log.warn(&target, || {
                format!(
                    "{}: plain http:// to another machine (`allow_insecure_http: true`): credentials \
                     and tickets travel unencrypted.",
                    settings.base_url
                )
            });
        }
        let client = builder
            .build()
            .map_err(|e| params_error(&format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            client,
            settings: HttpSettings {
                max_attempts: settings.max_attempts.max(1),
                ..settings
            },
            vendor,
            auth: Auth::None,
            log,
            target: format!("{}::http", vendor.plugin),
            stats: Counters::default(),
            pacer: None,
        })
    }

    /// The same transport authenticating with `auth`.
    pub fn with_auth(mut self, auth: Auth) -> Http {
        self.auth = auth;
        self
    }

    /// The same transport, with every attempt admitted by `pacer` first and every answer shown to
    /// it.
    pub fn with_pacer(mut self, pacer: Arc<dyn Pacer>) -> Http {
        self.pacer = Some(pacer);
        self
    }

    /// The underlying client (same TLS settings), e.g. for an OAuth token endpoint.
    pub fn reqwest_client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The settings in force.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// The logger.
    pub fn log(&self) -> &Logger {
        &self.log
    }

    /// The vendor profile.
    pub fn vendor(&self) -> &Vendor {
        &self.vendor
    }

    /// Requests sent so far (every attempt), retries among them, and "slow down" answers.
    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.stats.requests.load(Ordering::Relaxed),
            retries: self.stats.retries.load(Ordering::Relaxed),
            rate_limited: self.stats.rate_limited.load(Ordering::Relaxed),
        }
    }

    async fn authorization(&self) -> Result<(Option<HeaderValue>, Option<u64>), Error> {
        match &self.auth {
            Auth::None => Ok((None, None)),
            Auth::Fixed(header) => Ok((Some(header.clone()), None)),
            Auth::Renewing(authorizer) => {
                let a = authorizer.authorization().await?;
                Ok((Some(a.header), Some(a.generation)))
            }
        }
    }

    /// `GET {base_url}{path}?{query}`, parsed as `T`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        let answer = self.send(Method::Get, path, query, None).await?;
        self.parse(Method::Get, path, &answer)
    }

    /// `GET {base_url}{path}?{query}`, parsed as `T`, with the server's clock when it answered.
    pub async fn get_dated<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Dated<T>, Error> {
        let answer = self.send(Method::Get, path, query, None).await?;
        Ok(Dated {
            value: self.parse(Method::Get, path, &answer)?,
            server_time: answer.server_time(),
        })
    }

    /// `PUT {base_url}{path}` with a JSON body, answer parsed as `T`.
    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Error> {
        let answer = self.send(Method::Put, path, &[], Some(body)).await?;
        self.parse(Method::Put, path, &answer)
    }

    /// `POST {base_url}{path}` with a JSON body, answer parsed as `T`.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Error> {
        let answer = self.send(Method::Post, path, &[], Some(body)).await?;
        self.parse(Method::Post, path, &answer)
    }

    /// `PATCH {base_url}{path}` with a JSON body, answer parsed as `T`.
    pub async fn patch<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Error> {
        let answer = self.send(Method::Patch, path, &[], Some(body)).await?;
        self.parse(Method::Patch, path, &answer)
    }

    /// An answer's body as `T`. Invalid UTF-8 and lone surrogate escapes are repaired first if
    /// the strict parse fails: one ticket with a broken character must not make a whole page
    /// unreadable.
    pub fn parse<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        answer: &Answer,
    ) -> Result<T, Error> {
        crate::lenient_json::from_slice(&answer.body).map_err(|e| {
            let mut err = Error::new(
                ErrorKind::InvalidResponse,
                format!(
                    "{} {path}: {}'s answer is not the expected JSON ({e})",
                    method.as_str(),
                    self.vendor.name
                ),
            )
            .with_http_status(answer.status);
            err.request_id = answer.request_id.clone();
            err
        })
    }

    /// Sends one logical request, retrying as described in the module docs.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, Error> {
        let url = format!("{}{}", self.settings.base_url, path);
        let m = method.as_str();
        let body_bytes = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| {
                Error::new(
                    ErrorKind::Validation,
                    format!("{m} {path}: cannot encode the request body: {e}"),
                )
            })?),
            None => None,
        };
        let mut attempt: u32 = 1;
        // One renewal per call: a second 401 with a brand-new credential is a real refusal.
        let mut reauthorized = false;
        loop {
            let (authorization, generation) = self.authorization().await?;
            let mut request = self.client.request(method.to_reqwest(), &url);
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(authorization) = authorization {
                request = request.header(AUTHORIZATION, authorization);
            }
            if let Some(bytes) = &body_bytes {
                request = request
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(bytes.clone());
            }

            if let Some(pacer) = &self.pacer {
                pacer.admit(method, path, query).await;
            }
            // Counted before sending: a request that times out or fails still reached (or tried
            // to reach) the help desk and may count against its limits.
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            if attempt > 1 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            let started = Instant::now();
            let outcome = match request.send().await {
                Ok(mut response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    if let Some(pacer) = &self.pacer {
                        pacer.observe(status.as_u16(), &headers);
                    }
                    // Reads are capped; a write's answer is read whole (the write happened, and
                    // its answer is bounded by what was written).
                    let cap = method.is_read().then_some(self.settings.max_response_bytes);
                    match read_body(&mut response, cap).await {
                        Ok(Some(bytes)) => Ok((status, headers, bytes)),
                        Ok(None) => {
                            return Err(Error::new(
                                ErrorKind::InvalidResponse,
                                format!(
                                    "{m} {path}: {}'s answer is larger than max_response_bytes \
                                     ({} bytes), so it was not read; raise `max_response_bytes` if \
                                     such answers are expected",
                                    self.vendor.name, self.settings.max_response_bytes
                                ),
                            )
                            .with_http_status(status.as_u16()))
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            let elapsed_ms = started.elapsed().as_millis();

            let (status, headers, bytes) = match outcome {
                Ok(parts) => parts,
                Err(e) => {
                    let err = self.transport_error(method, path, &e);
                    let retry = method.is_read()
                        && !e.is_timeout()
                        && (e.is_connect() || e.is_request())
                        && attempt < self.settings.max_attempts;
                    self.log.debug(&self.target, || {
                        format!("{m} {path} failed after {elapsed_ms} ms: {}", err.message)
                    });
                    if retry {
                        let wait = backoff(attempt);
                        self.warn_retry(method, path, attempt, wait, "connection error");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            };

            let request_id = header_str(&headers, self.vendor.request_id_header);
            self.log.debug(&self.target, || {
                format!(
                    "{m} {path} -> {} in {elapsed_ms} ms (request id {})",
                    status.as_u16(),
                    request_id.as_deref().unwrap_or("none")
                )
            });

            if status.is_success() {
                return Ok(Answer {
                    body: bytes,
                    request_id,
                    status: status.as_u16(),
                    headers,
                });
            }
            if let (StatusCode::UNAUTHORIZED, Auth::Renewing(authorizer), Some(generation)) =
                (status, &self.auth, generation)
            {
                if !reauthorized {
                    reauthorized = true;
                    self.log.info(&self.target, || {
                        format!(
                            "{m} {path}: {} rejected the access token (HTTP 401); renewing it and \
                             sending the request again (a 401 was not processed).",
                            self.vendor.name
                        )
                    });
                    authorizer.rejected(generation).await?;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }

            let retry_after = parse_retry_after(&headers);
            if status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::SERVICE_UNAVAILABLE && retry_after.is_some())
            {
                self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            let retryable = match status.as_u16() {
                429 | 503 => true,
                500 | 502 | 504 => method.is_read(),
                _ => false,
            };
            if retryable && attempt < self.settings.max_attempts {
                if let Some(wait) = retry_after {
                    if wait > self.settings.max_retry_wait {
                        let mut err = self.status_error(
                            method,
                            path,
                            status,
                            request_id,
                            retry_after,
                            &bytes,
                        );
                        err.kind = ErrorKind::RateLimited;
                        err.message = format!(
                            "{} ({} asked to wait {:.1} s, longer than max_retry_wait {:.1} s)",
                            err.message,
                            self.vendor.name,
                            wait.as_secs_f64(),
                            self.settings.max_retry_wait.as_secs_f64()
                        );
                        return Err(err);
                    }
                }
                let wait = match retry_after {
                    // A little jitter so that several clients throttled together do not return
                    // in lockstep.
                    Some(wait) => wait + Duration::from_millis(fastrand::u64(0..=100)),
                    None => backoff(attempt),
                };
                self.warn_retry(
                    method,
                    path,
                    attempt,
                    wait,
                    &format!("HTTP {}", status.as_u16()),
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Err(self.status_error(method, path, status, request_id, retry_after, &bytes));
        }
    }

    fn warn_retry(&self, method: Method, path: &str, attempt: u32, wait: Duration, why: &str) {
        let max = self.settings.max_attempts;
        self.log.warn(&self.target, || {
            format!(
                "{} {path}: {why}; retrying in {} ms (attempt {}/{max})",
                method.as_str(),
                wait.as_millis(),
                attempt + 1
            )
        });
    }

    fn transport_error(&self, method: Method, path: &str, e: &reqwest::Error) -> Error {
        let m = method.as_str();
        let vendor = self.vendor.name;
        if e.is_timeout() {
            let secs = self.settings.timeout.as_secs_f64();
            let message = if method.is_read() {
                format!("{m} {path}: no answer from {vendor} within {secs:.1} s")
            } else {
                format!(
                    "{m} {path}: no answer from {vendor} within {secs:.1} s; the write may or may \
                     not have been applied, check the ticket before retrying"
                )
            };
            return Error::new(ErrorKind::Timeout, message);
        }
        // The URL holds no credentials (they travel in a header or body), but it is left out
        // anyway: the method and path are already in the message.
        let detail = error_chain(e);
        let what = if e.is_connect() {
            format!("cannot connect to {vendor}")
        } else {
            "request failed".to_string()
        };
        let mut message = format!("{m} {path}: {what}: {detail}");
        if !method.is_read() && !e.is_connect() {
            message.push_str("; the write may or may not have been applied");
        }
        Error::new(ErrorKind::Transport, message)
    }

    /// Maps a non-2xx answer to an [`Error`] carrying the help desk's own explanation.
    pub fn status_error(
        &self,
        method: Method,
        path: &str,
        status: StatusCode,
        request_id: Option<String>,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Error {
        let code = status.as_u16();
        let kind = match code {
            401 => ErrorKind::Auth,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            503 if retry_after.is_some() => ErrorKind::RateLimited,
            400..=499 => ErrorKind::Validation,
            _ => ErrorKind::Transport,
        };
        let hint = match (self.vendor.hint)(code) {
            "" if (300..=399).contains(&code) => {
                " The help desk answered with a redirect; check the base URL."
            }
            hint => hint,
        };
        let reason = status.canonical_reason().unwrap_or("");
        let mut message = format!(
            "{} {path} failed with HTTP {code} {reason}",
            method.as_str()
        );
        if let Some(detail) = (self.vendor.error_detail)(body) {
            message.push_str(": ");
            message.push_str(&detail);
        }
        if !hint.is_empty() {
            message.push('.');
            message.push_str(hint);
        }
        let mut err = Error::new(kind, message).with_http_status(code);
        err.request_id = request_id;
        if matches!(code, 429 | 503) {
            err.retry_after = retry_after;
        }
        err
    }
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("base_url", &self.settings.base_url)
            .field("vendor", &self.vendor.name)
            .field("auth", &"[redacted]")
            .field("timeout", &self.settings.timeout)
            .field("max_attempts", &self.settings.max_attempts)
            .field("max_retry_wait", &self.settings.max_retry_wait)
            .finish()
    }
}

/// The whole body, or `None` as soon as it is known to exceed `cap` (from `Content-Length` or while
/// reading), without holding more than `cap` bytes.
async fn read_body(
    response: &mut reqwest::Response,
    cap: Option<u64>,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let cap = cap.unwrap_or(u64::MAX);
    if response.content_length().is_some_and(|n| n > cap) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// `Retry-After` in seconds (fractions accepted). The HTTP-date form falls back to backoff.
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()?;
    (raw.is_finite() && raw >= 0.0).then(|| Duration::from_secs_f64(raw.min(86_400.0)))
}

/// Exponential backoff with "equal jitter": half fixed, half random, capped.
pub fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << attempt.saturating_sub(1).min(10));
    let capped = exp.min(BACKOFF_CAP);
    let half = capped / 2;
    half + half.mul_f64(fastrand::f64())
}

fn error_chain(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        "unknown error".to_string()
    } else {
        parts.join(": ")
    }
}

/// The help desk's explanation from an error body, for the shapes most REST APIs use: `{"error", "description", "details"}`,
/// `{"error": {"title", "message"}}`, `{"errors": [{"code", "title", "detail"}]}`,
/// `{"error", "error_description"}` (OAuth), and plain text.
pub fn error_detail(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let Ok(json) = serde_json::from_str::<Value>(text) else {
        return Some(truncate(
            &text.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
    };
    let mut parts: Vec<String> = Vec::new();
    let str_of = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    match json.get("error") {
        Some(Value::String(s)) => parts.push(s.clone()),
        Some(Value::Object(o)) => {
            for key in ["title", "message"] {
                if let Some(s) = o.get(key).and_then(Value::as_str) {
                    parts.push(s.to_string());
                }
            }
        }
        _ => {}
    }
    for key in ["description", "error_description", "message"] {
        if let Some(s) = str_of(json.get(key)) {
            parts.push(s);
        }
    }
    if let Some(Value::String(details)) = json.get("details") {
        // Job-status results carry `details` as a sentence.
        parts.push(details.clone());
    }
    if let Some(Value::Object(details)) = json.get("details") {
        let mut items = Vec::new();
        for (field, list) in details {
            let descs: Vec<String> = match list {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|d| str_of(d.get("description")).or_else(|| str_of(d.get("error"))))
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            };
            if !descs.is_empty() {
                items.push(format!("{field}: {}", descs.join("; ")));
            }
        }
        if !items.is_empty() {
            parts.push(format!("({})", items.join(", ")));
        }
    }
    if let Some(Value::Array(errors)) = json.get("errors") {
        for e in errors {
            let piece = [
                str_of(e.get("code")),
                str_of(e.get("title")),
                str_of(e.get("detail")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
            if !piece.is_empty() {
                parts.push(piece);
            }
        }
    }
    if parts.is_empty() {
        Some(truncate(text))
    } else {
        Some(truncate(&parts.join(": ")))
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_DETAIL_CHARS {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX_DETAIL_CHARS).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_detail_reads_every_shape() {
        assert_eq!(
            error_detail(br#"{"error":"RecordNotFound","description":"Not found"}"#).unwrap(),
            "RecordNotFound: Not found"
        );
        assert_eq!(
            error_detail(
                br#"{"error":"RecordInvalid","description":"Record validation errors","details":{"status":[{"description":"Status: closed prevents ticket update","error":"InvalidValue"}]}}"#
            )
            .unwrap(),
            "RecordInvalid: Record validation errors: (status: Status: closed prevents ticket update)"
        );
        assert_eq!(
            error_detail(br#"{"errors":[{"code":"TooMany","title":"Too many things"}]}"#).unwrap(),
            "TooMany: Too many things"
        );
        assert_eq!(
            error_detail(
                br#"{"error":"invalid_token","error_description":"The access token is expired"}"#
            )
            .unwrap(),
            "invalid_token: The access token is expired"
        );
        assert_eq!(
            error_detail(br#"{"error":{"title":"Forbidden","message":"No access"}}"#).unwrap(),
            "Forbidden: No access"
        );
        assert_eq!(
            error_detail(b"Bad Request\n  nope").unwrap(),
            "Bad Request nope"
        );
        assert_eq!(error_detail(b"  "), None);
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            assert!(d <= BACKOFF_CAP);
            assert!(d >= BACKOFF_BASE / 2);
        }
    }
}
