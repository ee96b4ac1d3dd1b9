//! [`Req`] and [`Reply`]: a request as a simulator's routes see it (normalised, body read in
//! full) and the answer they give, so that routes are plain functions testable without a socket.

use bytes::Bytes;
use serde_json::Value;

/// A parsed request.
#[derive(Debug, Clone, Default)]
pub struct Req {
    /// Upper case (`GET`, `PUT`, ...).
    pub method: String,
    /// The path without a `.json` suffix and trailing `/`: `/api/v2/tickets/5.json` and
    /// `/api/v2/tickets/5/` both read `/api/v2/tickets/5`. Fault rules match on it.
    pub path: String,
    /// The path as sent, for log lines.
    pub raw_path: String,
    /// Query pairs, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// Request headers, names lower case, in order (a simulator does its own authentication).
    pub headers: Vec<(String, String)>,
    /// The body, read in full.
    pub body: Bytes,
}

impl Req {
    /// A request for `method` and `path` (normalised as [`Req::path`] says), no query, headers
    /// or body: for tests of routes.
    pub fn new(method: &str, path: &str) -> Self {
        Req {
            method: method.to_ascii_uppercase(),
            path: normalize_path(path),
            raw_path: path.to_string(),
            ..Req::default()
        }
    }

    /// Parses a raw query string (`a=1&b=x%20y`) into [`Req::query`].
    pub fn with_query_string(mut self, query: &str) -> Self {
        self.query = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        self
    }

    /// Adds a header (the name is stored lower case).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of query parameter `key`.
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path's segments: `/api/v2/tickets/5` → `["api", "v2", "tickets", "5"]`, to match on.
    pub fn segs(&self) -> Vec<&str> {
        self.path.trim_matches('/').split('/').collect()
    }

    /// The body as JSON; an empty body is `null`. The error is the simulator's to shape.
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
    }

    /// Whether this is an admin request (`/__sim` or under `/__sim/`): no latency, faults, rate
    /// limits or authentication.
    pub fn is_admin(&self) -> bool {
        self.path == "/__sim" || self.path.starts_with("/__sim/")
    }
}

/// `/a/b.json/` → `/a/b`: one path per endpoint for routing and fault rules.
pub fn normalize_path(raw: &str) -> String {
    raw.strip_suffix(".json")
        .unwrap_or(raw)
        .trim_end_matches('/')
        .to_string()
}

/// An answer: status, JSON body (none for 204 and the like) or a text body, extra headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The JSON body; `content-type: application/json` is sent when there is one.
    pub body: Option<Value>,
    /// A body sent as it is when there is no JSON `body` ([`Reply::text`]): the plain-text error
    /// pages some help desks answer with; its `content-type` is among the `headers`.
    pub text: Option<String>,
    /// Headers (lower-case names by convention).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Value) -> Self {
        Reply::status(200, body)
    }

    /// `status` with `body`.
    pub fn status(status: u16, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
            text: None,
            headers: Vec::new(),
        }
    }

    /// `status` with a body that is sent as it is, labelled `content_type`
    /// (`text/plain; charset=UTF-8`, or JSON text a help desk labels as something else).
    pub fn text(status: u16, content_type: &str, text: impl Into<String>) -> Self {
        Reply {
            status,
            body: None,
            text: Some(text.into()),
            headers: vec![("content-type".to_string(), content_type.to_string())],
        }
    }

    /// `status` without a body.
    pub fn empty(status: u16) -> Self {
        Reply {
            status,
            body: None,
            text: None,
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_json_suffix_and_trailing_slash() {
        assert_eq!(
            normalize_path("/api/v2/tickets/5.json"),
            "/api/v2/tickets/5"
        );
        assert_eq!(normalize_path("/api/v1/tickets/"), "/api/v1/tickets");
        let r = Req::new("get", "/api/v2/search.json").with_query_string("query=a%20b&x=1&x=2");
        assert_eq!(r.method, "GET");
        assert_eq!(r.segs(), ["api", "v2", "search"]);
        assert_eq!(r.q("query"), Some("a b"));
        assert_eq!(r.q("x"), Some("1"));
        assert!(!r.is_admin());
        assert!(Req::new("POST", "/__sim/reset").is_admin());
        assert!(!Req::new("GET", "/__simulator").is_admin());
    }

    #[test]
    fn headers_are_found_in_any_case_and_empty_body_is_null() {
        let r = Req::new("GET", "/").with_header("Authorization", "Token token=x");
        assert_eq!(r.header("authorization"), Some("Token token=x"));
        assert_eq!(r.header("AUTHORIZATION"), Some("Token token=x"));
        assert_eq!(r.json().unwrap(), Value::Null);
        assert!(r.with_body("{").json().is_err());
    }
}
