//! The service's params: parsed from the JSON object the host passes, validated into [`Config`].
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `domain` | string | - | `acme` or `acme.zendesk.com`; the API is then `https://acme.zendesk.com` |
//! | `base_url` | string | - | full base URL instead of `domain`, e.g. `http://127.0.0.1:8080` (a mock or proxy) |
//! | `email` | string | - | agent e-mail for API-token auth (with `api_token`) |
//! | `oauth` | object | - | OAuth client (recommended): `client_id`, `client_secret`, `scope` (default `read write`), `grant` (`client_credentials`, the default, or `refresh_token` with `refresh_token` and optionally `refresh_token_file`); tokens are obtained and renewed by [`crate::oauth`] |
//! | `api_token` | string | - | Zendesk API token (with `email`; legacy: no new tokens since 2026-10-27, all stop working on 2027-04-30) |
//! | `oauth_token` | string | - | a fixed OAuth access token, sent as `Authorization: Bearer` (never renewed: stops working when it expires) |
//! | `timeout` | number (s) | 30 | per-request timeout, fractions allowed |
//! | `verify` | bool, string or object | `true` | `true` = system roots; `false` = no TLS verification (warned about loudly; test setups only); a path, or `{ca: PATH}` = a PEM CA bundle added to the system roots; `{ca: PATH, only: true}` = trust that CA bundle only |
//! | `allow_insecure_http` | bool | `false` | allow `base_url: http://...` to a host other than this machine (credentials and tickets then travel in clear) |
//! | `max_attempts` | integer | 4 | attempts per request, including the first (1 = never retry) |
//! | `max_retry_wait` | number (s) | 60 | longest `Retry-After` we wait for; a longer one fails with `rate_limited` |
//! | `job_timeout` | number (s) | 90 | how long a batch write (`update_many` job) is polled before its tickets are reported as `timeout` (unknown whether applied); keep it below the host's `call_timeout` (default 120 s per 100 tickets), or the host abandons the call first |
//! | `export_min_interval` | number (s) | 6 | least time between two pages of the incremental ticket export (`export_tickets`, used by `otai train --system`); Zendesk allows 10 export requests a minute |
//! | `max_response_bytes` | integer | 134217728 (128 MiB) | the largest answer to a read that is accepted; a larger one is an error naming the URL path, never read on into memory |
//! | `export_page_size` | integer | 1000 | tickets per export page (Zendesk's maximum and default; smaller only for tests) |
//!
//! Exactly one of `domain` / `base_url` (two places to say where Zendesk is would let one silently
//! win over the other), and exactly one auth method: `oauth`, `email` + `api_token`, or `oauth_token`.
//! `oauth.refresh_token_file` defaults to `.otai/oauth/zendesk-<host>-<client_id>.refresh-token` in the
//! working directory.
//!
//! Error messages name the offending key and never its value: values may be secrets.

use std::{path::PathBuf, time::Duration};

use otai_plugin_api::{ErrorKind, PluginError};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    oauth::{Grant, OAuthConfig, DEFAULT_SCOPE},
    secret::Secret,
};

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of attempts per request (first try included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// Default longest `Retry-After` the client is willing to wait for.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
/// Default time a batch job may take, from its submission to a finished job status. Below the
/// host's default `call_timeout` (120 s per started 100 tickets, one job's worth), so that with
/// both defaults the plugin reports a slow job's tickets itself before the host abandons the call.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(90);
/// Default cap on the answer to a read: far above a page of 1,000 exported tickets, far below what
/// would hurt the host.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 128 * 1024 * 1024;
/// Default least time between two incremental-export pages: Zendesk allows 10 a minute.
pub const DEFAULT_EXPORT_MIN_INTERVAL: Duration = Duration::from_secs(6);

const KNOWN_KEYS: &[&str] = &[
    "domain",
    "base_url",
    "email",
    "api_token",
    "oauth_token",
    "oauth",
    "allow_insecure_http",
    "timeout",
    "verify",
    "max_attempts",
    "max_retry_wait",
    "job_timeout",
    "export_min_interval",
    "export_page_size",
    "max_response_bytes",
];

/// The raw params as they arrive. Every value is kept as JSON so that a wrong type is reported by
/// our own code (naming the key) rather than by serde (whose messages can quote the value).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    domain: Option<Value>,
    base_url: Option<Value>,
    email: Option<Value>,
    api_token: Option<Value>,
    oauth_token: Option<Value>,
    oauth: Option<Value>,
    allow_insecure_http: Option<Value>,
    timeout: Option<Value>,
    verify: Option<Value>,
    max_attempts: Option<Value>,
    max_retry_wait: Option<Value>,
    job_timeout: Option<Value>,
    export_min_interval: Option<Value>,
    export_page_size: Option<Value>,
    max_response_bytes: Option<Value>,
}

