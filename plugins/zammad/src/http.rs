//! Zammad's side of the SDK's HTTP transport (which retries, counts and maps errors): how its
//! error bodies read, what to check per status, and the `Authorization` of each auth method.

use otai_plugin_sdk::{
    http::{Auth, Http, Vendor},
    Error, Logger,
};
use serde_json::Value;

use crate::{
    config::{Auth as ZammadAuth, Config},
    PLUGIN_NAME,
};

/// How Zammad's answers read: `X-Request-Id` (Rails), `{"error", "error_human"}` bodies, a hint
/// per status.
pub(crate) const ZAMMAD: Vendor = Vendor {
    plugin: PLUGIN_NAME,
    name: "Zammad",
    request_id_header: "x-request-id",
    error_detail,
    hint,
};

/// `error_human` (the sentence Zammad shows people), with `error` when it says more.
fn error_detail(body: &[u8]) -> Option<String> {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return otai_plugin_sdk::http::error_detail(body);
    };
    let text = |key: &str| {
        json.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    match (text("error_human"), text("error")) {
        (Some(human), Some(error)) if human != error => Some(format!("{human} ({error})")),
        (Some(one), _) | (None, Some(one)) => Some(one.to_string()),
        (None, None) => otai_plugin_sdk::http::error_detail(body),
    }
}

fn hint(status: u16) -> &'static str {
    match status {
        401 => " Check the credentials (`http_token`, `oauth_token`, or `username` + `password`); a token may have been deleted or expired.",
        403 => " The user lacks a permission (otai needs `ticket.agent` with access to the groups it routes to), or token/password access is switched off in Zammad's security settings.",
        422 => " Zammad refused a value: check the pipeline's queue names (`map`, `fallback`) against Admin > Groups, and the priorities.",
        300..=399 => " Zammad answered with a redirect; check `base_url` (without /api/v1).",
        _ => "",
    }
}

/// The transport for `config`. Local only.
pub(crate) fn transport(config: &Config, log: Logger) -> Result<Http, Error> {
    let auth = match &config.auth {
        ZammadAuth::Token(token) => Auth::header(&format!("Token token={}", token.expose()))?,
        ZammadAuth::Bearer(token) => Auth::bearer(token)?,
        ZammadAuth::Basic { username, password } => Auth::basic(username, password)?,
    };
    Ok(Http::new(config.http.clone(), ZAMMAD, log)?.with_auth(auth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_read_as_zammad_writes_them() {
        let same = br#"{"error":"Couldn't find Ticket with 'id'=9","error_human":"Couldn't find Ticket with 'id'=9"}"#;
        assert_eq!(
            error_detail(same).unwrap(),
            "Couldn't find Ticket with 'id'=9"
        );
        let differ = br#"{"error":"Not authorized","error_human":"You have no access."}"#;
        assert_eq!(
            error_detail(differ).unwrap(),
            "You have no access. (Not authorized)"
        );
        assert_eq!(
            error_detail(b"<html>Bad Gateway</html>").as_deref(),
            Some("<html>Bad Gateway</html>")
        );
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let config = Config::new(
            "https://helpdesk.example.com",
            ZammadAuth::Token(otai_plugin_sdk::Secret::new("s3cr3t-token")),
        );
        let shown = format!(
            "{:?} {:?}",
            transport(&config, Logger::silent()).unwrap(),
            config
        );
        assert!(!shown.contains("s3cr3t-token"), "{shown}");
    }
}
