//! Bulk-update jobs (docs "Update Multiple Tickets", "View a Job"; helpdesk-apis.md 2.5):
//! `POST /tickets/bulk_update` answers 202 `{job_id, href}` at once and the job applies the
//! properties in the background, after the configured delay, ticket by ticket in the order of
//! `ids`. The docs show only the status `IN PROGRESS`; the simulator ends a job `COMPLETED`, or
//! `FAILED` when a `stop_mid_write` fault stopped it midway ((unverified) names).

use serde::Serialize;

use crate::stamp::format_secs;

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobStatus {
    /// Waiting or running.
    #[serde(rename = "IN PROGRESS")]
    InProgress,
    /// Every ticket processed.
    #[serde(rename = "COMPLETED")]
    Completed,
    /// Stopped midway (a `stop_mid_write` fault).
    #[serde(rename = "FAILED")]
    Failed,
}

impl JobStatus {
    /// `IN PROGRESS`, `COMPLETED`, `FAILED`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobStatus::InProgress => "IN PROGRESS",
            JobStatus::Completed => "COMPLETED",
            JobStatus::Failed => "FAILED",
        }
    }
}

/// A bulk-update job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// Hex id (`job_id`).
    pub id: String,
    /// State.
    pub status: JobStatus,
    /// 0..100: the share of `ticket_ids` processed.
    pub progress: u8,
    /// The tickets, in order.
    pub ticket_ids: Vec<u64>,
    /// Tickets written.
    pub applied: Vec<u64>,
    /// Tickets skipped (missing or deleted).
    pub skipped: Vec<u64>,
    /// The properties as sent.
    pub properties: serde_json::Value,
    /// Account-clock stamps.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Last status change.
    pub status_updated_at: String,
}

impl Job {
    /// A new job `IN PROGRESS` at `now`.
    pub fn new(seq: u64, ticket_ids: Vec<u64>, properties: serde_json::Value, now: i64) -> Self {
        let stamp = format_secs(now);
        Job {
            id: job_id(seq),
            status: JobStatus::InProgress,
            progress: 0,
            ticket_ids,
            applied: Vec::new(),
            skipped: Vec::new(),
            properties,
            created_at: stamp.clone(),
            updated_at: stamp.clone(),
            status_updated_at: stamp,
        }
    }

    /// Ends the job at `now` after `processed` tickets.
    pub fn finish(&mut self, status: JobStatus, processed: usize, now: i64) {
        let total = self.ticket_ids.len().max(1);
        self.progress = ((processed * 100) / total).min(100) as u8;
        self.status = status;
        let stamp = format_secs(now);
        self.updated_at = stamp.clone();
        self.status_updated_at = stamp;
    }
}

/// A 32-hex-digit id like the docs' `e4d18654f60b5204513155b26c6cb630`, derived from a sequence
/// number (stable across runs, unique within one).
pub fn job_id(seq: u64) -> String {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    format!("{:016x}{:016x}", mix(seq), mix(seq ^ 0xFD))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_distinct_and_progress_is_a_share() {
        let (a, b) = (job_id(1), job_id(2));
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        let mut j = Job::new(1, vec![1, 2, 3, 4], serde_json::json!({}), 0);
        assert_eq!(serde_json::to_value(j.status).unwrap(), "IN PROGRESS");
        j.finish(JobStatus::Failed, 1, 5);
        assert_eq!((j.progress, j.status.as_str()), (25, "FAILED"));
    }
}
