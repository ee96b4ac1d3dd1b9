//! Freshdesk's error answers (helpdesk-apis.md 2.7; docs "Errors"): 400 `{"description":
//! "Validation failed", "errors": [{"field", "message", "code"}]}`, 401 `{"code":
//! "invalid_credentials", "message"}`, 404 with an empty body (the docs show no body; the
//! simulator's choice, (unverified)), 405 with a `message` naming the allowed methods
//! (unverified), 429 `{"code": "rate_limit_exceeded", "message"}` (unverified: the docs show
//! only the status and `Retry-After`); and [`SimError`], what building a simulator fails with.

use otai_sim_kit::Reply;
use serde::Serialize;
use serde_json::json;

pub use otai_sim_kit::SimError;

/// One item of a 400's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The request field.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Machine-readable code (`missing_field`, `invalid_value`, `invalid_field`,
    /// `datatype_mismatch`, ...).
    pub code: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: &str, message: impl Into<String>, code: &str) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
            code: code.to_string(),
        }
    }
}

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400 Validation failed.
    Validation(Vec<FieldError>),
    /// 401.
    Unauthorized,
    /// 404, empty body.
    NotFound,
    /// 405; the methods the path allows.
    MethodNotAllowed(String, &'static [&'static str]),
    /// Any other status with a `{"code", "message"}` body (fault answers).
    Other(u16, String, String),
}

impl ApiError {
    /// 400 with one error.
    pub fn field(field: &str, message: impl Into<String>, code: &str) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message, code)])
    }

    /// 400 `invalid_json`.
    pub fn invalid_json() -> Self {
        ApiError::Validation(vec![FieldError::new(
            "",
            "Request body has invalid json format",
            "invalid_json",
        )])
    }

    /// The answer.
    pub fn reply(&self) -> Reply {
        match self {
            ApiError::Validation(errors) => Reply::status(
                400,
                json!({"description": "Validation failed", "errors": errors}),
            ),
            ApiError::Unauthorized => Reply::status(
                401,
                json!({"code": "invalid_credentials",
                       "message": "You have to be logged in to perform this action."}),
            ),
            ApiError::NotFound => Reply::empty(404),
            ApiError::MethodNotAllowed(method, allowed) => Reply::status(
                405,
                json!({"message": format!(
                    "{method} method is not allowed. It should be one of these method(s): {}",
                    allowed.join(", ")
                )}),
            )
            .with_header("allow", allowed.join(", ")),
            ApiError::Other(status, code, message) => {
                Reply::status(*status, json!({"code": code, "message": message}))
            }
        }
    }
}

/// The 429 of a refused request.
pub fn rate_limited(retry_after: u64) -> Reply {
    Reply::status(
        429,
        json!({"code": "rate_limit_exceeded",
               "message": format!("You have exceeded the limit of requests per minute. Please try again after {retry_after} seconds.")}),
    )
    .with_header("retry-after", retry_after.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_the_docs() {
        let r = ApiError::field("group_id", "bad", "invalid_value").reply();
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body.unwrap(),
            json!({"description": "Validation failed",
                   "errors": [{"field": "group_id", "message": "bad", "code": "invalid_value"}]})
        );
        assert_eq!(ApiError::NotFound.reply().body, None);
        let r = ApiError::MethodNotAllowed("PUT".into(), &["GET", "POST"]).reply();
        assert_eq!(r.header("allow"), Some("GET, POST"));
        assert_eq!(rate_limited(7).header("retry-after"), Some("7"));
    }
}
