//! Finding and reading tickets; sessions; errors in HTTP 200 answers.

use otai_plugin_sdk::{ErrorKind, SearchQuery, TicketSystemAdapter};
use serde_json::json;
use wiremock::{
    matchers::{method, path, query_param, query_param_is_missing},
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

async fn mount_get(mock: &MockServer, ids: &str, tickets: Vec<serde_json::Value>) {
    Mock::given(method("GET"))
        .and(path(format!("{WS}/Ticket/{ids}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Ticket": tickets})))
        .mount(mock)
        .await;
}

#[tokio::test]
async fn new_tickets_come_from_one_search_and_one_batched_get_with_a_session() {
    let mock = MockServer::start().await;
    mount_session(&mock).await;
    Mock::given(method("GET"))
        .and(path(format!("{WS}/Ticket")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"TicketID": ["1", "2", "3"]})),
        )
        .mount(&mock)
        .await;
    let changed = "2026-12-01 09:30:00";
    mount_get(
        &mock,
        "1,2,3",
        vec![
            gi_ticket(1, "Raw", json!(null), changed, &[]),
            gi_ticket(
                2,
                "Raw",
                json!(["otai_intent__x", "otai_processed"]),
                changed,
                &[],
            ),
            gi_ticket(3, "Postmaster", json!([]), changed, &[]),
        ],
    )
    .await;
    let desk = desk(&mock, json!({}));

    let found = desk.find_tickets(&new_unprocessed()).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "3"], "the processed ticket is left out");
    let t = &found[0];
    assert_eq!(
        (t.subject.as_str(), t.body.as_str()),
        ("Ticket 1", "Body of 1")
    );
    assert_eq!(t.queue.as_ref().unwrap().name.as_deref(), Some("Raw"));
    assert_eq!(t.priority.as_deref(), Some("normal"));
    assert_eq!(t.updated_at.as_deref(), Some("2026-12-01T09:30:00Z"));

    let searches = calls(&mock, "GET", &format!("{WS}/Ticket")).await;
    assert_eq!(searches.len(), 1);
    assert_eq!(
        searches[0],
        json!({"SessionID": SESSION, "StateType": "new", "SortBy": "Age", "OrderBy": "Up", "Limit": "500"})
    );
    let gets = calls(&mock, "GET", &format!("{WS}/Ticket/1,2,3")).await;
    assert_eq!(gets.len(), 1, "one TicketGet for the whole page");
    assert_eq!(gets[0]["AllArticles"], "1");
    // The password travelled once, in the body of SessionCreate, never in a URL.
    for r in mock.received_requests().await.unwrap() {
        assert!(!r.url.as_str().contains(PASSWORD), "{}", r.url);
    }
    assert_eq!(
        calls(&mock, "POST", &format!("{WS}/Session")).await.len(),
        1
    );
}

#[tokio::test]
async fn searches_page_by_creation_time_because_there_is_no_offset() {
    let mock = MockServer::start().await;
    mount_session(&mock).await;
    let search = format!("{WS}/Ticket");
    Mock::given(method("GET"))
        .and(path(&search))
        .and(query_param_is_missing("TicketCreateTimeNewerDate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"TicketID": ["1", "2"]})))
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path(&search))
        .and(query_param(
            "TicketCreateTimeNewerDate",
            "2026-12-01 09:00:02",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"TicketID": ["2", "3"]})))
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path(&search))
        .and(query_param(
            "TicketCreateTimeNewerDate",
            "2026-12-01 09:00:03",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"TicketID": ["3"]})))
        .mount(&mock)
        .await;
    let changed = "2026-12-01 09:30:00";
    mount_get(
        &mock,
        "1,2",
        vec![
            gi_ticket(1, "Raw", json!(null), changed, &[]),
            gi_ticket(2, "Raw", json!(null), changed, &[]),
        ],
    )
    .await;
    mount_get(
        &mock,
        "3",
        vec![gi_ticket(3, "Raw", json!(null), changed, &[])],
    )
    .await;
    let desk = desk(&mock, json!({"search_limit": 2}));
    let found = desk.find_tickets(&new_unprocessed()).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!(calls(&mock, "GET", &search).await.len(), 3);

    // Page by page: one search each, the position (creation second, Limit, ids already read
    // from that second) as the cursor.
    let pages = otai_plugin_sdk::conformance::follow_pages(&desk, &new_unprocessed())
        .await
        .unwrap();
    let at = |second: u8, id: u8| {
        Some(format!(
            r#"{{"created_from":"2026-12-01 09:00:0{second}","limit":2,"seen":[{id}]}}"#
        ))
    };
    let expected: Vec<(Vec<String>, Option<String>)> = vec![
        (vec!["1".into(), "2".into()], at(2, 2)),
        (vec!["3".into()], at(3, 3)),
        (vec![], None),
    ];
    assert_eq!(pages, expected);
    assert_eq!(calls(&mock, "GET", &search).await.len(), 6);
    let err = desk
        .find_tickets_page(&new_unprocessed(), Some("page 2"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation, "{err}");
}

