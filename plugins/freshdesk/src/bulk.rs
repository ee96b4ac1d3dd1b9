//! A batch of decisions with as few credits as Freshdesk allows.
//!
//! 1. **One re-read for the batch**: the list of tickets changed since otai read them (the
//!    server's clock at the read, two seconds earlier), usually a single page of one credit. A
//!    ticket in it changed after the read (its new version is checked for a conflict); one not
//!    in it did not change, so the version read is still current. Only when that list is long
//!    (more than [`REREAD_PAGES`] pages) are the rest read one by one.
//! 2. **Notes**, one request each (Freshdesk has no bulk note; a bulk `reply` would be public).
//! 3. **Fields**: tickets whose `PUT` bodies are identical (same group, priority, fields and
//!    resulting tag list) share one `bulk_update` job when there are at least [`BULK_MIN`] of
//!    them (with `bulk_update: true`); the others get one `PUT` each. Jobs run in the
//!    background: otai starts every job of the batch, polls each `GET /jobs/{id}` with a growing
//!    pause (by then the later ones are usually done), then reads all their tickets back at once
//!    (the list again) and reports each ticket applied or not. A ticket the job did not finish
//!    keeps otai's note, so the next pass finishes it from there ([`crate::write`]).
//!
//! Outcomes come one per ticket, in the order asked.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::Duration,
};

use otai_plugin_sdk::{BatchOutcome, BatchUpdate, Error, ErrorKind};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{
    api::{FdJob, FdTicket, JobStarted},
    client::{ticket_id, FreshdeskDesk},
    find::{list_page, LIST_PAGE},
    write::{self, Prepared},
};

/// The fewest tickets with one decision that go as a bulk job (a job costs one request plus its
/// polls; two `PUT`s cost two).
pub const BULK_MIN: usize = 3;
/// Freshdesk's largest bulk job.
pub const BULK_MAX: usize = 100;
/// The pause before the first poll of a batch's jobs.
const FIRST_POLL: Duration = Duration::from_millis(500);
/// The longest wait for a job to finish.
const JOB_WAIT: Duration = Duration::from_secs(120);
/// List pages read for a re-read before reading the rest one by one.
pub const REREAD_PAGES: u32 = 3;

/// Writes every update of a batch.
pub async fn update_all(
    desk: &FreshdeskDesk,
    updates: &[BatchUpdate],
) -> Result<Vec<BatchOutcome>, Error> {
    let ids: Vec<Option<u64>> = updates.iter().map(|u| ticket_id(&u.id).ok()).collect();
    let (current, reread_at) =
        reread(desk, &ids.iter().flatten().copied().collect::<Vec<_>>()).await?;
    let mut results: Vec<Option<Result<(), Error>>> = vec![None; updates.len()];
    let mut ready: Vec<(usize, u64, Prepared)> = Vec::new();
    for (i, item) in updates.iter().enumerate() {
        let Some(id) = ids[i] else {
            results[i] = Some(Err(ticket_id(&item.id).unwrap_err()));
            continue;
        };
        match write::prepare(desk, id, current.get(&id), &item.update).await {
            Ok(p) => ready.push((i, id, p)),
            Err(e) => results[i] = Some(Err(e.context(&format!("update_ticket {id}")))),
        }
    }

    // Notes first: a ticket whose note failed gets nothing else.
    let mut noted = Vec::new();
    for (i, id, mut p) in ready {
        if let Some(html) = p.note.take() {
            if let Err(e) = write::post_note(desk, id, &html, &p.plan).await {
                results[i] = Some(Err(e.context(&format!("update_ticket {id}"))));
                continue;
            }
        }
        noted.push((i, id, p));
    }

    // Identical bodies together.
    let mut groups: BTreeMap<String, Vec<(usize, u64, Prepared)>> = BTreeMap::new();
    for (i, id, p) in noted {
        match p.plan.body(&p.tags) {
            None => {
                write::finished(desk, id);
                results[i] = Some(Ok(()));
            }
            // A resumed plan goes alone: if Freshdesk refuses it (its group was deleted), only
            // a PUT says so, and the failed mark can take its place (`write::write_one`).
            Some(body) if p.resumed => groups
                .entry(format!("{id} {body}"))
                .or_default()
                .push((i, id, p)),
            Some(body) => groups.entry(body.to_string()).or_default().push((i, id, p)),
        }
    }
    let mut jobs: Vec<(Vec<(usize, u64)>, Value)> = Vec::new();
    for (_, members) in groups {
        if desk.config.bulk_update && members.len() >= BULK_MIN {
            let body = members[0]
                .2
                .plan
                .body(&members[0].2.tags)
                .unwrap_or_default();
            for chunk in members.chunks(BULK_MAX) {
                jobs.push((
                    chunk.iter().map(|(i, id, _)| (*i, *id)).collect(),
                    body.clone(),
                ));
            }
        } else {
            for (i, id, p) in members {
                let now = current.get(&id).cloned().unwrap_or_default();
                let update = &updates[i].update;
                results[i] = Some(
                    write::write_one(desk, id, &now, update, p)
                        .await
                        .map(drop)
                        .map_err(|e| e.context(&format!("update_ticket {id}"))),
                );
            }
        }
    }
    if !jobs.is_empty() {
        let applied = bulk(desk, &jobs, reread_at).await;
        for ((members, _), outcomes) in jobs.iter().zip(applied) {
            for ((i, id), result) in members.iter().zip(outcomes) {
                if result.is_ok() {
                    write::finished(desk, *id);
                }
                results[*i] = Some(result.map_err(|e| e.context(&format!("update_ticket {id}"))));
            }
        }
    }
    Ok(updates
        .iter()
        .zip(results)
        .map(|(item, result)| {
            if let Ok(id) = ticket_id(&item.id) {
                desk.forget(id);
            }
            BatchOutcome {
                id: item.id.clone(),
                result: result.unwrap_or_else(|| {
                    Err(Error::new(
                        ErrorKind::InvalidResponse,
                        "no outcome (a bug in otai_freshdesk)",
                    ))
                }),
            }
        })
        .collect())
}

