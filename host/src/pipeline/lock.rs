//! One writing instance per pipeline: an exclusive lock on a file beside the pipeline's retry state.
//!
//! Two overlapping `otai run` on one pipeline (a cron `--once` that runs long while the next starts, or a
//! service and a manual run) would both write the retry state (the last writer wins, so attempts are
//! lost) and double every API call. `otai run` takes the lock of each pipeline it writes for before
//! its state is read, and holds it until it exits; the operating system releases it when the process
//! ends, however it ends (SIGKILL included), so a crash never leaves a stale lock behind. The holder
//! writes its process id, host and start time into the file, so a second instance can say who is
//! running instead of just failing. Dry runs and shadow runs write nothing and take no lock.

use std::{
    fs::{File, OpenOptions},
    io::{Read as _, Seek as _, SeekFrom, Write as _},
    path::PathBuf,
};

use crate::config::{pipeline::default_state_file, PipelineConfig};

/// A pipeline's lock, held until dropped.
#[derive(Debug)]
pub struct PipelineLock {
    /// The locked file: closing it releases the lock.
    _file: File,
    pub path: PathBuf,
}

/// Why a pipeline's lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "pipeline `{pipeline}` is already running: {holder} holds {path}; stop that run, or start \
         this one with --wait-lock to wait for it"
    )]
    Held {
        pipeline: String,
        path: PathBuf,
        holder: String,
    },
    #[error("cannot lock pipeline `{pipeline}` with {path}: {source}")]
    Io {
        pipeline: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The lock file of a pipeline: beside its state file, or where its default state file would be
/// when it keeps its state in memory only (`state_file: null`).
pub fn lock_path(pipeline: &PipelineConfig) -> PathBuf {
    pipeline
        .state_file
        .clone()
        .unwrap_or_else(|| default_state_file(&pipeline.name))
        .with_extension("lock")
}

/// Takes the pipeline's lock: at once, or an error naming who holds it; with `wait`, blocks until the
/// holder is gone (call it off the async runtime).
pub fn acquire(pipeline: &PipelineConfig, wait: bool) -> Result<PipelineLock, LockError> {
    let path = lock_path(pipeline);
    let io = |source| LockError::Io {
        pipeline: pipeline.name.clone(),
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Never truncated on open: the holder's line must survive for the instance that fails to lock.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) if wait => {
            tracing::info!(pipeline = %pipeline.name, lock = %path.display(), holder = %holder(&mut file), "Waiting for the pipeline's lock (--wait-lock).");
            file.lock().map_err(io)?;
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(LockError::Held {
                pipeline: pipeline.name.clone(),
                holder: holder(&mut file),
                path,
            })
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    write_holder(&mut file).map_err(io)?;
    Ok(PipelineLock { _file: file, path })
}

/// Who holds the lock, as its holder wrote it.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let read = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text));
    match read {
        Ok(_) if !text.trim().is_empty() => text.trim().to_string(),
        _ => "another otai process (it has not said which yet)".to_string(),
    }
}

fn write_holder(file: &mut File) -> std::io::Result<()> {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this host".into());
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(
        file,
        "otai process {} on {host} (since {})",
        std::process::id(),
        crate::history::since::rfc3339(crate::history::since::now_unix())
    )?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn pipeline(dir: &Path) -> PipelineConfig {
        let text = format!(
            "ticket_systems: {{z: {{use: \"p:S\"}}}}\npipelines:\n  main:\n    ticket_system: z\n    state_file: {}\n    fields: {{queue: {{action: tag}}}}\n",
            dir.join("main.json").display()
        );
        Config::parse(&text, Path::new("t.yml"), &|_| Ok(None))
            .unwrap()
            .pipelines["main"]
            .clone()
    }

    #[test]
    fn a_second_instance_is_told_who_holds_the_lock_and_gets_it_once_released() {
        let dir = tempfile::TempDir::new().unwrap();
        let p = pipeline(dir.path());

        let first = acquire(&p, false).unwrap();
        let second = acquire(&p, false).unwrap_err().to_string();
        drop(first);
        let third = acquire(&p, false);

        assert!(
            second.contains("pipeline `main` is already running"),
            "{second}"
        );
        assert!(
            second.contains(&format!("otai process {}", std::process::id())),
            "{second}"
        );
        assert!(second.contains("main.lock"), "{second}");
        assert!(second.contains("--wait-lock"), "{second}");
        assert!(third.is_ok(), "released when the holder is dropped");
    }

    #[test]
    fn waiting_takes_the_lock_once_the_holder_lets_go() {
        let dir = tempfile::TempDir::new().unwrap();
        let p = pipeline(dir.path());
        let first = acquire(&p, false).unwrap();
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || acquire(&p, true).map(|l| l.path))
        };
        // The waiter cannot have the lock while the first holds it.
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!waiter.is_finished());

        drop(first);

        assert_eq!(
            waiter.join().unwrap().unwrap(),
            dir.path().join("main.lock")
        );
    }
}
