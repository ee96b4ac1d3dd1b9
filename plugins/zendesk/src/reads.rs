//! Same-second edits: what the adapter read, and when by Zendesk's clock.
//!
//! Zendesk's `updated_at` has one-second resolution, and a safe update (`safe_update` +
//! `updated_stamp`) only compares stamps. A read made in the same second as the ticket's last
//! change cannot tell whether another change follows within that second: such a change keeps the
//! stamp, so a write based on the read would pass the safe-update check and overwrite it (an
//! agent's tag dropped from the full tag set, an agent's group or priority replaced). Zendesk
//! has no additive tag operation that can share one atomic write with fields and a note (only the
//! bulk form of `update_many`, which applies one change to all its tickets), so the adapter
//! keeps the single atomic write and makes sure the stamp it is based on is unambiguous:
//!
//! - Every read (search, search export, show, show_many) records, per ticket, the stamp, the
//!   server's second when it answered (its `Date` header; without one, this machine's clock less
//!   2 s) and a fingerprint of what a write
//!   decision depends on (status, priority, group, tags, custom fields, subject, text).
//! - A read is **ambiguous** when the server's second is not later than the stamp.
//! - Before a write based on an ambiguous read (the caller's `if_unchanged_since` equal to the
//!   recorded stamp, or the adapter's own read for a tag write), the ticket is read again. The
//!   same stamp and the same fingerprint on a later-second read prove that nothing changed since:
//!   any change after it moves the stamp, and the safe update refuses it. A different stamp or
//!   fingerprint is a conflict (decided again next pass, nothing written). A re-read that is
//!   itself in the stamp's second waits a second and tries again, [`CONFIRM_ATTEMPTS`] times.
//!
//! A stamp the adapter did not read itself (a caller's from elsewhere) is used as given.

use std::{
    collections::{hash_map::DefaultHasher, HashMap},
    hash::{Hash, Hasher},
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use otai_plugin_sdk::{Error, ErrorKind, LogLevel};
use serde_json::Value;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{
    api::{TicketsEnvelope, ZTicket},
    batch::MAX_BATCH,
    client::ZendeskClient,
};

const TARGET: &str = "otai_zendesk::reads";
const SHOW_MANY: &str = "/api/v2/tickets/show_many";
/// Reads of one ticket before giving up on an unambiguous one.
pub const CONFIRM_ATTEMPTS: u32 = 3;
/// Between two re-reads in the stamp's second: the next second has begun by then.
const CONFIRM_WAIT: Duration = Duration::from_millis(1100);
/// Without a `Date` header, a read counts as made this long before this machine's clock says:
/// room for the two clocks to differ.
const NO_DATE_MARGIN: Duration = Duration::from_secs(2);
/// Marks kept; the oldest half is forgotten beyond this (a pass reads far fewer).
const MAX_MARKS: usize = 100_000;

/// What one read of a ticket saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    /// `updated_at`, unix seconds.
    pub stamp: i64,
    /// The server's clock when it answered, unix seconds (its `Date` header; without one, this
    /// machine's clock less [`NO_DATE_MARGIN`]).
    pub server_second: i64,
    pub fingerprint: u64,
    /// Insertion order, for forgetting the oldest.
    seq: u64,
}

impl Mark {
    /// Whether a change in the stamp's second may have followed the read unseen.
    pub fn is_ambiguous(&self) -> bool {
        self.server_second <= self.stamp
    }
}

/// The marks of the tickets this client read, by ticket id.
#[derive(Debug, Default)]
pub(crate) struct ReadBook {
    marks: Mutex<(u64, HashMap<u64, Mark>)>,
}

impl ReadBook {
    /// Records a read of `z` answered at `server_time`; tickets without id or stamp are skipped.
    pub fn record(&self, z: &ZTicket, server_time: Option<SystemTime>) {
        let (Some(id), Some(stamp)) = (z.id, z.updated_at.as_deref().and_then(unix_seconds)) else {
            return;
        };
        let mut guard = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        let (seq, marks) = &mut *guard;
        *seq += 1;
        if marks.len() >= MAX_MARKS {
            let cut = *seq - (MAX_MARKS as u64 / 2);
            marks.retain(|_, m| m.seq >= cut);
        }
        marks.insert(
            id,
            Mark {
                stamp,
                server_second: system_seconds(
                    server_time.unwrap_or_else(|| SystemTime::now() - NO_DATE_MARGIN),
                ),
                fingerprint: fingerprint(z),
                seq: *seq,
            },
        );
    }

    pub fn get(&self, id: u64) -> Option<Mark> {
        let guard = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.get(&id).copied()
    }

