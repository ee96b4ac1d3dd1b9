//! What the help-desk end-to-end suites share (Zammad, OTOBO; the Zendesk drill uses the process
//! helpers): a pipeline over a simulator through the real plugin and model ([`Run`]), the fates a
//! checker gives tickets, and the `otai run --once` process helpers of the kill drills.

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command},
    sync::Arc,
    time::Duration,
};

use otai::{
    classifier::{Classifier, ClassifierOptions},
    config::Config,
    pipeline::{PassReport, Pipeline, Stop},
    plugins::PluginRegistry,
};
use otai_sim_kit::Fault;
use tempfile::TempDir;

use crate::support;

/// The pipeline `drill` of a config, through the real plugin `lib_name`, and its pass reports.
pub struct Run {
    pub pipeline: Pipeline,
    pub reports: Vec<PassReport>,
    _plugins: TempDir,
}

impl Run {
    /// Loads `yaml` (pipeline `drill` on ticket system `system`) with a plugins directory holding
    /// only `lib_name`, and the pipeline's model through ONNX Runtime.
    pub fn start(lib_name: &str, system: &str, yaml: &str) -> Run {
        let plugins = support::plugins_dir(&[lib_name]);
        let config = Config::parse(yaml, Path::new("drill.yml"), &|_| Ok(None))
            .expect("the configuration loads");
        let p = config.pipelines["drill"].clone();
        let registry = PluginRegistry::load(plugins.path());
        assert!(registry.failures().is_empty(), "{:?}", registry.failures());
        let system = registry.ticket_system(&config, system).unwrap();
        let classifier = Classifier::load(&p.model, &ClassifierOptions::default())
            .expect("the demo model loads through ONNX Runtime");
        Run {
            pipeline: Pipeline::new(p, system, Arc::new(classifier)),
            reports: Vec::new(),
            _plugins: plugins,
        }
    }

    /// One pass; its report is kept and printed.
    pub async fn pass(&mut self) -> &PassReport {
        let report = self.pipeline.pass(false, &Stop::never()).await;
        println!("pass {}: {report}", self.reports.len() + 1);
        self.reports.push(report);
        self.reports.last().unwrap()
    }

    /// Passes until one fetches nothing and fails nothing, at most `max`; whether it got there.
    pub async fn passes_until_quiet(&mut self, max: usize) -> bool {
        for _ in 0..max {
            let r = self.pass().await;
            if r.failure.is_none() && r.summary.fetched == 0 {
                return true;
            }
        }
        false
    }
}

/// A simulator and the pipeline over it; passes go through [`Run`] (`desk.pass()`). Each suite
/// adds its own `start` for its simulator's handle.
pub struct Desk<S> {
    pub sim: S,
    run: Run,
}

impl<S> Desk<S> {
    /// `sim` with the pipeline `run` over it.
    pub fn new(sim: S, run: Run) -> Desk<S> {
        Desk { sim, run }
    }
}

impl<S> std::ops::Deref for Desk<S> {
    type Target = Run;

    fn deref(&self) -> &Run {
        &self.run
    }
}

impl<S> std::ops::DerefMut for Desk<S> {
    fn deref_mut(&mut self) -> &mut Run {
        &mut self.run
    }
}

/// What otai did to a ticket, as a checker reads it from a simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// Classified and written: one note, every field and tag of the decision.
    Written,
    /// Tagged failed, with its note.
    MarkedFailed,
    /// Routed by hand: the routed tag only.
    Routed,
    /// Nothing of otai's.
    Untouched,
}

/// Fates of every ticket.
pub type Fates = BTreeMap<u64, Fate>;

/// How many tickets met `fate`.
pub fn count(fates: &Fates, fate: Fate) -> usize {
    fates.values().filter(|f| **f == fate).count()
}

/// An injected error answer with this status.
pub fn error(status: u16) -> Fault {
    Fault::Error {
        status,
        retry_after: None,
    }
}

/// `otai run --once` in `cwd` with `config` and `plugins`, without the caller's `RUST_LOG`.
pub fn otai_once(cwd: &Path, config: &Path, plugins: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_otai"));
    cmd.args(["run", "--once", "--config"])
        .arg(config)
        .arg("--plugins-dir")
        .arg(plugins)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("OTAI_CONFIG");
    cmd
}

/// Kills (SIGKILL) `child` as soon as `ready` holds, polling every 5 ms for at most 30 s; panics
/// if it ends first or never gets there.
pub async fn kill_when(mut child: Child, run: usize, ready: impl Fn() -> bool) {
    for _ in 0..6000 {
        if ready() {
            child.kill().expect("SIGKILL otai");
            let status = child.wait().unwrap();
            assert!(!status.success(), "run {run} was killed: {status}");
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("run {run} ended before it could be killed: {status}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("run {run} never reached the point it was to be killed at");
}

/// `otai run --once` again and again (runs `first..=last`), as cron would, until a run of
/// pipeline `drill` fetches nothing; whether it got there.
pub async fn runs_until_quiet(
    cwd: &Path,
    config: &Path,
    plugins: &Path,
    runs: std::ops::RangeInclusive<usize>,
) -> bool {
    for run in runs {
        let mut cmd = otai_once(cwd, config, plugins);
        let output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("run otai");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "run {run}:\n{stdout}\n{stderr}");
        println!("run {run}: {}", stdout.trim());
        if stdout.contains("pipeline drill: fetched 0,") {
            return true;
        }
    }
    false
}

/// A runner of the `otai` binary in `cwd` with `config` and `plugins` on a blocking thread, for
/// async tests: `otai(&["check", "--connect"]).await` gives (stdout, stderr) or panics with them.
pub fn otai_runner(
    cwd: &Path,
    config: &Path,
    plugins: &Path,
) -> impl Fn(&[&str]) -> tokio::task::JoinHandle<(String, String)> {
    let (cwd, config, plugins) = (
        cwd.to_path_buf(),
        config.to_path_buf(),
        plugins.to_path_buf(),
    );
    move |args: &[&str]| {
        let (cwd, config, plugins) = (cwd.clone(), config.clone(), plugins.clone());
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            support::run_otai(&cwd, &config, &plugins, &args)
        })
    }
}

/// `otai check` passes on each of the repository's `configs` through the real plugin `lib_name`,
/// with `env` set (the variables their templates read).
pub fn assert_configs_pass_check(lib_name: &str, configs: &[&str], env: &[(&str, &str)]) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    support::demo_model("the shipped configs name the demo model; `otai check` needs");
    let plugins = support::plugins_dir(&[lib_name]);
    for config in configs {
        let mut command =
            support::otai_command(&repo, &repo.join(config), plugins.path(), &["check"]);
        for (k, v) in env {
            command.env(k, v);
        }
        let output = command.output().unwrap();
        let out = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{config}:\n{out}");
    }
}

/// A config refused for its credentials: `otai check --connect` fails, naming `expected`, never
/// `secret`.
pub fn assert_refused_credentials(
    cwd: &Path,
    config: &Path,
    plugins: &Path,
    expected: &[&str],
    secret: &str,
) {
    let output = support::otai_command(cwd, config, plugins, &["check", "--connect"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{err}");
    for part in expected {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(!err.contains(secret), "{err}");
}
