//! The plugin through its ABI: root module, constructor, FfiFuture, host logging.

use std::sync::Mutex;

use otai_plugin_api::abi_stable::{
    prefix_type::PrefixTypeTrait,
    std_types::{ROption, RStr, RString},
};
use otai_plugin_api::{
    ErrorKind, HostContext, HostContextRef, LogLevel, SearchQuery, ServiceKind, TicketSystemBox,
};
use serde_json::json;
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

/// Everything the plugin logged through the host context, across tests of this binary.
static LOGS: Mutex<Vec<(LogLevel, String, String)>> = Mutex::new(Vec::new());

extern "C" fn max_level() -> LogLevel {
    LogLevel::Trace
}

extern "C" fn record(level: LogLevel, target: RStr<'_>, message: RStr<'_>) {
    LOGS.lock()
        .unwrap()
        .push((level, target.to_string(), message.to_string()));
}

fn host() -> HostContextRef {
    HostContext {
        max_level,
        log: record,
    }
    .leak_into_prefix()
}

fn construct(
    service: &str,
    params: &serde_json::Value,
) -> Result<TicketSystemBox, otai_plugin_api::PluginError> {
    let module = otai_zendesk::get_library();
    let new = module.new_ticket_system();
    new(service.into(), params.to_string().as_str().into(), host()).into_result()
}

#[test]
fn info_names_the_plugin_and_service() {
    let info = (otai_zendesk::get_library().info())();
    assert_eq!(info.name.as_str(), "otai_zendesk");
    assert_eq!(info.services.len(), 1);
    assert_eq!(info.services[0].name.as_str(), "ZendeskTicketsystemService");
    assert_eq!(info.services[0].kind, ServiceKind::TICKET_SYSTEM);
}

#[tokio::test]
async fn find_tickets_works_through_the_ffi_future_and_logs_reach_the_host() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(header("authorization", basic_header().as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "req-ffi-42")
                .set_body_json(fixture("GET/search_ticket.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let svc = construct("ZendeskTicketsystemService", &params(&server, json!({}))).unwrap();

    let found = svc
        .find_tickets(SearchQuery::default())
        .await
        .into_result()
        .unwrap();

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_str(), "4");
    let logs = LOGS.lock().unwrap().clone();
    let line = logs
        .iter()
        .find(|(_, _, m)| m.contains("req-ffi-42"))
        .unwrap_or_else(|| panic!("no log line for the request: {logs:?}"));
    assert_eq!(line.0, LogLevel::Debug);
    assert_eq!(line.1, "otai_zendesk::http");
    assert!(
        line.2.starts_with("GET /api/v2/search -> 200 in "),
        "{}",
        line.2
    );
    for (_, _, m) in &logs {
        assert!(!m.contains(API_TOKEN) && !m.contains("Basic "), "{m}");
    }
    // Dropped inside async context: the plugin's runtime must shut down without panicking.
    drop(svc);
}

#[tokio::test]
async fn errors_and_none_cross_the_boundary() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "RecordNotFound"})))
        .expect(1)
        .mount(&server)
        .await;
    let svc = construct("ZendeskTicketsystemService", &params(&server, json!({}))).unwrap();

    assert_eq!(
        svc.get_ticket("404".into()).await.into_result().unwrap(),
        ROption::RNone
    );
    let err = svc
        .get_ticket(RString::from("nope"))
        .await
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::VALIDATION);
}

#[tokio::test]
async fn two_instances_share_nothing() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    for (server, subject) in [(&a, "from A"), (&b, "from B")] {
        let mut t = ticket(7, &[]);
        t["subject"] = json!(subject);
        Mock::given(method("GET"))
            .and(path("/api/v2/tickets/7"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": t})))
            .expect(1)
            .mount(server)
            .await;
    }
    let svc_a = construct("ZendeskTicketsystemService", &params(&a, json!({}))).unwrap();
    let svc_b = construct("ZendeskTicketsystemService", &params(&b, json!({}))).unwrap();

    let ta = svc_a
        .get_ticket("7".into())
        .await
        .into_result()
        .unwrap()
        .unwrap();
    let tb = svc_b
        .get_ticket("7".into())
        .await
        .into_result()
        .unwrap()
        .unwrap();

    assert_eq!(ta.subject.as_str(), "from A");
    assert_eq!(tb.subject.as_str(), "from B");
}

#[test]
fn unknown_service_and_bad_params_are_config_errors() {
    let p = json!({"domain": "acme", "oauth_token": "SECRET-TOKEN-1"});
    let err = construct("Nope", &p).err().expect("unknown service");
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(
        err.message.contains("ZendeskTicketsystemService"),
        "{}",
        err.message
    );

    let p = json!({"domain": "acme", "oauth_token": "SECRET-TOKEN-1", "email": "a@b.c", "api_token": "SECRET-TOKEN-2"});
    let err = construct("ZendeskTicketsystemService", &p)
        .err()
        .expect("two auth methods");
    assert_eq!(err.kind, ErrorKind::CONFIG);
    assert!(!err.message.contains("SECRET-TOKEN"), "{}", err.message);
}

#[test]
fn construction_does_not_touch_the_network() {
    // Nothing listens on this host; construction must still succeed.
    let p = json!({"base_url": "https://192.0.2.1:9", "oauth_token": "t"});
    construct("ZendeskTicketsystemService", &p).unwrap();
}

#[tokio::test]
async fn dropping_the_ffi_future_cancels_the_work() {
    let server = MockServer::start().await;
    // Every answer is a 500, so an uncancelled GET would keep retrying (after 125-250 ms, then
    // 250-500 ms, ...).
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let svc = construct(
        "ZendeskTicketsystemService",
        &params(&server, json!({"max_attempts": 4})),
    )
    .unwrap();

    // Dropped once the first attempt got its 500, i.e. while it waits to retry (no wall-clock
    // limit: under load the first request may take any time to go out).
    let fut = svc.get_ticket("7".into());
    let first_attempt_answered = async {
        while server.received_requests().await.unwrap().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        outcome = fut => panic!("finished before it could be dropped: {outcome:?}"),
        () = first_attempt_answered => {}
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;

    let requests = server.received_requests().await.unwrap().len();
    assert_eq!(
        requests, 1,
        "the retry loop stopped with the dropped future"
    );
}

#[test]
fn the_cdylib_loads_through_abi_stable() {
    // cargo builds the cdylib next to the test binary (target/<profile>/deps).
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let so = dir.join(format!(
        "{}otai_zendesk{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(so.exists(), "{} was not built", so.display());

    let module = otai_plugin_api::abi_stable::library::lib_header_from_path(&so)
        .and_then(|header| header.init_root_module::<otai_plugin_api::PluginModuleRef>())
        .unwrap_or_else(|e| panic!("loading {}: {e}", so.display()));

    let info = (module.info())();
    assert_eq!(info.name.as_str(), "otai_zendesk");
    let p = json!({"domain": "acme", "oauth_token": "t"});
    let svc = (module.new_ticket_system())(
        "ZendeskTicketsystemService".into(),
        p.to_string().as_str().into(),
        host(),
    );
    assert!(svc.is_ok());
}
