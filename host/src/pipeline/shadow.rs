//! Shadow mode: `otai run --shadow` decides like `--dry-run` (nothing is written to the help desk, the
//! retry state is untouched) and appends one JSON line per classified ticket to a local file; `otai
//! evaluate --shadow FILE` later compares those decisions with what agents actually did.
//!
//! A shadow run tags nothing, so every pass fetches the same tickets again: each ticket is recorded once
//! (ids already in the file when the run starts, and those recorded during the run, are skipped), with
//! its first decision.
//!
//! What counts as "handled by an agent" when comparing: the ticket's status is `solved` or `closed`, or
//! it sits in a queue that is not one of the pipeline's `inbox_queues`. Other tickets are still waiting
//! for a person and are left out (counted). Per field, the truth is the ticket's current value: its queue
//! (name, else id) for `action: queue`, its priority for `action: priority`, the custom field's value for
//! `action: custom_field`; `tag` and `none` fields are not compared.

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::corrections::{
    current_value, learn_queue_names, read_tickets, value_text, Corrections, WriteKind,
};
use super::decide::{Basis, Decision};
use super::{PassReport, TicketReport};
use crate::{
    classifier::evaluate::{FieldScores, Scored},
    config::{FieldAction, PipelineConfig},
    ticket::{Ticket, TicketSystem},
};

/// The default record file of a pipeline.
pub fn default_file(pipeline: &str) -> PathBuf {
    PathBuf::from(".otai/shadow").join(format!("{pipeline}.jsonl"))
}

/// One label and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowScore {
    pub label: String,
    pub probability: f64,
}

/// One field of a shadow record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowField {
    pub field: String,
    /// `queue`, `priority`, `tag`, `custom_field` or `none`.
    pub action: String,
    /// The custom field's id for `action: custom_field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field: Option<String>,
    /// The best label (absent when the model has no such field).
    pub predicted: Option<ShadowScore>,
    pub runner_up: Option<ShadowScore>,
    pub threshold: f64,
    /// The value the best label maps to (what would be written if confident).
    pub predicted_value: Option<Value>,
    /// What the pipeline would have written: a value, or `null` to leave it unchanged.
    pub would_write: Option<Value>,
    /// `confident`, `fallback` (below threshold, the fallback written), `below_threshold` (left
    /// unchanged), `report_only` or `missing`.
    pub basis: String,
}

/// One line of the shadow file: a classified ticket and what would have been written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowRecord {
    /// Unix seconds when the ticket was decided.
    pub time: f64,
    pub pipeline: String,
    pub ticket: String,
    pub fields: Vec<ShadowField>,
}

impl ShadowRecord {
    /// The record of one decision.
    pub fn new(pipeline: &PipelineConfig, decision: &Decision, time: f64) -> Self {
        let fields = pipeline
            .fields
            .iter()
            .zip(&decision.outcomes)
            .map(|(rule, o)| {
                let (action, custom_field) = match &rule.action {
                    FieldAction::Queue => ("queue", None),
                    FieldAction::Priority => ("priority", None),
                    FieldAction::Tag { .. } => ("tag", None),
                    FieldAction::CustomField { id } => ("custom_field", Some(id.clone())),
                    FieldAction::None => ("none", None),
                };
                let scored = |s: &crate::classifier::LabelScore| ShadowScore {
                    label: s.label.clone(),
                    probability: s.probability as f64,
                };
                ShadowField {
                    field: o.field.clone(),
                    action: action.into(),
                    custom_field,
                    predicted: o.best.as_ref().map(scored),
                    runner_up: o.runner_up.as_ref().map(scored),
                    threshold: o.threshold as f64,
                    predicted_value: o.best.as_ref().map(|b| rule.value_for(&b.label)),
                    would_write: o.write.as_ref().map(|w| match w {
                        super::decide::Write::Queue(v)
                        | super::decide::Write::Priority(v)
                        | super::decide::Write::Tag(v) => Value::String(v.clone()),
                        super::decide::Write::CustomField { value, .. } => value.clone(),
                    }),
                    basis: match o.basis {
                        Basis::Confident => "confident",
                        Basis::Fallback => "fallback",
                        Basis::BelowThreshold => "below_threshold",
                        Basis::ReportOnly => "report_only",
                        Basis::Missing => "missing",
                    }
                    .into(),
                }
            })
            .collect();
        Self {
            time,
            pipeline: pipeline.name.clone(),
            ticket: decision.ticket_id.clone(),
            fields,
        }
    }
}

/// Reads every record of a shadow file (a missing file has none). Unreadable lines are errors naming
/// the line.
pub fn read_records(path: &Path) -> anyhow::Result<Vec<ShadowRecord>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not a shadow record", path.display(), i + 1))
        })
        .collect()
}

/// Appends the decisions of shadow passes to a file, each (pipeline, ticket) once.
#[derive(Debug)]
pub struct ShadowRecorder {
    path: PathBuf,
    seen: HashSet<(String, String)>,
}

