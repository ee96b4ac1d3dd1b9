//! The service's params: parsed from the JSON object the host passes, validated into [`Config`].
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `domain` | string | - | the account: `yourcompany` (or `yourcompany.freshdesk.com`) → `https://yourcompany.freshdesk.com` |
//! | `base_url` | string | - | instead of `domain`: where the API is (a simulator, a proxy), without `/api/v2` |
//! | `api_key` | string | - | an agent's API key (Profile settings > View API key); sent as the Basic user name with password `X` |
//! | `timeout` | number (s) | 30 | per-request timeout |
//! | `verify` | bool, string or object | `true` | TLS verification, as for every otai adapter |
//! | `allow_insecure_http` | bool | `false` | allow `base_url: http://...` to another machine |
//! | `max_attempts` | integer | 4 | attempts per request, including the first |
//! | `max_retry_wait` | number (s) | 60 | longest `Retry-After` waited for (Freshdesk's windows are a minute) |
//! | `max_response_bytes` | integer | 128 MiB | the largest answer to a read that is accepted |
//! | `plan` | string | - | `trial`, `growth`, `pro`, `enterprise`: the account's per-minute limits, per endpoint too (Freshdesk's published table) |
//! | `rate_limit` | integer | from `X-RateLimit-Total` | the account's credits per minute (purchased tiers, newer plans) |
//! | `rate_budget` | `"N%"` or integer | `"50%"` | the share of those credits otai may spend per minute, so the account's other integrations keep the rest |
//! | `lookback_days` | integer | 30 | how far back the list scan starts after otai starts; older unassigned tickets are found by the backlog sweep |
//! | `bulk_update` | bool | `true` | write identical decisions as one `bulk_update` job (fewer credits) instead of one `PUT` each |
//! | `webhook_secret` | string | - | the secret the automation rule's **Trigger webhook** action sends to `otai serve` in a custom header (Freshdesk signs nothing); a long random token, no spaces; without it, webhook deliveries are refused (see [`crate::webhook`]) |
//! | `webhook_header` | string | `X-Otai-Webhook-Secret` | the name of that custom header (compared without regard to case); needs `webhook_secret` |
//!
//! Error messages name the offending key and never its value.

use std::time::Duration;

pub use otai_plugin_sdk::Verify;
use otai_plugin_sdk::{http::HttpSettings, Error, Params, Secret};
use serde_json::Value;

use crate::{webhook::WebhookAuth, PLUGIN_NAME};

/// Per-minute limits of an account (credits), by endpoint class where the plan has them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// The whole account; `None`: learned from `X-RateLimit-Total`.
    pub total: Option<u64>,
    /// Ticket Create (`POST /tickets`).
    pub create: Option<u64>,
    /// Ticket Update (`PUT /tickets/{id}`, `bulk_update`).
    pub update: Option<u64>,
    /// Tickets List (`GET /tickets`).
    pub list: Option<u64>,
}

impl Limits {
    /// The published limits of a plan (Freshdesk's API docs, "Rate Limit").
    pub fn of_plan(plan: &str) -> Option<Limits> {
        let (total, create, update, list) = match plan {
            "trial" => (50, None, None, None),
            "growth" => (200, Some(80), Some(80), Some(20)),
            "pro" => (400, Some(160), Some(160), Some(100)),
            "enterprise" => (700, Some(280), Some(280), Some(200)),
            _ => return None,
        };
        Some(Limits {
            total: Some(total),
            create,
            update,
            list,
        })
    }
}

/// How much of the account's limits otai may spend per minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    /// A percentage of each limit.
    Percent(u8),
    /// A fixed number of credits (of the total; endpoint limits scale in proportion).
    Credits(u64),
}

impl Share {
    /// otai's part of `limit` (at least 1).
    pub fn of(self, limit: u64, total: u64) -> u64 {
        let part = match self {
            Share::Percent(p) => limit * u64::from(p) / 100,
            Share::Credits(c) if total == 0 => c,
            Share::Credits(c) => (limit * c.min(total)) / total,
        };
        part.max(1)
    }
}

/// Validated params of one Freshdesk service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The transport's settings (base URL without `/api/v2`).
    pub http: HttpSettings,
    /// The agent's API key.
    pub api_key: Secret,
    /// The account's limits.
    pub limits: Limits,
    /// otai's share of them.
    pub share: Share,
    /// Where the list scan starts after otai starts.
    pub lookback: Duration,
    /// Whether identical decisions go as one bulk job.
    pub bulk_update: bool,
    /// How `otai serve`'s webhook deliveries authenticate.
    pub webhook: WebhookAuth,
}

