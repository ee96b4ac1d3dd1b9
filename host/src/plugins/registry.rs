//! [`PluginRegistry`]: the plugins that loaded (and the files that did not), and construction of
//! configured ticket systems from them by `use: <plugin>:<Service>`.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use abi_stable::std_types::RResult;
use otai_plugin_api::{PluginError, ServiceKind, TicketSystemBox};

use super::{
    convert,
    foreign::ForeignTicketSystem,
    loader::{self, LoadFailure, LoadReport, LoadedModule, LoadedPlugin},
};
use crate::{
    config::{Config, TicketSystemConfig},
    lists::list_or_none,
    ticket::{TicketSystem, TicketSystemError},
};

/// Every plugin of one plugins directory.
#[derive(Debug, Clone)]
pub struct PluginRegistry {
    report: LoadReport,
}

/// A configured ticket system that could not be constructed.
#[derive(Debug, thiserror::Error)]
#[error("{}{key_path}: {problem}", file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default())]
pub struct ServiceError {
    /// The configuration file, when the system came from one.
    pub file: Option<PathBuf>,
    /// The configured name of the ticket system.
    pub system: String,
    /// Where in the configuration, e.g. `ticket_systems.zendesk.use`.
    pub key_path: String,
    /// Boxed: it is large and travels in every `Result` of construction.
    pub problem: Box<ServiceProblem>,
}

/// What went wrong constructing a ticket system.
#[derive(Debug, thiserror::Error)]
pub enum ServiceProblem {
    #[error(
        "no ticket system named `{name}` is configured; configured: {}",
        list_or_none(available)
    )]
    UnknownSystem {
        name: String,
        available: Vec<String>,
    },
    #[error("plugin `{plugin}` (wanted for service `{service}`) is not loaded from {}; loaded plugins: {}{}", dir.display(), list_or_none(available), failure_hint(failures))]
    PluginNotLoaded {
        plugin: String,
        service: String,
        dir: PathBuf,
        available: Vec<String>,
        failures: Vec<LoadFailure>,
    },
    #[error("plugin `{plugin}` ({}) has no service `{service}`; its services: {}", path.display(), list_or_none(available))]
    ServiceNotFound {
        plugin: String,
        service: String,
        path: PathBuf,
        available: Vec<String>,
    },
    #[error("plugin `{plugin}` did not construct its service `{service}` within {limit_secs} s (a constructor must return at once, without network); the call was abandoned")]
    Stalled {
        plugin: String,
        service: String,
        limit_secs: f64,
    },
    #[error("cannot start the threads for plugin `{plugin}`'s service `{service}`: {reason}")]
    NoThread {
        plugin: String,
        service: String,
        reason: String,
    },
    #[error("service `{service}` of plugin `{plugin}` is a {kind} service, not a ticket system")]
    NotATicketSystem {
        plugin: String,
        service: String,
        kind: &'static str,
    },
    #[error("plugin `{plugin}` could not construct service `{service}`: {} error: {}", error.kind, error.message)]
    Rejected {
        plugin: String,
        service: String,
        error: TicketSystemError,
    },
}

/// The longest a plugin's constructor (`new_ticket_system`, which must return at once) is waited
/// for; a system's `call_timeout` below it is the limit instead.
pub const CONSTRUCT_LIMIT: Duration = Duration::from_secs(20);

/// Calls the plugin's constructor on a thread of its own, so that one that blocks cannot hold
/// the host; `None` if it did not return within `limit` (its thread is left behind).
fn construct(
    module: LoadedModule,
    service: &str,
    params_json: String,
    limit: Duration,
) -> Option<RResult<TicketSystemBox, PluginError>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let (name, params) = (service.to_string(), params_json.clone());
    // The plugin logs through the host context from that thread: to the caller's subscriber.
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    let spawned = std::thread::Builder::new()
        .name("plugin-construct".into())
        .spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let _ = tx.send(module.new_ticket_system(&name, &params));
            })
        });
    match spawned {
        Ok(_) => rx.recv_timeout(limit).ok(),
        // No thread to spare: call it here, unguarded, as a last resort.
        Err(_) => Some(module.new_ticket_system(service, &params_json)),
    }
}

/// The load failures, which probably explain a missing plugin. One whose file name matches the
/// plugin (`libNAME.so` or `NAME.so`) is named first.
fn failure_hint(failures: &[LoadFailure]) -> String {
    if failures.is_empty() {
        return "; put the plugin's .so file into the plugins directory".to_string();
    }
    let lines: Vec<String> = failures.iter().map(|f| format!("\n    {f}")).collect();
    format!("; these files failed to load:{}", lines.concat())
}

fn library_stem(path: &Path) -> Option<&str> {
    let stem = path.file_stem()?.to_str()?;
    Some(stem.strip_prefix("lib").unwrap_or(stem))
}

impl PluginRegistry {
    /// Loads every plugin of `dir` (see [`loader::load_dir`]). Never fails: failures are kept.
    /// Blocks (dlopen, each plugin's synchronous `info`): async code calls it from
    /// `spawn_blocking`.
    pub fn load(dir: &Path) -> PluginRegistry {
        PluginRegistry {
            report: loader::load_dir(dir),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.report.dir
    }

    /// The plugins that loaded, in file-name order.
    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.report.plugins
    }

