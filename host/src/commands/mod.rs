//! One module per subcommand; [`run`] dispatches a parsed [`Cli`] to them.
//!
//! Commands write their findings to the `out` they are given (stdout in the binary) and log to
//! stderr. They use `anyhow`: they are the application's edge, where errors from the library's
//! own types are only reported, never matched on.
//!
//! ## Layout
//! - [`plugins`]: `otai plugins list`.
//! - [`check`]: `otai check [--connect]`.
//! - [`tickets`]: `otai tickets find|get|update|note`.
//! - [`run`]: `otai run [--once] [--dry-run] [--pipeline NAME]`.
//! - [`classify`]: `otai classify TEXT | --file FILE`.
//! - [`train`]: `otai train --data FILE --out DIR` or `--system NAME --since 180d`.
//! - [`promote`]: `otai train --system NAME --promote LINK`, the comparison and the link.
//! - [`evaluate`]: `otai evaluate --data FILE | --shadow FILE`.

pub mod check;
pub mod classify;
pub mod evaluate;
pub mod plugins;
pub mod promote;
pub mod run;
pub mod run_table;
pub mod tickets;
pub mod train;

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context as _;

use crate::{
    cli::{Cli, Command, PluginsCommand},
    config::{resolve_plugins_dir, Config, ConfigError, RawConfig, DEFAULT_CONFIG_PATH},
};

/// What every command needs from the global flags.
#[derive(Debug, Clone)]
pub struct Context {
    /// `--config` / `OTAI_CONFIG`, if given.
    pub config_flag: Option<PathBuf>,
    /// `--plugins-dir`, if given.
    pub plugins_dir_flag: Option<PathBuf>,
}

impl Context {
    pub fn from_cli(cli: &Cli) -> Context {
        Context {
            config_flag: cli.config.clone(),
            plugins_dir_flag: cli.plugins_dir.clone(),
        }
    }

    /// The configuration file in use.
    pub fn config_path(&self) -> &Path {
        self.config_flag
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_CONFIG_PATH))
    }

    /// Loads, renders and validates the configuration.
    pub fn load_config(&self) -> Result<Config, ConfigError> {
        Config::load(self.config_path())
    }

    /// The plugins directory for a loaded configuration.
    pub fn plugins_dir(&self, config: &Config) -> PathBuf {
        resolve_plugins_dir(
            self.plugins_dir_flag.as_deref(),
            config.plugins_dir.as_deref(),
        )
    }

    /// The plugins directory without needing a valid, fully rendered configuration: the flag if
    /// given, else `plugins_dir:` of the configuration file if there is one, else the default.
    /// A missing default configuration file is fine; a missing named one is an error.
    pub fn plugins_dir_without_config(&self) -> Result<PathBuf, ConfigError> {
        if let Some(flag) = &self.plugins_dir_flag {
            return Ok(flag.clone());
        }
        let path = self.config_path();
        if self.config_flag.is_none() && !path.exists() {
            return Ok(resolve_plugins_dir(None, None));
        }
        let configured = RawConfig::load(path)?.rendered_plugins_dir(path)?;
        Ok(resolve_plugins_dir(None, configured.as_deref()))
    }
}

/// Runs one parsed command line, writing command output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    let ctx = Context::from_cli(&cli);
    match cli.command {
        Command::Plugins(PluginsCommand::List) => plugins::list(&ctx, out),
        Command::Plugins(PluginsCommand::Probe { path }) => {
            crate::plugins::loader::load_file(&path)
                .map(drop)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        Command::Check(args) => runtime()?.block_on(check::check(&ctx, &args, out)),
        Command::Tickets(command) => runtime()?.block_on(tickets::run(&ctx, *command, out)),
        Command::Run(args) => runtime()?.block_on(run::run(&ctx, &args, out)),
        Command::Serve(args) => runtime()?.block_on(run::serve(&ctx, &args, out)),
        // Both block on the classifier's own thread; no async runtime needed.
        Command::Classify(args) => classify::classify(&args, out),
        Command::Train(args) => train::train(&ctx, &args, out),
        Command::Evaluate(args) => evaluate::evaluate(&ctx, &args, out),
    }
}

/// Plugins drive their own I/O on their own runtimes; the host only awaits and times out, so a
/// small runtime is plenty.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
