//! Pipeline tests: a tiny simulator on 127.0.0.1, driven over HTTP.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex,
};

use serde_json::{json, Value};

use crate::{
    Admission, Bound, Fault, FaultRule, Faults, KitStats, Reply, Req, RequestKind, Server, SimApi,
    SimState,
};

/// Answers `GET /items` with a fixed list; refuses when `closed`; `/token` is auxiliary.
#[derive(Default)]
struct Tiny {
    closed: Mutex<bool>,
    faults_seen: Mutex<Vec<Option<Fault>>>,
    drops: AtomicU64,
    resets: AtomicU64,
}

impl SimApi for Tiny {
    fn name(&self) -> &str {
        "Tiny"
    }

    fn request_id_header(&self) -> &str {
        "x-tiny-request"
    }

    fn kind(&self, req: &Req) -> RequestKind {
        if req.path == "/token" {
            RequestKind::Auxiliary
        } else {
            RequestKind::Api
        }
    }

    fn admit(&self, _req: &Req) -> Admission {
        let headers = vec![("x-budget".to_string(), "5".to_string())];
        if *self.closed.lock().unwrap() {
            Admission::refuse(
                Reply::status(429, json!({"tiny_error": "slow down"})),
                headers,
            )
        } else {
            Admission::admit(headers)
        }
    }

    fn serve(&self, req: &Req, fault: Option<&Fault>) -> Reply {
        self.faults_seen.lock().unwrap().push(fault.cloned());
        match (req.method.as_str(), &req.segs()[..]) {
            ("GET", ["items"]) => Reply::ok(json!({"items": ["aaaa", "bbbb", "cccc"]})),
            ("POST", ["token"]) => Reply::ok(json!({"token": "t"})),
            ("GET", ["page"]) => Reply::text(500, "text/plain; charset=UTF-8", "no such page"),
            _ => Reply::status(404, json!({"tiny_error": "no route"})),
        }
    }

    fn fault_error(&self, _req: &Req, status: u16, _retry_after: Option<u64>) -> Reply {
        Reply::status(status, json!({"tiny_error": "simulated", "code": status}))
    }

    fn connection_dropped(&self, _req: &Req) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }

    fn admin(&self, req: &Req) -> Option<Reply> {
        (req.path == "/__sim/tiny").then(|| Reply::ok(json!({"tiny": true})))
    }

    fn stats(&self, kit: &KitStats) -> Value {
        json!({"kit": kit, "resets": self.resets.load(Ordering::Relaxed)})
    }

    fn reset(&self) {
        self.resets.fetch_add(1, Ordering::Relaxed);
    }
}

async fn start(faults: Faults) -> Server<Tiny> {
    let bound = Bound::bind(0).await.unwrap();
    bound.serve(Arc::new(SimState::new(faults)), Arc::new(Tiny::default()))
}

fn url(s: &Server<Tiny>, path: &str) -> String {
    format!("{}{path}", s.base_url())
}

async fn put(url: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    let client = reqwest::Client::new();
    client.put(url).body(body).send().await.unwrap()
}

async fn post(url: &str) -> reqwest::Response {
    reqwest::Client::new().post(url).send().await.unwrap()
}

