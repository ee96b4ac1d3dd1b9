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
//! | `webhook_secret` | string | - | the signing secret of the Zendesk webhook that notifies `otai serve` (Admin Center > Webhooks > Signing secret); without it, webhook deliveries are refused |
//!
//! Exactly one of `domain` / `base_url` (two places to say where Zendesk is would let one silently
//! win over the other), and exactly one auth method: `oauth`, `email` + `api_token`, or `oauth_token`.
//! `oauth.refresh_token_file` defaults to `.otai/oauth/zendesk-<host>-<client_id>.refresh-token` in the
//! working directory.
//!
//! Error messages name the offending key and never its value: values may be secrets.

use std::{path::PathBuf, time::Duration};

pub use otai_plugin_sdk::Verify;
use otai_plugin_sdk::{http::HttpSettings, Error, Params, Secret};
use serde_json::Value;

use crate::{
    oauth::{Grant, OAuthConfig, DEFAULT_SCOPE},
    PLUGIN_NAME,
};

pub use otai_plugin_sdk::http::{
    DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRY_WAIT, DEFAULT_TIMEOUT,
};
/// Default time a batch job may take, from its submission to a finished job status. Below the
/// host's default `call_timeout` (120 s per started 100 tickets, one job's worth), so that with
/// both defaults the plugin reports a slow job's tickets itself before the host abandons the call.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(90);
/// Default least time between two incremental-export pages: Zendesk allows 10 a minute.
pub const DEFAULT_EXPORT_MIN_INTERVAL: Duration = Duration::from_secs(6);

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
    /// The webhook's signing secret, for `otai serve`'s deliveries.
    pub webhook_secret: Option<Secret>,
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
            webhook_secret: None,
        }
    }

    /// Parses and validates the params JSON object the host passes to `new_ticket_system`.
    pub fn from_json(params_json: &str) -> Result<Config, Error> {
        Self::read(Params::from_json(PLUGIN_NAME, params_json)?)
    }

    /// Validates params already parsed as JSON.
    pub fn from_value(value: Value) -> Result<Config, Error> {
        Self::read(Params::from_value(PLUGIN_NAME, value)?)
    }

    fn read(mut p: Params) -> Result<Config, Error> {
        if p.has("domain") && p.has("base_url") {
            // Two places to say where Zendesk is would let one silently win over the other.
            return Err(p.error(
                "`domain` and `base_url` are both set; give exactly one (`base_url` is for \
                 test servers and proxies)",
            ));
        }
        let base_url = match (p.string("domain")?, p.base_url("base_url")?) {
            (Some(_), Some(_)) => unreachable!("refused above"),
            (None, None) => {
                return Err(
                    p.error("missing `domain` (your Zendesk subdomain, e.g. `acme`) or `base_url`")
                )
            }
            (Some(domain), None) => base_url_from_domain(&p, &domain)?,
            // Accept the API root too; paths are built as `{base_url}/api/v2/...`.
            (None, Some(url)) => url.strip_suffix("/api/v2").unwrap_or(&url).to_string(),
        };
        let auth = read_auth(&mut p, &base_url)?;
        let http = HttpSettings::new(base_url, "").read_params(&mut p)?;
        // Fractions below a second are for tests; Zendesk's jobs take seconds at least.
        let job_timeout = p.seconds("job_timeout", DEFAULT_JOB_TIMEOUT, 0.1, 86_400.0)?;
        // 0 is for tests against a mock; a real account needs 6 s (10 requests a minute).
        let export_min_interval = p.seconds(
            "export_min_interval",
            DEFAULT_EXPORT_MIN_INTERVAL,
            0.0,
            600.0,
        )?;
        let export_page_size = p.integer(
            "export_page_size",
            crate::export::PER_PAGE.into(),
            1,
            crate::export::PER_PAGE.into(),
        )? as u32;
        let webhook_secret = p.secret("webhook_secret")?;
        p.finish()?;
        Ok(Config {
            base_url: http.base_url,
            auth,
            timeout: http.timeout,
            verify: http.verify,
            max_attempts: http.max_attempts,
            max_retry_wait: http.max_retry_wait,
            job_timeout,
            export_min_interval,
            export_page_size,
            max_response_bytes: http.max_response_bytes,
            webhook_secret,
        })
    }
}

