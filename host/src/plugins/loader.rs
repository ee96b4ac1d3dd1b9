//! Finds every `*.so` in the plugins directory and loads it, keeping a [`LoadFailure`] with a short
//! reason for each one that does not load, so that one bad file never hides the others.
//!
//! Each file goes through `lib_header_from_path(path)?.init_root_module()`: unlike
//! `RootModule::load_from_file`, which caches one module per root-module type and so would
//! hand back the first plugin for every path, this yields one module per file. Libraries are
//! never unloaded (abi_stable leaks them on purpose).
//!
//! ## Interface versions
//! Before initialising the root module, the loader reads the interface version the library
//! declares (`LibHeader::version_strings`, the `otai-plugin-api` version it was built against)
//! and checks it against the types of that version:
//! - 1.0: the frozen 1.0 types (`otai-plugin-api-v1-0`), adapted by `plugins::legacy`;
//! - 1.1 and 1.2: the frozen types of that version (`otai-plugin-api-v1-1`, `-v1-2`), adapted
//!   likewise;
//! - 1.3 and later 1.x: this host's own interface (abi_stable accepts a newer minor, whose
//!   additions stay unused);
//! - anything else: [`LoadError::Incompatible`].
//!
//! Deciding by the declared version rather than trying 1.3 and falling back to older ones: the fallback
//! would be sound (the layout check runs before the root-module constructor, and the `LibHeader`
//! caches only a constructed module, never a failure), but every 1.0 plugin would first produce
//! abi_stable's full incompatibility report, and a plugin of an unknown major would be reported
//! as the layout mismatch of the last attempt instead of by its version. Exactly one
//! `init_root_module` call is made per library, with the type of its declared version.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use abi_stable::{
    library::{lib_header_from_path, LibHeader, LibraryError},
    std_types::{RResult, RStr},
};
use otai_plugin_api::{PluginError, PluginInfo, PluginModuleRef, ServiceKind, TicketSystemBox};
use otai_plugin_api_v1_0 as v1_0;
use otai_plugin_api_v1_1 as v1_1;
use otai_plugin_api_v1_2 as v1_2;
use otai_plugin_api_v1_3 as v1_3;

use super::{host_context::host_context, legacy};

/// One service a loaded plugin offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDescription {
    pub name: String,
    pub kind: ServiceKind,
    pub description: String,
}

/// A plugin library that loaded and described itself.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The `otai-plugin-api` version the plugin was built against, e.g. `1.0.0`.
    pub interface: String,
    pub services: Vec<ServiceDescription>,
    pub path: PathBuf,
    pub module: LoadedModule,
}

/// A plugin's root module, held through the interface version it was built against. Both
/// construct current-interface services, so nothing past the loader tells them apart.
#[derive(Clone, Copy)]
pub enum LoadedModule {
    /// Built against this host's interface, or a later 1.x (whose additions stay unused).
    Current(PluginModuleRef),
    /// Built against 1.0: checked against the frozen 1.0 types and adapted (`plugins::legacy`).
    V1_0(v1_0::PluginModuleRef),
    /// Built against 1.1: checked against the frozen 1.1 types and adapted (`plugins::legacy`).
    V1_1(v1_1::PluginModuleRef),
    /// Built against 1.2: checked against the frozen 1.2 types and adapted (`plugins::legacy`).
    V1_2(v1_2::PluginModuleRef),
    /// Built against 1.3: checked against the frozen 1.3 types and adapted (`plugins::legacy`).
    V1_3(v1_3::PluginModuleRef),
}

impl LoadedModule {
    /// The plugin's name, version and services. An `extern "C"` call: a plugin that panics in it
    /// aborts the process; the interface requires plugins to catch panics, and nothing here can
    /// do better. Synchronous and unbounded: plugins must return at once (no I/O); loading runs
    /// off the async runtime anyway (`otai run` loads in `spawn_blocking`).
    fn info(self) -> PluginInfo {
        match self {
            LoadedModule::Current(module) => (module.info())(),
            LoadedModule::V1_0(module) => legacy::info_v1_0(module),
            LoadedModule::V1_1(module) => legacy::info_v1_1(module),
            LoadedModule::V1_2(module) => legacy::info_v1_2(module),
            LoadedModule::V1_3(module) => legacy::info_v1_3(module),
        }
    }

