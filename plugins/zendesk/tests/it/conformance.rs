//! The SDK's conformance kit against the Zendesk adapter: cancellation, isolation, panics,
//! secrets, errors naming their path, paging and batch outcomes (see
//! `otai_plugin_sdk::conformance`).

use otai_plugin_sdk::{
    conformance::{self, Harness},
    Logger,
};
use otai_zendesk::ZendeskClient;
use serde_json::json;
use wiremock::{
    matchers::{method, path, query_param, query_param_is_missing},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

struct Zendesk {
    mock: MockServer,
}

impl Harness for Zendesk {
    type Adapter = ZendeskClient;

    fn build(&self, base_url: &str, log: Logger) -> otai_plugin_sdk::Result<ZendeskClient> {
        let params = json!({"base_url": base_url, "email": EMAIL, "api_token": API_TOKEN,
                            "max_attempts": 2});
        ZendeskClient::from_params_json(&params.to_string(), log)
    }

    fn secrets(&self) -> Vec<String> {
        use base64::Engine as _;
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}/token:{API_TOKEN}"));
        vec![API_TOKEN.to_string(), basic]
    }

    fn mock_url(&self) -> String {
        self.mock.uri()
    }
}

#[tokio::test]
async fn the_zendesk_adapter_passes_the_conformance_kit() {
    let mock = MockServer::start().await;
    let next = format!("{}/api/v2/search.json?page=2", mock.uri());
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(1, &[]), ticket(2, &[])], "next_page": next, "count": 3
        })))
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(3, &[])], "next_page": null, "count": 3
        })))
        .mount(&mock)
        .await;
    // The same three tickets through search export, for find_tickets_page.
    Mock::given(method("GET"))
        .and(path("/api/v2/search/export"))
        .and(query_param_is_missing("page[after]"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(1, &[]), ticket(2, &[])],
            "meta": {"has_more": true, "after_cursor": "k1"}
        })))
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/export"))
        .and(query_param("page[after]", "k1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [ticket(3, &[])],
            "meta": {"has_more": false, "after_cursor": "k2"}
        })))
        .mount(&mock)
        .await;
    // The job is finished in the submission's answer; ticket 6 fails, out of order on purpose.
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/update_many"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"job_status": {
            "id": "conf", "status": "completed", "total": 3, "progress": 3,
            "results": [
                {"id": 7, "action": "update", "status": "Updated", "success": true},
                {"id": 6, "success": false, "error": "RecordInvalid", "details": "Priority: is invalid"},
                {"id": 5, "action": "update", "status": "Updated", "success": true}
            ]
        }})))
        .mount(&mock)
        .await;

    conformance::check(&Zendesk { mock }).await;
}
