//! `otai serve` end to end: the real binary, the real `libotai_zendesk.so` and the BANKING77
//! model against the Zendesk simulator, which sends webhooks signed as Zendesk signs them when
//! customers write in. Polling is set to an hour, so whatever is routed was routed by its
//! webhook.

use std::{
    net::{SocketAddr, TcpListener},
    path::Path,
    process::{Child, Command},
    time::{Duration, Instant},
};

use otai_zendesk_sim::{webhooks, SimHandle, WebhookTarget};
use serde_json::{json, Value};

use crate::support::{self, BankingDesk};

const SECRET: &str = "webhook-signing-secret-for-the-test";
const API_TOKEN: &str = "api-token-for-the-classify-test-0123";

/// A port nobody listens on now (the server binds it a moment later).
fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn ticket(id: u64) -> Value {
    let texts = support::REQUEST_TEXTS;
    json!({"id": id, "subject": format!("Request {id}"), "status": "new",
           "description": texts[id as usize % texts.len()]})
}

/// The banking desk's config with the webhook secret, an hour between polls, the inbox in the
/// working directory and a small body cap.
fn serve_config(desk: &BankingDesk) {
    let yaml = std::fs::read_to_string(&desk.config).unwrap();
    let yaml =
        yaml.replace(
            "      timeout: 10\n",
            &format!("      timeout: 10\n      webhook_secret: {SECRET}\n"),
        )
        .replace(
            "    ticket_system: zendesk\n",
            "    ticket_system: zendesk\n    interval: 3600\n",
        ) + "serve:\n  poll_interval: 3600\n  inbox: inbox.jsonl\n  max_body_bytes: 4096\n";
    assert!(yaml.contains("webhook_secret"), "{yaml}");
    std::fs::write(&desk.config, yaml).unwrap();
}

