//! OAuth access tokens that keep working: fetched from Zendesk's `POST /oauth/tokens`, held in memory,
//! renewed before they expire and once when Zendesk rejects one with 401.
//!
//! Zendesk retires API tokens (none can be created since 2026-10-27; all stop on 2027-04-30) and the
//! access tokens of new OAuth clients expire (30 minutes by default, refresh tokens after 30 days). Two
//! grants fit an unattended service:
//! - `client_credentials` (the default; confidential clients): the client id and secret get a new access
//!   token whenever one is needed;
//! - `refresh_token`: an admin authorised otai once; every refresh returns a new access token AND a new
//!   refresh token and invalidates the old pair, so the rotated refresh token is written (atomically, mode
//!   0600) to `refresh_token_file` before it is used, and read back from there on the next start.
//!
//! One renewal at a time ([`TokenManager::renew`] is single-flight: callers that find the token due
//! wait for the renewal under way instead of starting their own). A renewal runs as its own task on the
//! service's runtime, so a caller the host abandons cannot cut a refresh short between Zendesk's rotation
//! and our saving of the new refresh token. Token requests are retried on connection errors, 429 and 5xx
//! (asking for a token twice does no harm); every refusal becomes an error that says what to fix.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime},
};

use otai_plugin_sdk::{Error, ErrorKind, LogLevel};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::json;

use otai_plugin_sdk::{
    http::{backoff, Authorization},
    Logger, Secret,
};

const TARGET: &str = "otai_zendesk::oauth";
/// The token endpoint, below the account's base URL (not under `/api/v2`).
pub const TOKEN_PATH: &str = "/oauth/tokens";
/// The scope otai asks for unless told otherwise: it reads tickets and groups and writes tickets.
pub const DEFAULT_SCOPE: &str = "read write";
/// Renew this long before a token expires at most (a quarter of its lifetime for short ones), so a
/// request never leaves with a token that dies on its way.
const MAX_RENEW_MARGIN: Duration = Duration::from_secs(60);
/// Where Zendesk's admins manage OAuth clients, for messages.
const ADMIN_CENTER: &str = "Admin Center > Apps and integrations > APIs > OAuth clients";

/// How otai obtains its access tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `client_credentials`: the client's id and secret (a confidential client).
    ClientCredentials,
    /// `refresh_token`: an admin authorised otai once.
    RefreshToken {
        /// The refresh token from the config (used when `file` holds none, or a dead one).
        initial: Secret,
        /// Where the rotated refresh token is kept between runs.
        file: PathBuf,
    },
}

impl Grant {
    fn name(&self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::RefreshToken { .. } => "refresh_token",
        }
    }
}

/// The `oauth:` params.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthConfig {
    /// The OAuth client's unique identifier.
    pub client_id: String,
    /// The client's secret.
    pub client_secret: Secret,
    /// Space-separated scopes, e.g. `read write`.
    pub scope: String,
    /// How tokens are obtained.
    pub grant: Grant,
}

/// A live access token.
struct Token {
    header: HeaderValue,
    /// Renew from this moment on (`None`: Zendesk gave no lifetime; renewed only after a 401).
    renew_at: Option<Instant>,
    /// When Zendesk says it expires, for `check --connect`.
    expires_at: Option<SystemTime>,
    /// Counts renewals: a 401 for generation N renews only if N is still current.
    generation: u64,
}

/// The access token of one configured service, renewed as needed. Shared by every request.
pub struct TokenManager {
    http: reqwest::Client,
    token_url: String,
    config: OAuthConfig,
    timeout: Duration,
    max_attempts: u32,
    log: Logger,
    current: Mutex<Option<Arc<Token>>>,
    /// The live refresh token (refresh grant only): rotated on every refresh.
    refresh_token: Mutex<Option<Secret>>,
    /// Held while a renewal runs, so only one runs.
    renewing: tokio::sync::Mutex<()>,
    renewals: AtomicU64,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("token_url", &self.token_url)
            .field("client_id", &self.config.client_id)
            .field("grant", &self.config.grant.name())
            .field("scope", &self.config.scope)
            .finish_non_exhaustive()
    }
}

/// The answer of the token endpoint.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<f64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// A failed token request: the error for the host, and the OAuth error code if Zendesk gave one.
struct Failure {
    error: Error,
    oauth_code: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            oauth_code: String::new(),
        }
    }
}

