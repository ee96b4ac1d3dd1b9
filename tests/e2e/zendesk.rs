//! The real `libotai_zendesk.so`, loaded from a plugins directory by the real loader, configured
//! through the real config path and driven through `TicketSystem` against a wiremock Zendesk on
//! 127.0.0.1: find, update, note, and errors crossing the boundary intact.
//!
//! Response bodies come from real recorded Zendesk responses (go-zendesk fixtures, MIT licence,
//! `tests/fixtures/zendesk/`).

use std::{path::Path, sync::Arc};

use otai::{
    config::Config,
    plugins::PluginRegistry,
    ticket::{ErrorKind, Note, Queue, SearchQuery, TicketSystem, TicketUpdate},
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_json, header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use crate::support;

const EMAIL: &str = "agent@example.com";
const TOKEN: &str = "e2e-secret-token-4711";

fn fixture(name: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/zendesk")
        .join(name);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("read fixture {}: {e}", file.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// `Authorization` for the API token: Basic base64("{email}/token:{token}").
fn basic_auth() -> String {
    use base64::Engine as _;
    let raw = format!("{EMAIL}/token:{TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Builds the Zendesk system the way `otai` does: a YAML config in the seed's shape (with
/// `base_url` pointing at the mock and the token from an environment template), the plugins
/// directory holding the real `.so`, and the registry constructing `use: otai_zendesk:...`.
fn zendesk(server: &MockServer) -> (tempfile::TempDir, Arc<dyn TicketSystem>) {
    let dir = support::plugins_dir(&[support::ZENDESK]);
    let yaml = format!(
        r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    params:
      base_url: {base}
      email: {EMAIL}
      api_token: "{{{{ get_env('OTAI_E2E_ZENDESK_TOKEN') }}}}"
      timeout: 5
      verify: true
"#,
        base = server.uri()
    );
    let env = |name: &str| Ok((name == "OTAI_E2E_ZENDESK_TOKEN").then(|| TOKEN.to_string()));
    let config = Config::parse(&yaml, Path::new("e2e-zendesk.yml"), &env).expect("config loads");
    let registry = PluginRegistry::load(dir.path());
    assert!(
        registry.failures().is_empty(),
        "the plugin loads: {:?}",
        registry.failures()
    );
    let system = registry
        .ticket_system(&config, "zendesk")
        .expect("the Zendesk service is constructed");
    (dir, system)
}

#[tokio::test]
async fn find_follows_the_search_api_and_maps_tickets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param(
            "query",
            "type:ticket status:new -tags:otai_processed",
        ))
        .and(query_param("page", "1"))
        .and(header("authorization", basic_auth().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("GET/search_ticket.json")))
        .expect(1)
        .mount(&server)
        .await;
    let (_dir, zd) = zendesk(&server);

    let found = zd
        .find_tickets(SearchQuery {
            statuses: vec!["new".into()],
            tags_none: vec!["otai_processed".into()],
            ..SearchQuery::default()
        })
        .await
        .expect("find works through the plugin");

    assert_eq!(found.len(), 1);
    let t = &found[0];
    assert_eq!(t.id, "4");
    assert_eq!(t.subject, "nyanyanyanya");
    assert_eq!(t.body, "(●ↀ ω ↀ )");
    assert_eq!(t.status, "new");
    assert_eq!(t.priority.as_deref(), Some("urgent"));
    assert_eq!(
        t.queue.as_ref().and_then(|q| q.id.as_deref()),
        Some("360004077472"),
        "64-bit group id kept exactly"
    );
    assert_eq!(t.raw["brand_id"], json!(360002256672u64));
}

#[tokio::test]
async fn update_resolves_the_group_merges_tags_and_writes_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/groups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("GET/groups.json")))
        .expect(1)
        .mount(&server)
        .await;
    let mut current = fixture("GET/ticket.json");
    current["ticket"]["tags"] = json!(["vip", "otai_failed"]);
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(current))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/2"))
        .and(header("authorization", basic_auth().as_str()))
        .and(body_json(json!({"ticket": {
            "group_id": 360002440594u64,
            "priority": "high",
            "tags": ["vip", "otai_processed"],
            "safe_update": true,
            "updated_stamp": "2019-06-05T01:13:24Z",
            "comment": {"body": "otai: queue Support (0.97)", "public": false}
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("PUT/ticket.json")))
        .expect(1)
        .mount(&server)
        .await;
    let (_dir, zd) = zendesk(&server);

    let updated = zd
        .update_ticket(
            "2",
            TicketUpdate {
                queue: Some(Queue {
                    id: None,
                    name: Some("Support".into()),
                }),
                priority: Some("high".into()),
                add_tags: vec!["otai_processed".into()],
                remove_tags: vec!["otai_failed".into()],
                note: Some(Note {
                    body: "otai: queue Support (0.97)".into(),
                    html: false,
                    public: false,
                }),
                ..TicketUpdate::default()
            },
        )
        .await
        .expect("update works through the plugin");

    assert_eq!(updated.id, "2");
}

#[tokio::test]
async fn note_is_an_internal_comment() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/2"))
        .and(body_json(
            json!({"ticket": {"comment": {"body": "Checked by otai.", "public": false}}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("PUT/ticket.json")))
        .expect(1)
        .mount(&server)
        .await;
    let (_dir, zd) = zendesk(&server);

    zd.add_note(
        "2",
        Note {
            body: "Checked by otai.".into(),
            ..Note::default()
        },
    )
    .await
    .expect("note works through the plugin");
}

#[tokio::test]
async fn zendesk_errors_cross_the_boundary_with_status_and_request_id_but_no_secret() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-request-id", "req-e2e-401")
                .set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/8"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "RecordNotFound", "description": "Not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (_dir, zd) = zendesk(&server);

    let err = zd.get_ticket("7").await.expect_err("401 is an error");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.http_status, Some(401));
    assert_eq!(err.request_id.as_deref(), Some("req-e2e-401"));
    assert!(err.message.contains("Couldn't authenticate you"), "{err}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "the token leaked: {shown}");

    assert_eq!(zd.get_ticket("8").await.expect("404 is not an error"), None);
}
