//! The conformance kit: what every adapter must do, checked against the adapter itself.
//!
//! An adapter's tests implement [`Harness`] (how to build a configured instance for a base URL,
//! which values are secret, and two scenarios on the adapter's own mock server) and call
//! [`check`]. Each check drives the adapter through the SDK's real FFI glue
//! ([`AdapterService`]), as the host will:
//!
//! - **cancellation**: a call to a server that never answers is dropped; the kit's server sees the
//!   connection closed (the request was cancelled, not left running);
//! - **isolation**: two instances for two servers each reach only their own, and count only their
//!   own requests;
//! - **panics**: a panic in the adapter comes back as `panicked`, and the service keeps answering;
//! - **secrets**: no secret in any log line (at the most verbose level), error or `Debug` output;
//! - **errors name the path**: a refused request's error names its URL path, without query string
//!   or credentials;
//! - **paging**: `find_tickets` returns every ticket of a query that spans several pages;
//! - **pages**: following `find_tickets_page`'s cursors gives the same tickets, each once, and
//!   no cursor repeats the one it was asked with (the SDK's default, one page, passes);
//! - **batches**: `update_tickets` returns one outcome per ticket, in the order given;
//! - **webhooks**: an unsigned delivery (no headers, an empty or a made-up body) is refused
//!   (`auth`, `config`, `validation` or `unsupported`), never accepted and never a panic.
//!
//! Failures panic with a sentence saying which rule broke, so they read as test failures.

