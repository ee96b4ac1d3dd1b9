//! HTTP transport: one pooled `reqwest::Client`, authentication, retries and the mapping of
//! Zendesk's answers onto [`PluginError`].
//!
//! Retry policy (at most `max_attempts` attempts per call):
//! - 429 and 503 are retried for every method, after `Retry-After` (or a backoff when absent):
//!   Zendesk tells us it did not process the request. A `Retry-After` longer than
//!   `max_retry_wait` is not waited for: the call fails at once with `rate_limited` and
//!   `retry_after_ms`, so the host can schedule the retry itself.
//! - GETs are also retried on 500/502/504 and on connection errors, with capped exponential
//!   backoff and jitter.
//! - Writes are never retried on anything else: after a timeout or a lost connection we cannot
//!   know whether Zendesk applied the write, and a blind retry could apply it twice.
//! - Timeouts are not retried at all: `timeout` is the caller's budget per request.
//! - With an OAuth client (`oauth:`), a 401 renews the access token once and sends the request again,
//!   writes included: a 401 means Zendesk did not process it, so the second send is not blind.
//!
//! Every attempt is counted ([`Http::stats`]): requests sent, retries among them, and answers that
//! said "slow down" (429, or 503 with `Retry-After`), so the host can report API calls per pass.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use base64::Engine as _;
use otai_plugin_api::{ErrorKind, LogLevel, PluginError, RequestStats};
use reqwest::{
    header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER},
    StatusCode,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    config::{config_error, Auth, Config, Verify},
    log::Logger,
    oauth::TokenManager,
};

const TARGET: &str = "otai_zendesk::http";
/// First backoff step; doubled per attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Longest backoff between two attempts when Zendesk gave no `Retry-After`.
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// Longest piece of an error body quoted in a message.
const MAX_DETAIL_CHARS: usize = 400;

/// The two methods the adapter uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Put,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
        }
    }

    fn is_idempotent(self) -> bool {
        // PUT is idempotent in HTTP terms, but a ticket PUT with a comment adds the comment again.
        matches!(self, Method::Get)
    }
}

/// A successful answer: its JSON body and Zendesk's request id.
#[derive(Debug)]
pub(crate) struct Answer {
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    pub status: u16,
}

/// Where a request's `Authorization` header comes from.
enum AuthSource {
    /// API token or a fixed OAuth access token: the same header every time.
    Fixed(HeaderValue),
    /// An OAuth client: the current access token, renewed when due.
    OAuth(Arc<TokenManager>),
}

/// The transport shared by all operations of one service.
pub(crate) struct Http {
    client: reqwest::Client,
    base_url: String,
    auth: AuthSource,
    timeout: Duration,
    max_attempts: u32,
    max_retry_wait: Duration,
    max_response_bytes: u64,
    log: Logger,
    stats: Counters,
}

/// Request counters; relaxed atomics are enough, the figures are only ever summed and read.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