impl ShadowRecorder {
    /// Opens (creating its folder) a record file; tickets already in it are not recorded again.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let seen = read_records(path)?
            .into_iter()
            .map(|r| (r.pipeline, r.ticket))
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            seen,
        })
    }

    /// Records the classified tickets of a pass not recorded before; returns how many were new.
    pub fn record(
        &mut self,
        pipeline: &PipelineConfig,
        report: &PassReport,
    ) -> anyhow::Result<usize> {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let mut lines = String::new();
        let mut new = 0;
        for t in &report.tickets {
            let TicketReport::Decided { decision, .. } = t else {
                continue;
            };
            if !self
                .seen
                .insert((pipeline.name.clone(), decision.ticket_id.clone()))
            {
                continue;
            }
            lines.push_str(&serde_json::to_string(&ShadowRecord::new(
                pipeline, decision, time,
            ))?);
            lines.push('\n');
            new += 1;
        }
        if new > 0 {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .with_context(|| format!("cannot open {}", self.path.display()))?;
            file.write_all(lines.as_bytes())
                .with_context(|| format!("cannot write {}", self.path.display()))?;
        }
        Ok(new)
    }
}

/// Whether an agent has handled the ticket (see the module docs).
pub fn handled(pipeline: Option<&PipelineConfig>, ticket: &Ticket) -> bool {
    if ticket.state.category.is_finished() {
        return true;
    }
    let inbox: &[String] = pipeline.map(|p| p.inbox_queues.as_slice()).unwrap_or(&[]);
    super::decide::in_queue_outside(inbox, ticket)
}

/// The write kind of a recorded field; `None` for fields that are not compared (`tag`, `none`).
fn write_kind(field: &ShadowField) -> Option<WriteKind> {
    match field.action.as_str() {
        "queue" => Some(WriteKind::Queue),
        "priority" => Some(WriteKind::Priority),
        "custom_field" => field.custom_field.clone().map(WriteKind::CustomField),
        _ => None,
    }
}

/// How the comparison went, beyond the per-field scores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub records: usize,
    pub gone: usize,
    pub unhandled: usize,
    pub failed: usize,
    pub compared: usize,
    /// Per field, what shadow mode would have written against what agents set: the corrections.
    pub corrections: Corrections,
}

/// Compares records with the tickets' current state, fetched through `system` (at most `concurrency`
/// reads at a time). Returns per field the scored predictions (predicted value against current value).
pub async fn compare_with(
    records: Vec<ShadowRecord>,
    pipelines: &BTreeMap<String, PipelineConfig>,
    system: Arc<dyn TicketSystem>,
    concurrency: usize,
) -> (Comparison, FieldScores) {
    let mut cmp = Comparison {
        records: records.len(),
        ..Comparison::default()
    };
    let queue = records
        .iter()
        .flat_map(|r| &r.fields)
        .filter(|f| f.action == "queue")
        .find_map(|f| f.predicted_value.as_ref().and_then(Value::as_str));
    learn_queue_names(system.as_ref(), queue).await;
    let ids: Vec<String> = records.iter().map(|r| r.ticket.clone()).collect();
    let (tickets, gone, failed) = read_tickets(&ids, system, concurrency).await;
    (cmp.gone, cmp.failed) = (gone, failed);
    let mut scored: BTreeMap<String, Vec<Scored>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (r, t) in records.iter().zip(&tickets) {
        let Some(ticket) = t else { continue };
        if !handled(pipelines.get(&r.pipeline), ticket) {
            cmp.unhandled += 1;
            continue;
        }
        cmp.compared += 1;
        for f in &r.fields {
            let Some(kind) = write_kind(f) else { continue };
            let now = current_value(&kind, ticket);
            // Nothing was written in shadow mode: an unset field is one no agent set, not a
            // correction.
            if let (Some(w), Some(now)) = (&f.would_write, &now) {
                cmp.corrections.add(&f.field, &value_text(w), Some(now));
            }
            let (Some(truth), Some(predicted), Some(p)) =
                (now, f.predicted_value.as_ref(), f.predicted.as_ref())
            else {
                continue;
            };
            let predicted = value_text(predicted);
            if !order.contains(&f.field) {
                order.push(f.field.clone());
            }
            scored.entry(f.field.clone()).or_default().push(Scored::new(
                truth,
                predicted,
                p.probability,
            ));
        }
    }
    let out = order
        .into_iter()
        .map(|f| {
            let s = scored.remove(&f).unwrap_or_default();
            (f, s)
        })
        .collect();
    (cmp, out)
}

/// The lines above the per-field tables.
pub fn comparison_header(file: &Path, system: &str, cmp: &Comparison) -> String {
    let mut s = format!(
        "Shadow decisions in {} against ticket system `{system}`: {} recorded, {} handled by agents and compared, \
         {} not handled yet (not finished and still in no queue or an inbox queue), {} gone (404), \
         {} unreadable.",
        file.display(),
        cmp.records,
        cmp.compared,
        cmp.unhandled,
        cmp.gone,
        cmp.failed
    );
    if !cmp.corrections.is_empty() {
        s.push_str("\nWhat shadow mode would have written at the configured thresholds, against what agents set (corrections):\n");
        s.push_str(
            cmp.corrections
                .describe("shadow mode would have written")
                .trim_end(),
        );
    }
    s
}
