//! One pass of a pipeline: fetch, classify, decide, write, and account for every ticket.
//!
//! - One fetch (the configured query, minus tickets carrying the processed, failed or routed tag).
//! - Tickets routed by hand or backing off after a failed write are set aside before the model
//!   runs; the rest are classified in one call (the classifier batches by length inside).
//! - Every classified ticket gets one [`BatchUpdate`] holding all its fields, the processed tag
//!   and the note; a ticket routed by hand gets one holding only the routed tag (so the fetch
//!   leaves it out from then on instead of returning it every pass, ahead of the unrouted ones);
//!   a ticket whose attempts are used up gets the failed tag. Every write is guarded by the
//!   `updated_at` it was read with, and they go out together through
//!   [`TicketSystem::update_tickets`] in batches of `write_batch`.
//! - Each ticket's outcome is handled on its own: one failure never stops the others.
//! - A ticket this pipeline wrote within [`ECHO_WINDOW`] that the fetch returns again is a search-index
//!   echo (help desks' search indexes lag writes, and `otai run --once` fetches again at once): it is
//!   left alone, never decided or written a second time.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime},
};

use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use super::{
    decide::{self, Decision},
    retry::{RetryBook, Standing},
    run::Stop,
    state::{self, StateError},
    summary::PassSummary,
    Classify,
};
use crate::{
    classifier::{ClassifierError, Prediction, TicketText},
    config::PipelineConfig,
    ticket::{
        BatchUpdate, ErrorKind, SearchQuery, Ticket, TicketSystem, TicketSystemError, TicketUpdate,
    },
};

/// How long a ticket this pipeline wrote counts as written when a fetch returns it again: longer than any
/// search-index lag (Zendesk's is seconds to a minute), short enough that a ticket an agent deliberately
/// sends back (by removing otai's tag) is taken up again soon.
pub const ECHO_WINDOW: Duration = Duration::from_secs(600);

/// A pipeline ready to run: its configuration, its ticket system, its classifier and the retry
/// state that lives from pass to pass (and, if opened with [`Pipeline::open`], from run to run).
#[derive(Debug)]
pub struct Pipeline {
    config: PipelineConfig,
    system: Arc<dyn TicketSystem>,
    classifier: Arc<dyn Classify>,
    model_name: String,
    retry: RetryBook,
    /// Where the retry state is saved after each pass that changed it.
    state_file: Option<PathBuf>,
    /// Tickets written (classified, routed tag, failed tag) within [`ECHO_WINDOW`], and when.
    written_recently: HashMap<String, Instant>,
    progress: Option<Arc<dyn PassProgress>>,
}

/// What happened to one fetched ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketReport {
    /// Left alone: already in a queue other than the inbox queues. Only `tag` (the routed tag)
    /// is written, so the fetch skips the ticket from then on.
    Routed {
        id: String,
        queue: String,
        tag: String,
        result: WriteResult,
    },
    /// Left alone this pass: backing off after a failed write.
    Waiting {
        id: String,
        attempts: u32,
        until: Instant,
    },
    /// Left alone: this pipeline wrote it moments ago and the help desk's search index does not show
    /// that yet.
    Echo { id: String },
    /// Classified and decided (boxed: far larger than the other variants).
    Decided {
        decision: Box<Decision>,
        result: WriteResult,
    },
    /// Every attempt failed: tagged failed (or tried to be).
    MarkFailed {
        id: String,
        attempts: u32,
        reason: String,
        result: WriteResult,
    },
}

impl TicketReport {
    pub fn id(&self) -> &str {
        match self {
            TicketReport::Routed { id, .. }
            | TicketReport::Waiting { id, .. }
            | TicketReport::Echo { id }
            | TicketReport::MarkFailed { id, .. } => id,
            TicketReport::Decided { decision, .. } => &decision.ticket_id,
        }
    }
}

