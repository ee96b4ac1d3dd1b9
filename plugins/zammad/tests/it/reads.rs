//! Finding and reading tickets.

use otai_plugin_sdk::{SearchQuery, StatusCategory, TicketSystemAdapter};
use serde_json::json;
use wiremock::{
    matchers::{body_partial_json, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

fn new_unprocessed() -> SearchQuery {
    SearchQuery {
        statuses: vec!["new".into()],
        tags_none: vec!["otai_processed".into()],
        limit: Some(100),
        ..SearchQuery::default()
    }
}

#[tokio::test]
async fn new_tickets_are_found_with_a_selector_on_every_page_and_read_whole() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    for (page, ids) in [(1, vec![1, 2]), (2, vec![3])] {
        let results: Vec<_> = ids.iter().map(|&id| named(id, "Users")).collect();
        Mock::given(method("POST"))
            .and(path("/api/v1/tickets/search"))
            .and(body_partial_json(json!({"page": page})))
            .respond_with(ResponseTemplate::new(200).set_body_json(results))
            .mount(&mock)
            .await;
    }
    for id in 1..=3 {
        mount_all(&mock, id, all(id, &["vip"], &stamp(id), &[])).await;
    }
    let desk = desk(&mock, json!({"page_size": 2}));

    let found = desk.find_tickets(&new_unprocessed()).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    let t = &found[0];
    assert_eq!(t.subject, "Ticket 1");
    assert_eq!(t.body, "Body of 1", "the first article, as plain text");
    assert_eq!(t.status, "new");
    assert_eq!(t.state.category, StatusCategory::New);
    assert_eq!(t.priority.as_deref(), Some("normal"));
    assert_eq!(t.queue.as_ref().unwrap().name.as_deref(), Some("Users"));
    assert_eq!(t.tags, ["vip"]);
    assert_eq!(t.updated_at.as_deref(), Some(stamp(1).as_str()));

    // One selector, no `query` (older Zammads ignore a selector next to a query), sorted by id.
    let searches = bodies(&mock, "POST", "/api/v1/tickets/search").await;
    assert_eq!(searches.len(), 2);
    assert_eq!(
        searches[0],
        json!({
            "condition": {
                "ticket.state_id": {"operator": "is", "value": ["1"]},
                "ticket.tags": {"operator": "contains all not", "value": "otai_processed"}
            },
            "expand": true, "page": 1, "per_page": 2, "sort_by": "id", "order_by": "asc"
        })
    );
    // One full read per ticket, with all=true.
    let reads: Vec<_> = mock
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().starts_with("/api/v1/tickets/") && r.method.as_str() == "GET")
        .collect();
    assert_eq!(reads.len(), 3);
    assert!(reads.iter().all(|r| r.url.query() == Some("all=true")));
}

#[tokio::test]
async fn the_older_search_shape_and_a_server_ignoring_page_are_both_handled() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    // An older Zammad: ids plus assets; and it answers the same page whatever `page` says.
    Mock::given(method("POST"))
        .and(path("/api/v1/tickets/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tickets": [4, 5],
            "tickets_count": 2,
            "assets": {"Ticket": {"4": named(4, "Users"), "5": named(5, "Users")}}
        })))
        .mount(&mock)
        .await;
    mount_all(&mock, 4, all(4, &[], &stamp(4), &[])).await;
    mount_all(&mock, 5, all(5, &[], &stamp(5), &[])).await;
    let desk = desk(&mock, json!({"page_size": 2}));

    let found = desk.find_tickets(&new_unprocessed()).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["4", "5"]);
    assert_eq!(
        bodies(&mock, "POST", "/api/v1/tickets/search").await.len(),
        2
    );
}

async fn all_pages(
    desk: &otai_zammad::ZammadDesk,
    query: &SearchQuery,
) -> Vec<(Vec<String>, Option<String>)> {
    otai_plugin_sdk::conformance::follow_pages(desk, query)
        .await
        .unwrap()
}

