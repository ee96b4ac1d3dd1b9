//! Calling a GenericInterface operation: the route, the credentials in the data, the answer's
//! body checked for an `Error` (operation errors come back as HTTP 200), a session created once
//! and renewed when the system no longer knows it.
//!
//! Credentials: with a session route, the password travels once, in the body of SessionCreate;
//! every other request carries the SessionID (in the query string for GET routes, where a web
//! server's access log may record it: prefer POST routes where you can). Without one, the login
//! travels in every request. Neither ever appears in otai's logs or errors, which name the path only.

use otai_plugin_sdk::{http::Http, Error, ErrorKind, Secret};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::{config::Config, routes::Route};

/// The operations otai calls, for messages and error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `Session::SessionCreate`.
    SessionCreate,
    /// `Ticket::TicketSearch`.
    TicketSearch,
    /// `Ticket::TicketGet`.
    TicketGet,
    /// `Ticket::TicketUpdate`.
    TicketUpdate,
}

impl Operation {
    /// `TicketSearch`, ...
    pub fn name(self) -> &'static str {
        match self {
            Operation::SessionCreate => "SessionCreate",
            Operation::TicketSearch => "TicketSearch",
            Operation::TicketGet => "TicketGet",
            Operation::TicketUpdate => "TicketUpdate",
        }
    }
}

/// The web service of one configured system.
#[derive(Debug)]
pub struct Gi {
    http: Http,
    /// The web service's path on the server (`/otobo/nph-genericinterface.pl/Webservice/X`).
    prefix: String,
    username: String,
    password: Secret,
    session_route: Option<Route>,
    session: Mutex<Option<Secret>>,
}

impl Gi {
    /// A client for `config`'s web service over `http`.
    pub fn new(http: Http, prefix: String, config: &Config) -> Gi {
        Gi {
            http,
            prefix,
            username: config.username.clone(),
            password: config.password.clone(),
            session_route: config.routes.session.clone(),
            session: Mutex::new(None),
        }
    }

    /// The transport (counters, log).
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Calls `op` at `route` (`:TicketID` replaced by `ids`) with `data`; the answer's data.
    pub async fn call(
        &self,
        op: Operation,
        route: &Route,
        ids: &str,
        data: Map<String, Value>,
    ) -> Result<Value, Error> {
        let mut renewed = false;
        loop {
            let (auth, session) = self.credentials().await?;
            let mut all = auth;
            all.extend(data.clone());
            match self.send(op, route, ids, all).await {
                Err(e) if e.kind == ErrorKind::Auth && session && !renewed => {
                    // The system forgot the session (expired, or restarted): a new one, once.
                    // An AuthFail was not processed, so sending again is not blind.
                    *self.session.lock().await = None;
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    /// The auth data for the next request, and whether it is a session.
    async fn credentials(&self) -> Result<(Map<String, Value>, bool), Error> {
        let mut auth = Map::new();
        let Some(route) = &self.session_route else {
            auth.insert("UserLogin".into(), self.username.clone().into());
            auth.insert("Password".into(), self.password.expose().into());
            return Ok((auth, false));
        };
        let mut session = self.session.lock().await;
        if session.is_none() {
            let mut login = Map::new();
            login.insert("UserLogin".into(), self.username.clone().into());
            login.insert("Password".into(), self.password.expose().into());
            let answer = self
                .send(Operation::SessionCreate, route, "", login)
                .await
                .map_err(|e| e.context("creating a session"))?;
            let id = answer
                .get("SessionID")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        format!("{route}: SessionCreate answered without a SessionID"),
                    )
                })?;
            *session = Some(Secret::new(id));
        }
        let id = session
            .as_ref()
            .expect("created above")
            .expose()
            .to_string();
        auth.insert("SessionID".into(), id.into());
        Ok((auth, true))
    }

    async fn send(
        &self,
        op: Operation,
        route: &Route,
        ids: &str,
        data: Map<String, Value>,
    ) -> Result<Value, Error> {
        let path = format!("{}{}", self.prefix, route.path_for(ids));
        let answer = if route.data_in_query() {
            let query = query_pairs(op, &data)?;
            let pairs: Vec<(&str, String)> =
                query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            self.http.send(route.method, &path, &pairs, None).await?
        } else {
            self.http
                .send(route.method, &path, &[], Some(&Value::Object(data)))
                .await?
        };
        let value: Value =
            otai_plugin_sdk::lenient_json::from_slice(&answer.body).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!(
                        "{} {path} ({}): the answer is not JSON: {e}",
                        route.method.as_str(),
                        op.name()
                    ),
                )
                .with_http_status(answer.status)
            })?;
        if let Some(error) = value.get("Error") {
            return Err(operation_error(op, route, &path, error, answer.request_id));
        }
        Ok(value)
    }
}

