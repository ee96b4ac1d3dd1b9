//! The history export: closed tickets, oldest change first, resumable.

use otai_plugin_sdk::{ExportRequest, StatusCategory, TicketSystemAdapter};
use serde_json::json;
use wiremock::{
    matchers::{body_partial_json, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

fn closed(id: u64, updated_at: &str) -> serde_json::Value {
    let mut t = named(id, "Cards");
    t["state_id"] = json!(4);
    t["state"] = json!("closed");
    t["updated_at"] = json!(updated_at);
    t
}

#[tokio::test]
async fn pages_of_closed_tickets_resume_from_their_cursor_without_losing_ties() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    let t1 = "2026-11-01T08:00:00.000Z";
    let t2 = "2026-11-02T08:00:00.000Z";
    // Page 1: tickets 1 and 2 (2 at t2). Page 2 (from t2 less 1 ms): 2 again and 3, also at t2.
    Mock::given(method("POST"))
        .and(path("/api/v1/tickets/search"))
        .and(body_partial_json(
            json!({"condition": {"ticket.updated_at": {"value": "2026-10-31T23:59:59.999Z"}}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([closed(1, t1), closed(2, t2)])),
        )
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/tickets/search"))
        .and(body_partial_json(
            json!({"condition": {"ticket.updated_at": {"value": "2026-11-02T07:59:59.999Z"}}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([closed(2, t2), closed(3, t2)])),
        )
        .mount(&mock)
        .await;
    for (id, at) in [(1, t1), (2, t2), (3, t2)] {
        let mut body = all(id, &[], at, &[]);
        body["assets"]["Ticket"][id.to_string()]["state_id"] = json!(4);
        mount_all(&mock, id, body).await;
    }
    let desk = desk(&mock, json!({"page_size": 2}));

    let first = desk
        .export_tickets(&ExportRequest {
            start_time: Some("2026-11-01T00:00:00Z".into()),
            cursor: None,
        })
        .await
        .unwrap();
    let ids: Vec<&str> = first.tickets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "2"]);
    assert!(!first.end_of_stream);
    assert_eq!(first.tickets[0].state.category, StatusCategory::Closed);
    assert_eq!(first.cursor.as_deref(), Some("2026-11-02T08:00:00.000Z|2"));

    let second = desk
        .export_tickets(&ExportRequest {
            start_time: None,
            cursor: first.cursor.clone(),
        })
        .await
        .unwrap();
    let ids: Vec<&str> = second.tickets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["3"],
        "ticket 2 is not exported twice, ticket 3 (same instant) is not lost"
    );
    assert_eq!(
        second.cursor.as_deref(),
        Some("2026-11-02T08:00:00.000Z|2,3")
    );

    let sent = bodies(&mock, "POST", "/api/v1/tickets/search").await;
    assert_eq!(
        sent[0]["condition"]["ticket.state_id"],
        json!({"operator": "is", "value": ["4", "5"]})
    );
    assert_eq!(sent[0]["sort_by"], json!(["updated_at", "id"]));
    assert_eq!(sent[1]["page"], 1, "one tie seen: still the first page");
}