async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_drop_fault_closes_the_connection_without_an_answer() {
    let sim = start(Faults::none().rule(FaultRule::always(Fault::Drop).next(1))).await;

    let first = reqwest::get(url(&sim, "/items")).await;
    let second = reqwest::get(url(&sim, "/items")).await.unwrap();

    assert!(first.is_err(), "{first:?}");
    assert_eq!(second.status(), 200);
    assert_eq!(sim.api().drops.load(Ordering::Relaxed), 1);
    let stats = sim.stats();
    assert_eq!(
        (
            stats.requests,
            stats.faults_injected,
            stats.dropped_connections
        ),
        (2, 1, 1)
    );
    assert_eq!(stats.by_status.get(&200), Some(&1));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_error_fault_answers_in_the_systems_shape_with_retry_after() {
    let error = Fault::Error {
        status: 503,
        retry_after: None,
    };
    let sim = start(Faults::none().rule(FaultRule::always(error).path("/it*"))).await;

    let r = reqwest::get(url(&sim, "/items.json")).await.unwrap();

    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["x-budget"], "5");
    assert_eq!(r.headers()["x-tiny-request"], "sim-00000001");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"tiny_error": "simulated", "code": 503}));
    // The simulator was not asked to serve it.
    assert!(sim.api().faults_seen.lock().unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn truncate_halves_the_body_and_malformed_replaces_it() {
    let sim = start(
        Faults::none()
            .rule(FaultRule::always(Fault::Truncate).next(1))
            .rule(FaultRule::always(Fault::Malformed).next(1)),
    )
    .await;
    let whole = serde_json::to_vec(&json!({"items": ["aaaa", "bbbb", "cccc"]})).unwrap();

    let truncated = reqwest::get(url(&sim, "/items")).await.unwrap();
    assert_eq!(truncated.status(), 200);
    let truncated = truncated.bytes().await.unwrap();
    let malformed = reqwest::get(url(&sim, "/items")).await.unwrap();
    let malformed = malformed.bytes().await.unwrap();

    assert_eq!(&truncated[..], &whole[..whole.len() / 2]);
    assert_eq!(&malformed[..], crate::MALFORMED_BODY);
    assert_eq!(
        *sim.api().faults_seen.lock().unwrap(),
        vec![Some(Fault::Truncate), Some(Fault::Malformed)]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_date_header_follows_a_stopped_clock_set_over_the_admin_api() {
    let sim = start(Faults::none()).await;

    let set = put(&url(&sim, "/__sim/clock"), r#"{"at": 784111777}"#).await;
    assert_eq!(
        set.json::<Value>().await.unwrap(),
        json!({"now": 784111777})
    );
    let r = reqwest::get(url(&sim, "/items")).await.unwrap();
    assert_eq!(r.headers()["date"], "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(sim.state().clock().now(), 784_111_777);

    let run = put(&url(&sim, "/__sim/clock"), r#"{"at": null}"#).await;
    assert_eq!(run.status(), 200);
    assert_eq!(sim.state().clock().stopped(), None);
    let bad = put(&url(&sim, "/__sim/clock"), r#"{"at": "noon"}"#).await;
    assert_eq!(bad.status(), 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_faults_routes_replace_and_show_the_faults() {
    let sim = start(Faults::none()).await;
    let faults = Faults::none().rule(
        FaultRule::always(Fault::Conflict { tag: None })
            .method("GET")
            .next(1),
    );

    let replaced = put(
        &url(&sim, "/__sim/faults"),
        serde_json::to_string(&faults).unwrap(),
    )
    .await;
    assert_eq!(replaced.status(), 200);
    reqwest::get(url(&sim, "/items")).await.unwrap();
    let shown: Faults =
        serde_json::from_value(get_json(&url(&sim, "/__sim/faults")).await).unwrap();
    let bad = put(&url(&sim, "/__sim/faults"), r#"{"rules": 5}"#).await;

    // The conflict reached the simulator, and the rule is spent.
    assert_eq!(
        *sim.api().faults_seen.lock().unwrap(),
        vec![Some(Fault::Conflict { tag: None })]
    );
    assert_eq!(shown.rules[0].next, Some(0));
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"], "InvalidValue");
    sim.shutdown().await;
}

#[tokio::test]
async fn admission_refusals_skip_faults_and_auxiliary_requests_skip_admission_and_counters() {
    let sim = start(Faults::none().rule(FaultRule::always(Fault::Truncate).path("/items"))).await;
    *sim.api().closed.lock().unwrap() = true;

    let refused = reqwest::get(url(&sim, "/items")).await.unwrap();
    let token = post(&url(&sim, "/token")).await;

    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["x-budget"], "5");
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"tiny_error": "slow down"})
    );
    assert_eq!(token.status(), 200);
    assert!(token.headers().get("x-budget").is_none());
    assert!(token.headers().get("date").is_some());
    let stats = sim.stats();
    assert_eq!((stats.requests, stats.faults_injected), (1, 0));
    assert_eq!(stats.by_status.get(&429), Some(&1));
    assert_eq!(stats.by_status.len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn stats_merge_reset_reaches_the_simulator_and_unknown_admin_routes_are_404() {
    let initial = Faults::none().rule(FaultRule::always(Fault::Truncate).next(1));
    let sim = start(initial.clone()).await;
    reqwest::get(url(&sim, "/items")).await.unwrap();
    sim.set_faults(Faults::none());
    sim.set_clock(Some(5));

    let before = get_json(&url(&sim, "/__sim/stats")).await;
    let reset = post(&url(&sim, "/__sim/reset")).await;
    let after = get_json(&url(&sim, "/__sim/stats")).await;
    let own = reqwest::get(url(&sim, "/__sim/tiny")).await.unwrap();
    let unknown = reqwest::get(url(&sim, "/__sim/nothing")).await.unwrap();

    assert_eq!(before["kit"]["requests"], 1);
    assert_eq!(before["kit"]["by_status"]["200"], 1);
    assert_eq!(reset.json::<Value>().await.unwrap(), json!({"reset": true}));
    assert_eq!(after["kit"]["requests"], 0);
    assert_eq!(after["resets"], 1);
    assert_eq!(sim.faults(), initial);
    assert_eq!(sim.state().clock().stopped(), None);
    assert_eq!(own.status(), 200);
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "InvalidEndpoint"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let sim = start(Faults::none()).await;
    let items = url(&sim, "/items");
    sim.shutdown().await;
    assert!(reqwest::get(items).await.is_err());
}

#[test]
fn a_blocking_server_serves_from_its_own_thread_and_stops_when_dropped() {
    let sim = crate::Blocking::start("tiny-sim", || async {
        let bound = Bound::bind(0).await?;
        Ok::<_, std::io::Error>(bound.serve(
            Arc::new(SimState::new(Faults::none())),
            Arc::new(Tiny::default()),
        ))
    })
    .unwrap();
    let addr = sim.addr();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    stream
        .write_all(b"GET /items HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(sim);
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[tokio::test]
async fn stop_mid_write_is_a_500_for_a_simulator_with_atomic_writes() {
    let stop = Fault::StopMidWrite {
        after: Some("queue".into()),
    };
    let sim = start(Faults::none().rule(FaultRule::always(stop).method("PUT").next(1))).await;

    let stopped = put(&url(&sim, "/items"), "{}").await;
    let status = stopped.status().as_u16();
    let body: Value = stopped.json().await.unwrap();

    assert_eq!(
        (status, body),
        (500, json!({"tiny_error": "simulated", "code": 500}))
    );
    assert!(sim.api().faults_seen.lock().unwrap().is_empty());
    assert_eq!(sim.stats().faults_injected, 1);
}

#[tokio::test]
async fn a_text_reply_is_sent_as_it_is_with_its_content_type() {
    let sim = start(Faults::none()).await;

    let r = reqwest::get(url(&sim, "/page")).await.unwrap();

    assert_eq!(r.status(), 500);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/plain; charset=UTF-8"
    );
    assert_eq!(r.text().await.unwrap(), "no such page");
}
