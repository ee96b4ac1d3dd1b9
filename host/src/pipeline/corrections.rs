//! Corrections: a ticket otai routed (or, in shadow mode, would have routed) that an agent has
//! since moved is a labelled example of where the model is wrong. Counted per field, with the
//! moves agents make most, by `otai evaluate --shadow FILE` (what shadow mode would have written)
//! and `otai evaluate --audit FILE` (what otai wrote, from its audit log), both against the
//! tickets' state now. The history that `otai train --system` learns from carries the agents'
//! values, so the next model learns from every correction; `--promote` then only puts it in use
//! if it does better on the newest tickets.
//!
//! An audit line holds what was written (queue, priority, custom fields) but not which field of
//! the pipeline wrote it; the pipeline's configuration says (`action:`), and without it the write
//! is counted under its kind (`queue`, `priority`, `custom_field:<id>`). Only the newest
//! `classify` line per ticket that the help desk took (`outcome: written`) counts.

use std::{
    collections::{BTreeMap, HashMap},
    io::BufRead as _,
    path::Path,
    sync::Arc,
};

use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;

use crate::{
    config::{FieldAction, PipelineConfig},
    ticket::{Ticket, TicketSystem},
};

/// How many moves of a field the summary lists.
const MOVES_SHOWN: usize = 5;

/// One field's count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldCorrections {
    /// Tickets otai wrote (or would have written) the field on, that could be compared.
    pub written: usize,
    /// Of those, where the ticket still has otai's value.
    pub kept: usize,
    /// Of those, where an agent set another value (or cleared it).
    pub corrected: usize,
    /// `(otai's value, the agent's value)` and how often, most frequent first.
    pub moves: Vec<(String, String, usize)>,
}

/// Corrections per field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Corrections {
    counts: BTreeMap<String, Tally>,
}

/// One field's running count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tally {
    written: usize,
    kept: usize,
    /// `(otai's value, the agent's value)` -> tickets.
    moves: BTreeMap<(String, String), usize>,
}

/// What an agent's cleared value shows as.
pub const CLEARED: &str = "(cleared)";

impl Corrections {
    /// Counts one ticket's field: otai's value and the ticket's value now (`None`: cleared).
    pub fn add(&mut self, field: &str, otai: &str, now: Option<&str>) {
        let tally = self.counts.entry(field.to_string()).or_default();
        tally.written += 1;
        if now == Some(otai) {
            tally.kept += 1;
        } else {
            *tally
                .moves
                .entry((otai.to_string(), now.unwrap_or(CLEARED).to_string()))
                .or_default() += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Per field, in name order.
    pub fn fields(&self) -> Vec<(String, FieldCorrections)> {
        self.counts
            .iter()
            .map(|(field, tally)| {
                let mut moves: Vec<(String, String, usize)> = tally
                    .moves
                    .iter()
                    .map(|((from, to), n)| (from.clone(), to.clone(), *n))
                    .collect();
                moves.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
                (
                    field.clone(),
                    FieldCorrections {
                        written: tally.written,
                        kept: tally.kept,
                        corrected: tally.written - tally.kept,
                        moves,
                    },
                )
            })
            .collect()
    }

    /// The summary lines, `what` saying whose values they were ("otai wrote", "shadow mode would
    /// have written").
    pub fn describe(&self, what: &str) -> String {
        let mut s = String::new();
        for (field, c) in self.fields() {
            let share = |n: usize| 100.0 * n as f64 / c.written.max(1) as f64;
            s.push_str(&format!(
                "`{field}`: {what} it on {} ticket(s); agents kept {} ({:.1} %) and corrected {} ({:.1} %)",
                c.written,
                c.kept,
                share(c.kept),
                c.corrected,
                share(c.corrected)
            ));
            if !c.moves.is_empty() {
                let shown: Vec<String> = c
                    .moves
                    .iter()
                    .take(MOVES_SHOWN)
                    .map(|(from, to, n)| format!("{from} -> {to} ({n})"))
                    .collect();
                s.push_str(&format!(
                    "; most often {}{}",
                    shown.join(", "),
                    if c.moves.len() > MOVES_SHOWN {
                        ", ..."
                    } else {
                        ""
                    }
                ));
            }
            s.push_str(".\n");
        }
        s
    }
}

/// The ticket's value now for a write kind: the queue's name (else id), the priority, a custom
/// field's value as text.
pub fn current_value(kind: &WriteKind, ticket: &Ticket) -> Option<String> {
    match kind {
        WriteKind::Queue => ticket
            .queue
            .as_ref()
            .and_then(|q| q.name.clone().or_else(|| q.id.clone())),
        WriteKind::Priority => ticket.priority.clone(),
        WriteKind::CustomField(id) => ticket
            .custom_fields
            .iter()
            .find(|c| &c.id == id)
            .filter(|c| !c.value.is_null())
            .map(|c| value_text(&c.value)),
    }
}

/// A JSON value as the text it compares by (strings without quotes).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a write set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WriteKind {
    Queue,
    Priority,
    CustomField(String),
}

impl WriteKind {
    /// The pipeline field that writes this kind, else the kind's own name.
    fn field_name(&self, pipeline: Option<&PipelineConfig>) -> String {
        let rule = pipeline.and_then(|p| {
            p.fields.iter().find(|rule| {
                matches!(
                    (&rule.action, self),
                    (FieldAction::Queue, WriteKind::Queue)
                        | (FieldAction::Priority, WriteKind::Priority)
                ) || matches!((&rule.action, self), (FieldAction::CustomField { id }, WriteKind::CustomField(k)) if id == k)
            })
        });
        match (rule, self) {
            (Some(rule), _) => rule.field.clone(),
            (None, WriteKind::Queue) => "queue".into(),
            (None, WriteKind::Priority) => "priority".into(),
            (None, WriteKind::CustomField(id)) => format!("custom_field:{id}"),
        }
    }
}

/// One ticket otai wrote, from the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub pipeline: String,
    pub ticket: String,
    pub values: Vec<(WriteKind, String)>,
}