/// The current state of `ids`: the tickets changed since otai read them from the list, the
/// rest as read (unchanged), or one by one when the list is long or otai never read them; and
/// the server's clock at the re-read, when the list was read.
async fn reread(
    desk: &FreshdeskDesk,
    ids: &[u64],
) -> Result<(HashMap<u64, FdTicket>, Option<OffsetDateTime>), Error> {
    let known: Vec<(u64, FdTicket, OffsetDateTime)> = ids
        .iter()
        .filter_map(|id| desk.recall(*id).map(|(t, at)| (*id, t, at)))
        .collect();
    let mut current: HashMap<u64, FdTicket> = HashMap::new();
    let mut complete = false;
    let mut at = None;
    if let Some(since) = known.iter().map(|(_, _, at)| *at).min() {
        let wanted: HashSet<u64> = ids.iter().copied().collect();
        let since = since - Duration::from_secs(2);
        for page in 1..=REREAD_PAGES {
            let answer = list_page(desk, since, page, false).await?;
            at = at.or(answer.server_time.map(OffsetDateTime::from));
            let tickets = answer.value;
            let full = tickets.len() as u32 >= LIST_PAGE;
            for t in tickets {
                if wanted.contains(&t.id) {
                    current.insert(t.id, t);
                }
            }
            if !full {
                complete = true;
                break;
            }
        }
    }
    if complete {
        for (id, t, _) in known {
            current.entry(id).or_insert(t);
        }
    }
    for id in ids {
        if !current.contains_key(id) {
            if let Some(t) = desk.read(*id).await? {
                current.insert(*id, t);
            }
        }
    }
    Ok((current, at))
}

/// The bulk jobs of a batch, each `(tickets, body)`: all started, all waited for, then every
/// ticket read back at once and checked. `reread_at`: the server's clock before these tickets
/// were written (read back from there). One outcome per ticket, per job.
async fn bulk(
    desk: &FreshdeskDesk,
    jobs: &[(Vec<(usize, u64)>, Value)],
    reread_at: Option<OffsetDateTime>,
) -> Vec<Vec<Result<(), Error>>> {
    let before = match reread_at {
        Some(at) => at,
        None => desk.server_now().await,
    } - Duration::from_secs(2);
    let mut started: Vec<Result<String, Error>> = Vec::new();
    for (members, body) in jobs {
        let ids: Vec<u64> = members.iter().map(|(_, id)| *id).collect();
        let request = json!({"bulk_action": {"ids": ids, "properties": body}});
        started.push(
            desk.http
                .post::<JobStarted>("/api/v2/tickets/bulk_update", &request)
                .await
                .map(|s| s.job_id)
                .map_err(|e| {
                    e.context(
                        "the bulk update was not started; otai's notes are on the tickets and \
                         the next pass finishes them",
                    )
                }),
        );
    }
    // The first job gets a moment to run; by the time it is done the later ones usually are.
    let mut ended: Vec<Result<FdJob, Error>> = Vec::new();
    for (n, job) in started.iter().enumerate() {
        let first_pause = if n == 0 { FIRST_POLL } else { Duration::ZERO };
        ended.push(match job {
            Ok(id) => wait_for_job(desk, id, first_pause).await,
            Err(e) => Err(e.clone()),
        });
    }
    let all_ids: Vec<u64> = jobs
        .iter()
        .zip(&started)
        .filter(|(_, s)| s.is_ok())
        .flat_map(|((members, _), _)| members.iter().map(|(_, id)| *id))
        .collect();
    let after = if all_ids.is_empty() {
        Ok(HashMap::new())
    } else {
        read_back(desk, &all_ids, before).await
    };
    jobs.iter()
        .zip(started.iter().zip(&ended))
        .map(|((members, body), (job_id, job))| {
            members
                .iter()
                .map(|(_, id)| {
                    let job_id = match job_id {
                        Ok(job_id) => job_id,
                        Err(e) => return Err(e.clone()),
                    };
                    let after = match &after {
                        Ok(after) => after,
                        Err(e) => {
                            return Err(e
                                .clone()
                                .context("reading the tickets back after the bulk update"))
                        }
                    };
                    match after.get(id) {
                        Some(t) if applied(t, body) => Ok(()),
                        _ => {
                            let (kind, how) = match job {
                                Ok(job) => {
                                    (ErrorKind::InvalidResponse, format!("ended {}", job.status))
                                }
                                Err(e) => (ErrorKind::Timeout, e.message.clone()),
                            };
                            Err(Error::new(
                                kind,
                                format!(
                                    "Freshdesk's bulk job {job_id} ({how}) did not apply to ticket \
                                     {id}; it keeps otai's note and the next pass finishes it"
                                ),
                            ))
                        }
                    }
                })
                .collect()
        })
        .collect()
}

