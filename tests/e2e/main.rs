//! End-to-end tests: the real `otai` library and binary loading real plugin `.so` files.
//!
//! The plugins are dev-dependencies of the host, so `cargo test -p otai` builds their `.so` files
//! into `target/<profile>/deps/`, next to this test binary; [`support`] copies them into a fresh
//! temporary plugins directory per test.
//!
//! ## Layout
//! - [`desks`]: what the help-desk suites share: a pipeline over a simulator, ticket fates, the
//!   kill-and-restart helpers.
//! - [`support`]: locating the built plugins, temporary plugins directories, config helpers.
//! - [`loader`]: every way loading a plugins directory can fail, and the good plugin still loading.
//! - [`services`]: constructing ticket systems through the loader; the misbehaving plugin's modes.
//! - [`cli`]: the `otai` binary's `plugins list`, `check` and `tickets` commands.
//! - [`zendesk`]: the real Zendesk plugin through the loader against a wiremock Zendesk.
//! - [`pipeline`]: `otai run` passes through the real Zendesk plugin and the BANKING77 model.
//! - [`batch`]: batch writes through the real Zendesk plugin, and the one-by-one fallback.
//! - [`drain`]: `otai run --once` routes a backlog larger than `fetch.limit` in one run.
//! - [`drill`]: the fault drill: the pipeline against the Zendesk simulator with faults injected.
//! - [`history`]: history on the Zendesk simulator: routing learned from solved tickets against
//!   zero-history routing by label descriptions.
//! - [`lock`]: a second writing `otai run` of a pipeline is refused (naming the first) or waits.
//! - [`oauth`]: 30 seconds of `otai run` with 2-second OAuth tokens: every ticket routed once.
//! - [`serve`]: `otai serve` against the Zendesk simulator's signed webhooks: a new ticket routed
//!   seconds after its delivery; forged, stale, oversized and replayed deliveries refused.
//! - [`serving`]: what the `otai serve` tests share: the binary started and waited for, deliveries
//!   posted, the inbox read, the server stopped (its output shown when a test fails).
//! - [`shadow`]: `otai run --shadow` against the Zendesk simulator (nothing written, every ticket
//!   recorded once) and `otai evaluate --shadow` after simulated agents routed the tickets.
//! - [`otobo`]: the real OTOBO/Znuny plugin against the OTOBO simulator: the demo help desk for
//!   two flavours, the fault drill (an update stopped between its setters, a kill between otai's
//!   note and its fields), every command, history, `otai serve` after the invoker's deliveries.
//! - [`freshdesk`]: the real Freshdesk plugin against the Freshdesk simulator: the demo help desk
//!   in one pass (with and without bulk jobs), the fault drill (a kill between otai's note and its
//!   fields, a bulk job stopped midway, the rate budget), every command, history, `otai serve`
//!   after the automation rule's webhook.
//! - [`zammad`]: the real Zammad plugin against the Zammad simulator: the demo help desk in one
//!   pass, the fault drill (a kill between the `PUT` and the tags included), every command,
//!   `otai serve` after the trigger's signed webhook.

mod batch;
mod cli;
mod desks;
mod drain;
mod drill;
mod find;
mod freshdesk;
mod history;
mod language;
mod loader;
mod lock;
mod oauth;
mod otobo;
mod pipeline;
mod serve;
mod services;
mod serving;
mod shadow;
mod support;
mod template;
mod zammad;
mod zendesk;
