//! The transport's pacer: asked before every attempt (retries included), shown every answer.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
};

use otai_plugin_sdk::{
    http::{reqwest::header::HeaderMap, Http, HttpSettings, Method, Pacer, Vendor},
    Logger,
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

#[derive(Debug, Default)]
struct Counting {
    admitted: Mutex<Vec<String>>,
    seen: Mutex<Vec<(u16, Option<String>)>>,
}

impl Pacer for Counting {
    fn admit(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let line = format!("{} {path} {}", method.as_str(), query.len());
        Box::pin(async move { self.admitted.lock().unwrap().push(line) })
    }

    fn observe(&self, status: u16, headers: &HeaderMap) {
        let remaining = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.seen.lock().unwrap().push((status, remaining));
    }
}

fn hint(_: u16) -> &'static str {
    ""
}

const VENDOR: Vendor = Vendor {
    plugin: "otai_test",
    name: "Test desk",
    request_id_header: "x-request-id",
    error_detail: otai_plugin_sdk::http::error_detail,
    hint,
};

#[tokio::test]
async fn every_attempt_is_admitted_and_every_answer_observed() {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/things"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .insert_header("x-ratelimit-remaining", "0"),
        )
        .up_to_n_times(1)
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/things"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ratelimit-remaining", "41")
                .set_body_json(json!({"ok": true})),
        )
        .mount(&mock)
        .await;
    let pacer = Arc::new(Counting::default());
    let http = Http::new(
        HttpSettings::new(mock.uri(), "otai-test"),
        VENDOR,
        Logger::silent(),
    )
    .unwrap()
    .with_pacer(pacer.clone());
    let answer: Value = http.get("/things", &[("page", "1".into())]).await.unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(
        *pacer.admitted.lock().unwrap(),
        ["GET /things 1", "GET /things 1"],
        "the retry too"
    );
    assert_eq!(
        *pacer.seen.lock().unwrap(),
        [(429, Some("0".to_string())), (200, Some("41".to_string()))]
    );
}
