//! `POST /api/classify[?pipeline=NAME]` with `Authorization: Bearer <serve.api_token>`:
//! `{"subject", "body"}` or a list of them -> `{"pipeline", "model", "predictions": [...]}` (per
//! ticket, per field, the top labels with their probabilities), for help desks and scripts that
//! want otai's answer without a pipeline. Reads and writes no ticket. Off (404) unless
//! `serve.api_token` is set; a missing or wrong token is 401.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Query, State},
    http::{header::AUTHORIZATION, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use otai_plugin_sdk::Secret;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::warn;

use super::http::{error_answer, AppState};
use crate::classifier::TicketText;

/// The query string: which pipeline's model (needed when there are several).
#[derive(Debug, Deserialize)]
pub(super) struct ClassifyQuery {
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

pub(super) async fn classify(
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
