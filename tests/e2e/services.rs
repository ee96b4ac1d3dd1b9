//! Ticket systems constructed through the real loader: `use:` resolution, and the misbehaving
//! plugin's modes (the host reports each problem as that system's error and keeps going).

use std::{
    path::Path,
    time::{Duration, Instant},
};

use otai::{
    config::Config,
    plugins::{PluginRegistry, ServiceProblem},
    ticket::{CustomField, ErrorKind, Note, Queue, SearchQuery, TicketUpdate},
};

use crate::support::{
    misbehaving, plugins_dir, system_config, INCOMPATIBLE, MISBEHAVING, MISBEHAVING_SERVICE,
};

const SECOND: Duration = Duration::from_secs(1);

fn registry_with_misbehaving() -> (tempfile::TempDir, PluginRegistry) {
    let dir = plugins_dir(&[MISBEHAVING]);
    let registry = PluginRegistry::load(dir.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    (dir, registry)
}

fn config(text: &str) -> Config {
    Config::parse(text, Path::new("e2e.yml"), &|_| Ok(None)).unwrap()
}

#[test]
fn use_naming_a_missing_plugin_is_a_config_error_naming_both() {
    let dir = plugins_dir(&[MISBEHAVING, INCOMPATIBLE]);
    let registry = PluginRegistry::load(dir.path());
    let config = config("ticket_systems:\n  desk:\n    use: otai_nope:NopeService\n");
    let err = registry.ticket_system(&config, "desk").unwrap_err();
    assert!(matches!(
        *err.problem,
        ServiceProblem::PluginNotLoaded { .. }
    ));
    let message = err.to_string();
    for expected in [
        "e2e.yml",
        "ticket_systems.desk.use",
        "otai_nope",
        "NopeService",
        MISBEHAVING,
        "libotai_test_incompatible.so",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in {message}"
        );
    }
}

#[test]
fn use_naming_a_plugin_that_failed_to_load_says_why() {
    let dir = plugins_dir(&[MISBEHAVING, INCOMPATIBLE]);
    let registry = PluginRegistry::load(dir.path());
    let config = config("ticket_systems:\n  desk:\n    use: otai_test_incompatible:Anything\n");
    let message = registry
        .ticket_system(&config, "desk")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("incompatible plugin interface"),
        "{message}"
    );
}

#[test]
fn use_naming_a_missing_service_lists_the_plugins_services() {
    let (_dir, registry) = registry_with_misbehaving();
    let config = config("ticket_systems:\n  desk:\n    use: otai_test_misbehaving:NopeService\n");
    let err = registry.ticket_system(&config, "desk").unwrap_err();
    assert!(matches!(
        *err.problem,
        ServiceProblem::ServiceNotFound { .. }
    ));
    let message = err.to_string();
    for expected in [
        "e2e.yml",
        "ticket_systems.desk.use",
        MISBEHAVING,
        "NopeService",
        MISBEHAVING_SERVICE,
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in {message}"
        );
    }
}

#[test]
fn a_service_of_another_kind_is_not_a_ticket_system() {
    let (_dir, registry) = registry_with_misbehaving();
    let err = registry
        .new_ticket_system(&system_config(
            "odd",
            MISBEHAVING,
            "OddService",
            serde_json::json!({}),
            SECOND,
        ))
        .unwrap_err();
    assert!(
        matches!(*err.problem, ServiceProblem::NotATicketSystem { .. }),
        "{err}"
    );
}

#[test]
fn params_rejected_by_the_plugin_name_the_params() {
    let (_dir, registry) = registry_with_misbehaving();
    let err = registry
        .new_ticket_system(&misbehaving("desk", "sideways", SECOND))
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("ticket_systems.desk.params") && message.contains("params.mode"),
        "{message}"
    );
}

