//! OAuth 2.0 as Zendesk's token endpoint does it (`POST /oauth/tokens`, RFC 6749): confidential
//! clients configured on the builder ([`crate::SimBuilder::oauth_client`]), the
//! `client_credentials` and `refresh_token` grants, and expiring access tokens that every API
//! route accepts as `Authorization: Bearer` until they expire.
//!
//! - Lifetimes: access tokens 30 minutes and refresh tokens 30 days by default (Zendesk's
//!   defaults for new global clients with expiring tokens). A request's `expires_in` /
//!   `refresh_token_expires_in` (seconds) can shorten them, never lengthen them. Zendesk bounds
//!   these values; the simulator only asks for a positive number, so a test can ask for 1 s.
//! - A token expires exactly at issue time + lifetime, on the monotonic clock ([`Instant`]);
//!   `expires_in` in the answer is the lifetime in whole seconds, rounded up.
//! - `client_credentials` answers without a refresh token (RFC 6749 4.4.3).
//! - `refresh_token` rotates: the answer carries a new access token and a new refresh token, and
//!   the refresh token presented and the access token issued with it stop working (Zendesk: a
//!   refresh invalidates the old pair). The scope may be narrowed, not widened (RFC 6749 6).
//! - `authorization_code`: the simulator has no authorization page, so it never issued a code and
//!   every code is `invalid_grant`. An admin's completed authorization-code flow is simulated by
//!   refresh tokens that are live from the start ([`OAuthClient::with_refresh_token`]) or minted
//!   later ([`crate::SimHandle::grant_refresh_token`]). Other grant types (`password`, ...) are
//!   `unsupported_grant_type`: Zendesk stopped accepting the password and implicit grants.
//! - Scopes: `read`, `write`, `impersonate` and `<resource>:read` / `<resource>:write`. A client
//!   is granted only scopes it is allowed ([`OAuthClient::scopes`], default `read write`), where
//!   an allowed `read` / `write` covers every `<resource>:read` / `<resource>:write`. A token
//!   whose scope has neither `write` nor `tickets:write` is read-only: writes answer 403.
//!   Reads are not checked per resource (any live token may read every route the simulator
//!   serves), a simplification.
//! - Errors have RFC 6749 5.2's shape `{"error", "error_description"}`: `invalid_request`
//!   (400, a missing or malformed parameter), `invalid_client` (401: no client authentication,
//!   unknown client or wrong secret), `invalid_grant` (400: unknown, used, revoked, expired or
//!   another client's refresh token), `invalid_scope` (400), `unsupported_grant_type` (400).
//! - Token requests are outside the API rate limit; [`OAuthStats`] and [`TokenRequest`] record
//!   them. Client secrets are never recorded or logged.

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;

/// Default access-token lifetime: 30 minutes (new Zendesk global clients).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Default refresh-token lifetime: 30 days.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The token endpoint's path (Zendesk serves it outside `/api/v2`).
pub const TOKEN_PATH: &str = "/oauth/tokens";

/// A confidential OAuth client (Zendesk: Admin Center > Apps and integrations > OAuth clients).
#[derive(Clone, PartialEq)]
pub struct OAuthClient {
    /// `client_id` (Zendesk calls it the client's unique identifier).
    pub id: String,
    /// `client_secret`.
    pub secret: String,
    /// Scopes the client may be granted (default `read`, `write`).
    pub scopes: Vec<String>,
    /// Refresh tokens live from the start, with all of [`scopes`](Self::scopes), as if an admin
    /// had completed the authorization-code flow.
    pub refresh_tokens: Vec<String>,
}

// By hand, so that the secret never ends up in a log or a panic message.
impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("refresh_tokens", &self.refresh_tokens.len())
            .finish()
    }
}

impl OAuthClient {
    /// A client allowed `read` and `write`, without refresh tokens.
    pub fn new(id: &str, secret: &str) -> Self {
        OAuthClient {
            id: id.into(),
            secret: secret.into(),
            scopes: vec!["read".into(), "write".into()],
            refresh_tokens: Vec::new(),
        }
    }

    /// Replaces the scopes the client may be granted.
    pub fn with_scopes<S: AsRef<str>>(mut self, scopes: &[S]) -> Self {
        self.scopes = scopes.iter().map(|s| s.as_ref().to_string()).collect();
        self
    }

