//! The web service's routes: which HTTP method and path reach each operation. An admin sets them
//! per web service (`RouteOperationMapping`), so every one is configurable; the defaults are the
//! shipped GenericTicketConnectorREST's.

use std::fmt;

pub use otai_plugin_sdk::http::Method;

/// One operation's method and path (`:TicketID` is replaced by the ticket ids).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path after the web service's URL, starting with `/`.
    pub path: String,
}

impl Route {
    /// `"PATCH /Ticket/:TicketID"`.
    pub fn parse(text: &str) -> Result<Route, String> {
        let (method, path) = text
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("\"{text}\" is not `METHOD /path`"))?;
        let method = match method.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            other => return Err(format!("unknown HTTP method {other}")),
        };
        let path = path.trim();
        if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
            return Err(format!(
                "the path \"{path}\" must start with / and have no query"
            ));
        }
        Ok(Route {
            method,
            path: path.to_string(),
        })
    }

    /// The path with `:TicketID` replaced (ids comma-separated: TicketGet takes many).
    pub fn path_for(&self, ticket_ids: &str) -> String {
        self.path.replace(":TicketID", ticket_ids)
    }

    /// Whether the path carries the ticket id itself.
    pub fn has_ticket_id(&self) -> bool {
        self.path.contains(":TicketID")
    }

    /// Whether the operation's data travel in the query string (a GET's body is ignored by
    /// the GenericInterface), where nested values cannot go.
    pub fn data_in_query(&self) -> bool {
        self.method == Method::Get
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path)
    }
}

/// The four operations otai calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routes {
    /// SessionCreate; none: the login travels in every request.
    pub session: Option<Route>,
    /// TicketSearch.
    pub search: Route,
    /// TicketGet.
    pub get: Route,
    /// TicketUpdate.
    pub update: Route,
}

impl Routes {
    /// The shipped `GenericTicketConnectorREST.yml` (OTOBO, Znuny, OTRS 6).
    pub fn shipped() -> Routes {
        let r = |t: &str| Route::parse(t).expect("a valid built-in route");
        Routes {
            session: Some(r("POST /Session")),
            search: r("GET /Ticket"),
            get: r("GET /Ticket/:TicketID"),
            update: r("PATCH /Ticket/:TicketID"),
        }
    }

    /// Open Ticket AI's web service and client: POST search and get, PUT update, no session.
    pub fn open_ticket_ai() -> Routes {
        let r = |t: &str| Route::parse(t).expect("a valid built-in route");
        Routes {
            session: None,
            search: r("POST /ticket-search"),
            get: r("POST /ticket-get"),
            update: r("PUT /ticket-update"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_and_place_ticket_ids() {
        let r = Route::parse("patch  /Ticket/:TicketID").unwrap();
        assert_eq!(r.method, Method::Patch);
        assert_eq!(r.path_for("7"), "/Ticket/7");
        assert_eq!(
            Route::parse("GET /Ticket/:TicketID")
                .unwrap()
                .path_for("1,2"),
            "/Ticket/1,2"
        );
        assert!(Route::parse("/Ticket").is_err());
        assert!(Route::parse("GET Ticket").is_err());
        assert!(Route::parse("GET /Ticket?x=1").is_err());
        assert!(Routes::shipped().search.data_in_query());
        assert_eq!(
            Routes::shipped().update.to_string(),
            "PATCH /Ticket/:TicketID"
        );
    }
}
