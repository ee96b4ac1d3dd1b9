//! `otai run --table`: each pass as a table a person can read (one row per fetched ticket:
//! ticket, subject, queue, priority, confidence, what was written) followed by the pass's summary
//! line, and, while a pass runs and stderr is a terminal, a progress line on stderr.
//!
//! The pass report does not carry subjects, and a pass classifies its tickets in one call, so the
//! pipeline's ticket system and classifier are wrapped ([`TableView::watch`]): the system wrapper
//! remembers each fetched ticket's subject and counts written tickets, the classifier wrapper
//! (only when progress is shown) classifies in chunks to report how far it got. Both hand every
//! call to the real thing unchanged otherwise.

use std::{
    collections::HashMap,
    io::{self, Write},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{
    classifier::{ClassifierError, Prediction, TicketText},
    config::{FieldAction, PipelineConfig},
    pipeline::{
        decide::{Basis, FieldOutcome, Write as FieldWrite},
        Classify, PassReport, TicketReport, WriteResult,
    },
    ticket::{
        BatchOutcome, BatchUpdate, BoxFuture, Note, RequestStats, SearchQuery, Ticket,
        TicketResult, TicketSystem, TicketUpdate,
    },
};

/// Subject column width, in characters.
const SUBJECT_WIDTH: usize = 40;
/// Tickets per classifier call while progress is shown.
const PROGRESS_CHUNK: usize = 16;
/// At most one progress redraw per this long (the last step always shows).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// The table printer for `otai run --table`, one entry per pipeline.
#[derive(Debug, Default)]
pub struct TableView {
    progress: bool,
    pipelines: HashMap<String, Watched>,
}

#[derive(Debug)]
struct Watched {
    book: Arc<Book>,
    queue_field: Option<String>,
    priority_field: Option<String>,
    processed_tag: String,
}

/// What the wrappers saw during the current pass of one pipeline.
#[derive(Debug, Default)]
struct Book {
    subjects: Mutex<HashMap<String, String>>,
    progress: Option<Mutex<Progress>>,
}

#[derive(Debug)]
struct Progress {
    total: usize,
    to_classify: usize,
    classified: usize,
    written: usize,
    last_draw: Option<Instant>,
    shown: bool,
}

impl Progress {
    fn draw(&mut self, force: bool) {
        let now = Instant::now();
        if !force && self.last_draw.is_some_and(|t| now - t < PROGRESS_EVERY) {
            return;
        }
        self.last_draw = Some(now);
        self.shown = true;
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2Kfetched {}, classified {}/{}, written {}/{}",
            self.total, self.classified, self.to_classify, self.written, self.total
        );
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.shown {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

impl Book {
    fn with_progress(&self, f: impl FnOnce(&mut Progress)) {
        if let Some(p) = &self.progress {
            f(&mut p.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    fn subject(&self, id: &str) -> String {
        self.subjects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
            .unwrap_or_default()
    }
}

impl TableView {
    /// `progress`: draw a progress line on stderr during each pass (for a terminal).
    pub fn new(progress: bool) -> TableView {
        TableView {
            progress,
            pipelines: HashMap::new(),
        }
    }

    /// Wraps a pipeline's ticket system and classifier so its passes can be shown as a table.
    pub fn watch(
        &mut self,
        pipeline: &PipelineConfig,
        system: Arc<dyn TicketSystem>,
        classifier: Arc<dyn Classify>,
    ) -> (Arc<dyn TicketSystem>, Arc<dyn Classify>) {
        let book = Arc::new(Book {
            subjects: Mutex::default(),
            progress: self.progress.then(|| {
                Mutex::new(Progress {
                    total: 0,
                    to_classify: 0,
                    classified: 0,
                    written: 0,
                    last_draw: None,
                    shown: false,
                })
            }),
        });
        let field_for = |wanted: fn(&FieldAction) -> bool| {
            pipeline
                .fields
                .iter()
                .find(|r| wanted(&r.action))
                .map(|r| r.field.clone())
        };
        self.pipelines.insert(
            pipeline.name.clone(),
            Watched {
                book: book.clone(),
                queue_field: field_for(|a| matches!(a, FieldAction::Queue)),
                priority_field: field_for(|a| matches!(a, FieldAction::Priority)),
                processed_tag: pipeline.processed_tag.clone(),
            },
        );
        let classifier: Arc<dyn Classify> = if self.progress {
            Arc::new(ChunkedClassifier {
                inner: classifier,
                book: book.clone(),
            })
        } else {
            classifier
        };
        (
            Arc::new(WatchedSystem {
                inner: system,
                book,
            }),
            classifier,
        )
    }

    /// Prints one pass: the table, a line of counts and the pass's summary line.
    pub fn print(&self, out: &mut dyn Write, report: &PassReport) -> io::Result<()> {
        let watched = self.pipelines.get(&report.pipeline);
        if let Some(w) = watched {
            w.book.with_progress(Progress::clear);
        }
        // By ticket id (numerically for numeric ids), not the report's set-aside-first order.
        let mut rows: Vec<[String; 6]> = report.tickets.iter().map(|t| row(watched, t)).collect();
        rows.sort_by(|a, b| (a[0].len(), &a[0]).cmp(&(b[0].len(), &b[0])));
        let header = [
            "ticket",
            "subject",
            "queue",
            "priority",
            "conf",
            if report.dry_run {
                "would write"
            } else {
                "written"
            },
        ]
        .map(String::from);
        let mut widths = [0usize; 6];
        for r in std::iter::once(&header).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |out: &mut dyn Write, r: &[String; 6]| -> io::Result<()> {
            let mut text = String::new();
            for (i, (cell, w)) in r.iter().zip(widths).enumerate() {
                if i == 5 {
                    text.push_str(cell);
                } else {
                    text.push_str(&pad(cell, w));
                    text.push_str("  ");
                }
            }
            writeln!(out, "{}", text.trim_end())
        };
        if !rows.is_empty() {
            line(out, &header)?;
            for r in &rows {
                line(out, r)?;
            }
            writeln!(out)?;
        }
        writeln!(out, "{}", counts(watched, report))?;
        writeln!(out, "{report}")?;
        if let Some(w) = watched {
            w.book
                .subjects
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
        out.flush()
    }
}

/// One table row: ticket, subject, queue, priority, confidence, what was written.
fn row(watched: Option<&Watched>, ticket: &TicketReport) -> [String; 6] {
    let id = ticket.id().to_string();
    let subject = truncate(
        &watched.map(|w| w.book.subject(&id)).unwrap_or_default(),
        SUBJECT_WIDTH,
    );
    let dash = || "-".to_string();
    match ticket {
        TicketReport::Decided { decision, result } => {
            let field = |name: Option<&String>| {
                name.and_then(|n| decision.outcomes.iter().find(|o| &o.field == n))
            };
            let queue = field(watched.and_then(|w| w.queue_field.as_ref()));
            let priority = field(watched.and_then(|w| w.priority_field.as_ref()));
            let confidence = queue
                .and_then(|o| o.best.as_ref())
                .map(|b| format!("{:.2}", b.probability))
                .unwrap_or_else(dash);
            let processed = watched.map(|w| w.processed_tag.as_str());
            let written = match result {
                WriteResult::Written | WriteResult::DryRun => describe(&decision.update, processed),
                other => format!("nothing: {}", result_text(other)),
            };
            [
                id,
                subject,
                queue.map(value_text).unwrap_or_else(dash),
                priority.map(value_text).unwrap_or_else(dash),
                confidence,
                written,
            ]
        }
        TicketReport::Routed {
            queue, tag, result, ..
        } => [
            id,
            subject,
            "left alone".into(),
            dash(),
            dash(),
            match result {
                WriteResult::Written | WriteResult::DryRun => {
                    format!("+{tag} (already in queue {queue})")
                }
                other => format!("nothing: {}", result_text(other)),
            },
        ],
        TicketReport::Waiting { attempts, .. } => [
            id,
            subject,
            "backing off".into(),
            dash(),
            dash(),
            format!("nothing this pass ({attempts} failed write(s))"),
        ],
        TicketReport::Echo { .. } => [
            id,
            subject,
            "written moments ago".into(),
            dash(),
            dash(),
            "nothing (the search index lags the write)".into(),
        ],
        TicketReport::MarkFailed {
            attempts, result, ..
        } => [
            id,
            subject,
            "gave up".into(),
            dash(),
            dash(),
            match result {
                WriteResult::Written | WriteResult::DryRun => {
                    format!("failed tag and note (after {attempts} attempts)")
                }
                other => format!("nothing: {}", result_text(other)),
            },
        ],
    }
}

/// A field's written value, marked when it is the fallback; "unchanged" when nothing is written.
fn value_text(o: &FieldOutcome) -> String {
    let value = match &o.write {
        Some(FieldWrite::Queue(v)) | Some(FieldWrite::Priority(v)) | Some(FieldWrite::Tag(v)) => {
            v.clone()
        }
        Some(FieldWrite::CustomField { value, .. }) => value.to_string(),
        None => return "unchanged".into(),
    };
    match o.basis {
        Basis::Fallback => format!("{value} (fallback)"),
        _ => value,
    }
}

/// What the update writes, short: `queue Cards, priority urgent, +otai_intent__..., note`
/// (the processed tag, on every written ticket, is left to the line under the table).
fn describe(update: &TicketUpdate, processed_tag: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(q) = &update.queue {
        parts.push(format!(
            "queue {}",
            q.name.as_deref().or(q.id.as_deref()).unwrap_or("?")
        ));
    }
    if let Some(p) = &update.priority {
        parts.push(format!("priority {p}"));
    }
    for f in &update.custom_fields {
        parts.push(format!("field {} = {}", f.id, f.value));
    }
    for tag in &update.add_tags {
        if Some(tag.as_str()) != processed_tag {
            parts.push(format!("+{tag}"));
        }
    }
    if update.note.is_some() {
        parts.push("note".into());
    }
    if parts.is_empty() {
        "processed tag only".into()
    } else {
        parts.join(", ")
    }
}

fn result_text(result: &WriteResult) -> String {
    match result {
        WriteResult::DryRun => "dry run".into(),
        WriteResult::NotSent => "not sent (next pass)".into(),
        WriteResult::Written => "written".into(),
        WriteResult::Conflict => "changed since read (next pass)".into(),
        WriteResult::Unknown { .. } => "timed out, unknown whether written".into(),
        WriteResult::Failed { attempts, .. } => format!("write failed (attempt {attempts})"),
        WriteResult::Gone => "ticket no longer exists".into(),
    }
}

/// One line of counts under the table: where the tickets went.
fn counts(watched: Option<&Watched>, report: &PassReport) -> String {
    let (mut confident, mut fallback, mut unchanged, mut alone, mut other) = (0, 0, 0, 0, 0);
    let mut by_queue: Vec<(String, usize)> = Vec::new();
    let mut fallback_to: Option<(String, f32)> = None;
    for t in &report.tickets {
        match t {
            TicketReport::Decided { decision, .. } => {
                let queue = watched
                    .and_then(|w| w.queue_field.as_ref())
                    .and_then(|n| decision.outcomes.iter().find(|o| &o.field == n));
                match queue.map(|o| (o.basis, &o.write)) {
                    Some((Basis::Confident, Some(w))) => {
                        confident += 1;
                        let name = match w {
                            FieldWrite::Queue(v) => v.clone(),
                            other => other.to_string(),
                        };
                        match by_queue.iter_mut().find(|(n, _)| *n == name) {
                            Some((_, c)) => *c += 1,
                            None => by_queue.push((name, 1)),
                        }
                    }
                    Some((Basis::Fallback, w)) => {
                        fallback += 1;
                        if let (Some(FieldWrite::Queue(name)), Some(o)) = (w, queue) {
                            fallback_to = Some((name.clone(), o.threshold));
                        }
                    }
                    _ => unchanged += 1,
                }
            }
            TicketReport::Routed { .. } => alone += 1,
            _ => other += 1,
        }
    }
    if report.tickets.is_empty() {
        return "No tickets to route this pass.".into();
    }
    by_queue.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut text = format!(
        "{} ticket(s): {confident} routed by the model",
        report.tickets.len()
    );
    if !by_queue.is_empty() {
        let list: Vec<String> = by_queue.iter().map(|(n, c)| format!("{n} {c}")).collect();
        text.push_str(&format!(" ({})", list.join(", ")));
    }
    match fallback_to {
        Some((name, threshold)) => text.push_str(&format!(
            ", {fallback} to {name} (confidence below {threshold:.2})"
        )),
        None => text.push_str(&format!(", {fallback} to the fallback queue")),
    }
    if unchanged > 0 {
        text.push_str(&format!(", {unchanged} with the queue left unchanged"));
    }
    text.push_str(&format!(", {alone} left alone (routed by hand)"));
    if other > 0 {
        text.push_str(&format!(", {other} backing off or given up"));
    }
    if let Some(w) = watched {
        if !report.dry_run && report.summary.written > 0 {
            text.push_str(&format!(
                ". Each written ticket also got the tag {}",
                w.processed_tag
            ));
        }
    }
    text.push('.');
    text
}

fn pad(cell: &str, width: usize) -> String {
    let n = cell.chars().count();
    format!("{cell}{}", " ".repeat(width.saturating_sub(n)))
}

fn truncate(text: &str, width: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= width {
        return text;
    }
    let cut: String = text.chars().take(width.saturating_sub(3)).collect();
    format!("{}...", cut.trim_end())
}

/// The pipeline's ticket system, remembering subjects and counting written tickets.
#[derive(Debug)]
struct WatchedSystem {
    inner: Arc<dyn TicketSystem>,
    book: Arc<Book>,
}

impl TicketSystem for WatchedSystem {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn find_tickets(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>> {
        Box::pin(async move {
            let tickets = self.inner.find_tickets(query).await?;
            {
                let mut subjects = self.book.subjects.lock().unwrap_or_else(|e| e.into_inner());
                for t in &tickets {
                    subjects.insert(t.id.clone(), t.subject.clone());
                }
            }
            self.book.with_progress(|p| {
                p.total = tickets.len();
                p.to_classify = 0;
                p.classified = 0;
                p.written = 0;
                p.draw(true);
            });
            Ok(tickets)
        })
    }

    fn find_first_ticket(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        self.inner.find_first_ticket(query)
    }

    fn get_ticket(&self, id: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        self.inner.get_ticket(id)
    }

    fn update_ticket(&self, id: &str, update: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>> {
        self.inner.update_ticket(id, update)
    }

    fn add_note(&self, id: &str, note: Note) -> BoxFuture<'_, TicketResult<()>> {
        self.inner.add_note(id, note)
    }

    fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
        self.inner.check_connection()
    }

    fn update_tickets(
        &self,
        updates: Vec<BatchUpdate>,
    ) -> BoxFuture<'_, TicketResult<Vec<BatchOutcome>>> {
        Box::pin(async move {
            let outcomes = self.inner.update_tickets(updates).await?;
            self.book.with_progress(|p| {
                p.written += outcomes.iter().filter(|o| o.result.is_ok()).count();
                p.draw(true);
            });
            Ok(outcomes)
        })
    }

    fn request_stats(&self) -> Option<RequestStats> {
        self.inner.request_stats()
    }
}

/// The classifier, called in chunks so that progress can be drawn between them.
#[derive(Debug)]
struct ChunkedClassifier {
    inner: Arc<dyn Classify>,
    book: Arc<Book>,
}

impl Classify for ChunkedClassifier {
    fn classify<'a>(
        &'a self,
        tickets: &'a [TicketText],
    ) -> BoxFuture<'a, Result<Vec<Prediction>, ClassifierError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(tickets.len());
            self.book.with_progress(|p| p.to_classify = tickets.len());
            for chunk in tickets.chunks(PROGRESS_CHUNK) {
                out.extend(self.inner.classify(chunk).await?);
                let done = out.len();
                self.book.with_progress(|p| {
                    p.classified = done;
                    p.draw(done == tickets.len());
                });
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::decide::Decision;

    #[test]
    fn truncate_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a  b\nc", 10), "a b c");
        assert_eq!(truncate("ééééééééééééé", 8), "ééééé...");
    }

    #[test]
    fn an_empty_pass_prints_one_line_and_the_summary() {
        let report = PassReport {
            pipeline: "demo".into(),
            dry_run: false,
            summary: Default::default(),
            tickets: Vec::new(),
            failure: None,
        };
        let mut out = Vec::new();
        TableView::new(false).print(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "No tickets to route this pass.");
        assert!(lines[1].starts_with("pipeline demo: fetched 0"), "{text}");
        assert_eq!(lines.len(), 2, "{text}");
    }

    #[test]
    fn a_row_per_ticket_by_id_with_queue_priority_confidence_and_the_write() {
        use crate::{classifier::LabelScore, ticket::Queue};
        let book = Arc::new(Book::default());
        book.subjects.lock().unwrap().insert(
            "9000000002".into(),
            "I lost my card and need it blocked now".into(),
        );
        let view = TableView {
            progress: false,
            pipelines: HashMap::from([(
                "demo".to_string(),
                Watched {
                    book,
                    queue_field: Some("queue".into()),
                    priority_field: Some("priority".into()),
                    processed_tag: "otai_processed".into(),
                },
            )]),
        };
        let outcome = |field: &str, label: &str, p: f32, basis, write| FieldOutcome {
            field: field.into(),
            best: Some(LabelScore {
                label: label.into(),
                probability: p,
            }),
            runner_up: None,
            threshold: 0.8,
            basis,
            write: Some(write),
        };
        let decision = Decision {
            ticket_id: "9000000002".into(),
            outcomes: vec![
                outcome(
                    "queue",
                    "cards",
                    0.964,
                    Basis::Confident,
                    FieldWrite::Queue("Cards".into()),
                ),
                outcome(
                    "priority",
                    "urgent",
                    0.41,
                    Basis::Fallback,
                    FieldWrite::Priority("normal".into()),
                ),
            ],
            update: TicketUpdate {
                queue: Some(Queue {
                    id: None,
                    name: Some("Cards".into()),
                }),
                priority: Some("normal".into()),
                add_tags: vec!["otai_intent__lost".into(), "otai_processed".into()],
                note: Some(Note::default()),
                ..Default::default()
            },
        };
        let report = PassReport {
            pipeline: "demo".into(),
            dry_run: false,
            summary: Default::default(),
            tickets: vec![
                TicketReport::Routed {
                    id: "9000000010".into(),
                    queue: "id 7".into(),
                    tag: "otai_routed".into(),
                    result: WriteResult::Written,
                },
                TicketReport::Decided {
                    decision: Box::new(decision),
                    result: WriteResult::Written,
                },
            ],
            failure: None,
        };
        let mut out = Vec::new();
        view.print(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ticket      subject"), "{text}");
        let cells: Vec<&str> = lines[1]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            [
                "9000000002",
                "I lost my card and need it blocked now",
                "Cards",
                "normal (fallback)",
                "0.96",
                "queue Cards, priority normal, +otai_intent__lost, note"
            ],
            "{text}"
        );
        assert!(lines[2].starts_with("9000000010"), "{text}");
        assert!(lines[2].contains("left alone"), "{text}");
        assert!(
            lines[2].ends_with("+otai_routed (already in queue id 7)"),
            "{text}"
        );
        assert!(
            lines[4].starts_with("2 ticket(s): 1 routed by the model (Cards 1), 0 to the fallback queue, 1 left alone"),
            "{text}"
        );
    }

    #[test]
    fn pad_fills_to_the_width_in_characters() {
        assert_eq!(pad("é", 3), "é  ");
        assert_eq!(pad("long", 2), "long");
    }
}
