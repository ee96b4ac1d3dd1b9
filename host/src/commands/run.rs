//! `otai run [--once [--max-passes N]] [--dry-run] [--shadow [--shadow-file FILE]] [--pipeline NAME]
//! [--grace SECS] [--wait-lock]`: the configured pipelines, every interval until SIGINT/SIGTERM.
//! A writing run holds each pipeline's lock ([`crate::pipeline::lock`]): a second one exits with an
//! error naming the holder, or waits with `--wait-lock`.
//!
//! `--shadow` runs passes as `--dry-run` does and records each classified ticket once in a shadow file
//! (see [`crate::pipeline::shadow`]); nothing is tagged, so the fetch keeps returning the same tickets.
//!
//! Everything that can be checked is checked before the first pass: configuration, plugins,
//! models (fields and mapped labels), and every problem is listed at once.
//!
//! `otai serve [--listen ADDR] ...` runs the same, plus the HTTP server of [`crate::serve`]
//! beside the pipelines (webhooks feed them; `/healthz`, `/readyz`).

use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use anyhow::{anyhow, bail, Context as _};
use tracing::info;

use super::{run_table::TableView, Context};
use crate::{
    classifier::ClassifierOptions,
    cli::{RunArgs, ServeArgs},
    config::{Config, PipelineConfig},
    pipeline::{self, PassReport, RunOptions, TicketReport, WriteResult},
    plugins::PluginRegistry,
};

pub async fn run(ctx: &Context, args: &RunArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    drive(ctx, args, None, signal_watch(), out).await.map(drop)
}

/// Becomes true on SIGINT or SIGTERM. One listener for the whole process, so that a signal
/// that comes while `otai serve` reloads is not missed.
fn signal_watch() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tx.send_replace(true);
    });
    rx
}

/// `otai serve`: the pipelines of `run`, and the HTTP server. SIGHUP checks the configuration
/// file again: a valid one restarts the pipelines and the server with it (after the write
/// batches in flight finish, as on SIGTERM); a bad one is reported and the running one goes on.
pub async fn serve(ctx: &Context, args: &ServeArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let terminate = signal_watch();
    loop {
        match drive(ctx, &args.run_args(), Some(args), terminate.clone(), out).await? {
            Ended::Stopped => return Ok(()),
            Ended::Reload => {
                info!(file = %ctx.config_path().display(), "Reloading: starting again with the new configuration.")
            }
        }
    }
}

/// Why [`drive`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// SIGINT/SIGTERM, or `--once` done.
    Stopped,
    /// SIGHUP with a valid new configuration (`otai serve` only).
    Reload,
}

