//! Batch writes: [`ZendeskClient::update_tickets`] through Zendesk's asynchronous
//! `PUT /api/v2/tickets/update_many` (batch form, a different change per ticket) and job polling.
//!
//! The protocol, per call:
//! 1. Every item is checked locally with the rules of `update_ticket` (id, priority, custom
//!    fields, tags, `system_fields_json`, the queue name through the group cache). A bad item gets
//!    its own error; the others go on. An empty update is `Ok` without a write. A ticket id given
//!    twice is a validation error for the later item, because job results are keyed by ticket id.
//! 2. Tags are written as the full new set (writing `tags` replaces them), so the current set is
//!    needed: from `current_tags` when the caller also gave `if_unchanged_since` (the stamp
//!    guarantees the set is still current), otherwise from `GET /api/v2/tickets/show_many?ids=`
//!    (at most 100 ids per call; an id Zendesk does not return is `not_found`). Every item that
//!    changes tags, and every item with `if_unchanged_since`, is sent with `safe_update: true` and
//!    `updated_stamp`, so a concurrent change fails that ticket instead of losing tags. A stamp
//!    from a read in the same second as the ticket's last change is confirmed by a later read
//!    first (`crate::reads`): a change in that second, which the stamp cannot show, is a conflict.
//! 3. The writes go out as `{"tickets": [{"id": N, ...fields, "comment": {...}}]}` in chunks of at
//!    most 100, one chunk at a time: each job is polled to its end before the next is submitted,
//!    so a service never has more than one job queued (Zendesk allows about 30 per account).
//! 4. Polling `GET /api/v2/job_statuses/{id}`: wait 1 s, then ×1.5 up to 10 s between polls
//!    (429/503 handled by the transport), until `completed`, `failed`, `killed` or a status we do
//!    not know (a terminal failure), or until `job_timeout` after the submission.
//! 5. Each ticket's result: `success: true` (or `status: "Updated"`) is `Ok`; `success: false` is
//!    `conflict` when Zendesk's text speaks of a conflict or an outdated stamp, else `validation`.
//!    A ticket without a result, a failed or killed job, or a job still running at `job_timeout`
//!    is `timeout`: whether it was applied is unknown, and nothing is retried blindly. After a job
//!    that did not finish, the remaining chunks are not submitted (`transport`, nothing written).
//!
//! A chunk whose PUT fails gets that error for every ticket in it (429/503 were already retried by
//! the transport; a timeout is `timeout`); a 2xx answer that cannot be read is `timeout` too
//! (Zendesk took the batch, so whether it is applied is unknown). The outer error is only returned when nothing was
//! written and the failure concerns every item: 401 or 403 on the reads or on the first chunk.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use otai_plugin_sdk::{http::error_detail, BatchOutcome, BatchUpdate, Error, ErrorKind, LogLevel};
use serde_json::{json, Map, Value};

use crate::{
    api::{JobStatus, JobStatusEnvelope},
    client::{context, ZendeskClient},
    convert,
    reads::Mark,
};

const TARGET: &str = "otai_zendesk::batch";
/// Zendesk's limit of tickets per `update_many` call and of ids per `show_many` call.
pub const MAX_BATCH: usize = 100;
const UPDATE_MANY: &str = "/api/v2/tickets/update_many";

/// How job statuses are polled. Only `timeout` is a param (`job_timeout`); the waits follow
/// Zendesk's recipe and are changed by tests only.
#[derive(Debug, Clone)]
pub(crate) struct JobPolling {
    first_wait: Duration,
    max_wait: Duration,
    factor: f64,
    timeout: Duration,
}

impl JobPolling {
    pub(crate) fn new(timeout: Duration) -> Self {
        JobPolling {
            first_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(10),
            factor: 1.5,
            timeout,
        }
    }
}

/// One item that passed the local checks and has something to write.
struct Prepared<'a> {
    index: usize,
    id: u64,
    update: &'a BatchUpdate,
    base: Map<String, Value>,
    caller_stamp: Option<String>,
}

impl Prepared<'_> {
    fn touches_tags(&self) -> bool {
        !self.update.update.add_tags.is_empty() || !self.update.update.remove_tags.is_empty()
    }

    /// Whether the caller's tags may be trusted: only with the stamp they were read at.
    fn has_current_tags(&self) -> bool {
        self.caller_stamp.is_some() && self.update.current_tags.is_some()
    }
}

/// How a submitted job ended, as far as we know.
enum JobEnd {
    /// Zendesk reported a final status; `results` may still lack some tickets.
    Finished {
        job_id: String,
        status: String,
        results: HashMap<u64, Value>,
    },
    /// We do not know (no job id, poll failed, `job_timeout` passed).
    Unknown { reason: String },
}