    /// Adds a refresh token that is live from the start (see [`refresh_tokens`](Self::refresh_tokens)).
    pub fn with_refresh_token(mut self, token: &str) -> Self {
        self.refresh_tokens.push(token.into());
        self
    }
}

/// Counters of the token endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OAuthStats {
    /// Requests to `POST /oauth/tokens` (faulted ones included).
    pub token_requests: u64,
    /// Requests by `grant_type` as sent (`""` when it was missing).
    pub requests_by_grant: BTreeMap<String, u64>,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Access tokens issued, by grant type.
    pub issued_by_grant: BTreeMap<String, u64>,
    /// Refused token requests, by RFC 6749 error code (`invalid_grant`, ...).
    pub errors: BTreeMap<String, u64>,
    /// Token requests a fault answered, broke or dropped.
    pub faulted: u64,
    /// API requests refused 401 because their access token had expired or been invalidated.
    pub rejected_access_tokens: u64,
}

/// One token request, as recorded (never with the client secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRequest {
    /// `grant_type` as sent.
    pub grant_type: Option<String>,
    /// `client_id` as sent (body or HTTP Basic).
    pub client_id: Option<String>,
    /// `scope` as sent.
    pub scope: Option<String>,
    /// The refresh token presented, for a test that checks a client uses the rotated one.
    pub refresh_token: Option<String>,
    /// The status answered; `None` when a fault dropped the connection.
    pub status: Option<u16>,
    /// The RFC 6749 error code of a refusal.
    pub error: Option<String>,
    /// A fault answered, broke or dropped the request.
    pub faulted: bool,
}

/// The parameters of a token request, from a JSON or form body (and HTTP Basic for the client).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TokenParams {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    pub code: Option<String>,
    pub expires_in: Option<String>,
    pub refresh_token_expires_in: Option<String>,
}

impl TokenParams {
    /// What the record keeps of these parameters (no secret).
    pub fn record(&self) -> TokenRequest {
        TokenRequest {
            grant_type: self.grant_type.clone(),
            client_id: self.client_id.clone(),
            scope: self.scope.clone(),
            refresh_token: self.refresh_token.clone(),
            status: None,
            error: None,
            faulted: false,
        }
    }
}

/// The OAuth part of the builder's configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OAuthConfig {
    pub clients: Vec<OAuthClient>,
    pub access_lifetime: Duration,
    pub refresh_lifetime: Duration,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            clients: Vec::new(),
            access_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            refresh_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
        }
    }
}

#[derive(Debug, Clone)]
struct AccessToken {
    scope: Vec<String>,
    expires_at: Instant,
    /// Invalidated by a refresh of its pair.
    revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    Live,
    /// Used once: a refresh replaced it.
    Rotated,
    /// An admin revoked it.
    Revoked,
}

#[derive(Debug, Clone)]
struct RefreshToken {
    client_id: String,
    scope: Vec<String>,
    expires_at: Instant,
    state: RefreshState,
    /// The access token issued with it, invalidated when it is used.
    access: Option<String>,
}

/// Clients, issued tokens, counters and the record of token requests.
#[derive(Debug)]
pub(crate) struct OAuthState {
    config: OAuthConfig,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    rng: fastrand::Rng,
    pub stats: OAuthStats,
    pub requests: Vec<TokenRequest>,
}

impl OAuthState {
    /// The configured clients with their initial refresh tokens live from `now`.
    pub fn new(config: OAuthConfig, now: Instant) -> Self {
        let mut s = OAuthState {
            config,
            access: HashMap::new(),
            refresh: HashMap::new(),
            rng: fastrand::Rng::new(),
            stats: OAuthStats::default(),
            requests: Vec::new(),
        };
        let initial: Vec<(String, Vec<String>, String)> = s
            .config
            .clients
            .iter()
            .flat_map(|c| {
                c.refresh_tokens
                    .iter()
                    .map(|t| (c.id.clone(), c.scopes.clone(), t.clone()))
            })
            .collect();
        let lifetime = s.config.refresh_lifetime;
        for (client_id, scope, token) in initial {
            s.add_refresh(token, client_id, scope, now + lifetime, None);
        }
        s
    }

