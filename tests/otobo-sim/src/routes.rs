//! Where a request goes: the [`Flavour`]'s URL prefix, the web service (`Webservice/<Name>` or
//! `WebserviceID/<id>`) and the web service's route table ([`Routes`], the transport's
//! `RouteOperationMapping`), matched as `Transport/HTTP/REST.pm` matches it: operations in the
//! sorted order of their names, the first whose methods include the request's (none listed: any)
//! and whose route, with `:Param` matching one path segment, matches the whole path.

use crate::error::SimError;

/// Which product the simulator is: the URL prefix (and small differences of the operations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// OTOBO 10/11: `/otobo/nph-genericinterface.pl`.
    #[default]
    Otobo,
    /// Znuny: `/otrs/nph-genericinterface.pl`.
    Znuny,
    /// ((OTRS)) Community Edition 6: `/otrs/nph-genericinterface.pl`; TicketSearch takes
    /// `DynamicField_<Name>` keys only (no `DynamicField: {Name, ...}` form).
    Otrs6,
}

impl Flavour {
    /// The script's path: `/otobo/nph-genericinterface.pl` or `/otrs/nph-genericinterface.pl`.
    pub fn script_path(self) -> &'static str {
        match self {
            Flavour::Otobo => "/otobo/nph-genericinterface.pl",
            Flavour::Znuny | Flavour::Otrs6 => "/otrs/nph-genericinterface.pl",
        }
    }

    /// `otobo`, `znuny`, `otrs6` (also what [`Flavour::parse`] reads).
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Otobo => "otobo",
            Flavour::Znuny => "znuny",
            Flavour::Otrs6 => "otrs6",
        }
    }

    /// From `otobo`, `znuny` or `otrs6` (any case).
    pub fn parse(s: &str) -> Result<Self, SimError> {
        match s.to_ascii_lowercase().as_str() {
            "otobo" => Ok(Flavour::Otobo),
            "znuny" => Ok(Flavour::Znuny),
            "otrs6" | "otrs" => Ok(Flavour::Otrs6),
            other => Err(SimError::Config(format!(
                "unknown flavour {other:?}: otobo, znuny or otrs6"
            ))),
        }
    }
}

/// The operations the simulator implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
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
    /// Its type's name, as in error codes and [`crate::Stats::by_operation`].
    pub fn name(self) -> &'static str {
        match self {
            Operation::SessionCreate => "SessionCreate",
            Operation::TicketSearch => "TicketSearch",
            Operation::TicketGet => "TicketGet",
            Operation::TicketUpdate => "TicketUpdate",
        }
    }

    /// From `SessionCreate` / `session`, `TicketSearch` / `search`, `TicketGet` / `get`,
    /// `TicketUpdate` / `update` (any case).
    pub fn parse(s: &str) -> Result<Self, SimError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "sessioncreate" | "session" => Operation::SessionCreate,
            "ticketsearch" | "search" => Operation::TicketSearch,
            "ticketget" | "get" => Operation::TicketGet,
            "ticketupdate" | "update" => Operation::TicketUpdate,
            _ => {
                return Err(SimError::Config(format!(
                    "unknown operation {s:?}: session, search, get or update"
                )))
            }
        })
    }
}

/// One entry of the route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The operation's name in the web service (routes are tried in the order of these names).
    pub name: String,
    /// What it runs.
    pub operation: Operation,
    /// Allowed methods (upper case); empty: any.
    pub methods: Vec<String>,
    /// `/Ticket/:TicketID`.
    pub path: String,
}

impl Route {
    /// The path parameters when `method` and `path` match.
    fn matches(&self, method: &str, path: &str) -> Option<Vec<(String, String)>> {
        if !self.methods.is_empty() && !self.methods.iter().any(|m| m == method) {
            return None;
        }
        let want: Vec<&str> = self.path.split('/').collect();
        let got: Vec<&str> = path.split('/').collect();
        if want.len() != got.len() {
            return None;
        }
        let mut params = Vec::new();
        for (w, g) in want.iter().zip(&got) {
            match w.strip_prefix(':') {
                Some(name) if !g.is_empty() => params.push((name.to_string(), g.to_string())),
                Some(_) => return None,
                None if w == g => {}
                None => return None,
            }
        }
        Some(params)
    }
}