/// Exactly one auth method: `oauth`, `email` + `api_token`, or `oauth_token`.
fn read_auth(p: &mut Params, base_url: &str) -> Result<Auth, Error> {
    if p.has("oauth") {
        if ["email", "api_token", "oauth_token"]
            .iter()
            .any(|k| p.has(k))
        {
            return Err(p.error(
                "`oauth` cannot be combined with `email`/`api_token` or `oauth_token`; \
                 choose one auth method",
            ));
        }
        p.allow(&["email", "api_token", "oauth_token"]);
        let oauth = p.object("oauth")?.expect("checked above");
        return Ok(Auth::OAuthClient(read_oauth(oauth, base_url)?));
    }
    let auth = match (
        p.string("email")?,
        p.secret("api_token")?,
        p.secret("oauth_token")?,
    ) {
        (Some(email), Some(token), None) => {
            check_email(p, &email)?;
            Auth::ApiToken { email, token }
        }
        (None, None, Some(token)) => Auth::OAuth { token },
        (None, None, None) => {
            return Err(p.error(
                "no credentials: set `oauth` (an OAuth client: `client_id` + `client_secret`; \
                 see config/config.example.yml), or the legacy `email` + `api_token`",
            ))
        }
        (_, Some(_), Some(_)) | (Some(_), None, Some(_)) => {
            return Err(p.error(
                "`oauth_token` cannot be combined with `email`/`api_token`; choose one auth \
                 method: `email` + `api_token`, or `oauth_token`",
            ))
        }
        (Some(_), None, None) => {
            return Err(
                p.error("`email` is set but `api_token` is missing (or use `oauth_token` instead)")
            )
        }
        (None, Some(_), None) => {
            return Err(p.error(
                "`api_token` is set but `email` is missing: API-token auth needs the agent's \
                 e-mail address",
            ))
        }
    };
    p.allow(&["oauth"]);
    Ok(auth)
}

/// The `oauth:` object. Errors name `oauth.<key>`, never a value.
fn read_oauth(mut o: Params, base_url: &str) -> Result<OAuthConfig, Error> {
    let client_id = o.required_string("client_id", "the OAuth client's unique identifier")?;
    o.check_header_safe("client_id", &client_id)?;
    let client_secret =
        o.required_string("client_secret", "shown when the OAuth client is created")?;
    let scope = o
        .string("scope")?
        .unwrap_or_else(|| DEFAULT_SCOPE.to_string());
    let refresh_token = o.string("refresh_token")?;
    let file = o.string("refresh_token_file")?;
    let grant =
        match (o.string("grant")?.as_deref(), refresh_token) {
            (None | Some("client_credentials"), None) => {
                if file.is_some() {
                    return Err(
                        o.error("`oauth.refresh_token_file` needs `oauth.grant: refresh_token`")
                    );
                }
                Grant::ClientCredentials
            }
            (Some("client_credentials"), Some(_)) => return Err(o.error(
                "`oauth.refresh_token` is set but `oauth.grant` is `client_credentials`; remove \
                 one of them",
            )),
            (None | Some("refresh_token"), Some(token)) => Grant::RefreshToken {
                initial: Secret::new(token),
                file: file
                    .map(PathBuf::from)
                    .unwrap_or_else(|| default_refresh_token_file(base_url, &client_id)),
            },
            (Some("refresh_token"), None) => return Err(o.error(
                "`oauth.grant: refresh_token` needs `oauth.refresh_token` (the refresh token of \
                 otai's authorisation)",
            )),
            (Some(_), _) => {
                return Err(o.error("`oauth.grant` must be `client_credentials` or `refresh_token`"))
            }
        };
    o.finish()?;
    Ok(OAuthConfig {
        client_id,
        client_secret: Secret::new(client_secret),
        scope,
        grant,
    })
}

/// `.otai/oauth/zendesk-<host>-<client_id>.refresh-token`, both made safe for a file name.
fn default_refresh_token_file(base_url: &str, client_id: &str) -> PathBuf {
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
}

fn base_url_from_domain(p: &Params, domain: &str) -> Result<String, Error> {
    let domain = domain.to_ascii_lowercase();
    if domain.contains("://") || domain.contains('/') {
        return Err(p.error(
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
        return Err(p.error(
            "`domain` must be a Zendesk subdomain like `acme` or `acme.zendesk.com` (letters, \
             digits and dashes); use `base_url` for other hosts",
        ));
    }
    Ok(format!("https://{sub}.zendesk.com"))
}

fn check_email(p: &Params, email: &str) -> Result<(), Error> {
    let ok = email.contains('@') && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(p.error("`email` must be an e-mail address like support@example.com"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otai_plugin_sdk::ErrorKind;
    use serde_json::json;

    fn parse(v: Value) -> Result<Config, Error> {
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
            assert_eq!(e.kind, ErrorKind::Config);
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
        assert_eq!(e.kind, ErrorKind::Config);
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
            ErrorKind::Config
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
