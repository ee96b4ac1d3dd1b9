//! Helpers shared by the end-to-end tests.
//!
//! For the Zendesk end-to-end test: `plugins_dir(&[ZENDESK])` gives a temporary plugins directory
//! holding `libotai_zendesk.so`; `PluginRegistry::load(dir.path())` loads it and
//! `registry.new_ticket_system(&system_config(..))` constructs a ticket system from params.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use otai::config::TicketSystemConfig;
use otai_zendesk_sim::{DEFAULT_EMAIL, DEFAULT_TOKEN};
use serde_json::{Map, Value};
use tempfile::TempDir;

/// Library names (the `[lib] name` of each crate) of the plugins built for the tests.
pub const MISBEHAVING: &str = "otai_test_misbehaving";
pub const INCOMPATIBLE: &str = "otai_test_incompatible";
/// Its `info` panics without a guard: loading it aborts the loading process.
pub const ABORTING: &str = "otai_test_aborting";
pub const ZENDESK: &str = "otai_zendesk";
/// The Zammad adapter.
pub const ZAMMAD: &str = "otai_zammad";
/// The OTOBO, Znuny and OTRS 6 adapter.
pub const OTOBO: &str = "otai_otobo_znuny";
/// The Freshdesk adapter.
pub const FRESHDESK: &str = "otai_freshdesk";
/// Built against the frozen plugin API 1.0.0 (tests/plugins/legacy-1-0).
pub const LEGACY: &str = "otai_test_legacy";
/// Built against the frozen plugin API 1.1.0 (tests/plugins/legacy-1-1).
pub const LEGACY_1_1: &str = "otai_test_legacy_1_1";
/// Built against the frozen plugin API 1.2.0 (tests/plugins/legacy-1-2).
pub const LEGACY_1_2: &str = "otai_test_legacy_1_2";
/// Built against the frozen plugin API 1.3.0 (`tests/plugins/legacy-1-3`).
pub const LEGACY_1_3: &str = "otai_test_legacy_1_3";

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
    // Writable by its owner only, whatever the umask: otai refuses plugins others could have written.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
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

/// The Zendesk groups of the BANKING77 demo queues, plus a non-inbox queue (`Billing`) and the inbox.
pub const BANKING_GROUPS: &[&str] = &[
    "Cards",
    "Card payments",
    "Disputes",
    "Transfers",
    "Top-ups",
    "Cash and ATM",
    "Exchange",
    "Account security",
    "Unclassified",
    "Billing",
    "Inbox",
];

/// A pipeline's `fields:` (indented for a pipeline under `pipelines:`) routing the demo model's queue
/// onto [`BANKING_GROUPS`], its priority, and its intent as a tag.
pub const BANKING_FIELDS_YAML: &str = "    fields:
      queue:
        action: queue
        map:
          cards: Cards
          card_payments: Card payments
          disputes: Disputes
          transfers: Transfers
          top_ups: Top-ups
          cash_atm: Cash and ATM
          exchange: Exchange
          account_security: Account security
        fallback: Unclassified
      priority:
        action: priority
        fallback: normal
      intent:
        action: tag
";

/// BANKING77-style requests: what the fault drills' unrouted tickets say (every drill seeds one
/// ticket per text).
pub const DRILL_TEXTS: &[&str] = &[
    "My card was stolen yesterday, please block it immediately",
    "Why was I charged a fee for my transfer?",
    "How long does it take for my new card to arrive?",
    "How do I activate my card?",
    "I was charged twice for the same purchase in a shop",
    "The ATM did not give me my cash but my account was debited",
    "My top-up failed, what should I do?",
    "What exchange rate do you use when I pay abroad?",
    "Someone else is using my account, I see payments I never made",
    "My transfer to a friend has not arrived yet",
];

/// Customer requests in plain words, one per demo queue or so.
pub const REQUEST_TEXTS: &[&str] = &[
    "My card was stolen yesterday, please block it immediately",
    "Why was I charged a fee for my transfer?",
    "How do I activate my card?",
    "The ATM did not give me my cash but my account was debited",
    "My top-up failed, what should I do?",
    "My transfer to a friend has not arrived yet",
];

