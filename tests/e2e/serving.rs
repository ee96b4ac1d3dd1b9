//! What the `otai serve` end-to-end tests share (Zendesk's [`crate::serve`] and each help desk's
//! `serve` module): a config made for serving ([`serve_yaml`]), the real binary started and
//! waited for until `/readyz` says ready ([`Served`]), deliveries posted, the inbox read as the
//! server replays it, waiting for what a webhook should cause, and stopping the server (with its
//! output in the panic message when something did not happen).

use std::{
    net::{SocketAddr, TcpListener},
    path::Path,
    process::{Child, Command, ExitStatus},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::support;

/// The longest any webhook's effect is waited for: far more than it takes.
pub const WAIT: Duration = Duration::from_secs(30);
/// The longest `otai serve` is waited for to become ready (it loads the plugins and the model,
/// and checks every ticket system, first).
pub const READY_WAIT: Duration = Duration::from_secs(120);

/// A port nobody listens on now (the server binds it a moment later).
pub fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `yaml` (one ticket system and its pipelines) made for `otai serve`: `params` (YAML lines
/// indented six spaces, e.g. `webhook_secret: ...`) added to the ticket system's, every
/// pipeline's `interval` an hour, and a `serve:` section polling hourly with the inbox in the
/// working directory, plus `serve_extra` (lines indented two spaces). With polls an hour away,
/// whatever is routed was routed by its webhook.
pub fn serve_yaml(yaml: &str, params: &str, serve_extra: &str) -> String {
    assert_eq!(
        yaml.matches("    params:\n").count(),
        1,
        "one ticket system:\n{yaml}"
    );
    let mut out = String::new();
    for line in yaml.split_inclusive('\n') {
        if line.starts_with("    interval: ") {
            continue;
        }
        out.push_str(line);
        if line == "    params:\n" {
            out.push_str(params);
        }
        if line.starts_with("    ticket_system: ") {
            out.push_str("    interval: 3600\n");
        }
    }
    out.push_str("serve:\n  poll_interval: 3600\n  inbox: inbox.jsonl\n");
    out.push_str(serve_extra);
    assert!(out.contains("      webhook_secret: "), "{out}");
    assert!(out.contains("    interval: 3600\n"), "{out}");
    out
}

/// Waits until `done` holds, checking every 20 ms for at most `limit`: how long it took, or
/// none.
pub async fn wait_for(limit: Duration, done: impl Fn() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if done() {
            return Some(started.elapsed());
        }
        if started.elapsed() >= limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many ids the inbox in `cwd` still holds, replayed as the server does: accepted minus
/// settled.
pub fn inbox_waiting(cwd: &Path) -> usize {
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

/// How many passes of `pipeline` its stdout reports.
pub fn passes(stdout: &str, pipeline: &str) -> usize {
    let prefix = format!("pipeline {pipeline}: fetched");
    stdout.lines().filter(|l| l.starts_with(&prefix)).count()
}

/// A running `otai serve`. Dropped without [`stop`](Self::stop) (a test that panicked), it is
/// killed.
pub struct Served {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub http: reqwest::Client,
}

impl Served {
    /// Starts `otai serve --listen 127.0.0.1:<free port>` in `cwd` with `config` and `plugins`
    /// (logging at `info`), and waits until `/readyz` says ready with ticket system `system`
    /// reachable.
    pub async fn start(cwd: &Path, config: &Path, plugins: &Path, system: &str) -> Served {
        let address = free_address();
        let child = support::otai_command(
            cwd,
            config,
            plugins,
            &["serve", "--listen", &address.to_string()],
        )
        .env("RUST_LOG", "info")
        .spawn()
        .expect("start otai serve");
        let served = Served {
            child: Some(child),
            base: format!("http://{address}"),
            http: reqwest::Client::new(),
        };
        let started = Instant::now();
        loop {
            if let Ok(answer) = served.http.get(served.url("/readyz")).send().await {
                if answer.status() == 200 {
                    let body: Value = answer.json().await.unwrap();
                    if body["ticket_systems"][system]["reachable"] != true {
                        served
                            .fail(&format!("ready, but `{system}` is not reachable: {body}"))
                            .await;
                    }
                    return served;
                }
            }
            if started.elapsed() > READY_WAIT {
                served.fail("otai serve did not become ready").await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `path` on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The webhook route of ticket system `system`.
    pub fn webhook_url(&self, system: &str) -> String {
        self.url(&format!("/webhooks/{system}"))
    }

    /// Posts `body` with `headers` to `path`; the status and the answer (null if not JSON).
    pub async fn post(
        &self,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut request = self.http.post(self.url(path)).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let answer = request.send().await.expect("otai serve answers");
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// `GET path`: the status and the answer (null if not JSON).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let answer = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("otai serve answers");
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// The text `GET path` answers.
    pub async fn text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("otai serve answers")
            .text()
            .await
            .unwrap()
    }

    /// How many passes of `pipeline` have ended, as `/metrics` counts them.
    pub async fn passes_ended(&self, pipeline: &str) -> u64 {
        let text = self.text("/metrics").await;
        let label = format!("pipeline=\"{pipeline}\"");
        text.lines()
            .filter(|l| l.starts_with("otai_passes_total{") && l.contains(&label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// Waits until `pipeline` has ended `n` passes (e.g. the one at start, so that a ticket
    /// added afterwards is only routed by its webhook); the count seen if not within [`WAIT`].
    pub async fn wait_passes(&self, pipeline: &str, n: u64) -> Result<(), u64> {
        let started = Instant::now();
        loop {
            let ended = self.passes_ended(pipeline).await;
            if ended >= n {
                return Ok(());
            }
            if started.elapsed() > WAIT {
                return Err(ended);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `/readyz` counts no webhook ticket waiting (each accepted id settled once
    /// its pass ended); the last answer if that did not happen within [`WAIT`].
    pub async fn wait_inbox_settled(&self) -> Result<(), Value> {
        let started = Instant::now();
        loop {
            let (_, ready) = self.get("/readyz").await;
            if ready["webhook_tickets_waiting"] == 0 {
                return Ok(());
            }
            if started.elapsed() > WAIT {
                return Err(ready);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends it a signal (`HUP`, `TERM`, ...).
    pub fn signal(&self, name: &str) {
        let child = self.child.as_ref().expect("still running");
        let status = Command::new("kill")
            .args([&format!("-{name}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} {}", child.id());
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        let child = self.child.as_mut().expect("not finished yet");
        child.try_wait().unwrap().is_none()
    }

    /// Stops it and panics with `message` and its output.
    pub async fn fail(self, message: &str) -> ! {
        let (status, stdout, stderr) = self.finish().await;
        panic!("{message}\n--- otai serve: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    }

    /// Stops it with SIGTERM; its stdout and stderr. Panics unless it exits successfully.
    pub async fn stop(self) -> (String, String) {
        let (status, stdout, stderr) = self.finish().await;
        assert!(
            status.success(),
            "otai serve failed ({status}):\n{stdout}\n{stderr}"
        );
        (stdout, stderr)
    }

    /// SIGTERM unless it has ended, then its exit status and output.
    async fn finish(mut self) -> (ExitStatus, String, String) {
        let mut child = self.child.take().expect("not finished yet");
        if child.try_wait().unwrap().is_none() {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success(), "kill -TERM {}", child.id());
        }
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        (
            output.status,
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