impl ZendeskClient {
    /// Applies many updates with as few requests as Zendesk allows and returns one outcome per
    /// item, in the order given; see the [module docs](crate::batch) for the protocol. The outer error
    /// (401/403 before anything was written) means nothing was written.
    pub async fn update_tickets(
        &self,
        updates: &[BatchUpdate],
    ) -> Result<Vec<BatchOutcome>, Error> {
        let mut results: Vec<Option<Result<(), Error>>> = vec![None; updates.len()];
        let mut prepared = Vec::new();
        let mut seen = HashSet::new();
        for (index, item) in updates.iter().enumerate() {
            let id = match convert::parse_ticket_id(&item.id) {
                Ok(id) => id,
                Err(e) => {
                    results[index] = Some(Err(context(e, "update_tickets")));
                    continue;
                }
            };
            if item.update.is_empty() {
                results[index] = Some(Ok(()));
                continue;
            }
            if !seen.insert(id) {
                results[index] = Some(Err(Error::new(
                    ErrorKind::Validation,
                    format!(
                        "update_tickets: ticket {id} appears more than once in the batch; \
                         combine its updates or send the later one in another batch"
                    ),
                )));
                continue;
            }
            match self.prepare_update(&item.update).await {
                Ok(base) => prepared.push(Prepared {
                    index,
                    id,
                    update: item,
                    base,
                    caller_stamp: item
                        .update
                        .if_unchanged_since
                        .as_ref()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty()),
                }),
                Err(e) => results[index] = Some(Err(item_error(e, id))),
            }
        }

        // Reads before writing: the current tags and stamp where the caller gave none, and a
        // confirmation where the caller's stamp comes from a same-second read (crate::reads).
        let wanted: Vec<(u64, Option<Mark>)> = prepared
            .iter()
            .filter_map(|p| {
                let expected = p
                    .caller_stamp
                    .as_deref()
                    .and_then(|stamp| self.reads.needs_confirming(p.id, stamp));
                let needs_tags = p.touches_tags() && !p.has_current_tags();
                (expected.is_some() || needs_tags).then_some((p.id, expected))
            })
            .collect();
        let mut read = match self.confirmed_reads(&wanted).await {
            Ok(read) => read,
            // Nothing was written yet, and the same credentials would fail every write.
            Err(e) => return Err(context(e, "update_tickets")),
        };

        // The body of each ticket that still has something to write.
        let mut writes: Vec<(usize, u64, Value)> = Vec::new();
        for p in prepared {
            let fresh = match read.remove(&p.id) {
                Some(Ok((z, _))) => Some(z),
                Some(Err(e)) => {
                    results[p.index] = Some(Err(item_error(e, p.id)));
                    continue;
                }
                None => None,
            };
            let (tags, own_stamp) = if p.touches_tags() {
                let (current, stamp): (Vec<String>, Option<String>) = if p.has_current_tags() {
                    let tags = p.update.current_tags.as_ref();
                    (
                        tags.map(|t| t.iter().map(|s| s.to_string()).collect())
                            .unwrap_or_default(),
                        p.caller_stamp.clone(),
                    )
                } else if let Some(z) = &fresh {
                    (z.tags.clone(), z.updated_at.clone())
                } else {
                    unreachable!("every tag write without the caller's tags was read above")
                };
                let tags = convert::new_tags(
                    &current,
                    &p.update.update.add_tags,
                    &p.update.update.remove_tags,
                );
                // Only a tag write needs a stamp of ours: it replaces the whole set.
                let stamp = if tags.is_some() { stamp } else { None };
                (tags, stamp)
            } else {
                (None, None)
            };
            let stamp = p.caller_stamp.clone().or(own_stamp);
            let mut body = convert::with_tags_and_stamp(p.base, tags, stamp.as_deref());
            if !convert::writes_something(&body) {
                results[p.index] = Some(Ok(()));
                continue;
            }
            // The batch form needs the id inside each ticket (unlike the one-ticket PUT).
            body.insert("id".into(), json!(p.id));
            writes.push((p.index, p.id, Value::Object(body)));
        }