/// The configuration and the classifier options, checked as far as they can be before any
/// pipeline starts (models fit their fields, state files not shared); every problem at once.
fn checked_config(
    ctx: &Context,
    args: &RunArgs,
) -> anyhow::Result<(Arc<Config>, ClassifierOptions)> {
    let config = Arc::new(ctx.load_config()?);
    let selected = select(&config, args.pipeline.as_deref())?;
    let mut classifier_options = ClassifierOptions::default();
    classifier_options.encoder.ort_library = config.onnxruntime.clone();
    let mut problems = Vec::new();
    for p in &selected {
        if let Err(found) = pipeline::assemble::fit_model(&config, p, &classifier_options.hf_field)
        {
            problems.extend(found);
        }
    }
    problems.extend(shared_state_files(&config));
    if !problems.is_empty() {
        bail!(
            "the pipelines cannot run ({} problem(s)):\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        );
    }
    Ok((config, classifier_options))
}

async fn drive(
    ctx: &Context,
    args: &RunArgs,
    serving: Option<&ServeArgs>,
    terminate: tokio::sync::watch::Receiver<bool>,
    out: &mut dyn Write,
) -> anyhow::Result<Ended> {
    if !(args.grace.is_finite() && args.grace >= 0.0) {
        bail!("--grace must be a number of seconds, 0 or more");
    }
    // Shared with the blocking tasks that construct ticket systems.
    let (config, classifier_options) = checked_config(ctx, args)?;
    let selected = select(&config, args.pipeline.as_deref())?;
    // Where the models are, before they load: a promotion from now on is noticed.
    let models: Vec<PathBuf> = selected.iter().map(|p| p.model.clone()).collect();
    let models_at_start = (models.clone(), model_targets(&models));

    // One writing instance per pipeline, before any state is read (dry and shadow runs write
    // nothing). Held until this function returns; released by the OS however the process ends.
    let mut _locks = Vec::new();
    if !(args.dry_run || args.shadow) {
        for p in &selected {
            let (p, wait) = ((*p).clone(), args.wait_lock);
            let lock =
                tokio::task::spawn_blocking(move || pipeline::lock::acquire(&p, wait)).await??;
            _locks.push(lock);
        }
    }

    // Loading plugins (dlopen and each plugin's `info`) blocks: it runs on the blocking pool.
    let plugins_dir = ctx.plugins_dir(&config);
    let registry =
        Arc::new(tokio::task::spawn_blocking(move || PluginRegistry::load(&plugins_dir)).await?);
    registry.warn_about_failures();
    let mut table = args
        .table
        .then(|| TableView::new(std::io::IsTerminal::is_terminal(&std::io::stderr())));
    let mut pipelines =
        pipeline::assemble::assemble(&config, &selected, &registry, &classifier_options).await?;
    if let Some(table) = &mut table {
        for p in &mut pipelines {
            if let Some(progress) = table.watch(p.config()) {
                p.watch_progress(progress);
            }
        }
    }

    // Shadow mode: one recorder per pipeline (pipelines sharing a file share a recorder).
    let mut recorders: HashMap<PathBuf, pipeline::shadow::ShadowRecorder> = HashMap::new();
    let mut shadow_files: HashMap<String, PathBuf> = HashMap::new();
    if args.shadow {
        for p in &pipelines {
            let file = args
                .shadow_file
                .clone()
                .unwrap_or_else(|| pipeline::shadow::default_file(p.name()));
            if !recorders.contains_key(&file) {
                recorders.insert(file.clone(), pipeline::shadow::ShadowRecorder::open(&file)?);
            }
            info!(pipeline = %p.name(), file = %file.display(), "Shadow mode: recording decisions, writing nothing.");
            shadow_files.insert(p.name().to_string(), file);
        }
    }
    // The audit log of every writing pipeline (pipelines naming one file share it).
    let mut audit_logs: HashMap<PathBuf, pipeline::audit::AuditLog> = HashMap::new();
    let mut audit_files: HashMap<String, (PathBuf, String)> = HashMap::new();
    if !(args.dry_run || args.shadow) {
        for p in &pipelines {
            let Some(file) = p.config().audit_log.clone() else {
                continue;
            };
            if !audit_logs.contains_key(&file) {
                let log = pipeline::audit::AuditLog::open(&file).with_context(|| {
                    format!(
                        "{}: {}.audit_log: cannot open {}",
                        config.file.display(),
                        p.config().key_path(),
                        file.display()
                    )
                })?;
                audit_logs.insert(file.clone(), log);
            }
            let model = p.config().model.display().to_string();
            audit_files.insert(p.name().to_string(), (file, model));
        }
    }
    let options = RunOptions {
        once: args.once,
        max_passes: args.max_passes,
        dry_run: args.dry_run || args.shadow,
        grace: Duration::from_secs_f64(args.grace),
    };
    let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
    let shutdown_tx = Arc::new(shutdown_tx);
    let reload = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut signal_tasks = vec![tokio::spawn({
        let shutdown_tx = shutdown_tx.clone();
        async move {
            stopped(terminate).await;
            shutdown_tx.send_replace(true);
        }
    })];
    if serving.is_some() {
        signal_tasks.push(tokio::spawn(reload_on_hangup(
            ctx.clone(),
            args.clone(),
            shutdown_tx.clone(),
            reload.clone(),
        )));
        signal_tasks.push(tokio::spawn(reload_on_promotion(
            ctx.clone(),
            args.clone(),
            models_at_start,
            shutdown_tx.clone(),
            reload.clone(),
        )));
    }
    let (pipelines, feeds, server) = match serving {
        None => (pipelines, HashMap::new(), None),
        Some(serve_args) => {
            let (pipelines, feeds, server) =
                start_server(&config, serve_args, pipelines, shutdown.clone()).await?;
            (pipelines, feeds, Some(server))
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = tokio::spawn(pipeline::run_fed(
        pipelines,
        feeds,
        options,
        stopped(shutdown),
        tx,
    ));
    let mut drains: BTreeMap<String, Drain> = BTreeMap::new();
    while let Some(report) = rx.recv().await {
        if let Some(server) = &server {
            server.state.observe(&report);
        }
        if args.once {
            let limit = config
                .pipelines
                .get(&report.pipeline)
                .map_or(u64::MAX, |p| p.fetch.limit);
            drains
                .entry(report.pipeline.clone())
                .or_default()
                .add(&report, limit);
        }
        match &table {
            Some(table) => table.print(out, &report)?,
            None => print_report(out, &report)?,
        }
        if let Some((file, model)) = audit_files.get(&report.pipeline) {
            let log = audit_logs.get_mut(file).expect("an audit log per file");
            // A service keeps going; the write happened either way, and the log line says so.
            if let Err(e) = log.record(&report, model) {
                tracing::error!(pipeline = %report.pipeline, file = %log.path().display(), error = %e, "Cannot append to the audit log.");
            }
        }
        if let Some(file) = shadow_files.get(&report.pipeline) {
            let recorder = recorders.get_mut(file).expect("a recorder per shadow file");
            let recorded = match config.pipelines.get(&report.pipeline) {
                Some(p) => recorder.record(p, &report),
                None => Err(anyhow!("no configuration for pipeline {}", report.pipeline)),
            };
            match recorded {
                Ok(new) => writeln!(
                    out,
                    "shadow: recorded {new} new ticket(s) of pipeline {} in {}",
                    report.pipeline,
                    file.display()
                )?,
                // A service keeps going; the next pass records what this one could not.
                Err(e) => tracing::error!(
                    pipeline = %report.pipeline,
                    file = %file.display(),
                    error = %format!("{e:#}"),
                    "Cannot record shadow decisions."
                ),
            }
        }
    }
    let outcome = runner
        .await
        .context("the pipeline runner stopped unexpectedly")?;
    if let Some(server) = server {
        server.stop().await;
    }
    // The next drive (after a reload) listens for its own signals.
    for task in signal_tasks {
        task.abort();
    }
    for (name, drain) in &drains {
        drain.print(out, name, args.max_passes)?;
    }
    // A supervisor (systemd, Kubernetes) restarts a service that exits non-zero; one whose
    // pipelines died must not look like a clean stop.
    if outcome.panicked > 0 {
        bail!(
            "{} pipeline task(s) panicked and stopped (reasons in the log); exiting non-zero so a \
             supervisor restarts otai",
            outcome.panicked
        );
    }
    if args.once && outcome.failed_passes > 0 {
        bail!(
            "{} pass(es) failed as a whole (reasons above and in the log)",
            outcome.failed_passes
        );
    }
    if reload.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(Ended::Reload);
    }
    Ok(Ended::Stopped)
}

/// On SIGHUP, checks the configuration file again ([`checked_config`]): valid, it asks the
/// running pipelines and server to stop so that [`serve`] starts again with it; invalid, it
/// reports every problem and the running configuration goes on.
async fn reload_on_hangup(
    ctx: Context,
    args: RunArgs,
    shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    reload: Arc<std::sync::atomic::AtomicBool>,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(e) => {
                tracing::warn!(error = %e, "Cannot listen for SIGHUP; restart otai serve to change its configuration.");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            info!(file = %ctx.config_path().display(), "SIGHUP: checking the configuration file again.");
            if reload_if_valid(&ctx, &args, &shutdown, &reload).await {
                return;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (ctx, args, shutdown, reload);
    }
}

/// Checks the configuration ([`checked_config`]): valid, it asks the running pipelines and
/// server to stop so that [`serve`] starts again with it (true); invalid, it reports every
/// problem and the running configuration goes on (false).
async fn reload_if_valid(
    ctx: &Context,
    args: &RunArgs,
    shutdown: &tokio::sync::watch::Sender<bool>,
    reload: &std::sync::atomic::AtomicBool,
) -> bool {
    let (checking_ctx, checking_args) = (ctx.clone(), args.clone());
    let checked = tokio::task::spawn_blocking(move || {
        checked_config(&checking_ctx, &checking_args).map(drop)
    })
    .await;
    match checked {
        Ok(Ok(())) => {
            info!("The new configuration is valid: the pipelines and the server stop (write batches in flight finish) and start again with it.");
            reload.store(true, std::sync::atomic::Ordering::SeqCst);
            shutdown.send_replace(true);
            true
        }
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "The new configuration is refused; the running one goes on.");
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "Checking the new configuration stopped; the running one goes on.");
            false
        }
    }
}