#[tokio::test]
async fn find_tickets_page_reads_one_search_page_per_call_and_stops_on_a_server_ignoring_page() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    for (page, ids) in [(1, vec![1, 2]), (2, vec![3, 4]), (3, vec![])] {
        let results: Vec<_> = ids.iter().map(|&id| named(id, "Users")).collect();
        Mock::given(method("POST"))
            .and(path("/api/v1/tickets/search"))
            .and(body_partial_json(json!({"page": page})))
            .respond_with(ResponseTemplate::new(200).set_body_json(results))
            .mount(&mock)
            .await;
    }
    for id in 1..=4 {
        mount_all(&mock, id, all(id, &[], &stamp(id), &[])).await;
    }
    let paged = desk(&mock, json!({"page_size": 2}));
    let s = |ids: &[&str]| ids.iter().map(|i| i.to_string()).collect::<Vec<_>>();

    assert_eq!(
        all_pages(&paged, &new_unprocessed()).await,
        [
            (s(&["1", "2"]), Some("2:2".to_string())),
            (s(&["3", "4"]), Some("3:4".to_string())),
            (s(&[]), None),
        ]
    );
    assert_eq!(
        bodies(&mock, "POST", "/api/v1/tickets/search").await.len(),
        3,
        "one search per page"
    );
    let err = paged
        .find_tickets_page(&new_unprocessed(), Some("two"))
        .await
        .unwrap_err();
    assert!(
        err.message.contains("not one this service handed out"),
        "{err}"
    );

    // A server that answers the first page whatever `page` says: the second page holds nothing
    // new, and the paging ends there.
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/tickets/search"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([named(1, "Users"), named(2, "Users")])),
        )
        .mount(&mock)
        .await;
    for id in 1..=2 {
        mount_all(&mock, id, all(id, &[], &stamp(id), &[])).await;
    }
    let ignoring = desk(&mock, json!({"page_size": 2}));
    assert_eq!(
        all_pages(&ignoring, &new_unprocessed()).await,
        [(s(&["1", "2"]), Some("2:2".to_string())), (s(&[]), None)]
    );
}

#[tokio::test]
async fn tickets_already_tagged_or_in_another_queue_are_left_out_and_the_limit_holds() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/tickets/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            named(1, "Users"),
            named(2, "Cards"),
            named(3, "Users"),
            named(4, "Users")
        ])))
        .mount(&mock)
        .await;
    // Ticket 3 got otai's tag after the search (the full read decides).
    mount_all(&mock, 1, all(1, &[], &stamp(1), &[])).await;
    mount_all(&mock, 3, all(3, &["otai_processed"], &stamp(3), &[])).await;
    mount_all(&mock, 4, all(4, &[], &stamp(4), &[])).await;
    let desk = desk(&mock, json!({}));
    let query = SearchQuery {
        queue: Some("users".into()),
        limit: Some(2),
        ..new_unprocessed()
    };
    let found = desk.find_tickets(&query).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "4"]);
}

#[tokio::test]
async fn get_ticket_reads_one_ticket_or_none() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    mount_all(&mock, 8, all(8, &["a"], &stamp(8), &[])).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/tickets/9"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": "Couldn't find Ticket with 'id'=9",
            "error_human": "Couldn't find Ticket with 'id'=9"
        })))
        .mount(&mock)
        .await;
    let desk = desk(&mock, json!({}));
    let t = desk.get_ticket("8").await.unwrap().unwrap();
    assert_eq!((t.id.as_str(), t.body.as_str()), ("8", "Body of 8"));
    assert_eq!(t.queue.unwrap().name.as_deref(), Some("Users"));
    assert!(desk.get_ticket("9").await.unwrap().is_none());
}

#[tokio::test]
async fn check_connection_names_the_user_the_auth_and_the_priority_mapping() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    let said = desk(&mock, json!({})).check_connection().await.unwrap();
    assert!(
        said.starts_with("otai (otai@example.com) on http://127.0.0.1:"),
        "{said}"
    );
    assert!(said.contains("auth: http_token"), "{said}");
    assert!(said.contains("urgent → 3 high"), "{said}");
    assert!(!said.contains(TOKEN));
}