/// A config with the Zendesk simulator at `base_url` as `zendesk` and one pipeline `pipeline` routing
/// the demo model's queue, priority and intent onto [`BANKING_GROUPS`].
pub fn banking_sim_config(base_url: &str, pipeline: &str) -> String {
    format!(
        r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    call_timeout: 60
    params:
      base_url: {base_url}
      email: {DEFAULT_EMAIL}
      api_token: {DEFAULT_TOKEN}
      timeout: 10
pipelines:
  {pipeline}:
    ticket_system: zendesk
    model: {model}
    inbox_queues: ["Inbox"]
{BANKING_FIELDS_YAML}"#,
        model = demo_model("a pipeline over the Zendesk simulator needs").display()
    )
}

/// The `otai` binary in `cwd` with `args`, `--config` and `--plugins-dir`, without the caller's
/// `RUST_LOG` and `OTAI_CONFIG`; output piped when spawned.
pub fn otai_command(cwd: &Path, config: &Path, plugins: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_otai"));
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--plugins-dir")
        .arg(plugins)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("OTAI_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// Runs the `otai` binary in `cwd` with `--config` and `--plugins-dir`; panics with its output unless
/// it succeeds; returns stdout and stderr.
pub fn run_otai(cwd: &Path, config: &Path, plugins: &Path, args: &[&str]) -> (String, String) {
    let output = otai_command(cwd, config, plugins, args)
        .output()
        .expect("run otai");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "otai {args:?} failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

/// The sha256 of a file, by the system's `sha256sum` (independent of otai's own).
pub fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The Zendesk simulator holding `tickets` in [`BANKING_GROUPS`], a plugins directory with the real
/// Zendesk plugin, and a working directory whose `<pipeline>.yml` is [`banking_sim_config`].
pub struct BankingDesk {
    pub sim: otai_zendesk_sim::SimHandle,
    pub plugins: TempDir,
    pub cwd: TempDir,
    pub config: PathBuf,
}

impl BankingDesk {
    pub async fn start(tickets: Vec<Value>, pipeline: &str) -> BankingDesk {
        let sim = otai_zendesk_sim::Simulator::builder()
            .groups(BANKING_GROUPS)
            .tickets(tickets)
            .start()
            .await
            .expect("the simulator starts");
        let plugins = plugins_dir(&[ZENDESK]);
        let cwd = TempDir::new().unwrap();
        let config = cwd.path().join(format!("{pipeline}.yml"));
        std::fs::write(&config, banking_sim_config(sim.base_url(), pipeline)).unwrap();
        BankingDesk {
            sim,
            plugins,
            cwd,
            config,
        }
    }
}

/// The first `per_label` rows of each of `labels` in a `text,<label column>` CSV, as `text,label`.
pub fn csv_subset(path: &std::path::Path, labels: &[&str], per_label: usize) -> String {
    let mut out = String::from("text,label\n");
    let mut taken = std::collections::HashMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines().skip(1) {
        let Some((text, label)) = line.rsplit_once(',') else {
            continue;
        };
        let n = taken.entry(label.to_string()).or_insert(0usize);
        if labels.contains(&label) && *n < per_label {
            *n += 1;
            out.push_str(&format!("{text},{label}\n"));
        }
    }
    assert!(taken.len() >= labels.len());
    out
}

/// `otai train --data DATA --out OUT` with the English encoder (`models/minilm-l6-int8`) and
/// `extra` flags, in `cwd`; panics with its stderr unless it succeeds.
pub fn train_from_data(cwd: &Path, data: &Path, out: &Path, extra: &[&str]) {
    let encoder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/minilm-l6-int8");
    let output = Command::new(env!("CARGO_BIN_EXE_otai"))
        .arg("train")
        .args(extra)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(encoder)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .expect("run otai");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
