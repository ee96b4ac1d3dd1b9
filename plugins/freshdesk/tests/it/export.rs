//! History for `otai train --system freshdesk`: resolved and closed tickets, resumable.

use otai_plugin_sdk::{ExportRequest, TicketSystemAdapter};
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

#[tokio::test]
async fn export_pages_hold_resolved_and_closed_tickets_and_resume_from_their_cursor() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    let at = "2026-11-20T08:00:00Z";
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            with(
                1,
                json!({"status": 4, "group_id": 11, "priority": 3, "updated_at": at})
            ),
            with(2, json!({"status": 2, "updated_at": at})),
            with(3, json!({"status": 5, "group_id": 12, "updated_at": at})),
        ])))
        .mount(&mock)
        .await;
    let desk = desk(&mock, json!({}));
    let page = desk
        .export_tickets(&ExportRequest {
            start_time: Some("2026-11-01T00:00:00Z".into()),
            cursor: None,
        })
        .await
        .unwrap();
    let got: Vec<(&str, Option<&str>)> = page
        .tickets
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.queue.as_ref().and_then(|q| q.name.as_deref()),
            )
        })
        .collect();
    assert_eq!(got, [("1", Some("Cards")), ("3", Some("Billing"))]);
    assert_eq!(page.tickets[0].priority.as_deref(), Some("high"));
    assert_eq!(page.cursor.as_deref(), Some("2026-11-20T08:00:00Z|1,2,3"));
    assert!(page.end_of_stream);
    let again = desk
        .export_tickets(&ExportRequest {
            start_time: None,
            cursor: page.cursor.clone(),
        })
        .await
        .unwrap();
    assert!(
        again.tickets.is_empty(),
        "the ids of the cursor's second are not returned twice"
    );
    let requests = mock.received_requests().await.unwrap();
    let last = requests
        .iter()
        .rev()
        .find(|r| r.url.path() == "/api/v2/tickets")
        .unwrap();
    assert_eq!(param(last, "updated_since").as_deref(), Some(at));
    assert_eq!(param(last, "include").as_deref(), Some("description"));
}
