//! [`ApiError`]: an HTTP error answer with Zendesk's body shapes, and [`SimError`] for the library.

use serde_json::{json, Value};

/// A non-2xx answer: status, Zendesk-shaped JSON body, optional `Retry-After` (seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// The JSON body, as Zendesk shapes it for this error.
    pub body: Value,
    /// `Retry-After` in seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// Any status with a body.
    pub fn new(status: u16, body: Value) -> Self {
        ApiError {
            status,
            body,
            retry_after: None,
        }
    }

    /// 404 `RecordNotFound`.
    pub fn not_found() -> Self {
        Self::new(
            404,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        )
    }

    /// 404 for a path no endpoint serves.
    pub fn invalid_endpoint() -> Self {
        Self::new(
            404,
            json!({"error": "InvalidEndpoint", "description": "Not found"}),
        )
    }

    /// 422 `RecordInvalid` with one detail under `field`.
    pub fn invalid(field: &str, description: impl Into<String>, error: &str) -> Self {
        let description = description.into();
        Self::new(
            422,
            json!({
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": { field: [ { "description": description, "error": error } ] }
            }),
        )
    }

    /// 409 `UpdateConflict` (safe update with a stale stamp).
    pub fn conflict() -> Self {
        Self::new(
            409,
            json!({"error": "UpdateConflict", "description": CONFLICT_TEXT}),
        )
    }

    /// 400 with an error code and description.
    pub fn bad_request(error: &str, description: impl Into<String>) -> Self {
        Self::new(
            400,
            json!({"error": error, "description": description.into()}),
        )
    }

    /// 400 `TooManyValues` (more than 100 ids or tickets).
    pub fn too_many(what: &str) -> Self {
        Self::new(
            400,
            json!({
                "error": "TooManyValues",
                "description": format!("{what} cannot specify more than 100 values"),
                "max_count": 100
            }),
        )
    }

    /// 401 for wrong or missing credentials (API token or password style).
    pub fn unauthenticated() -> Self {
        Self::new(401, json!({"error": "Couldn't authenticate you"}))
    }

    /// 401 for an unknown, expired or invalidated OAuth bearer token.
    pub fn invalid_token() -> Self {
        Self::new(
            401,
            json!({
                "error": "invalid_token",
                "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."
            }),
        )
    }

    /// An OAuth token-endpoint error in RFC 6749 5.2's shape: `{"error", "error_description"}`
    /// (`invalid_request`, `invalid_client`, `invalid_grant`, `invalid_scope`,
    /// `unsupported_grant_type`).
    pub fn oauth(status: u16, error: &str, description: impl Into<String>) -> Self {
        Self::new(
            status,
            json!({"error": error, "error_description": description.into()}),
        )
    }

    /// 403 (authenticated, but the token's scope or the role forbids it).
    pub fn forbidden() -> Self {
        Self::new(
            403,
            json!({
                "error": "Forbidden",
                "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."
            }),
        )
    }

    /// The answer to an `error` fault ([`crate::Fault::Error`]), in Zendesk's shape.
    pub fn simulated(status: u16, retry_after: Option<u64>) -> Self {
        ApiError {
            retry_after,
            ..Self::new(
                status,
                json!({"error": "SimulatedFault", "description": format!("Simulated HTTP {status} (otai-zendesk-sim fault injection)")}),
            )
        }
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        ApiError {
            status: 429,
            body: json!({"error": "TooManyRequests", "description": "Rate limit exceeded. Please retry after the number of seconds in the Retry-After header."}),
            retry_after: Some(retry_after),
        }
    }
}

impl From<ApiError> for otai_sim_kit::Reply {
    fn from(e: ApiError) -> Self {
        let mut r = otai_sim_kit::Reply::status(e.status, e.body);
        if let Some(s) = e.retry_after {
            r.headers.push(("retry-after".into(), s.to_string()));
        }
        r
    }
}

/// Zendesk's text for a safe-update conflict (the exact wording is unverified; see the API notes).
pub const CONFLICT_TEXT: &str =
    "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.";

/// Errors of the library API (starting the server, reading a seed file).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    SeedIo {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The seed data is not valid.
    #[error("invalid seed data{where_}: {message}")]
    Seed {
        /// Where (file and line), may be empty.
        where_: String,
        /// What is wrong.
        message: String,
    },
    /// Binding or serving failed.
    #[error("cannot start the simulator: {0}")]
    Io(#[from] std::io::Error),
}