/// How requests authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Zendesk API token: HTTP Basic with `{email}/token` and the token.
    ApiToken {
        /// The agent's e-mail address.
        email: String,
        /// The API token.
        token: Secret,
    },
    /// A fixed OAuth access token: `Authorization: Bearer`, never renewed.
    OAuth {
        /// The access token.
        token: Secret,
    },
    /// An OAuth client: access tokens obtained and renewed by [`crate::oauth::TokenManager`].
    OAuthClient(OAuthConfig),
}

impl Auth {
    /// A short, secret-free description for messages: `api_token (support@acme.com)` or `oauth_token`.
    pub fn describe(&self) -> String {
        match self {
            Auth::ApiToken { email, .. } => format!("api_token ({email})"),
            Auth::OAuth { .. } => "oauth_token".to_string(),
            Auth::OAuthClient(c) => format!("oauth (client `{}`)", c.client_id),
        }
    }
}

/// How the server's TLS certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verify {
    /// The platform's trust store (the default).
    System,
    /// No verification at all (`verify: false`); only for test setups.
    Disabled,
    /// The platform's trust store plus the CAs in this PEM bundle.
    CaBundle(PathBuf),
    /// Only the CAs in this PEM bundle (`verify: {ca: ..., only: true}`): a private CA, nothing else.
    CaOnly(PathBuf),
}

/// Validated params of one Zendesk service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Scheme, host, port and optional path prefix, without a trailing `/` and without `/api/v2`,
    /// e.g. `https://acme.zendesk.com`.
    pub base_url: String,
    /// The credentials.
    pub auth: Auth,
    /// Per-request timeout.
    pub timeout: Duration,
    /// TLS verification.
    pub verify: Verify,
    /// Attempts per request, first try included (at least 1).
    pub max_attempts: u32,
    /// Longest `Retry-After` to wait for before giving up with `rate_limited`.
    pub max_retry_wait: Duration,
    /// How long a batch job is polled, from its submission, before its tickets are reported as
    /// timed out (unknown whether applied).
    pub job_timeout: Duration,
    /// Least time between two incremental-export requests (the endpoint allows 10 a minute).
    pub export_min_interval: Duration,
    /// Tickets per export page (`per_page`, at most 1000).
    pub export_page_size: u32,
    /// The largest answer to a GET that is read; a larger one is an error.
    pub max_response_bytes: u64,
}

