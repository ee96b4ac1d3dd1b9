//! The routes of `otai serve`.
//!
//! - `POST /webhooks/{system}`, `GET /healthz`, `GET /readyz`: see [`super`].
//! - `GET /metrics`: [`super::metrics`].
//! - `GET /`: the status page ([`super::page`]).
//! - `POST /api/classify[?pipeline=NAME]` with `Authorization: Bearer <serve.api_token>`:
//!   `{"subject", "body"}` or a list of them -> `{"pipeline", "model", "predictions": [...]}`
//!   (per ticket, per field, the top labels with their probabilities). Reads and writes no
//!   ticket. Off (404) unless `serve.api_token` is set.
//!
//! Answers are JSON (`{"error": "..."}` when refused). A refused delivery is logged with the
//! ticket system, the status, the reason and the peer, never with its body or headers (they
//! may hold ticket text and credentials).

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::SystemTime};

use axum::{
    body::Body,
    extract::{ConnectInfo, Path, Query, State},
    http::{
        header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE as CONTENT_TYPE_HEADER},
        HeaderMap, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use otai_plugin_sdk::Secret;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{info, warn};

use super::{
    dispatch::{unix_now, Delivered},
    metrics::{Metrics, CONTENT_TYPE},
    page::{self, PageInput, PipelineInfo},
    readiness::Readiness,
    status::StatusBook,
    Dispatch, WebhookSupport,
};
use crate::{
    classifier::TicketText,
    pipeline::{Classify, PassReport},
    ticket::{ErrorKind, WebhookRequest},
};

/// A pipeline's model, for `/api/classify`.
#[derive(Debug, Clone)]
pub struct ClassifyTarget {
    pub classifier: Arc<dyn Classify>,
    pub model: String,
}

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub dispatch: Arc<Dispatch>,
    pub readiness: Readiness,
    pub max_body_bytes: usize,
    pub metrics: Metrics,
    pub status: StatusBook,
    pub pipelines: Vec<PipelineInfo>,
    /// By pipeline name.
    pub classifiers: BTreeMap<String, ClassifyTarget>,
    pub api_token: Option<Secret>,
    pub started: SystemTime,
}

impl AppState {
    /// Takes in one pass of a pipeline (metrics and the status page).
    pub fn observe(&self, report: &PassReport) {
        let system = self
            .pipelines
            .iter()
            .find(|p| p.name == report.pipeline)
            .map_or("", |p| p.ticket_system.as_str());
        self.metrics.record_pass(report, system);
        self.status.record(report);
    }
}

/// The routes, ready for [`axum::serve`] with connect info (`SocketAddr`).
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/webhooks/{system}", post(webhook))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/classify", post(classify))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

fn refuse(
    state: &AppState,
    system: &str,
    peer: SocketAddr,
    status: StatusCode,
    reason: String,
) -> Response {
    warn!(ticket_system = %system, status = status.as_u16(), %peer, reason = %reason, "Refused a webhook delivery; nothing of it was processed.");
    state
        .metrics
        .webhook(system, &format!("refused_{}", status.as_u16()));
    error_answer(status, reason)
}

fn error_answer(status: StatusCode, reason: String) -> Response {
    (status, Json(json!({ "error": reason }))).into_response()
}