/// The newest written `classify` line per (pipeline, ticket) of an audit log, in the order the
/// tickets were first written. Unreadable lines are errors naming the line (an audit log is
/// otai's own file; a broken one should be looked at, not half-read).
pub fn read_audit(path: &Path) -> anyhow::Result<Vec<Written>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut order: Vec<(String, String)> = Vec::new();
    let mut newest: HashMap<(String, String), Written> = HashMap::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not an audit line", path.display(), i + 1))?;
        if v["action"] != "classify" || v["outcome"] != "written" {
            continue;
        }
        let (Some(pipeline), Some(ticket)) = (v["pipeline"].as_str(), v["ticket"].as_str()) else {
            anyhow::bail!(
                "{}:{}: an audit line without pipeline or ticket",
                path.display(),
                i + 1
            );
        };
        let w = &v["written"];
        let mut values = Vec::new();
        if let Some(q) = w.get("queue").filter(|q| !q.is_null()) {
            values.push((WriteKind::Queue, value_text(q)));
        }
        if let Some(p) = w.get("priority").filter(|p| !p.is_null()) {
            values.push((WriteKind::Priority, value_text(p)));
        }
        for f in w["custom_fields"].as_array().into_iter().flatten() {
            if let (Some(id), Some(value)) = (f.get("id"), f.get("value")) {
                values.push((WriteKind::CustomField(value_text(id)), value_text(value)));
            }
        }
        let key = (pipeline.to_string(), ticket.to_string());
        if !newest.contains_key(&key) {
            order.push(key.clone());
        }
        newest.insert(
            key,
            Written {
                pipeline: pipeline.to_string(),
                ticket: ticket.to_string(),
                values,
            },
        );
    }
    Ok(order
        .into_iter()
        .filter_map(|key| newest.remove(&key))
        .collect())
}

/// Reads tickets through `system`, at most `concurrency` at a time: each ticket or `None`
/// (gone), with the counts of gone and unreadable ones.
pub async fn read_tickets(
    ids: &[String],
    system: Arc<dyn TicketSystem>,
    concurrency: usize,
) -> (Vec<Option<Ticket>>, usize, usize) {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        let (system, semaphore, id) = (system.clone(), semaphore.clone(), id.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (i, system.get_ticket(&id).await)
        });
    }
    let (mut gone, mut failed) = (0, 0);
    let mut tickets: Vec<Option<Ticket>> = vec![None; ids.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, Ok(Some(t)))) => tickets[i] = Some(t),
            Ok((_, Ok(None))) => gone += 1,
            Ok((i, Err(e))) => {
                tracing::warn!(ticket = %ids[i], error = %e, "Cannot read a ticket; left out of the comparison.");
                failed += 1;
            }
            Err(e) => {
                tracing::warn!(error = %e, "A ticket read task failed.");
                failed += 1;
            }
        }
    }
    (tickets, gone, failed)
}

/// Adapters may give a ticket's queue by id only until they know the queue names (Zendesk's
/// group list loads on the first search or write by group name): one read-only search by a
/// queue name otai wrote, so the tickets read next carry names to compare with.
pub async fn learn_queue_names(system: &dyn TicketSystem, queue: Option<&str>) {
    let Some(name) = queue else { return };
    let query = crate::ticket::SearchQuery {
        queue: Some(name.to_string()),
        limit: Some(1),
        ..Default::default()
    };
    if let Err(e) = system.find_first_ticket(query).await {
        tracing::debug!(queue = %name, error = %e, "A search to learn the queue names failed; queues may compare by id.");
    }
}