    /// Back to the state at start: only the initial refresh tokens, counters at zero.
    pub fn reset(&mut self, now: Instant) {
        *self = OAuthState::new(self.config.clone(), now);
    }

    fn client(&self, id: &str) -> Option<&OAuthClient> {
        self.config.clients.iter().find(|c| c.id == id)
    }

    /// Counts and keeps one token request.
    pub fn record(&mut self, r: TokenRequest) {
        let s = &mut self.stats;
        s.token_requests += 1;
        let grant = r.grant_type.clone().unwrap_or_default();
        *s.requests_by_grant.entry(grant).or_default() += 1;
        if let Some(e) = &r.error {
            *s.errors.entry(e.clone()).or_default() += 1;
        }
        if r.faulted {
            s.faulted += 1;
        }
        self.requests.push(r);
    }

    /// Answers a token request: the token response's JSON, or an RFC 6749 error.
    pub fn token(&mut self, p: &TokenParams, now: Instant) -> Result<Value, ApiError> {
        let grant = p
            .grant_type
            .as_deref()
            .ok_or_else(|| missing("grant_type"))?;
        if !matches!(
            grant,
            "client_credentials" | "refresh_token" | "authorization_code"
        ) {
            return Err(ApiError::oauth(
                400,
                "unsupported_grant_type",
                format!("The authorization grant type {grant:?} is not supported."),
            ));
        }
        let client = self.authenticate_client(p)?.clone();
        match grant {
            "client_credentials" => self.client_credentials(&client, p, now),
            "refresh_token" => self.refresh_grant(&client, p, now),
            _ => {
                p.code.as_deref().ok_or_else(|| missing("code"))?;
                // No authorization page, so no code was ever issued.
                Err(invalid_grant(
                    "The authorization code is invalid or expired.",
                ))
            }
        }
    }

    fn authenticate_client(&self, p: &TokenParams) -> Result<&OAuthClient, ApiError> {
        let (Some(id), Some(secret)) = (p.client_id.as_deref(), p.client_secret.as_deref()) else {
            // RFC 6749 5.2: no client authentication included is `invalid_client`.
            return Err(invalid_client());
        };
        self.client(id)
            .filter(|c| c.secret == secret)
            .ok_or_else(invalid_client)
    }

