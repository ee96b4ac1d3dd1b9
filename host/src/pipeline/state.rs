//! The retry state file: each pipeline's [`RetryBook`](super::retry::RetryBook) between runs, so
//! that `otai run --once` from cron (a new process every run) still counts write attempts, waits
//! out backoffs and eventually tags a ticket failed.
//!
//! - Format: JSON, `{"version": 1, "pipeline": NAME, "tickets": {ID: {"attempts": N,
//!   "next_try_unix_ms": MS, "last_seen_unix_ms": MS, "last_error": TEXT}}}`, wall-clock times
//!   in milliseconds since the Unix epoch.
//! - A missing file is an empty state (the first run). A file that cannot be read or parsed is an
//!   error naming the file, and the pipeline does not start: silently starting over would undo
//!   exactly what the file is for. Deleting the file is always safe: it only resets the attempts
//!   counted so far (the processed, failed and routed tags in the help desk are the durable
//!   state).
//! - Saved atomically: written to a temporary file in the same folder, flushed to disk, renamed
//!   over the old file (and the folder synced, where the OS allows), so a crash leaves the old or
//!   the new state, never half of one. The folder is created if needed.

use std::{
    collections::BTreeMap,
    fs,
    io::{self, Write as _},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use serde::{Deserialize, Serialize};

use super::retry::Record;

/// The format this otai reads and writes.
pub const VERSION: u32 = 1;

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the retry state file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "the retry state file {} is not valid: {reason}; fix it, or delete it to start over \
         (that only resets the write attempts counted so far)",
        path.display()
    )]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot write the retry state file {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateDoc {
    version: u32,
    pipeline: String,
    tickets: BTreeMap<String, TicketDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketDoc {
    attempts: u32,
    next_try_unix_ms: u64,
    last_seen_unix_ms: u64,
    last_error: String,
}

/// The records in `path`; none if the file does not exist.
pub fn load(path: &Path) -> Result<Vec<Record>, StateError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let invalid = |reason: String| StateError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let doc: StateDoc = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    if doc.version != VERSION {
        return Err(invalid(format!(
            "version {} (this otai reads version {VERSION})",
            doc.version
        )));
    }
    Ok(doc
        .tickets
        .into_iter()
        .map(|(id, t)| Record {
            id,
            attempts: t.attempts,
            next_try: from_ms(t.next_try_unix_ms),
            last_seen: from_ms(t.last_seen_unix_ms),
            last_error: t.last_error,
        })
        .collect())
}

/// Replaces `path` with `records` atomically.
pub fn save(path: &Path, pipeline: &str, records: &[Record]) -> Result<(), StateError> {
    let doc = StateDoc {
        version: VERSION,
        pipeline: pipeline.to_string(),
        tickets: records
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    TicketDoc {
                        attempts: r.attempts,
                        next_try_unix_ms: to_ms(r.next_try),
                        last_seen_unix_ms: to_ms(r.last_seen),
                        last_error: r.last_error.clone(),
                    },
                )
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("plain data serializes");
    bytes.push(b'\n');
    write_atomically(path, &bytes).map_err(|source| StateError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The temporary file `save` writes before renaming it to `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `bytes` to `path` through a temporary file (`temp_path`) and a rename.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let temp = temp_path(path);
    let written = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    // Makes the rename itself durable; best effort (not every OS lets a folder be opened).
    if let Ok(folder) = fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

fn to_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn from_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, attempts: u32) -> Record {
        Record {
            id: id.into(),
            attempts,
            next_try: from_ms(1_700_000_060_000),
            last_seen: from_ms(1_700_000_000_000),
            last_error: format!("error of {id}"),
        }
    }

    #[test]
    fn a_missing_file_is_an_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(&dir.path().join("none.json")).unwrap(), []);
    }

    #[test]
    fn save_then_load_gives_the_records_back_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/demo.json");
        let records = vec![record("101", 1), record("102", 2)];

        save(&path, "demo", &records).unwrap();
        save(&path, "demo", &records[1..]).unwrap();

        assert_eq!(load(&path).unwrap(), records[1..]);
        let files: Vec<String> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files, ["demo.json"], "the temporary file was renamed away");
        assert!(!temp_path(&path).exists());
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"next_try_unix_ms\": 1700000060000"),
            "{text}"
        );
    }

    #[test]
    fn a_failed_save_leaves_the_old_file_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.json");
        save(&path, "demo", &[record("1", 1)]).unwrap();
        // A folder where the temporary file would go: creating it fails.
        fs::create_dir(temp_path(&path)).unwrap();

        let error = save(&path, "demo", &[record("2", 2)]).unwrap_err();

        assert!(matches!(error, StateError::Write { .. }), "{error}");
        assert_eq!(load(&path).unwrap(), [record("1", 1)]);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.json");
        for text in [
            "{\"version\": 1, \"pipeline\": \"demo\", \"tickets\": {\"1\": {\"attempts\": ",
            "not json",
            "{\"version\": 2, \"pipeline\": \"demo\", \"tickets\": {}}",
        ] {
            fs::write(&path, text).unwrap();
            let message = load(&path).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!(
                    "the retry state file {} is not valid: ",
                    path.display()
                )),
                "{message}"
            );
            assert!(message.contains("delete it to start over"), "{message}");
        }
    }
}