/// A web service's route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    routes: Vec<Route>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::shipped()
    }
}

impl Routes {
    /// The sample `GenericTicketConnectorREST.yml` that OTOBO, Znuny and OTRS ship:
    /// `POST /Session`, `GET /Ticket` (search), `GET /Ticket/:TicketID`,
    /// `PATCH /Ticket/:TicketID`.
    pub fn shipped() -> Self {
        let r = |name: &str, op, method: &str, path: &str| Route {
            name: name.into(),
            operation: op,
            methods: vec![method.into()],
            path: path.into(),
        };
        Routes::from_routes(vec![
            r(
                "SessionCreate",
                Operation::SessionCreate,
                "POST",
                "/Session",
            ),
            r(
                "TicketGet",
                Operation::TicketGet,
                "GET",
                "/Ticket/:TicketID",
            ),
            r("TicketSearch", Operation::TicketSearch, "GET", "/Ticket"),
            r(
                "TicketUpdate",
                Operation::TicketUpdate,
                "PATCH",
                "/Ticket/:TicketID",
            ),
        ])
    }

    /// Open Ticket AI's web service (Softoft-Orga's Znuny/OTOBO setup): `/ticket-search`,
    /// `/ticket-get`, `/ticket-update`, any method; no session route (it logs in per request).
    pub fn open_ticket_ai() -> Self {
        let r = |name: &str, op| Route {
            name: name.into(),
            operation: op,
            methods: Vec::new(),
            path: format!("/{name}"),
        };
        Routes::from_routes(vec![
            r("ticket-get", Operation::TicketGet),
            r("ticket-search", Operation::TicketSearch),
            r("ticket-update", Operation::TicketUpdate),
        ])
    }

    /// A table from `(operation, "METHOD /Route")` pairs: `("search", "POST /Ticket/Search")`,
    /// `("get", "GET|POST /Ticket/:TicketID")`, `("update", "* /ticket-update")` (`*` or `ANY`:
    /// any method). Operations: `session`, `search`, `get`, `update` (or their type names).
    pub fn parse(entries: &[(&str, &str)]) -> Result<Self, SimError> {
        let mut routes = Vec::new();
        for (op, spec) in entries {
            let operation = Operation::parse(op)?;
            routes.push(parse_route(operation, operation.name(), spec)?);
        }
        Ok(Routes::from_routes(routes))
    }

    /// This table with `operation`'s route replaced (or added): `"POST /Session"`.
    pub fn with(self, operation: &str, spec: &str) -> Result<Self, SimError> {
        let operation = Operation::parse(operation)?;
        let mut routes = self.routes;
        let name = routes
            .iter()
            .find(|r| r.operation == operation)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| operation.name().to_string());
        routes.retain(|r| r.operation != operation);
        routes.push(parse_route(operation, &name, spec)?);
        Ok(Routes::from_routes(routes))
    }

    fn from_routes(mut routes: Vec<Route>) -> Self {
        routes.sort_by(|a, b| a.name.cmp(&b.name));
        Routes { routes }
    }

    /// The entries, in the order they are tried.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route of `operation`, if the table has one.
    pub fn route_of(&self, operation: Operation) -> Option<&Route> {
        self.routes.iter().find(|r| r.operation == operation)
    }

    /// The operation for `method` and the route part of the path, with the path parameters.
    pub fn resolve(&self, method: &str, path: &str) -> Option<(Operation, Vec<(String, String)>)> {
        self.routes
            .iter()
            .find_map(|r| r.matches(method, path).map(|p| (r.operation, p)))
    }
}

fn parse_route(operation: Operation, name: &str, spec: &str) -> Result<Route, SimError> {
    let bad = || {
        SimError::Config(format!(
            "route {spec:?} for {}: expected \"METHOD /Path\" (METHOD: GET, GET|POST, * or ANY)",
            operation.name()
        ))
    };
    let (methods, path) = spec.trim().split_once(' ').ok_or_else(bad)?;
    let path = path.trim();
    if !path.starts_with('/') {
        return Err(bad());
    }
    let methods = match methods.to_ascii_uppercase().as_str() {
        "*" | "ANY" => Vec::new(),
        m => m.split('|').map(str::to_string).collect(),
    };
    if methods.iter().any(|m| m.is_empty()) {
        return Err(bad());
    }
    Ok(Route {
        name: name.to_string(),
        operation,
        methods,
        path: path.to_string(),
    })
}