    fn client_credentials(
        &mut self,
        client: &OAuthClient,
        p: &TokenParams,
        now: Instant,
    ) -> Result<Value, ApiError> {
        let requested = p
            .scope
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| missing("scope"))?;
        let scope = parse_scope(requested)?;
        check_covered(&scope, &client.scopes)?;
        let lifetime = lifetime(
            self.config.access_lifetime,
            p.expires_in.as_deref(),
            "expires_in",
        )?;
        let token = self.issue_access(scope.clone(), now + lifetime);
        self.count_issued("client_credentials");
        Ok(json!({
            "access_token": token,
            "token_type": "bearer",
            "scope": scope.join(" "),
            "expires_in": whole_secs(lifetime),
        }))
    }

    fn refresh_grant(
        &mut self,
        client: &OAuthClient,
        p: &TokenParams,
        now: Instant,
    ) -> Result<Value, ApiError> {
        let presented = p
            .refresh_token
            .as_deref()
            .ok_or_else(|| missing("refresh_token"))?;
        let old = self
            .refresh
            .get(presented)
            .filter(|r| r.client_id == client.id)
            .ok_or_else(|| invalid_grant("The refresh token is invalid."))?;
        match old.state {
            RefreshState::Rotated => {
                return Err(invalid_grant(
                    "The refresh token has already been used; a refresh replaces it.",
                ))
            }
            RefreshState::Revoked => return Err(invalid_grant("The refresh token was revoked.")),
            RefreshState::Live if now >= old.expires_at => {
                return Err(invalid_grant("The refresh token has expired."))
            }
            RefreshState::Live => {}
        }
        // RFC 6749 6: no scope means the scope granted before; a narrower one may be asked for.
        let scope = match p.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => {
                let scope = parse_scope(s)?;
                check_covered(&scope, &old.scope)?;
                scope
            }
            None => old.scope.clone(),
        };
        let access_lifetime = lifetime(
            self.config.access_lifetime,
            p.expires_in.as_deref(),
            "expires_in",
        )?;
        let refresh_lifetime = lifetime(
            self.config.refresh_lifetime,
            p.refresh_token_expires_in.as_deref(),
            "refresh_token_expires_in",
        )?;
        // Every check passed: only now retire the old pair.
        let old_access = old.access.clone();
        if let Some(old) = self.refresh.get_mut(presented) {
            old.state = RefreshState::Rotated;
        }
        if let Some(a) = old_access.and_then(|t| self.access.get_mut(&t)) {
            a.revoked = true;
        }
        let access = self.issue_access(scope.clone(), now + access_lifetime);
        let refresh = self.new_token();
        self.add_refresh(
            refresh.clone(),
            client.id.clone(),
            scope.clone(),
            now + refresh_lifetime,
            Some(access.clone()),
        );
        self.count_issued("refresh_token");
        Ok(json!({
            "access_token": access,
            "token_type": "bearer",
            "scope": scope.join(" "),
            "expires_in": whole_secs(access_lifetime),
            "refresh_token": refresh,
            "refresh_token_expires_in": whole_secs(refresh_lifetime),
        }))
    }

    fn count_issued(&mut self, grant: &str) {
        self.stats.tokens_issued += 1;
        *self
            .stats
            .issued_by_grant
            .entry(grant.to_string())
            .or_default() += 1;
    }

    /// 64 hex characters, as Zendesk's tokens look.
    fn new_token(&mut self) -> String {
        (0..4)
            .map(|_| format!("{:016x}", self.rng.u64(..)))
            .collect()
    }

    fn issue_access(&mut self, scope: Vec<String>, expires_at: Instant) -> String {
        let token = self.new_token();
        self.access.insert(
            token.clone(),
            AccessToken {
                scope,
                expires_at,
                revoked: false,
            },
        );
        token
    }

    fn add_refresh(
        &mut self,
        token: String,
        client_id: String,
        scope: Vec<String>,
        expires_at: Instant,
        access: Option<String>,
    ) {
        self.refresh.insert(
            token,
            RefreshToken {
                client_id,
                scope,
                expires_at,
                state: RefreshState::Live,
                access,
            },
        );
    }

    /// Mints a live refresh token for a client, as an admin's authorization-code flow would;
    /// `scope` `None` means all the client may have.
    pub fn grant_refresh(
        &mut self,
        client_id: &str,
        scope: Option<&str>,
        now: Instant,
    ) -> Result<String, ApiError> {
        let client = self.client(client_id).ok_or_else(invalid_client)?;
        let scope = match scope {
            Some(s) => {
                let scope = parse_scope(s)?;
                check_covered(&scope, &client.scopes)?;
                scope
            }
            None => client.scopes.clone(),
        };
        let token = self.new_token();
        let expires_at = now + self.config.refresh_lifetime;
        self.add_refresh(token.clone(), client_id.into(), scope, expires_at, None);
        Ok(token)
    }

    /// An API request's bearer token: `None` if the token endpoint never issued it, else whether
    /// it is read-only, or 401 `invalid_token` if it expired or was invalidated.
    pub fn check_access(&mut self, token: &str, now: Instant) -> Option<Result<bool, ApiError>> {
        let a = self.access.get(token)?;
        if a.revoked || now >= a.expires_at {
            self.stats.rejected_access_tokens += 1;
            return Some(Err(ApiError::invalid_token()));
        }
        Some(Ok(!can_write(&a.scope)))
    }

    /// Revokes every live refresh token of a client; how many.
    pub fn revoke_refresh(&mut self, client_id: &str) -> usize {
        let mut n = 0;
        for r in self.refresh.values_mut() {
            if r.client_id == client_id && r.state == RefreshState::Live {
                r.state = RefreshState::Revoked;
                n += 1;
            }
        }
        n
    }

    /// Every access token still live expires at `now`; how many.
    pub fn expire_access(&mut self, now: Instant) -> usize {
        let mut n = 0;
        for a in self.access.values_mut() {
            if !a.revoked && now < a.expires_at {
                a.expires_at = now;
                n += 1;
            }
        }
        n
    }
}

