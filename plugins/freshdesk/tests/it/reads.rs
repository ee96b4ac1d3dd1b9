//! Finding tickets: the list scan by change time, the carry, the backlog sweep.

use otai_plugin_sdk::{SearchQuery, TicketSystemAdapter};
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, Request, ResponseTemplate,
};

use crate::common::*;

fn inbox() -> SearchQuery {
    SearchQuery {
        statuses: vec!["new".into()],
        tags_none: vec!["otai_processed".into()],
        ..SearchQuery::default()
    }
}

async fn mount_list(mock: &MockServer, tickets: Vec<serde_json::Value>) {
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tickets))
        .mount(mock)
        .await;
}

fn ids(tickets: &[otai_plugin_sdk::Ticket]) -> Vec<&str> {
    tickets.iter().map(|t| t.id.as_str()).collect()
}

#[tokio::test]
async fn the_scan_reads_the_list_by_change_time_with_descriptions_and_filters_here() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    mount_empty_search(&mock).await;
    mount_list(
        &mock,
        vec![
            ticket(1),
            with(2, json!({"group_id": 11})),
            with(3, json!({"tags": ["OTAI_processed"]})),
            with(4, json!({"responder_id": 9})),
            with(5, json!({"status": 3})),
        ],
    )
    .await;
    let desk = desk(&mock, json!({}));
    let found = desk.find_tickets(&inbox()).await.unwrap();
    assert_eq!(ids(&found), ["1"]);
    assert_eq!(found[0].body, "Body of 1");
    assert_eq!(found[0].status, "new");

    let requests = mock.received_requests().await.unwrap();
    let list = requests
        .iter()
        .find(|r| r.url.path() == "/api/v2/tickets")
        .unwrap();
    assert_eq!(param(list, "order_by").as_deref(), Some("updated_at"));
    assert_eq!(param(list, "order_type").as_deref(), Some("asc"));
    assert_eq!(param(list, "per_page").as_deref(), Some("100"));
    assert_eq!(param(list, "include").as_deref(), Some("description"));
    assert!(param(list, "updated_since").unwrap().ends_with('Z'));
    let search = requests
        .iter()
        .find(|r| r.url.path() == "/api/v2/search/tickets")
        .expect("the first find sweeps the backlog");
    let q = param(search, "query").unwrap();
    assert!(
        q.starts_with("\"((status:2 AND group_id:null AND agent_id:null))")
            && q.contains("AND updated_at:<'"),
        "{q}"
    );
}

#[tokio::test]
async fn a_ticket_found_comes_again_until_it_changes_and_the_sweep_runs_once() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    mount_empty_search(&mock).await;
    mount_list(&mock, vec![ticket(1)]).await;
    let desk = desk(&mock, json!({}));
    assert_eq!(ids(&desk.find_tickets(&inbox()).await.unwrap()), ["1"]);

    // The host left it for later: the next scan does not see it (unchanged), it still matches.
    mock.reset().await;
    mount_basics(&mock).await;
    mount_empty_search(&mock).await;
    mount_list(&mock, vec![]).await;
    assert_eq!(ids(&desk.find_tickets(&inbox()).await.unwrap()), ["1"]);
    let searches = calls(&mock)
        .await
        .iter()
        .filter(|c| c.contains("/search/"))
        .count();
    assert_eq!(searches, 0, "the backlog sweep runs once per query");

    // Written by otai (a group now): the scan sees the change, it no longer matches.
    mock.reset().await;
    mount_basics(&mock).await;
    mount_list(
        &mock,
        vec![with(
            1,
            json!({"group_id": 11, "updated_at": "2026-12-01T09:05:00Z"}),
        )],
    )
    .await;
    assert!(desk.find_tickets(&inbox()).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_sweep_splits_past_the_search_cap_and_reads_each_ticket_once() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    mount_list(&mock, vec![]).await;
    let whole = |r: &Request| {
        r.url.path() == "/api/v2/search/tickets"
            && !param(r, "query").unwrap_or_default().contains("created_at")
    };
    let part = |r: &Request| {
        r.url.path() == "/api/v2/search/tickets"
            && param(r, "query").unwrap_or_default().contains("created_at")
    };
    Mock::given(whole)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total": 400, "results": []})),
        )
        .mount(&mock)
        .await;
    let old = with(42, json!({"description": null, "description_text": null}));
    Mock::given(part)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total": 1, "results": [old]})),
        )
        .mount(&mock)
        .await;
    mount_ticket(&mock, 42, ticket(42)).await;
    let desk = desk(&mock, json!({}));
    let found = desk.find_tickets(&inbox()).await.unwrap();
    assert_eq!(ids(&found), ["42"]);
    assert_eq!(
        found[0].body, "Body of 42",
        "read whole for its description"
    );
    let calls = calls(&mock).await;
    let parts = calls.iter().filter(|c| c.contains("/search/")).count();
    assert!(
        parts >= 3,
        "the whole range, then its two halves: {calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| c.ends_with("/tickets/42")).count(),
        1
    );
}