    /// The mark a write with the caller's `stamp` must be confirmed against, if any: the
    /// recorded read of that very stamp, when it was ambiguous.
    pub fn needs_confirming(&self, id: u64, stamp: &str) -> Option<Mark> {
        let stamp = unix_seconds(stamp)?;
        self.get(id)
            .filter(|m| m.stamp == stamp && m.is_ambiguous())
    }
}

/// `2024-05-01T10:00:00Z` as unix seconds.
pub(crate) fn unix_seconds(stamp: &str) -> Option<i64> {
    OffsetDateTime::parse(stamp.trim(), &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

fn system_seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A hash of what a write decision depends on. Tags compare without case and order (as Zendesk
/// stores them).
pub(crate) fn fingerprint(z: &ZTicket) -> u64 {
    let mut h = DefaultHasher::new();
    z.status.hash(&mut h);
    z.priority.hash(&mut h);
    z.group_id.hash(&mut h);
    z.subject.hash(&mut h);
    z.description.hash(&mut h);
    let mut tags: Vec<String> = z.tags.iter().map(|t| t.to_ascii_lowercase()).collect();
    tags.sort();
    tags.hash(&mut h);
    for f in &z.custom_fields {
        f.id.hash(&mut h);
        f.value.to_string().hash(&mut h);
    }
    h.finish()
}

/// What a confirming read says about a ticket.
#[derive(Debug)]
enum Check {
    /// Unambiguous, and (against an expected mark) unchanged.
    Confirmed,
    /// Changed since the expected read.
    Changed,
    /// Read in the stamp's second again.
    StillAmbiguous,
}

fn check(fresh: &Mark, expected: Option<&Mark>) -> Check {
    if let Some(expected) = expected {
        if fresh.stamp != expected.stamp || fresh.fingerprint != expected.fingerprint {
            return Check::Changed;
        }
    }
    if fresh.is_ambiguous() {
        Check::StillAmbiguous
    } else {
        Check::Confirmed
    }
}

impl ZendeskClient {
    /// `GET /api/v2/tickets/show_many?ids=` for at most [`MAX_BATCH`] ids, each read recorded.
    async fn read_many(&self, ids: &[u64]) -> Result<HashMap<u64, (ZTicket, Value)>, Error> {
        let list = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        let answer = self
            .http
            .get_dated::<TicketsEnvelope>(SHOW_MANY, &[("ids", list)])
            .await?;
        Ok(answer
            .value
            .tickets
            .into_iter()
            .filter_map(|raw| {
                let z = ZTicket::from_json(&raw)?;
                self.reads.record(&z, answer.server_time);
                Some((z.id?, (z, raw)))
            })
            .collect())
    }

    /// Reads `wanted` tickets so that each read is unambiguous and, where a mark is given,
    /// matches it (see the module docs). Per ticket: the fresh ticket (parsed and raw), or why not (`conflict`,
    /// `not_found`, or the read's error). An authentication failure fails the whole call.
    pub(crate) async fn confirmed_reads(
        &self,
        wanted: &[(u64, Option<Mark>)],
    ) -> Result<HashMap<u64, Result<(ZTicket, Value), Error>>, Error> {
        let mut out: HashMap<u64, Result<(ZTicket, Value), Error>> = HashMap::new();
        let mut pending: Vec<(u64, Option<Mark>)> = wanted.to_vec();
        for attempt in 1..=CONFIRM_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            if attempt > 1 {
                tokio::time::sleep(CONFIRM_WAIT).await;
            }
            let mut again = Vec::new();
            for chunk in pending.chunks(MAX_BATCH) {
                let ids: Vec<u64> = chunk.iter().map(|(id, _)| *id).collect();
                let found = match self.read_many(&ids).await {
                    Ok(found) => found,
                    Err(e) if matches!(e.kind, ErrorKind::Auth | ErrorKind::Forbidden) => {
                        return Err(e)
                    }
                    Err(e) => {
                        for id in ids {
                            out.insert(id, Err(e.clone()));
                        }
                        continue;
                    }
                };
                for (id, expected) in chunk {
                    let Some(read) = found.get(id) else {
                        out.insert(*id, Err(not_found(*id)));
                        continue;
                    };
                    // Without a stamp there is nothing a write could rely on, or confirm.
                    if read
                        .0
                        .updated_at
                        .as_deref()
                        .and_then(unix_seconds)
                        .is_none()
                    {
                        out.insert(*id, Ok(read.clone()));
                        continue;
                    }
                    let fresh = self.reads.get(*id).expect("recorded by read_many");
                    match check(&fresh, expected.as_ref()) {
                        Check::Confirmed => {
                            out.insert(*id, Ok(read.clone()));
                        }
                        Check::Changed => {
                            out.insert(*id, Err(changed(*id)));
                        }
                        Check::StillAmbiguous if attempt < CONFIRM_ATTEMPTS => {
                            again.push((*id, *expected));
                        }
                        Check::StillAmbiguous => {
                            out.insert(*id, Err(unconfirmed(*id)));
                        }
                    }
                }
            }
            if !again.is_empty() {
                self.http.log().log(LogLevel::Debug, TARGET, || {
                    format!(
                        "{} ticket(s) were read in the same second as their last change; reading them again in a second.",
                        again.len()
                    )
                });
            }
            pending = again;
        }
        Ok(out)
    }
}

impl ZendeskClient {
    /// One ticket (`GET /api/v2/tickets/{id}`) read unambiguously and, against `expected`,
    /// unchanged; as [`confirmed_reads`](Self::confirmed_reads) for one ticket.
    pub(crate) async fn confirmed_read(
        &self,
        id: u64,
        expected: Option<Mark>,
    ) -> Result<(ZTicket, Value), Error> {
        for attempt in 1..=CONFIRM_ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(CONFIRM_WAIT).await;
            }
            let read = self.read_ticket(id).await?;
            // Without a stamp there is nothing a write could rely on, or confirm.
            if read
                .0
                .updated_at
                .as_deref()
                .and_then(unix_seconds)
                .is_none()
            {
                return Ok(read);
            }
            let fresh = self.reads.get(id).expect("recorded by read_ticket");
            match check(&fresh, expected.as_ref()) {
                Check::Confirmed => return Ok(read),
                Check::Changed => return Err(changed(id)),
                Check::StillAmbiguous => {}
            }
        }
        Err(unconfirmed(id))
    }
}

