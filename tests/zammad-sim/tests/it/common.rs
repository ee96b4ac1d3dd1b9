//! Helpers: a started simulator and a small JSON client.

use otai_zammad_sim::{SimBuilder, SimHandle, Simulator};
use reqwest::{header::HeaderMap, Method};
use serde_json::{json, Value};

/// The demo help desk (Zendesk-shaped).
pub const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/helpdesk.json");

/// Three tickets: 1 new/Users, 2 open/Billing, 3 new/Billing (tags vip on 1).
pub fn three() -> SimBuilder {
    Simulator::builder()
        .groups(&["Users", "Billing"])
        .custom_attributes(&["otai_queue"])
        .tickets(vec![
            json!({"title": "My card was stolen", "body": "Please block my card", "tags": ["vip"],
                   "customer": "jane@example.com", "updated_at": "2026-01-03T00:00:00Z",
                   "created_at": "2026-01-01T00:00:00Z"}),
            json!({"title": "Refund missing", "body": "Where is my refund?", "state": "open",
                   "group": "Billing", "updated_at": "2026-01-02T00:00:00Z",
                   "created_at": "2026-01-01T00:00:00Z"}),
            json!({"title": "Top-up failed", "body": "my top-up did not arrive", "group": "Billing",
                   "priority": "3 high", "updated_at": "2026-01-01T00:00:00Z",
                   "created_at": "2026-01-01T00:00:00Z"}),
        ])
}

pub async fn start(b: SimBuilder) -> SimHandle {
    b.start().await.expect("simulator starts")
}

/// An answer: status, headers, JSON body (null when empty or not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn call(
    sim: &SimHandle,
    method: Method,
    path: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let client = reqwest::Client::new();
    let mut rb = client.request(method, format!("{}{}", sim.base_url(), path));
    if let Some(a) = auth {
        rb = rb.header("Authorization", a);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

pub const TOKEN: &str = "Token token=sim-token";

pub async fn get(sim: &SimHandle, path: &str) -> Answer {
    call(sim, Method::GET, path, Some(TOKEN), None).await
}

pub async fn send(sim: &SimHandle, method: Method, path: &str, body: Value) -> Answer {
    call(sim, method, path, Some(TOKEN), Some(body)).await
}

/// The ids of an array answer.
pub fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect()
}