/// An OAuth error answer (RFC 6749 5.2).
#[derive(Deserialize, Default)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenManager {
    /// A manager for `config`, talking to `{base_url}/oauth/tokens` through `http`. Local only: with
    /// the refresh grant it reads the saved refresh token, if any, and sends nothing.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        config: OAuthConfig,
        timeout: Duration,
        max_attempts: u32,
        log: Logger,
    ) -> Result<TokenManager, Error> {
        let refresh_token = match &config.grant {
            Grant::ClientCredentials => None,
            Grant::RefreshToken { initial, file } => Some(match read_saved(file)? {
                Some(saved) => {
                    log.log(LogLevel::Debug, TARGET, || {
                        format!(
                            "Using the refresh token saved in {} (newer than the config's).",
                            file.display()
                        )
                    });
                    saved
                }
                None => initial.clone(),
            }),
        };
        Ok(TokenManager {
            http,
            token_url: format!("{base_url}{TOKEN_PATH}"),
            config,
            timeout,
            max_attempts: max_attempts.max(1),
            log,
            current: Mutex::new(None),
            refresh_token: Mutex::new(refresh_token),
            renewing: tokio::sync::Mutex::new(()),
            renewals: AtomicU64::new(0),
        })
    }

    /// Tokens obtained so far.
    pub fn renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }

    /// The header for the next request: the current token, or a new one when it is due.
    pub async fn authorization(self: &Arc<Self>) -> Result<Authorization, Error> {
        if let Some(token) = self.fresh() {
            return Ok(Authorization {
                header: token.header.clone(),
                generation: token.generation,
            });
        }
        let stale = self.generation();
        self.renew(stale).await
    }

    /// Zendesk answered 401 to the token of `generation`: renew it unless another request already did.
    pub async fn rejected(self: &Arc<Self>, generation: u64) -> Result<Authorization, Error> {
        self.renew(generation).await
    }

    /// How otai authenticates and when the current token expires, for `check --connect`.
    pub fn describe(&self) -> String {
        let grant = match self.config.grant {
            Grant::ClientCredentials => "OAuth client credentials",
            Grant::RefreshToken { .. } => "OAuth refresh token",
        };
        let mut text = format!(
            "{grant} (client `{}`, scope `{}`)",
            self.config.client_id, self.config.scope
        );
        let current = self.current.lock().unwrap().clone();
        match current.as_ref().and_then(|t| t.expires_at) {
            Some(at) => {
                let left = at
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                text.push_str(&format!(
                    "; the current access token expires in {} (at {}) and is renewed before then",
                    human(left),
                    utc(at)
                ));
            }
            None if current.is_some() => {
                text.push_str("; the current access token has no expiry (renewed after a 401)")
            }
            None => {}
        }
        text
    }

    fn fresh(&self) -> Option<Arc<Token>> {
        let current = self.current.lock().unwrap().clone()?;
        match current.renew_at {
            Some(at) if Instant::now() >= at => None,
            _ => Some(current),
        }
    }

    fn generation(&self) -> u64 {
        self.current
            .lock()
            .unwrap()
            .as_ref()
            .map_or(0, |t| t.generation)
    }

    /// Replaces the token of generation `stale` (single-flight). Runs as its own task so that a dropped
    /// caller cannot interrupt a refresh between Zendesk's rotation and our saving of the new token.
    async fn renew(self: &Arc<Self>, stale: u64) -> Result<Authorization, Error> {
        let this = self.clone();
        let task = tokio::spawn(async move {
            let _one_at_a_time = this.renewing.lock().await;
            if let Some(token) = this.current.lock().unwrap().clone() {
                // Renewed while we waited for the lock, and still fresh: use that one.
                let fresh = token.renew_at.is_none_or(|at| Instant::now() < at);
                if token.generation != stale && fresh {
                    return Ok(Authorization {
                        header: token.header.clone(),
                        generation: token.generation,
                    });
                }
            }
            this.obtain(stale + 1).await
        });
        task.await.map_err(|e| {
            Error::new(
                ErrorKind::Panicked,
                format!("POST {TOKEN_PATH}: the token renewal stopped: {e}"),
            )
        })?
    }

    /// Asks Zendesk for a new access token and makes it current.
    async fn obtain(&self, generation: u64) -> Result<Authorization, Error> {
        let started = Instant::now();
        let answer = match self.request_with_saved_or_initial().await {
            Ok(answer) => answer,
            Err(Failure { error, .. }) => {
                self.log
                    .log(LogLevel::Error, TARGET, || error.message.to_string());
                return Err(error);
            }
        };
        if let Some(rotated) = &answer.refresh_token {
            self.keep_refresh_token(Secret::new(rotated.clone()));
        }
        let lifetime = answer
            .expires_in
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Duration::from_secs_f64(s.min(1e9)));
        let now = Instant::now();
        let mut header = HeaderValue::from_str(&format!("Bearer {}", answer.access_token))
            .map_err(|_| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!("POST {TOKEN_PATH}: the access token holds characters not allowed in a header"),
                )
            })?;
        header.set_sensitive(true);
        let token = Token {
            header: header.clone(),
            renew_at: lifetime.map(|l| now + l - renew_margin(l)),
            expires_at: lifetime.map(|l| SystemTime::now() + l),
            generation,
        };
        *self.current.lock().unwrap() = Some(Arc::new(token));
        let renewals = self.renewals.fetch_add(1, Ordering::Relaxed) + 1;
        let took = started.elapsed();
        let granted = answer.scope.unwrap_or_else(|| self.config.scope.clone());
        self.log.log(LogLevel::Info, TARGET, || {
            format!(
                "Obtained an OAuth access token ({}, scope `{granted}`) in {} ms; it expires in {}; {renewals} obtained so far.",
                self.config.grant.name(),
                took.as_millis(),
                lifetime.map_or_else(|| "no stated time".to_string(), human),
            )
        });
        Ok(Authorization { header, generation })
    }

    /// With the refresh grant, a saved refresh token that Zendesk refuses may be older than one the
    /// operator has just put into the config: that one is tried next.
    async fn request_with_saved_or_initial(&self) -> Result<TokenAnswer, Failure> {
        let first = self.request_token().await;
        let Grant::RefreshToken { initial, .. } = &self.config.grant else {
            return first;
        };
        match first {
            Err(e) if e.oauth_code == "invalid_grant" => {
                let live = self.refresh_token.lock().unwrap().clone();
                if live.as_ref() == Some(initial) {
                    return Err(e);
                }
                self.log.log(LogLevel::Warn, TARGET, || {
                    "Zendesk refused the saved refresh token; trying the one in `oauth.refresh_token`.".to_string()
                });
                *self.refresh_token.lock().unwrap() = Some(initial.clone());
                self.request_token().await
            }
            other => other,
        }
    }

    /// One token request, retried on connection errors, 429 and 5xx.
    async fn request_token(&self) -> Result<TokenAnswer, Failure> {
        let c = &self.config;
        let mut body = json!({
            "grant_type": c.grant.name(),
            "client_id": c.client_id,
            "client_secret": c.client_secret.expose(),
            "scope": c.scope,
        });
        if let Grant::RefreshToken { .. } = c.grant {
            let live = self.refresh_token.lock().unwrap().clone();
            body["refresh_token"] = json!(live.map(|s| s.expose().to_string()));
        }
        let bytes = serde_json::to_vec(&body).expect("a JSON object encodes");
        let mut attempt = 1;
        loop {
            let sent = self
                .http
                .post(&self.token_url)
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .timeout(self.timeout)
                .body(bytes.clone())
                .send()
                .await;
            let (status, text) = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    (status, response.bytes().await.map(|b| b.to_vec()))
                }
                Err(e) => (0, Err(e)),
            };
            let retryable = text.is_err() || matches!(status, 429 | 500..=599);
            if retryable && attempt < self.max_attempts {
                let wait = backoff(attempt);
                self.log.log(LogLevel::Warn, TARGET, || {
                    format!(
                        "POST {TOKEN_PATH}: {}; retrying in {} ms (attempt {}/{})",
                        match &text {
                            Err(e) => format!("request failed ({})", error_kind(e)),
                            Ok(_) => format!("HTTP {status}"),
                        },
                        wait.as_millis(),
                        attempt + 1,
                        self.max_attempts
                    )
                });
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            let body = match text {
                Ok(body) => body,
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Transport,
                        format!(
                            "POST {TOKEN_PATH}: cannot get an OAuth access token from Zendesk: {}",
                            error_kind(&e)
                        ),
                    )
                    .into())
                }
            };
            if (200..300).contains(&status) {
                return serde_json::from_slice::<TokenAnswer>(&body).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        format!("POST {TOKEN_PATH}: Zendesk's answer holds no `access_token`"),
                    )
                    .with_http_status(status)
                    .into()
                });
            }
            let refusal: TokenError = serde_json::from_slice(&body).unwrap_or_default();
            return Err(Failure {
                oauth_code: refusal.error.clone(),
                error: self.refusal_error(status, refusal),
            });
        }
    }

    /// A refusal of the token endpoint as an error that says what to fix, and where.
    fn refusal_error(&self, status: u16, refusal: TokenError) -> Error {
        let c = &self.config;
        let code = if refusal.error.is_empty() {
            format!("HTTP {status}")
        } else {
            refusal.error.clone()
        };
        let said = refusal
            .error_description
            .as_deref()
            .map(|d| format!(": {}", d.chars().take(300).collect::<String>()))
            .unwrap_or_default();
        let (kind, fix) = match refusal.error.as_str() {
            "invalid_client" => (
                ErrorKind::Auth,
                format!(
                    "Zendesk refused the OAuth client `{}`. Check `oauth.client_id` (the client's \
                     unique identifier) and `oauth.client_secret` in {ADMIN_CENTER}; the secret is \
                     shown only when the client is created or its secret is regenerated",
                    c.client_id
                ),
            ),
            "invalid_grant" => (
                ErrorKind::Auth,
                match &c.grant {
                    Grant::RefreshToken { file, .. } => format!(
                        "the refresh token was revoked, has expired (30 days unused) or was already \
                         used. Authorise otai again for client `{}` ({ADMIN_CENTER}) and put the new \
                         refresh token in `oauth.refresh_token` (it then replaces the one saved in {})",
                        c.client_id,
                        file.display()
                    ),
                    Grant::ClientCredentials => format!(
                        "Zendesk refused the client credentials grant for client `{}`",
                        c.client_id
                    ),
                },
            ),
            "invalid_scope" => (
                ErrorKind::Forbidden,
                format!(
                    "client `{}` may not ask for the scope `{}`. otai needs `read write` (or \
                     `tickets:read tickets:write` with read access to groups); set `oauth.scope` to \
                     what the client may ask for",
                    c.client_id, c.scope
                ),
            ),
            "unsupported_grant_type" | "unauthorized_client" => (
                ErrorKind::Auth,
                format!(
                    "Zendesk does not allow the `{}` grant for client `{}`. The client credentials \
                     grant needs a confidential OAuth client ({ADMIN_CENTER}: Client kind \
                     Confidential)",
                    c.grant.name(),
                    c.client_id
                ),
            ),
            _ => (
                if status == 401 {
                    ErrorKind::Auth
                } else {
                    ErrorKind::Validation
                },
                "Zendesk refused the token request".to_string(),
            ),
        };
        Error::new(
            kind,
            format!("POST {TOKEN_PATH} failed with HTTP {status} ({code}{said}): {fix}."),
        )
        .with_http_status(status)
    }

    /// Keeps a rotated refresh token: in memory, then in the file (the old one is dead already).
    fn keep_refresh_token(&self, rotated: Secret) {
        *self.refresh_token.lock().unwrap() = Some(rotated.clone());
        if let Grant::RefreshToken { file, .. } = &self.config.grant {
            if let Err(e) = save(file, &rotated) {
                // Still usable until otai restarts; after that the config's token may be dead.
                self.log.log(LogLevel::Error, TARGET, || {
                    format!(
                        "Cannot save the rotated OAuth refresh token to {}: {e}. It is kept in memory; \
                         if otai restarts before it is saved, authorise otai again.",
                        file.display()
                    )
                });
            }
        }
    }
}