/// The outcome of one ticket's write.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteResult {
    /// `--dry-run`: nothing was sent.
    DryRun,
    /// Not sent: stopping, or the batch call failed as a whole. Decided again next pass.
    NotSent,
    Written,
    /// The ticket changed since it was read; decided again next pass.
    Conflict,
    /// Timed out: unknown whether it was applied; the next fetch tells.
    Unknown {
        error: String,
    },
    /// Failed; retried in a later pass unless `gave_up` (then tagged failed next pass).
    Failed {
        error: String,
        attempts: u32,
        gave_up: bool,
    },
    /// The ticket no longer exists.
    Gone,
}

/// A sentence for people: `otai run`'s output and the status page.
impl fmt::Display for WriteResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteResult::DryRun => f.write_str("not written (dry run)"),
            WriteResult::NotSent => f.write_str("not sent; decided again next pass"),
            WriteResult::Written => f.write_str("written"),
            WriteResult::Conflict => {
                f.write_str("changed since it was read; decided again next pass")
            }
            WriteResult::Unknown { error } => {
                write!(f, "timed out, unknown whether written: {error}")
            }
            WriteResult::Failed {
                error,
                attempts,
                gave_up,
            } => write!(
                f,
                "write failed (attempt {attempts}{}): {error}",
                if *gave_up { ", the last one" } else { "" }
            ),
            WriteResult::Gone => f.write_str("no longer exists"),
        }
    }
}

/// Why a pass failed as a whole (nothing, or only part, was done).
#[derive(Debug, thiserror::Error)]
pub enum PassFailure {
    #[error("fetching tickets failed: {0}")]
    Fetch(TicketSystemError),
    #[error("classifying {count} ticket(s) failed: {error}")]
    Classify {
        count: usize,
        error: ClassifierError,
    },
    #[error("a batch write failed as a whole (nothing of it was written): {0}")]
    Write(TicketSystemError),
    /// The pass itself went through, but a restart would forget its write attempts.
    #[error("{0} (the pass's writes went out; saving is tried again after the next pass)")]
    SaveState(StateError),
}

/// Everything one pass did.
#[derive(Debug)]
pub struct PassReport {
    pub pipeline: String,
    pub dry_run: bool,
    pub summary: PassSummary,
    /// One entry per fetched ticket: those set aside (routed, backing off, to be tagged failed)
    /// in fetch order, then the classified ones in fetch order.
    pub tickets: Vec<TicketReport>,
    /// The subject of every fetched ticket, by id (for people reading the pass: `otai run --table`).
    pub subjects: HashMap<String, String>,
    pub failure: Option<PassFailure>,
    /// When the pass began, and how long it took.
    pub started: SystemTime,
    pub took: Duration,
    /// How long the classifier took for the `summary.classified` tickets, if it ran.
    pub classify_took: Option<Duration>,
}

/// Told how far a pass got while it runs (`otai run --table` draws a progress line from it).
/// With one set, the pass classifies in chunks of [`PROGRESS_CHUNK`] tickets to report between
/// them; without, in one call.
pub trait PassProgress: Send + Sync + fmt::Debug {
    /// The fetch returned `tickets` tickets; a new pass begins.
    fn fetched(&self, tickets: usize);
    /// `done` of the `of` tickets to classify are classified.
    fn classified(&self, done: usize, of: usize);
    /// A write batch came back with `tickets` tickets written.
    fn written(&self, tickets: usize);
}

/// Tickets per classifier call while a [`PassProgress`] watches.
pub const PROGRESS_CHUNK: usize = 16;

impl PassReport {
    /// True when more tickets may be waiting behind this pass's fetch: it came back full (`limit`
    /// tickets) and this pass took some of them out of the fetch for good (written, tagged, gone). A
    /// pass that failed, or whose fetch held only tickets it could not move (backing off, conflicts,
    /// echoes), would fetch the same ones again.
    pub fn left_more(&self, limit: u64) -> bool {
        let s = &self.summary;
        self.failure.is_none()
            && !self.dry_run
            && s.fetched as u64 >= limit
            && s.written + s.routed_tagged + s.marked_failed + s.gone > 0
    }
}