impl Config {
    /// A config for `base_url` and `auth` with every other setting at its default.
    pub fn new(base_url: impl Into<String>, auth: Auth) -> Self {
        Config {
            base_url: base_url.into(),
            auth,
            timeout: DEFAULT_TIMEOUT,
            verify: Verify::System,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
            job_timeout: DEFAULT_JOB_TIMEOUT,
            export_min_interval: DEFAULT_EXPORT_MIN_INTERVAL,
            export_page_size: crate::export::PER_PAGE,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Parses and validates the params JSON object the host passes to `new_ticket_system`.
    pub fn from_json(params_json: &str) -> Result<Config, PluginError> {
        let value: Value = serde_json::from_str(params_json).map_err(|e| {
            // serde_json's syntax errors carry only a position, never the text around it.
            config_error(format!(
                "params are not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Self::from_value(value)
    }

    /// Validates params already parsed as JSON.
    pub fn from_value(value: Value) -> Result<Config, PluginError> {
        let Value::Object(map) = value else {
            return Err(config_error(
                "params must be a JSON object of key: value pairs",
            ));
        };
        check_unknown_keys(&map)?;
        let raw: RawParams = serde_json::from_value(Value::Object(map))
            .map_err(|_| config_error("params could not be read"))?;

        let base_url =
            match (
                opt_string("domain", raw.domain)?,
                opt_string("base_url", raw.base_url)?,
            ) {
                (Some(_), Some(_)) => return Err(config_error(
                    "`domain` and `base_url` are both set; give exactly one (`base_url` is for \
                     test servers and proxies)",
                )),
                (None, None) => {
                    return Err(config_error(
                        "missing `domain` (your Zendesk subdomain, e.g. `acme`) or `base_url`",
                    ))
                }
                (Some(domain), None) => base_url_from_domain(&domain)?,
                (None, Some(url)) => normalize_base_url(&url)?,
            };

        let auth = match raw.oauth {
            None | Some(Value::Null) => None,
            Some(oauth) => {
                if [&raw.email, &raw.api_token, &raw.oauth_token]
                    .iter()
                    .any(|v| !matches!(v, None | Some(Value::Null)))
                {
                    return Err(config_error(
                        "`oauth` cannot be combined with `email`/`api_token` or `oauth_token`;                          choose one auth method",
                    ));
                }
                Some(Auth::OAuthClient(oauth_from_value(oauth, &base_url)?))
            }
        };
        let auth = match auth {
            Some(auth) => auth,
            None => match (
                opt_string("email", raw.email)?,
                opt_string("api_token", raw.api_token)?,
                opt_string("oauth_token", raw.oauth_token)?,
            ) {
                (Some(email), Some(token), None) => {
                    check_email(&email)?;
                    check_header_safe("api_token", &token)?;
                    Auth::ApiToken {
                        email,
                        token: Secret::new(token),
                    }
                }
                (None, None, Some(token)) => {
                    check_header_safe("oauth_token", &token)?;
                    Auth::OAuth {
                        token: Secret::new(token),
                    }
                }
                (None, None, None) => return Err(config_error(
                    "no credentials: set `oauth` (an OAuth client: `client_id` + `client_secret`; \
                     see config/config.example.yml), or the legacy `email` + `api_token`",
                )),
                (_, Some(_), Some(_)) | (Some(_), None, Some(_)) => return Err(config_error(
                    "`oauth_token` cannot be combined with `email`/`api_token`; choose one auth \
                     method: `email` + `api_token`, or `oauth_token`",
                )),
                (Some(_), None, None) => {
                    return Err(config_error(
                        "`email` is set but `api_token` is missing (or use `oauth_token` instead)",
                    ))
                }
                (None, Some(_), None) => return Err(config_error(
                    "`api_token` is set but `email` is missing: API-token auth needs the agent's \
                     e-mail address",
                )),
            },
        };

        let timeout = match raw.timeout {
            None | Some(Value::Null) => DEFAULT_TIMEOUT,
            Some(v) => seconds("timeout", v, 0.001, 3600.0)?,
        };
        let max_retry_wait = match raw.max_retry_wait {
            None | Some(Value::Null) => DEFAULT_MAX_RETRY_WAIT,
            Some(v) => seconds("max_retry_wait", v, 0.0, 3600.0)?,
        };
        let job_timeout = match raw.job_timeout {
            None | Some(Value::Null) => DEFAULT_JOB_TIMEOUT,
            // Fractions below a second are for tests; Zendesk's jobs take seconds at least.
            Some(v) => seconds("job_timeout", v, 0.1, 86_400.0)?,
        };
        let export_min_interval = match raw.export_min_interval {
            None | Some(Value::Null) => DEFAULT_EXPORT_MIN_INTERVAL,
            // 0 is for tests against a mock; a real account needs 6 s (10 requests a minute).
            Some(v) => seconds("export_min_interval", v, 0.0, 600.0)?,
        };
        let export_page_size = match raw.export_page_size {
            None | Some(Value::Null) => crate::export::PER_PAGE,
            Some(v) => integer("export_page_size", v, 1, crate::export::PER_PAGE)?,
        };
        let max_response_bytes = match raw.max_response_bytes {
            None | Some(Value::Null) => DEFAULT_MAX_RESPONSE_BYTES,
            Some(v) => integer("max_response_bytes", v, 1024, u32::MAX)? as u64,
        };
        let max_attempts = match raw.max_attempts {
            None | Some(Value::Null) => DEFAULT_MAX_ATTEMPTS,
            Some(v) => integer("max_attempts", v, 1, 10)?,
        };
        let verify = match raw.verify {
            None | Some(Value::Null) | Some(Value::Bool(true)) => Verify::System,
            Some(Value::Bool(false)) => Verify::Disabled,
            Some(Value::String(s)) => match s.trim() {
                "true" => Verify::System,
                "false" => Verify::Disabled,
                "" => {
                    return Err(config_error(
                        "`verify` is an empty string; use true, false or a CA bundle path",
                    ))
                }
                path => Verify::CaBundle(PathBuf::from(path)),
            },
            Some(Value::Object(o)) => verify_object(o)?,
            Some(_) => {
                return Err(config_error(
                    "`verify` must be true, false, the path of a PEM CA bundle, or {ca: PATH, only: true|false}",
                ))
            }
        };
        let allow_insecure_http = match raw.allow_insecure_http {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::Bool(true)) => true,
            Some(Value::String(s)) if s.trim() == "true" => true,
            Some(Value::String(s)) if s.trim() == "false" => false,
            Some(_) => return Err(config_error("`allow_insecure_http` must be true or false")),
        };
        if base_url.starts_with("http://") && !is_loopback(&base_url) && !allow_insecure_http {
            return Err(config_error(
                "`base_url` uses http:// to a host other than this machine: the credentials and \
                 tickets would travel in clear. Use https://, or set `allow_insecure_http: true` \
                 for a test setup",
            ));
        }

        Ok(Config {
            base_url,
            auth,
            timeout,
            verify,
            max_attempts,
            max_retry_wait,
            job_timeout,
            export_min_interval,
            export_page_size,
            max_response_bytes,
        })
    }
}

const OAUTH_KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "scope",
    "grant",
    "refresh_token",
    "refresh_token_file",
];

/// The `oauth:` object. Errors name `oauth.<key>`, never a value.
fn oauth_from_value(value: Value, base_url: &str) -> Result<OAuthConfig, PluginError> {
    let Value::Object(mut map) = value else {
        return Err(config_error(
            "`oauth` must be an object with `client_id` and `client_secret`",
        ));
    };
    if let Some(unknown) = map.keys().find(|k| !OAUTH_KEYS.contains(&k.as_str())) {
        return Err(config_error(format!(
            "unknown param `oauth.{unknown}`; known: {}",
            OAUTH_KEYS.join(", ")
        )));
    }
    let mut take = |key: &str| -> Result<Option<String>, PluginError> {
        opt_string(&format!("oauth.{key}"), map.remove(key))
    };
    let client_id = take("client_id")?.ok_or_else(|| {
        config_error("missing `oauth.client_id` (the OAuth client's unique identifier)")
    })?;
    let client_secret = take("client_secret")?.ok_or_else(|| {
        config_error("missing `oauth.client_secret` (shown when the OAuth client is created)")
    })?;
    check_header_safe("oauth.client_id", &client_id)?;
    let scope = take("scope")?.unwrap_or_else(|| DEFAULT_SCOPE.to_string());
    let refresh_token = take("refresh_token")?;
    let file = take("refresh_token_file")?;
    let grant =
        match (take("grant")?.as_deref(), refresh_token) {
            (None | Some("client_credentials"), None) => {
                if file.is_some() {
                    return Err(config_error(
                        "`oauth.refresh_token_file` needs `oauth.grant: refresh_token`",
                    ));
                }
                Grant::ClientCredentials
            }
            (Some("client_credentials"), Some(_)) => return Err(config_error(
                "`oauth.refresh_token` is set but `oauth.grant` is `client_credentials`; remove \
                 one of them",
            )),
            (None | Some("refresh_token"), Some(token)) => {
                let file = file.map(PathBuf::from).unwrap_or_else(|| {
                    let host = base_url
                        .split("://")
                        .nth(1)
                        .unwrap_or(base_url)
                        .replace([':', '/'], "_");
                    let client: String = client_id
                        .chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() || c == '-' {
                                c
                            } else {
                                '_'
                            }
                        })
                        .collect();
                    PathBuf::from(format!(".otai/oauth/zendesk-{host}-{client}.refresh-token"))
                });
                Grant::RefreshToken {
                    initial: Secret::new(token),
                    file,
                }
            }
            (Some("refresh_token"), None) => return Err(config_error(
                "`oauth.grant: refresh_token` needs `oauth.refresh_token` (the refresh token of \
                 otai's authorisation)",
            )),
            (Some(_), _) => {
                return Err(config_error(
                    "`oauth.grant` must be `client_credentials` or `refresh_token`",
                ))
            }
        };
    Ok(OAuthConfig {
        client_id,
        client_secret: Secret::new(client_secret),
        scope,
        grant,
    })
}

/// `verify: {ca: PATH, only: BOOL}`.
fn verify_object(mut o: Map<String, Value>) -> Result<Verify, PluginError> {
    if let Some(unknown) = o.keys().find(|k| !["ca", "only"].contains(&k.as_str())) {
        return Err(config_error(format!(
            "unknown param `verify.{unknown}`; known: ca, only"
        )));
    }
    let ca = opt_string("verify.ca", o.remove("ca"))?
        .ok_or_else(|| config_error("`verify.ca` (the path of a PEM CA bundle) is missing"))?;
    let only = match o.remove("only") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(config_error("`verify.only` must be true or false")),
    };
    Ok(if only {
        Verify::CaOnly(PathBuf::from(ca))
    } else {
        Verify::CaBundle(PathBuf::from(ca))
    })
}

/// Whether a normalised base URL points at this machine (127.0.0.0/8, ::1, localhost), where
/// cleartext never leaves it.
pub(crate) fn is_loopback(base_url: &str) -> bool {
    let Ok(url) = url::Url::parse(base_url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A [`ErrorKind::CONFIG`] error with the plugin's prefix.
pub(crate) fn config_error(message: impl AsRef<str>) -> PluginError {
    PluginError::new(
        ErrorKind::CONFIG,
        format!("otai_zendesk params: {}", message.as_ref()),
    )
}

fn check_unknown_keys(map: &Map<String, Value>) -> Result<(), PluginError> {
    let unknown: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN_KEYS.contains(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let list = unknown
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(config_error(format!(
        "unknown param {list}; known params: {}",
        KNOWN_KEYS.join(", ")
    )))
}

/// A string param; `null` counts as absent, an empty string is an error (usually an unset
/// environment variable in a template).
fn opt_string(key: &str, value: Option<Value>) -> Result<Option<String>, PluginError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim().to_string();
            if s.is_empty() {
                Err(config_error(format!("`{key}` is empty")))
            } else {
                Ok(Some(s))
            }
        }
        Some(_) => Err(config_error(format!("`{key}` must be a string"))),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        // Templated params often arrive as strings ("{{ env }}" renders to "10").
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn seconds(key: &str, value: Value, min: f64, max: f64) -> Result<Duration, PluginError> {
    match number(&value) {
        Some(n) if n.is_finite() && n >= min && n <= max => Ok(Duration::from_secs_f64(n)),
        _ => Err(config_error(format!(
            "`{key}` must be a number of seconds between {min} and {max}"
        ))),
    }
}

fn integer(key: &str, value: Value, min: u32, max: u32) -> Result<u32, PluginError> {
    match number(&value) {
        Some(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => Ok(n as u32),
        _ => Err(config_error(format!(
            "`{key}` must be a whole number between {min} and {max}"
        ))),
    }
}

fn base_url_from_domain(domain: &str) -> Result<String, PluginError> {
    let domain = domain.to_ascii_lowercase();
    if domain.contains("://") || domain.contains('/') {
        return Err(config_error(
            "`domain` must be a Zendesk subdomain like `acme` or `acme.zendesk.com`; use \
             `base_url` for a full URL",
        ));
    }
    let sub = domain.strip_suffix(".zendesk.com").unwrap_or(&domain);
    let valid = !sub.is_empty()
        && sub.len() <= 63
        && sub.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !sub.starts_with('-')
        && !sub.ends_with('-');
    if !valid {
        return Err(config_error(
            "`domain` must be a Zendesk subdomain like `acme` or `acme.zendesk.com` (letters, \
             digits and dashes); use `base_url` for other hosts",
        ));
    }
    Ok(format!("https://{sub}.zendesk.com"))
}

fn normalize_base_url(raw: &str) -> Result<String, PluginError> {
    let url =
        url::Url::parse(raw).map_err(|_| config_error("`base_url` is not a valid absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(config_error(
            "`base_url` must start with https:// or http://",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(config_error("`base_url` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config_error(
            "`base_url` must not contain credentials; use `email` + `api_token` or `oauth_token`",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(config_error(
            "`base_url` must not have a query string or fragment",
        ));
    }
    let mut s = url.as_str().trim_end_matches('/').to_string();
    // Accept the API root too; paths are built as `{base_url}/api/v2/...`.
    if let Some(stripped) = s.strip_suffix("/api/v2") {
        s = stripped.to_string();
    }
    Ok(s)
}

fn check_email(email: &str) -> Result<(), PluginError> {
    let ok = email.contains('@') && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(config_error(
            "`email` must be an e-mail address like support@example.com",
        ))
    }
}

fn check_header_safe(key: &str, token: &str) -> Result<(), PluginError> {
    if token
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        Err(config_error(format!(
            "`{key}` contains spaces or characters that cannot appear in a token"
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Config, PluginError> {
        Config::from_value(v)
    }

    #[test]
    fn seed_params_work() {
        let c = parse(json!({
            "domain": "yourcompany", "email": "support@yourcompany.com",
            "api_token": "s3cr3t-token", "timeout": 10, "verify": true
        }))
        .unwrap();
        assert_eq!(c.base_url, "https://yourcompany.zendesk.com");
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.verify, Verify::System);
        assert_eq!(
            c.auth,
            Auth::ApiToken {
                email: "support@yourcompany.com".into(),
                token: Secret::new("s3cr3t-token")
            }
        );
        assert!(!format!("{c:?}").contains("s3cr3t-token"));
    }

    #[test]
    fn domain_may_be_a_full_zendesk_host() {
        let c = parse(json!({"domain": "Acme.zendesk.com", "oauth_token": "t"})).unwrap();
        assert_eq!(c.base_url, "https://acme.zendesk.com");
    }

    #[test]
    fn base_url_is_normalized() {
        let c = parse(json!({"base_url": "http://127.0.0.1:8080/api/v2/", "oauth_token": "t"}))
            .unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn defaults_apply() {
        let c = parse(json!({"base_url": "http://localhost:1", "oauth_token": "t"})).unwrap();
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(c.max_retry_wait, DEFAULT_MAX_RETRY_WAIT);
        assert_eq!(c.job_timeout, DEFAULT_JOB_TIMEOUT);
    }

    #[test]
    fn job_timeout_is_bounded_seconds() {
        let c = parse(json!({"domain": "acme", "oauth_token": "t", "job_timeout": "1.5"})).unwrap();
        assert_eq!(c.job_timeout, Duration::from_millis(1500));
        for bad in [json!(0), json!(-3), json!("soon"), json!(100_000)] {
            let e = parse(json!({"domain": "acme", "oauth_token": "t", "job_timeout": bad}))
                .unwrap_err();
            assert_eq!(e.kind, ErrorKind::CONFIG);
            assert!(e.message.contains("`job_timeout`"), "{}", e.message);
        }
    }

    #[test]
    fn verify_accepts_bool_and_path() {
        let base = json!({"base_url": "http://localhost:1", "oauth_token": "t"});
        let mut v = base.clone();
        v["verify"] = json!(false);
        assert_eq!(parse(v).unwrap().verify, Verify::Disabled);
        let mut v = base.clone();
        v["verify"] = json!("/etc/ssl/ca.pem");
        assert_eq!(
            parse(v).unwrap().verify,
            Verify::CaBundle("/etc/ssl/ca.pem".into())
        );
        let mut v = base;
        v["verify"] = json!(3);
        assert!(parse(v).unwrap_err().message.contains("`verify`"));
    }

    #[test]
    fn both_domain_and_base_url_is_an_error() {
        let e = parse(json!({"domain": "acme", "base_url": "http://x", "oauth_token": "t"}))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::CONFIG);
        assert!(e.message.contains("`domain`") && e.message.contains("`base_url`"));
    }

    #[test]
    fn wrong_types_name_the_key_not_the_value() {
        let e = parse(json!({"domain": "acme", "oauth_token": "t", "timeout": "soon-ish-value"}))
            .unwrap_err();
        assert!(e.message.contains("`timeout`"));
        assert!(!e.message.contains("soon-ish-value"));
        let e = parse(json!({"domain": "acme", "oauth_token": 12345678})).unwrap_err();
        assert!(e.message.contains("`oauth_token`"));
        assert!(!e.message.contains("12345678"));
    }

    #[test]
    fn max_attempts_is_bounded() {
        let e =
            parse(json!({"domain": "acme", "oauth_token": "t", "max_attempts": 0})).unwrap_err();
        assert!(e.message.contains("`max_attempts`"));
        let c = parse(json!({"domain": "acme", "oauth_token": "t", "max_attempts": 1})).unwrap();
        assert_eq!(c.max_attempts, 1);
    }

    #[test]
    fn bad_domain_and_base_url() {
        assert!(
            parse(json!({"domain": "https://acme.zendesk.com", "oauth_token": "t"}))
                .unwrap_err()
                .message
                .contains("`base_url`")
        );
        assert!(parse(json!({"base_url": "ftp://x", "oauth_token": "t"})).is_err());
        assert!(parse(json!({"base_url": "https://u:p@x", "oauth_token": "t"})).is_err());
    }

    #[test]
    fn params_must_be_an_object_and_valid_json() {
        assert_eq!(
            Config::from_json("[1]").unwrap_err().kind,
            ErrorKind::CONFIG
        );
        let e = Config::from_json("{\"api_token\": \"abc").unwrap_err();
        assert!(!e.message.contains("abc"));
    }

    #[test]
    fn oauth_client_credentials_is_the_default_grant_with_read_write_scope() {
        let c =
            parse(json!({"domain": "acme", "oauth": {"client_id": "otai", "client_secret": "x"}}))
                .unwrap();
        let Auth::OAuthClient(o) = &c.auth else {
            panic!("{:?}", c.auth)
        };
        assert_eq!(o.client_id, "otai");
        assert_eq!(o.scope, "read write");
        assert_eq!(o.grant, Grant::ClientCredentials);
        assert_eq!(c.auth.describe(), "oauth (client `otai`)");
    }

    #[test]
    fn oauth_refresh_grant_needs_a_refresh_token_and_gets_a_default_file() {
        let c = parse(
            json!({"domain": "acme", "oauth": {"client_id": "otai", "client_secret": "x",
                             "refresh_token": "r"}}),
        )
        .unwrap();
        let Auth::OAuthClient(o) = &c.auth else {
            panic!("{:?}", c.auth)
        };
        let Grant::RefreshToken { initial, file } = &o.grant else {
            panic!("{:?}", o.grant)
        };
        assert_eq!(initial.expose(), "r");
        assert_eq!(
            file,
            &PathBuf::from(".otai/oauth/zendesk-acme.zendesk.com-otai.refresh-token")
        );
        let e = parse(
            json!({"domain": "acme", "oauth": {"client_id": "otai", "client_secret": "x",
                             "grant": "refresh_token"}}),
        )
        .unwrap_err();
        assert!(
            e.message.contains("needs `oauth.refresh_token`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn oauth_errors_name_the_key_and_never_the_value() {
        for (oauth, expected) in [
            (
                json!({"client_secret": "hush"}),
                "missing `oauth.client_id`",
            ),
            (
                json!({"client_id": "otai"}),
                "missing `oauth.client_secret`",
            ),
            (
                json!({"client_id": "otai", "client_secret": "hush", "secret": "hush"}),
                "unknown param `oauth.secret`",
            ),
            (
                json!({"client_id": "otai", "client_secret": "hush", "grant": "password"}),
                "`oauth.grant` must be",
            ),
            (
                json!({"client_id": "otai", "client_secret": ""}),
                "`oauth.client_secret` is empty",
            ),
            (
                json!({"client_id": "otai", "client_secret": "hush", "grant": "client_credentials", "refresh_token": "hush"}),
                "remove one of them",
            ),
            (json!("hush"), "`oauth` must be an object"),
        ] {
            let e = parse(json!({"domain": "acme", "oauth": oauth})).unwrap_err();
            assert!(e.message.contains(expected), "{oauth}: {}", e.message);
            assert!(!e.message.contains("hush"), "{}", e.message);
        }
        let e = parse(json!({"domain": "acme", "api_token": "t", "email": "a@b.c",
                             "oauth": {"client_id": "otai", "client_secret": "hush"}}))
        .unwrap_err();
        assert!(
            e.message.contains("choose one auth method"),
            "{}",
            e.message
        );
    }
}