/// How often `otai serve` looks where its pipelines' `model:` paths lead.
const MODEL_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// Where each pipeline's `model:` path leads now, links followed (`None`: it leads nowhere).
fn model_targets(models: &[PathBuf]) -> Vec<Option<PathBuf>> {
    models
        .iter()
        .map(|m| std::fs::canonicalize(m).ok())
        .collect()
}

/// Reloads when a pipeline's `model:` path leads to another folder than at the start: a link
/// repointed by `otai train --promote` puts the new model in use without a signal. The check is
/// the SIGHUP one, so a link to a model that does not fit the pipeline is refused and the
/// running model goes on (checked again only when the link changes once more).
async fn reload_on_promotion(
    ctx: Context,
    args: RunArgs,
    (models, mut known): (Vec<PathBuf>, Vec<Option<PathBuf>>),
    shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    reload: Arc<std::sync::atomic::AtomicBool>,
) {
    loop {
        tokio::time::sleep(MODEL_CHECK_INTERVAL).await;
        let now = model_targets(&models);
        if now == known {
            continue;
        }
        for ((model, was), is) in models.iter().zip(&known).zip(&now) {
            if was != is {
                info!(model = %model.display(), was = ?was, now = ?is, "A pipeline's model path leads to another folder (a promotion?): checking the configuration again.");
            }
        }
        known = now;
        if reload_if_valid(&ctx, &args, &shutdown, &reload).await {
            return;
        }
    }
}

