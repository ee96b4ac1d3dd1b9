//! # otai-freshdesk-sim: a Freshdesk API v2 simulator
//!
//! A small HTTP server on 127.0.0.1 that serves the part of Freshdesk's REST API v2 otai's
//! Freshdesk adapter uses, with the semantics the vendor docs state (facts only; see the
//! README for sources, choices and what is unverified): Basic authentication with the API key
//! as user name; the ticket list with its 30-day default window, `updated_since`, ordering,
//! `include`, `per_page` ≤ 100, the 300-page cap and `Link: <...>; rel="next"`; the filter
//! search (`/search/tickets?query="..."`, 30 per page, pages 1..10, `{total, results}`) over an
//! index that **lags** behind changes; one ticket with `include`; conversations; `PUT` with
//! validation errors in Freshdesk's shape; notes; `bulk_update` as a background job with
//! `/jobs/{id}`; and the per-minute **rate limits** by plan with per-endpoint sub-limits, 429 +
//! `Retry-After` and the `X-RateLimit-*` headers on every answer. Fault injection, the clock
//! and the common admin routes come from `otai-sim-kit`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), otai_freshdesk_sim::SimError> {
//! use std::time::Duration;
//! use otai_freshdesk_sim::{Fault, FaultRule, Faults, Plan, Simulator};
//! use serde_json::json;
//! let sim = Simulator::builder()
//!     .groups(&["Cards", "Billing"])
//!     .custom_fields(&["cf_category"])
//!     .seed_file("data/demo/helpdesk.json")
//!     .tickets(vec![json!({"subject": "Card lost", "description": "I lost my card",
//!                          "priority": "high", "group": "Cards"})])
//!     .plan(Plan::Growth)
//!     .index_lag(Duration::from_secs(90))
//!     .faults(Faults::none().rule(
//!         FaultRule::always(Fault::StopMidWrite { after: Some("2".into()) })
//!             .path("/api/v2/tickets/bulk_update")
//!             .next(1),
//!     ))
//!     .start()
//!     .await?;
//! println!("{}/api/v2", sim.base_url());
//! # sim.shutdown().await; Ok(()) }
//! ```
//!
//! Endpoints (under `/api/v2`): `GET /agents/me`, `GET /groups`, `GET /ticket_fields`,
//! `GET /tickets`, `POST /tickets`, `GET|PUT /tickets/{id}`, `GET /tickets/{id}/conversations`,
//! `POST /tickets/{id}/notes`, `POST /tickets/bulk_update`, `GET /jobs/{id}`,
//! `GET /search/tickets`. Another method on a known path: 405; an unknown path or id: 404.
//!
//! Admin routes (no auth, faults, rate limit or latency): the kit's `GET|PUT /__sim/faults`,
//! `PUT /__sim/clock`, `GET /__sim/stats`, `POST /__sim/reset`; and this simulator's
//! `GET /__sim/tickets`, `POST /__sim/tickets` (seed form), `GET /__sim/tickets/{id}` (ticket,
//! conversations, writes), `GET /__sim/writes`, `POST /__sim/agent_edit/{id}?tag=`,
//! `GET /__sim/requests`, `POST /__sim/consume?credits=N`, `GET /__sim/jobs`,
//! `PUT /__sim/webhook` (`{"url", "secret"[, "header"]}` or `null`: where the deliveries for
//! added tickets go, [`webhooks`]), `GET /__sim/webhook/deliveries` (`{"deliveries": [...]}`).
//!
//! Faults: the kit applies drops, error answers (in Freshdesk's `{"code", "message"}` shape),
//! delays, truncated and malformed bodies. `conflict` makes a simulated agent edit the ticket
//! (tag [`DEFAULT_AGENT_TAG`] added, `updated_at` moved) just before a PUT, a note or each
//! ticket of a bulk job, which then proceeds (Freshdesk has no optimistic concurrency).
//! `agent_edit_after_read` edits every ticket a 2xx read showed. `stop_mid_write {after: "N"}`
//! on `bulk_update` makes its job apply the first N tickets and end `FAILED`; on any other write
//! it is a 500 (single-ticket writes are atomic).
//!
//! # Layout
//! - [`server`]: [`Simulator`], [`SimBuilder`], [`SimHandle`], [`BlockingSim`].
//! - [`api`]: admission, routing, auth, the endpoints, bulk jobs' runs, admin routes.
//! - [`ratelimit`]: [`Plan`], endpoint classes, costs, the window accounting.
//! - [`log`]: the request log ([`RequestRecord`]).
//! - [`store`]: groups, agents, contacts, tickets, conversations, writes, the search index.
//! - [`update`]: the validation and application of ticket properties.
//! - [`query`]: the search query language.
//! - [`jobs`]: [`Job`] and its states.
//! - [`shapes`]: the JSON of the answers.
//! - [`seed`]: seed files in the Freshdesk and the Zendesk dialect.
//! - [`stamp`]: second-precision ISO 8601 stamps.
//! - [`error`]: Freshdesk's error answers and the library's error type.

#![warn(missing_docs)]

// In the order of the layout above.
pub mod api;
pub mod error;
pub mod jobs;
pub mod log;
pub mod query;
pub mod ratelimit;
pub mod seed;
pub mod server;
pub mod shapes;
pub mod stamp;
pub mod store;
pub mod update;
pub mod webhooks;

pub use api::Stats;
pub use error::{ApiError, FieldError, SimError};
pub use jobs::{Job, JobStatus};
pub use log::RequestRecord;
pub use otai_sim_kit::{Fault, FaultRule, Faults, Latency, WebhookDelivery, DEFAULT_AGENT_TAG};
pub use ratelimit::Plan;
pub use seed::SeedData;
pub use server::{
    BlockingSim, SimBuilder, SimHandle, Simulator, DEFAULT_API_KEY, DEFAULT_INDEX_LAG,
    DEFAULT_JOB_DELAY, DEFAULT_RATE_WINDOW,
};
pub use store::{Conversation, Group, Ticket, WriteKind, WriteRecord, API_AGENT_ID};
pub use webhooks::WebhookTarget;