struct Served {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Served {
    /// Starts `otai serve` and waits until `/readyz` says ready.
    async fn start(desk: &BankingDesk) -> Served {
        let address = free_address();
        let child = support::otai_command(
            desk.cwd.path(),
            &desk.config,
            desk.plugins.path(),
            &["serve", "--listen", &address.to_string()],
        )
        .env("RUST_LOG", "info")
        .spawn()
        .expect("start otai serve");
        let served = Served {
            child,
            base: format!("http://{address}"),
            http: reqwest::Client::new(),
        };
        let started = Instant::now();
        loop {
            if let Ok(answer) = served
                .http
                .get(format!("{}/readyz", served.base))
                .send()
                .await
            {
                if answer.status() == 200 {
                    let body: Value = answer.json().await.unwrap();
                    assert_eq!(
                        body["ticket_systems"]["zendesk"]["reachable"], true,
                        "{body}"
                    );
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "otai serve did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        served
    }

    fn webhook_url(&self) -> String {
        format!("{}/webhooks/zendesk", self.base)
    }

    /// Posts `body` with `headers` to the Zendesk webhook route; the status and the answer.
    async fn post(&self, path: &str, headers: &[(String, String)], body: Vec<u8>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let answer = request.send().await.expect("otai serve answers");
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// Stops it and panics with `message` and its output.
    async fn fail(self, message: &str) -> ! {
        let (stdout, stderr) = self.stop().await;
        panic!("{message}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    }

    /// Stops it with SIGTERM; its stdout and stderr.
    async fn stop(self) -> (String, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = tokio::task::spawn_blocking(move || self.child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "otai serve failed:\n{stdout}\n{stderr}"
        );
        (stdout, stderr)
    }
}

fn processed(sim: &SimHandle, id: u64) -> bool {
    sim.ticket(id)
        .is_some_and(|t| t.tags.iter().any(|tag| tag == "otai_processed"))
}

/// Waits until ticket `id` carries otai's tag; how long that took, or none within `limit`.
async fn wait_processed(sim: &SimHandle, id: u64, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if processed(sim, id) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

fn inbox_waiting(cwd: &Path) -> usize {
    // Replayed as the server does: accepted minus settled.
    let text = std::fs::read_to_string(cwd.join("inbox.jsonl")).unwrap_or_default();
    let mut waiting = std::collections::BTreeSet::new();
    for line in text.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        for id in line["ids"].as_array().unwrap() {
            let id = id.as_str().unwrap().to_string();
            if line["op"] == "accept" {
                waiting.insert(id);
            } else {
                waiting.remove(&id);
            }
        }
    }
    waiting.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_ticket_is_written_back_seconds_after_its_signed_webhook() {
    let desk = BankingDesk::start(Vec::new(), "live").await;
    serve_config(&desk);
    let served = Served::start(&desk).await;
    desk.sim.set_webhook(Some(WebhookTarget {
        url: served.webhook_url(),
        secret: SECRET.into(),
    }));

    let mut took = Vec::new();
    for id in 9001..9006 {
        desk.sim.add_tickets(vec![ticket(id)]).unwrap();
        // Far more than it takes; the poll is an hour away, so only the webhook can route it.
        match wait_processed(&desk.sim, id, Duration::from_secs(30)).await {
            Some(latency) => took.push(latency),
            None => {
                served
                    .fail(&format!("ticket {id} was not routed after its webhook"))
                    .await
            }
        }
        assert_eq!(desk.sim.write_count(id), 1, "ticket {id} written once");
        let t = desk.sim.ticket(id).unwrap();
        assert_ne!(t.group_id, None, "ticket {id} got a queue");
    }
    println!("webhook (ticket created) to written, per ticket: {took:?}");
    let deliveries = desk.sim.webhook_deliveries();
    assert_eq!(deliveries.len(), 5, "{deliveries:?}");
    assert!(
        deliveries.iter().all(|d| d.status == Some(202)),
        "{deliveries:?}"
    );

    // Every accepted id is settled once its pass has ended: the inbox keeps nothing.
    let started = Instant::now();
    loop {
        let ready: Value = served
            .http
            .get(format!("{}/readyz", served.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready["webhook_tickets_waiting"] == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            served
                .fail(&format!("the inbox still holds tickets: {ready}"))
                .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        served
            .http
            .get(format!("{}/healthz", served.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let cwd = desk.cwd.path().to_path_buf();
    let (_, stderr) = served.stop().await;
    assert_eq!(inbox_waiting(&cwd), 0, "{stderr}");
    assert!(stderr.contains("Accepted a webhook delivery."), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_oversized_and_replayed_deliveries_are_refused_and_change_nothing() {
    let desk = BankingDesk::start(Vec::new(), "guarded").await;
    serve_config(&desk);
    let served = Served::start(&desk).await;
    // Customers write in; the help desk's webhook is not wired yet, and the poll is an hour away.
    desk.sim
        .add_tickets(vec![ticket(9101), ticket(9102)])
        .unwrap();
    let body = webhooks::trigger_body(9101);
    let now = webhooks::timestamp_now();
    let good = webhooks::signed_headers(SECRET, &now, &body, "01HINVOCATION0000000000001");

    let forged =
        webhooks::signed_headers("not the secret", &now, &body, "01HINVOCATION0000000000002");
    let (status, answer) = served
        .post("/webhooks/zendesk", &forged, body.clone())
        .await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("does not match"),
        "{answer}"
    );
    assert!(!answer.to_string().contains(SECRET));

    let unsigned: Vec<_> = good
        .iter()
        .filter(|(name, _)| name != "x-zendesk-webhook-signature")
        .cloned()
        .collect();
    assert_eq!(
        served
            .post("/webhooks/zendesk", &unsigned, body.clone())
            .await
            .0,
        401
    );

    // Signed right, but ten minutes ago: a replay.
    let old = otai_zendesk_sim::store::fmt_time(otai_zendesk_sim::store::now() - 600);
    let stale = webhooks::signed_headers(SECRET, &old, &body, "01HINVOCATION0000000000003");
    let (status, answer) = served.post("/webhooks/zendesk", &stale, body.clone()).await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("s old"),
        "{answer}"
    );

    // Larger than serve.max_body_bytes (4096), even when signed.
    let big = format!(
        "{{\"ticket_id\": \"9101\", \"pad\": \"{}\"}}",
        "x".repeat(5000)
    )
    .into_bytes();
    let big_headers = webhooks::signed_headers(SECRET, &now, &big, "01HINVOCATION0000000000004");
    assert_eq!(
        served.post("/webhooks/zendesk", &big_headers, big).await.0,
        413
    );

    // A body the signature covers but otai cannot read.
    let odd = br#"{"something": "else"}"#.to_vec();
    let odd_headers = webhooks::signed_headers(SECRET, &now, &odd, "01HINVOCATION0000000000005");
    assert_eq!(
        served.post("/webhooks/zendesk", &odd_headers, odd).await.0,
        400
    );

    // A ticket system that is not configured.
    assert_eq!(
        served.post("/webhooks/zammad", &good, body.clone()).await.0,
        404
    );

    // None of them was processed: nothing stored or written (and no pass woken: counted below).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(desk.sim.write_count(9101), 0);
    assert_eq!(inbox_waiting(desk.cwd.path()), 0);

    // The genuine delivery routes the ticket (and the pass it wakes routes the other waiting one).
    let (status, answer) = served.post("/webhooks/zendesk", &good, body.clone()).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], json!(["9101"]));
    if wait_processed(&desk.sim, 9101, Duration::from_secs(30))
        .await
        .is_none()
    {
        served
            .fail("ticket 9101 was not routed after its delivery")
            .await;
    }

    // The same delivery again changes nothing: answered as a duplicate, no pass woken.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, answer) = served.post("/webhooks/zendesk", &good, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["duplicate"], true, "{answer}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(desk.sim.write_count(9101), 1);
    assert_eq!(
        desk.sim.write_count(9102),
        1,
        "the woken pass routed what was waiting"
    );

    let (stdout, stderr) = served.stop().await;
    // The pass at start (nothing waiting yet) and the one the genuine delivery woke: no refused
    // delivery and no replay woke one.
    let passes = stdout
        .lines()
        .filter(|l| l.starts_with("pipeline guarded: fetched"))
        .count();
    assert_eq!(passes, 2, "{stdout}");
    assert!(stderr.contains("Refused a webhook delivery"), "{stderr}");
    assert!(!stderr.contains(SECRET), "the secret is never logged");
}

/// Chromium's headless shell, which `make test` installs (scripts/setup-browser.sh).
fn browser() -> std::path::PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium-headless-shell"))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("chromium-headless-shell is not installed: run `bash scripts/setup-browser.sh` (make test does)")
    })
}

/// Waits until the status page (fetched plainly) lists every ticket of `ids`: their pass has
/// ended and been reported.
async fn wait_on_page(served: &Served, ids: &[u64]) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let page = served
            .http
            .get(&served.base)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if ids
            .iter()
            .all(|id| page.contains(&format!("data-ticket=\"{id}\"")))
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// The page at `url` as the browser's DOM after it rendered (scripts run, styles applied).
async fn rendered_dom(url: &str) -> String {
    let output = tokio::process::Command::new(browser())
        .args(["--no-sandbox", "--disable-gpu", "--dump-dom", url])
        .output()
        .await
        .expect("run the headless browser");
    assert!(
        output.status.success(),
        "the browser failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_renders_in_a_browser_and_shows_each_new_pass() {
    let desk = BankingDesk::start(Vec::new(), "demo").await;
    serve_config(&desk);
    let served = Served::start(&desk).await;
    desk.sim.set_webhook(Some(WebhookTarget {
        url: served.webhook_url(),
        secret: SECRET.into(),
    }));
    desk.sim
        .add_tickets(vec![ticket(9201), ticket(9202)])
        .unwrap();
    for id in [9201, 9202] {
        if wait_processed(&desk.sim, id, Duration::from_secs(30))
            .await
            .is_none()
        {
            served.fail(&format!("ticket {id} was not routed")).await;
        }
    }
    if !wait_on_page(&served, &[9201, 9202]).await {
        served
            .fail("the page does not list the routed tickets")
            .await;
    }

    let dom = rendered_dom(&served.base).await;
    assert!(dom.contains("<title>otai status</title>"), "{dom}");
    for part in [
        "Ticket systems",
        "reachable",
        "/webhooks/zendesk",
        "Pipelines",
        "Latest decisions",
    ] {
        assert!(dom.contains(part), "{part} on the page:\n{dom}");
    }
    for id in [9201, 9202] {
        assert!(
            dom.contains(&format!("data-ticket=\"{id}\"")),
            "ticket {id}:\n{dom}"
        );
        assert!(
            dom.contains(&format!("Request {id}")),
            "its subject:\n{dom}"
        );
    }
    assert!(!dom.contains("data-ticket=\"9203\""));
    // The model's evaluation beside the live confidences.
    assert!(
        dom.contains("class=\"coverage\"") && dom.contains("class=\"confidence\""),
        "{dom}"
    );

    // After the next pass the page shows its ticket too.
    desk.sim.add_tickets(vec![ticket(9203)]).unwrap();
    if wait_processed(&desk.sim, 9203, Duration::from_secs(30))
        .await
        .is_none()
    {
        served.fail("ticket 9203 was not routed").await;
    }
    if !wait_on_page(&served, &[9203]).await {
        served.fail("the page does not list ticket 9203").await;
    }
    let dom = rendered_dom(&served.base).await;
    assert!(dom.contains("data-ticket=\"9203\""), "{dom}");

    // A screenshot for people (the closing note links it).
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let output = tokio::process::Command::new(browser())
        .args([
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,1600",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&served.base)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    println!("status page screenshot: {}", shot.display());
    served.stop().await;
}
