//! The routes of `otai serve`.
//!
//! - `POST /webhooks/{system}`, `GET /healthz`, `GET /readyz`: see [`super`].
//! - `GET /metrics`: [`super::metrics`].
//! - `GET /`: the status page ([`super::page`]).
//! - `POST /api/classify`: [`super::classify`].
//!
//! Answers are JSON (`{"error": "..."}` when refused). A refused delivery is logged with the
//! ticket system, the status, the reason and the peer, never with its body or headers (they
//! may hold ticket text and credentials).

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::SystemTime};

use axum::{
    body::Body,
    extract::{ConnectInfo, Path, State},
    http::{
        header::{CONTENT_LENGTH, CONTENT_TYPE as CONTENT_TYPE_HEADER},
        HeaderMap, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use otai_plugin_sdk::Secret;
use serde_json::json;
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
        .route("/api/classify", post(super::classify::classify))
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

/// A JSON error answer.
pub(super) fn error_answer(status: StatusCode, reason: String) -> Response {
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
