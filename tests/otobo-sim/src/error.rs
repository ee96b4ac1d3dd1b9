//! The GenericInterface's two kinds of failure, and the library's error type:
//!
//! - [`OpError`]: an operation refused the request (`ReturnError` in `Operation/Common.pm`):
//!   **HTTP 200** with `{"Error": {"ErrorCode": "TicketUpdate.InvalidParameter", "ErrorMessage":
//!   "TicketUpdate: ..."}}`.
//! - [`Failure`]: the transport or a failed operation (`Success => 0`): **HTTP 500** from
//!   `Transport/HTTP/REST.pm`, labelled `text/plain; charset=UTF-8` whatever the body is: the
//!   transport's own message as plain text ([`Failure::Transport`]), an operation's as the JSON
//!   text `{"faultcode":"Server","faultstring":"..."}` ([`Failure::Operation`]).
//! - [`SimError`] (the kit's): what can go wrong building or starting the simulator.

use otai_sim_kit::Reply;
use serde_json::json;

/// The content type of every answer that is not HTTP 200 (`_ThrowWebException`).
pub const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";

/// An operation's error answer (HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpError {
    /// `TicketGet.AccessDenied`, ...
    pub code: String,
    /// `TicketGet: User does not have access to the ticket!`, ...
    pub message: String,
}

impl OpError {
    /// `<operation>.<code>` with `<operation>: <message>`, as the operations word them.
    pub fn new(operation: &str, code: &str, message: &str) -> Self {
        OpError {
            code: format!("{operation}.{code}"),
            message: format!("{operation}: {message}"),
        }
    }

    /// The answer: HTTP 200, `{"Error": {...}}`.
    pub fn reply(&self) -> Reply {
        Reply::ok(json!({"Error": {"ErrorCode": self.code, "ErrorMessage": self.message}}))
    }
}

/// An HTTP 500 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The transport's own error (no route, undecodable body, unknown web service): its message
    /// as plain text (empty for an unknown web service).
    Transport(String),
    /// A failed operation (a setter of TicketUpdate that failed, an invalid dynamic field item):
    /// `{"faultcode":"Server","faultstring":message}`.
    Operation(String),
}

impl Failure {
    /// No route of the web service matches (`ProviderProcessRequest`).
    pub fn no_route(route: &str) -> Self {
        Failure::Transport(format!(
            "HTTP::REST Error while determine Operation for request URI '{route}'."
        ))
    }

    /// The answer: HTTP 500, `text/plain`.
    pub fn reply(&self) -> Reply {
        let text = match self {
            Failure::Transport(message) => message.clone(),
            Failure::Operation(message) => {
                json!({"faultcode": "Server", "faultstring": message}).to_string()
            }
        };
        Reply::text(500, TEXT_PLAIN, text)
    }
}

/// An operation's outcome other than success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP 200 with an `Error` object.
    Op(OpError),
    /// HTTP 500.
    Failed(Failure),
}

impl From<OpError> for Refusal {
    fn from(e: OpError) -> Self {
        Refusal::Op(e)
    }
}

impl From<Failure> for Refusal {
    fn from(f: Failure) -> Self {
        Refusal::Failed(f)
    }
}

impl Refusal {
    /// The answer.
    pub fn reply(&self) -> Reply {
        match self {
            Refusal::Op(e) => e.reply(),
            Refusal::Failed(f) => f.reply(),
        }
    }
}

/// What can go wrong building or starting the simulator (the kit's, shared by the simulators).
pub use otai_sim_kit::SimError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_errors_are_200_and_failures_are_500_plain_text() {
        let r = OpError::new(
            "TicketGet",
            "AccessDenied",
            "User does not have access to the ticket!",
        )
        .reply();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body.unwrap()["Error"],
            json!({"ErrorCode": "TicketGet.AccessDenied",
                   "ErrorMessage": "TicketGet: User does not have access to the ticket!"})
        );
        let r = Failure::no_route("/Nope").reply();
        assert_eq!(
            (r.status, r.header("content-type")),
            (500, Some(TEXT_PLAIN))
        );
        assert_eq!(
            r.text.as_deref(),
            Some("HTTP::REST Error while determine Operation for request URI '/Nope'.")
        );
        let r = Failure::Operation("Ticket queue could not be updated".into()).reply();
        let body: serde_json::Value = serde_json::from_str(r.text.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"faultcode": "Server", "faultstring": "Ticket queue could not be updated"})
        );
    }
}