impl Http {
    /// Builds the client. Local only (reads a CA bundle if configured), never touches the network.
    pub(crate) fn new(config: &Config, log: Logger) -> Result<Http, PluginError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("otai-zendesk/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect could carry our Authorization header elsewhere, and the Zendesk API does
            // not redirect; a 3xx is reported instead.
            .redirect(reqwest::redirect::Policy::none());
        match &config.verify {
            Verify::System => {}
            Verify::Disabled => builder = builder.tls_danger_accept_invalid_certs(true),
            Verify::CaBundle(path) | Verify::CaOnly(path) => {
                // The path is a param value: the message names the key only.
                let pem = std::fs::read(path).map_err(|e| {
                    config_error(format!(
                        "`verify`: cannot read the CA bundle file ({})",
                        e.kind()
                    ))
                })?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| {
                    config_error("`verify`: the file is not a PEM bundle of CA certificates")
                })?;
                if certs.is_empty() {
                    return Err(config_error(
                        "`verify`: the CA bundle file contains no certificate",
                    ));
                }
                builder = match &config.verify {
                    Verify::CaOnly(_) => builder.tls_certs_only(certs),
                    _ => builder.tls_certs_merge(certs),
                };
            }
        }
        let client = builder
            .build()
            .map_err(|e| config_error(format!("cannot build the HTTP client: {e}")))?;
        let auth = match &config.auth {
            Auth::OAuthClient(oauth) => AuthSource::OAuth(Arc::new(TokenManager::new(
                client.clone(),
                &config.base_url,
                oauth.clone(),
                config.timeout,
                config.max_attempts,
                log.clone(),
            )?)),
            fixed => AuthSource::Fixed(auth_header(fixed)?),
        };
        Ok(Http {
            client,
            base_url: config.base_url.clone(),
            auth,
            timeout: config.timeout,
            max_attempts: config.max_attempts.max(1),
            max_retry_wait: config.max_retry_wait,
            max_response_bytes: config.max_response_bytes,
            log,
            stats: Counters::default(),
        })
    }

    /// The base URL requests go to.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The logger.
    pub(crate) fn log(&self) -> &Logger {
        &self.log
    }

    /// How requests authenticate, for `check --connect`: the OAuth client and when its current
    /// token expires, or `None` for a fixed credential.
    pub(crate) fn describe_oauth(&self) -> Option<String> {
        match &self.auth {
            AuthSource::OAuth(manager) => Some(manager.describe()),
            AuthSource::Fixed(_) => None,
        }
    }

    /// OAuth access tokens obtained so far (0 without an OAuth client).
    pub(crate) fn token_renewals(&self) -> u64 {
        match &self.auth {
            AuthSource::OAuth(manager) => manager.renewals(),
            AuthSource::Fixed(_) => 0,
        }
    }

    /// The header for the next attempt and, with OAuth, which token generation it carries.
    async fn authorization(&self) -> Result<(HeaderValue, Option<u64>), PluginError> {
        match &self.auth {
            AuthSource::Fixed(header) => Ok((header.clone(), None)),
            AuthSource::OAuth(manager) => {
                let a = manager.authorization().await?;
                Ok((a.header, Some(a.generation)))
            }
        }
    }

    /// Requests sent so far (every attempt), retries among them, and "slow down" answers.
    pub(crate) fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.stats.requests.load(Ordering::Relaxed),
            retries: self.stats.retries.load(Ordering::Relaxed),
            rate_limited: self.stats.rate_limited.load(Ordering::Relaxed),
        }
    }

    /// `GET {base_url}{path}?{query}`, parsed as `T`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, PluginError> {
        let answer = self.send(Method::Get, path, query, None).await?;
        parse(Method::Get, path, &answer)
    }

    /// `PUT {base_url}{path}` with a JSON body, answer parsed as `T`.
    pub(crate) async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, PluginError> {
        let answer = self.send(Method::Put, path, &[], Some(body)).await?;
        parse(Method::Put, path, &answer)
    }

    /// Sends one logical request, retrying as described in the module docs.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, PluginError> {
        let url = format!("{}{}", self.base_url, path);
        let body_bytes = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| {
                PluginError::new(
                    ErrorKind::VALIDATION,
                    format!(
                        "{} {path}: cannot encode the request body: {e}",
                        method.as_str()
                    ),
                )
            })?),
            None => None,
        };
        let mut attempt: u32 = 1;
        // One renewal per call: a second 401 with a brand-new token is a real refusal.
        let mut reauthorized = false;
        loop {
            let (authorization, generation) = self.authorization().await?;
            let mut request = match method {
                Method::Get => self.client.get(&url),
                Method::Put => self.client.put(&url),
            };
            if !query.is_empty() {
                request = request.query(query);
            }
            request = request.header(AUTHORIZATION, authorization);
            if let Some(bytes) = &body_bytes {
                request = request
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(bytes.clone());
            }

            // Counted before sending: a request that times out or fails still reached (or tried
            // to reach) Zendesk and may count against its limits.
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            if attempt > 1 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            let started = Instant::now();
            let outcome = match request.send().await {
                Ok(mut response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    // Reads are capped; a write's answer is read whole (the write happened, and
                    // its answer is bounded by what was written).
                    let cap = (method == Method::Get).then_some(self.max_response_bytes);
                    match read_body(&mut response, cap).await {
                        Ok(Some(bytes)) => Ok((status, headers, bytes)),
                        Ok(None) => {
                            return Err(PluginError::new(
                                ErrorKind::INVALID_RESPONSE,
                                format!(
                                    "{} {path}: Zendesk's answer is larger than max_response_bytes \
                                     ({} bytes), so it was not read; raise `max_response_bytes` if \
                                     such answers are expected",
                                    method.as_str(),
                                    self.max_response_bytes
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
                    let retry = method.is_idempotent()
                        && !e.is_timeout()
                        && (e.is_connect() || e.is_request())
                        && attempt < self.max_attempts;
                    self.log.log(LogLevel::Debug, TARGET, || {
                        format!(
                            "{} {path} failed after {elapsed_ms} ms: {}",
                            method.as_str(),
                            err.message
                        )
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

            let request_id = header_str(&headers, "x-request-id");
            self.log.log(LogLevel::Debug, TARGET, || {
                format!(
                    "{} {path} -> {} in {elapsed_ms} ms (request id {})",
                    method.as_str(),
                    status.as_u16(),
                    request_id.as_deref().unwrap_or("none")
                )
            });

            if status.is_success() {
                return Ok(Answer {
                    body: bytes,
                    request_id,
                    status: status.as_u16(),
                });
            }
            if let (StatusCode::UNAUTHORIZED, AuthSource::OAuth(manager), Some(generation)) =
                (status, &self.auth, generation)
            {
                if !reauthorized {
                    reauthorized = true;
                    self.log.log(LogLevel::Info, TARGET, || {
                        format!(
                            "{} {path}: Zendesk rejected the OAuth access token (HTTP 401); renewing it and sending the request again (a 401 was not processed).",
                            method.as_str()
                        )
                    });
                    manager.rejected(generation).await?;
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
                500 | 502 | 504 => method.is_idempotent(),
                _ => false,
            };
            if retryable && attempt < self.max_attempts {
                if let Some(wait) = retry_after {
                    if wait > self.max_retry_wait {
                        let mut err =
                            status_error(method, path, status, request_id, retry_after, &bytes);
                        err.kind = ErrorKind::RATE_LIMITED;
                        err.message = format!(
                            "{} (Zendesk asked to wait {:.1} s, longer than max_retry_wait {:.1} s)",
                            err.message,
                            wait.as_secs_f64(),
                            self.max_retry_wait.as_secs_f64()
                        )
                        .into();
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
            return Err(status_error(
                method,
                path,
                status,
                request_id,
                retry_after,
                &bytes,
            ));
        }
    }

    fn warn_retry(&self, method: Method, path: &str, attempt: u32, wait: Duration, why: &str) {
        let max = self.max_attempts;
        self.log.log(LogLevel::Warn, TARGET, || {
            format!(
                "{} {path}: {why}; retrying in {} ms (attempt {}/{max})",
                method.as_str(),
                wait.as_millis(),
                attempt + 1
            )
        });
    }

    fn transport_error(&self, method: Method, path: &str, e: &reqwest::Error) -> PluginError {
        let m = method.as_str();
        if e.is_timeout() {
            let secs = self.timeout.as_secs_f64();
            let message = match method {
                Method::Get => format!("{m} {path}: no answer from Zendesk within {secs:.1} s"),
                Method::Put => format!(
                    "{m} {path}: no answer from Zendesk within {secs:.1} s; the write may or may \
                     not have been applied, check the ticket before retrying"
                ),
            };
            return PluginError::new(ErrorKind::TIMEOUT, message);
        }
        // The URL holds no credentials (they travel in a header), but it is dropped anyway: the
        // method and path are already in the message.
        let detail = error_chain(e);
        let what = if e.is_connect() {
            "cannot connect to Zendesk"
        } else {
            "request failed"
        };
        let mut message = format!("{m} {path}: {what}: {detail}");
        if method == Method::Put && !e.is_connect() {
            message.push_str("; the write may or may not have been applied");
        }
        PluginError::new(ErrorKind::TRANSPORT, message)
    }
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("base_url", &self.base_url)
            .field("auth", &"[redacted]")
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("max_retry_wait", &self.max_retry_wait)
            .finish()
    }
}

fn auth_header(auth: &Auth) -> Result<HeaderValue, PluginError> {
    let value = match auth {
        Auth::ApiToken { email, token } => {
            let raw = format!("{email}/token:{}", token.expose());
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        }
        Auth::OAuth { token } => format!("Bearer {}", token.expose()),
        Auth::OAuthClient(_) => unreachable!("OAuth clients get their header from TokenManager"),
    };
    let mut header = HeaderValue::from_str(&value)
        .map_err(|_| config_error("the credentials contain characters not allowed in a header"))?;
    // Keeps the value out of reqwest/hyper debug output and HTTP/2 header compression tables.
    header.set_sensitive(true);
    Ok(header)
}

fn parse<T: DeserializeOwned>(
    method: Method,
    path: &str,
    answer: &Answer,
) -> Result<T, PluginError> {
    let strict = serde_json::from_slice(&answer.body);
    // One ticket with a broken character must not make a whole page unreadable.
    let parsed = match strict {
        Err(e) => match crate::lenient_json::repair(&answer.body) {
            Some(fixed) => serde_json::from_slice(&fixed).map_err(|_| e),
            None => Err(e),
        },
        ok => ok,
    };
    parsed.map_err(|e| {
        let mut err = PluginError::new(
            ErrorKind::INVALID_RESPONSE,
            format!(
                "{} {path}: Zendesk's answer is not the expected JSON ({e})",
                method.as_str()
            ),
        )
        .with_http_status(answer.status);
        if let Some(id) = &answer.request_id {
            err = err.with_request_id(id.clone());
        }
        err
    })
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

/// `Retry-After` in seconds (Zendesk sends an integer; fractions are accepted). The HTTP-date
/// form is not used by Zendesk and falls back to backoff.
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
pub(crate) fn backoff(attempt: u32) -> Duration {
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

/// Maps a non-2xx answer to a [`PluginError`] carrying Zendesk's own explanation.
fn status_error(
    method: Method,
    path: &str,
    status: StatusCode,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    body: &[u8],
) -> PluginError {
    let code = status.as_u16();
    let kind = match code {
        401 => ErrorKind::AUTH,
        403 => ErrorKind::FORBIDDEN,
        404 => ErrorKind::NOT_FOUND,
        409 => ErrorKind::CONFLICT,
        429 => ErrorKind::RATE_LIMITED,
        503 if retry_after.is_some() => ErrorKind::RATE_LIMITED,
        400 | 413 | 422 => ErrorKind::VALIDATION,
        400..=499 => ErrorKind::VALIDATION,
        _ => ErrorKind::TRANSPORT,
    };
    let hint = match code {
        401 => " Check the credentials (`oauth`, or `email` + `api_token`, or `oauth_token`); a fixed `oauth_token` may have expired.",
        403 => " The user's role or the token's scope does not allow this (otai needs the scopes `read write`: set `oauth.scope`).",
        409 => " The ticket changed in the meantime; nothing was written.",
        300..=399 => " Zendesk answered with a redirect; check `domain` / `base_url`.",
        _ => "",
    };
    let detail = error_detail(body);
    let reason = status.canonical_reason().unwrap_or("");
    let mut message = format!(
        "{} {path} failed with HTTP {code} {reason}",
        method.as_str()
    );
    if let Some(detail) = detail {
        message.push_str(": ");
        message.push_str(&detail);
    }
    if !hint.is_empty() {
        message.push('.');
        message.push_str(hint);
    }
    let mut err = PluginError::new(kind, message).with_http_status(code);
    if let Some(id) = request_id {
        err = err.with_request_id(id);
    }
    if let Some(wait) = retry_after {
        if matches!(code, 429 | 503) {
            err = err.with_retry_after_ms(wait.as_millis() as u64);
        }
    }
    err
}

/// Zendesk's explanation from an error body. Shapes seen: `{"error", "description", "details"}`,
/// `{"error": {"title", "message"}}`, `{"errors": [{"code", "title", "detail"}]}`,
/// `{"error", "error_description"}` (OAuth), and plain text.
pub(crate) fn error_detail(body: &[u8]) -> Option<String> {
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

    #[test]
    fn auth_headers_are_sensitive_and_correct() {
        let h = auth_header(&Auth::ApiToken {
            email: "a@b.c".into(),
            token: crate::secret::Secret::new("tok"),
        })
        .unwrap();
        assert!(h.is_sensitive());
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("a@b.c/token:tok")
        );
        assert_eq!(h.to_str().unwrap(), expected);
        let h = auth_header(&Auth::OAuth {
            token: crate::secret::Secret::new("xyz"),
        })
        .unwrap();
        assert_eq!(h.to_str().unwrap(), "Bearer xyz");
        assert!(h.is_sensitive());
    }
}