/// Scope words the simulator knows: `read`, `write`, `impersonate`, `<resource>:read|write`.
fn valid_scope_word(w: &str) -> bool {
    if matches!(w, "read" | "write" | "impersonate") {
        return true;
    }
    w.split_once(':').is_some_and(|(resource, access)| {
        !resource.is_empty()
            && resource
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_')
            && matches!(access, "read" | "write")
    })
}

/// A space-separated scope as its words, duplicates dropped.
fn parse_scope(s: &str) -> Result<Vec<String>, ApiError> {
    let mut words: Vec<String> = Vec::new();
    for w in s.split_whitespace() {
        if !valid_scope_word(w) {
            return Err(invalid_scope(format!("The scope {w:?} is unknown.")));
        }
        if !words.iter().any(|x| x == w) {
            words.push(w.to_string());
        }
    }
    if words.is_empty() {
        return Err(missing("scope"));
    }
    Ok(words)
}

/// Whether `granted` covers `word`: listed, or `read`/`write` covering `<resource>:read|write`.
fn covers(granted: &[String], word: &str) -> bool {
    granted.iter().any(|g| g == word)
        || word
            .split_once(':')
            .is_some_and(|(_, access)| granted.iter().any(|g| g == access))
}

fn check_covered(wanted: &[String], granted: &[String]) -> Result<(), ApiError> {
    match wanted.iter().find(|w| !covers(granted, w)) {
        Some(w) => Err(invalid_scope(format!(
            "The scope {w:?} exceeds the scope granted to the client."
        ))),
        None => Ok(()),
    }
}

/// Ticket writes need `write` or `tickets:write` (every write the simulator serves is one).
fn can_write(scope: &[String]) -> bool {
    scope.iter().any(|w| w == "write" || w == "tickets:write")
}

/// The configured lifetime, shortened by a requested number of seconds.
fn lifetime(
    configured: Duration,
    requested: Option<&str>,
    name: &str,
) -> Result<Duration, ApiError> {
    let Some(s) = requested else {
        return Ok(configured);
    };
    match s.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(configured.min(Duration::from_secs(secs))),
        _ => Err(ApiError::oauth(
            400,
            "invalid_request",
            format!("{name} must be a positive number of seconds."),
        )),
    }
}

/// Whole seconds, rounded up, so that a sub-second lifetime does not read as 0.
fn whole_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn missing(param: &str) -> ApiError {
    ApiError::oauth(
        400,
        "invalid_request",
        format!("The request is missing a required parameter: {param}."),
    )
}

fn invalid_client() -> ApiError {
    ApiError::oauth(
        401,
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    )
}

fn invalid_grant(description: &str) -> ApiError {
    ApiError::oauth(400, "invalid_grant", description)
}

fn invalid_scope(description: String) -> ApiError {
    ApiError::oauth(400, "invalid_scope", description)
}

/// Token parameters from a JSON object: strings, or numbers for the lifetimes.
pub(crate) fn params_from_json(body: &Map<String, Value>) -> Result<TokenParams, ApiError> {
    let field = |name: &str| -> Result<Option<String>, ApiError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if name.ends_with("expires_in") => Ok(Some(n.to_string())),
            Some(_) => Err(ApiError::oauth(
                400,
                "invalid_request",
                format!("{name} must be a string."),
            )),
        }
    };
    Ok(TokenParams {
        grant_type: field("grant_type")?,
        client_id: field("client_id")?,
        client_secret: field("client_secret")?,
        scope: field("scope")?,
        refresh_token: field("refresh_token")?,
        code: field("code")?,
        expires_in: field("expires_in")?,
        refresh_token_expires_in: field("refresh_token_expires_in")?,
    })
}

