//! Error mapping, retries, timeouts, and secrets kept out of messages.

use std::time::{Duration, Instant};

use otai_plugin_sdk::{ErrorKind, SearchQuery};
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

async fn get_with(server: &MockServer, response: ResponseTemplate, times: u64) {
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn status_codes_map_to_error_kinds() {
    let cases = [
        (401, ErrorKind::Auth),
        (403, ErrorKind::Forbidden),
        (409, ErrorKind::Conflict),
        (400, ErrorKind::Validation),
        (413, ErrorKind::Validation),
        (422, ErrorKind::Validation),
    ];
    for (status, kind) in cases {
        let server = MockServer::start().await;
        get_with(
            &server,
            ResponseTemplate::new(status).set_body_json(json!({"error": "E"})),
            1,
        )
        .await;

        let err = client(&server).get_ticket("7").await.unwrap_err();

        assert_eq!(err.kind, kind, "HTTP {status}");
        assert_eq!(err.http_status, Some(status));
        assert!(
            err.message.contains("GET /api/v2/tickets/7"),
            "{}",
            err.message
        );
    }
}

#[tokio::test]
async fn zendesk_error_body_and_request_id_reach_the_error() {
    let server = MockServer::start().await;
    get_with(
        &server,
        ResponseTemplate::new(422).insert_header("x-request-id", "req-abc-123").set_body_json(json!({
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"status": [{"description": "Status: closed prevents ticket update", "error": "InvalidValue"}]}
        })),
        1,
    )
    .await;

    let err = client(&server).get_ticket("7").await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::Validation);
    assert_eq!(err.request_id, Some("req-abc-123".into()));
    assert!(err.message.contains("get_ticket 7"), "{}", err.message);
    assert!(
        err.message
            .contains("RecordInvalid: Record validation errors"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("status: Status: closed prevents ticket update"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn other_error_shapes_are_read_too() {
    let server = MockServer::start().await;
    get_with(
        &server,
        ResponseTemplate::new(400).set_body_json(
            json!({"errors": [{"code": "InvalidParam", "title": "page size too big"}]}),
        ),
        1,
    )
    .await;
    let err = client(&server).get_ticket("7").await.unwrap_err();
    assert!(
        err.message.contains("InvalidParam: page size too big"),
        "{}",
        err.message
    );

    let server = MockServer::start().await;
    get_with(
        &server,
        ResponseTemplate::new(400).set_body_raw("Bad Request: malformed query", "text/plain"),
        1,
    )
    .await;
    let err = client(&server).get_ticket("7").await.unwrap_err();
    assert!(
        err.message.contains("Bad Request: malformed query"),
        "{}",
        err.message
    );

    let server = MockServer::start().await;
    get_with(
        &server,
        ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_token",
            "error_description": "The access token provided is expired, revoked, malformed or invalid"
        })),
        1,
    )
    .await;
    let err = oauth_client(&server).get_ticket("7").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(
        err.message
            .contains("invalid_token: The access token provided is expired"),
        "{}",
        err.message
    );
    assert!(!err.message.contains(OAUTH_TOKEN));
}

#[tokio::test]
async fn a_get_is_retried_after_429_honouring_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    get_with(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"ticket": ticket(7, &[])})),
        1,
    )
    .await;
    let started = Instant::now();

    let t = client(&server).get_ticket("7").await.unwrap();

    assert!(t.is_some());
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited for Retry-After"
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_max_retry_wait_fails_at_once_with_rate_limited() {
    let server = MockServer::start().await;
    get_with(
        &server,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "120")
            .insert_header("x-request-id", "req-429")
            .set_body_json(
                json!({"error": "TooManyRequests", "description": "Rate limit exceeded"}),
            ),
        1,
    )
    .await;

    let err = client_with(&server, json!({"max_retry_wait": 5}))
        .get_ticket("7")
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(
        err.retry_after,
        Some(std::time::Duration::from_millis(120_000))
    );
    assert_eq!(err.http_status, Some(429));
    assert_eq!(err.request_id, Some("req-429".into()));
}

#[tokio::test]
async fn rate_limited_after_the_last_attempt_carries_retry_after() {
    let server = MockServer::start().await;
    get_with(
        &server,
        ResponseTemplate::new(429).insert_header("retry-after", "0"),
        2,
    )
    .await;

    let err = client_with(&server, json!({"max_attempts": 2}))
        .get_ticket("7")
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.retry_after, Some(std::time::Duration::ZERO));
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_and_without_it_is_transport() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    get_with(
        &server,
        ResponseTemplate::new(503).set_body_string("maintenance"),
        2,
    )
    .await;

    let err = client_with(&server, json!({"max_attempts": 3}))
        .get_ticket("7")
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(err.http_status, Some(503));
    assert!(err.message.contains("maintenance"), "{}", err.message);
}

