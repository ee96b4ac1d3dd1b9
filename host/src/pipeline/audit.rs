//! The audit log: one JSON line per ticket a pass wrote to or tried to, appended to the pipeline's
//! `audit_log` file, for an operator to keep or ship to a SIEM.
//!
//! A line says when, which pipeline and ticket, what kind of write (`classify`, `routed_tag`,
//! `failed_tag`), what was written (queue, priority, added tags, custom fields, whether a note), the
//! model and, per field, its label, confidence and action, and the outcome (`written`, `conflict`,
//! `unknown`, `failed`, `gone`, `not_sent`) with the error if any. Ticket text never appears: the log
//! says what otai did, not what customers wrote. Tickets left alone (backing off, search-index echoes)
//! and dry runs write nothing, so they are not logged.

use std::{
    fs::{File, OpenOptions},
    io::Write as _,
    path::{Path, PathBuf},
};

use serde_json::{json, Value};

use super::pass::{PassReport, TicketReport, WriteResult};
use crate::ticket::TicketUpdate;

/// An open audit log, appended to.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
}

impl AuditLog {
    /// Opens (creating it and its folder if needed) `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the lines of one pass and syncs them to disk; returns how many were written.
    pub fn record(&mut self, report: &PassReport, model: &str) -> std::io::Result<usize> {
        let time = crate::history::since::rfc3339(crate::history::since::now_unix());
        let lines = entries(report, model, &time);
        let mut text = String::new();
        for line in &lines {
            text.push_str(&line.to_string());
            text.push('\n');
        }
        self.file.write_all(text.as_bytes())?;
        self.file.sync_data()?;
        Ok(lines.len())
    }
}

/// The audit lines of one pass, stamped `time`.
pub fn entries(report: &PassReport, model: &str, time: &str) -> Vec<Value> {
    if report.dry_run {
        return Vec::new();
    }
    report
        .tickets
        .iter()
        .filter_map(|t| {
            let result = match t {
                TicketReport::Decided { result, .. }
                | TicketReport::Routed { result, .. }
                | TicketReport::MarkFailed { result, .. } => result,
                TicketReport::Waiting { .. } | TicketReport::Echo { .. } => return None,
            };
            let (outcome, error) = outcome(result);
            let mut line = json!({
                "time": time,
                "pipeline": report.pipeline,
                "ticket": t.id(),
                "outcome": outcome,
            });
            if let Some(error) = error {
                line["error"] = json!(error);
            }
            match t {
                TicketReport::Decided { decision, .. } => {
                    line["action"] = json!("classify");
                    line["model"] = json!(model);
                    line["fields"] = decision
                        .outcomes
                        .iter()
                        .map(|o| {
                            json!({
                                "field": o.field,
                                "label": o.best.as_ref().map(|b| &b.label),
                                "confidence": o.best.as_ref().map(|b| round(b.probability)),
                                "action": o.action_text(),
                            })
                        })
                        .collect();
                    line["written"] = written(&decision.update);
                }
                TicketReport::Routed { queue, tag, .. } => {
                    line["action"] = json!("routed_tag");
                    line["queue"] = json!(queue);
                    line["written"] = json!({"tags_added": [tag]});
                }
                TicketReport::MarkFailed {
                    attempts, reason, ..
                } => {
                    line["action"] = json!("failed_tag");
                    line["attempts"] = json!(attempts);
                    line["reason"] = json!(reason);
                }
                TicketReport::Waiting { .. } | TicketReport::Echo { .. } => {}
            }
            Some(line)
        })
        .collect()
}

/// What an update writes, without the note's text (it quotes no ticket text, but is long).
fn written(u: &TicketUpdate) -> Value {
    let mut w = json!({});
    if let Some(q) = &u.queue {
        w["queue"] = json!(q.name.as_ref().or(q.id.as_ref()));
    }
    if let Some(p) = &u.priority {
        w["priority"] = json!(p);
    }
    if !u.add_tags.is_empty() {
        w["tags_added"] = json!(u.add_tags);
    }
    if !u.custom_fields.is_empty() {
        w["custom_fields"] = u
            .custom_fields
            .iter()
            .map(|f| json!({"id": f.id, "value": f.value}))
            .collect();
    }
    w["note"] = json!(u.note.is_some());
    w
}

fn outcome(result: &WriteResult) -> (&'static str, Option<String>) {
    match result {
        WriteResult::Written => ("written", None),
        WriteResult::DryRun => ("dry_run", None),
        WriteResult::NotSent => ("not_sent", None),
        WriteResult::Conflict => ("conflict", None),
        WriteResult::Unknown { error } => ("unknown", Some(error.clone())),
        WriteResult::Failed { error, .. } => ("failed", Some(error.clone())),
        WriteResult::Gone => ("gone", None),
    }
}

fn round(p: f32) -> f64 {
    (p as f64 * 10_000.0).round() / 10_000.0
}
