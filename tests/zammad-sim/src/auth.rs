//! Authentication as Zammad's `ApplicationController::Authenticates` does it: HTTP Basic, then
//! `Authorization: Token token=...` (Rails also hands `Bearer ...` to the token check first),
//! then OAuth2 bearer tokens. No credentials: 403 `Authentication required`; wrong ones: 401
//! with the first failure's text; a disabled method: 403 (`API token access disabled!`, which
//! also stops bearer headers, as in Zammad).

use base64::Engine as _;

use crate::error::ApiError;

/// Default API token.
pub const DEFAULT_TOKEN: &str = "sim-token";
/// Default Basic user (the API user's login).
pub const DEFAULT_BASIC_USER: &str = "agent@example.com";
/// Default Basic password.
pub const DEFAULT_BASIC_PASSWORD: &str = "secret";
/// Default OAuth2 bearer token.
pub const DEFAULT_BEARER: &str = "sim-oauth-token";

/// Which credentials the simulated Zammad accepts (all for the one API user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// API tokens (`Token token=...`).
    pub tokens: Vec<String>,
    /// `api_token_access`: off answers 403 to token and bearer headers.
    pub token_access: bool,
    /// Basic user and password.
    pub basic: Vec<(String, String)>,
    /// `api_password_access`: off answers 403 to Basic.
    pub password_access: bool,
    /// OAuth2 access tokens (`Bearer ...`).
    pub bearers: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            tokens: vec![DEFAULT_TOKEN.into()],
            token_access: true,
            basic: vec![(DEFAULT_BASIC_USER.into(), DEFAULT_BASIC_PASSWORD.into())],
            password_access: true,
            bearers: vec![DEFAULT_BEARER.into()],
        }
    }
}

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic.
    Basic,
    /// API token.
    Token,
    /// OAuth2 bearer.
    Bearer,
}

impl AuthConfig {
    /// Checks an `Authorization` header.
    pub fn check(&self, header: Option<&str>) -> Result<AuthMethod, ApiError> {
        let Some(h) = header.map(str::trim).filter(|h| !h.is_empty()) else {
            return Err(ApiError::forbidden("Authentication required"));
        };
        let (scheme, rest) = h.split_once(char::is_whitespace).unwrap_or((h, ""));
        let rest = rest.trim();
        let mut errors: Vec<&str> = Vec::new();
        if scheme.eq_ignore_ascii_case("basic") {
            if !self.password_access {
                return Err(ApiError::forbidden("API password access disabled!"));
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            let (user, pass) = decoded.split_once(':').unwrap_or((&decoded, ""));
            if self
                .basic
                .iter()
                .any(|(u, p)| u.eq_ignore_ascii_case(user) && p == pass)
            {
                return Ok(AuthMethod::Basic);
            }
            errors.push("Invalid BasicAuth credentials");
        }
        let is_token = scheme.eq_ignore_ascii_case("token");
        let is_bearer = scheme.eq_ignore_ascii_case("bearer");
        if is_token || is_bearer {
            if !self.token_access {
                return Err(ApiError::forbidden("API token access disabled!"));
            }
            let token = token_of(rest, is_bearer);
            if self.tokens.contains(&token) {
                return Ok(AuthMethod::Token);
            }
            errors.push("Can't find User for Token");
        }
        if is_bearer {
            if self.bearers.iter().any(|t| t == rest) {
                return Ok(AuthMethod::Bearer);
            }
            return Err(ApiError::unauthorized("The provided token is invalid."));
        }
        if errors.is_empty() {
            return Err(ApiError::forbidden("Authentication required"));
        }
        Err(ApiError::unauthorized(errors.join(", ")))
    }
}

/// The token of `token=abc` / `token="abc", ...` (Rails' `token_and_options`); a bearer's
/// whole value.
fn token_of(rest: &str, bearer: bool) -> String {
    if bearer {
        return rest.to_string();
    }
    for part in rest.split([',', ';']) {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("token=") {
            return v.trim_matches('"').to_string();
        }
    }
    rest.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(u: &str, p: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    }

    #[test]
    fn each_method_and_its_failure_text() {
        let a = AuthConfig::default();
        assert_eq!(
            a.check(Some("Token token=sim-token")),
            Ok(AuthMethod::Token)
        );
        assert_eq!(
            a.check(Some("Token token=\"sim-token\"")),
            Ok(AuthMethod::Token)
        );
        assert_eq!(
            a.check(Some("Bearer sim-oauth-token")),
            Ok(AuthMethod::Bearer)
        );
        assert_eq!(a.check(Some("Bearer sim-token")), Ok(AuthMethod::Token));
        assert_eq!(
            a.check(Some(&basic("Agent@Example.com", "secret"))),
            Ok(AuthMethod::Basic)
        );
        let e = a.check(None).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (403, "Authentication required")
        );
        let e = a.check(Some("Token token=nope")).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (401, "Can't find User for Token")
        );
        let e = a
            .check(Some(&basic("agent@example.com", "wrong")))
            .unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (401, "Invalid BasicAuth credentials")
        );
        let e = a.check(Some("Bearer nope")).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (401, "The provided token is invalid.")
        );
        assert_eq!(a.check(Some("Digest x")).unwrap_err().status, 403);
    }

    #[test]
    fn disabled_methods_answer_403() {
        let a = AuthConfig {
            token_access: false,
            password_access: false,
            ..AuthConfig::default()
        };
        let e = a.check(Some("Token token=sim-token")).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (403, "API token access disabled!")
        );
        assert_eq!(
            a.check(Some("Bearer sim-oauth-token")).unwrap_err().status,
            403
        );
        let e = a
            .check(Some(&basic("agent@example.com", "secret")))
            .unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (403, "API password access disabled!")
        );
        let none = AuthConfig {
            bearers: vec![],
            ..AuthConfig::default()
        };
        assert_eq!(
            none.check(Some("Bearer sim-oauth-token"))
                .unwrap_err()
                .status,
            401
        );
    }
}
