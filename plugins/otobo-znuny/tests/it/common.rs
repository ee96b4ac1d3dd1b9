//! Shared fixtures: a client for a mock, GenericInterface-shaped tickets.

use otai_otobo_znuny::OtoboDesk;
use otai_plugin_sdk::Logger;
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_partial_json, method, path},
    Mock, MockServer, ResponseTemplate,
};

/// The web service path on the mock.
pub const WS: &str = "/otobo/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST";
/// The agent's password in every test.
pub const PASSWORD: &str = "otobo-test-password-42";
/// The session the mock hands out.
pub const SESSION: &str = "sess-0123456789abcdefghijklmnopqrstu";

/// A client for `mock` (shipped routes) with extra params.
pub fn desk(mock: &MockServer, extra: Value) -> OtoboDesk {
    let mut params = json!({"base_url": format!("{}{WS}", mock.uri()), "username": "otai-agent",
                            "password": PASSWORD, "max_attempts": 1});
    if let (Value::Object(p), Value::Object(e)) = (&mut params, extra) {
        p.extend(e);
    }
    OtoboDesk::from_params_json(&params.to_string(), Logger::silent()).unwrap()
}

/// SessionCreate answering [`SESSION`].
pub async fn mount_session(mock: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!("{WS}/Session")))
        .and(body_partial_json(
            json!({"UserLogin": "otai-agent", "Password": PASSWORD}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"SessionID": SESSION})))
        .mount(mock)
        .await;
}

/// A ticket as TicketGet answers it (strings, as the real one sends DB values).
pub fn gi_ticket(
    id: u64,
    queue: &str,
    tags: Value,
    changed: &str,
    extra_articles: &[Value],
) -> Value {
    let mut articles = vec![json!({
        "ArticleID": (id * 10).to_string(), "Subject": format!("Subject {id}"),
        "Body": format!("Body of {id}"), "SenderType": "customer", "IsVisibleForCustomer": "1",
        "CreateBy": "1", "CreateTime": "2026-12-01 09:00:00", "ContentType": "text/plain; charset=utf8"
    })];
    articles.extend(extra_articles.iter().cloned());
    json!({
        "TicketID": id.to_string(), "TicketNumber": format!("2026120110{id:06}"),
        "Title": format!("Ticket {id}"), "Queue": queue, "QueueID": "2", "Priority": "3 normal",
        "PriorityID": "3", "State": "new", "StateID": "1", "StateType": "new",
        "Created": format!("2026-12-01 09:00:{:02}", id % 60), "Changed": changed,
        "CustomerUserID": "anna@example.com",
        "DynamicField": [{"Name": "OTAITags", "Value": tags}, {"Name": "Topic", "Value": null}],
        "Article": articles
    })
}

/// The JSON data of the requests to `route` (`METHOD path`): the body, or the query as an object.
pub async fn calls(mock: &MockServer, method_name: &str, path_name: &str) -> Vec<Value> {
    mock.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == method_name && r.url.path() == path_name)
        .map(|r| {
            if r.body.is_empty() {
                let mut map = serde_json::Map::new();
                for (k, v) in r.url.query_pairs() {
                    match map.get_mut(k.as_ref()) {
                        Some(Value::Array(a)) => a.push(json!(v)),
                        Some(one) => *one = json!([one.clone(), v]),
                        None => {
                            map.insert(k.to_string(), json!(v));
                        }
                    }
                }
                Value::Object(map)
            } else {
                serde_json::from_slice(&r.body).unwrap_or(Value::Null)
            }
        })
        .collect()
}