    /// The paths that did not yield a plugin, with the reason.
    pub fn failures(&self) -> &[LoadFailure] {
        &self.report.failures
    }

    pub fn plugin(&self, name: &str) -> Option<&LoadedPlugin> {
        self.report.plugins.iter().find(|p| p.name == name)
    }

    /// Logs every load failure as a warning (for commands whose output is something else).
    pub fn warn_about_failures(&self) {
        for failure in self.failures() {
            tracing::warn!(path = %failure.path.display(), reason = %failure.reason, "A plugin library did not load.");
        }
    }

    /// Constructs the ticket system `name` of `config`.
    pub fn ticket_system(
        &self,
        config: &Config,
        name: &str,
    ) -> Result<Arc<dyn TicketSystem>, ServiceError> {
        let Some(system) = config.ticket_systems.get(name) else {
            return Err(ServiceError {
                file: Some(config.file.clone()),
                system: name.to_string(),
                key_path: "ticket_systems".to_string(),
                problem: Box::new(ServiceProblem::UnknownSystem {
                    name: name.to_string(),
                    available: config.ticket_systems.keys().cloned().collect(),
                }),
            });
        };
        self.new_ticket_system(system).map_err(|mut err| {
            err.file = Some(config.file.clone());
            err
        })
    }

    /// Constructs every ticket system of `config`, returning those that worked and every error.
    pub fn ticket_systems(
        &self,
        config: &Config,
    ) -> (BTreeMap<String, Arc<dyn TicketSystem>>, Vec<ServiceError>) {
        let mut systems = BTreeMap::new();
        let mut errors = Vec::new();
        for name in config.ticket_systems.keys() {
            match self.ticket_system(config, name) {
                Ok(system) => {
                    systems.insert(name.clone(), system);
                }
                Err(err) => errors.push(err),
            }
        }
        (systems, errors)
    }

    /// Constructs one ticket system. Touches no network: plugins must not connect here. A
    /// synchronous plugin call the host cannot time out: the interface requires it to return
    /// immediately, and async code (`otai run`) calls it from `spawn_blocking` all the same.
    pub fn new_ticket_system(
        &self,
        system: &TicketSystemConfig,
    ) -> Result<Arc<dyn TicketSystem>, ServiceError> {
        let error = |problem| ServiceError {
            file: None,
            system: system.name.clone(),
            key_path: format!("{}.use", system.key_path()),
            problem: Box::new(problem),
        };
        let Some(plugin) = self.plugin(&system.plugin) else {
            let mut failures = self.failures().to_vec();
            // The failure of the plugin's own file, if there is one, is the likeliest explanation.
            failures.sort_by_key(|f| library_stem(&f.path) != Some(system.plugin.as_str()));
            return Err(error(ServiceProblem::PluginNotLoaded {
                plugin: system.plugin.clone(),
                service: system.service.clone(),
                dir: self.dir().to_path_buf(),
                available: self.plugins().iter().map(|p| p.name.clone()).collect(),
                failures,
            }));
        };
        let Some(service) = plugin.services.iter().find(|s| s.name == system.service) else {
            return Err(error(ServiceProblem::ServiceNotFound {
                plugin: plugin.name.clone(),
                service: system.service.clone(),
                path: plugin.path.clone(),
                available: plugin.services.iter().map(|s| s.name.clone()).collect(),
            }));
        };
        if service.kind != ServiceKind::TICKET_SYSTEM {
            return Err(error(ServiceProblem::NotATicketSystem {
                plugin: plugin.name.clone(),
                service: service.name.clone(),
                kind: service.kind.name(),
            }));
        }
        let params = system.params_json();
        let limit = system.call_timeout.min(CONSTRUCT_LIMIT);
        let Some(constructed) = construct(plugin.module, &system.service, params, limit) else {
            return Err(error(ServiceProblem::Stalled {
                plugin: plugin.name.clone(),
                service: system.service.clone(),
                limit_secs: limit.as_secs_f64(),
            }));
        };
        match constructed {
            RResult::ROk(inner) => {
                tracing::debug!(
                    system = %system.name,
                    plugin = %plugin.name,
                    service = %system.service,
                    "Constructed a ticket system."
                );
                let foreign = ForeignTicketSystem::new(
                    &system.name,
                    &plugin.name,
                    &system.service,
                    inner,
                    system.call_timeout,
                )
                .map_err(|e| {
                    error(ServiceProblem::NoThread {
                        plugin: plugin.name.clone(),
                        service: system.service.clone(),
                        reason: e.to_string(),
                    })
                })?;
                Ok(Arc::new(foreign))
            }
            RResult::RErr(err) => {
                let mut problem = error(ServiceProblem::Rejected {
                    plugin: plugin.name.clone(),
                    service: system.service.clone(),
                    error: convert::error_from_ffi(&system.name, err),
                });
                // A params problem is about `params`, not `use`.
                problem.key_path = format!("{}.params", system.key_path());
                Err(problem)
            }
        }
    }
}

/// `<dir>: N loaded, M failed`, the summary line of `plugins list` and `check`.
impl fmt::Display for PluginRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} loaded, {} failed",
            self.dir().display(),
            self.plugins().len(),
            self.failures().len()
        )
    }
}
