//! Zammad's error answers as otai's errors: kind, HTTP status, Zammad's sentence, a hint, the
//! URL path; never a credential.

use otai_plugin_sdk::{ErrorKind, TicketSystemAdapter};
use serde_json::json;
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

#[tokio::test]
async fn a_refused_token_is_a_clear_auth_error_without_the_token() {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users/me"))
        .and(header(
            "authorization",
            format!("Token token={TOKEN}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-failure", "Can't find User for Token")
                .set_body_json(json!({
                    "error": "Can't find User for Token",
                    "error_human": "Can't find User for Token"
                })),
        )
        .mount(&mock)
        .await;
    let e = desk(&mock, json!({})).check_connection().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.http_status, Some(401));
    for part in [
        "GET /api/v1/users/me",
        "HTTP 401",
        "Can't find User for Token",
        "`http_token`",
    ] {
        assert!(e.message.contains(part), "{part}: {}", e.message);
    }
    assert!(!e.message.contains(TOKEN));
}

#[tokio::test]
async fn basic_and_bearer_credentials_are_sent_as_zammad_expects() {
    use base64::Engine as _;
    let mock = MockServer::start().await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("otai:pass word")
    );
    for auth in [basic.as_str(), "Bearer oauth-abc"] {
        Mock::given(method("GET"))
            .and(path("/api/v1/users/me"))
            .and(header("authorization", auth))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": 3, "login": "otai"})),
            )
            .mount(&mock)
            .await;
    }
    mount_lists(&mock).await;
    let with = |params: serde_json::Value| {
        let mut p = json!({"base_url": mock.uri()});
        p.as_object_mut()
            .unwrap()
            .extend(params.as_object().unwrap().clone());
        otai_zammad::ZammadDesk::from_params_json(&p.to_string(), otai_plugin_sdk::Logger::silent())
            .unwrap()
    };
    let basic_desk = with(json!({"username": "otai", "password": "pass word"}));
    assert!(basic_desk.check_connection().await.is_ok());
    let bearer_desk = with(json!({"oauth_token": "oauth-abc"}));
    assert!(bearer_desk.check_connection().await.is_ok());
}

#[tokio::test]
async fn a_permission_refusal_says_what_otai_needs() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/tickets/search"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-failure", "Not authorized")
                .set_body_json(json!({"error": "Not authorized", "error_human": "Not authorized"})),
        )
        .mount(&mock)
        .await;
    let e = desk(&mock, json!({}))
        .find_tickets(&otai_plugin_sdk::SearchQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.message.contains("ticket.agent"), "{}", e.message);
}
