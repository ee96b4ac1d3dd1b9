//! `otai run --table`: each pass as a table a person can read (one row per fetched ticket:
//! ticket, subject, queue, priority, confidence, what was written) followed by the pass's summary
//! line, and, while a pass runs and stderr is a terminal, a progress line on stderr.
//!
//! The rows come from the pass report (which carries each fetched ticket's subject); the progress
//! line from a [`PassProgress`] watcher that [`TableView::watch`] hands to the pipeline.

use std::{
    collections::HashMap,
    io::{self, Write},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{
    config::{FieldAction, PipelineConfig},
    pipeline::{
        decide::{Basis, FieldOutcome, Write as FieldWrite},
        PassProgress, PassReport, TicketReport, WriteResult,
    },
    ticket::TicketUpdate,
};

/// Subject column width, in characters.
const SUBJECT_WIDTH: usize = 40;
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
    progress: Option<Arc<ProgressLine>>,
    queue_field: Option<String>,
    priority_field: Option<String>,
    processed_tag: String,
}

/// The progress line of one pipeline's pass, on stderr.
#[derive(Debug, Default)]
struct ProgressLine(Mutex<Progress>);

#[derive(Debug, Default)]
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

impl ProgressLine {
    fn update(&self, f: impl FnOnce(&mut Progress)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

impl PassProgress for ProgressLine {
    fn fetched(&self, tickets: usize) {
        self.update(|p| {
            *p = Progress {
                total: tickets,
                shown: p.shown,
                ..Progress::default()
            };
            p.draw(true);
        });
    }

    fn classified(&self, done: usize, of: usize) {
        self.update(|p| {
            p.to_classify = of;
            p.classified = done;
            p.draw(done == of);
        });
    }

    fn written(&self, tickets: usize) {
        self.update(|p| {
            p.written += tickets;
            p.draw(true);
        });
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

    /// Registers a pipeline whose passes will be shown; returns the progress watcher to hand to
    /// it ([`Pipeline::watch_progress`](crate::pipeline::Pipeline::watch_progress)) when progress
    /// is drawn.
    pub fn watch(&mut self, pipeline: &PipelineConfig) -> Option<Arc<dyn PassProgress>> {
        let progress = self.progress.then(|| Arc::new(ProgressLine::default()));
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
                progress: progress.clone(),
                queue_field: field_for(|a| matches!(a, FieldAction::Queue)),
                priority_field: field_for(|a| matches!(a, FieldAction::Priority)),
                processed_tag: pipeline.processed_tag.clone(),
            },
        );
        progress.map(|p| p as Arc<dyn PassProgress>)
    }

    /// Prints one pass: the table, a line of counts and the pass's summary line.
    pub fn print(&self, out: &mut dyn Write, report: &PassReport) -> io::Result<()> {
        let watched = self.pipelines.get(&report.pipeline);
        if let Some(progress) = watched.and_then(|w| w.progress.as_ref()) {
            progress.update(Progress::clear);
        }
        // By ticket id (numerically for numeric ids), not the report's set-aside-first order.
        let mut rows: Vec<[String; 6]> = report
            .tickets
            .iter()
            .map(|t| row(watched, report, t))
            .collect();
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
        out.flush()
    }
}

/// One table row: ticket, subject, queue, priority, confidence, what was written.
fn row(watched: Option<&Watched>, report: &PassReport, ticket: &TicketReport) -> [String; 6] {
    let id = ticket.id().to_string();
    let subject = truncate(
        report.subjects.get(&id).map_or("", String::as_str),
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
            subjects: HashMap::new(),
            failure: None,
            started: std::time::SystemTime::UNIX_EPOCH,
            took: Default::default(),
            classify_took: None,
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
        use crate::{
            classifier::LabelScore,
            ticket::{Note, Queue},
        };
        let view = TableView {
            progress: false,
            pipelines: HashMap::from([(
                "demo".to_string(),
                Watched {
                    progress: None,
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
            subjects: HashMap::from([(
                "9000000002".to_string(),
                "I lost my card and need it blocked now".to_string(),
            )]),
            failure: None,
            started: std::time::SystemTime::UNIX_EPOCH,
            took: Default::default(),
            classify_took: None,
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
