//! Loading a plugin in a throwaway process first, so that a plugin that aborts while loading
//! (a panic that unwinds out of its `info`, which Rust turns into an abort, or a crash in its
//! library constructors) takes down the probe and not otai.
//!
//! The `otai` binary turns probing on at start ([`enable`]): before loading a library itself, the
//! loader runs `otai plugins probe FILE`, which loads that one file and exits. A probe killed by a
//! signal, or still loading after [`PROBE_LIMIT`], makes the file a load failure with the reason;
//! anything else (success, or a load error the loader will report itself) lets the loader go on.
//! The library API (tests, tools) loads without probing unless it enables it too.

use std::{
    os::unix::process::ExitStatusExt as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use super::loader::LoadError;

/// How long loading one library (dlopen, its constructors, `info`) may take in the probe.
pub const PROBE_LIMIT: Duration = Duration::from_secs(20);

static PROBE_EXECUTABLE: OnceLock<PathBuf> = OnceLock::new();

/// Probes every library with `executable plugins probe FILE` before it is loaded.
pub fn enable(executable: PathBuf) {
    let _ = PROBE_EXECUTABLE.set(executable);
}

/// Loads `path` in a probe process if probing is on; an error if the probe crashed or stalled.
pub(crate) fn check(path: &Path) -> Result<(), LoadError> {
    let Some(exe) = PROBE_EXECUTABLE.get() else {
        return Ok(());
    };
    let mut child = match Command::new(exe)
        .args(["plugins", "probe"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            // Probing is a safety net: without it, the library is loaded as before.
            tracing::warn!(path = %path.display(), error = %e, "Cannot start a probe process; loading the plugin without one.");
            return Ok(());
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.signal() {
                    Some(signal) => Err(LoadError::Crashed(format!(
                        "loading it killed a probe process with signal {signal}{}: the plugin \
                         aborts (an unguarded panic, or a crash in its code), so otai does not load it",
                        signal_name(signal)
                    ))),
                    None => Ok(()),
                }
            }
            Ok(None) if started.elapsed() > PROBE_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LoadError::Crashed(format!(
                    "loading it did not finish within {} s in a probe process (the plugin blocks \
                     while loading), so otai does not load it",
                    PROBE_LIMIT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "Cannot wait for a probe process; loading the plugin without one.");
                return Ok(());
            }
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        6 => " (SIGABRT)",
        11 => " (SIGSEGV)",
        4 => " (SIGILL)",
        7 => " (SIGBUS)",
        8 => " (SIGFPE)",
        _ => "",
    }
}