/// An `{"Error": {"ErrorCode", "ErrorMessage"}}` answered with HTTP 200, as otai's error.
fn operation_error(
    op: Operation,
    route: &Route,
    path: &str,
    error: &Value,
    request_id: Option<String>,
) -> Error {
    let code = error
        .get("ErrorCode")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let message = error
        .get("ErrorMessage")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let suffix = code.rsplit('.').next().unwrap_or(code);
    let (kind, hint) = match suffix {
        "AuthFail" => (
            ErrorKind::Auth,
            " Check `username` and `password` (the agent must be valid and allowed to log in).",
        ),
        "AccessDenied" => (
            ErrorKind::Forbidden,
            " The agent lacks permissions on this ticket's queue (otai needs rw on the queues it reads and routes to).",
        ),
        "MissingParameter" | "InvalidParameter" | "EmptyRequest" => (
            ErrorKind::Validation,
            " Check the queue, priority and dynamic field names (`map`, `fallback`, `tags_field`, `priorities`).",
        ),
        "NotTicketID" | "NotFound" => (ErrorKind::NotFound, ""),
        _ => (ErrorKind::Transport, ""),
    };
    let mut text = format!(
        "{} {path} ({}) failed: {code}",
        route.method.as_str(),
        op.name()
    );
    if !message.is_empty() {
        text.push_str(": ");
        text.push_str(message);
    }
    text.push('.');
    text.push_str(hint);
    let mut e = Error::new(kind, text);
    e.request_id = request_id;
    e
}

/// The data as query pairs: scalars once, lists as repeated keys. Nested values cannot travel in a
/// query string.
fn query_pairs(op: Operation, data: &Map<String, Value>) -> Result<Vec<(String, String)>, Error> {
    let mut pairs = Vec::new();
    for (key, value) in data {
        let mut push = |v: &Value| -> Result<(), Error> {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => (if *b { "1" } else { "0" }).to_string(),
                Value::Null => return Ok(()),
                _ => {
                    return Err(Error::new(
                        ErrorKind::Config,
                        format!(
                        "{}: `{key}` cannot be sent in a GET query string; give the operation a \
                             POST route in `routes`",
                        op.name()
                    ),
                    ))
                }
            };
            pairs.push((key.clone(), text));
            Ok(())
        };
        match value {
            Value::Array(items) => items.iter().try_for_each(&mut push)?,
            other => push(other)?,
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn query_pairs_repeat_lists_and_refuse_nesting() {
        let data = json!({"StateType": "new", "Queues": ["Raw", "Postmaster"], "Limit": 50});
        let pairs = query_pairs(Operation::TicketSearch, data.as_object().unwrap()).unwrap();
        assert_eq!(
            pairs,
            [
                ("Limit".to_string(), "50".to_string()),
                ("Queues".to_string(), "Raw".to_string()),
                ("Queues".to_string(), "Postmaster".to_string()),
                ("StateType".to_string(), "new".to_string()),
            ]
        );
        let nested = json!({"DynamicField_OTAITags": {"Empty": 1}});
        let e = query_pairs(Operation::TicketSearch, nested.as_object().unwrap()).unwrap_err();
        assert!(e.message.contains("POST route"), "{}", e.message);
    }

    #[test]
    fn error_codes_map_onto_kinds_with_a_hint() {
        let route = Route::parse("GET /Ticket").unwrap();
        let e = operation_error(
            Operation::TicketSearch,
            &route,
            "/Ticket",
            &json!({"ErrorCode": "TicketSearch.AuthFail", "ErrorMessage": "TicketSearch: Authorization failing!"}),
            None,
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(
            e.message
                .contains("GET /Ticket (TicketSearch) failed: TicketSearch.AuthFail"),
            "{}",
            e.message
        );
        assert!(e.message.contains("`username`"), "{}", e.message);
        let invalid = operation_error(
            Operation::TicketUpdate,
            &route,
            "/Ticket/7",
            &json!({"ErrorCode": "TicketUpdate.InvalidParameter", "ErrorMessage": "Ticket->Queue is invalid!"}),
            None,
        );
        assert_eq!(invalid.kind, ErrorKind::Validation);
    }
}
