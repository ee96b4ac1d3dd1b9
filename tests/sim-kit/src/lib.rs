//! # otai-sim-kit: what otai's help-desk simulators share
//!
//! Each simulator (Zendesk: `otai-zendesk-sim`, Zammad: `otai-zammad-sim`, OTOBO / Znuny /
//! OTRS: `otai-otobo-sim`) implements [`SimApi`]:
//! its endpoints, its error shape, its rate limits and its own admin routes. The kit serves it on
//! 127.0.0.1 and owns everything else, so that a fault drill, a stopped clock or a reset means
//! the same against every help desk: latency and fault injection ([`Faults`], seeded), the
//! account's [`Clock`] (`Date` headers, stamps), request ids, the common counters
//! ([`KitStats`]) and the admin routes `/__sim/faults`, `/__sim/clock`, `/__sim/stats`,
//! `/__sim/reset` ([`admin`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use otai_sim_kit::{Bound, Fault, Faults, Reply, Req, SimApi, SimState};
//! use serde_json::json;
//!
//! struct Desk;
//! impl SimApi for Desk {
//!     fn name(&self) -> &str { "Desk" }
//!     fn serve(&self, req: &Req, _fault: Option<&Fault>) -> Reply {
//!         match (req.method.as_str(), &req.segs()[..]) {
//!             ("GET", ["api", "ping"]) => Reply::ok(json!({"pong": true})),
//!             _ => Reply::status(404, json!({"error": "not found"})),
//!         }
//!     }
//!     fn fault_error(&self, _req: &Req, status: u16, _retry_after: Option<u64>) -> Reply {
//!         Reply::status(status, json!({"error": "simulated"}))
//!     }
//! }
//!
//! # async fn demo() -> std::io::Result<()> {
//! let bound = Bound::bind(0).await?;
//! let state = Arc::new(SimState::new(Faults::none()));
//! let server = bound.serve(state, Arc::new(Desk));
//! println!("{}", server.base_url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`api`]: the [`SimApi`] trait a simulator implements, and the pipeline's order.
//! - [`agent`]: the simulated agent of the `conflict` and `agent_edit_after_read` faults
//!   ([`Shown`], [`edit_before_write`]).
//! - [`http`]: [`Req`] and [`Reply`], what routes take and give.
//! - [`server`]: [`Bound`] (bind first, to know the base URL), the accept loop, [`Server`];
//!   [`launch`], bind and serve in one.
//! - [`error`]: [`SimError`], what building or starting a simulator can fail with.
//! - [`blocking`]: [`Blocking`], a simulator on its own runtime thread.
//! - [`binary`]: what a simulator's `main` shares: stderr logging, `--port` / `--faults` /
//!   `--latency-ms` ([`binary::CommonArgs`]), the base URL as the first stdout line, running
//!   until SIGTERM or Ctrl-C; and starting a binary from a test.
//! - `pipeline`: one request through latency, admission, faults, the simulator, headers.
//! - [`admin`]: the admin routes every simulator has.
//! - [`state`]: [`SimState`], the kit's part of a running simulator.
//! - [`faults`]: the fault configuration and its JSON form.
//! - [`fault_state`]: [`FaultState`], the seeded RNG that applies it.
//! - [`mod@glob`]: the path globs of fault rules.
//! - [`clock`]: [`Clock`], the account's clock, and the `Date` header's form.
//! - [`stats`]: [`KitStats`], the common counters.
//! - [`writes`]: [`WriteLog`], a record of accepted writes for simulators that need no more.
//! - [`webhook`]: [`WebhookSender`], outgoing webhook deliveries sent in the background and
//!   recorded with their answers (what a delivery says and how it is signed is each simulator's).

#![warn(missing_docs)]

pub mod admin;
pub mod agent;
pub mod api;
pub mod binary;
pub mod blocking;
pub mod clock;
pub mod error;
pub mod fault_state;
pub mod faults;
pub mod glob;
pub mod http;
mod pipeline;
pub mod seed;
pub mod server;
pub mod state;
pub mod stats;
pub mod webhook;
pub mod writes;

pub use agent::{edit_before_write, Shown};
pub use api::{Admission, RequestKind, SimApi};
pub use blocking::{Blocking, Stop};
pub use clock::{http_date, system_now, Clock};
pub use error::SimError;
pub use fault_state::FaultState;
pub use faults::{Fault, FaultRule, Faults, JobFaults, Latency, DEFAULT_AGENT_TAG};
pub use glob::glob;
pub use http::{Reply, Req};
pub use pipeline::MALFORMED_BODY;
pub use server::{launch, Bound, Server};
pub use state::SimState;
pub use stats::KitStats;
pub use webhook::{Outgoing, WebhookDelivery, WebhookSender};
pub use writes::{WriteEntry, WriteLog};

#[cfg(test)]
mod tests;