/// What `otai evaluate --audit` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditComparison {
    /// Tickets otai wrote (newest line each).
    pub tickets: usize,
    pub gone: usize,
    pub unreadable: usize,
    /// Of the readable ones, those an agent has finished (solved or closed).
    pub finished: usize,
    pub corrections: Corrections,
}

/// Compares what otai wrote with the tickets now.
pub async fn compare_audit(
    written: Vec<Written>,
    pipelines: &BTreeMap<String, PipelineConfig>,
    system: Arc<dyn TicketSystem>,
    concurrency: usize,
) -> AuditComparison {
    let queue = written
        .iter()
        .flat_map(|w| &w.values)
        .find(|(kind, _)| *kind == WriteKind::Queue)
        .map(|(_, v)| v.as_str());
    learn_queue_names(system.as_ref(), queue).await;
    let ids: Vec<String> = written.iter().map(|w| w.ticket.clone()).collect();
    let (tickets, gone, unreadable) = read_tickets(&ids, system, concurrency).await;
    let mut out = AuditComparison {
        tickets: written.len(),
        gone,
        unreadable,
        ..AuditComparison::default()
    };
    for (w, ticket) in written.iter().zip(&tickets) {
        let Some(ticket) = ticket else { continue };
        out.finished += usize::from(ticket.state.category.is_finished());
        let pipeline = pipelines.get(&w.pipeline);
        for (kind, value) in &w.values {
            let now = current_value(kind, ticket);
            out.corrections
                .add(&kind.field_name(pipeline), value, now.as_deref());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_count_kept_and_moved_values_most_frequent_move_first() {
        let mut c = Corrections::default();
        c.add("queue", "Billing", Some("Billing"));
        c.add("queue", "Billing", Some("Technical"));
        c.add("queue", "Sales", Some("Technical"));
        c.add("queue", "Billing", Some("Technical"));
        c.add("queue", "Sales", None);
        c.add("priority", "high", Some("high"));
        let fields = c.fields();
        assert_eq!(fields[0].0, "priority");
        let queue = &fields[1].1;
        assert_eq!((queue.written, queue.kept, queue.corrected), (5, 1, 4));
        assert_eq!(
            queue.moves[0],
            ("Billing".to_string(), "Technical".to_string(), 2)
        );
        assert_eq!(queue.moves.len(), 3);
        let text = c.describe("otai wrote");
        assert!(
            text.contains("`queue`: otai wrote it on 5 ticket(s); agents kept 1 (20.0 %) and corrected 4 (80.0 %); most often Billing -> Technical (2), Sales -> (cleared) (1), Sales -> Technical (1)."),
            "{text}"
        );
        assert!(text.contains("`priority`: otai wrote it on 1 ticket(s); agents kept 1 (100.0 %) and corrected 0 (0.0 %).\n"), "{text}");
    }

    #[test]
    fn the_audit_log_gives_each_tickets_newest_write_and_skips_other_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let lines = [
            r#"{"action":"classify","outcome":"written","pipeline":"p","ticket":"1","written":{"queue":"Billing","priority":"high"}}"#,
            r#"{"action":"classify","outcome":"failed","pipeline":"p","ticket":"2","written":{"queue":"Sales"}}"#,
            r#"{"action":"routed_tag","outcome":"written","pipeline":"p","ticket":"3","written":{"tags_added":["otai_routed"]}}"#,
            "",
            r#"{"action":"classify","outcome":"written","pipeline":"p","ticket":"4","written":{"custom_fields":[{"id":77,"value":"de"}]}}"#,
            r#"{"action":"classify","outcome":"written","pipeline":"p","ticket":"1","written":{"queue":"Sales"}}"#,
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let written = read_audit(&path).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(written[0].ticket, "1");
        assert_eq!(
            written[0].values,
            [(WriteKind::Queue, "Sales".to_string())],
            "the newest line"
        );
        assert_eq!(
            written[1].values,
            [(WriteKind::CustomField("77".into()), "de".to_string())]
        );
        assert_eq!(
            WriteKind::CustomField("77".into()).field_name(None),
            "custom_field:77"
        );

        std::fs::write(&path, "{\"action\":\"classify\"\nnot json\n").unwrap();
        let err = read_audit(&path).unwrap_err().to_string();
        assert!(err.contains("audit.jsonl:1: not an audit line"), "{err}");
        let err = read_audit(&dir.path().join("missing.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.jsonl"), "{err}");
    }
}
