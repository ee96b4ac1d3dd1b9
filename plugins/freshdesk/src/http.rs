//! Freshdesk's side of the SDK's HTTP transport (which retries, counts and maps errors): how its
//! error bodies read, what to check per status, Basic auth with the API key, and the rate budget
//! as the transport's pacer.

use std::sync::Arc;

use otai_plugin_sdk::{
    http::{Auth, Http, Vendor},
    Error, Logger, Secret,
};
use serde_json::Value;

use crate::{budget::Budget, config::Config, PLUGIN_NAME};

/// How Freshdesk's answers read: `X-Request-Id`, `{"description", "errors": [{field, message,
/// code}]}` and `{"code", "message"}` bodies, a hint per status.
pub(crate) const FRESHDESK: Vendor = Vendor {
    plugin: PLUGIN_NAME,
    name: "Freshdesk",
    request_id_header: "x-request-id",
    error_detail,
    hint,
};

/// `Validation failed: group_id: There is no group ... (invalid_value)`: every error with its
/// field and code, so an operator sees which value Freshdesk refused.
pub(crate) fn error_detail(body: &[u8]) -> Option<String> {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return otai_plugin_sdk::http::error_detail(body);
    };
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let errors: Vec<String> = json
        .get("errors")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| {
                    let message = text(e, "message").unwrap_or_else(|| "refused".into());
                    let field = text(e, "field")
                        .map(|f| format!("{f}: "))
                        .unwrap_or_default();
                    let code = text(e, "code")
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default();
                    format!("{field}{message}{code}")
                })
                .collect()
        })
        .unwrap_or_default();
    let head = text(&json, "description").or_else(|| text(&json, "message"));
    let code = text(&json, "code");
    match (head, errors.is_empty()) {
        (Some(head), false) => Some(format!("{head}: {}", errors.join("; "))),
        (None, false) => Some(errors.join("; ")),
        (Some(head), true) => Some(match code {
            Some(code) => format!("{head} ({code})"),
            None => head,
        }),
        (None, true) => code.or_else(|| otai_plugin_sdk::http::error_detail(body)),
    }
}

fn hint(status: u16) -> &'static str {
    match status {
        401 => " Check `api_key` (Freshdesk: Profile settings > View API key); a key changes when the agent resets it.",
        403 => " The agent lacks a permission (otai needs to view and edit tickets in the groups it routes to), or the account's plan lacks the feature.",
        404 => " Check `domain` / `base_url`; the ticket may have been deleted.",
        400 => " Freshdesk refused a value: check the pipeline's queue names (`map`, `fallback`) against Admin > Groups, and custom field names (`cf_...`).",
        429 => " The account's per-minute API limit is spent (other integrations share it); lower `rate_budget` or raise the plan's limit.",
        300..=399 => " Freshdesk answered with a redirect; check `domain` / `base_url` (without /api/v2).",
        _ => "",
    }
}

/// The transport for `config`, paced by `budget`. Local only.
pub(crate) fn transport(config: &Config, budget: Arc<Budget>, log: Logger) -> Result<Http, Error> {
    // Freshdesk reads the key as the user name; the password is ignored (its docs use `X`).
    let auth = Auth::basic(config.api_key.expose(), &Secret::new("X"))?;
    Ok(Http::new(config.http.clone(), FRESHDESK, log)?
        .with_auth(auth)
        .with_pacer(budget))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_show_field_and_code() {
        let validation = br#"{"description":"Validation failed","errors":[{"field":"group_id","message":"There is no group matching the given group_id","code":"invalid_value"},{"field":"cf_x","message":"Unexpected/invalid field in request","code":"invalid_field"}]}"#;
        assert_eq!(
            error_detail(validation).unwrap(),
            "Validation failed: group_id: There is no group matching the given group_id \
             (invalid_value); cf_x: Unexpected/invalid field in request (invalid_field)"
        );
        let auth = br#"{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}"#;
        assert_eq!(
            error_detail(auth).unwrap(),
            "You have to be logged in to perform this action. (invalid_credentials)"
        );
        assert_eq!(
            error_detail(b"<html>Bad Gateway</html>").as_deref(),
            Some("<html>Bad Gateway</html>")
        );
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let config = Config::new("https://acme.freshdesk.com", Secret::new("s3cr3t-key"));
        let budget = Arc::new(Budget::new(&config, Logger::silent()));
        let shown = format!(
            "{:?} {:?}",
            transport(&config, budget, Logger::silent()).unwrap(),
            config
        );
        assert!(!shown.contains("s3cr3t-key"), "{shown}");
    }
}