async fn webhook(
    State(state): State<Arc<AppState>>,
    Path(system): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(served) = state.dispatch.system(&system) else {
        let known: Vec<&str> = state.dispatch.systems().map(|(n, _)| n.as_str()).collect();
        return refuse(
            &state,
            &system,
            peer,
            StatusCode::NOT_FOUND,
            format!(
                "no ticket system named `{system}` is served here (served: {})",
                known.join(", ")
            ),
        );
    };
    match &served.webhooks {
        WebhookSupport::Verified => {}
        WebhookSupport::Unsupported(why) => {
            return refuse(&state, &system, peer, StatusCode::NOT_FOUND, why.clone())
        }
        WebhookSupport::NotConfigured(why) => {
            return refuse(
                &state,
                &system,
                peer,
                StatusCode::SERVICE_UNAVAILABLE,
                why.clone(),
            )
        }
    }
    let limit = state.max_body_bytes;
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A body announced too large is refused unread; one that grows past the cap while read, too.
    let body = match announced.filter(|length| *length > limit as u64) {
        Some(_) => None,
        None => axum::body::to_bytes(body, limit).await.ok(),
    };
    let Some(body) = body else {
        return refuse(
            &state,
            &system,
            peer,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than serve.max_body_bytes ({limit} bytes)"),
        );
    };
    let request = WebhookRequest {
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
            })
            .collect(),
        body: body.to_vec(),
        received_at: unix_now(),
    };
    let ticket_system = served.system.clone();
    let verified =
        match tokio::task::spawn_blocking(move || ticket_system.verify_webhook(request)).await {
            Ok(verified) => verified,
            Err(e) => {
                return refuse(
                    &state,
                    &system,
                    peer,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("verifying the delivery stopped: {e}"),
                )
            }
        };
    let event = match verified {
        Ok(event) => event,
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Auth => StatusCode::UNAUTHORIZED,
                ErrorKind::Validation => StatusCode::BAD_REQUEST,
                ErrorKind::Unsupported => StatusCode::NOT_FOUND,
                ErrorKind::Config => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            return refuse(&state, &system, peer, status, e.message);
        }
    };
    if event.ticket_ids.is_empty() {
        info!(ticket_system = %system, delivery = ?event.delivery_id, "A verified webhook delivery names no ticket; nothing to route.");
        state.metrics.webhook(&system, "no_ticket");
        return (StatusCode::OK, Json(json!({ "accepted": [] }))).into_response();
    }
    let dispatch = state.dispatch.clone();
    let (name, delivery, ids) = (system.clone(), event.delivery_id.clone(), event.ticket_ids);
    let delivered =
        tokio::task::spawn_blocking(move || dispatch.deliver(&name, delivery.as_deref(), &ids))
            .await;
    match delivered {
        Ok(Ok(Delivered::Accepted(ids))) => {
            info!(ticket_system = %system, delivery = ?event.delivery_id, tickets = ?ids, "Accepted a webhook delivery.");
            state.metrics.webhook(&system, "accepted");
            (StatusCode::ACCEPTED, Json(json!({ "accepted": ids }))).into_response()
        }
        Ok(Ok(Delivered::Duplicate)) => {
            info!(ticket_system = %system, delivery = ?event.delivery_id, "A webhook delivery came again; it was accepted before, nothing done.");
            state.metrics.webhook(&system, "duplicate");
            (StatusCode::OK, Json(json!({ "duplicate": true }))).into_response()
        }
        // Not stored, so not acknowledged: the help desk delivers it again later.
        Ok(Err(e)) => {
            tracing::error!(error = %e, "Cannot store an accepted webhook delivery.");
            refuse(
                &state,
                &system,
                peer,
                StatusCode::SERVICE_UNAVAILABLE,
                "the delivery could not be stored; send it again later".into(),
            )
        }
        Err(e) => refuse(
            &state,
            &system,
            peer,
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("storing the delivery stopped: {e}"),
        ),
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let systems = state.dispatch.systems().count();
    let ready = state.readiness.is_ready(systems);
    let body = json!({
        "ready": ready,
        "ticket_systems": state.readiness.snapshot(),
        "webhook_tickets_waiting": state.dispatch.waiting(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let text = state.metrics.encode(state.dispatch.waiting());
    ([(CONTENT_TYPE_HEADER, CONTENT_TYPE)], text).into_response()
}

async fn status_page(State(state): State<Arc<AppState>>) -> Response {
    let input = PageInput {
        pipelines: &state.pipelines,
        systems: state
            .dispatch
            .systems()
            .map(|(name, served)| (name.clone(), served.webhooks.clone()))
            .collect(),
        checks: state.readiness.snapshot(),
        waiting: state.dispatch.waiting(),
        started: state.started,
    };
    let html = page::render(&input, &state.status.snapshot());
    ([(CONTENT_TYPE_HEADER, "text/html; charset=utf-8")], html).into_response()
}

#[derive(Debug, Deserialize)]
struct ClassifyQuery {
    pipeline: Option<String>,
}

/// One text to classify.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifyText {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

/// The most texts one `/api/classify` call takes.
pub const MAX_CLASSIFY_TEXTS: usize = 256;

/// Whether `given` is the configured token, in time that does not depend on where they differ.
fn token_matches(given: &str, expected: &Secret) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.expose().as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

async fn classify(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ClassifyQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(token) = &state.api_token else {
        return error_answer(
            StatusCode::NOT_FOUND,
            "the classify API is off: set serve.api_token to turn it on".into(),
        );
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|given| token_matches(given.trim(), token)) {
        warn!("Refused a classify request: missing or wrong bearer token.");
        return (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Bearer")],
            Json(json!({ "error": "missing or wrong bearer token (Authorization: Bearer <serve.api_token>)" })),
        )
            .into_response();
    }
    let target = match &query.pipeline {
        Some(name) => state.classifiers.get(name),
        None if state.classifiers.len() == 1 => state.classifiers.values().next(),
        None => None,
    };
    let Some(target) = target else {
        let names: Vec<&str> = state.classifiers.keys().map(String::as_str).collect();
        return error_answer(
            StatusCode::BAD_REQUEST,
            format!(
                "say which pipeline's model to use: ?pipeline= one of {}",
                names.join(", ")
            ),
        );
    };
    let body = match axum::body::to_bytes(body, state.max_body_bytes.max(1 << 20)).await {
        Ok(body) => body,
        Err(_) => {
            return error_answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is too large".into(),
            )
        }
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            return error_answer(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            )
        }
    };
    let one = !value.is_array();
    let texts: Result<Vec<ClassifyText>, _> = if one {
        serde_json::from_value(value).map(|t| vec![t])
    } else {
        serde_json::from_value(value)
    };
    let texts = match texts {
        Ok(texts) if texts.len() <= MAX_CLASSIFY_TEXTS => texts,
        Ok(texts) => {
            return error_answer(
                StatusCode::BAD_REQUEST,
                format!(
                    "{} texts; at most {MAX_CLASSIFY_TEXTS} per call",
                    texts.len()
                ),
            )
        }
        Err(e) => {
            return error_answer(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"subject\", \"body\"}} or a list of them: {e}"),
            )
        }
    };
    let texts: Vec<TicketText> = texts
        .into_iter()
        .map(|t| TicketText::new(t.subject, t.body))
        .collect();
    match target.classifier.classify(&texts).await {
        Ok(predictions) => {
            let pipeline = query
                .pipeline
                .clone()
                .or_else(|| state.classifiers.keys().next().cloned());
            let predictions = if one {
                json!(predictions.first())
            } else {
                json!(predictions)
            };
            Json(json!({
                "pipeline": pipeline,
                "model": target.model,
                "predictions": predictions,
            }))
            .into_response()
        }
        Err(e) => error_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the model failed: {e}"),
        ),
    }
}
