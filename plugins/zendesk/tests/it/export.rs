//! `export_tickets`: the incremental ticket export against a wiremock Zendesk.

use std::time::{Duration, Instant};

use otai_plugin_sdk::{ErrorKind, ExportRequest};
use serde_json::json;
use wiremock::{
    matchers::{method, path, query_param, query_param_is_missing},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::{client_with, ticket};

fn first(start: &str) -> ExportRequest {
    ExportRequest {
        start_time: Some(start.into()),
        cursor: None,
    }
}

fn next(cursor: &str) -> ExportRequest {
    ExportRequest {
        start_time: None,
        cursor: Some(cursor.to_string()),
    }
}

async fn groups(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v2/groups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "groups": [
                {"id": 360004077472u64, "name": "Billing", "deleted": false},
                {"id": 77, "name": "Old team", "deleted": true}
            ],
            "meta": {"has_more": false, "after_cursor": null}
        })))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn pages_follow_the_cursor_to_the_end_of_stream_with_names_and_deleted_tickets() {
    let server = MockServer::start().await;
    groups(&server).await;
    let mut deleted = ticket(2, &[]);
    deleted["status"] = json!("deleted");
    deleted["group_id"] = json!(77);
    let mut solved = ticket(1, &["billing_refund"]);
    solved["status"] = json!("solved");
    Mock::given(method("GET"))
        .and(path("/api/v2/incremental/tickets/cursor"))
        .and(query_param("start_time", "1714521600"))
        .and(query_param("per_page", "1000"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tickets": [solved, deleted],
            "after_url": "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=c1",
            "after_cursor": "c1",
            "before_url": null,
            "before_cursor": null,
            "end_of_stream": false
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/incremental/tickets/cursor"))
        .and(query_param("cursor", "c1"))
        .and(query_param("per_page", "1000"))
        .and(query_param_is_missing("start_time"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tickets": [ticket(3, &[])],
            "after_cursor": "c2",
            "end_of_stream": true
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server, json!({"export_min_interval": 0.2}));

    let started = Instant::now();
    let one = client
        .export_tickets(&first("2024-05-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(!one.end_of_stream);
    assert_eq!(one.cursor.as_ref().unwrap().as_str(), "c1");
    assert_eq!(one.tickets.len(), 2);
    let billing = one.tickets[0].queue.as_ref().unwrap();
    assert_eq!(billing.name.as_ref().unwrap().as_str(), "Billing");
    assert_eq!(one.tickets[1].status.as_str(), "deleted", "passed through");
    let gone = one.tickets[1].queue.as_ref().unwrap();
    assert_eq!(gone.id.as_ref().unwrap().as_str(), "77");
    assert!(gone.name.is_none(), "a deleted group gets no name");

    let two = client.export_tickets(&next("c1")).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200), "paced");
    assert!(two.end_of_stream);
    assert_eq!(two.cursor.as_ref().unwrap().as_str(), "c2");
    assert_eq!(two.tickets[0].id.as_str(), "3");
}

#[tokio::test]
async fn a_missing_cursor_mid_stream_is_an_invalid_response() {
    let server = MockServer::start().await;
    groups(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/incremental/tickets/cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tickets": [], "end_of_stream": false})),
        )
        .mount(&server)
        .await;
    let client = client_with(&server, json!({"export_min_interval": 0}));
    let err = client
        .export_tickets(&first("2024-05-01T00:00:00Z"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
}

#[test]
fn the_export_interval_is_a_param() {
    let p =
        json!({"base_url": "http://127.0.0.1:1", "oauth_token": "t", "export_min_interval": -1});
    let err = otai_zendesk::Config::from_json(&p.to_string()).unwrap_err();
    assert!(
        err.message.contains("export_min_interval"),
        "{}",
        err.message
    );
    let p = json!({"base_url": "http://127.0.0.1:1", "oauth_token": "t"});
    let config = otai_zendesk::Config::from_json(&p.to_string()).unwrap();
    assert_eq!(config.export_min_interval, Duration::from_secs(6));
}
