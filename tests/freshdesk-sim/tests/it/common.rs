//! Helpers: a started simulator and a small JSON client with Basic auth.

use base64::Engine as _;
use otai_freshdesk_sim::{SimBuilder, SimHandle, Simulator};
use reqwest::{header::HeaderMap, Method};
use serde_json::{json, Value};

/// The demo help desk (Zendesk-shaped).
pub const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/helpdesk.json");

/// 2026-12-01T10:00:00Z, where most tests stop the account clock.
pub const T0: i64 = 1_796_119_200;

/// `Basic base64(key:X)`.
pub fn basic(key: &str) -> String {
    let raw = format!("{key}:X");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Three tickets created a day before [`T0`]: 1 Cards/urgent/vip, 2 Billing, 3 no group.
pub fn three() -> SimBuilder {
    Simulator::builder()
        .groups(&["Cards", "Billing"])
        .custom_fields(&["cf_category", "cf_locked"])
        .index_lag(std::time::Duration::ZERO)
        .tickets(vec![
            json!({"id": 1, "subject": "My card was stolen", "description": "Please <b>block</b> it",
                   "priority": "urgent", "group": "Cards", "tags": ["vip"], "requester": "jane@example.com",
                   "created_at": "2026-11-30T10:00:00Z", "updated_at": "2026-11-30T12:00:00Z",
                   "conversations": [{"body": "first reply", "private": false, "source": 0}]}),
            json!({"id": 2, "subject": "Refund missing", "description": "<p>Where is my refund?</p>",
                   "status": "pending", "group": "Billing", "custom_fields": {"cf_category": "refunds"},
                   "created_at": "2026-11-30T10:00:00Z", "updated_at": "2026-11-30T11:00:00Z"}),
            json!({"id": 3, "subject": "Top-up failed", "description": "my top-up did not arrive",
                   "created_at": "2026-11-30T10:00:00Z", "updated_at": "2026-11-30T11:00:00Z"}),
        ])
}

pub async fn start(b: SimBuilder) -> SimHandle {
    let sim = b.start().await.expect("simulator starts");
    sim.set_clock(Some(T0));
    sim
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

    pub fn num_header(&self, name: &str) -> u64 {
        self.header(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .parse()
            .unwrap()
    }

    /// The first error's `(field, code)`.
    pub fn error(&self) -> (String, String) {
        let e = &self.body["errors"][0];
        (
            e["field"].as_str().unwrap_or_default().to_string(),
            e["code"].as_str().unwrap_or_default().to_string(),
        )
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

pub async fn get(sim: &SimHandle, path: &str) -> Answer {
    call(sim, Method::GET, path, Some(&basic("sim-api-key")), None).await
}

pub async fn send(sim: &SimHandle, method: Method, path: &str, body: Value) -> Answer {
    call(sim, method, path, Some(&basic("sim-api-key")), Some(body)).await
}

/// The ids of an array answer.
pub fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect()
}

/// `n` tickets created at `created_at`, numbered in the subject.
pub fn many(n: usize, created_at: &str) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"subject": format!("t{i}"), "description": "x", "created_at": created_at}))
        .collect()
}
