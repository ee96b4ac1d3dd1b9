//! The SDK's conformance kit against the Zammad adapter (see `otai_plugin_sdk::conformance`).

use otai_plugin_sdk::{
    conformance::{self, Harness},
    Logger,
};
use otai_zammad::ZammadDesk;
use serde_json::json;
use wiremock::{
    matchers::{body_partial_json, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

struct Zammad {
    mock: MockServer,
}

impl Harness for Zammad {
    type Adapter = ZammadDesk;

    fn build(&self, base_url: &str, log: Logger) -> otai_plugin_sdk::Result<ZammadDesk> {
        let params = json!({"base_url": base_url, "http_token": TOKEN, "max_attempts": 2,
                            "page_size": 2});
        ZammadDesk::from_params_json(&params.to_string(), log)
    }

    fn secrets(&self) -> Vec<String> {
        vec![TOKEN.to_string()]
    }

    fn mock_url(&self) -> String {
        self.mock.uri()
    }
}

#[tokio::test]
async fn the_zammad_adapter_passes_the_conformance_kit() {
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
    for id in [1, 2, 3, 5, 6, 7] {
        mount_all(&mock, id, all(id, &[], &stamp(id), &[])).await;
    }
    for (id, status) in [(5, 200), (6, 422), (7, 200)] {
        Mock::given(method("PUT"))
            .and(path(format!("/api/v1/tickets/{id}")))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({"id": id,
                "error": "Invalid value for param 'priority_id': 1"})))
            .mount(&mock)
            .await;
    }
    conformance::check(&Zammad { mock }).await;
}
