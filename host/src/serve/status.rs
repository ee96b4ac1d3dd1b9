//! What the status page shows, kept as the passes come: each pipeline's last passes, the
//! latest decisions, the tickets whose write failed, and per field how sure the model was.
//!
//! Bounded: [`PASSES_KEPT`] passes per pipeline, [`DECISIONS_KEPT`] decisions and
//! [`FAILURES_KEPT`] failures in all; the confidence counts cover every ticket since start.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Mutex,
    time::{Duration, SystemTime},
};

use crate::pipeline::{PassReport, PassSummary, TicketReport, WriteResult};

pub const PASSES_KEPT: usize = 10;
pub const DECISIONS_KEPT: usize = 50;
pub const FAILURES_KEPT: usize = 50;
/// Confidence buckets: [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0].
pub const CONFIDENCE_BUCKETS: usize = 10;

/// One pass, as the page lists it.
#[derive(Debug, Clone)]
pub struct PassLine {
    pub started: SystemTime,
    pub took: Duration,
    pub summary: PassSummary,
    pub failure: Option<String>,
    pub dry_run: bool,
}

/// One field of a decision.
#[derive(Debug, Clone)]
pub struct FieldLine {
    pub field: String,
    pub label: Option<String>,
    pub confidence: Option<f32>,
    /// What was (or would have been) written for it.
    pub action: String,
}

/// One classified ticket.
#[derive(Debug, Clone)]
pub struct DecisionLine {
    pub at: SystemTime,
    pub pipeline: String,
    pub ticket: String,
    pub subject: String,
    pub fields: Vec<FieldLine>,
    /// What became of the write.
    pub result: String,
    pub written: bool,
}

/// One ticket whose write failed (or that was tagged failed).
#[derive(Debug, Clone)]
pub struct FailureLine {
    pub at: SystemTime,
    pub pipeline: String,
    pub ticket: String,
    pub subject: String,
    pub reason: String,
}

#[derive(Debug, Default)]
struct Book {
    passes: BTreeMap<String, VecDeque<PassLine>>,
    decisions: VecDeque<DecisionLine>,
    failures: VecDeque<FailureLine>,
    /// (pipeline, field) -> tickets per confidence bucket.
    confidence: BTreeMap<(String, String), [u64; CONFIDENCE_BUCKETS]>,
}

/// The status page's memory, shared by the report loop and the HTTP handlers.
#[derive(Debug, Default)]
pub struct StatusBook(Mutex<Book>);

/// A copy of what the page shows, taken under the lock.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub passes: BTreeMap<String, Vec<PassLine>>,
    /// Newest first.
    pub decisions: Vec<DecisionLine>,
    /// Newest first.
    pub failures: Vec<FailureLine>,
    pub confidence: BTreeMap<(String, String), [u64; CONFIDENCE_BUCKETS]>,
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, keep: usize) {
    queue.push_back(item);
    while queue.len() > keep {
        queue.pop_front();
    }
}

fn bucket(probability: f32) -> usize {
    ((probability.clamp(0.0, 1.0) * CONFIDENCE_BUCKETS as f32) as usize).min(CONFIDENCE_BUCKETS - 1)
}

impl StatusBook {
    /// Takes in one pass.
    pub fn record(&self, report: &PassReport) {
        let mut book = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let at = report.started + report.took;
        let pipeline = report.pipeline.clone();
        let subject = |id: &str| report.subjects.get(id).cloned().unwrap_or_default();
        push_bounded(
            book.passes.entry(pipeline.clone()).or_default(),
            PassLine {
                started: report.started,
                took: report.took,
                summary: report.summary,
                failure: report.failure.as_ref().map(ToString::to_string),
                dry_run: report.dry_run,
            },
            PASSES_KEPT,
        );
        for ticket in &report.tickets {
            match ticket {
                TicketReport::Decided { decision, result } => {
                    let fields = decision
                        .outcomes
                        .iter()
                        .map(|o| FieldLine {
                            field: o.field.clone(),
                            label: o.best.as_ref().map(|b| b.label.clone()),
                            confidence: o.best.as_ref().map(|b| b.probability),
                            action: o.action_text(),
                        })
                        .collect::<Vec<_>>();
                    for field in &fields {
                        if let Some(confidence) = field.confidence {
                            book.confidence
                                .entry((pipeline.clone(), field.field.clone()))
                                .or_insert([0; CONFIDENCE_BUCKETS])[bucket(confidence)] += 1;
                        }
                    }
                    if let WriteResult::Failed { .. } | WriteResult::Unknown { .. } = result {
                        push_bounded(
                            &mut book.failures,
                            FailureLine {
                                at,
                                pipeline: pipeline.clone(),
                                ticket: decision.ticket_id.clone(),
                                subject: subject(&decision.ticket_id),
                                reason: result.to_string(),
                            },
                            FAILURES_KEPT,
                        );
                    }
                    push_bounded(
                        &mut book.decisions,
                        DecisionLine {
                            at,
                            pipeline: pipeline.clone(),
                            ticket: decision.ticket_id.clone(),
                            subject: subject(&decision.ticket_id),
                            fields,
                            result: result.to_string(),
                            written: *result == WriteResult::Written,
                        },
                        DECISIONS_KEPT,
                    );
                }
                TicketReport::MarkFailed {
                    id,
                    attempts,
                    reason,
                    ..
                } => push_bounded(
                    &mut book.failures,
                    FailureLine {
                        at,
                        pipeline: pipeline.clone(),
                        ticket: id.clone(),
                        subject: subject(id),
                        reason: format!("tagged failed after {attempts} attempts: {reason}"),
                    },
                    FAILURES_KEPT,
                ),
                _ => {}
            }
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let book = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Snapshot {
            passes: book
                .passes
                .iter()
                .map(|(p, lines)| (p.clone(), lines.iter().rev().cloned().collect()))
                .collect(),
            decisions: book.decisions.iter().rev().cloned().collect(),
            failures: book.failures.iter().rev().cloned().collect(),
            confidence: book.confidence.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_buckets_cover_zero_to_one() {
        assert_eq!(bucket(0.0), 0);
        assert_eq!(bucket(0.099), 0);
        assert_eq!(bucket(0.1), 1);
        assert_eq!(bucket(0.95), 9);
        assert_eq!(bucket(1.0), 9);
        assert_eq!(bucket(f32::NAN), 0);
    }

    #[test]
    fn queues_keep_only_the_newest() {
        let mut queue = VecDeque::new();
        for n in 0..5 {
            push_bounded(&mut queue, n, 3);
        }
        assert_eq!(queue, [2, 3, 4]);
    }
}
