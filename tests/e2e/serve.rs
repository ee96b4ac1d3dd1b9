//! `otai serve` end to end: the real binary, the real `libotai_zendesk.so` and the BANKING77
//! model against the Zendesk simulator, which sends webhooks signed as Zendesk signs them when
//! customers write in. Polling is set to an hour, so whatever is routed was routed by its
//! webhook.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use otai_zendesk_sim::{webhooks, SimHandle, WebhookTarget};
use serde_json::{json, Value};

use crate::{
    serving::{self, inbox_waiting, serve_yaml, Served, WAIT},
    support::{self, BankingDesk},
};

const SECRET: &str = "webhook-signing-secret-for-the-test";
const API_TOKEN: &str = "api-token-for-the-classify-test-0123";

fn ticket(id: u64) -> Value {
    let texts = support::REQUEST_TEXTS;
    json!({"id": id, "subject": format!("Request {id}"), "status": "new",
           "description": texts[id as usize % texts.len()]})
}

/// The banking desk's config with the webhook secret, an hour between polls, the inbox in the
/// working directory and a small body cap.
fn serve_config(desk: &BankingDesk) {
    let yaml = std::fs::read_to_string(&desk.config).unwrap();
    let yaml = serve_yaml(
        &yaml,
        &format!("      webhook_secret: {SECRET}\n"),
        &format!("  max_body_bytes: 4096\n  api_token: {API_TOKEN}\n"),
    );
    std::fs::write(&desk.config, yaml).unwrap();
}

/// Starts `otai serve` over the banking desk and waits until it is ready.
async fn serve(desk: &BankingDesk) -> Served {
    Served::start(
        desk.cwd.path(),
        &desk.config,
        desk.plugins.path(),
        "zendesk",
    )
    .await
}

fn processed(sim: &SimHandle, id: u64) -> bool {
    sim.ticket(id)
        .is_some_and(|t| t.tags.iter().any(|tag| tag == "otai_processed"))
}

