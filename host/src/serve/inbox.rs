//! The webhook inbox: ticket ids `otai serve` accepted, kept on disk until every pipeline of
//! their help desk has routed them, and the deliveries already seen.
//!
//! A help desk counts a delivery as done when it gets a 2xx, so an accepted id must survive a
//! crash right after the answer: [`Inbox::accept`] appends a line and `fsync`s it before the
//! server answers. Settling appends a line without `fsync` (losing one only means routing the
//! ticket again, which the pipelines' tags make a no-op). On start the file is replayed: ids
//! accepted and not settled are routed again; deliveries seen within [`DELIVERY_MEMORY`] are
//! still recognised. The file is rewritten with only what is live when it has grown.
//!
//! One JSON object per line:
//! `{"op":"accept","system":"zendesk","ids":["42"],"delivery":"01H...","at":1796205600}` and
//! `{"op":"settle","system":"zendesk","ids":["42"]}`.

use std::{
    collections::{BTreeMap, HashMap},
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

/// How long a delivery id is remembered: longer than any help desk's retry schedule (Zendesk
/// retries within minutes, Freshdesk up to an hour later).
pub const DELIVERY_MEMORY_SECS: i64 = 24 * 3600;
/// Lines the file may have before it is rewritten (if most of them are dead).
const COMPACT_AFTER_LINES: usize = 10_000;

/// A failed read or write of the inbox file, naming it.
#[derive(Debug, thiserror::Error)]
#[error("webhook inbox {}: {what}: {source}", path.display())]
pub struct InboxError {
    pub path: PathBuf,
    pub what: &'static str,
    #[source]
    pub source: std::io::Error,
}

/// What [`Inbox::accept`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored; these ids are new (not already waiting).
    Stored(Vec<String>),
    /// A delivery id seen before: nothing stored.
    Duplicate,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Line {
    Accept {
        system: String,
        ids: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery: Option<String>,
        at: i64,
    },
    Settle {
        system: String,
        ids: Vec<String>,
    },
}

/// The inbox, open for appending.
#[derive(Debug)]
pub struct Inbox {
    path: PathBuf,
    file: File,
    /// (system, ticket id) -> when accepted.
    waiting: BTreeMap<(String, String), i64>,
    /// (system, delivery id) -> when seen.
    deliveries: HashMap<(String, String), i64>,
    lines: usize,
}

impl Inbox {
    /// Opens (or creates) the inbox at `path`, replays it and rewrites it with what is live.
    /// Unreadable lines (a line cut short by a crash) are skipped with a warning.
    pub fn open(path: &Path, now: i64) -> Result<Inbox, InboxError> {
        let error = |what, source| InboxError {
            path: path.to_path_buf(),
            what,
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| error("cannot create its folder", e))?;
        }
        let mut waiting = BTreeMap::new();
        let mut deliveries = HashMap::new();
        match File::open(path) {
            Ok(file) => {
                for (number, line) in BufReader::new(file).lines().enumerate() {
                    let line = line.map_err(|e| error("cannot read it", e))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<Line>(&line) {
                        Ok(line) => replay(line, &mut waiting, &mut deliveries),
                        Err(e) => tracing::warn!(
                            file = %path.display(),
                            line = number + 1,
                            error = %e,
                            "Skipped an unreadable line of the webhook inbox (cut short by a crash?); polling finds its tickets anyway."
                        ),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(error("cannot open it", e)),
        }
        deliveries.retain(|_, at| now.saturating_sub(*at) < DELIVERY_MEMORY_SECS);
        let file = rewrite(path, &waiting, &deliveries)?;
        let lines = waiting.len() + deliveries.len();
        Ok(Inbox {
            path: path.to_path_buf(),
            file,
            waiting,
            deliveries,
            lines,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores `ids` of `system` durably (written and `fsync`ed before it returns), unless
    /// `delivery` was seen before. Ids already waiting are stored once.
    pub fn accept(
        &mut self,
        system: &str,
        delivery: Option<&str>,
        ids: &[String],
        now: i64,
    ) -> Result<Accepted, InboxError> {
        if let Some(delivery) = delivery {
            let key = (system.to_string(), delivery.to_string());
            if self
                .deliveries
                .get(&key)
                .is_some_and(|at| now.saturating_sub(*at) < DELIVERY_MEMORY_SECS)
            {
                return Ok(Accepted::Duplicate);
            }
        }
        let line = Line::Accept {
            system: system.to_string(),
            ids: ids.to_vec(),
            delivery: delivery.map(str::to_string),
            at: now,
        };
        self.append(&line, true)?;
        if let Some(delivery) = delivery {
            self.deliveries
                .insert((system.to_string(), delivery.to_string()), now);
        }
        let mut new = Vec::new();
        for id in ids {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.waiting.entry((system.to_string(), id.clone()))
            {
                slot.insert(now);
                new.push(id.clone());
            }
        }
        Ok(Accepted::Stored(new))
    }

    /// Forgets `ids` of `system`: every pipeline has routed them (or given up on them).
    pub fn settle(&mut self, system: &str, ids: &[String], now: i64) -> Result<(), InboxError> {
        let ids: Vec<String> = ids
            .iter()
            .filter(|id| {
                self.waiting
                    .contains_key(&(system.to_string(), (*id).clone()))
            })
            .cloned()
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        self.append(
            &Line::Settle {
                system: system.to_string(),
                ids: ids.clone(),
            },
            false,
        )?;
        for id in ids {
            self.waiting.remove(&(system.to_string(), id));
        }
        self.compact_if_large(now)
    }

    /// Every id waiting, by system, oldest first within a system.
    pub fn waiting(&self) -> BTreeMap<String, Vec<String>> {
        let mut by_system: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        for ((system, id), at) in &self.waiting {
            by_system
                .entry(system.clone())
                .or_default()
                .push((*at, id.clone()));
        }
        by_system
            .into_iter()
            .map(|(system, mut ids)| {
                ids.sort();
                (system, ids.into_iter().map(|(_, id)| id).collect())
            })
            .collect()
    }

    /// How many ids wait (the queue depth).
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    fn append(&mut self, line: &Line, sync: bool) -> Result<(), InboxError> {
        let mut text = serde_json::to_string(line).expect("inbox lines serialize");
        text.push('\n');
        let error = |what, source| InboxError {
            path: self.path.clone(),
            what,
            source,
        };
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| error("cannot append to it", e))?;
        if sync {
            self.file
                .sync_data()
                .map_err(|e| error("cannot flush it to disk", e))?;
        }
        self.lines += 1;
        Ok(())
    }

    fn compact_if_large(&mut self, now: i64) -> Result<(), InboxError> {
        let live = self.waiting.len() + self.deliveries.len();
        if self.lines < COMPACT_AFTER_LINES || self.lines < 4 * live {
            return Ok(());
        }
        self.deliveries
            .retain(|_, at| now.saturating_sub(*at) < DELIVERY_MEMORY_SECS);
        self.file = rewrite(&self.path, &self.waiting, &self.deliveries)?;
        self.lines = self.waiting.len() + self.deliveries.len();
        Ok(())
    }
}

fn replay(
    line: Line,
    waiting: &mut BTreeMap<(String, String), i64>,
    deliveries: &mut HashMap<(String, String), i64>,
) {
    match line {
        Line::Accept {
            system,
            ids,
            delivery,
            at,
        } => {
            if let Some(delivery) = delivery {
                deliveries.insert((system.clone(), delivery), at);
            }
            for id in ids {
                waiting.entry((system.clone(), id)).or_insert(at);
            }
        }
        Line::Settle { system, ids } => {
            for id in ids {
                waiting.remove(&(system.clone(), id));
            }
        }
    }
}

/// Writes what is live to a temporary file, `fsync`s it and renames it over `path`; returns
/// the file open for appending.
fn rewrite(
    path: &Path,
    waiting: &BTreeMap<(String, String), i64>,
    deliveries: &HashMap<(String, String), i64>,
) -> Result<File, InboxError> {
    let error = |what, source| InboxError {
        path: path.to_path_buf(),
        what,
        source,
    };
    let mut text = String::new();
    let mut push = |line: Line| {
        text.push_str(&serde_json::to_string(&line).expect("inbox lines serialize"));
        text.push('\n');
    };
    for ((system, id), at) in waiting {
        push(Line::Accept {
            system: system.clone(),
            ids: vec![id.clone()],
            delivery: None,
            at: *at,
        });
    }
    let mut seen: Vec<_> = deliveries.iter().collect();
    seen.sort();
    for ((system, delivery), at) in seen {
        push(Line::Accept {
            system: system.clone(),
            ids: Vec::new(),
            delivery: Some(delivery.clone()),
            at: *at,
        });
    }
    let tmp = path.with_extension("jsonl.tmp");
    let mut file = File::create(&tmp).map_err(|e| error("cannot rewrite it", e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| error("cannot rewrite it", e))?;
    std::fs::rename(&tmp, path).map_err(|e| error("cannot replace it", e))?;
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| error("cannot open it for appending", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accepted_ids_survive_a_restart_until_settled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox/webhooks.jsonl");
        let mut inbox = Inbox::open(&path, 1_000).unwrap();
        assert_eq!(
            inbox
                .accept("zendesk", Some("d1"), &ids(&["1", "2"]), 1_000)
                .unwrap(),
            Accepted::Stored(ids(&["1", "2"]))
        );
        inbox.accept("zammad", None, &ids(&["1"]), 1_001).unwrap();
        inbox.settle("zendesk", &ids(&["1"]), 1_002).unwrap();
        // A crash: the value is dropped without any shutdown step.
        drop(inbox);

        let inbox = Inbox::open(&path, 1_003).unwrap();
        let waiting = inbox.waiting();
        assert_eq!(waiting["zendesk"], ids(&["2"]));
        assert_eq!(waiting["zammad"], ids(&["1"]));
        assert_eq!(inbox.len(), 2);
    }

    #[test]
    fn a_delivery_seen_before_is_a_duplicate_even_after_a_restart_and_then_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webhooks.jsonl");
        let mut inbox = Inbox::open(&path, 1_000).unwrap();
        inbox
            .accept("zendesk", Some("d1"), &ids(&["7"]), 1_000)
            .unwrap();
        inbox.settle("zendesk", &ids(&["7"]), 1_001).unwrap();
        assert_eq!(
            inbox
                .accept("zendesk", Some("d1"), &ids(&["7"]), 1_002)
                .unwrap(),
            Accepted::Duplicate
        );
        // The same delivery id from another help desk is another delivery.
        assert_eq!(
            inbox
                .accept("zammad", Some("d1"), &ids(&["7"]), 1_002)
                .unwrap(),
            Accepted::Stored(ids(&["7"]))
        );
        drop(inbox);
        let mut inbox = Inbox::open(&path, 1_003).unwrap();
        assert_eq!(
            inbox
                .accept("zendesk", Some("d1"), &ids(&["7"]), 1_003)
                .unwrap(),
            Accepted::Duplicate
        );
        drop(inbox);
        let later = 1_000 + DELIVERY_MEMORY_SECS;
        let mut inbox = Inbox::open(&path, later).unwrap();
        assert_eq!(
            inbox
                .accept("zendesk", Some("d1"), &ids(&["7"]), later)
                .unwrap(),
            Accepted::Stored(ids(&["7"]))
        );
    }

    #[test]
    fn an_id_waiting_already_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut inbox = Inbox::open(&dir.path().join("w.jsonl"), 0).unwrap();
        inbox.accept("z", Some("a"), &ids(&["5"]), 0).unwrap();
        assert_eq!(
            inbox.accept("z", Some("b"), &ids(&["5", "6"]), 1).unwrap(),
            Accepted::Stored(ids(&["6"]))
        );
        assert_eq!(inbox.len(), 2);
    }

    #[test]
    fn a_line_cut_short_is_skipped_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.jsonl");
        std::fs::write(
            &path,
            "{\"op\":\"accept\",\"system\":\"z\",\"ids\":[\"1\"],\"at\":5}\n{\"op\":\"accept\",\"sys",
        )
        .unwrap();
        let inbox = Inbox::open(&path, 6).unwrap();
        assert_eq!(inbox.waiting()["z"], ids(&["1"]));
        // Rewritten: only readable lines remain.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn the_file_is_compacted_once_most_of_it_is_dead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.jsonl");
        let mut inbox = Inbox::open(&path, 0).unwrap();
        for n in 0..(COMPACT_AFTER_LINES / 2 + 1) {
            let id = ids(&[&n.to_string()]);
            inbox.accept("z", None, &id, 0).unwrap();
            inbox.settle("z", &id, 0).unwrap();
        }
        inbox.accept("z", None, &ids(&["last"]), 0).unwrap();
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(
            lines < 10,
            "compacted to what is live, then appended: {lines} lines"
        );
        drop(inbox);
        assert_eq!(
            Inbox::open(&path, 0).unwrap().waiting()["z"],
            ids(&["last"])
        );
    }

    #[test]
    fn an_unwritable_place_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let err = Inbox::open(&blocker.join("w.jsonl"), 0).unwrap_err();
        assert!(err.to_string().contains("w.jsonl"), "{err}");
    }
}
