//! The interval loop: every pipeline runs its passes on its own task until shutdown.
//!
//! A pipeline passes again at once, instead of waiting for its interval, while the last pass came
//! back full and moved tickets out of the fetch ([`PassReport::left_more`]), at most `max_passes`
//! passes in a row; `fetch.limit` stays the batch size of each pass. With `once` it then returns;
//! otherwise it waits for its interval, so a backlog is routed at once and a quiet desk is polled.
//!
//! Shutdown is a future passed in (the binary gives SIGINT/SIGTERM; tests give whatever they
//! like). When it completes, every pipeline is told to stop ([`Stop`]): a pass that is waiting for
//! its interval ends at once; a pass that is running sends no further write batch, and the batch
//! already sent is let finish for at most `grace`. After that the remaining tasks are dropped,
//! which abandons their in-flight call: each ticket's update is a single write in the adapter, so
//! a ticket is written whole or not at all, and the next run's fetch sees which.

use std::{collections::HashMap, future::Future, time::Duration};

use tokio::{
    sync::{mpsc, watch},
    task::JoinSet,
    time::{sleep_until, Instant},
};
use tracing::{error, info, warn};

use super::{
    feed::{Backlog, Feed},
    pass::{PassReport, Pipeline},
};

/// How long the current write batch may take to finish after shutdown unless told otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// The receiving side of a stop request, cheap to clone.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

/// The sending side of a stop request.
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

/// A connected pair.
pub fn stop_pair() -> (StopHandle, Stop) {
    let (tx, rx) = watch::channel(false);
    (StopHandle(tx), Stop(rx))
}

impl StopHandle {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Stop {
    /// A stop that never comes (one-off passes in tests and tools).
    pub fn never() -> Stop {
        let (tx, rx) = watch::channel(false);
        // The sender must outlive every receiver or `stopped` would see a closed channel.
        std::mem::forget(tx);
        Stop(rx)
    }

    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once a stop was requested; never if the handle is dropped without one.
    pub async fn stopped(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Passes one `once` run makes at most per pipeline unless told otherwise: 10,000 tickets at the
/// default `fetch.limit` of 100, a weekend's backlog of a busy help desk.
pub const DEFAULT_MAX_PASSES: u32 = 100;

/// How `otai run` runs.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Route what is waiting, then return: passes until nothing new is left, at most
    /// `max_passes` (a dry run makes one: it writes nothing, so a second would fetch the same).
    pub once: bool,
    /// The most passes in a row while tickets are waiting (with `once`: in all).
    pub max_passes: u32,
    /// Decide and report, write nothing.
    pub dry_run: bool,
    /// How long a write batch in flight may take after shutdown.
    pub grace: Duration,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOutcome {
    /// Passes that failed as a whole.
    pub failed_passes: usize,
    /// Pipelines whose last batch was abandoned when the grace period ran out.
    pub abandoned: usize,
    /// Pipeline tasks that panicked (each stopped for good; the others went on).
    pub panicked: usize,
}

/// Runs every pipeline until `shutdown` completes (or once each, with `options.once`), sending
/// every pass's report to `reports` (dropped reports are fine: the receiver may be gone).
pub async fn run(
    pipelines: Vec<Pipeline>,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    reports: mpsc::UnboundedSender<PassReport>,
) -> RunOutcome {
    run_fed(pipelines, HashMap::new(), options, shutdown, reports).await
}

/// [`run`], with webhook ids fed to the pipelines named in `feeds` (`otai serve`): each wakes
/// its pipeline for a pass at once (see [`super::feed`]).
pub async fn run_fed(
    pipelines: Vec<Pipeline>,
    mut feeds: HashMap<String, Feed>,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    reports: mpsc::UnboundedSender<PassReport>,
) -> RunOutcome {
    let (handle, stop) = stop_pair();
    let mut tasks = JoinSet::new();
    for pipeline in pipelines {
        info!(
            pipeline = %pipeline.name(),
            ticket_system = %pipeline.config().ticket_system,
            model = %pipeline.config().model.display(),
            interval_secs = pipeline.config().interval.as_secs_f64(),
            once = options.once,
            dry_run = options.dry_run,
            "Starting a pipeline."
        );
        let feed = feeds.remove(pipeline.name());
        tasks.spawn(pipeline_loop(
            pipeline,
            feed,
            options,
            stop.clone(),
            reports.clone(),
        ));
    }
    drop(reports);

    let mut outcome = RunOutcome::default();
    let mut deadline: Option<Instant> = None;
    let mut shutdown_seen = false;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(Ok(failed)) => outcome.failed_passes += failed,
                Some(Err(e)) if e.is_cancelled() => outcome.abandoned += 1,
                Some(Err(e)) => {
                    error!(error = %e, "A pipeline task panicked; the others go on.");
                    outcome.failed_passes += 1;
                    outcome.panicked += 1;
                }
            },
            () = &mut shutdown, if !shutdown_seen => {
                shutdown_seen = true;
                handle.stop();
                deadline = Some(Instant::now() + options.grace);
                info!(grace_secs = options.grace.as_secs_f64(), "Stopping: letting the write batches in flight finish.");
            },
            () = wait_until(deadline) => {
                deadline = None;
                warn!(pipelines = tasks.len(), grace_secs = options.grace.as_secs_f64(), "The grace period ran out; abandoning the write batches still in flight (each ticket is written whole or not at all; the next run's fetch sees which).");
                tasks.abort_all();
            },
        }
    }
    info!(
        failed_passes = outcome.failed_passes,
        abandoned = outcome.abandoned,
        panicked = outcome.panicked,
        "Stopped."
    );
    outcome
}

