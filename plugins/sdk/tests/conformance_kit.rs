//! The conformance kit catches what it promises to catch: a small adapter passes it, and the same
//! adapter with one flaw each (a secret in a log line, only the first page, outcomes out of order)
//! fails it with the rule that broke.

use otai_plugin_sdk::{
    conformance::{self, Harness},
    http::{Auth, Http, HttpSettings, Vendor},
    BatchOutcome, BatchUpdate, Error, ErrorKind, Logger, Note, SearchQuery, Secret, Ticket,
    TicketSystemAdapter, TicketUpdate,
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

const TOKEN: &str = "kit-SECRET-token";

#[derive(Clone, Copy, Debug, Default)]
struct Flaws {
    logs_the_token: bool,
    first_page_only: bool,
    outcomes_reversed: bool,
}

#[derive(Debug)]
struct Desk {
    http: Http,
    flaws: Flaws,
}

impl TicketSystemAdapter for Desk {
    async fn find_tickets(&self, _query: &SearchQuery) -> otai_plugin_sdk::Result<Vec<Ticket>> {
        let mut found = Vec::new();
        let mut page = Some(1);
        while let Some(n) = page {
            let answer: Value = self
                .http
                .get("/tickets", &[("page", n.to_string())])
                .await?;
            for t in answer["tickets"].as_array().into_iter().flatten() {
                found.push(Ticket {
                    id: t["id"].to_string(),
                    ..Ticket::default()
                });
            }
            page = answer["next"]
                .as_u64()
                .filter(|_| !self.flaws.first_page_only);
        }
        Ok(found)
    }

    async fn get_ticket(&self, id: &str) -> otai_plugin_sdk::Result<Option<Ticket>> {
        if self.flaws.logs_the_token {
            self.http
                .log()
                .debug("kit", || format!("reading {id} with {TOKEN}"));
        }
        let raw: Value = self.http.get(&format!("/tickets/{id}"), &[]).await?;
        Ok(Some(Ticket {
            id: raw["id"].to_string(),
            ..Ticket::default()
        }))
    }

    async fn update_ticket(
        &self,
        id: &str,
        _update: &TicketUpdate,
    ) -> otai_plugin_sdk::Result<Ticket> {
        let _: Value = self.http.put(&format!("/tickets/{id}"), &json!({})).await?;
        Ok(Ticket {
            id: id.into(),
            ..Ticket::default()
        })
    }

    async fn add_note(&self, _id: &str, _note: &Note) -> otai_plugin_sdk::Result<()> {
        Err(Error::unsupported("add_note"))
    }

    async fn check_connection(&self) -> otai_plugin_sdk::Result<String> {
        Ok("kit".into())
    }

    async fn update_tickets(
        &self,
        updates: &[BatchUpdate],
    ) -> otai_plugin_sdk::Result<Vec<BatchOutcome>> {
        let mut outcomes = Vec::new();
        for u in updates {
            outcomes.push(BatchOutcome {
                id: u.id.clone(),
                result: self.update_ticket(&u.id, &u.update).await.map(drop),
            });
        }
        if self.flaws.outcomes_reversed {
            outcomes.reverse();
        }
        Ok(outcomes)
    }

    fn request_stats(&self) -> Option<otai_plugin_sdk::RequestStats> {
        Some(self.http.stats())
    }
}

struct Kit {
    mock: MockServer,
    flaws: Flaws,
}

impl Harness for Kit {
    type Adapter = Desk;

    fn build(&self, base_url: &str, log: Logger) -> otai_plugin_sdk::Result<Desk> {
        let mut settings = HttpSettings::new(base_url, "otai-kit-test");
        settings.max_attempts = 1;
        let http = Http::new(settings, Vendor::named("otai_kit", "Kit"), log)?
            .with_auth(Auth::bearer(&Secret::new(TOKEN))?);
        Ok(Desk {
            http,
            flaws: self.flaws,
        })
    }

    fn secrets(&self) -> Vec<String> {
        vec![TOKEN.into()]
    }

    fn mock_url(&self) -> String {
        self.mock.uri()
    }

    fn paged_query(&self) -> (SearchQuery, Vec<String>) {
        (
            SearchQuery::default(),
            vec!["1".into(), "2".into(), "3".into()],
        )
    }

    fn batch(&self) -> (Vec<BatchUpdate>, Vec<bool>) {
        let item = |id: &str| BatchUpdate {
            id: id.into(),
            ..BatchUpdate::default()
        };
        (
            vec![item("1"), item("9"), item("2")],
            vec![true, false, true],
        )
    }
}

async fn kit(flaws: Flaws) -> Kit {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/tickets"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tickets": [{"id": 1}, {"id": 2}], "next": 2})),
        )
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/tickets"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"tickets": [{"id": 3}], "next": null})),
        )
        .mount(&mock)
        .await;
    for id in [1, 2] {
        Mock::given(method("PUT"))
            .and(path(format!("/tickets/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": id})))
            .mount(&mock)
            .await;
    }
    Mock::given(method("PUT"))
        .and(path("/tickets/9"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&mock)
        .await;
    Kit { mock, flaws }
}

#[tokio::test]
async fn a_sound_adapter_passes() {
    conformance::check(&kit(Flaws::default()).await).await;
    // ErrorKind is used by adapters; keep the import honest.
    assert_eq!(ErrorKind::NotFound.name(), "not_found");
}

#[tokio::test]
#[should_panic(expected = "a secret appears in this log line")]
async fn a_secret_in_a_log_line_fails() {
    let flaws = Flaws {
        logs_the_token: true,
        ..Flaws::default()
    };
    conformance::check(&kit(flaws).await).await;
}

#[tokio::test]
#[should_panic(expected = "find_tickets did not return every ticket of every page")]
async fn stopping_after_the_first_page_fails() {
    let flaws = Flaws {
        first_page_only: true,
        ..Flaws::default()
    };
    conformance::check(&kit(flaws).await).await;
}

#[tokio::test]
#[should_panic(expected = "one outcome per ticket, in the order given")]
async fn outcomes_out_of_order_fail() {
    let flaws = Flaws {
        outcomes_reversed: true,
        ..Flaws::default()
    };
    conformance::check(&kit(flaws).await).await;
}
