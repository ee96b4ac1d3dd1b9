//! The SDK's conformance kit against the OTOBO/Znuny adapter.

use otai_otobo_znuny::OtoboDesk;
use otai_plugin_sdk::{
    conformance::{self, Harness},
    Logger,
};
use serde_json::json;
use wiremock::{
    matchers::{method, path, query_param, query_param_is_missing},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

struct Otobo {
    mock: MockServer,
}

impl Harness for Otobo {
    type Adapter = OtoboDesk;

    fn build(&self, base_url: &str, log: Logger) -> otai_plugin_sdk::Result<OtoboDesk> {
        let params = json!({"base_url": format!("{base_url}{WS}"), "username": "otai-agent",
                            "password": PASSWORD, "max_attempts": 2, "search_limit": 2});
        OtoboDesk::from_params_json(&params.to_string(), log)
    }

    fn secrets(&self) -> Vec<String> {
        vec![PASSWORD.to_string(), SESSION.to_string()]
    }

    fn mock_url(&self) -> String {
        self.mock.uri()
    }
}

#[tokio::test]
async fn the_otobo_adapter_passes_the_conformance_kit() {
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
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"TicketID": ["3"]})))
        .mount(&mock)
        .await;
    let t = |id| gi_ticket(id, "Raw", json!(null), "2026-12-01 09:30:00", &[]);
    for (ids, tickets) in [
        ("1,2", vec![t(1), t(2)]),
        ("3", vec![t(3)]),
        ("5,6,7", vec![t(5), t(6), t(7)]),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("{WS}/Ticket/{ids}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Ticket": tickets})))
            .mount(&mock)
            .await;
    }
    for (id, answer) in [
        (5, json!({"TicketID": "5"})),
        (
            6,
            json!({"Error": {"ErrorCode": "TicketUpdate.InvalidParameter", "ErrorMessage": "TicketUpdate: Ticket->Priority parameter is invalid!"}}),
        ),
        (7, json!({"TicketID": "7"})),
    ] {
        Mock::given(method("PATCH"))
            .and(path(format!("{WS}/Ticket/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .mount(&mock)
            .await;
    }
    conformance::check(&Otobo { mock }).await;
}