/// What the passes of one pipeline in a `--once` run did together.
#[derive(Default)]
struct Drain {
    passes: u32,
    total: pipeline::PassSummary,
    /// The last pass came back full and moved tickets: more may be waiting.
    left_more: bool,
}

impl Drain {
    fn add(&mut self, report: &PassReport, limit: u64) {
        self.passes += 1;
        self.total += report.summary;
        self.left_more = report.left_more(limit);
    }

    /// A total line once there was more than one pass, and a word when the run stopped early.
    fn print(&self, out: &mut dyn Write, name: &str, max_passes: u32) -> anyhow::Result<()> {
        if self.passes > 1 {
            writeln!(
                out,
                "pipeline {name}: {} passes in all: {}",
                self.passes, self.total
            )?;
        }
        if self.left_more && self.passes >= max_passes {
            writeln!(
                out,
                "pipeline {name}: stopped after --max-passes {max_passes}; more tickets may be waiting (run again, or raise --max-passes)"
            )?;
        }
        Ok(())
    }
}

/// Two pipelines keeping their retry state in one file would overwrite each other's.
fn shared_state_files(config: &Config) -> Vec<String> {
    let mut by_file: BTreeMap<&std::path::Path, Vec<&str>> = BTreeMap::new();
    for p in config.pipelines.values() {
        if let Some(file) = &p.state_file {
            by_file.entry(file).or_default().push(&p.name);
        }
    }
    by_file
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|(file, names)| {
            format!(
                "{}: pipelines {} share the state_file {}; give each its own",
                config.file.display(),
                names.join(", "),
                file.display()
            )
        })
        .collect()
}

