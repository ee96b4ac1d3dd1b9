//! # otai: on-premise ticket AI
//!
//! Reads tickets from a help desk through an adapter plugin, classifies them with a local model and
//! writes the result back.
//!
//! ## Layout
//! - [`cli`]: the command line as clap types.
//! - [`commands`]: one module per subcommand (`plugins list`, `check`, `tickets ...`, `run`,
//!   `classify`, `train`).
//! - [`logging`]: the `tracing` subscriber on stderr.
//! - [`config`]: the YAML configuration, raw (serde) to validated, with `{{ get_env('X') }}` templates.
//! - [`plugins`]: finds and loads adapter `.so` files and wraps their services in native types.
//! - [`ticket`]: the ticket model (the adapter SDK's native types) and the async `TicketSystem` trait the rest of the host uses.
//! - [`history`]: a help desk's ticket history pulled through its adapter and labelled (`otai train --system`).
//! - [`classifier`]: ONNX encoder + classification heads (ort + tokenizers on their own thread).
//! - [`pipeline`]: fetch, classify, decide and write back, pass after pass (`otai run`).
//! - [`serve`]: `otai serve`: the pipelines plus an HTTP server for verified webhooks and health.
//! - `lists`: lists in messages.

pub mod classifier;
pub mod cli;
pub mod commands;
pub mod config;
pub mod history;
mod lists;
pub mod logging;
pub mod pipeline;
pub mod plugins;
pub mod serve;
pub mod ticket;
