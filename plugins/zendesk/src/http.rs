//! Zendesk's side of the SDK's HTTP transport ([`otai_plugin_sdk::http`], which retries, counts
//! and maps errors): the vendor profile (what to check per status), the `Authorization` of each
//! auth method, and the OAuth token manager as the transport's renewing credential.

use std::sync::Arc;

use otai_plugin_sdk::{
    http::{error_detail, Auth, Authorization, Authorizer, BoxFuture, Http, HttpSettings, Vendor},
    Error, Logger,
};

use crate::{
    config::{Auth as ZendeskAuth, Config},
    oauth::TokenManager,
    PLUGIN_NAME,
};

/// How Zendesk's answers read: `x-request-id`, the usual error shapes, and a hint per status.
pub(crate) const ZENDESK: Vendor = Vendor {
    plugin: PLUGIN_NAME,
    name: "Zendesk",
    request_id_header: "x-request-id",
    error_detail,
    hint,
};

fn hint(status: u16) -> &'static str {
    match status {
        401 => " Check the credentials (`oauth`, or `email` + `api_token`, or `oauth_token`); a fixed `oauth_token` may have expired.",
        403 => " The user's role or the token's scope does not allow this (otai needs the scopes `read write`: set `oauth.scope`).",
        409 => " The ticket changed in the meantime; nothing was written.",
        300..=399 => " Zendesk answered with a redirect; check `domain` / `base_url`.",
        _ => "",
    }
}

/// The transport for `config` and, with an OAuth client, its token manager (for `check
/// --connect` and the renewal counter). Local only.
pub(crate) fn transport(
    config: &Config,
    log: Logger,
) -> Result<(Http, Option<Arc<TokenManager>>), Error> {
    let settings = HttpSettings {
        base_url: config.base_url.clone(),
        timeout: config.timeout,
        verify: config.verify.clone(),
        max_attempts: config.max_attempts,
        max_retry_wait: config.max_retry_wait,
        max_response_bytes: config.max_response_bytes,
        user_agent: concat!("otai-zendesk/", env!("CARGO_PKG_VERSION")).to_string(),
    };
    let http = Http::new(settings, ZENDESK, log.clone())?;
    let (auth, oauth) = match &config.auth {
        ZendeskAuth::ApiToken { email, token } => {
            (Auth::basic(&format!("{email}/token"), token)?, None)
        }
        ZendeskAuth::OAuth { token } => (Auth::bearer(token)?, None),
        ZendeskAuth::OAuthClient(oauth) => {
            let manager = Arc::new(TokenManager::new(
                http.reqwest_client().clone(),
                &config.base_url,
                oauth.clone(),
                config.timeout,
                config.max_attempts,
                log,
            )?);
            (
                Auth::Renewing(Arc::new(OAuthAuthorizer(manager.clone()))),
                Some(manager),
            )
        }
    };
    Ok((http.with_auth(auth), oauth))
}

/// The token manager as the transport asks for credentials: before every attempt, and after a
/// 401 to a token generation.
struct OAuthAuthorizer(Arc<TokenManager>);

impl Authorizer for OAuthAuthorizer {
    fn authorization(&self) -> BoxFuture<'_, Result<Authorization, Error>> {
        Box::pin(self.0.authorization())
    }

    fn rejected(&self, generation: u64) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { self.0.rejected(generation).await.map(drop) })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use otai_plugin_sdk::Secret;

    use super::*;

    #[test]
    fn auth_headers_are_sensitive_and_correct() {
        let header = |auth: ZendeskAuth| {
            let config = Config::new("https://acme.zendesk.com", auth);
            let http = transport(&config, Logger::silent()).unwrap().0;
            format!("{http:?}")
        };
        // The header never shows in Debug output.
        let shown = header(ZendeskAuth::ApiToken {
            email: "a@b.c".into(),
            token: Secret::new("tok"),
        });
        assert!(
            shown.contains("[redacted]") && !shown.contains("tok\""),
            "{shown}"
        );
        let Auth::Fixed(h) = Auth::basic("a@b.c/token", &Secret::new("tok")).unwrap() else {
            panic!("a fixed header")
        };
        assert!(h.is_sensitive());
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("a@b.c/token:tok")
        );
        assert_eq!(h.to_str().unwrap(), expected);
    }
}