use std::{
    fmt,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use otai_plugin_api::{
    self as ffi,
    abi_stable::std_types::{RResult, RString},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::{
    adapter::TicketSystemAdapter, convert, error::ErrorKind, log::Logger, service::AdapterService,
    BatchUpdate, SearchQuery,
};

/// How the kit builds and exercises one adapter.
pub trait Harness {
    /// The adapter under test.
    type Adapter: TicketSystemAdapter + fmt::Debug;

    /// An instance configured for the help desk at `base_url`, logging to `log`, with the same
    /// credentials every time (those of [`secrets`](Self::secrets)). `base_url` is `http://127.0.0.1:PORT`.
    fn build(&self, base_url: &str, log: Logger) -> crate::Result<Self::Adapter>;

    /// Every secret value in the params `build` uses (tokens, passwords, client secrets).
    fn secrets(&self) -> Vec<String>;

    /// The base URL of the adapter's own mock server, already set up for the two scenarios below.
    fn mock_url(&self) -> String;

    /// A query whose answer on the mock spans more than one page, and the ids it must return,
    /// in order. The default: every ticket (`SearchQuery::default()`), tickets 1, 2 and 3.
    fn paged_query(&self) -> (SearchQuery, Vec<String>) {
        (
            SearchQuery::default(),
            vec!["1".into(), "2".into(), "3".into()],
        )
    }

    /// A batch the mock answers for, and whether each of its tickets must succeed. The default:
    /// tickets 5, 6 and 7 set to priority `low`, ticket 6 refused.
    fn batch(&self) -> (Vec<BatchUpdate>, Vec<bool>) {
        let item = |id: &str| BatchUpdate {
            id: id.into(),
            update: crate::TicketUpdate {
                priority: Some("low".into()),
                ..Default::default()
            },
            current_tags: None,
        };
        (
            vec![item("5"), item("6"), item("7")],
            vec![true, false, true],
        )
    }
}

/// Every page of `adapter.find_tickets_page(query, ..)` from the first to the last (at most
/// 1,000): each page's ticket ids and the cursor it handed out. For an adapter's own paging tests.
pub async fn follow_pages<A: TicketSystemAdapter>(
    adapter: &A,
    query: &SearchQuery,
) -> crate::Result<Vec<(Vec<String>, Option<String>)>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let page = adapter.find_tickets_page(query, cursor.as_deref()).await?;
        pages.push((
            page.tickets.iter().map(|t| t.id.clone()).collect(),
            page.cursor.clone(),
        ));
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(pages)
}

/// Runs every check; panics at the first rule the adapter breaks.
pub async fn check<H: Harness>(harness: &H) {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let log = Logger::from_fn(move |level, target, message| {
        sink.lock()
            .unwrap()
            .push(format!("{level:?} {target}: {message}"));
    });
    let mut shown = Vec::new();

    cancellation(harness, &log, &mut shown).await;
    isolation(harness, &log, &mut shown).await;
    panics(harness, &log).await;
    errors_name_the_path(harness, &log, &mut shown).await;
    paging(harness, &log, &mut shown).await;
    pages(harness, &log, &mut shown).await;
    batches(harness, &log, &mut shown).await;
    webhooks(harness, &log, &mut shown);

    let lines = lines.lock().unwrap();
    for secret in harness.secrets() {
        for line in lines.iter().chain(shown.iter()) {
            assert!(
                !line.contains(&secret),
                "conformance: a secret appears in this log line, error or Debug output: {line}"
            );
        }
    }
}

fn service<H: Harness>(harness: &H, base_url: &str, log: &Logger) -> ffi::TicketSystemBox {
    let adapter = harness
        .build(base_url, log.clone())
        .unwrap_or_else(|e| panic!("conformance: the harness could not build the adapter: {e}"));
    AdapterService::new(adapter, "conformance")
        .expect("the SDK starts a runtime")
        .into_ffi()
}

async fn cancellation<H: Harness>(harness: &H, log: &Logger, shown: &mut Vec<String>) {
    let server = KitServer::start(Answer::Never).await;
    let svc = service(harness, &server.url, log);
    let call = svc.get_ticket(RString::from("1"));
    let pending = tokio::spawn(call);
    server.wait_for_requests(1).await;
    pending.abort();
    let _ = pending.await;
    assert!(
        server.closed_within(Duration::from_secs(5)).await,
        "conformance: a dropped call left its request running (the connection to the help desk \
         stayed open after the host dropped the future)"
    );
    shown.push(format!(
        "{:?}",
        harness.build(&server.url, Logger::silent())
    ));
}

async fn isolation<H: Harness>(harness: &H, log: &Logger, shown: &mut Vec<String>) {
    let (one, two) = (
        KitServer::start(Answer::Forbidden).await,
        KitServer::start(Answer::Forbidden).await,
    );
    let (a, b) = (
        service(harness, &one.url, log),
        service(harness, &two.url, log),
    );
    let before_b = b
        .request_stats()
        .into_option()
        .map(convert::request_stats_from_ffi);
    if let RResult::RErr(e) = a.get_ticket(RString::from("1")).await {
        shown.push(e.message.to_string());
    }
    assert!(
        one.requests() >= 1 && two.requests() == 0,
        "conformance: two instances for two servers share state (instance one's call reached \
         server two, or nowhere)"
    );
    let after_b = b
        .request_stats()
        .into_option()
        .map(convert::request_stats_from_ffi);
    assert_eq!(
        before_b, after_b,
        "conformance: instance one's request was counted by instance two"
    );
}

async fn panics<H: Harness>(harness: &H, log: &Logger) {
    let server = KitServer::start(Answer::Forbidden).await;
    let adapter = harness.build(&server.url, log.clone()).expect("builds");
    let svc = AdapterService::new(PanicsOnGet(adapter), "conformance")
        .expect("runtime")
        .into_ffi();
    match svc.get_ticket(RString::from("1")).await {
        RResult::RErr(e) => assert_eq!(
            convert::kind_from_ffi(e.kind),
            ErrorKind::Panicked,
            "conformance: a panic did not come back as `panicked`: {e}"
        ),
        RResult::ROk(_) => panic!("conformance: a panicking call answered a ticket"),
    }
    // The service survives and answers the next call.
    let after = svc.check_connection().await;
    assert!(
        !matches!(&after, RResult::RErr(e) if convert::kind_from_ffi(e.kind) == ErrorKind::Panicked),
        "conformance: the service did not survive a panic"
    );
}

async fn errors_name_the_path<H: Harness>(harness: &H, log: &Logger, shown: &mut Vec<String>) {
    let server = KitServer::start(Answer::Forbidden).await;
    let svc = service(harness, &server.url, log);
    let err = match svc.get_ticket(RString::from("1")).await {
        RResult::RErr(e) => e,
        RResult::ROk(_) => panic!("conformance: a 403 answer was read as a ticket"),
    };
    let message = err.message.to_string();
    shown.push(message.clone());
    let path = server.last_path().expect("the request arrived");
    assert!(
        message.contains(&path),
        "conformance: the error does not name the URL path {path}: {message}"
    );
    assert!(
        !message.contains(&format!("{path}?")),
        "conformance: the error shows the query string of {path}: {message}"
    );
}

async fn paging<H: Harness>(harness: &H, log: &Logger, shown: &mut Vec<String>) {
    let (query, expected) = harness.paged_query();
    assert!(
        expected.len() > 1,
        "conformance: the paged scenario needs several tickets"
    );
    let svc = service(harness, &harness.mock_url(), log);
    let found = match svc.find_tickets(convert::search_query_to_ffi(&query)).await {
        RResult::ROk(found) => found,
        RResult::RErr(e) => panic!("conformance: find_tickets failed on the paged scenario: {e}"),
    };
    let ids: Vec<String> = found.iter().map(|t| t.id.to_string()).collect();
    shown.extend(found.iter().map(|t| format!("{t:?}")));
    assert_eq!(
        ids, expected,
        "conformance: find_tickets did not return every ticket of every page, in order"
    );
}

/// Following `find_tickets_page` from no cursor to the last page gives what `find_tickets`
/// gives (the paged scenario), and no cursor repeats the one it was asked with.
async fn pages<H: Harness>(harness: &H, log: &Logger, shown: &mut Vec<String>) {
    let (query, expected) = harness.paged_query();
    let svc = service(harness, &harness.mock_url(), log);
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let asked = cursor.clone();
        let page = match svc
            .find_tickets_page(
                convert::search_query_to_ffi(&query),
                asked.clone().map(RString::from).into(),
            )
            .await
        {
            RResult::ROk(page) => page,
            RResult::RErr(e) => {
                panic!("conformance: find_tickets_page failed on the paged scenario: {e}")
            }
        };
        shown.extend(page.tickets.iter().map(|t| format!("{t:?}")));
        ids.extend(page.tickets.iter().map(|t| t.id.to_string()));
        match page.cursor.into_option().map(RString::into_string) {
            None => {
                assert_eq!(
                    ids, expected,
                    "conformance: the pages of find_tickets_page did not hold every ticket of \
                     the paged scenario once, in order"
                );
                return;
            }
            Some(next) => {
                assert_ne!(
                    Some(&next),
                    asked.as_ref(),
                    "conformance: find_tickets_page answered with the cursor it was asked with"
                );
                cursor = Some(next);
            }
        }
    }
    panic!("conformance: find_tickets_page gave more than 1000 pages on the paged scenario");
}

