//! The conformance kit catches what it promises to catch: a small adapter passes it, and the same
//! adapter with one flaw each (a secret in a log line, only the first page, pages that stop early,
//! outcomes out of order) fails it with the rule that broke.

use otai_plugin_sdk::{
    conformance::{self, Harness},
    http::{Auth, Http, HttpSettings, Vendor},
    BatchOutcome, BatchUpdate, Error, ErrorKind, Logger, Note, SearchQuery, Secret, Ticket,
    TicketPage, TicketSystemAdapter, TicketUpdate,
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
    pages_stop_early: bool,
    outcomes_reversed: bool,
    accepts_any_webhook: bool,
}

#[derive(Debug)]
struct Desk {
    http: Http,
    flaws: Flaws,
}

impl Desk {
    /// One page of the mock's ticket list and the next page's number.
    async fn list_page(&self, n: u64) -> otai_plugin_sdk::Result<(Vec<Ticket>, Option<u64>)> {
        let answer: Value = self
            .http
            .get("/tickets", &[("page", n.to_string())])
            .await?;
        let tickets = answer["tickets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| Ticket {
                id: t["id"].to_string(),
                ..Ticket::default()
            })
            .collect();
        Ok((tickets, answer["next"].as_u64()))
    }
}

impl TicketSystemAdapter for Desk {
    async fn find_tickets(&self, _query: &SearchQuery) -> otai_plugin_sdk::Result<Vec<Ticket>> {
        let mut found = Vec::new();
        let mut page = Some(1);
        while let Some(n) = page {
            let (tickets, next) = self.list_page(n).await?;
            found.extend(tickets);
            page = next.filter(|_| !self.flaws.first_page_only);
        }
        Ok(found)
    }

    /// The cursor is the page number.
    async fn find_tickets_page(
        &self,
        _query: &SearchQuery,
        cursor: Option<&str>,
    ) -> otai_plugin_sdk::Result<TicketPage> {
        let n = cursor
            .map_or(Ok(1), str::parse)
            .map_err(|_| Error::new(ErrorKind::Validation, "not a cursor this desk handed out"))?;
        let (tickets, next) = self.list_page(n).await?;
        let next = next.filter(|_| !self.flaws.pages_stop_early);
        Ok(TicketPage {
            tickets,
            cursor: next.map(|p| p.to_string()),
        })
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

    fn verify_webhook(
        &self,
        request: &otai_plugin_sdk::WebhookRequest,
    ) -> otai_plugin_sdk::Result<otai_plugin_sdk::WebhookEvent> {
        if !self.flaws.accepts_any_webhook {
            return Err(otai_plugin_sdk::Error::new(
                otai_plugin_sdk::ErrorKind::Auth,
                "the delivery has no signature",
            ));
        }
        let _ = request;
        Ok(otai_plugin_sdk::WebhookEvent {
            ticket_ids: vec!["1".into()],
            delivery_id: None,
        })
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
#[should_panic(expected = "the pages of find_tickets_page did not hold every ticket")]
async fn pages_that_stop_early_fail() {
    let flaws = Flaws {
        pages_stop_early: true,
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

#[tokio::test]
#[should_panic(expected = "verify_webhook accepted an unsigned delivery")]
async fn accepting_an_unsigned_webhook_fails() {
    let flaws = Flaws {
        accepts_any_webhook: true,
        ..Flaws::default()
    };
    conformance::check(&kit(flaws).await).await;
}
