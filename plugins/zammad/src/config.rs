//! The service's params: parsed from the JSON object the host passes, validated into [`Config`].
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `base_url` | string | - | where Zammad is, e.g. `https://helpdesk.example.com` (without `/api/v1`; given with it, the suffix is dropped) |
//! | `http_token` | string | - | an API token of an agent (`Authorization: Token token=...`; recommended; needs `ticket.agent`) |
//! | `oauth_token` | string | - | an OAuth2 access token (`Authorization: Bearer`) |
//! | `username` + `password` | strings | - | HTTP Basic (admins can switch it off; Zammad advises against it) |
//! | `timeout` | number (s) | 30 | per-request timeout, fractions allowed |
//! | `verify` | bool, string or object | `true` | TLS verification, as for every otai adapter (`false`, a CA bundle path, or `{ca, only}`) |
//! | `allow_insecure_http` | bool | `false` | allow `base_url: http://...` to a host other than this machine |
//! | `max_attempts` | integer | 4 | attempts per request, including the first |
//! | `max_retry_wait` | number (s) | 60 | longest `Retry-After` waited for (a proxy may send 429; Zammad itself has no rate limit) |
//! | `max_response_bytes` | integer | 128 MiB | the largest answer to a read that is accepted |
//! | `priorities` | object | from `/ticket_priorities` | otai's `low`/`normal`/`high`/`urgent` → Zammad priority names, e.g. `{urgent: "4 very high"}`; unset ones are matched by name (see [`crate::catalog`]) |
//! | `page_size` | integer | 200 | tickets per search page (Zammad's maximum is 200) |
//! | `min_request_interval` | number (s) | 0 | least time between two requests of a history export (`otai train --system`), so a long export leaves the help desk room |
//! | `webhook_secret` | string | - | the HMAC-SHA1 signature token of the Zammad webhook that notifies `otai serve` (Admin > Webhooks > the webhook > HMAC SHA1 Signature Token), used exactly as given (spaces allowed, nothing trimmed); without it, webhook deliveries are refused (see [`crate::webhook`]) |
//!
//! Exactly one auth method. Error messages name the offending key and never its value.

use std::time::Duration;

pub use otai_plugin_sdk::Verify;
use otai_plugin_sdk::{http::HttpSettings, vocabulary::PRIORITIES, Error, Params, Secret};
use serde_json::Value;

use crate::PLUGIN_NAME;

/// Zammad's largest search page.
pub const MAX_PAGE_SIZE: u32 = 200;

/// How requests authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// An API token: `Authorization: Token token=...`.
    Token(Secret),
    /// An OAuth2 access token: `Authorization: Bearer ...`.
    Bearer(Secret),
    /// HTTP Basic.
    Basic {
        /// The agent's login or e-mail.
        username: String,
        /// The password.
        password: Secret,
    },
}

impl Auth {
    /// A short, secret-free description: `http_token`, `oauth_token`, `username (otai)`.
    pub fn describe(&self) -> String {
        match self {
            Auth::Token(_) => "http_token".to_string(),
            Auth::Bearer(_) => "oauth_token".to_string(),
            Auth::Basic { username, .. } => format!("username + password ({username})"),
        }
    }
}

/// Validated params of one Zammad service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The transport's settings (base URL without `/api/v1`).
    pub http: HttpSettings,
    /// The credentials.
    pub auth: Auth,
    /// Zammad priority names chosen by the operator, per otai priority.
    pub priorities: Vec<(String, String)>,
    /// Tickets per search page.
    pub page_size: u32,
    /// Least time between two export requests.
    pub min_request_interval: Duration,
    /// The webhook's signature token, for `otai serve`'s deliveries.
    pub webhook_secret: Option<Secret>,
}