#[tokio::test]
async fn an_unknown_status_or_queue_is_named() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    let desk = desk(&mock, json!({}));
    let bad = SearchQuery {
        statuses: vec!["later".into()],
        ..SearchQuery::default()
    };
    let e = desk.find_tickets(&bad).await.unwrap_err();
    assert!(
        e.message.contains("unknown status \"later\""),
        "{}",
        e.message
    );
    let queue = SearchQuery {
        queue: Some("Nowhere".into()),
        ..SearchQuery::default()
    };
    let e = desk.find_tickets(&queue).await.unwrap_err();
    assert!(
        e.message.contains("no group named \"Nowhere\""),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_backlog_past_the_limit_comes_in_the_next_finds_without_sweeping_again() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    mount_list(&mock, vec![]).await;
    let bare = |id: u64| with(id, json!({"description": null, "description_text": null}));
    Mock::given(method("GET"))
        .and(path("/api/v2/search/tickets"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"total": 3, "results": [bare(31), bare(32), bare(33)]})),
        )
        .mount(&mock)
        .await;
    for id in [31, 32, 33] {
        mount_ticket(&mock, id, ticket(id)).await;
    }
    let desk = desk(&mock, json!({}));
    let one = SearchQuery {
        limit: Some(1),
        ..inbox()
    };
    let mut seen = Vec::new();
    for _ in 0..3 {
        let found = desk.find_tickets(&one).await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        seen.push(found[0].id.clone());
        // The host wrote it: it no longer matches, and leaves the carry through the list.
        mock.reset().await;
        mount_basics(&mock).await;
        let written: Vec<_> = seen
            .iter()
            .map(|id| {
                with(
                    id.parse().unwrap(),
                    json!({"group_id": 11, "updated_at": "2026-12-01T09:30:00Z"}),
                )
            })
            .collect();
        mount_list(&mock, written).await;
        for id in [31, 32, 33] {
            mount_ticket(&mock, id, ticket(id)).await;
        }
    }
    assert_eq!(seen, ["31", "32", "33"]);
    assert!(
        !calls(&mock).await.iter().any(|c| c.contains("/search/")),
        "the sweep ran once; the rest came from its backlog"
    );
}

#[tokio::test]
async fn find_tickets_page_reads_one_list_page_per_call_from_the_beginning() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    // A full first page (new tickets 1 and 2, 98 routed ones), then ticket 3.
    let mut first: Vec<_> = vec![ticket(1), ticket(2)];
    first.extend((100..198).map(|id| with(id, json!({"group_id": 11}))));
    for (page, tickets) in [("1", first), ("2", vec![ticket(3)])] {
        Mock::given(method("GET"))
            .and(path("/api/v2/tickets"))
            .and(wiremock::matchers::query_param("page", page))
            .and(wiremock::matchers::query_param(
                "updated_since",
                "2010-01-01T00:00:00Z",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(tickets))
            .mount(&mock)
            .await;
    }
    let desk = desk(&mock, json!({}));

    let first = desk.find_tickets_page(&inbox(), None).await.unwrap();
    let ids: Vec<&str> = first.tickets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(
        first.tickets[0].body, "Body of 1",
        "descriptions come with the list"
    );
    let cursor = first.cursor.expect("a full page has a next one");
    assert_eq!(
        cursor,
        r#"{"from":"2010-01-01T00:00:00Z","page":2,"seen":[]}"#
    );
    let second = desk
        .find_tickets_page(&inbox(), Some(&cursor))
        .await
        .unwrap();
    let ids: Vec<&str> = second.tickets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!((ids, second.cursor), (vec!["3"], None));
    let err = desk
        .find_tickets_page(&inbox(), Some("page=2"))
        .await
        .unwrap_err();
    assert!(
        err.message.contains("not one this service handed out"),
        "{err}"
    );
    // Two list pages, no search, no read per ticket.
    let requests = mock.received_requests().await.unwrap();
    let paths: Vec<&str> = requests.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths.iter().filter(|p| **p == "/api/v2/tickets").count(),
        2,
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p.starts_with("/api/v2/search")),
        "{paths:?}"
    );
}