    /// Asks the plugin to construct the ticket-system service `service` from its params (a JSON
    /// object), handing it the host's logging callbacks. Synchronous and unbounded: plugins must
    /// return at once and touch no network here (the Zendesk plugin only validates its params and
    /// builds its HTTP client); async callers should still call it from `spawn_blocking`.
    pub fn new_ticket_system(
        self,
        service: &str,
        params_json: &str,
    ) -> RResult<TicketSystemBox, PluginError> {
        let (service, params_json) = (RStr::from(service), RStr::from(params_json));
        match self {
            LoadedModule::Current(module) => {
                (module.new_ticket_system())(service, params_json, host_context())
            }
            LoadedModule::V1_0(module) => {
                legacy::new_ticket_system_v1_0(module, service, params_json)
            }
            LoadedModule::V1_1(module) => {
                legacy::new_ticket_system_v1_1(module, service, params_json)
            }
            LoadedModule::V1_2(module) => {
                legacy::new_ticket_system_v1_2(module, service, params_json)
            }
            LoadedModule::V1_3(module) => {
                legacy::new_ticket_system_v1_3(module, service, params_json)
            }
        }
    }
}

impl fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("interface", &self.interface)
            .field("services", &self.services)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A file (or the directory itself) that did not yield a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadFailure {
    pub path: PathBuf,
    pub reason: LoadError,
}

impl fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// Why a path did not yield a plugin, in a sentence or two (abi_stable's own report runs to
/// about 1,300 lines; only its `Error:` lines are kept).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("the plugins directory does not exist; create it or point --plugins-dir / `plugins_dir:` elsewhere")]
    MissingDirectory,
    #[error("cannot read the plugins directory: {0}")]
    UnreadableDirectory(String),
    #[error("not a loadable shared library: {0}")]
    NotALibrary(String),
    #[error("not an otai plugin: the library does not export the `otai_plugin` root module")]
    NotAPlugin,
    #[error("built against an incompatible plugin interface: {0}; rebuild it against otai-plugin-api {version}", version = interface_version())]
    Incompatible(String),
    #[error("the plugin failed to initialise: {0}")]
    InitFailed(String),
    #[error("the plugin describes itself wrongly: {0}")]
    InvalidInfo(String),
    #[error("a plugin named `{name}` is already loaded from {}; remove one of the two files", first.display())]
    Duplicate { name: String, first: PathBuf },
    #[error("refused, not loaded: {0} (or set {allow}=1 to load such files anyway)", allow = super::trust::ALLOW_UNTRUSTED)]
    Untrusted(String),
    #[error("not loaded: {0}")]
    Crashed(String),
}

/// The interface version this host was built against, e.g. `1.1.0`.
pub fn interface_version() -> &'static str {
    <PluginModuleRef as abi_stable::library::RootModule>::VERSION_STRINGS
        .version
        .as_str()
}

/// Everything found in one plugins directory.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub dir: PathBuf,
    /// In file-name order.
    pub plugins: Vec<LoadedPlugin>,
    /// In file-name order; a missing directory is one failure naming the directory.
    pub failures: Vec<LoadFailure>,
}

/// Loads every `*.so` file directly in `dir`, sorted by file name. Subfolders are ignored.
pub fn load_dir(dir: &Path) -> LoadReport {
    let mut report = LoadReport {
        dir: dir.to_path_buf(),
        plugins: Vec::new(),
        failures: Vec::new(),
    };
    let checks = !super::trust::checks_disabled();
    if checks && dir.exists() {
        if let Some(reason) = super::trust::untrusted(dir) {
            report.failures.push(LoadFailure {
                path: dir.to_path_buf(),
                reason: LoadError::Untrusted(format!("the plugins directory is {reason}")),
            });
            return report;
        }
    } else if !checks {
        tracing::warn!(dir = %dir.display(), variable = super::trust::ALLOW_UNTRUSTED, "Plugin ownership and mode checks are off: any .so in the plugins directory is loaded.");
    }
    let files = match list_libraries(dir) {
        Ok(files) => files,
        Err(reason) => {
            report.failures.push(LoadFailure {
                path: dir.to_path_buf(),
                reason,
            });
            return report;
        }
    };
    for path in files {
        let trusted = match super::trust::untrusted_plugin(&path) {
            Some(reason) if checks => Err(LoadError::Untrusted(reason)),
            _ => Ok(()),
        };
        let loaded = trusted
            .and_then(|()| super::probe::check(&path))
            .and_then(|()| load_file(&path))
            .and_then(
                |plugin| match report.plugins.iter().find(|p| p.name == plugin.name) {
                    Some(first) => Err(LoadError::Duplicate {
                        name: plugin.name,
                        first: first.path.clone(),
                    }),
                    None => Ok(plugin),
                },
            );
        match loaded {
            Ok(plugin) => {
                // What ran, checkable afterwards against the vendor's published checksum.
                let sha256 =
                    super::trust::sha256_hex(&path).unwrap_or_else(|e| format!("unreadable ({e})"));
                tracing::info!(
                    plugin = %plugin.name,
                    version = %plugin.version,
                    path = %super::trust::describe(&path),
                    sha256 = %sha256,
                    "Loaded ticket-system plugin."
                );
                report.plugins.push(plugin);
            }
            Err(reason) => {
                tracing::debug!(path = %path.display(), %reason, "Could not load a plugin library.");
                report.failures.push(LoadFailure { path, reason });
            }
        }
    }
    report
}

