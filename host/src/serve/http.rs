//! The routes of `otai serve`.
//!
//! Answers are JSON (`{"error": "..."}` when refused). A refused delivery is logged with the
//! ticket system, the status, the reason and the peer, never with its body or headers (they
//! may hold ticket text and credentials).

use std::{net::SocketAddr, sync::Arc};

use axum::{
    body::Body,
    extract::{ConnectInfo, Path, State},
    http::{header::CONTENT_LENGTH, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::json;
use tracing::{info, warn};

use super::{
    dispatch::{unix_now, Delivered},
    readiness::Readiness,
    Dispatch, WebhookSupport,
};
use crate::ticket::{ErrorKind, WebhookRequest};

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub dispatch: Arc<Dispatch>,
    pub readiness: Readiness,
    pub max_body_bytes: usize,
}

/// The routes, ready for [`axum::serve`] with connect info (`SocketAddr`).
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/webhooks/{system}", post(webhook))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
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

fn refuse(system: &str, peer: SocketAddr, status: StatusCode, reason: String) -> Response {
    warn!(ticket_system = %system, status = status.as_u16(), %peer, reason = %reason, "Refused a webhook delivery; nothing of it was processed.");
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
            return refuse(&system, peer, StatusCode::NOT_FOUND, why.clone())
        }
        WebhookSupport::NotConfigured(why) => {
            return refuse(&system, peer, StatusCode::SERVICE_UNAVAILABLE, why.clone())
        }
    }
    let limit = state.max_body_bytes;
    let too_large = || format!("the body is larger than serve.max_body_bytes ({limit} bytes)");
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return refuse(&system, peer, StatusCode::PAYLOAD_TOO_LARGE, too_large());
    }
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(_) => return refuse(&system, peer, StatusCode::PAYLOAD_TOO_LARGE, too_large()),
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
            return refuse(&system, peer, status, e.message);
        }
    };
    if event.ticket_ids.is_empty() {
        info!(ticket_system = %system, delivery = ?event.delivery_id, "A verified webhook delivery names no ticket; nothing to route.");
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
            (StatusCode::ACCEPTED, Json(json!({ "accepted": ids }))).into_response()
        }
        Ok(Ok(Delivered::Duplicate)) => {
            info!(ticket_system = %system, delivery = ?event.delivery_id, "A webhook delivery came again; it was accepted before, nothing done.");
            (StatusCode::OK, Json(json!({ "duplicate": true }))).into_response()
        }
        // Not stored, so not acknowledged: the help desk delivers it again later.
        Ok(Err(e)) => {
            tracing::error!(error = %e, "Cannot store an accepted webhook delivery.");
            refuse(
                &system,
                peer,
                StatusCode::SERVICE_UNAVAILABLE,
                "the delivery could not be stored; send it again later".into(),
            )
        }
        Err(e) => refuse(
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