/// Waits until ticket `id` carries otai's tag; how long that took, or none within `limit`.
async fn wait_processed(sim: &SimHandle, id: u64, limit: Duration) -> Option<Duration> {
    serving::wait_for(limit, || processed(sim, id)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_ticket_is_written_back_seconds_after_its_signed_webhook() {
    let desk = BankingDesk::start(Vec::new(), "live").await;
    serve_config(&desk);
    let served = serve(&desk).await;
    desk.sim.set_webhook(Some(WebhookTarget {
        url: served.webhook_url("zendesk"),
        secret: SECRET.into(),
    }));

    let mut took = Vec::new();
    for id in 9001..9006 {
        desk.sim.add_tickets(vec![ticket(id)]).unwrap();
        // Far more than it takes; the poll is an hour away, so only the webhook can route it.
        match wait_processed(&desk.sim, id, WAIT).await {
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
    if let Err(ready) = served.wait_inbox_settled().await {
        served
            .fail(&format!("the inbox still holds tickets: {ready}"))
            .await;
    }
    assert_eq!(
        served
            .http
            .get(served.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    metrics_parse_and_count_what_happened(&served).await;

    // The status page lists the tickets.
    let page = served.text("/").await;
    for id in 9001..9006 {
        assert!(
            page.contains(&format!("data-ticket=\"{id}\"")),
            "ticket {id} on the page"
        );
    }
    classify_api_answers_behind_its_token(&served).await;

    let cwd = desk.cwd.path().to_path_buf();
    let (_, stderr) = served.stop().await;
    assert_eq!(inbox_waiting(&cwd), 0, "{stderr}");
    assert!(stderr.contains("Accepted a webhook delivery."), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_oversized_and_replayed_deliveries_are_refused_and_change_nothing() {
    let desk = BankingDesk::start(Vec::new(), "guarded").await;
    serve_config(&desk);
    let served = serve(&desk).await;
    if let Err(seen) = served.wait_passes("guarded", 1).await {
        served
            .fail(&format!("the pass at start did not end ({seen} passes)"))
            .await;
    }
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
    if wait_processed(&desk.sim, 9101, WAIT).await.is_none() {
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
    assert_eq!(serving::passes(&stdout, "guarded"), 2, "{stdout}");
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
        let page = served.text("/").await;
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
    let served = serve(&desk).await;
    desk.sim.set_webhook(Some(WebhookTarget {
        url: served.webhook_url("zendesk"),
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

/// `/metrics`, read by a Prometheus text parser (not otai's own), after the five webhook tickets.
async fn metrics_parse_and_count_what_happened(served: &Served) {
    // A pass's report reaches the metrics a moment after its tickets settle in the inbox.
    let started = Instant::now();
    let text = loop {
        let text = served.text("/metrics").await;
        if text.contains("otai_tickets_written_total{pipeline=\"live\"} 5")
            || started.elapsed() > WAIT
        {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("the metrics parse");
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"));
        match &sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            other => panic!("{name}: {other:?}"),
        }
    };
    assert_eq!(
        value("otai_tickets_written_total", &[("pipeline", "live")]),
        5.0,
        "{text}"
    );
    assert_eq!(
        value(
            "otai_webhook_deliveries_total",
            &[("ticket_system", "zendesk"), ("outcome", "accepted")]
        ),
        5.0
    );
    assert_eq!(value("otai_webhook_tickets_waiting", &[]), 0.0);
    assert!(value("otai_api_requests_total", &[("ticket_system", "zendesk")]) > 0.0);
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "otai_ticket_system_call_duration_seconds"
                && s.labels.get("operation") == Some("update_tickets")),
        "the write calls are timed:\n{text}"
    );
    let confidence = scrape
        .samples
        .iter()
        .find(|s| s.metric == "otai_confidence" && s.labels.get("field") == Some("queue"))
        .unwrap_or_else(|| panic!("no confidence histogram for queue in\n{text}"));
    match &confidence.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let all = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
            assert_eq!(all, 5.0, "five classified tickets: {buckets:?}");
        }
        other => panic!("otai_confidence: {other:?}"),
    }
}

/// `POST /api/classify`: the model's answer behind the bearer token; no ticket touched.
async fn classify_api_answers_behind_its_token(served: &Served) {
    let classify = |token: Option<&str>| {
        let mut request = served.http.post(served.url("/api/classify")).json(&json!([
            {"subject": "Card stolen", "body": "Please block my card"},
            {"subject": "", "body": "My transfer has not arrived"}
        ]));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(classify(None).await.unwrap().status(), 401);
    assert_eq!(
        classify(Some("wrong-token-wrong-token"))
            .await
            .unwrap()
            .status(),
        401
    );
    let answer: Value = classify(Some(API_TOKEN))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let predictions = answer["predictions"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(predictions.len(), 2, "{answer}");
    for prediction in predictions {
        let fields: Vec<&str> = prediction["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&"queue"), "{answer}");
    }
    assert_eq!(answer["pipeline"], "live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_refuses_a_bad_configuration_and_restarts_with_a_good_one() {
    let desk = BankingDesk::start(Vec::new(), "before").await;
    serve_config(&desk);
    let mut served = serve(&desk).await;
    let good = std::fs::read_to_string(&desk.config).unwrap();

    // A configuration with a mistake: reported, and the running one goes on.
    std::fs::write(
        &desk.config,
        good.replace("  poll_interval: 3600\n", "  poll_interval: 0\n"),
    )
    .unwrap();
    served.signal("HUP");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        served.is_running(),
        "a bad configuration must not stop otai serve"
    );
    let page = served.text("/").await;
    assert!(page.contains("<h3>before</h3>"), "still the old pipeline");

    // A good one with a renamed pipeline: the server comes back with it.
    std::fs::write(&desk.config, good.replace("\n  before:\n", "\n  after:\n")).unwrap();
    assert!(std::fs::read_to_string(&desk.config)
        .unwrap()
        .contains("\n  after:\n"));
    served.signal("HUP");
    if !page_shows(&served, "<h3>after</h3>", WAIT).await {
        served
            .fail("the reloaded configuration did not take effect")
            .await;
    }
    // The new pipeline routes by webhook like the old one.
    let served = routes_a_new_ticket(&desk, served, 9301).await;
    let (_, stderr) = served.stop().await;
    assert!(
        stderr.contains("serve.poll_interval"),
        "the mistake is named: {stderr}"
    );
    assert!(
        stderr.contains("The new configuration is refused"),
        "{stderr}"
    );
    assert!(stderr.contains("Reloading"), "{stderr}");
}

/// Whether the status page shows `text` within `limit` (the server may be between a reload's
/// stop and start meanwhile).
async fn page_shows(served: &Served, text: &str, limit: Duration) -> bool {
    let started = Instant::now();
    loop {
        let page = match served.http.get(served.url("/")).send().await {
            Ok(answer) => answer.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if page.contains(text) {
            return true;
        }
        if started.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Ticket `id` arrives by webhook and is routed (the server fails the test otherwise).
async fn routes_a_new_ticket(desk: &BankingDesk, served: Served, id: u64) -> Served {
    desk.sim.set_webhook(Some(WebhookTarget {
        url: served.webhook_url("zendesk"),
        secret: SECRET.into(),
    }));
    desk.sim.add_tickets(vec![ticket(id)]).unwrap();
    if wait_processed(&desk.sim, id, WAIT).await.is_none() {
        served
            .fail(&format!("ticket {id} was not routed after the reload"))
            .await;
    }
    served
}

/// Copies a model folder (files and one level of sub-folders, as model folders are).
fn copy_model(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_model(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repointed_model_link_is_put_in_use_without_a_signal() {
    let desk = BankingDesk::start(Vec::new(), "linked").await;
    serve_config(&desk);
    // The pipeline's model is a link, as `otai train --promote` keeps it.
    let demo = support::demo_model("the promotion test needs");
    let promoted = desk.cwd.path().join("banking77-promoted");
    copy_model(&demo, &promoted);
    let link = desk.cwd.path().join("current");
    std::os::unix::fs::symlink(&demo, &link).unwrap();
    let yaml = std::fs::read_to_string(&desk.config).unwrap();
    let model_line = format!("model: {}\n", demo.display());
    assert!(yaml.contains(&model_line), "{yaml}");
    std::fs::write(&desk.config, yaml.replace(&model_line, "model: current\n")).unwrap();
    let served = serve(&desk).await;
    let folder = |path: &Path| {
        format!(
            "(the folder {})",
            std::fs::canonicalize(path).unwrap().display()
        )
    };
    let page = served.text("/").await;
    assert!(page.contains(&folder(&demo)), "{page}");

    // Repointed in one rename, as a promotion does it: no signal is sent.
    let staging = desk.cwd.path().join(".current.promoting");
    std::os::unix::fs::symlink("banking77-promoted", &staging).unwrap();
    std::fs::rename(&staging, &link).unwrap();
    // The check runs every 10 s; then the pipelines restart.
    if !page_shows(&served, &folder(&promoted), WAIT + Duration::from_secs(15)).await {
        served.fail("the repointed model was not put in use").await;
    }
    let served = routes_a_new_ticket(&desk, served, 9401).await;
    let (_, stderr) = served.stop().await;
    assert!(
        stderr.contains("model path leads to another folder"),
        "{stderr}"
    );
    assert!(stderr.contains("Reloading"), "{stderr}");
}