#[test]
fn a_panic_in_the_constructor_is_an_error_not_a_crash() {
    let (_dir, registry) = registry_with_misbehaving();
    let config = system_config(
        "desk",
        MISBEHAVING,
        MISBEHAVING_SERVICE,
        serde_json::json!({"panic_on_construct": true}),
        SECOND,
    );
    let err = registry.new_ticket_system(&config).unwrap_err();
    match *err.problem {
        ServiceProblem::Rejected { error, .. } => assert_eq!(error.kind, ErrorKind::Panicked),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn ok_mode_round_trip_find_get_update_note() {
    let (_dir, registry) = registry_with_misbehaving();
    let desk = registry
        .new_ticket_system(&misbehaving("desk", "ok", SECOND))
        .unwrap();
    assert_eq!(desk.name(), "desk");

    let all = desk.find_tickets(SearchQuery::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["1", "2"]
    );
    let open = desk
        .find_tickets(SearchQuery {
            statuses: vec!["open".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].subject, "Invoice missing");
    let limited = desk
        .find_tickets(SearchQuery {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);
    let first = desk
        .find_first_ticket(SearchQuery {
            tags_all: vec!["hardware".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, "1");

    let ticket = desk.get_ticket("1").await.unwrap().unwrap();
    assert_eq!(
        ticket.custom_fields,
        [CustomField {
            id: "100".into(),
            value: "printer".into()
        }]
    );
    assert!(desk.get_ticket("404").await.unwrap().is_none());

    let update = TicketUpdate {
        queue: Some(Queue {
            id: None,
            name: Some("Hardware".into()),
        }),
        priority: Some("high".into()),
        add_tags: vec!["otai".into()],
        remove_tags: vec!["hardware".into()],
        custom_fields: vec![CustomField {
            id: "101".into(),
            value: serde_json::json!(["a", "b"]),
        }],
        note: Some(Note {
            body: "Classified as hardware.".into(),
            html: false,
            public: false,
        }),
        if_unchanged_since: ticket.updated_at.clone(),
        ..Default::default()
    };
    let updated = desk.update_ticket("1", update.clone()).await.unwrap();
    assert_eq!(
        updated.queue.as_ref().and_then(|q| q.id.as_deref()),
        Some("11")
    );
    assert_eq!(updated.priority.as_deref(), Some("high"));
    assert_eq!(updated.tags, ["otai"]);
    assert_eq!(
        updated.custom_fields[1].value,
        serde_json::json!(["a", "b"])
    );
    assert_ne!(updated.updated_at, ticket.updated_at);

    // The same stamp again is stale now: the plugin's conflict comes back as such.
    let conflict = desk.update_ticket("1", update).await.unwrap_err();
    assert_eq!(conflict.kind, ErrorKind::Conflict);
    assert_eq!(conflict.system, "desk");

    desk.add_note(
        "1",
        Note {
            body: "Second note.".into(),
            html: false,
            public: true,
        },
    )
    .await
    .unwrap();
    let after = desk.get_ticket("1").await.unwrap().unwrap();
    assert_eq!(after.raw["notes"].as_array().map(Vec::len), Some(2));
    assert_eq!(after.raw["notes"][1]["public"], true);

    let missing = desk.add_note("404", Note::default()).await.unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(desk
        .check_connection()
        .await
        .unwrap()
        .contains("memory://misbehaving"));
}

#[tokio::test]
async fn panic_is_that_systems_error_and_the_host_continues() {
    let (_dir, registry) = registry_with_misbehaving();
    let broken = registry
        .new_ticket_system(&misbehaving("broken", "panic", SECOND))
        .unwrap();
    let fine = registry
        .new_ticket_system(&misbehaving("fine", "ok", SECOND))
        .unwrap();

    let err = broken.get_ticket("1").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Panicked);
    assert_eq!(err.system, "broken");
    assert!(err.message.contains("panicked in get_ticket"), "{err}");
    let err = broken
        .find_tickets(SearchQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Panicked);

    assert_eq!(fine.get_ticket("1").await.unwrap().unwrap().id, "1");
}

#[tokio::test]
async fn hang_times_out_within_call_timeout() {
    let (_dir, registry) = registry_with_misbehaving();
    let stuck = registry
        .new_ticket_system(&misbehaving("stuck", "hang", SECOND))
        .unwrap();
    let started = Instant::now();
    let err = stuck
        .update_ticket(
            "1",
            TicketUpdate {
                status: Some("open".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(err.system, "stuck");
    assert!(
        err.message.contains(MISBEHAVING)
            && err
                .message
                .contains("whether the change was applied is unknown"),
        "{err}"
    );
    // The timeout error (not a hang) is the proof; how long past the limit it came back depends
    // on the machine, so only the lower bound is asserted.
    assert!(took >= SECOND, "took {took:?}");

    let fine = registry
        .new_ticket_system(&misbehaving("fine", "ok", SECOND))
        .unwrap();
    assert!(fine.get_ticket("2").await.unwrap().is_some());
}

/// A plugin that blocks the thread polling its future (a blocking API called inside `poll`):
/// on a current-thread runtime, as this test runs, the host would hang for good if it polled
/// plugin futures itself. Plugin calls run on the plugin's own thread, so the call is abandoned
/// at `call_timeout`, later calls fail at once while that thread stays blocked, the synchronous
/// `request_stats` is given up on, and the host goes on.
#[tokio::test]
async fn a_plugin_that_blocks_its_thread_is_abandoned_and_the_host_keeps_working() {
    let (_dir, registry) = registry_with_misbehaving();
    let blocked = registry
        .new_ticket_system(&misbehaving("blocked", "block", SECOND))
        .unwrap();

    let first = blocked
        .find_tickets(SearchQuery::default())
        .await
        .unwrap_err();
    let second = blocked.get_ticket("1").await.unwrap_err();
    let stats = (blocked.request_stats(), blocked.request_stats());

    assert_eq!(first.kind, ErrorKind::Timeout, "{first}");
    assert!(
        first.message.contains("did not answer find_tickets"),
        "{first}"
    );
    assert_eq!(second.kind, ErrorKind::Timeout, "{second}");
    assert!(
        second.message.contains("blocked inside an earlier call")
            && second.message.contains("get_ticket was not started"),
        "{second}"
    );
    assert_eq!(stats, (None, None));
    let fine = registry
        .new_ticket_system(&misbehaving("fine", "ok", SECOND))
        .unwrap();
    assert!(fine.get_ticket("2").await.unwrap().is_some());
}

/// A constructor must return at once; one that blocks is abandoned after the system's
/// `call_timeout` (at most 20 s) and reported, and the host constructs the others.
#[test]
fn a_constructor_that_blocks_is_abandoned_and_reported() {
    let (_dir, registry) = registry_with_misbehaving();
    let blocking = system_config(
        "stuck",
        MISBEHAVING,
        MISBEHAVING_SERVICE,
        serde_json::json!({"block_on_construct": true}),
        SECOND,
    );

    let err = registry
        .new_ticket_system(&blocking)
        .unwrap_err()
        .to_string();

    assert!(
        err.contains("did not construct its service `MisbehavingService` within 1 s"),
        "{err}"
    );
    assert!(registry
        .new_ticket_system(&misbehaving("fine", "ok", SECOND))
        .is_ok());
}

#[tokio::test]
async fn garbage_is_an_invalid_response_naming_the_plugin() {
    let (_dir, registry) = registry_with_misbehaving();
    let liar = registry
        .new_ticket_system(&misbehaving("liar", "garbage", SECOND))
        .unwrap();

    let err = liar.get_ticket("1").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert_eq!(err.system, "liar");
    assert!(
        err.message.contains(MISBEHAVING) && err.message.contains("custom field 100"),
        "{err}"
    );

    let err = liar.find_tickets(SearchQuery::default()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert!(err.message.contains("empty id"), "{err}");

    let err = liar
        .update_ticket(
            "1",
            TicketUpdate {
                status: Some("open".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
}

#[test]
fn every_configured_system_is_constructed_or_reported() {
    let (_dir, registry) = registry_with_misbehaving();
    let config = config(
        "ticket_systems:\n  a:\n    use: otai_test_misbehaving:MisbehavingService\n    params: {mode: ok}\n    call_timeout: 1\n  b:\n    use: otai_nope:X\n",
    );
    let (systems, errors) = registry.ticket_systems(&config);
    assert_eq!(systems.keys().collect::<Vec<_>>(), ["a"]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].system, "b");
}

#[test]
fn plugin_logs_reach_the_host_subscriber() {
    #[derive(Clone, Default)]
    struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let (_dir, registry) = registry_with_misbehaving();
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    // The plugin logs from inside its constructor, on this thread, through the host context.
    tracing::subscriber::with_default(subscriber, || {
        registry
            .new_ticket_system(&misbehaving("desk", "ok", SECOND))
            .unwrap();
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("INFO otai::plugin: Constructed MisbehavingService in mode Ok."),
        "{logs}"
    );
    assert!(
        logs.contains("plugin_target=\"otai_test_misbehaving\""),
        "{logs}"
    );
}
