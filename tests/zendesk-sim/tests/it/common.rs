//! Shared helpers: seed data, a started simulator, a small HTTP helper.

use std::time::Duration;

use base64::Engine as _;
use otai_zendesk_sim::{SimBuilder, SimHandle, Simulator, DEFAULT_EMAIL, DEFAULT_TOKEN};
use serde_json::{json, Value};

/// An id above 2^32, as real Zendesk ids are.
pub const BIG: u64 = 33_144_692_244_499;

/// Six tickets over two groups with a variety of statuses, tags and times.
pub fn tickets() -> Vec<Value> {
    vec![
        json!({"id": BIG, "subject": "Refund please", "description": "I was charged twice", "status": "new",
               "group": "Billing", "tags": ["vip"], "requester": "ann@example.com",
               "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:00:00Z"}),
        json!({"id": 2, "description": "Printer on fire", "status": "open", "priority": "high",
               "group": "Support", "tags": ["hardware", "otai_done"],
               "created_at": "2024-05-02T10:00:00Z", "updated_at": "2024-05-03T10:00:00Z"}),
        json!({"id": 3, "subject": "Login fails", "description": "Cannot log in", "status": "pending",
               "group": "Support", "tags": ["vip", "login"],
               "created_at": "2024-05-03T10:00:00Z", "updated_at": "2024-05-04T10:00:00Z"}),
        json!({"id": 4, "subject": "Old", "description": "Closed long ago", "status": "closed",
               "group": "Billing", "created_at": "2024-01-01T10:00:00Z", "updated_at": "2024-01-02T10:00:00Z"}),
        json!({"id": 5, "subject": "Strange", "description": "Unknown status", "status": "escalated_custom",
               "created_at": "2024-05-05T10:00:00Z", "updated_at": "2024-05-05T10:00:00Z"}),
        json!({"id": 6, "subject": "Invoice copy", "description": "Need an invoice", "status": "open",
               "group": "Billing", "tags": ["billing"],
               "created_at": "2024-05-06T10:00:00Z", "updated_at": "2024-05-06T10:00:00Z"}),
    ]
}

/// The builder every test starts from: the six tickets, a deleted group, short job delays.
pub fn builder() -> SimBuilder {
    Simulator::builder()
        .tickets(tickets())
        .groups(&["Support", "Billing"])
        .group_objects(vec![
            json!({"id": 360000000999u64, "name": "Old team", "deleted": true}),
        ])
        .job_delays(Duration::from_millis(30), Duration::from_millis(30))
}

pub async fn sim() -> SimHandle {
    builder().start().await.unwrap()
}

pub fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{DEFAULT_EMAIL}/token:{DEFAULT_TOKEN}"))
    )
}

/// A recorded Zendesk response (go-zendesk fixtures, MIT).
pub fn fixture(rel: &str) -> Value {
    let path = format!("{}/../fixtures/zendesk/{rel}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Keys of `fixture` missing from `ours` (both objects).
pub fn missing_keys(fixture: &Value, ours: &Value) -> Vec<String> {
    fixture
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| ours.get(k.as_str()).is_none())
        .cloned()
        .collect()
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends a request with the default API-token credentials.
pub async fn call(sim: &SimHandle, method: &str, path: &str, body: Option<Value>) -> Answer {
    call_auth(sim, method, path, body, Some(&basic())).await
}

pub async fn call_auth(
    sim: &SimHandle,
    method: &str,
    path: &str,
    body: Option<Value>,
    auth: Option<&str>,
) -> Answer {
    let url = format!("{}{path}", sim.base_url());
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new().request(m, url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn get(sim: &SimHandle, path: &str) -> Answer {
    call(sim, "GET", path, None).await
}

/// Polls a job until it is no longer queued/working (at most ~5 s).
pub async fn wait_job(sim: &SimHandle, id: &str) -> Value {
    for _ in 0..250 {
        let a = get(sim, &format!("/api/v2/job_statuses/{id}")).await;
        let status = a.body["job_status"]["status"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if status != "queued" && status != "working" {
            return a.body["job_status"].clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} did not finish")
}

pub fn ids(results: &Value) -> Vec<u64> {
    let mut v: Vec<u64> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    v.sort_unstable();
    v
}
