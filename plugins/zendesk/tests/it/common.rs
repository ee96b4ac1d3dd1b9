//! Shared helpers: fixtures, a client pointed at a mock server, ticket JSON.

use base64::Engine as _;
use otai_zendesk::{Logger, ZendeskClient};
use serde_json::{json, Value};
use wiremock::MockServer;

pub const EMAIL: &str = "agent@example.com";
pub const API_TOKEN: &str = "tok-SECRET-api-123";
pub const OAUTH_TOKEN: &str = "oauth-SECRET-xyz-789";

/// A recorded Zendesk response (go-zendesk fixtures, MIT), e.g. `GET/ticket.json`.
pub fn fixture(rel: &str) -> Value {
    let path = format!(
        "{}/{}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/zendesk"),
        rel
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Params for a client with API-token auth against `server`, merged with `extra`.
pub fn params(server: &MockServer, extra: Value) -> Value {
    let mut p = json!({"base_url": server.uri(), "email": EMAIL, "api_token": API_TOKEN});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

pub fn client(server: &MockServer) -> ZendeskClient {
    client_with(server, json!({}))
}

pub fn client_with(server: &MockServer, extra: Value) -> ZendeskClient {
    ZendeskClient::from_params_json(&params(server, extra).to_string(), Logger::silent()).unwrap()
}

pub fn oauth_client(server: &MockServer) -> ZendeskClient {
    let p = json!({"base_url": server.uri(), "oauth_token": OAUTH_TOKEN});
    ZendeskClient::from_params_json(&p.to_string(), Logger::silent()).unwrap()
}

/// The exact `Authorization` header API-token auth must send.
pub fn basic_header() -> String {
    let raw = format!("{EMAIL}/token:{API_TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A minimal ticket object as Zendesk returns it.
pub fn ticket(id: u64, tags: &[&str]) -> Value {
    json!({
        "url": format!("https://acme.zendesk.com/api/v2/tickets/{id}.json"),
        "id": id,
        "subject": format!("Ticket {id}"),
        "description": "Printer on fire",
        "status": "open",
        "priority": "normal",
        "group_id": 360004077472u64,
        "requester_id": 377922500012u64,
        "tags": tags,
        "custom_fields": [],
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-02T10:00:00Z",
        "result_type": "ticket"
    })
}

/// Requests the server received, for asserting that nothing was sent.
pub async fn request_count(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .map(|r| r.len())
        .unwrap_or(0)
}