async fn wait_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Passes of one pipeline until stopped; returns how many failed as a whole. With a `feed`,
/// webhook ids wake it between polls, and it polls at the feed's interval.
async fn pipeline_loop(
    mut pipeline: Pipeline,
    mut feed: Option<Feed>,
    options: RunOptions,
    mut stop: Stop,
    reports: mpsc::UnboundedSender<PassReport>,
) -> usize {
    let interval = feed
        .as_ref()
        .map_or(pipeline.config().interval, |f| f.poll_interval);
    let mut backlog = Backlog::default();
    let mut failed = 0;
    // Passes in a row without waiting for the interval.
    let mut passes = 0u32;
    loop {
        if stop.is_stopping() {
            break;
        }
        if let Some(feed) = &mut feed {
            // Everything that came during the last pass goes into this one.
            while let Ok(id) = feed.ids.try_recv() {
                backlog.add(id);
            }
        }
        let report = pipeline.pass(options.dry_run, &stop).await;
        passes += 1;
        if report.failure.is_some() {
            failed += 1;
        }
        if let Some(feed) = &feed {
            let done = backlog.after_pass(pipeline.name(), &report, Instant::now());
            if !done.is_empty() {
                (feed.settle)(&done);
            }
        }
        let left_more = report.left_more(pipeline.config().fetch.limit);
        // A closed channel only means nobody prints reports; the pass was logged anyway.
        let _ = reports.send(report);
        let at_most = passes >= options.max_passes.max(1);
        if left_more && !at_most {
            continue;
        }
        if options.once {
            if left_more {
                warn!(pipeline = %pipeline.name(), passes, "Stopped after the most passes allowed (--max-passes); more tickets may be waiting for the next run.");
            }
            break;
        }
        passes = 0;
        let poll_at = Instant::now() + interval;
        let woken = match &mut feed {
            None => tokio::select! {
                () = sleep_until(poll_at) => true,
                () = stop.stopped() => false,
            },
            Some(feed) => {
                tokio::select! {
                    () = sleep_until(poll_at) => true,
                    () = stop.stopped() => false,
                    () = wait_until(backlog.retry_at()) => true,
                    Some(id) = feed.ids.recv() => {
                        backlog.add(id);
                        true
                    }
                }
            }
        };
        if !woken {
            break;
        }
    }
    failed
}