/// Polls the job (after `first_pause`) until it is finished or [`JOB_WAIT`] has passed.
async fn wait_for_job(
    desk: &FreshdeskDesk,
    job_id: &str,
    first_pause: Duration,
) -> Result<FdJob, Error> {
    let path = format!("/api/v2/jobs/{job_id}");
    let begun = tokio::time::Instant::now();
    let mut pause = first_pause;
    loop {
        tokio::time::sleep(pause).await;
        let job: FdJob = desk.http.get(&path, &[]).await?;
        if job.is_finished() {
            return Ok(job);
        }
        if begun.elapsed() >= JOB_WAIT {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "still {} after {} s ({}%)",
                    job.status,
                    JOB_WAIT.as_secs(),
                    job.progress.unwrap_or(0)
                ),
            ));
        }
        pause = (pause * 2).clamp(FIRST_POLL, Duration::from_secs(8));
    }
}

/// The tickets as they are now: those changed since `before` from the list, the rest one by one.
async fn read_back(
    desk: &FreshdeskDesk,
    ids: &[u64],
    before: OffsetDateTime,
) -> Result<HashMap<u64, FdTicket>, Error> {
    let wanted: HashSet<u64> = ids.iter().copied().collect();
    let mut found = HashMap::new();
    for page in 1..=REREAD_PAGES + 2 {
        let tickets = list_page(desk, before, page, false).await?.value;
        let full = tickets.len() as u32 >= LIST_PAGE;
        found.extend(
            tickets
                .into_iter()
                .filter(|t| wanted.contains(&t.id))
                .map(|t| (t.id, t)),
        );
        if !full || found.len() == wanted.len() {
            break;
        }
    }
    for id in ids {
        if !found.contains_key(id) {
            if let Some(t) = desk.read(*id).await? {
                found.insert(*id, t);
            }
        }
    }
    Ok(found)
}

/// Whether the ticket carries what `body` set.
fn applied(t: &FdTicket, body: &Value) -> bool {
    let same = |key: &str, have: Option<u64>| body.get(key).is_none_or(|v| v.as_u64() == have);
    let tags_ok = body
        .get("tags")
        .and_then(Value::as_array)
        .is_none_or(|want| {
            want.iter()
                .filter_map(Value::as_str)
                .all(|w| t.tags.iter().any(|have| have.eq_ignore_ascii_case(w)))
        });
    let fields_ok = body
        .get("custom_fields")
        .and_then(Value::as_object)
        .is_none_or(|want| want.iter().all(|(k, v)| t.custom_fields.get(k) == Some(v)));
    same("group_id", t.group_id)
        && same("priority", t.priority)
        && same("status", Some(t.status))
        && tags_ok
        && fields_ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn applied_checks_what_the_body_set() {
        let t = FdTicket::parse(json!({"id": 1, "status": 2, "group_id": 9, "priority": 3,
            "tags": ["vip", "otai_processed"], "custom_fields": {"cf_x": "a"}}))
        .unwrap();
        assert!(applied(
            &t,
            &json!({"group_id": 9, "tags": ["VIP", "otai_processed"]})
        ));
        assert!(applied(
            &t,
            &json!({"custom_fields": {"cf_x": "a"}, "priority": 3})
        ));
        assert!(!applied(&t, &json!({"group_id": 8})));
        assert!(!applied(&t, &json!({"tags": ["otai_failed"]})));
        assert!(!applied(&t, &json!({"custom_fields": {"cf_x": "b"}})));
    }
}
