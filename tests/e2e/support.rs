//! Helpers shared by the end-to-end tests.
//!
//! For the Zendesk end-to-end test: `plugins_dir(&[ZENDESK])` gives a temporary plugins directory
//! holding `libotai_zendesk.so`; `PluginRegistry::load(dir.path())` loads it and
//! `registry.new_ticket_system(&system_config(..))` constructs a ticket system from params.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use otai::config::TicketSystemConfig;
use serde_json::{Map, Value};
use tempfile::TempDir;

/// Library names (the `[lib] name` of each crate) of the plugins built for the tests.
pub const MISBEHAVING: &str = "otai_test_misbehaving";
pub const INCOMPATIBLE: &str = "otai_test_incompatible";
pub const ZENDESK: &str = "otai_zendesk";
/// Built against the frozen plugin API 1.0.0 (tests/plugins/legacy-1-0).
pub const LEGACY: &str = "otai_test_legacy";

/// The Zendesk plugin's ticket-system service.
pub const ZENDESK_SERVICE: &str = "ZendeskTicketsystemService";

/// The misbehaving plugin's ticket-system service.
pub const MISBEHAVING_SERVICE: &str = "MisbehavingService";

/// Where cargo put the dev-dependency cdylibs: the test binary's own directory
/// (`target/<profile>/deps/`).
pub fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    exe.parent()
        .expect("the test binary lives in a directory")
        .to_path_buf()
}

/// The BANKING77 demo model folder; panics, saying that `needed_by` (e.g. "the fault drill needs")
/// it, when it has not been built.
pub fn demo_model(needed_by: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/banking77");
    assert!(
        dir.join("otai-model.json").is_file(),
        "{} is missing: {needed_by} the BANKING77 demo model; build it with `bash models/setup.sh`",
        dir.display()
    );
    dir
}

/// The built `.so` of a plugin crate, by library name.
pub fn built_plugin(lib_name: &str) -> PathBuf {
    let path = deps_dir().join(format!("lib{lib_name}.so"));
    assert!(
        path.is_file(),
        "{} is missing: the plugin crate must be a dev-dependency of the host so that `cargo test -p otai` builds it",
        path.display()
    );
    path
}

/// A fresh plugins directory holding a copy of each named plugin as `lib<name>.so`.
pub fn plugins_dir(lib_names: &[&str]) -> TempDir {
    let dir = TempDir::new().expect("create a temporary plugins directory");
    for name in lib_names {
        copy_plugin(dir.path(), name, &format!("lib{name}.so"));
    }
    dir
}

/// Copies the built plugin `lib_name` into `dir` under `file_name`.
pub fn copy_plugin(dir: &Path, lib_name: &str, file_name: &str) -> PathBuf {
    let target = dir.join(file_name);
    std::fs::copy(built_plugin(lib_name), &target).expect("copy a plugin library");
    target
}

/// A ticket-system config for `use: plugin:service` with the given params.
pub fn system_config(
    name: &str,
    plugin: &str,
    service: &str,
    params: Value,
    call_timeout: Duration,
) -> TicketSystemConfig {
    let params: Map<String, Value> = match params {
        Value::Object(map) => map,
        other => panic!("params must be a JSON object, got {other}"),
    };
    TicketSystemConfig::new(name, plugin, service, params, call_timeout)
}

/// The misbehaving plugin's service in `mode` (`ok`, `panic`, `hang`, `garbage`).
pub fn misbehaving(name: &str, mode: &str, call_timeout: Duration) -> TicketSystemConfig {
    system_config(
        name,
        MISBEHAVING,
        MISBEHAVING_SERVICE,
        serde_json::json!({"mode": mode}),
        call_timeout,
    )
}

/// A valid shared library that is not an otai plugin, present on any Debian/Ubuntu machine.
pub fn system_library() -> PathBuf {
    let candidates = [
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/aarch64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("a system library (libz or libm) to use as a non-otai library")
}