impl Config {
    /// A config for `base_url` and `auth` with every other setting at its default.
    pub fn new(base_url: impl Into<String>, auth: Auth) -> Self {
        Config {
            http: HttpSettings::new(base_url, user_agent()),
            auth,
            priorities: Vec::new(),
            page_size: MAX_PAGE_SIZE,
            min_request_interval: Duration::ZERO,
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
        let base_url = p.required_base_url("base_url")?;
        // Paths are built as `{base_url}/api/v1/...`; the API root is accepted too.
        let base_url = base_url
            .strip_suffix("/api/v1")
            .unwrap_or(&base_url)
            .to_string();
        let auth = read_auth(&mut p)?;
        let http = HttpSettings::new(base_url, user_agent()).read_params(&mut p)?;
        let priorities = read_priorities(&mut p)?;
        let page_size =
            p.integer("page_size", MAX_PAGE_SIZE.into(), 1, MAX_PAGE_SIZE.into())? as u32;
        let min_request_interval = p.seconds("min_request_interval", Duration::ZERO, 0.0, 600.0)?;
        // An HMAC key, never a header: taken as given (`password` trims nothing, allows spaces).
        let webhook_secret = p.password("webhook_secret")?;
        p.finish()?;
        Ok(Config {
            http,
            auth,
            priorities,
            page_size,
            min_request_interval,
            webhook_secret,
        })
    }
}

fn user_agent() -> String {
    concat!("otai-zammad/", env!("CARGO_PKG_VERSION")).to_string()
}

/// Exactly one of `http_token`, `oauth_token`, `username` + `password`.
fn read_auth(p: &mut Params) -> Result<Auth, Error> {
    let given: Vec<&str> = ["http_token", "oauth_token", "username"]
        .into_iter()
        .filter(|k| p.has(k))
        .collect();
    if given.len() > 1 {
        return Err(p.error(format!(
            "{} are all set; give exactly one auth method (`http_token`, `oauth_token`, or \
             `username` + `password`)",
            given
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        )));
    }
    if let Some(token) = p.secret("http_token")? {
        refuse_password(p, "http_token")?;
        return Ok(Auth::Token(token));
    }
    if let Some(token) = p.secret("oauth_token")? {
        refuse_password(p, "oauth_token")?;
        return Ok(Auth::Bearer(token));
    }
    if let Some(username) = p.string("username")? {
        let password = p.password("password")?.ok_or_else(|| {
            p.error("`username` is set but `password` is missing (HTTP Basic needs both)")
        })?;
        return Ok(Auth::Basic { username, password });
    }
    if p.has("password") {
        return Err(p.error("`password` is set but `username` is missing"));
    }
    Err(p.error(
        "missing credentials: set `http_token` (an API token of an agent with `ticket.agent`; \
         Zammad: Profile > Token Access), `oauth_token`, or `username` + `password`",
    ))
}

fn refuse_password(p: &Params, with: &str) -> Result<(), Error> {
    if p.has("password") {
        return Err(p.error(format!(
            "`password` cannot be combined with `{with}`; choose one auth method"
        )));
    }
    Ok(())
}

/// `priorities: {low: "1 low", ...}`: only otai's four names as keys, non-empty strings as values.
fn read_priorities(p: &mut Params) -> Result<Vec<(String, String)>, Error> {
    let Some(mut map) = p.object("priorities")? else {
        return Ok(Vec::new());
    };
    let mut chosen = Vec::new();
    for otai in PRIORITIES {
        if let Some(name) = map.string(otai)? {
            chosen.push((otai.to_string(), name));
        }
    }
    map.finish()?;
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err(params: Value) -> String {
        Config::from_value(params).unwrap_err().message
    }

    #[test]
    fn a_token_config_reads_with_defaults_and_drops_the_api_suffix() {
        let c = Config::from_value(json!({
            "base_url": "https://helpdesk.example.com/api/v1/",
            "http_token": "t0ken",
            "timeout": 10,
            "verify": true,
        }))
        .unwrap();
        assert_eq!(c.http.base_url, "https://helpdesk.example.com");
        assert_eq!(c.auth, Auth::Token(Secret::new("t0ken")));
        assert_eq!(c.http.timeout, Duration::from_secs(10));
        assert_eq!(c.page_size, 200);
        assert!(c.priorities.is_empty());
        assert_eq!(c.webhook_secret, None);
    }

    #[test]
    fn the_webhook_secret_is_kept_as_given_and_never_shown() {
        let c = Config::from_value(json!({
            "base_url": "https://z.example", "http_token": "t",
            "webhook_secret": " my signature token ",
        }))
        .unwrap();
        assert_eq!(c.webhook_secret, Some(Secret::new(" my signature token ")));
        assert!(!format!("{c:?}").contains("signature token"));
        let empty = err(json!({"base_url": "https://z.example", "http_token": "t",
                               "webhook_secret": ""}));
        assert!(empty.contains("`webhook_secret` is empty"), "{empty}");
        let typo = err(json!({"base_url": "https://z.example", "http_token": "t",
                              "webhook_secrets": "s3cret"}));
        let (unknown, known) = typo.split_once("known params:").unwrap();
        assert!(unknown.contains("`webhook_secrets`"), "{typo}");
        assert!(
            known.split(',').any(|k| k.trim() == "webhook_secret"),
            "{typo}"
        );
        assert!(!typo.contains("s3cret"), "{typo}");
    }

    #[test]
    fn exactly_one_auth_method() {
        let both =
            err(json!({"base_url": "https://z.example", "http_token": "a", "oauth_token": "b"}));
        assert!(both.contains("`http_token` and `oauth_token`"), "{both}");
        let none = err(json!({"base_url": "https://z.example"}));
        assert!(none.contains("missing credentials"), "{none}");
        let half = err(json!({"base_url": "https://z.example", "username": "otai"}));
        assert!(half.contains("`password` is missing"), "{half}");
        let mixed =
            err(json!({"base_url": "https://z.example", "http_token": "a", "password": "p"}));
        assert!(mixed.contains("cannot be combined"), "{mixed}");
        let basic = Config::from_value(
            json!({"base_url": "https://z.example", "username": "otai", "password": "pass word"}),
        )
        .unwrap();
        assert_eq!(basic.auth.describe(), "username + password (otai)");
    }

    #[test]
    fn errors_name_keys_never_values() {
        let unknown =
            err(json!({"base_url": "https://z.example", "http_token": "s3cret", "tokn": "x"}));
        assert!(
            unknown.contains("`tokn`") && !unknown.contains("s3cret"),
            "{unknown}"
        );
        let bad_priority = err(json!({
            "base_url": "https://z.example", "http_token": "s3cret",
            "priorities": {"critical": "5 urgent"}
        }));
        assert!(bad_priority.contains("critical"), "{bad_priority}");
        let clear = err(json!({"base_url": "http://helpdesk.example.com", "http_token": "s3cret"}));
        assert!(
            clear.contains("http://") && !clear.contains("s3cret"),
            "{clear}"
        );
    }

    #[test]
    fn chosen_priorities_are_kept_per_otai_name() {
        let c = Config::from_value(json!({
            "base_url": "http://127.0.0.1:3000", "http_token": "t",
            "priorities": {"urgent": "4 very high", "low": "1 low"}
        }))
        .unwrap();
        assert_eq!(
            c.priorities,
            vec![
                ("low".to_string(), "1 low".to_string()),
                ("urgent".to_string(), "4 very high".to_string())
            ]
        );
    }
}
