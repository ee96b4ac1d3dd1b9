//! Authentication: API token (`Basic base64("{email}/token:{token}")`) and OAuth bearer tokens,
//! each optionally read-only (writes answer 403). Bearer tokens are either configured here
//! ([`Credential::Bearer`], they never expire) or issued by `POST /oauth/tokens` (they expire;
//! see [`crate::oauth`]), which the server checks first.
//!
//! Like Zendesk: wrong or missing credentials get 401 `Couldn't authenticate you` (an unknown
//! bearer token gets 401 `invalid_token`), except `GET /api/v2/users/me` without any
//! `Authorization` header, which answers with the anonymous user (`id: null`).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// One accepted credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// API token with the agent's e-mail.
    ApiToken {
        /// E-mail (compared case-insensitively).
        email: String,
        /// Token.
        token: String,
        /// Writes answer 403.
        #[serde(default)]
        read_only: bool,
    },
    /// OAuth access token.
    Bearer {
        /// Token.
        token: String,
        /// Writes answer 403 (a token with `read` scope only).
        #[serde(default)]
        read_only: bool,
    },
}

/// Who the request is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Caller {
    /// No `Authorization` header.
    Anonymous,
    /// Accepted credentials.
    User { read_only: bool },
}

/// The token of an `Authorization: Bearer {token}` header.
pub(crate) fn bearer_token(header: Option<&str>) -> Option<&str> {
    let (scheme, value) = header?.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| value.trim())
        .filter(|t| !t.is_empty())
}

/// Checks the `Authorization` header against the configured credentials.
pub(crate) fn authenticate(header: Option<&str>, creds: &[Credential]) -> Result<Caller, ApiError> {
    let Some(h) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(Caller::Anonymous);
    };
    let (scheme, value) = h.split_once(' ').unwrap_or((h, ""));
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(ApiError::unauthenticated)?;
        let (user, secret) = decoded
            .split_once(':')
            .ok_or_else(ApiError::unauthenticated)?;
        // Password Basic auth (`email:password`) was removed by Zendesk: never accepted.
        let email = user
            .strip_suffix("/token")
            .ok_or_else(ApiError::unauthenticated)?;
        for c in creds {
            if let Credential::ApiToken {
                email: e,
                token,
                read_only,
            } = c
            {
                if e.eq_ignore_ascii_case(email) && token == secret {
                    return Ok(Caller::User {
                        read_only: *read_only,
                    });
                }
            }
        }
        return Err(ApiError::unauthenticated());
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        for c in creds {
            if let Credential::Bearer { token, read_only } = c {
                if token == value {
                    return Ok(Caller::User {
                        read_only: *read_only,
                    });
                }
            }
        }
        return Err(ApiError::invalid_token());
    }
    Err(ApiError::unauthenticated())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }

    #[test]
    fn token_basic_and_bearer() {
        let creds = vec![
            Credential::ApiToken {
                email: "a@b.c".into(),
                token: "t".into(),
                read_only: false,
            },
            Credential::Bearer {
                token: "r".into(),
                read_only: true,
            },
        ];
        assert_eq!(
            authenticate(Some(&basic("A@b.c/token:t")), &creds),
            Ok(Caller::User { read_only: false })
        );
        assert_eq!(
            authenticate(Some(&basic("a@b.c/token:x")), &creds)
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            authenticate(Some(&basic("a@b.c:t")), &creds)
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            authenticate(Some("Bearer r"), &creds),
            Ok(Caller::User { read_only: true })
        );
        assert_eq!(
            authenticate(Some("Bearer nope"), &creds).unwrap_err().body["error"],
            "invalid_token"
        );
        assert_eq!(authenticate(None, &creds), Ok(Caller::Anonymous));
    }

    #[test]
    fn bearer_token_of_a_header() {
        assert_eq!(bearer_token(Some("Bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some(&basic("a@b.c/token:t"))), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }
}
