//! # otai-zendesk-sim: a Zendesk Support API simulator
//!
//! A small HTTP server on 127.0.0.1 that serves the Zendesk Support API endpoints otai uses,
//! with Zendesk's semantics and response shapes (ids as 64-bit integers, `url`, nulls, `fields`
//! beside `custom_fields`, `via`, ...), rate limiting, fault injection and a record of every
//! write. It serves otai's demo, a sandbox for operators and fault drills.
//!
//! ```no_run
//! # async fn demo() -> Result<(), otai_zendesk_sim::SimError> {
//! use std::time::Duration;
//! use otai_zendesk_sim::{Simulator, Faults, FaultRule, Fault, OAuthClient};
//! let sim = Simulator::builder()
//!     .seed_file("tickets.jsonl")
//!     .groups(&["Support", "Billing"])
//!     .credentials("agent@example.com", "secret")
//!     .rate_limit_per_minute(700)
//!     .job_delays(Duration::from_millis(50), Duration::from_millis(50))
//!     .faults(Faults::none().rule(FaultRule::always(Fault::Drop).method("PUT").next(1)))
//!     .oauth_client(OAuthClient::new("otai", "client-secret").with_refresh_token("rt-initial"))
//!     .access_token_lifetime(Duration::from_secs(2))
//!     .start()
//!     .await?;
//! println!("{}", sim.base_url());
//! # sim.shutdown().await; Ok(()) }
//! ```
//!
//! Endpoints (each also with the `.json` suffix): `GET /api/v2/tickets` (cursor or offset),
//! `GET/PUT/DELETE /api/v2/tickets/{id}`, `GET /api/v2/tickets/show_many?ids=`,
//! `GET /api/v2/tickets/{id}/comments`, `GET/PUT/POST/DELETE /api/v2/tickets/{id}/tags`,
//! `PUT /api/v2/tickets/update_many`, `GET /api/v2/job_statuses[/{id}|/show_many]`,
//! `GET /api/v2/search`, `/search/count`, `/search/export`, `GET /api/v2/groups[/assignable|/{id}]`,
//! `GET /api/v2/ticket_fields[/{id}]`, `GET /api/v2/users/me`,
//! `GET /api/v2/incremental/tickets/cursor`; `POST /oauth/tokens` (OAuth `client_credentials`
//! and `refresh_token` grants, [`oauth`]); the admin API under `/__sim/` (`GET /__sim/stats`
//! answers [`Stats`]; faults, clock and reset are [`otai_sim_kit::admin`]'s, the rest
//! `routes::admin`'s).
//!
//! The HTTP server, latency and fault injection, the account's clock (stamps and `Date`
//! headers) and the common admin routes are [`otai_sim_kit`]'s, shared with otai's other
//! simulators; this crate is what is Zendesk's.
//!
//! # Layout
//! - [`server`]: builder and handles.
//! - `api`: Zendesk's part of the per-request pipeline (rate limit, authentication, routing,
//!   the token endpoint, Zendesk-shaped fault errors).
//! - `shared`: the account's state shared by the pipeline, the job tasks and the handles.
//! - [`store`]: tickets, groups, users, comments, revisions, write history; update semantics.
//! - [`seed`]: seed files (JSON / JSONL) and the default account.
//! - [`search`]: the search query subset, matching and sorting.
//! - `routes`: one module per resource, plus `admin`.
//! - [`jobs`]: the asynchronous `update_many` job runner.
//! - [`auth`]: API-token and bearer authentication.
//! - [`oauth`]: OAuth clients, the token endpoint's grants, expiring access tokens, rotating
//!   refresh tokens.
//! - [`rate`]: account and endpoint rate limits and their headers.
//! - [`faults`]: the fault configuration (the kit's, re-exported) and what it means for Zendesk.
//! - [`error`]: Zendesk-shaped error answers and the library's error type.
//! - [`webhooks`]: signed webhook deliveries to otai for every ticket a customer writes in.

#![warn(missing_docs)]

mod api;
pub mod auth;
pub mod error;
pub mod faults;
pub mod jobs;
pub mod oauth;
pub mod rate;
pub(crate) mod routes;
pub mod search;
pub mod seed;
pub mod server;
mod shared;
pub mod store;
pub mod webhooks;

pub use auth::Credential;
pub use error::{ApiError, SimError};
pub use faults::{Fault, FaultRule, Faults, JobFaults, Latency};
pub use jobs::JobDelays;
pub use oauth::{
    OAuthClient, OAuthStats, TokenRequest, DEFAULT_ACCESS_TOKEN_LIFETIME,
    DEFAULT_REFRESH_TOKEN_LIFETIME,
};
pub use rate::RateLimits;
pub use seed::SeedData;
pub use server::{
    BlockingSim, SimBuilder, SimHandle, Simulator, Stats, API_USER_ID, DEFAULT_BEARER,
    DEFAULT_EMAIL, DEFAULT_TOKEN,
};
pub use store::{Comment, FieldChange, Group, Ticket, WriteRecord};
pub use webhooks::{WebhookDelivery, WebhookTarget};
