//! Shared fixtures: a client for a mock, Zammad-shaped tickets and the reference lists.

use otai_plugin_sdk::Logger;
use otai_zammad::ZammadDesk;
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

/// The token every test client uses.
pub const TOKEN: &str = "zammad-test-token-0123";
/// The API user's id: otai's notes are its articles.
pub const ME: u64 = 3;

/// A client for `mock` with extra params merged in.
pub fn desk(mock: &MockServer, extra: Value) -> ZammadDesk {
    let mut params = json!({"base_url": mock.uri(), "http_token": TOKEN, "max_attempts": 2});
    if let (Value::Object(p), Value::Object(e)) = (&mut params, extra) {
        p.extend(e);
    }
    ZammadDesk::from_params_json(&params.to_string(), Logger::silent()).unwrap()
}

/// A ticket as search answers it with `expand=true`.
pub fn named(id: u64, group: &str) -> Value {
    json!({"id": id, "number": format!("{}", 31000 + id), "title": format!("Ticket {id}"),
           "group_id": 1, "group": group, "state_id": 1, "state": "new", "priority_id": 2,
           "priority": "2 normal", "owner_id": 1, "customer_id": 5,
           "updated_at": stamp(id), "created_at": "2026-12-01T09:00:00.000Z"})
}

/// The ticket's `updated_at` in the fixtures.
pub fn stamp(id: u64) -> String {
    format!("2026-12-01T10:00:{:02}.{:03}Z", id % 60, id % 1000)
}

/// `GET /tickets/{id}?all=true` for a ticket with one customer article and `tags`; `extra`
/// articles follow it.
pub fn all(id: u64, tags: &[&str], updated_at: &str, extra: &[Value]) -> Value {
    let mut articles = serde_json::Map::new();
    articles.insert(
        (id * 10).to_string(),
        json!({"id": id * 10, "ticket_id": id, "body": format!("<p>Body of {id}</p>"),
               "content_type": "text/html", "internal": false, "created_by_id": 5,
               "sender": "Customer", "type": "email", "created_at": "2026-12-01T09:00:00.000Z"}),
    );
    for a in extra {
        articles.insert(a["id"].to_string(), a.clone());
    }
    json!({
        "ticket_id": id,
        "ticket_article_ids": articles.keys().collect::<Vec<_>>(),
        "tags": tags,
        "assets": {
            "Ticket": {id.to_string(): {"id": id, "title": format!("Ticket {id}"), "group_id": 1,
                "state_id": 1, "priority_id": 2, "customer_id": 5, "updated_at": updated_at,
                "created_at": "2026-12-01T09:00:00.000Z"}},
            "TicketArticle": articles,
            "Group": {"1": {"id": 1, "name": "Users"}, "2": {"id": 2, "name": "Cards"}}
        },
        "links": [],
        "mentions": []
    })
}

/// Zammad's seed priorities and states, and `/users/me`.
pub async fn mount_lists(mock: &MockServer) {
    let lists = [
        (
            "/api/v1/ticket_priorities",
            json!([
                {"id": 1, "name": "1 low", "default_create": false, "active": true},
                {"id": 2, "name": "2 normal", "default_create": true, "active": true},
                {"id": 3, "name": "3 high", "default_create": false, "active": true}
            ]),
        ),
        (
            "/api/v1/ticket_states",
            json!([
                {"id": 1, "name": "new", "state_type_id": 1, "active": true},
                {"id": 2, "name": "open", "state_type_id": 2, "active": true},
                {"id": 3, "name": "pending reminder", "state_type_id": 3, "active": true},
                {"id": 4, "name": "closed", "state_type_id": 5, "active": true},
                {"id": 5, "name": "merged", "state_type_id": 6, "active": true},
                {"id": 6, "name": "removed", "state_type_id": 7, "active": false},
                {"id": 7, "name": "pending close", "state_type_id": 4, "active": true}
            ]),
        ),
        (
            "/api/v1/users/me",
            json!({"id": ME, "login": "otai", "email": "otai@example.com",
                                     "firstname": "otai", "lastname": "bot"}),
        ),
    ];
    for (p, body) in lists {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(mock)
            .await;
    }
}

/// Mounts `GET /tickets/{id}` answering `body`.
pub async fn mount_all(mock: &MockServer, id: u64, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/tickets/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(mock)
        .await;
}

/// The JSON bodies of the requests `mock` received for `method_name` `path_name`.
pub async fn bodies(mock: &MockServer, method_name: &str, path_name: &str) -> Vec<Value> {
    mock.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == method_name && r.url.path() == path_name)
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}
