//! Freshdesk's errors as operators read them: the key to check, the field and code refused.

use otai_plugin_sdk::{ErrorKind, TicketSystemAdapter, TicketUpdate};
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

#[tokio::test]
async fn a_refused_key_is_an_auth_error_naming_api_key_never_its_value() {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"code": "invalid_credentials",
            "message": "You have to be logged in to perform this action."})),
        )
        .mount(&mock)
        .await;
    let e = desk(&mock, json!({})).check_connection().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth, "{}", e.message);
    assert!(
        e.message.contains("/api/v2/agents/me")
            && e.message.contains("(invalid_credentials)")
            && e.message.contains("`api_key`")
            && !e.message.contains(KEY),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn validation_errors_show_field_and_code() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    mount_ticket(&mock, 9, ticket(9)).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/9"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"description": "Validation failed",
            "errors": [{"field": "cf_region", "message": "Unexpected/invalid field in request", "code": "invalid_field"}]})))
        .mount(&mock)
        .await;
    let update = TicketUpdate {
        custom_fields: vec![otai_plugin_sdk::CustomField {
            id: "cf_region".into(),
            value: json!("EU"),
        }],
        ..TicketUpdate::default()
    };
    let e = desk(&mock, json!({}))
        .update_ticket("9", &update)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation, "{}", e.message);
    assert!(
        e.message
            .contains("cf_region: Unexpected/invalid field in request (invalid_field)")
            && e.message.contains("PUT /api/v2/tickets/9")
            && e.message.contains("update_ticket 9"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn an_exhausted_account_is_waited_for_and_told() {
    // 429 with Retry-After 1: the transport waits and sends again; the answer is read.
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/3"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(
                    json!({"code": "rate_limit_exceeded", "message": "Rate limit exceeded"}),
                ),
        )
        .up_to_n_times(1)
        .mount(&mock)
        .await;
    mount_ticket(&mock, 3, ticket(3)).await;
    let desk = desk(&mock, json!({}));
    let t = desk.get_ticket("3").await.unwrap().unwrap();
    assert_eq!(t.id, "3");
    assert_eq!(desk.request_stats().unwrap().rate_limited, 1);
}