/// How long before expiry to renew: a quarter of the lifetime, at most [`MAX_RENEW_MARGIN`].
fn renew_margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(MAX_RENEW_MARGIN)
}

/// The saved refresh token, if the file exists.
fn read_saved(file: &Path) -> Result<Option<Secret>, Error> {
    match std::fs::read_to_string(file) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(Secret::new(text.trim()))),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::new(
            ErrorKind::Config,
            format!(
                "`oauth.refresh_token_file`: cannot read {} ({})",
                file.display(),
                e.kind()
            ),
        )),
    }
}

/// Writes `token` to `file` atomically (a temporary file in the same folder, fsync, rename), readable by
/// the service user only.
fn save(file: &Path, token: &Secret) -> std::io::Result<()> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        create_private_dir(dir)?;
    }
    let tmp = file.with_extension("tmp");
    {
        let mut f = open_private(&tmp)?;
        f.write_all(token.expose().as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, file)?;
    if let Some(dir) = dir {
        // The rename is durable once the folder is synced.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "connection lost"
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{:.1} s", d.as_secs_f64()),
        120..=7199 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

fn utc(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs} s after 1970"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_margin_is_a_quarter_of_short_lifetimes_and_a_minute_at_most() {
        assert_eq!(
            renew_margin(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        assert_eq!(renew_margin(Duration::from_secs(1800)), MAX_RENEW_MARGIN);
    }

    #[test]
    fn a_saved_refresh_token_is_private_and_replaced_atomically() {
        let dir = tempfile_dir();
        let file = dir.join("sub/zendesk.refresh-token");
        save(&file, &Secret::new("first")).unwrap();
        save(&file, &Secret::new("second")).unwrap();
        assert_eq!(read_saved(&file).unwrap().unwrap().expose(), "second");
        assert!(!file.with_extension("tmp").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(file.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o077, 0, "the folder is the user's only");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_saved_file_is_no_token() {
        assert!(read_saved(Path::new("/nonexistent/otai/token"))
            .unwrap()
            .is_none());
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "otai-oauth-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