fn list_libraries(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoadError::MissingDirectory)
        }
        Err(err) => return Err(LoadError::UnreadableDirectory(err.to_string())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| LoadError::UnreadableDirectory(e.to_string()))?
            .path();
        // `is_file` follows symlinks, so a link to a library counts and a folder named `x.so` does not.
        if path.extension().is_some_and(|ext| ext == "so") && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Loads one library and reads its self-description.
pub fn load_file(path: &Path) -> Result<LoadedPlugin, LoadError> {
    let header = lib_header_from_path(path).map_err(|err| classify(&err))?;
    let (interface, module) = init_root_module(header)?;
    let info = module.info();
    let name = info.name.to_string();
    if !is_name(&name) {
        return Err(LoadError::InvalidInfo(format!(
            "its name `{name}` is empty or contains `:` or whitespace"
        )));
    }
    let services = info
        .services
        .iter()
        .map(|s| ServiceDescription {
            name: s.name.to_string(),
            kind: s.kind,
            description: s.description.to_string(),
        })
        .collect::<Vec<_>>();
    if let Some(bad) = services.iter().find(|s| !is_name(&s.name)) {
        return Err(LoadError::InvalidInfo(format!(
            "plugin `{name}` has a service named `{}`, which is empty or contains `:` or whitespace",
            bad.name
        )));
    }
    Ok(LoadedPlugin {
        name,
        version: info.version.to_string(),
        interface,
        services,
        path: path.to_path_buf(),
        module,
    })
}

/// Reads the interface version the library declares and initialises its root module with the
/// types of that version. Returns the declared version and the module.
fn init_root_module(header: &LibHeader) -> Result<(String, LoadedModule), LoadError> {
    let declared = header.version_strings();
    let version = declared
        .parsed()
        .map_err(|e| LoadError::Incompatible(format!("unreadable interface version: {e}")))?;
    let ours = <PluginModuleRef as abi_stable::library::RootModule>::VERSION_STRINGS
        .parsed()
        .expect("this crate's own version is major.minor.patch");
    let module = match (version.major, version.minor) {
        (1, 0) => header
            .init_root_module::<v1_0::PluginModuleRef>()
            .map(LoadedModule::V1_0),
        (1, 1) => header
            .init_root_module::<v1_1::PluginModuleRef>()
            .map(LoadedModule::V1_1),
        (1, 2) => header
            .init_root_module::<v1_2::PluginModuleRef>()
            .map(LoadedModule::V1_2),
        (1, 3) => header
            .init_root_module::<v1_3::PluginModuleRef>()
            .map(LoadedModule::V1_3),
        (major, minor) if major == ours.major && minor >= ours.minor => header
            .init_root_module::<PluginModuleRef>()
            .map(LoadedModule::Current),
        _ => {
            return Err(LoadError::Incompatible(format!(
                "otai-plugin-api {version}; this host loads plugins built against 1.0 to {}.{} (and later {}.x)",
                ours.major, ours.minor, ours.major
            )))
        }
    };
    let module = module.map_err(|err| classify(&err))?;
    Ok((declared.version.as_str().to_string(), module))
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(':') && !name.chars().any(char::is_whitespace)
}

fn classify(err: &LibraryError) -> LoadError {
    match err {
        LibraryError::OpenError { err, .. } => LoadError::NotALibrary(err.to_string()),
        LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin,
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => LoadError::Incompatible(format!(
            "the plugin uses interface version {actual_version}, this host uses {expected_version}"
        )),
        LibraryError::ParseVersionError(e) => {
            LoadError::Incompatible(format!("unreadable interface version: {e}"))
        }
        LibraryError::InvalidAbiHeader(_) => LoadError::Incompatible(
            "the plugin was built with an incompatible abi_stable version".into(),
        ),
        LibraryError::InvalidCAbi { .. } => LoadError::Incompatible(
            "the plugin was built by a compiler with a different C ABI".into(),
        ),
        LibraryError::AbiInstability(e) => LoadError::Incompatible(condense(&e.to_string())),
        LibraryError::RootModule { err, .. } => LoadError::InitFailed(condense(&err.to_string())),
        LibraryError::Many(errors) => match errors.first() {
            Some(first) => classify(first),
            None => LoadError::InitFailed("unknown error".into()),
        },
        // LibraryError is not exhaustive across abi_stable releases.
        #[allow(unreachable_patterns)]
        other => LoadError::InitFailed(condense(&other.to_string())),
    }
}

