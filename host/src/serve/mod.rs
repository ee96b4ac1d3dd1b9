//! `otai serve`: the configured pipelines (as `otai run` runs them) and an HTTP server beside
//! them, so that a help desk's webhook routes a new ticket within seconds instead of at the
//! next poll.
//!
//! - `POST /webhooks/<ticket system>`: the ticket system's plugin verifies the delivery
//!   (signature, freshness) and names its tickets (plugin API 1.4); the ids are stored in the
//!   [`inbox`] (on disk, `fsync`ed) before the answer, then fed to every pipeline of that
//!   ticket system, each of which passes at once ([`crate::pipeline::feed`]). A bad signature is
//!   401, an unreadable body 400, an oversized one 413, a delivery seen before 200 with nothing
//!   done; none of them is processed.
//! - `GET /metrics`: Prometheus metrics. `GET /`: the status page (the pipelines' last passes,
//!   the latest decisions, failed tickets, confidence per field, the model's coverage table).
//!   `POST /api/classify`: the model's answer for texts, behind a bearer token.
//! - `GET /healthz`: the process is up. `GET /readyz`: plugins and models are loaded (they are
//!   before the server starts) and every ticket system answered its last connection check.
//!
//! Polling stays as the safety net: a pipeline whose help desk sends webhooks polls at
//! `serve.poll_interval` (default 5 minutes); one whose plugin cannot verify webhooks keeps its
//! own `interval`.
//!
//! ## Layout
//! - [`inbox`]: the durable store of accepted ids and seen deliveries.
//! - [`dispatch`]: which pipelines get which ids, and settling them in the inbox.
//! - [`http`]: the routes.
//! - [`classify`]: `POST /api/classify`.
//! - [`readiness`]: the ticket systems' connection checks behind `/readyz`.
//! - [`metrics`]: `/metrics` (Prometheus / OpenMetrics text).
//! - [`status`] and [`page`]: the status page at `/`: what it remembers, and its HTML.

pub mod classify;
pub mod dispatch;
pub mod http;
pub mod inbox;
pub mod metrics;
pub mod page;
pub mod readiness;
pub mod status;

pub use dispatch::{Dispatch, WebhookSupport};
