//! # otai-otobo-sim: an OTOBO / Znuny / OTRS 6 GenericInterface REST simulator
//!
//! A small HTTP server on 127.0.0.1 that serves the GenericInterface web service
//! (`GenericTicketConnectorREST`) otai's OTOBO adapter uses, with the semantics and answer
//! shapes read in OTOBO's own source (GPL: facts only, nothing copied): the reference data of a
//! fresh OTOBO (queues `Postmaster`/`Raw`/`Junk`/`Misc`, priorities `1 very low` .. `5 very
//! high`, states 1 `new` .. 9 `merged` with their state types), authentication **inside the
//! data** (`UserLogin` + `Password`, or a `SessionID`), operation errors as **HTTP 200**
//! `{"Error": {"ErrorCode", "ErrorMessage"}}`, transport errors and failed operations as
//! **HTTP 500** (`text/plain`), TicketSearch with `Limit` and no offset, batched TicketGet, and a
//! **non-transactional** TicketUpdate whose setters can be stopped midway by a fault. Fault
//! injection, the clock and the common admin routes come from `otai-sim-kit`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), otai_otobo_sim::SimError> {
//! use otai_otobo_sim::{Fault, FaultRule, Faults, Flavour, Routes, Simulator};
//! use serde_json::json;
//! let sim = Simulator::builder()
//!     .flavour(Flavour::Znuny)
//!     .routes(Routes::shipped())
//!     .agent("otai-agent", "secret")
//!     .queues(&["Cards", "Billing"])
//!     .multiselect_field("OTAITags")
//!     .seed_file("data/demo/helpdesk.json")
//!     .tickets(vec![json!({"Title": "Card lost", "Body": "I lost my card", "Queue": "Raw"})])
//!     .faults(Faults::none().rule(
//!         FaultRule::always(Fault::StopMidWrite { after: Some("queue".into()) })
//!             .method("PATCH")
//!             .next(1),
//!     ))
//!     .start()
//!     .await?;
//! println!("{}", sim.base_url()); // http://127.0.0.1:PORT/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST
//! # sim.shutdown().await; Ok(()) }
//! ```
//!
//! URLs: `{root}/Webservice/{Name}{route}` or `{root}/WebserviceID/{id}{route}`, `{root}` =
//! `/otobo/nph-genericinterface.pl` (OTOBO) or `/otrs/nph-genericinterface.pl` (Znuny, OTRS 6).
//! Routes ([`Routes`]): the shipped table `POST /Session` (SessionCreate), `GET /Ticket`
//! (TicketSearch), `GET /Ticket/:TicketID` (TicketGet), `PATCH /Ticket/:TicketID`
//! (TicketUpdate); Open Ticket AI's `/ticket-search`, `/ticket-get`, `/ticket-update` (any
//! method); or any table. Query parameters merge into the data (repeated keys as lists), `:Param`
//! path parameters over them, a JSON body under both (ignored for GET). No route: 500
//! `HTTP::REST Error while determine Operation for request URI '...'.`; an unknown web service:
//! an empty 500; a path outside the script: 404.
//!
//! Operations: **SessionCreate** (`{"SessionID"}`, sessions idle out), **TicketSearch**
//! ([`search`]: `{"TicketID": ["3", "1"]}` or `{}`), **TicketGet** (`TicketID` list,
//! `DynamicFields`, `AllArticles`, `ArticleOrder`, `ArticleLimit`, `ArticleSenderType`;
//! [`shapes`]), **TicketUpdate** ([`update`]: checks, then title, queue, lock, type, state,
//! customer user, priority, owner, responsible, article, dynamic fields; answer `{TicketID,
//! TicketNumber, ArticleID}`).
//!
//! Admin routes (no auth, faults or latency): the kit's `GET|PUT /__sim/faults`,
//! `PUT /__sim/clock`, `GET /__sim/stats`, `POST /__sim/reset`; and this simulator's:
//! `GET /__sim/tickets`, `POST /__sim/tickets` (add tickets), `GET /__sim/tickets/{id}` (ticket,
//! articles, writes), `GET /__sim/writes`, `POST /__sim/agent_edit/{id}?value=`,
//! `POST /__sim/sessions/expire`, `PUT /__sim/webhook` (`{"url", "secret"[, "header" |
//! "basic_user"]}` or `null`: where the deliveries for added tickets go, [`webhooks`]),
//! `GET /__sim/webhook/deliveries` (`{"deliveries": [...]}`).
//!
//! Faults: the kit applies drops, error answers (plain-text status pages), delays, truncated and
//! malformed bodies. `stop_mid_write` (`after`: a step of [`update::STEPS`], e.g. `queue`)
//! makes a TicketUpdate apply its steps up to and including that one, then answer the HTTP 500
//! of the next step's failed setter (`{"faultcode":"Server","faultstring":"Ticket state could
//! not be updated, please contact system administrator!"}`). `conflict` makes a simulated agent
//! edit the ticket (`Changed` moves, its value added to the first multiselect field) just before
//! a TicketUpdate, which then proceeds: OTOBO has no optimistic concurrency.
//! `agent_edit_after_read` edits every ticket a TicketSearch or TicketGet answer showed.
//!
//! # Layout
//! - [`server`]: [`Simulator`], [`SimBuilder`], [`SimHandle`], [`BlockingSim`].
//! - [`api`]: web service and route lookup, the operations, the agent faults, counters, admin
//!   routes.
//! - [`routes`]: [`Flavour`] (URL prefix), [`Routes`] (the route table and its matching).
//! - [`params`]: the operation's data from query, path and body; Perl's truth.
//! - [`auth`]: agents and sessions.
//! - [`store`]: reference data, queues, dynamic fields, tickets, articles, writes.
//! - [`search`]: TicketSearch's filters, sorting and limit.
//! - [`update`]: TicketUpdate's checks and its setters, one by one.
//! - [`shapes`]: TicketGet's JSON for tickets and articles; the two article models.
//! - [`seed`]: seed files in the OTOBO and the Zendesk dialect.
//! - [`stamp`]: `YYYY-MM-DD HH:MM:SS` stamps.
//! - [`error`]: operation errors (200), failures (500) and the library's error type.
//! - [`webhooks`]: the Requester's deliveries (an invoker's body on TicketCreate, the secret in
//!   a header or BasicAuth) for every ticket a customer writes in.

#![warn(missing_docs)]

// In the order of the layout above.
pub mod api;
pub mod auth;
pub mod error;
pub mod params;
pub mod routes;
pub mod search;
pub mod seed;
pub mod server;
pub mod shapes;
pub mod stamp;
pub mod store;
pub mod update;
pub mod webhooks;

pub use api::Stats;
pub use auth::{DEFAULT_AGENT_LOGIN, DEFAULT_AGENT_PASSWORD};
pub use error::{Failure, OpError, SimError};
pub use otai_sim_kit::{Fault, FaultRule, Faults, Latency, WebhookDelivery, DEFAULT_AGENT_TAG};
pub use routes::{Flavour, Operation, Routes};
pub use seed::SeedData;
pub use server::{BlockingSim, SimBuilder, SimHandle, Simulator, DEFAULT_WEBSERVICE};
pub use shapes::ArticleModel;
pub use store::{Article, FieldSet, Ticket, WriteRecord, API_USER_ID};
pub use webhooks::{WebhookAuth, WebhookTarget};