fn select<'c>(config: &'c Config, name: Option<&str>) -> anyhow::Result<Vec<&'c PipelineConfig>> {
    let file = config.file.display();
    if config.pipelines.is_empty() {
        bail!(
            "{file} has no pipelines: add a `pipelines:` section (see config/config.example.yml)"
        );
    }
    match name {
        None => Ok(config.pipelines.values().collect()),
        Some(name) => config.pipelines.get(name).map(|p| vec![p]).ok_or_else(|| {
            anyhow!(
                "{file} has no pipeline named `{name}`; configured: {}",
                config
                    .pipelines
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
    }
}

/// Completes once `shutdown` says so (or its sender is gone).
async fn stopped(mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The HTTP server of `otai serve` and its connection checks, running.
struct RunningServer {
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    checks: tokio::task::JoinHandle<()>,
    /// Shared with the handlers: every pass goes to its metrics and status page.
    state: std::sync::Arc<crate::serve::http::AppState>,
}

impl RunningServer {
    async fn stop(self) {
        self.checks.abort();
        match self.http.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "The HTTP server stopped with an error."),
            Err(e) => tracing::error!(error = %e, "The HTTP server task stopped unexpectedly."),
        }
    }
}

/// Opens the webhook inbox, makes the pipelines' feeds, binds the listen address and starts
/// the server; it stops when `shutdown` says so.
async fn start_server(
    config: &Config,
    args: &ServeArgs,
    pipelines: Vec<pipeline::Pipeline>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(
    Vec<pipeline::Pipeline>,
    HashMap<String, pipeline::Feed>,
    RunningServer,
)> {
    let settings = config.serve.clone();
    let listen = args.listen.unwrap_or(settings.listen);
    let (inbox, poll_interval) = (settings.inbox.clone(), settings.poll_interval);
    let (pipelines, opened) = tokio::task::spawn_blocking(move || {
        let opened = crate::serve::Dispatch::open(&inbox, &pipelines, poll_interval);
        (pipelines, opened)
    })
    .await?;
    let (dispatch, feeds) = opened.with_context(|| {
        format!(
            "{}: serve.inbox: cannot open the webhook inbox",
            config.file.display()
        )
    })?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {listen} (serve.listen in {}, or --listen)",
                config.file.display()
            )
        })?;
    let bound = listener.local_addr().unwrap_or(listen);
    info!(address = %bound, inbox = %settings.inbox.display(), "Serving: POST /webhooks/<ticket system>, GET /healthz, GET /readyz.");
    let readiness = crate::serve::readiness::Readiness::default();
    let checks = tokio::spawn(readiness.clone().keep_checking(dispatch.clone()));
    let infos = pipelines
        .iter()
        .map(|p| crate::serve::page::PipelineInfo {
            name: p.name().to_string(),
            ticket_system: p.config().ticket_system.clone(),
            model: p.config().model.clone(),
            model_folder: std::fs::symlink_metadata(&p.config().model)
                .is_ok_and(|m| m.file_type().is_symlink())
                .then(|| std::fs::canonicalize(&p.config().model).ok())
                .flatten(),
            dry_run: args.dry_run || args.shadow,
            coverage: crate::serve::page::coverage_tables(&p.config().model),
        })
        .collect();
    let classifiers = pipelines
        .iter()
        .map(|p| {
            (
                p.name().to_string(),
                crate::serve::http::ClassifyTarget {
                    classifier: p.classifier().clone(),
                    model: p.config().model.display().to_string(),
                },
            )
        })
        .collect();
    let state = std::sync::Arc::new(crate::serve::http::AppState {
        dispatch,
        readiness,
        max_body_bytes: settings.max_body_bytes,
        metrics: crate::serve::metrics::Metrics::new(),
        status: crate::serve::status::StatusBook::default(),
        pipelines: infos,
        classifiers,
        api_token: settings.api_token.clone(),
        started: std::time::SystemTime::now(),
    });
    let http = tokio::spawn(crate::serve::http::serve(
        listener,
        state.clone(),
        stopped(shutdown),
    ));
    Ok((
        pipelines,
        feeds,
        RunningServer {
            http,
            checks,
            state,
        },
    ))
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "Cannot listen for SIGINT; stop otai with SIGTERM.");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "Cannot listen for SIGTERM; stop otai with SIGINT.");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => info!(signal = "SIGINT", "Received a shutdown signal."),
        () = terminate => info!(signal = "SIGTERM", "Received a shutdown signal."),
    }
}

