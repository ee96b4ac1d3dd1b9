//! Shared fixtures: a client for a mock and Freshdesk-shaped tickets.

use otai_freshdesk::FreshdeskDesk;
use otai_plugin_sdk::Logger;
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path, path_regex},
    Mock, MockServer, Request, ResponseTemplate,
};

/// The API key every test client uses.
pub const KEY: &str = "fd-test-key-0123456789";
/// The API agent's id: otai's notes are its notes.
pub const ME: u64 = 1001;
/// When the fixtures' tickets were created and last changed.
pub const CREATED: &str = "2026-12-01T09:00:00Z";

/// A client for `mock` with extra params merged in.
pub fn desk(mock: &MockServer, extra: Value) -> FreshdeskDesk {
    let mut params = json!({"base_url": mock.uri(), "api_key": KEY, "max_attempts": 2});
    if let (Value::Object(p), Value::Object(e)) = (&mut params, extra) {
        p.extend(e);
    }
    FreshdeskDesk::from_params_json(&params.to_string(), Logger::silent()).unwrap()
}

/// A new ticket (Open, no group, no agent) as the list answers it with `include=description`.
pub fn ticket(id: u64) -> Value {
    json!({"id": id, "subject": format!("Ticket {id}"), "status": 2, "priority": 1,
           "group_id": null, "responder_id": null, "requester_id": 500 + id, "tags": [],
           "custom_fields": {}, "description": format!("<div>Body of {id}</div>"),
           "description_text": format!("Body of {id}"), "spam": false,
           "created_at": CREATED, "updated_at": CREATED})
}

/// `ticket(id)` with changes.
pub fn with(id: u64, changes: Value) -> Value {
    let mut t = ticket(id);
    if let (Value::Object(t), Value::Object(c)) = (&mut t, changes) {
        t.extend(c);
    }
    t
}

/// `GET /agents/me`, `GET /groups` (Cards 11, Billing 12), and no conversations on any ticket
/// (at a lower priority than a test's own).
pub async fn mount_basics(mock: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/tickets/\d+/conversations$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .with_priority(10)
        .mount(mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/agents/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": ME, "contact": {"name": "otai", "email": "otai@example.com"}}),
        ))
        .mount(mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/groups"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": 11, "name": "Cards"}, {"id": 12, "name": "Billing"}])),
        )
        .mount(mock)
        .await;
}

/// An empty search (the backlog sweep finds nothing).
pub async fn mount_empty_search(mock: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v2/search/tickets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 0, "results": []})))
        .mount(mock)
        .await;
}

/// `GET /tickets/{id}` answering `body`.
pub async fn mount_ticket(mock: &MockServer, id: u64, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/tickets/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(mock)
        .await;
}

/// A query parameter of a request.
pub fn param(r: &Request, key: &str) -> Option<String> {
    r.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The requests the mock received, as `METHOD /path`.
pub async fn calls(mock: &MockServer) -> Vec<String> {
    mock.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}