impl fmt::Display for PassReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pipeline {}: {}", self.pipeline, self.summary)?;
        if self.dry_run {
            f.write_str(" (dry run: nothing written)")?;
        }
        if let Some(failure) = &self.failure {
            write!(f, "; the pass failed: {failure}")?;
        }
        Ok(())
    }
}

/// A ticket's write waiting to go out, with where its report lives.
struct Pending {
    report: usize,
    item: BatchUpdate,
}

impl Pipeline {
    /// A pipeline whose retry state lives in memory only, whatever `state_file` says (tests and
    /// tools); `otai run` uses [`Pipeline::open`].
    pub fn new(
        config: PipelineConfig,
        system: Arc<dyn TicketSystem>,
        classifier: Arc<dyn Classify>,
    ) -> Pipeline {
        let model_name = config
            .model
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| config.model.display().to_string());
        Pipeline {
            retry: RetryBook::new(config.retry),
            config,
            system,
            classifier,
            model_name,
            state_file: None,
            written_recently: HashMap::new(),
            progress: None,
        }
    }

    /// Reports how far each pass got to `progress` while it runs.
    pub fn watch_progress(&mut self, progress: Arc<dyn PassProgress>) {
        self.progress = Some(progress);
    }

    /// A pipeline that keeps its retry state in `config.state_file` (if set): loaded now (a
    /// missing file is an empty state, an unreadable or corrupt one an error naming the file) and
    /// saved after every pass that changed it, except on a dry run.
    pub fn open(
        config: PipelineConfig,
        system: Arc<dyn TicketSystem>,
        classifier: Arc<dyn Classify>,
    ) -> Result<Pipeline, StateError> {
        let mut pipeline = Pipeline::new(config, system, classifier);
        let Some(path) = pipeline.config.state_file.clone() else {
            return Ok(pipeline);
        };
        let records = state::load(&path)?;
        if !records.is_empty() {
            info!(
                pipeline = %pipeline.config.name,
                state_file = %path.display(),
                tickets = records.len(),
                "Loaded the write attempts of tickets whose writes failed in earlier runs."
            );
        }
        pipeline.retry = RetryBook::from_records(
            pipeline.config.retry,
            records,
            Instant::now(),
            SystemTime::now(),
        );
        pipeline.state_file = Some(path);
        Ok(pipeline)
    }

    /// The model this pipeline classifies with.
    pub fn classifier(&self) -> &Arc<dyn Classify> {
        &self.classifier
    }

    /// The ticket system this pipeline reads and writes.
    pub fn system(&self) -> &Arc<dyn TicketSystem> {
        &self.system
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// The search a pass runs: the configured one, never returning processed, failed or routed
    /// tickets.
    pub fn query(&self) -> SearchQuery {
        let fetch = &self.config.fetch;
        let mut tags_none = fetch.without_tags.clone();
        for tag in [
            &self.config.processed_tag,
            &self.config.failed_tag,
            &self.config.routed_tag,
        ] {
            if !tags_none.contains(tag) {
                tags_none.push(tag.clone());
            }
        }
        SearchQuery {
            statuses: fetch.statuses.clone(),
            queue: fetch.queue.clone(),
            tags_all: fetch.tags.clone(),
            tags_none,
            updated_since: None,
            limit: Some(fetch.limit),
            system_query: fetch.query.clone(),
        }
    }

    /// Runs one pass. With `dry_run` nothing is written and the retry state is not touched.
    /// `stop` is checked before classifying and before each write batch: a batch already sent
    /// is let finish (the caller bounds how long), the rest is left for the next run.
    pub async fn pass(&mut self, dry_run: bool, stop: &Stop) -> PassReport {
        let stats_before = self.system.request_stats();
        let began = Instant::now();
        let mut report = PassReport {
            pipeline: self.config.name.clone(),
            dry_run,
            summary: PassSummary::default(),
            tickets: Vec::new(),
            subjects: HashMap::new(),
            failure: None,
            started: SystemTime::now(),
            took: Duration::ZERO,
            classify_took: None,
        };
        self.run_pass(dry_run, stop, &mut report).await;
        report.summary.api = match (stats_before, self.system.request_stats()) {
            (Some(before), Some(after)) => Some(after.since(before)),
            _ => None,
        };
        if !dry_run {
            // A dry run does not touch the retry state, not even to forget stale records.
            self.retry.prune(Instant::now());
            if let Err(e) = self.save_state().await {
                report.failure.get_or_insert(PassFailure::SaveState(e));
            }
        }
        report.took = began.elapsed();
        let s = &report.summary;
        match &report.failure {
            None => info!(
                pipeline = %self.config.name,
                fetched = s.fetched,
                classified = s.classified,
                written = s.written,
                skipped = s.routed + s.waiting,
                routed_tagged = s.routed_tagged,
                failed = s.conflicts + s.unknown + s.failed,
                marked_failed = s.marked_failed,
                api_calls = s.api.map(|a| a.requests),
                dry_run,
                "Finished a pass: {s}."
            ),
            Some(failure) => error!(
                pipeline = %self.config.name,
                fetched = s.fetched,
                written = s.written,
                api_calls = s.api.map(|a| a.requests),
                dry_run,
                "A pass failed: {failure}; {s}."
            ),
        }
        report
    }

    /// Saves the retry state if there is a state file and the state changed since the last save.
    /// The write, fsync and rename run on tokio's blocking pool, off the async runtime.
    async fn save_state(&mut self) -> Result<(), StateError> {
        let Some(path) = self.state_file.clone() else {
            return Ok(());
        };
        if !self.retry.take_changed() {
            return Ok(());
        }
        let records = self.retry.records(Instant::now(), SystemTime::now());
        let name = self.config.name.clone();
        let saved = tokio::task::spawn_blocking(move || state::save(&path, &name, &records)).await;
        let result = match saved {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only when the runtime shuts down under the pass.
            Err(e) => Err(StateError::Write {
                path: self.state_file.clone().unwrap_or_default(),
                source: std::io::Error::other(e),
            }),
        };
        result.inspect_err(|_| {
            // Tried again after the next pass.
            self.retry.mark_changed();
        })
    }

    async fn run_pass(&mut self, dry_run: bool, stop: &Stop, report: &mut PassReport) {
        // Tickets backing off would come back first and fill `fetch.limit` (a help desk returns
        // the oldest first): ask for that many more, and handle at most `fetch.limit` of the rest.
        let mut query = self.query();
        let waiting = if dry_run {
            0
        } else {
            self.retry.waiting(Instant::now())
        };
        query.limit = Some(self.config.fetch.limit.saturating_add(waiting as u64));
        let tickets = match self.system.find_tickets(query).await {
            Ok(tickets) => dedup_by_id(&self.config.name, tickets),
            Err(e) => {
                report.failure = Some(PassFailure::Fetch(e));
                return;
            }
        };
        report.summary.fetched = tickets.len();
        report.subjects = tickets
            .iter()
            .map(|t| (t.id.clone(), t.subject.clone()))
            .collect();
        if let Some(progress) = &self.progress {
            progress.fetched(tickets.len());
        }
        let now = Instant::now();
        self.written_recently
            .retain(|_, at| now.saturating_duration_since(*at) < ECHO_WINDOW);

        // Set aside what the model need not see.
        let mut to_classify: Vec<&Ticket> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut taken = 0u64;
        for ticket in &tickets {
            if self.written_recently.contains_key(&ticket.id) {
                report.summary.echoes += 1;
                debug!(pipeline = %self.config.name, ticket = %ticket.id, "Left a ticket alone: written moments ago; the help desk's search index does not show it yet.");
                report.tickets.push(TicketReport::Echo {
                    id: ticket.id.clone(),
                });
                continue;
            }
            let standing = if dry_run {
                Standing::Due { attempts: 0 }
            } else {
                self.retry.standing(&ticket.id, now)
            };
            if !matches!(standing, Standing::Waiting { .. }) {
                if taken >= self.config.fetch.limit {
                    // The extra slots were for tickets backing off; the rest waits its turn.
                    report.summary.fetched -= 1;
                    continue;
                }
                taken += 1;
            }
            match standing {
                Standing::Exhausted {
                    attempts,
                    last_error,
                } => {
                    report.summary.to_mark_failed += 1;
                    pending.push(Pending {
                        report: report.tickets.len(),
                        item: batch_item(
                            ticket,
                            decide::failed_update(&self.config, ticket, attempts, &last_error),
                        ),
                    });
                    report.tickets.push(TicketReport::MarkFailed {
                        id: ticket.id.clone(),
                        attempts,
                        reason: last_error,
                        result: WriteResult::NotSent,
                    });
                }
                Standing::Waiting { attempts, until } => {
                    report.summary.waiting += 1;
                    report.tickets.push(TicketReport::Waiting {
                        id: ticket.id.clone(),
                        attempts,
                        until,
                    });
                }
                Standing::Due { .. } => match decide::routed_by_hand(&self.config, ticket) {
                    Some(queue) => {
                        report.summary.routed += 1;
                        info!(
                            pipeline = %self.config.name,
                            ticket = %ticket.id,
                            queue = %queue,
                            tag = %self.config.routed_tag,
                            "Left a ticket alone: an agent already routed it to a queue that is not an inbox queue; adding only the routed tag so it is not fetched again."
                        );
                        pending.push(Pending {
                            report: report.tickets.len(),
                            item: batch_item(ticket, decide::routed_update(&self.config, ticket)),
                        });
                        report.tickets.push(TicketReport::Routed {
                            id: ticket.id.clone(),
                            queue,
                            tag: self.config.routed_tag.clone(),
                            result: WriteResult::NotSent,
                        });
                    }
                    None => to_classify.push(ticket),
                },
            }
        }

        if !to_classify.is_empty() && !stop.is_stopping() {
            let texts: Vec<TicketText> = to_classify
                .iter()
                .map(|t| TicketText::new(t.subject.clone(), t.body.clone()))
                .collect();
            let classifying = Instant::now();
            let classified = self.classify(&texts).await;
            report.classify_took = Some(classifying.elapsed());
            match classified {
                Ok(predictions) => {
                    report.summary.classified = predictions.len();
                    for (ticket, prediction) in to_classify.iter().zip(&predictions) {
                        let decision =
                            decide::decide(&self.config, &self.model_name, ticket, prediction);
                        pending.push(Pending {
                            report: report.tickets.len(),
                            item: batch_item(ticket, decision.update.clone()),
                        });
                        report.tickets.push(TicketReport::Decided {
                            decision: Box::new(decision),
                            result: WriteResult::NotSent,
                        });
                    }
                }
                Err(error) => {
                    // Tickets already due for their failed mark or routed tag still get it below.
                    report.failure = Some(PassFailure::Classify {
                        count: texts.len(),
                        error,
                    });
                }
            }
        }

        if dry_run {
            for p in &pending {
                set_result(&mut report.tickets[p.report], WriteResult::DryRun);
            }
            report.summary.not_sent += pending.len();
            return;
        }
        self.write(pending, stop, report).await;
    }

    /// Classifies `texts`: in one call, or in chunks reported to the progress watcher.
    async fn classify(&self, texts: &[TicketText]) -> Result<Vec<Prediction>, ClassifierError> {
        let Some(progress) = &self.progress else {
            return self.classifier.classify(texts).await;
        };
        let mut out = Vec::with_capacity(texts.len());
        progress.classified(0, texts.len());
        for chunk in texts.chunks(PROGRESS_CHUNK) {
            out.extend(self.classifier.classify(chunk).await?);
            progress.classified(out.len(), texts.len());
        }
        Ok(out)
    }

    async fn write(&mut self, pending: Vec<Pending>, stop: &Stop, report: &mut PassReport) {
        let mut batches = pending.chunks(self.config.write_batch.max(1));
        for batch in batches.by_ref() {
            if stop.is_stopping() {
                report.summary.not_sent += batch.len();
                info!(pipeline = %self.config.name, tickets = batch.len(), "Stopping: left the remaining tickets for the next run.");
                continue;
            }
            let items: Vec<BatchUpdate> = batch.iter().map(|p| p.item.clone()).collect();
            // Attempts are counted, and saved, before the call: a write that kills otai still
            // counts, so a poison ticket ends tagged failed instead of crashing every pass.
            let begun: Vec<&str> = batch
                .iter()
                .filter(|p| matches!(report.tickets[p.report], TicketReport::Decided { .. }))
                .map(|p| p.item.id.as_str())
                .collect();
            let now = Instant::now();
            for id in &begun {
                self.retry.begin_attempt(id, now);
            }
            if !begun.is_empty() {
                if let Err(e) = self.save_state().await {
                    warn!(pipeline = %self.config.name, error = %e, "Cannot save the write attempts before sending; a crash during this batch would not count them.");
                }
            }
            let outcomes = match self.system.update_tickets(items).await {
                Ok(outcomes) => outcomes,
                Err(e) => {
                    self.whole_call_failed(batch, &e, report);
                    for rest in batches {
                        report.summary.not_sent += rest.len();
                    }
                    report.failure = Some(PassFailure::Write(e));
                    return;
                }
            };
            if let Some(progress) = &self.progress {
                progress.written(outcomes.iter().filter(|o| o.result.is_ok()).count());
            }
            // Outcomes come in the order asked (the trait's promise, enforced for plugins by
            // `ForeignTicketSystem`); pairing by position never credits one ticket's outcome to
            // another, and the id at each position is still checked.
            let mut outcomes = outcomes.into_iter();
            for p in batch {
                let result = match outcomes.next() {
                    Some(outcome) if outcome.id == p.item.id => outcome.result,
                    Some(outcome) => Err(TicketSystemError::new(
                        self.system.name(),
                        ErrorKind::InvalidResponse,
                        format!(
                            "the batch write reported the outcome of ticket {} where this ticket's was due",
                            outcome.id
                        ),
                    )),
                    None => Err(TicketSystemError::new(
                        self.system.name(),
                        ErrorKind::InvalidResponse,
                        "the batch write reported no outcome for this ticket",
                    )),
                };
                let entry = &mut report.tickets[p.report];
                let written = self.account(entry, result, &mut report.summary);
                set_result(entry, written);
            }
        }
    }

    /// A batch call that failed as a whole. When the error says nothing was done (rate limited, refused,
    /// misconfigured, unreachable), it is the help desk's or the connection's problem, not these
    /// tickets': their attempts are given back and they go again next pass. When the outcome is unknown
    /// (a panic or a timeout inside the call, an answer that cannot be read: a job may have been
    /// submitted), each keeps its attempt, so a batch that fails this way every pass ends in the
    /// failed tag instead of forever.
    fn whole_call_failed(
        &mut self,
        batch: &[Pending],
        e: &TicketSystemError,
        report: &mut PassReport,
    ) {
        let nothing_done = matches!(
            e.kind,
            ErrorKind::RateLimited
                | ErrorKind::Transport
                | ErrorKind::Auth
                | ErrorKind::Forbidden
                | ErrorKind::Config
                | ErrorKind::Unsupported
                | ErrorKind::Validation
        );
        let now = Instant::now();
        for p in batch {
            let id = &p.item.id;
            let decided = matches!(report.tickets[p.report], TicketReport::Decided { .. });
            if nothing_done || !decided {
                self.retry.cancel_attempt(id);
                report.summary.not_sent += 1;
                continue;
            }
            let error = format!("the batch write failed as a whole: {e}");
            let attempts = self.retry.settle_failure(id, now, &error, e.retry_after);
            report.summary.unknown += 1;
            warn!(pipeline = %self.config.name, ticket = %id, attempt = attempts, max_attempts = self.config.retry.max_attempts, "A batch write failed as a whole with an unknown outcome; the attempt counts: {e}");
            set_result(
                &mut report.tickets[p.report],
                WriteResult::Unknown { error },
            );
        }
    }

    /// Turns one ticket's outcome into counts, retry bookkeeping and a log line.
    fn account(
        &mut self,
        entry: &TicketReport,
        result: Result<(), TicketSystemError>,
        summary: &mut PassSummary,
    ) -> WriteResult {
        let name = &self.config.name;
        let id = entry.id().to_string();
        let marking = matches!(entry, TicketReport::MarkFailed { .. });
        let now = Instant::now();
        if result.is_ok() {
            self.written_recently.insert(id.clone(), now);
        }
        if let TicketReport::Routed { tag, .. } = entry {
            // A ticket with failed writes on record may have been routed by hand since; once
            // tagged (or gone) it is never fetched again, so its record is of no further use.
            if matches!(&result, Ok(()))
                || matches!(&result, Err(e) if e.kind == ErrorKind::NotFound)
            {
                self.retry.forget(&id);
            }
            return account_routed(name, &id, tag, result, summary);
        }
        match result {
            Ok(()) => {
                self.retry.forget(&id);
                if let TicketReport::MarkFailed {
                    attempts, reason, ..
                } = entry
                {
                    summary.marked_failed += 1;
                    error!(pipeline = %name, ticket = %id, attempts, tag = %self.config.failed_tag, "Gave up on a ticket after every write attempt failed and tagged it failed; last error: {reason}");
                } else {
                    summary.written += 1;
                }
                WriteResult::Written
            }
            Err(e) if e.kind == ErrorKind::Conflict => {
                // Nothing failed: the ticket changed in between and is decided again.
                self.retry.cancel_attempt(&id);
                summary.conflicts += 1;
                info!(pipeline = %name, ticket = %id, "The ticket changed since it was read, so nothing was written; it will be read and decided again next pass.");
                WriteResult::Conflict
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                self.retry.forget(&id);
                summary.gone += 1;
                warn!(pipeline = %name, ticket = %id, "The ticket no longer exists; skipped it: {e}");
                WriteResult::Gone
            }
            Err(e) if marking => {
                summary.failed += 1;
                warn!(pipeline = %name, ticket = %id, "Could not tag a ticket failed; will try again next pass: {e}");
                WriteResult::Failed {
                    error: e.to_string(),
                    attempts: 0,
                    gave_up: true,
                }
            }
            Err(e) => {
                // A timeout counts as an attempt, but the stored update is never re-sent: the
                // next pass fetches afresh (a ticket the write did reach carries the processed
                // tag and is not fetched again) and decides from what it reads.
                let timeout = e.kind == ErrorKind::Timeout;
                let attempts = self
                    .retry
                    .settle_failure(&id, now, &e.to_string(), e.retry_after);
                let gave_up = self.retry.is_exhausted(attempts);
                let wait = self
                    .retry
                    .next_try(&id)
                    .map(|t| t.saturating_duration_since(now).as_secs_f64())
                    .unwrap_or_default();
                let max = self.config.retry.max_attempts;
                if timeout {
                    summary.unknown += 1;
                    warn!(pipeline = %name, ticket = %id, attempt = attempts, max_attempts = max, "A write timed out and may or may not have been applied; the next fetch decides: {e}");
                    WriteResult::Unknown {
                        error: e.to_string(),
                    }
                } else {
                    summary.failed += 1;
                    if gave_up {
                        warn!(pipeline = %name, ticket = %id, attempt = attempts, max_attempts = max, "A write failed for the last time; the ticket will be tagged failed next pass: {e}");
                    } else {
                        warn!(pipeline = %name, ticket = %id, attempt = attempts, max_attempts = max, retry_in_secs = wait, "A write failed; it will be tried again in a later pass: {e}");
                    }
                    WriteResult::Failed {
                        error: e.to_string(),
                        attempts,
                        gave_up,
                    }
                }
            }
        }
    }
}