/// A pass on stdout: every decision on a dry run, the summary always.
fn print_report(out: &mut dyn Write, report: &PassReport) -> anyhow::Result<()> {
    let p = &report.pipeline;
    for ticket in &report.tickets {
        match ticket {
            TicketReport::Routed { id, queue, tag, .. } if report.dry_run => writeln!(
                out,
                "{p} ticket {id}: skipped, already routed by hand (queue {queue}); would add tag {tag}"
            )?,
            TicketReport::Routed {
                id,
                queue,
                tag,
                result,
            } if *result != WriteResult::Written => writeln!(
                out,
                "{p} ticket {id}: skipped, already routed by hand (queue {queue}); adding tag {tag}: {}",
                result
            )?,
            TicketReport::Waiting { id, attempts, .. } if report.dry_run => writeln!(
                out,
                "{p} ticket {id}: skipped, backing off after {attempts} failed write(s)"
            )?,
            TicketReport::Decided { decision, result }
                if report.dry_run || *result != WriteResult::Written =>
            {
                if report.dry_run {
                    for o in &decision.outcomes {
                        let (label, confidence) = match &o.best {
                            Some(b) => (b.label.as_str(), format!("{:.3}", b.probability)),
                            None => ("-", "-".into()),
                        };
                        let runner_up = o
                            .runner_up
                            .as_ref()
                            .map(|r| format!(" (runner-up {} {:.3})", r.label, r.probability))
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "{p} ticket {} {}: {label} {confidence}{runner_up} -> {}",
                            decision.ticket_id,
                            o.field,
                            o.action_text()
                        )?;
                    }
                    writeln!(
                        out,
                        "{p} ticket {}: would write {}",
                        decision.ticket_id,
                        describe(&decision.update)
                    )?;
                } else {
                    writeln!(
                        out,
                        "{p} ticket {}: {}",
                        decision.ticket_id,
                        result
                    )?;
                }
            }
            TicketReport::MarkFailed {
                id,
                attempts,
                result,
                ..
            } => writeln!(
                out,
                "{p} ticket {id}: {} attempts failed; tag failed: {}",
                attempts,
                result
            )?,
            _ => {}
        }
    }
    writeln!(out, "{report}")?;
    out.flush()?;
    Ok(())
}

fn describe(update: &crate::ticket::TicketUpdate) -> String {
    let mut parts = Vec::new();
    if let Some(q) = &update.queue {
        parts.push(format!(
            "queue \"{}\"",
            q.name.as_deref().or(q.id.as_deref()).unwrap_or("")
        ));
    }
    if let Some(p) = &update.priority {
        parts.push(format!("priority {p}"));
    }
    for f in &update.custom_fields {
        parts.push(format!("custom field {} = {}", f.id, f.value));
    }
    if !update.add_tags.is_empty() {
        parts.push(format!("tags +{}", update.add_tags.join(" +")));
    }
    if update.note.is_some() {
        parts.push("an internal note".into());
    }
    parts.join(", ")
}