/// Keeps the `Error:` lines of an abi_stable report, each with the `Expected:` / `Found:` values
/// that follow it (without duplicates, at most three), or else its first non-empty line.
fn condense(report: &str) -> String {
    const MAX_LINES: usize = 3;
    const MAX_CHARS: usize = 400;
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let mut errors: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(message) = line
            .strip_prefix("Error:")
            .map(str::trim)
            .filter(|m| !m.is_empty())
        else {
            continue;
        };
        let (mut expected, mut found) = (None, None);
        let following = lines[i + 1..]
            .iter()
            .take(6)
            .take_while(|l| !l.starts_with("Error:"));
        let following: Vec<&str> = following.copied().collect();
        for (j, label) in following.iter().enumerate() {
            let value = following.get(j + 1).copied().filter(|v| !v.is_empty());
            match *label {
                "Expected:" => expected = expected.or(value),
                "Found:" => found = found.or(value),
                _ => {}
            }
        }
        let text = match (expected, found) {
            (Some(e), Some(f)) => format!("{message} (expected {e}, found {f})"),
            _ => message.to_string(),
        };
        if !errors.contains(&text) {
            errors.push(text);
        }
    }
    // A bare message is redundant next to the same message with details.
    let detailed: Vec<String> = errors
        .iter()
        .filter(|e| e.ends_with(')'))
        .cloned()
        .collect();
    errors.retain(|e| {
        !detailed
            .iter()
            .any(|d| d != e && d.starts_with(&format!("{e} (")))
    });
    let total = errors.len();
    let mut text = if errors.is_empty() {
        lines
            .iter()
            .find(|l| !l.is_empty())
            .copied()
            .unwrap_or("no details")
            .to_string()
    } else {
        errors.truncate(MAX_LINES);
        let mut text = errors.join("; ");
        if total > MAX_LINES {
            text.push_str(&format!(" (and {} more)", total - MAX_LINES));
        }
        text
    };
    if text.chars().count() > MAX_CHARS {
        text = text.chars().take(MAX_CHARS).collect::<String>() + "...";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condense_keeps_error_lines_once() {
        let report = "\nlots of layout\n  Error: incompatible type size\n  more\nError: incompatible type size\nError:   field mismatch  \n";
        assert_eq!(condense(report), "incompatible type size; field mismatch");
    }

    #[test]
    fn condense_adds_expected_and_found() {
        // The shape of abi_stable's report for a root module of another layout (131 lines).
        let report = "\nError:mismatched type\n\nCompared <this>:\n    --- Type Layout ---\n    type:PrefixRef<'a, PluginModule>\n\
                      Layout of found type:\n    type:IncompatibleModule\n\n\n\nError:mismatched type\nExpected:\n    PluginModule\nFound:\n    IncompatibleModule\n";
        assert_eq!(
            condense(report),
            "mismatched type (expected PluginModule, found IncompatibleModule)"
        );
        let versions = "Error: incompatible package versions\nExpected:\n0.2.0\nFound:\n0.1.0\n";
        assert_eq!(
            condense(versions),
            "incompatible package versions (expected 0.2.0, found 0.1.0)"
        );
    }

    #[test]
    fn condense_limits_lines_and_falls_back_to_the_first_line() {
        let report = "Error: a\nError: b\nError: c\nError: d\nError: e\n";
        assert_eq!(condense(report), "a; b; c (and 2 more)");
        assert_eq!(condense("\n\n first line \nsecond"), "first line");
    }

    #[test]
    fn missing_directory_is_one_failure_naming_it() {
        let report = load_dir(Path::new("/nonexistent/otai-plugins"));
        assert!(report.plugins.is_empty());
        assert_eq!(report.failures.len(), 1);
        assert_eq!(report.failures[0].reason, LoadError::MissingDirectory);
        assert!(report.failures[0]
            .to_string()
            .starts_with("/nonexistent/otai-plugins: "));
    }
}
