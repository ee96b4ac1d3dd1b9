//! Helpers: started simulators and a small client that speaks the GenericInterface.

use otai_otobo_sim::{SimBuilder, SimHandle, Simulator};
use reqwest::Method;
use serde_json::{json, Value};

/// The demo help desk (Zendesk-shaped).
pub const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/helpdesk.json");

/// The login every test uses.
pub const LOGIN: (&str, &str) = ("otai-agent", "secret");

/// Three tickets: 1 new/Raw (one article), 2 open/Billing (two articles, tagged vip),
/// 3 new/Cards; a multiselect field `OTAITags` and a text field `OTAIQueue`.
pub fn three() -> SimBuilder {
    Simulator::builder()
        .queues(&["Billing", "Cards"])
        .multiselect_field("OTAITags")
        .text_field("OTAIQueue")
        .tickets(vec![
            json!({"Title": "My card was stolen", "Body": "Please block my card",
                   "CustomerUser": "jane@example.com", "Created": "2026-01-01 08:00:00",
                   "Changed": "2026-01-03 08:00:00"}),
            json!({"Title": "Refund missing", "State": "open", "Queue": "Billing",
                   "Priority": "4 high", "DynamicField": {"OTAITags": ["vip"]},
                   "Created": "2026-01-02 08:00:00", "Changed": "2026-01-02 09:00:00",
                   "Articles": [
                       {"Body": "Where is my refund?", "Created": "2026-01-02 08:00:00"},
                       {"Body": "We are on it", "SenderType": "agent",
                        "CommunicationChannel": "Internal", "IsVisibleForCustomer": 0,
                        "Created": "2026-01-02 09:00:00"}]}),
            json!({"Title": "Top-up failed", "Queue": "Cards", "Body": "my top-up did not arrive",
                   "Created": "2026-01-03 08:00:00"}),
        ])
}

pub async fn start(b: SimBuilder) -> SimHandle {
    b.start().await.expect("simulator starts")
}

/// An answer: status, content type, the body as text and as JSON (null when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub text: String,
    pub body: Value,
}

/// Sends `method` to `url` with `query` pairs and an optional JSON body.
pub async fn call_url(
    method: Method,
    url: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut rb = reqwest::Client::new().request(method, url).query(query);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.unwrap_or_default();
    Answer {
        status,
        content_type,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// Sends to a route of the simulator's web service.
pub async fn call(
    sim: &SimHandle,
    method: Method,
    route: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    call_url(method, &format!("{}{route}", sim.base_url()), query, body).await
}

/// The login as query pairs.
pub fn login() -> Vec<(&'static str, &'static str)> {
    vec![("UserLogin", LOGIN.0), ("Password", LOGIN.1)]
}

/// `query` plus the login.
pub fn with_login<'a>(query: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut q = login();
    q.extend_from_slice(query);
    q
}

/// TicketSearch (`GET /Ticket`) with the login; the ids found.
pub async fn search(sim: &SimHandle, query: &[(&str, &str)]) -> Vec<String> {
    let a = call(sim, Method::GET, "/Ticket", &with_login(query), None).await;
    assert_eq!(a.status, 200, "{a:?}");
    match a.body.get("TicketID") {
        None => {
            assert_eq!(a.body, json!({}), "no match answers {{}}");
            Vec::new()
        }
        Some(ids) => ids
            .as_array()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().expect("ids are strings").to_string())
            .collect(),
    }
}

/// TicketUpdate (`PATCH /Ticket/{id}`) with the login in the body.
pub async fn update(sim: &SimHandle, id: u64, mut body: Value) -> Answer {
    body["UserLogin"] = json!(LOGIN.0);
    body["Password"] = json!(LOGIN.1);
    call(
        sim,
        Method::PATCH,
        &format!("/Ticket/{id}"),
        &[],
        Some(body),
    )
    .await
}

/// The error code of an HTTP 200 error answer.
pub fn error_code(a: &Answer) -> &str {
    assert_eq!(a.status, 200, "{a:?}");
    a.body["Error"]["ErrorCode"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {a:?}"))
}

/// An internal note as otai writes it.
pub fn note() -> Value {
    json!({"CommunicationChannel": "Internal", "IsVisibleForCustomer": 0, "SenderType": "agent",
           "Subject": "otai", "Body": "Classified as Cards (0.93)",
           "ContentType": "text/plain; charset=utf8"})
}

/// A new session of the test agent (SessionCreate, `POST /Session`).
pub async fn session(sim: &SimHandle) -> String {
    let creds = json!({"UserLogin": LOGIN.0, "Password": LOGIN.1});
    let a = call(sim, Method::POST, "/Session", &[], Some(creds)).await;
    a.body["SessionID"]
        .as_str()
        .unwrap_or_else(|| panic!("no SessionID: {a:?}"))
        .to_string()
}

/// Sends to a route with `SessionID` in the query.
pub async fn call_in_session(sim: &SimHandle, method: Method, route: &str, sid: &str) -> Answer {
    call(sim, method, route, &[("SessionID", sid)], None).await
}