impl Config {
    /// A config for `base_url` and `api_key` with every other setting at its default.
    pub fn new(base_url: impl Into<String>, api_key: Secret) -> Self {
        Config {
            http: HttpSettings::new(base_url, user_agent()),
            api_key,
            limits: Limits::default(),
            share: Share::Percent(50),
            lookback: Duration::from_secs(30 * 86_400),
            bulk_update: true,
            webhook: WebhookAuth::default(),
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
        let base_url = read_base_url(&mut p)?;
        let api_key = p.secret("api_key")?.ok_or_else(|| {
            p.error(
                "missing `api_key`: the API key of the agent otai acts as (Freshdesk: Profile \
                 settings > View API key)",
            )
        })?;
        p.check_header_safe("api_key", api_key.expose())?;
        let http = HttpSettings::new(base_url, user_agent()).read_params(&mut p)?;
        let mut limits = match p.string("plan")? {
            None => Limits::default(),
            Some(plan) => Limits::of_plan(&plan.to_ascii_lowercase()).ok_or_else(|| {
                p.error(format!(
                    "`plan`: \"{plan}\" is not one of trial, growth, pro, enterprise (for another \
                     limit leave `plan` out and set `rate_limit`)"
                ))
            })?,
        };
        if p.has("rate_limit") {
            limits.total = Some(p.integer("rate_limit", 0, 10, 1_000_000)?);
        }
        let share = read_share(&mut p)?;
        let lookback_days = p.integer("lookback_days", 30, 1, 36_500)?;
        let bulk_update = p.bool("bulk_update", true)?;
        let webhook = WebhookAuth::read(&mut p)?;
        p.finish()?;
        Ok(Config {
            http,
            api_key,
            limits,
            share,
            lookback: Duration::from_secs(lookback_days * 86_400),
            bulk_update,
            webhook,
        })
    }
}

fn user_agent() -> String {
    concat!("otai-freshdesk/", env!("CARGO_PKG_VERSION")).to_string()
}

/// `domain` (Freshdesk cloud) or `base_url` (a simulator or proxy), exactly one.
fn read_base_url(p: &mut Params) -> Result<String, Error> {
    match (p.has("domain"), p.has("base_url")) {
        (true, true) => Err(p.error(
            "`domain` and `base_url` are both set; give `domain` for a Freshdesk account or \
             `base_url` for a simulator or proxy",
        )),
        (false, false) => Err(p.error(
            "missing `domain`: the account's subdomain (`yourcompany` for \
             https://yourcompany.freshdesk.com), or `base_url`",
        )),
        (true, false) => {
            let domain = p.required_string("domain", "the account's subdomain")?;
            let domain = domain
                .trim()
                .trim_start_matches("https://")
                .trim_end_matches('/');
            let name = domain.strip_suffix(".freshdesk.com").unwrap_or(domain);
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid {
                return Err(p.error(
                    "`domain`: expected the account's subdomain, e.g. `yourcompany` (letters, \
                     digits and hyphens)",
                ));
            }
            Ok(format!("https://{name}.freshdesk.com"))
        }
        (false, true) => {
            let url = p.required_base_url("base_url")?;
            Ok(url.strip_suffix("/api/v2").unwrap_or(&url).to_string())
        }
    }
}

/// `rate_budget: "50%"` or `rate_budget: 120`.
fn read_share(p: &mut Params) -> Result<Share, Error> {
    let Some(value) = p.take("rate_budget") else {
        return Ok(Share::Percent(50));
    };
    let bad = || {
        p.error(
            "`rate_budget`: expected a percentage of the account's per-minute limit (\"50%\", \
             1-100) or a number of credits per minute (at least 5)",
        )
    };
    match &value {
        Value::String(s) => {
            let n: u8 = s
                .trim()
                .strip_suffix('%')
                .and_then(|n| n.trim().parse().ok())
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(bad)?;
            Ok(Share::Percent(n))
        }
        Value::Number(n) => n
            .as_u64()
            .filter(|n| *n >= 5)
            .map(Share::Credits)
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err(params: Value) -> String {
        Config::from_value(params).unwrap_err().message
    }

    #[test]
    fn the_contract_config_reads_with_defaults() {
        let c = Config::from_value(json!({
            "domain": "yourcompany", "api_key": "k3y", "timeout": 10, "verify": true
        }))
        .unwrap();
        assert_eq!(c.http.base_url, "https://yourcompany.freshdesk.com");
        assert_eq!(c.api_key, Secret::new("k3y"));
        assert_eq!(c.http.timeout, Duration::from_secs(10));
        assert_eq!(c.share, Share::Percent(50));
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.lookback, Duration::from_secs(30 * 86_400));
        assert!(c.bulk_update);
        assert_eq!(c.webhook, WebhookAuth::default());
        let full =
            Config::from_value(json!({"domain": "https://acme.freshdesk.com/", "api_key": "k"}))
                .unwrap();
        assert_eq!(full.http.base_url, "https://acme.freshdesk.com");
    }

    #[test]
    fn plans_budgets_and_limits() {
        let c = Config::from_value(json!({
            "base_url": "http://127.0.0.1:9/api/v2", "api_key": "k",
            "plan": "Growth", "rate_budget": "25%"
        }))
        .unwrap();
        assert_eq!(c.http.base_url, "http://127.0.0.1:9");
        assert_eq!(c.limits, Limits::of_plan("growth").unwrap());
        assert_eq!(c.share.of(200, 200), 50);
        assert_eq!(c.share.of(20, 200), 5);
        let credits = Config::from_value(json!({
            "base_url": "http://127.0.0.1:9", "api_key": "k", "rate_limit": 1000, "rate_budget": 300
        }))
        .unwrap();
        assert_eq!(credits.limits.total, Some(1000));
        assert_eq!(credits.share.of(1000, 1000), 300);
        assert_eq!(
            credits.share.of(400, 1000),
            120,
            "endpoint limits in proportion"
        );
    }

    #[test]
    fn errors_name_keys_never_values() {
        let both =
            err(json!({"domain": "a", "base_url": "http://127.0.0.1:1", "api_key": "s3cret"}));
        assert!(both.contains("`domain` and `base_url`"), "{both}");
        let none = err(json!({"api_key": "s3cret"}));
        assert!(none.contains("missing `domain`"), "{none}");
        let key = err(json!({"domain": "acme"}));
        assert!(key.contains("missing `api_key`"), "{key}");
        let plan = err(json!({"domain": "acme", "api_key": "s3cret", "plan": "gold"}));
        assert!(
            plan.contains("`plan`") && !plan.contains("s3cret"),
            "{plan}"
        );
        for bad in [json!("150%"), json!("half"), json!(2), json!(true)] {
            let e = err(json!({"domain": "acme", "api_key": "s3cret", "rate_budget": bad}));
            assert!(e.contains("`rate_budget`"), "{e}");
        }
        let domain = err(json!({"domain": "acme.example.com/x", "api_key": "s3cret"}));
        assert!(
            domain.contains("`domain`") && !domain.contains("s3cret"),
            "{domain}"
        );
        let unknown = err(json!({"domain": "acme", "api_key": "s3cret", "apikey": "x"}));
        assert!(
            unknown.contains("`apikey`") && !unknown.contains("s3cret"),
            "{unknown}"
        );
    }

    #[test]
    fn the_webhook_params_are_known_and_their_errors_name_keys_only() {
        let c = Config::from_value(json!({
            "domain": "acme", "api_key": "k",
            "webhook_secret": "wh-s3cret", "webhook_header": "X-Acme-Token"
        }))
        .unwrap();
        assert_eq!(c.webhook.secret, Some(Secret::new("wh-s3cret")));
        assert_eq!(c.webhook.header, "x-acme-token");
        assert!(!format!("{c:?}").contains("wh-s3cret"));
        let typo = err(json!({"domain": "acme", "api_key": "k", "webhook_secert": "wh-s3cret"}));
        let (unknown, known) = typo.split_once("known params:").unwrap();
        assert!(unknown.contains("`webhook_secert`"), "{typo}");
        for key in ["webhook_secret", "webhook_header"] {
            assert!(known.split(',').any(|k| k.trim() == key), "{key}: {typo}");
        }
        assert!(!typo.contains("wh-s3cret"), "{typo}");
        let lonely = err(json!({"domain": "acme", "api_key": "k", "webhook_header": "X-A"}));
        assert!(lonely.contains("`webhook_secret` is missing"), "{lonely}");
    }
}
