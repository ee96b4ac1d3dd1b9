//! Batch writes end to end: the real `libotai_zendesk.so` through the loader against a wiremock
//! Zendesk (`update_many` + job polling, ordered per-ticket outcomes, request counting), and the
//! host's one-by-one fallback for plugins without batch writes (the misbehaving test plugin, and
//! a plugin built against plugin API 1.0.0, which loads through the host's 1.0 adapter).

use std::{path::Path, sync::Arc, time::Duration};

use otai::{
    config::Config,
    plugins::{loader::interface_version, PluginRegistry},
    ticket::{
        BatchUpdate, ErrorKind, Note, SearchQuery, StatusCategory, TicketSystem, TicketUpdate,
    },
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_json, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::{
    self, misbehaving, plugins_dir, system_config, LEGACY, LEGACY_1_1, LEGACY_1_2, LEGACY_1_3,
    MISBEHAVING,
};

const SECOND: Duration = Duration::from_secs(1);
const LEGACY_SERVICE: &str = "LegacyService";

fn zendesk(server: &MockServer) -> (tempfile::TempDir, Arc<dyn TicketSystem>) {
    let dir = plugins_dir(&[support::ZENDESK]);
    let yaml = format!(
        r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    call_timeout: 20
    params:
      base_url: {base}
      email: agent@example.com
      api_token: e2e-batch-token
      timeout: 5
      job_timeout: 10
"#,
        base = server.uri()
    );
    let config = Config::parse(&yaml, Path::new("e2e-batch.yml"), &|_| Ok(None)).unwrap();
    let registry = PluginRegistry::load(dir.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    (dir, registry.ticket_system(&config, "zendesk").unwrap())
}

#[test]
fn the_zendesk_default_job_timeout_is_below_the_host_default_call_timeout() {
    // The host gives a batch call_timeout per started 100 tickets (one Zendesk job): with both
    // defaults the plugin must give up on a slow job, and report its tickets, before the host
    // abandons the call and every outcome with it.
    assert!(
        otai_zendesk::config::DEFAULT_JOB_TIMEOUT < otai::config::DEFAULT_CALL_TIMEOUT,
        "job_timeout {:?} >= call_timeout {:?}",
        otai_zendesk::config::DEFAULT_JOB_TIMEOUT,
        otai::config::DEFAULT_CALL_TIMEOUT
    );
}

fn priority(id: &str, p: &str) -> BatchUpdate {
    BatchUpdate {
        id: id.into(),
        update: TicketUpdate {
            priority: Some(p.into()),
            ..TicketUpdate::default()
        },
        current_tags: None,
    }
}

fn job(status: &str, results: Value) -> Value {
    json!({"job_status": {"id": "V3-e2e", "status": status, "total": 3, "progress": null,
                          "message": null, "results": results}})
}

#[tokio::test]
async fn zendesk_batch_reports_ordered_outcomes_with_a_per_ticket_failure() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/update_many"))
        .and(body_json(json!({"tickets": [
            {"id": 3, "priority": "high"},
            {"id": 1, "priority": "low"},
            {"id": 2, "priority": "urgent"}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(job("queued", Value::Null)))
        .expect(1)
        .mount(&server)
        .await;
    // Results in Zendesk's own order, not the request's.
    Mock::given(method("GET"))
        .and(path("/api/v2/job_statuses/V3-e2e"))
        .respond_with(ResponseTemplate::new(200).set_body_json(job(
            "completed",
            json!([
                {"id": 1, "action": "update", "status": "Updated", "success": true},
                {"id": 2, "action": "update", "success": false, "error": "RecordInvalid",
                 "details": "Status: closed prevents ticket update"},
                {"id": 3, "action": "update", "status": "Updated", "success": true}
            ]),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let (_dir, zd) = zendesk(&server);

    let outcomes = zd
        .update_tickets(vec![
            priority("3", "high"),
            priority("1", "low"),
            priority("2", "urgent"),
            priority("x9", "low"),
        ])
        .await
        .expect("the batch call works through the plugin");

    let ids: Vec<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["3", "1", "2", "x9"]);
    assert!(outcomes[0].result.is_ok() && outcomes[1].result.is_ok());
    let failed = outcomes[2].result.as_ref().unwrap_err();
    assert_eq!(failed.kind, ErrorKind::Validation);
    assert_eq!(failed.system, "zendesk");
    assert!(
        failed.message.contains("ticket 2") && failed.message.contains("closed prevents"),
        "{failed}"
    );
    assert_eq!(
        outcomes[3].result.as_ref().unwrap_err().kind,
        ErrorKind::Validation
    );
    let stats = zd
        .request_stats()
        .expect("the Zendesk plugin counts requests");
    assert_eq!(
        (stats.requests, stats.retries, stats.rate_limited),
        (2, 0, 0)
    );
}

#[tokio::test]
async fn a_plugin_without_batch_writes_is_written_one_by_one() {
    let dir = plugins_dir(&[MISBEHAVING]);
    let registry = PluginRegistry::load(dir.path());
    let desk = registry
        .new_ticket_system(&misbehaving("desk", "ok", SECOND))
        .unwrap();

    let outcomes = desk
        .update_tickets(vec![
            priority("2", "high"),
            priority("404", "low"),
            priority("1", "urgent"),
        ])
        .await
        .expect("the fallback reports outcomes, not an error");

    let ids: Vec<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["2", "404", "1"]);
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0]);
    assert_eq!(
        outcomes[1].result.as_ref().unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert!(outcomes[2].result.is_ok());
    // The writes really happened, one by one.
    let t = desk.get_ticket("1").await.unwrap().unwrap();
    assert_eq!(t.priority.as_deref(), Some("urgent"));
    assert_eq!(desk.request_stats(), None, "the test plugin does not count");
}

#[tokio::test]
async fn the_one_by_one_fallback_still_checks_each_answer() {
    // In garbage mode update_ticket answers with a ticket without an id: each outcome must say so.
    let dir = plugins_dir(&[MISBEHAVING]);
    let registry = PluginRegistry::load(dir.path());
    let desk = registry
        .new_ticket_system(&system_config(
            "desk",
            MISBEHAVING,
            support::MISBEHAVING_SERVICE,
            json!({"mode": "garbage"}),
            SECOND,
        ))
        .unwrap();

    let outcomes = desk
        .update_tickets(vec![priority("1", "high"), priority("2", "low")])
        .await
        .unwrap();

    assert_eq!(outcomes.len(), 2);
    for outcome in &outcomes {
        assert_eq!(
            outcome.result.as_ref().unwrap_err().kind,
            ErrorKind::InvalidResponse
        );
    }
}

/// The legacy plugin's service as a configured ticket system, loaded through the real loader.
fn legacy_desk() -> (tempfile::TempDir, Arc<dyn TicketSystem>) {
    let dir = plugins_dir(&[LEGACY]);
    let registry = PluginRegistry::load(dir.path());
    assert!(
        registry.failures().is_empty(),
        "the 1.0 plugin loads into the 1.1 host: {:?}",
        registry.failures()
    );
    let desk = registry
        .new_ticket_system(&system_config(
            "legacy",
            LEGACY,
            LEGACY_SERVICE,
            json!({}),
            SECOND,
        ))
        .expect("the 1.0 plugin constructs its service");
    (dir, desk)
}

/// A plugin built against otai-plugin-api 1.0.0 (tests/plugins/legacy-1-0, against the frozen
/// copy in plugin-api-frozen/v1_0) is checked against the host's frozen 1.0 types and loads; its
/// service is adapted to the current interface, and every 1.0 method works through it.
#[tokio::test]
async fn a_plugin_built_against_api_1_0_loads_and_its_services_work() {
    let (_dir, desk) = legacy_desk();

    let found = desk.find_tickets(SearchQuery::default()).await.unwrap();
    let first = desk
        .find_first_ticket(SearchQuery::default())
        .await
        .unwrap();
    let one = desk
        .get_ticket("1")
        .await
        .unwrap()
        .expect("ticket 1 exists");
    let missing = desk.get_ticket("9").await.unwrap();
    let updated = desk
        .update_ticket("2", priority("2", "urgent").update)
        .await
        .unwrap();
    let note = desk
        .add_note(
            "1",
            Note {
                body: "Routed by otai.".into(),
                ..Note::default()
            },
        )
        .await;
    let note_error = desk.add_note("9", Note::default()).await.unwrap_err();
    let connection = desk.check_connection().await.unwrap_err();

    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(first.map(|t| t.id).as_deref(), Some("1"));
    assert_eq!(
        (one.subject.as_str(), one.status.as_str()),
        ("Legacy ticket 1", "open")
    );
    assert_eq!(missing, None);
    assert_eq!(
        (updated.id.as_str(), updated.priority.as_deref()),
        ("2", Some("urgent"))
    );
    assert!(note.is_ok(), "{note:?}");
    assert_eq!(note_error.kind, ErrorKind::NotFound);
    assert_eq!(note_error.system, "legacy");
    assert!(note_error.message.contains("ticket 9"), "{note_error}");
    // The 1.0 trait's default body, passed through the adapter.
    assert_eq!(connection.kind, ErrorKind::Unsupported);
}

/// Batch writes did not exist in 1.0: the adapter answers `unsupported` and the host writes the
/// tickets one by one with the plugin's `update_ticket`, reporting outcomes in the order asked.
#[tokio::test]
async fn a_plugin_built_against_api_1_0_is_written_one_by_one() {
    let (_dir, desk) = legacy_desk();

    let outcomes = desk
        .update_tickets(vec![
            priority("2", "high"),
            priority("7", "low"),
            priority("1", "normal"),
        ])
        .await
        .expect("the fallback reports outcomes");

    let ids: Vec<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["2", "7", "1"]);
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0]);
    assert_eq!(
        outcomes[1].result.as_ref().unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert!(outcomes[2].result.is_ok(), "{:?}", outcomes[2]);
    for (id, written) in [("2", "high"), ("1", "normal")] {
        let ticket = desk.get_ticket(id).await.unwrap().unwrap();
        assert_eq!(
            ticket.priority.as_deref(),
            Some(written),
            "ticket {id} written by update_ticket"
        );
    }
    assert_eq!(
        desk.request_stats(),
        None,
        "a 1.0 plugin does not count requests"
    );
}

/// A plugin built against otai-plugin-api 1.1.0 (tests/plugins/legacy-1-1, against the frozen
/// copy in plugin-api-frozen/v1_1) loads through the host's 1.1 adapter: its batch writes and
/// request counters are used, and, having no `ticket_state` (since 1.2), its statuses are mapped
/// by name.
#[tokio::test]
async fn a_plugin_built_against_api_1_1_loads_batches_counts_and_maps_statuses_by_name() {
    let dir = plugins_dir(&[LEGACY_1_1]);
    let registry = PluginRegistry::load(dir.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    let loaded = &registry.plugins()[0];
    assert!(matches!(
        loaded.module,
        otai::plugins::loader::LoadedModule::V1_1(_)
    ));
    assert_eq!(loaded.interface, "1.1.0");
    let desk = registry
        .new_ticket_system(&system_config(
            "legacy11",
            LEGACY_1_1,
            "Legacy11Service",
            json!({}),
            SECOND,
        ))
        .expect("the 1.1 plugin constructs its service");

    let before = desk.request_stats().expect("a 1.1 plugin counts");
    let outcomes = desk
        .update_tickets(vec![priority("2", "high"), priority("9", "low")])
        .await
        .unwrap();
    let after = desk.request_stats().unwrap();
    let tickets = desk.find_tickets(SearchQuery::default()).await.unwrap();

    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0]);
    assert_eq!(
        outcomes[1].result.as_ref().unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        after.since(before).requests,
        1,
        "one batch call: the plugin's own update_tickets (one update_ticket per ticket would \
         count two)"
    );
    let states: Vec<_> = tickets.iter().map(|t| t.state.category).collect();
    assert_eq!(
        states,
        [StatusCategory::Open, StatusCategory::Solved],
        "`open` and `Solved` mapped by name"
    );
    assert_eq!(tickets[1].priority.as_deref(), Some("high"));
}

/// A plugin built against otai-plugin-api 1.2.0 (tests/plugins/legacy-1-2, against the frozen
/// copy in plugin-api-frozen/v1_2) loads through the host's 1.2 adapter: its own `ticket_state`
/// (German status names only it knows) and its counters are used, and, having no
/// `find_tickets_page` (since 1.3), its search arrives as one page without a cursor.
#[tokio::test]
async fn a_plugin_built_against_api_1_2_loads_maps_its_own_statuses_and_searches_as_one_page() {
    let dir = plugins_dir(&[LEGACY_1_2]);
    let registry = PluginRegistry::load(dir.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    let loaded = &registry.plugins()[0];
    assert!(matches!(
        loaded.module,
        otai::plugins::loader::LoadedModule::V1_2(_)
    ));
    assert_eq!(loaded.interface, "1.2.0");
    let desk = registry
        .new_ticket_system(&system_config(
            "legacy12",
            LEGACY_1_2,
            "Legacy12Service",
            json!({}),
            SECOND,
        ))
        .expect("the 1.2 plugin constructs its service");

    let before = desk.request_stats().expect("a 1.2 plugin counts");
    let page = desk
        .find_tickets_page(SearchQuery::default(), None)
        .await
        .unwrap();
    let after = desk.request_stats().unwrap();

    assert_eq!(page.cursor, None, "the whole answer is the one page");
    let states: Vec<_> = page.tickets.iter().map(|t| t.state.category).collect();
    assert_eq!(
        states,
        [StatusCategory::Open, StatusCategory::Solved],
        "`Offen` and `Erledigt` mapped by the plugin's own ticket_state"
    );
    assert_eq!(after.since(before).requests, 1, "one find_tickets call");
    let err = desk
        .find_tickets_page(SearchQuery::default(), Some("2".into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation, "{err}");
}

/// A plugin built against the frozen plugin API 1.3 loads through the host's 1.3 adapter: its
/// own statuses and its pages (one ticket each) are used, and, having no `verify_webhook`
/// (since 1.4), its webhook deliveries are "unsupported", never accepted.
#[tokio::test]
async fn a_plugin_built_against_api_1_3_loads_pages_its_search_and_verifies_no_webhooks() {
    let dir = plugins_dir(&[LEGACY_1_3]);
    let registry = PluginRegistry::load(dir.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    let loaded = &registry.plugins()[0];
    assert!(matches!(
        loaded.module,
        otai::plugins::loader::LoadedModule::V1_3(_)
    ));
    assert_eq!(loaded.interface, "1.3.0");
    let desk = registry
        .new_ticket_system(&system_config(
            "legacy13",
            LEGACY_1_3,
            "Legacy13Service",
            json!({}),
            SECOND,
        ))
        .expect("the 1.3 plugin constructs its service");

    let first = desk
        .find_tickets_page(SearchQuery::default(), None)
        .await
        .unwrap();
    let second = desk
        .find_tickets_page(SearchQuery::default(), first.cursor.clone())
        .await
        .unwrap();
    assert_eq!(
        first.cursor.as_deref(),
        Some("1"),
        "the plugin's own cursor"
    );
    assert_eq!(second.cursor, None);
    let states: Vec<_> = first
        .tickets
        .iter()
        .chain(&second.tickets)
        .map(|t| (t.id.as_str(), t.state.category))
        .collect();
    assert_eq!(
        states,
        [("1", StatusCategory::Open), ("2", StatusCategory::Solved)],
        "one ticket per page, `Offen` and `Erledigt` mapped by the plugin's own ticket_state"
    );
    let err = desk
        .verify_webhook(otai::ticket::WebhookRequest::default())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
    assert!(err.message.contains("verify_webhook"), "{err}");
}

/// `otai plugins list` names the interface version each plugin was built against.
#[test]
fn plugins_list_shows_the_interface_each_plugin_was_built_against() {
    let dir = tempfile::TempDir::new().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    for name in [LEGACY, MISBEHAVING] {
        support::copy_plugin(&plugins, name, &format!("lib{name}.so"));
    }

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(["plugins", "list"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env_remove("OTAI_CONFIG")
        .output()
        .expect("run the otai binary");

    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "Plugins directory plugins: 2 loaded, 0 failed.",
        "otai_test_legacy 0.1.0 (interface 1.0.0)",
        "LegacyService (ticket_system)",
        // The misbehaving plugin is built against this host's own interface.
        &format!(
            "otai_test_misbehaving 0.1.0 (interface {})",
            interface_version()
        ),
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
}
