//! Reads: get, search with paging, search export, check_connection.

use otai_plugin_sdk::{ErrorKind, SearchQuery};
use serde_json::json;
use wiremock::{
    matchers::{header, method, path, query_param, query_param_is_missing},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

fn rs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn get_ticket_sends_basic_auth_and_maps_the_recorded_ticket() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/2"))
        .and(header("authorization", basic_header().as_str()))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("GET/ticket.json")))
        .expect(1)
        .mount(&server)
        .await;

    let t = client(&server)
        .get_ticket("2")
        .await
        .unwrap()
        .expect("ticket 2 exists");

    assert_eq!(t.id.as_str(), "2");
    assert_eq!(
        t.subject.as_str(),
        "Mail to create fixture ticket for testing"
    );
    assert_eq!(t.status.as_str(), "solved");
    assert_eq!(t.priority, None);
    let queue = t.queue.unwrap();
    assert_eq!(queue.id.unwrap().as_str(), "360004077472");
    assert_eq!(queue.name, None, "groups were never loaded, so no name");
    assert_eq!(t.updated_at.unwrap().as_str(), "2019-06-05T01:13:24Z");
    let raw = &t.raw;
    assert_eq!(raw["via"]["channel"], "email");
}

#[tokio::test]
async fn oauth_token_is_sent_as_bearer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/2"))
        .and(header(
            "authorization",
            format!("Bearer {OAUTH_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("GET/ticket.json")))
        .expect(1)
        .mount(&server)
        .await;

    assert!(oauth_client(&server)
        .get_ticket("2")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn get_ticket_404_is_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/404"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "RecordNotFound", "description": "Not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(client(&server).get_ticket("404").await.unwrap(), None);
}

#[tokio::test]
async fn non_numeric_ids_are_rejected_before_any_request() {
    let server = MockServer::start().await;
    let c = client(&server);

    let err = c.get_ticket("12ab").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);
    assert!(err.message.contains("\"12ab\""), "{}", err.message);
    let err = c.add_note("x", &Default::default()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);
    assert_eq!(request_count(&server).await, 0);
}

#[tokio::test]
async fn search_uses_the_recorded_search_response() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("query", "type:ticket status:new"))
        .and(query_param("sort_by", "created_at"))
        .and(query_param("sort_order", "asc"))
        .and(query_param("per_page", "100"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("GET/search_ticket.json")))
        .expect(1)
        .mount(&server)
        .await;

    let q = SearchQuery {
        statuses: rs(&["new"]),
        ..Default::default()
    };
    let found = client(&server).find_tickets(&q).await.unwrap();

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_str(), "4");
    assert_eq!(found[0].priority, Some("urgent".into()));
}

#[tokio::test]
async fn search_follows_next_page_and_drops_duplicates() {
    let server = MockServer::start().await;
    let next = format!("{}/api/v2/search.json?page=2", server.uri());
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(1, &[]), ticket(2, &[])],
            "next_page": next, "previous_page": null, "count": 3, "facets": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(2, &[]), ticket(3, &[])],
            "next_page": null, "previous_page": null, "count": 3, "facets": null
        })))
        .expect(1)
        .mount(&server)
        .await;

    let found = client(&server)
        .find_tickets(&SearchQuery::default())
        .await
        .unwrap();

    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
}

#[tokio::test]
async fn search_stops_when_the_limit_is_reached() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(1, &[]), ticket(2, &[])],
            "next_page": "https://acme.zendesk.com/api/v2/search.json?page=2", "count": 500
        })))
        .expect(2) // once per call below, never page 2
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": []})))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server);

    let q = SearchQuery {
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(c.find_tickets(&q).await.unwrap().len(), 2);
    let first = c
        .find_first_ticket(&SearchQuery::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id.as_str(), "1");
}