/// Where a request's path points, below the script's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// `Webservice/<Name><route>`.
    ByName(&'a str, &'a str),
    /// `WebserviceID/<id><route>`.
    ById(&'a str, &'a str),
}

/// Splits a raw path into the web service and the route part (empty when the path ends at the
/// web service), or `None` when it is not below `script`.
pub fn target<'a>(script: &str, raw_path: &'a str) -> Option<Target<'a>> {
    let rest = raw_path.strip_prefix(script)?.strip_prefix('/')?;
    let (kind, rest) = rest.split_once('/')?;
    let (service, route) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if service.is_empty() {
        return None;
    }
    match kind {
        "Webservice" => Some(Target::ByName(service, route)),
        "WebserviceID" => Some(Target::ById(service, route)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_tells_search_from_get_by_the_path() {
        let r = Routes::shipped();
        assert_eq!(
            r.resolve("GET", "/Ticket/17"),
            Some((Operation::TicketGet, vec![("TicketID".into(), "17".into())]))
        );
        assert_eq!(
            r.resolve("GET", "/Ticket"),
            Some((Operation::TicketSearch, vec![]))
        );
        assert_eq!(
            r.resolve("PATCH", "/Ticket/17").map(|x| x.0),
            Some(Operation::TicketUpdate)
        );
        assert_eq!(r.resolve("POST", "/Ticket/17"), None);
        assert_eq!(r.resolve("GET", "/Ticket/"), None);
        assert_eq!(r.resolve("GET", "/Ticket/1/2"), None);
    }

    #[test]
    fn open_ticket_ai_routes_take_any_method_and_custom_tables_parse() {
        let r = Routes::open_ticket_ai();
        assert_eq!(
            r.resolve("PUT", "/ticket-get").map(|x| x.0),
            Some(Operation::TicketGet)
        );
        assert_eq!(r.route_of(Operation::SessionCreate), None);
        let r = Routes::parse(&[
            ("search", "POST /Ticket/Search"),
            ("get", "get|post /Ticket/:TicketID"),
        ])
        .unwrap();
        // TicketGet sorts before TicketSearch: POST /Ticket/Search is a TicketGet of "Search",
        // as the real transport would route it.
        assert_eq!(
            r.resolve("POST", "/Ticket/Search").map(|x| x.0),
            Some(Operation::TicketGet)
        );
        assert!(Routes::parse(&[("search", "/Ticket")]).is_err());
        assert!(Routes::parse(&[("delete", "GET /x")]).is_err());
        let r = Routes::shipped().with("search", "POST /Search").unwrap();
        assert_eq!(
            r.resolve("POST", "/Search").map(|x| x.0),
            Some(Operation::TicketSearch)
        );
        assert_eq!(r.resolve("GET", "/Ticket"), None);
    }

    #[test]
    fn targets_by_name_and_id_below_the_script() {
        let s = Flavour::Otobo.script_path();
        assert_eq!(
            target(s, "/otobo/nph-genericinterface.pl/Webservice/GTC/Ticket/1"),
            Some(Target::ByName("GTC", "/Ticket/1"))
        );
        assert_eq!(
            target(s, "/otobo/nph-genericinterface.pl/WebserviceID/3/Session"),
            Some(Target::ById("3", "/Session"))
        );
        assert_eq!(
            target(s, "/otobo/nph-genericinterface.pl/Webservice/GTC"),
            Some(Target::ByName("GTC", ""))
        );
        assert_eq!(
            target(s, "/otrs/nph-genericinterface.pl/Webservice/GTC/x"),
            None
        );
        assert_eq!(
            target(s, "/otobo/nph-genericinterface.pl/Other/GTC/x"),
            None
        );
        assert_eq!(Flavour::parse("ZNUNY").unwrap(), Flavour::Znuny);
    }
}