fn not_found(id: u64) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("ticket {id}: not found (GET {SHOW_MANY} did not return it); nothing was written"),
    )
}

fn changed(id: u64) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!(
            "ticket {id} changed in the same second otai read it (same updated_at, different \
             content); nothing was written"
        ),
    )
}

fn unconfirmed(id: u64) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!(
            "ticket {id}: every read shared its second with the ticket's last change, so a change \
             right after it could not be ruled out; nothing was written"
        ),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ticket(updated_at: &str, tags: &[&str]) -> ZTicket {
        ZTicket::from_json(
            &json!({"id": 7, "updated_at": updated_at, "tags": tags, "priority": "low"}),
        )
        .unwrap()
    }

    fn at(stamp: &str) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix_seconds(stamp).unwrap() as u64)
    }

    #[test]
    fn a_read_in_the_stamps_second_is_ambiguous_and_a_later_one_is_not() {
        let book = ReadBook::default();
        let z = ticket("2024-05-01T10:00:00Z", &["a"]);
        book.record(&z, Some(at("2024-05-01T10:00:00Z")));
        assert!(book.needs_confirming(7, "2024-05-01T10:00:00Z").is_some());
        book.record(&z, Some(at("2024-05-01T10:00:01Z")));
        assert!(book.needs_confirming(7, "2024-05-01T10:00:00Z").is_none());
        // Without a Date header this machine's clock (less a margin) stands in.
        book.record(&z, None);
        assert!(book.needs_confirming(7, "2024-05-01T10:00:00Z").is_none());
        let just_now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap()
            .format(&Rfc3339)
            .unwrap();
        book.record(&ticket(&just_now, &["a"]), None);
        assert!(book.needs_confirming(7, &just_now).is_some());
        // A stamp the adapter did not read is the caller's business.
        assert!(book.needs_confirming(7, "2024-04-30T09:00:00Z").is_none());
        assert!(book.needs_confirming(8, "2024-05-01T10:00:00Z").is_none());
    }

    #[test]
    fn a_same_stamp_with_other_content_is_a_change() {
        let book = ReadBook::default();
        book.record(
            &ticket("2024-05-01T10:00:00Z", &["a"]),
            Some(at("2024-05-01T10:00:00Z")),
        );
        let expected = book.get(7).unwrap();
        book.record(
            &ticket("2024-05-01T10:00:00Z", &["a", "agent"]),
            Some(at("2024-05-01T10:00:02Z")),
        );
        let fresh = book.get(7).unwrap();
        assert!(matches!(check(&fresh, Some(&expected)), Check::Changed));
        book.record(
            &ticket("2024-05-01T10:00:00Z", &["A"]),
            Some(at("2024-05-01T10:00:02Z")),
        );
        let same = book.get(7).unwrap();
        assert!(
            matches!(check(&same, Some(&expected)), Check::Confirmed),
            "tags compare without case"
        );
        book.record(
            &ticket("2024-05-01T10:00:00Z", &["a"]),
            Some(at("2024-05-01T10:00:00Z")),
        );
        let again = book.get(7).unwrap();
        assert!(matches!(
            check(&again, Some(&expected)),
            Check::StillAmbiguous
        ));
    }
}