#[tokio::test]
async fn a_post_search_route_filters_otais_tickets_on_the_server_and_open_ticket_ais_config_works()
{
    let mock = MockServer::start().await;
    let ws = "/otrs/nph-genericinterface.pl/Webservice/OpenTicketAI";
    Mock::given(method("POST"))
        .and(path(format!("{ws}/ticket-search")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"TicketID": "5"})))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{ws}/ticket-get")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Ticket": [
            gi_ticket(5, "Raw", json!(null), "2026-12-01 09:30:00", &[])
        ]})))
        .mount(&mock)
        .await;
    let params = json!({
        "base_url": format!("{}/otrs/nph-genericinterface.pl", mock.uri()),
        "webservice_name": "OpenTicketAI", "username": "open_ticket_ai", "password": PASSWORD,
        "operation_urls": {"TicketSearch": "ticket-search", "TicketGet": "ticket-get", "TicketUpdate": "ticket-update"}
    });
    let desk = otai_otobo_znuny::OtoboDesk::from_params_json(
        &params.to_string(),
        otai_plugin_sdk::Logger::silent(),
    )
    .unwrap();
    let found = desk.find_tickets(&new_unprocessed()).await.unwrap();
    assert_eq!(found.len(), 1);
    let search = &calls(&mock, "POST", &format!("{ws}/ticket-search")).await[0];
    assert_eq!(
        search["UserLogin"], "open_ticket_ai",
        "no session: the login in every request"
    );
    assert_eq!(search["DynamicField_OTAITags"], json!({"Empty": 1}));
    let get = &calls(&mock, "POST", &format!("{ws}/ticket-get")).await[0];
    assert_eq!(get["TicketID"], "5");
}

#[tokio::test]
async fn a_forgotten_session_is_renewed_once_and_a_refused_login_is_a_clear_auth_error() {
    let mock = MockServer::start().await;
    mount_session(&mock).await;
    let search = format!("{WS}/Ticket");
    // The system restarted: the first search's session is unknown.
    Mock::given(method("GET"))
        .and(path(&search))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Error": {
            "ErrorCode": "TicketSearch.AuthFail", "ErrorMessage": "TicketSearch: Authorization failing!"}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path(&search))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&mock)
        .await;
    let found = desk(&mock, json!({}))
        .find_tickets(&new_unprocessed())
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(
        calls(&mock, "POST", &format!("{WS}/Session")).await.len(),
        2,
        "one renewal"
    );

    let refused = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{WS}/Session")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Error": {
            "ErrorCode": "SessionCreate.AuthFail", "ErrorMessage": "SessionCreate: Authorization failing!"}})))
        .mount(&refused)
        .await;
    let e = desk(&refused, json!({}))
        .check_connection()
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    for part in ["creating a session", "SessionCreate.AuthFail", "`password`"] {
        assert!(e.message.contains(part), "{part}: {}", e.message);
    }
    assert!(!e.message.contains(PASSWORD));
}

#[tokio::test]
async fn no_matching_route_is_a_500_with_a_hint_at_the_routes() {
    let mock = MockServer::start().await;
    mount_session(&mock).await;
    Mock::given(method("GET"))
        .and(path(format!("{WS}/Ticket")))
        .respond_with(ResponseTemplate::new(500).set_body_string(
            "HTTP::REST Error while determine Operation for request URI '/Ticket'.",
        ))
        .mount(&mock)
        .await;
    let e = desk(&mock, json!({}))
        .find_tickets(&new_unprocessed())
        .await
        .unwrap_err();
    assert!(
        e.message.contains("HTTP 500") && e.message.contains("`routes`"),
        "{}",
        e.message
    );
}
