//! # otai-zammad-sim: a Zammad REST API simulator
//!
//! A small HTTP server on 127.0.0.1 that serves the Zammad REST endpoints otai's Zammad adapter
//! uses, with Zammad's semantics and answer shapes (read in Zammad's own source; facts only):
//! ids and names of a fresh instance (user 1 `-`, group 1 `Users`, priorities `1 low` /
//! `2 normal` / `3 high`, states 1 `new` .. 7 `pending close`), millisecond stamps
//! (`2025-01-14T07:45:08.790Z`), `{"error", "error_human"}` errors with Zammad's statuses,
//! tags as a collection of their own, atomic `PUT` with a nested article, two search backends
//! (Elasticsearch / SQL) and two Zammad generations of the search answer. Fault injection,
//! the clock and the common admin routes come from `otai-sim-kit`. It serves otai's Zammad
//! adapter tests, demo and fault drills.
//!
//! ```no_run
//! # async fn demo() -> Result<(), otai_zammad_sim::SimError> {
//! use otai_zammad_sim::{Simulator, SearchBackend, SearchShape, Faults, FaultRule, Fault};
//! use serde_json::json;
//! let sim = Simulator::builder()
//!     .seed_file("data/demo/helpdesk.json")
//!     .tickets(vec![json!({"title": "Card lost", "body": "I lost my card", "tags": ["vip"]})])
//!     .groups(&["Users", "Billing"])
//!     .token("sim-token")
//!     .search_backend(SearchBackend::Sql)
//!     .search_shape(SearchShape::Legacy)
//!     .faults(Faults::none().rule(FaultRule::always(Fault::Drop).method("PUT").next(1)))
//!     .start()
//!     .await?;
//! println!("{}", sim.base_url());
//! # sim.shutdown().await; Ok(()) }
//! ```
//!
//! Endpoints, all under `/api/v1` and authenticated (`Authorization: Token token=...`, Basic,
//! or `Bearer ...`): `GET /users/me`, `GET /users/{id}`, `GET /tickets` (`page`, `per_page` <=
//! 100, `expand`, `full`), `GET|POST /tickets/search` ([`search`]: `query`, `condition`,
//! `page`, `per_page`/`limit` <= 200, `sort_by`, `order_by`, `expand`, `full`,
//! `with_total_count`, `only_total_count`), `GET /tickets/{id}` (`expand`, `full`, `all`),
//! `PUT /tickets/{id}` (fields by name or id, custom attributes, nested `article`; atomic),
//! `GET /ticket_articles/by_ticket/{id}`, `GET /ticket_articles/{id}`,
//! `GET /tags?object=Ticket&o_id=`, `POST /tags/add`, `DELETE /tags/remove`,
//! `GET /groups[/{id}]`, `GET /ticket_priorities[/{id}]`, `GET /ticket_states[/{id}]`.
//!
//! Admin routes (no auth, faults or latency): the kit's `GET|PUT /__sim/faults`,
//! `PUT /__sim/clock`, `GET /__sim/stats`, `POST /__sim/reset`; and Zammad's own:
//! `GET /__sim/tickets`, `POST /__sim/tickets` (add tickets), `GET /__sim/tickets/{id}`
//! (ticket, articles, tags, writes), `GET /__sim/writes`, `POST /__sim/agent_edit/{id}?tag=`,
//! `GET|PUT /__sim/search` (`{"backend": "elasticsearch"|"sql", "shape": "array"|"legacy"}`),
//! `PUT /__sim/webhook` (`{"url", "secret"}` or `null`: where the deliveries for added tickets
//! go, [`webhooks`]), `GET /__sim/webhook/deliveries` (`{"deliveries": [...]}`).
//!
//! Faults: the kit applies drops, error answers (in Zammad's error shape), delays, truncated and
//! malformed bodies. `conflict` makes a simulated agent edit the ticket (tag `sim_agent_edit`
//! added, `updated_at` moved) just before a write, which then proceeds: Zammad has no
//! optimistic concurrency, last writer wins. `agent_edit_after_read` edits every ticket a 2xx
//! answer showed. Zammad has no rate limit: no 429 unless a fault injects one.
//!
//! # Layout
//! - [`server`]: [`Simulator`], [`SimBuilder`], [`SimHandle`], [`BlockingSim`].
//! - [`api`]: routing, authentication, the endpoints, the agent faults, counters, admin routes.
//! - [`store`]: users, groups, priorities, states, tickets, articles, tags, writes; update
//!   semantics.
//! - [`shapes`]: Zammad's JSON for tickets (ids / names), articles, reference data, assets.
//! - [`search`]: backends, generations, filtering, sorting and paging of a search.
//! - [`query`]: the Elasticsearch `query_string` subset.
//! - [`condition`]: ticket selectors (`condition`), as `Selector::Sql` applies them.
//! - [`params`]: Rails-style parameters (nested query keys, JSON body merged).
//! - [`seed`]: seed files in the Zammad and the Zendesk dialect.
//! - [`auth`]: Basic, token and bearer authentication and their failures.
//! - [`stamp`]: millisecond stamps and the clock reading.
//! - [`error`]: Zammad's error answers and the library's error type.
//! - [`webhooks`]: the trigger's signed webhook deliveries (default payload, `X-Hub-Signature`)
//!   for every ticket a customer writes in.

#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod condition;
pub mod error;
pub mod params;
pub mod query;
pub mod search;
pub mod seed;
pub mod server;
pub mod shapes;
pub mod stamp;
pub mod store;
pub mod webhooks;

pub use api::{SearchConfig, Stats};
pub use auth::{
    AuthConfig, DEFAULT_BASIC_PASSWORD, DEFAULT_BASIC_USER, DEFAULT_BEARER, DEFAULT_TOKEN,
};
pub use error::{ApiError, SimError};
pub use otai_sim_kit::{Fault, FaultRule, Faults, Latency, WebhookDelivery, DEFAULT_AGENT_TAG};
pub use search::{SearchBackend, SearchShape};
pub use seed::SeedData;
pub use server::{BlockingSim, SimBuilder, SimHandle, Simulator};
pub use store::{Article, FieldChange, Ticket, WriteRecord, API_USER_ID, NOBODY_ID};
pub use webhooks::WebhookTarget;