async fn batches<H: Harness>(harness: &H, log: &Logger, shown: &mut Vec<String>) {
    let (updates, expected) = harness.batch();
    assert_eq!(
        updates.len(),
        expected.len(),
        "conformance: one expectation per update"
    );
    let svc = service(harness, &harness.mock_url(), log);
    let outcomes = match svc.update_tickets(convert::batch_to_ffi(&updates)).await {
        RResult::ROk(outcomes) => outcomes,
        RResult::RErr(e) => panic!("conformance: update_tickets failed as a whole: {e}"),
    };
    let ids: Vec<String> = outcomes.iter().map(|o| o.id.to_string()).collect();
    let wanted: Vec<String> = updates.iter().map(|u| u.id.clone()).collect();
    assert_eq!(
        ids, wanted,
        "conformance: update_tickets must answer one outcome per ticket, in the order given"
    );
    for (outcome, ok) in outcomes.iter().zip(expected) {
        if let RResult::RErr(e) = &outcome.result {
            shown.push(e.message.to_string());
        }
        assert_eq!(
            outcome.result.is_ok(),
            ok,
            "conformance: ticket {} should have {}: {:?}",
            outcome.id,
            if ok { "succeeded" } else { "failed" },
            outcome.result
        );
    }
}

fn webhooks<H: Harness>(harness: &H, log: &Logger, shown: &mut Vec<String>) {
    let svc = service(harness, &harness.mock_url(), log);
    let bodies: [&[u8]; 3] = [b"", br#"{"ticket_id": "1"}"#, b"\x00not json"];
    for body in bodies {
        let request = crate::WebhookRequest {
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_vec(),
            received_at: 1_800_000_000,
        };
        match svc.verify_webhook(convert::webhook_request_to_ffi(&request)) {
            RResult::ROk(event) => panic!(
                "conformance: verify_webhook accepted an unsigned delivery (body {:?}) naming {:?}; \
                 refuse it with `auth` (or `config` without a secret, `unsupported` without webhooks)",
                String::from_utf8_lossy(body),
                event.ticket_ids
            ),
            RResult::RErr(e) => {
                shown.push(e.message.to_string());
                let kind = convert::error_from_ffi(e.clone()).kind;
                assert!(
                    matches!(
                        kind,
                        ErrorKind::Auth
                            | ErrorKind::Config
                            | ErrorKind::Validation
                            | ErrorKind::Unsupported
                    ),
                    "conformance: verify_webhook refused an unsigned delivery as `{}`; expected auth, config, validation or unsupported: {}",
                    kind.name(),
                    e.message
                );
            }
        }
    }
}

/// The adapter under test, except that `get_ticket` panics once its future is polled.
struct PanicsOnGet<A>(A);

impl<A: TicketSystemAdapter> TicketSystemAdapter for PanicsOnGet<A> {
    fn find_tickets(
        &self,
        query: &SearchQuery,
    ) -> impl Future<Output = crate::Result<Vec<crate::Ticket>>> + Send {
        self.0.find_tickets(query)
    }

    async fn get_ticket(&self, _id: &str) -> crate::Result<Option<crate::Ticket>> {
        panic!("conformance kit: a panic inside the adapter")
    }

    fn update_ticket(
        &self,
        id: &str,
        update: &crate::TicketUpdate,
    ) -> impl Future<Output = crate::Result<crate::Ticket>> + Send {
        self.0.update_ticket(id, update)
    }

    fn add_note(
        &self,
        id: &str,
        note: &crate::Note,
    ) -> impl Future<Output = crate::Result<()>> + Send {
        self.0.add_note(id, note)
    }

    fn check_connection(&self) -> impl Future<Output = crate::Result<String>> + Send {
        self.0.check_connection()
    }
}

/// How the kit's own server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// Reads the request and never answers.
    Never,
    /// `403 Forbidden` with a JSON error body.
    Forbidden,
}

