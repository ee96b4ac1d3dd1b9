//! The SDK's conformance kit against the Freshdesk adapter (see `otai_plugin_sdk::conformance`).

use otai_freshdesk::FreshdeskDesk;
use otai_plugin_sdk::{
    conformance::{self, Harness},
    Logger, SearchQuery,
};
use serde_json::json;
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

struct Freshdesk {
    mock: MockServer,
}

impl Harness for Freshdesk {
    type Adapter = FreshdeskDesk;

    fn build(&self, base_url: &str, log: Logger) -> otai_plugin_sdk::Result<FreshdeskDesk> {
        // One PUT per ticket here: the kit's batch expects one ticket refused on its own.
        let params = json!({"base_url": base_url, "api_key": KEY, "max_attempts": 2,
                            "bulk_update": false});
        FreshdeskDesk::from_params_json(&params.to_string(), log)
    }

    fn secrets(&self) -> Vec<String> {
        vec![KEY.to_string()]
    }

    fn mock_url(&self) -> String {
        self.mock.uri()
    }

    fn paged_query(&self) -> (SearchQuery, Vec<String>) {
        let query = SearchQuery {
            statuses: vec!["new".into()],
            ..SearchQuery::default()
        };
        (query, vec!["1".into(), "2".into(), "3".into()])
    }
}

#[tokio::test]
async fn the_freshdesk_adapter_passes_the_conformance_kit() {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    mount_empty_search(&mock).await;
    // A full first page (new tickets 1 and 2, 98 routed ones), then ticket 3.
    let mut first: Vec<_> = vec![ticket(1), ticket(2)];
    first.extend((100..198).map(|id| with(id, json!({"group_id": 11}))));
    for (page, tickets) in [("1", first), ("2", vec![ticket(3)])] {
        Mock::given(method("GET"))
            .and(path("/api/v2/tickets"))
            .and(query_param("page", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(tickets))
            .mount(&mock)
            .await;
    }
    for id in [1, 2, 3, 5, 6, 7] {
        mount_ticket(&mock, id, ticket(id)).await;
    }
    for (id, status) in [(5, 200), (6, 400), (7, 200)] {
        let body = if status == 200 {
            with(id, json!({"priority": 1}))
        } else {
            json!({"description": "Validation failed", "errors": [{"field": "priority",
                   "message": "It should be one of these values: '1,2,3,4'", "code": "invalid_value"}]})
        };
        Mock::given(method("PUT"))
            .and(path(format!("/api/v2/tickets/{id}")))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&mock)
            .await;
    }
    conformance::check(&Freshdesk { mock }).await;
}