#[tokio::test]
async fn a_get_is_retried_on_500_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    get_with(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"ticket": ticket(7, &[])})),
        1,
    )
    .await;
    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = logs.clone();
    let logger = otai_zendesk::Logger::from_fn(move |level, _target, message| {
        sink.lock().unwrap().push((level, message.to_string()));
    });
    let c = otai_zendesk::ZendeskClient::from_params_json(
        &params(&server, json!({})).to_string(),
        logger,
    )
    .unwrap();

    assert!(c.get_ticket("7").await.unwrap().is_some());

    let logs = logs.lock().unwrap();
    let mut warns: Vec<&String> = logs
        .iter()
        .filter(|(l, _)| *l == otai_plugin_sdk::LogLevel::Warn)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(warns.len(), 3, "{logs:?}");
    // API-token auth warns once, naming Zendesk's cutoff.
    let legacy = warns.remove(0);
    assert!(legacy.contains("April 30, 2027"), "{legacy}");
    assert!(legacy.contains("`oauth:`"), "{legacy}");
    assert!(
        warns[0].starts_with("GET /api/v2/tickets/7: HTTP 500; retrying in "),
        "{}",
        warns[0]
    );
    assert!(
        warns[1].contains("HTTP 502") && warns[1].contains("attempt 3/4"),
        "{}",
        warns[1]
    );
}

#[tokio::test]
async fn a_get_gives_up_after_max_attempts() {
    let server = MockServer::start().await;
    get_with(&server, ResponseTemplate::new(500), 2).await;

    let err = client_with(&server, json!({"max_attempts": 2}))
        .get_ticket("7")
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(err.http_status, Some(500));
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    get_with(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"ticket": ticket(7, &[])}))
            .set_delay(Duration::from_millis(1500)),
        1,
    )
    .await;

    let err = client_with(&server, json!({"timeout": 0.3}))
        .get_ticket("7")
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("within 0.3 s"), "{}", err.message);
}

#[tokio::test]
async fn malformed_json_is_an_invalid_response() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "req-bad-json")
                .set_body_raw("{\"results\": [", "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .find_tickets(&SearchQuery::default())
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert_eq!(err.request_id, Some("req-bad-json".into()));
    assert!(
        err.message.contains("GET /api/v2/search"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let params = json!({"base_url": format!("http://127.0.0.1:{port}"), "oauth_token": OAUTH_TOKEN, "max_attempts": 2});
    let c = otai_zendesk::ZendeskClient::from_params_json(
        &params.to_string(),
        otai_zendesk::Logger::silent(),
    )
    .unwrap();

    let err = c.get_ticket("7").await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.message.contains("cannot connect"), "{}", err.message);
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output_or_errors() {
    let server = MockServer::start().await;
    get_with(
        &server,
        ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        1,
    )
    .await;
    let config = otai_zendesk::Config::from_value(params(&server, json!({}))).unwrap();
    let c = client(&server);
    let svc =
        otai_plugin_sdk::service::AdapterService::new(client(&server), "otai_zendesk").unwrap();

    let err = c.get_ticket("7").await.unwrap_err();

    let basic = basic_header();
    let encoded = basic.trim_start_matches("Basic ");
    for text in [
        format!("{config:?}"),
        format!("{c:?}"),
        format!("{svc:?}"),
        format!("{err:?}"),
        err.to_string(),
    ] {
        assert!(!text.contains(API_TOKEN), "{text}");
        assert!(!text.contains(encoded), "{text}");
    }
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(
        err.message.contains("Couldn't authenticate you"),
        "{}",
        err.message
    );
    drop(svc);
}

#[tokio::test]
async fn an_answer_larger_than_max_response_bytes_is_an_error_naming_the_path_and_not_read() {
    let server = MockServer::start().await;
    let big = json!({"ticket": {"id": 7, "subject": "x", "description": "a".repeat(4096)}});
    get_with(&server, ResponseTemplate::new(200).set_body_json(&big), 2).await;
    let capped = client_with(&server, json!({"max_response_bytes": 1024}));
    let roomy = client_with(&server, json!({"max_response_bytes": 1_000_000}));

    let err = capped.get_ticket("7").await.unwrap_err();
    let ok = roomy.get_ticket("7").await.unwrap();

    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert!(
        err.message.contains("GET /api/v2/tickets/7"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("max_response_bytes (1024 bytes)"),
        "{}",
        err.message
    );
    assert!(ok.is_some());
}