/// `tickets` with every repeated id dropped (the first stays): a fetch that returns a ticket
/// twice would otherwise decide and write it twice in one pass.
fn dedup_by_id(pipeline: &str, tickets: Vec<Ticket>) -> Vec<Ticket> {
    let fetched = tickets.len();
    let mut seen = HashSet::with_capacity(fetched);
    let unique: Vec<Ticket> = tickets
        .into_iter()
        .filter(|t| seen.insert(t.id.clone()))
        .collect();
    if unique.len() < fetched {
        debug!(
            pipeline = %pipeline,
            dropped = fetched - unique.len(),
            "The fetch returned some tickets more than once; dropped the repeats."
        );
    }
    unique
}

fn batch_item(ticket: &Ticket, update: TicketUpdate) -> BatchUpdate {
    BatchUpdate {
        id: ticket.id.clone(),
        update,
        current_tags: Some(ticket.tags.clone()),
    }
}

/// The outcome of a routed ticket's tag write. Nothing is recorded for retries: a ticket whose
/// routed tag did not get written is simply fetched again next pass and tried again, so it never
/// uses up attempts or gets the failed tag. Only the write outcome counts (`routed_tagged` on
/// success; conflicts, timeouts, errors and gone as for any write): the ticket itself is counted
/// in `routed`, never in `written`.
fn account_routed(
    name: &str,
    id: &str,
    tag: &str,
    result: Result<(), TicketSystemError>,
    summary: &mut PassSummary,
) -> WriteResult {
    match result {
        Ok(()) => {
            summary.routed_tagged += 1;
            WriteResult::Written
        }
        Err(e) if e.kind == ErrorKind::Conflict => {
            summary.conflicts += 1;
            info!(pipeline = %name, ticket = %id, tag = %tag, "A ticket routed by hand changed since it was read, so its routed tag was not added; it will be read again next pass.");
            WriteResult::Conflict
        }
        Err(e) if e.kind == ErrorKind::NotFound => {
            summary.gone += 1;
            warn!(pipeline = %name, ticket = %id, "The ticket no longer exists; skipped it: {e}");
            WriteResult::Gone
        }
        Err(e) if e.kind == ErrorKind::Timeout => {
            summary.unknown += 1;
            warn!(pipeline = %name, ticket = %id, tag = %tag, "Adding the routed tag timed out and may or may not have been applied; the next fetch tells: {e}");
            WriteResult::Unknown {
                error: e.to_string(),
            }
        }
        Err(e) => {
            summary.failed += 1;
            warn!(pipeline = %name, ticket = %id, tag = %tag, "Could not add the routed tag to a ticket routed by hand; it is left alone and tried again when next fetched: {e}");
            WriteResult::Failed {
                error: e.to_string(),
                attempts: 0,
                gave_up: false,
            }
        }
    }
}

fn set_result(entry: &mut TicketReport, new: WriteResult) {
    match entry {
        TicketReport::Decided { result, .. }
        | TicketReport::MarkFailed { result, .. }
        | TicketReport::Routed { result, .. } => *result = new,
        TicketReport::Waiting { .. } | TicketReport::Echo { .. } => {}
    }
}