#[tokio::test]
async fn find_first_ticket_is_none_without_results() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"results": [], "next_page": null, "count": 0})),
        )
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(
        client(&server)
            .find_first_ticket(&SearchQuery::default())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn search_translates_every_condition_and_enforces_them_client_side() {
    let server = MockServer::start().await;
    // Recorded groups response (go-zendesk, MIT): one group "Support", id 360002440594.
    Mock::given(method("GET"))
        .and(path("/api/v2/groups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("GET/groups.json")))
        .expect(1)
        .mount(&server)
        .await;
    let in_support = |id: u64, tags: &[&str]| {
        let mut t = ticket(id, tags);
        t["group_id"] = json!(360002440594u64);
        t
    };
    let mut other_group = in_support(13, &["vip", "billing"]);
    other_group["group_id"] = json!(999);
    let mut solved = in_support(14, &["vip", "billing"]);
    solved["status"] = json!("solved");
    // Two statuses: one query each (whether Zendesk ORs repeated `status:` terms is undocumented).
    // `updated>` one second early, with the exact "at or after" check done client-side.
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param(
            "query",
            "type:ticket status:new group:\"Support\" tags:vip tags:billing \
             -tags:ai_done updated>2024-04-30T23:59:59Z brand:acme",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [in_support(10, &["vip", "billing", "x"])], // also found below: deduplicated
            "next_page": null, "count": 1
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param(
            "query",
            "type:ticket status:open group:\"Support\" tags:vip tags:billing \
             -tags:ai_done updated>2024-04-30T23:59:59Z brand:acme",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [
                in_support(10, &["vip", "billing", "x"]),
                in_support(11, &["vip"]),            // Zendesk ORs tags: only one of two
                in_support(12, &["vip", "billing", "ai_done"]),
                other_group,                          // phrase match on another group
                solved,
            ],
            "next_page": null, "count": 5
        })))
        .expect(1)
        .mount(&server)
        .await;

    let q = SearchQuery {
        statuses: rs(&["open", "new"]),
        queue: Some("Support".into()),
        tags_all: rs(&["vip", "billing"]),
        tags_none: rs(&["ai_done"]),
        updated_since: Some("2024-05-01T00:00:00Z".into()),
        limit: None,
        system_query: Some("brand:acme".into()),
    };
    let found = client(&server).find_tickets(&q).await.unwrap();

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_str(), "10");
    let queue = found[0].queue.clone().unwrap();
    assert_eq!(
        queue.name.unwrap().as_str(),
        "Support",
        "name filled from the loaded cache"
    );
}

