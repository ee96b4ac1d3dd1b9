//! [`ApiError`]: an error answer in Zammad's shape, `{"error": msg, "error_human": msg}` with the
//! status Zammad's `handles_errors.rb` gives it and `X-Failure` on 401/403; [`SimError`] (the
//! kit's) for the library.

use otai_sim_kit::Reply;
use serde_json::json;

/// A non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The message (`error` and `error_human` carry the same text, as Zammad sends them for the
    /// exceptions it knows).
    pub message: String,
}

impl ApiError {
    /// Any status and message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 401 `Exceptions::NotAuthorized` (wrong credentials).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }

    /// 403 `Exceptions::Forbidden` (no credentials, access method disabled, no permission).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }

    /// 404 `ActiveRecord::RecordNotFound`: `Couldn't find Ticket with 'id'=7`.
    pub fn not_found(model: &str, id: impl std::fmt::Display) -> Self {
        Self::new(404, format!("Couldn't find {model} with 'id'={id}"))
    }

    /// 404 for a path no route serves (`ActionController::RoutingError`).
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(404, format!("No route matches [{method}] \"{path}\""))
    }

    /// 422 `Exceptions::UnprocessableEntity`.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, message)
    }

    /// The answer: JSON body, and `X-Failure` for 401 and 403 as Zammad sends it.
    pub fn reply(&self) -> Reply {
        let reply = Reply::status(
            self.status,
            json!({"error": self.message, "error_human": self.message}),
        );
        if self.status == 401 || self.status == 403 {
            reply.with_header("x-failure", self.message.clone())
        } else {
            reply
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

/// What can go wrong starting the simulator (the kit's, shared by the simulators).
pub use otai_sim_kit::SimError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_both_texts_and_auth_errors_the_failure_header() {
        let r = ApiError::not_found("Ticket", 7).reply();
        assert_eq!(r.status, 404);
        assert_eq!(
            r.body.clone().unwrap(),
            json!({"error": "Couldn't find Ticket with 'id'=7",
                   "error_human": "Couldn't find Ticket with 'id'=7"})
        );
        assert_eq!(r.header("x-failure"), None);
        let r = ApiError::unauthorized("Can't find User for Token").reply();
        assert_eq!(r.header("X-Failure"), Some("Can't find User for Token"));
        assert!(ApiError::forbidden("x")
            .reply()
            .header("x-failure")
            .is_some());
    }
}