/// A bare HTTP/1.1 server on 127.0.0.1 that records request paths and notices closed
/// connections: what a mock framework cannot tell.
struct KitServer {
    url: String,
    state: Arc<Mutex<ServerState>>,
}

#[derive(Default)]
struct ServerState {
    paths: Vec<String>,
    closed: usize,
}

impl KitServer {
    async fn start(answer: Answer) -> KitServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(ServerState::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => {
                                state.lock().unwrap().closed += 1;
                                return;
                            }
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        if let Some(end) = find(&buf, b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_string();
                            buf.drain(..end + 4);
                            let target = head.split(' ').nth(1).unwrap_or("").to_string();
                            let path = target.split('?').next().unwrap_or("").to_string();
                            state.lock().unwrap().paths.push(path);
                            if let Answer::Forbidden = answer {
                                let body =
                                    br#"{"error":"Forbidden","description":"conformance kit"}"#;
                                let head = format!(
                                    "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                    body.len()
                                );
                                if socket.write_all(head.as_bytes()).await.is_err()
                                    || socket.write_all(body).await.is_err()
                                {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        KitServer { url, state }
    }

    fn requests(&self) -> usize {
        self.state.lock().unwrap().paths.len()
    }

    fn last_path(&self) -> Option<String> {
        self.state.lock().unwrap().paths.last().cloned()
    }

    async fn wait_for_requests(&self, n: usize) {
        for _ in 0..500 {
            if self.requests() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "conformance: the adapter sent no request to {} within 5 s",
            self.url
        );
    }

    async fn closed_within(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if self.state.lock().unwrap().closed >= 1 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