        // One job at a time: poll each to its end before submitting the next.
        let mut not_sent: Option<String> = None;
        for (chunk_no, chunk) in writes.chunks(MAX_BATCH).enumerate() {
            if let Some(why) = &not_sent {
                for (index, id, _) in chunk {
                    results[*index] = Some(Err(Error::new(
                        ErrorKind::Transport,
                        format!("update_tickets: ticket {id}: not sent because {why}; nothing was written"),
                    )));
                }
                continue;
            }
            let tickets: Vec<Value> = chunk.iter().map(|(_, _, body)| body.clone()).collect();
            let answer = self
                .http
                .put::<Value>(UPDATE_MANY, &json!({ "tickets": tickets }))
                .await;
            let end = match answer {
                Ok(job) => {
                    self.http.log().log(LogLevel::Debug, TARGET, || {
                        format!(
                            "Submitted a batch of {} ticket updates ({} of {}).",
                            chunk.len(),
                            chunk_no + 1,
                            writes.len().div_ceil(MAX_BATCH)
                        )
                    });
                    self.await_job(job).await
                }
                Err(e) if chunk_no == 0 && is_auth(&e) => return Err(context(e, "update_tickets")),
                // Only a 2xx answer is parsed, so Zendesk took the batch and a job may be running:
                // as with an answer without a job status, the outcome is unknown, not failed.
                Err(e) if e.kind == ErrorKind::InvalidResponse => JobEnd::Unknown {
                    reason: e.message.to_string(),
                },
                Err(e) => {
                    for (index, id, _) in chunk {
                        results[*index] = Some(Err(item_error(e.clone(), *id)));
                    }
                    continue;
                }
            };
            match end {
                JobEnd::Finished {
                    job_id,
                    status,
                    results: job_results,
                } => {
                    for (index, id, _) in chunk {
                        results[*index] = Some(match job_results.get(id) {
                            Some(result) => ticket_result(*id, &job_id, result),
                            None => Err(unknown(
                                *id,
                                &format!(
                                    "job {job_id} ended with status `{status}` without a result for this ticket"
                                ),
                            )),
                        });
                    }
                }
                JobEnd::Unknown { reason } => {
                    self.http.log().log(LogLevel::Warn, TARGET, || {
                        format!(
                            "A batch of {} ticket updates has an unknown outcome: {reason}.",
                            chunk.len()
                        )
                    });
                    for (index, id, _) in chunk {
                        results[*index] = Some(Err(unknown(*id, &reason)));
                    }
                    not_sent = Some(format!("an earlier batch job did not finish ({reason})"));
                }
            }
        }

        Ok(updates
            .iter()
            .zip(results)
            .map(|(item, result)| BatchOutcome {
                id: item.id.clone(),
                result: match result {
                    Some(result) => result,
                    // Every path above sets a result; this guards against a bug without
                    // claiming anything.
                    None => Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "update_tickets: ticket {}: no outcome was recorded (a bug in the \
                             adapter); whether the update was applied is unknown",
                            item.id
                        ),
                    )),
                },
            })
            .collect())
    }

    /// Polls the job the `update_many` answer describes until it ends or `job_timeout` passes.
    async fn await_job(&self, answer: Value) -> JobEnd {
        let deadline = Instant::now() + self.jobs.timeout;
        let mut job = match serde_json::from_value::<JobStatusEnvelope>(answer) {
            Ok(env) => env.job_status,
            Err(_) => {
                return JobEnd::Unknown {
                    reason: format!("PUT {UPDATE_MANY} answered without a job status"),
                }
            }
        };
        let Some(job_id) = job.id.clone().filter(|id| is_safe_job_id(id)) else {
            return JobEnd::Unknown {
                reason: format!("PUT {UPDATE_MANY} answered without a usable job id"),
            };
        };
        let path = format!("/api/v2/job_statuses/{job_id}");
        let mut wait = self.jobs.first_wait;
        loop {
            let status = job
                .status
                .as_deref()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !matches!(status.as_str(), "queued" | "working") {
                // Anything but "still going" is final; an unknown status counts as a failure,
                // which leaves tickets without a result as unknown.
                return finished(job_id, status, &job);
            }
            let now = Instant::now();
            if now >= deadline {
                return JobEnd::Unknown {
                    reason: format!(
                        "job {job_id} was still `{status}` after job_timeout ({:.1} s)",
                        self.jobs.timeout.as_secs_f64()
                    ),
                };
            }
            tokio::time::sleep(wait.min(deadline - now)).await;
            wait = wait.mul_f64(self.jobs.factor).min(self.jobs.max_wait);
            match self.http.get::<Value>(&path, &[]).await {
                Ok(value) => match serde_json::from_value::<JobStatusEnvelope>(value) {
                    Ok(env) => job = env.job_status,
                    Err(_) => {
                        return JobEnd::Unknown {
                            reason: format!("GET {path} answered without a job status"),
                        }
                    }
                },
                // The transport already retried; keep polling until the deadline.
                Err(e) if e.kind.is_transient() => {
                    if let Some(asked) = e.retry_after {
                        wait = wait.max(asked);
                    }
                    self.http.log().log(LogLevel::Debug, TARGET, || {
                        format!(
                            "Polling job {job_id} failed ({}); polling again.",
                            e.message
                        )
                    });
                }
                Err(e) => {
                    return JobEnd::Unknown {
                        reason: format!("polling job {job_id} failed: {}", e.message),
                    }
                }
            }
        }
    }
}