/// Token parameters from an `application/x-www-form-urlencoded` body.
pub(crate) fn params_from_form(body: &[u8]) -> Result<TokenParams, ApiError> {
    let mut p = TokenParams::default();
    for (k, v) in url::form_urlencoded::parse(body) {
        let slot = match k.as_ref() {
            "grant_type" => &mut p.grant_type,
            "client_id" => &mut p.client_id,
            "client_secret" => &mut p.client_secret,
            "scope" => &mut p.scope,
            "refresh_token" => &mut p.refresh_token,
            "code" => &mut p.code,
            "expires_in" => &mut p.expires_in,
            "refresh_token_expires_in" => &mut p.refresh_token_expires_in,
            _ => continue,
        };
        // RFC 6749 3.2: parameters must not be included more than once.
        if slot.replace(v.into_owned()).is_some() {
            return Err(ApiError::oauth(
                400,
                "invalid_request",
                format!("The parameter {k} is repeated."),
            ));
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(access: Duration) -> (OAuthState, Instant) {
        let now = Instant::now();
        let config = OAuthConfig {
            clients: vec![
                OAuthClient::new("otai", "s3cret").with_refresh_token("rt0"),
                OAuthClient::new("reader", "r").with_scopes(&["read"]),
            ],
            access_lifetime: access,
            ..OAuthConfig::default()
        };
        (OAuthState::new(config, now), now)
    }

    fn params(grant: &str, client: &str, secret: &str) -> TokenParams {
        TokenParams {
            grant_type: Some(grant.into()),
            client_id: Some(client.into()),
            client_secret: Some(secret.into()),
            ..TokenParams::default()
        }
    }

    fn code(e: ApiError) -> (u16, String) {
        (e.status, e.body["error"].as_str().unwrap_or("").to_string())
    }

    #[test]
    fn scopes_parse_and_broad_scopes_cover_resource_scopes() {
        assert_eq!(parse_scope(" read  write read").unwrap(), ["read", "write"]);
        assert_eq!(code(parse_scope("admin").unwrap_err()).1, "invalid_scope");
        assert_eq!(
            code(parse_scope("tickets:delete").unwrap_err()).1,
            "invalid_scope"
        );
        assert_eq!(code(parse_scope("  ").unwrap_err()).1, "invalid_request");
        let rw = vec!["read".to_string(), "write".to_string()];
        assert!(covers(&rw, "tickets:write") && covers(&rw, "read"));
        let tr = vec!["tickets:read".to_string()];
        assert!(!covers(&tr, "read") && !covers(&tr, "tickets:write"));
        assert!(can_write(&["tickets:write".into()]) && !can_write(&["users:write".into()]));
    }

    #[test]
    fn access_token_expires_exactly_at_issue_plus_lifetime() {
        let (mut s, now) = state(Duration::from_secs(2));
        let mut p = params("client_credentials", "otai", "s3cret");
        p.scope = Some("read".into());
        let v = s.token(&p, now).unwrap();
        assert_eq!(v["expires_in"], 2);
        assert!(v.get("refresh_token").is_none());
        let t = v["access_token"].as_str().unwrap();
        assert_eq!(t.len(), 64);
        let edge = now + Duration::from_secs(2);
        assert_eq!(
            s.check_access(t, edge - Duration::from_nanos(1)),
            Some(Ok(true)),
            "read scope: read-only"
        );
        assert_eq!(
            code(s.check_access(t, edge).unwrap().unwrap_err()),
            (401, "invalid_token".into())
        );
        assert_eq!(s.stats.rejected_access_tokens, 1);
        assert_eq!(s.check_access("never-issued", now), None);
    }

    #[test]
    fn refresh_rotates_and_retires_the_old_pair_only_after_checks() {
        let (mut s, now) = state(DEFAULT_ACCESS_TOKEN_LIFETIME);
        let mut p = params("refresh_token", "otai", "s3cret");
        p.refresh_token = Some("rt0".into());
        // A failed check (bad expires_in) leaves the refresh token live.
        p.expires_in = Some("0".into());
        assert_eq!(code(s.token(&p, now).unwrap_err()).1, "invalid_request");
        p.expires_in = None;
        let first = s.token(&p, now).unwrap();
        assert_eq!(first["scope"], "read write");
        assert_eq!(first["refresh_token_expires_in"], 30 * 24 * 3600);
        assert_eq!(
            code(s.token(&p, now).unwrap_err()),
            (400, "invalid_grant".into())
        );
        let a1 = first["access_token"].as_str().unwrap().to_string();
        p.refresh_token = first["refresh_token"].as_str().map(str::to_string);
        p.scope = Some("tickets:read".into());
        let second = s.token(&p, now).unwrap();
        assert_eq!(second["scope"], "tickets:read");
        assert!(
            s.check_access(&a1, now).unwrap().is_err(),
            "old access token invalidated"
        );
        let a2 = second["access_token"].as_str().unwrap();
        assert_eq!(s.check_access(a2, now), Some(Ok(true)));
        // Widening past the earlier grant is refused.
        p.refresh_token = second["refresh_token"].as_str().map(str::to_string);
        p.scope = Some("read".into());
        assert_eq!(code(s.token(&p, now).unwrap_err()).1, "invalid_scope");
        assert_eq!(s.stats.issued_by_grant["refresh_token"], 2);
    }

    #[test]
    fn refresh_tokens_expire_revoke_and_belong_to_their_client() {
        let (mut s, now) = state(DEFAULT_ACCESS_TOKEN_LIFETIME);
        let mut p = params("refresh_token", "reader", "r");
        p.refresh_token = Some("rt0".into());
        assert_eq!(
            code(s.token(&p, now).unwrap_err()).1,
            "invalid_grant",
            "another client's"
        );
        let mut p = params("refresh_token", "otai", "s3cret");
        p.refresh_token = Some("rt0".into());
        let later = now + DEFAULT_REFRESH_TOKEN_LIFETIME;
        assert_eq!(
            code(s.token(&p, later).unwrap_err()).1,
            "invalid_grant",
            "expired"
        );
        let minted = s.grant_refresh("otai", Some("read"), now).unwrap();
        assert_eq!(s.revoke_refresh("otai"), 2);
        p.refresh_token = Some(minted);
        assert_eq!(
            code(s.token(&p, now).unwrap_err()).1,
            "invalid_grant",
            "revoked"
        );
        assert_eq!(
            code(s.grant_refresh("nobody", None, now).unwrap_err()).1,
            "invalid_client"
        );
        assert_eq!(
            code(s.grant_refresh("reader", Some("write"), now).unwrap_err()).1,
            "invalid_scope"
        );
    }

    #[test]
    fn grant_types_and_client_authentication() {
        let (mut s, now) = state(DEFAULT_ACCESS_TOKEN_LIFETIME);
        let p = params("password", "nobody", "x");
        assert_eq!(
            code(s.token(&p, now).unwrap_err()),
            (400, "unsupported_grant_type".into())
        );
        let mut p = params("client_credentials", "otai", "wrong");
        p.scope = Some("read".into());
        assert_eq!(
            code(s.token(&p, now).unwrap_err()),
            (401, "invalid_client".into())
        );
        p.client_secret = None;
        assert_eq!(code(s.token(&p, now).unwrap_err()).1, "invalid_client");
        let mut p = params("authorization_code", "otai", "s3cret");
        assert_eq!(code(s.token(&p, now).unwrap_err()).1, "invalid_request");
        p.code = Some("c".into());
        assert_eq!(code(s.token(&p, now).unwrap_err()).1, "invalid_grant");
        assert_eq!(
            code(s.token(&TokenParams::default(), now).unwrap_err()).1,
            "invalid_request"
        );
    }

    #[test]
    fn expire_access_ends_live_tokens_now() {
        let (mut s, now) = state(DEFAULT_ACCESS_TOKEN_LIFETIME);
        let mut p = params("client_credentials", "otai", "s3cret");
        p.scope = Some("read write".into());
        let v = s.token(&p, now).unwrap();
        let t = v["access_token"].as_str().unwrap();
        assert_eq!(s.check_access(t, now), Some(Ok(false)));
        assert_eq!(s.expire_access(now), 1);
        assert!(s.check_access(t, now).unwrap().is_err());
        assert_eq!(s.expire_access(now), 0);
    }

    #[test]
    fn form_bodies_decode_and_refuse_repeats() {
        let p = params_from_form(b"grant_type=client_credentials&scope=read+write&expires_in=5")
            .unwrap();
        assert_eq!(p.scope.as_deref(), Some("read write"));
        assert_eq!(p.expires_in.as_deref(), Some("5"));
        assert_eq!(
            code(params_from_form(b"scope=read&scope=write").unwrap_err()).1,
            "invalid_request"
        );
        let j = json!({"grant_type": "refresh_token", "expires_in": 60});
        let p = params_from_json(j.as_object().unwrap()).unwrap();
        assert_eq!(p.expires_in.as_deref(), Some("60"));
        let bad = json!({"scope": ["read"]});
        assert!(params_from_json(bad.as_object().unwrap()).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = OAuthClient::new("otai", "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
