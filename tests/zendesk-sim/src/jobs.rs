//! `update_many` jobs: queued → working → completed after the configured delays, each item
//! applied with the single-PUT semantics ([`crate::store::Store::update_ticket`]); injected item
//! failures and the stall mode come from [`crate::faults::JobFaults`].

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{
    error::{ApiError, CONFLICT_TEXT},
    shared::Shared,
    store::{fmt_time, now, WriteCtx},
};

/// How long a job stays `queued`, then `working`, before it completes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JobDelays {
    /// Time in `queued`.
    #[serde(with = "millis")]
    pub queued: Duration,
    /// Time in `working` before the items are applied.
    #[serde(with = "millis")]
    pub working: Duration,
}

impl Default for JobDelays {
    fn default() -> Self {
        JobDelays {
            queued: Duration::from_millis(500),
            working: Duration::from_millis(500),
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// One item of a job.
#[derive(Debug, Clone)]
pub(crate) struct JobItem {
    pub id: u64,
    pub body: Map<String, Value>,
}

/// A job and its status.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub id: String,
    pub status: String,
    pub total: usize,
    pub progress: Option<usize>,
    pub message: Option<String>,
    pub results: Option<Value>,
    pub items: Vec<JobItem>,
    pub bulk: bool,
    pub author_id: u64,
}

impl Job {
    pub fn to_json(&self, base: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base}/api/v2/job_statuses/{}.json", self.id),
            "job_type": "bulk_update",
            "total": self.total,
            "progress": self.progress,
            "status": self.status,
            "message": self.message,
            "results": self.results,
        })
    }
}

/// A new job id like Zendesk's (`V3-` and 32 hex digits).
pub(crate) fn new_job_id(rng: &mut fastrand::Rng) -> String {
    format!("V3-{:016x}{:016x}", rng.u64(..), rng.u64(..))
}

/// Runs a job to its end (spawned on submission).
pub(crate) async fn run(sh: Arc<Shared>, job_id: String) {
    let delays = *sh.job_delays.lock().unwrap();
    tokio::time::sleep(delays.queued).await;
    set(&sh, &job_id, |j| {
        j.status = "working".into();
        j.progress = Some(0);
    });
    tokio::time::sleep(delays.working).await;
    while sh.kit.fault_state().jobs_stalled() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(job) = sh.jobs.lock().unwrap().get(&job_id).cloned() else {
        return;
    };
    let mut results = Vec::new();
    {
        let mut store = sh.store.lock().unwrap();
        let mut faults = sh.kit.fault_state();
        for (index, item) in job.items.iter().enumerate() {
            if faults.job_item_fails(item.id) {
                results.push(failed(
                    item.id,
                    index,
                    "TicketUpdateFailed",
                    "Simulated failure (otai-zendesk-sim job fault)",
                ));
                continue;
            }
            let ctx = WriteCtx {
                endpoint: "PUT /api/v2/tickets/update_many".into(),
                author_id: job.author_id,
                job_id: Some(job.id.clone()),
                bulk: job.bulk,
            };
            match store.update_ticket(item.id, &item.body, &ctx) {
                Ok(_) => results.push(json!({
                    "id": item.id, "index": index, "action": "update", "success": true, "status": "Updated"
                })),
                Err(e) => {
                    let (code, details) = item_error(&e);
                    results.push(failed(item.id, index, &code, &details));
                }
            }
        }
    }
    let total = job.total;
    set(&sh, &job_id, |j| {
        j.status = "completed".into();
        j.progress = Some(total);
        j.message = Some(format!(
            "Completed at {}",
            fmt_time(now()).replace('T', " ").replace('Z', " +0000")
        ));
        j.results = Some(Value::Array(results));
    });
    sh.counters.lock().unwrap().jobs_completed += 1;
}

fn failed(id: u64, index: usize, error: &str, details: &str) -> Value {
    json!({"id": id, "index": index, "action": "update", "success": false, "error": error, "details": details})
}

/// A per-item error code and sentence for an update that failed.
fn item_error(e: &ApiError) -> (String, String) {
    match e.status {
        409 => ("UpdateConflict".into(), CONFLICT_TEXT.into()),
        404 => ("TicketNotFound".into(), "Ticket not found".into()),
        _ => {
            let code = e.body["error"]
                .as_str()
                .unwrap_or("RecordInvalid")
                .to_string();
            let details = e.body["details"]
                .as_object()
                .and_then(|d| d.values().next())
                .and_then(|list| list[0]["description"].as_str())
                .or_else(|| e.body["description"].as_str())
                .unwrap_or("Update failed")
                .to_string();
            (code, details)
        }
    }
}

fn set(sh: &Shared, id: &str, f: impl FnOnce(&mut Job)) {
    if let Some(j) = sh.jobs.lock().unwrap().get_mut(id) {
        f(j);
    }
}