fn finished(job_id: String, status: String, job: &JobStatus) -> JobEnd {
    let mut results = HashMap::new();
    for item in result_items(&job.results) {
        let id = match item.get("id") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        if let Some(id) = id {
            results.entry(id).or_insert_with(|| item.clone());
        }
    }
    let status = if status.is_empty() {
        "(none)".to_string()
    } else {
        status
    };
    JobEnd::Finished {
        job_id,
        status,
        results,
    }
}

/// `results` is an array for updates; other jobs answer with an object, so accept one too.
fn result_items(results: &Value) -> Vec<&Value> {
    match results {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => match map.get("results") {
            Some(inner) => result_items(inner),
            None => vec![results],
        },
        _ => Vec::new(),
    }
}

/// One ticket's result in a finished job.
fn ticket_result(id: u64, job_id: &str, result: &Value) -> Result<(), Error> {
    let success = result.get("success").and_then(Value::as_bool);
    let has_error = result.get("error").is_some_and(|e| !e.is_null());
    if success == Some(false) || (success.is_none() && has_error) {
        let detail = serde_json::to_vec(result)
            .ok()
            .and_then(|bytes| error_detail(&bytes))
            .unwrap_or_else(|| "no reason given".to_string());
        let lower = detail.to_ascii_lowercase();
        let conflict = ["conflict", "safe update", "safe_update", "outdated"]
            .iter()
            .any(|word| lower.contains(word));
        let (kind, tail) = if conflict {
            (
                ErrorKind::Conflict,
                "the ticket changed since it was read; nothing was written",
            )
        } else {
            (ErrorKind::Validation, "nothing was written")
        };
        return Err(Error::new(
            kind,
            format!("update_tickets: ticket {id}: Zendesk job {job_id} reported: {detail}; {tail}"),
        ));
    }
    let updated = result
        .get("status")
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("updated"));
    if success == Some(true) || updated {
        Ok(())
    } else {
        Err(unknown(
            id,
            &format!("job {job_id} gave a result that says neither success nor failure"),
        ))
    }
}

/// "We cannot tell": `timeout`, the kind the interface reserves for unknown write outcomes.
fn unknown(id: u64, reason: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "update_tickets: ticket {id}: {reason}; whether the update was applied is unknown, \
             check the ticket before retrying"
        ),
    )
}

fn item_error(e: Error, id: u64) -> Error {
    context(e, &format!("update_tickets: ticket {id}"))
}

fn is_auth(e: &Error) -> bool {
    e.kind == ErrorKind::Auth || e.kind == ErrorKind::Forbidden
}

/// Job ids go into a URL path; Zendesk's are letters, digits and dashes.
fn is_safe_job_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl ZendeskClient {
    /// Test hook: shorter waits between job polls, so tests need not wait Zendesk's seconds.
    #[doc(hidden)]
    pub fn set_job_poll_waits(&mut self, first: Duration, max: Duration) {
        self.jobs.first_wait = first;
        self.jobs.max_wait = max.max(first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_read_leniently() {
        let job = JobStatus {
            results: json!([
                {"id": 1, "action": "update", "status": "Updated", "success": true},
                {"id": "2", "action": "update", "success": false, "error": "RecordInvalid",
                 "details": "Status: closed prevents ticket update"},
                {"id": 3, "action": "update", "success": false, "error": "UpdateConflict",
                 "details": "Safe Update prevented the update due to outdated ticket data"},
                {"id": 4, "action": "update"},
                "junk"
            ]),
            ..Default::default()
        };
        let JobEnd::Finished { results, .. } = finished("J1".into(), "completed".into(), &job)
        else {
            panic!("finished")
        };
        assert!(ticket_result(1, "J1", &results[&1]).is_ok());
        let e = ticket_result(2, "J1", &results[&2]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(
            e.message.contains("closed prevents ticket update"),
            "{}",
            e.message
        );
        assert!(e.message.contains("ticket 2"));
        assert_eq!(
            ticket_result(3, "J1", &results[&3]).unwrap_err().kind,
            ErrorKind::Conflict
        );
        assert_eq!(
            ticket_result(4, "J1", &results[&4]).unwrap_err().kind,
            ErrorKind::Timeout
        );
        // An object instead of an array (as permanent deletes answer).
        assert_eq!(result_items(&json!({"id": 5, "success": true})).len(), 1);
        assert!(result_items(&Value::Null).is_empty());
    }

    #[test]
    fn job_ids_must_be_path_safe() {
        assert!(is_safe_job_id("V3-291e720c98aef4d953563ab090486213"));
        assert!(!is_safe_job_id("../users/me"));
        assert!(!is_safe_job_id(""));
    }
}