#[tokio::test]
async fn search_past_the_1000_cap_switches_to_export_and_follows_cursors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(1, &[])],
            "next_page": "https://acme.zendesk.com/api/v2/search.json?page=2", "count": 2500
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/export"))
        .and(query_param("query", "status:open"))
        .and(query_param("filter[type]", "ticket"))
        .and(query_param("page[size]", "100"))
        .and(query_param_is_missing("page[after]"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(1, &[]), ticket(2, &[])],
            "facets": null,
            "meta": {"has_more": true, "after_cursor": "cur-1", "before_cursor": null},
            "links": {"prev": null, "next": "https://acme.zendesk.com/api/v2/search/export?page[after]=cur-1"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/export"))
        .and(query_param("page[after]", "cur-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(2, &[]), ticket(3, &[])],
            "facets": null,
            "meta": {"has_more": false, "after_cursor": "cur-2", "before_cursor": null},
            // Zendesk keeps a next link on the last page; has_more is what counts.
            "links": {"prev": null, "next": "https://acme.zendesk.com/api/v2/search/export?page[after]=cur-2"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let q = SearchQuery {
        statuses: rs(&["open"]),
        ..Default::default()
    };
    let found = client(&server).find_tickets(&q).await.unwrap();

    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
}

fn with_status(id: u64, status: &str) -> serde_json::Value {
    let mut t = ticket(id, &[]);
    t["status"] = json!(status);
    t
}

fn export_page(results: Vec<serde_json::Value>, after: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "results": results,
        "facets": null,
        "meta": {"has_more": after.is_some(), "after_cursor": after.unwrap_or("last"), "before_cursor": null},
        "links": {"prev": null, "next": "https://acme.zendesk.com/api/v2/search/export?page[after]=x"}
    }))
}

#[tokio::test]
async fn find_tickets_page_pages_each_status_through_search_export_one_request_a_page() {
    let server = MockServer::start().await;
    let export = |query: &str| {
        Mock::given(method("GET"))
            .and(path("/api/v2/search/export"))
            .and(query_param("query", query))
            .and(query_param("filter[type]", "ticket"))
            .and(query_param("page[size]", "100"))
    };
    export("status:new")
        .and(query_param_is_missing("page[after]"))
        .respond_with(export_page(vec![with_status(1, "new")], Some("c1")))
        .expect(1)
        .mount(&server)
        .await;
    export("status:new")
        .and(query_param("page[after]", "c1"))
        .respond_with(export_page(vec![with_status(2, "new")], None))
        .expect(1)
        .mount(&server)
        .await;
    // Ticket 4 changed status after the index saw it: the client-side check leaves it out.
    export("status:open")
        .and(query_param_is_missing("page[after]"))
        .respond_with(export_page(
            vec![with_status(3, "open"), with_status(4, "solved")],
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let q = SearchQuery {
        statuses: rs(&["new", "open"]),
        ..Default::default()
    };

    let pages = otai_plugin_sdk::conformance::follow_pages(&client, &q)
        .await
        .unwrap();

    let expected: Vec<(Vec<String>, Option<String>)> = vec![
        (rs(&["1"]), Some("0:c1".into())),
        (rs(&["2"]), Some("1:".into())),
        (rs(&["3"]), None),
    ];
    assert_eq!(pages, expected);
    for bad in ["2:", "x", "0"] {
        let err = client.find_tickets_page(&q, Some(bad)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Validation, "{bad}: {err}");
        assert!(
            err.message.contains("not one this service handed out"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn search_with_a_limit_under_the_cap_stays_on_offset_search() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(1, &[]), ticket(2, &[])],
            "next_page": "https://acme.zendesk.com/api/v2/search.json?page=2", "count": 2500
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/search/export"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let q = SearchQuery {
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(client(&server).find_tickets(&q).await.unwrap().len(), 2);
}

#[tokio::test]
async fn check_connection_names_user_role_and_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/me"))
        .and(header("authorization", basic_header().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "user": {"id": 377922500012u64, "name": "Agent", "email": EMAIL, "role": "admin"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let who = client(&server).check_connection().await.unwrap();

    assert_eq!(
        who,
        format!(
            "{EMAIL} (admin) on {}; auth: api_token ({EMAIL})",
            server.uri()
        )
    );
}

#[tokio::test]
async fn check_connection_as_anonymous_user_is_an_auth_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "user": {"id": null, "name": "Anonymous user", "email": "invalid@example.com", "role": "end-user"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server).check_connection().await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.message.contains("anonymous"), "{}", err.message);
    assert!(!err.message.contains(API_TOKEN));
}

#[tokio::test]
async fn search_continues_with_export_when_the_cap_is_exhausted_before_the_limit() {
    let server = MockServer::start().await;
    // 1,000 results Zendesk-side, but none carries both tags (Zendesk ORs repeated tags:),
    // so the 10 offset pages yield nothing and export must take over.
    for page in 1..=10u64 {
        Mock::given(method("GET"))
            .and(path("/api/v2/search"))
            .and(query_param("page", page.to_string().as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "results": [ticket(page, &["vip"])],
                "next_page": format!("https://acme.zendesk.com/api/v2/search.json?page={}", page + 1),
                "count": 1000
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("page", "11"))
        .respond_with(ResponseTemplate::new(422))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/export"))
        .and(query_param("query", "tags:vip tags:billing"))
        .and(query_param("filter[type]", "ticket"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(1, &["vip"]), ticket(2000, &["vip", "billing"])],
            "meta": {"has_more": false, "after_cursor": null},
            "links": {"next": null, "prev": null}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let q = SearchQuery {
        tags_all: rs(&["vip", "billing"]),
        ..Default::default()
    };
    let found = client(&server).find_tickets(&q).await.unwrap();

    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["2000"]);
}

#[tokio::test]
async fn one_ticket_with_broken_characters_does_not_make_the_page_unreadable() {
    let server = MockServer::start().await;
    // A lone surrogate escape (an emoji cut in half) in one subject and a Latin-1 byte in another
    // body: strict JSON parsing would reject the whole page.
    let mut page = br#"{"results": [
        {"id": 1, "subject": "cut emoji \ud83d", "description": "fine", "status": "new", "tags": [], "result_type": "ticket"},
        {"id": 2, "subject": "ok", "description": "caf"#
        .to_vec();
    page.push(0xE9);
    page.extend_from_slice(
        br#"", "status": "new", "tags": [], "result_type": "ticket"}
    ], "next_page": null, "count": 2}"#,
    );
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(page, "application/json"))
        .expect(1)
        .mount(&server)
        .await;

    let found = client(&server)
        .find_tickets(&SearchQuery::default())
        .await
        .expect("the page is read despite the broken characters");

    assert_eq!(found.len(), 2);
    assert_eq!(found[0].subject.as_str(), "cut emoji \u{FFFD}");
    assert_eq!(found[1].body.as_str(), "caf\u{FFFD}");
}
