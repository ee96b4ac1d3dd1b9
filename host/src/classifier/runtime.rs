//! Finds the ONNX Runtime shared library and initialises it once per process.
//!
//! otai links ONNX Runtime dynamically (ort's `load-dynamic`): the library comes from the `onnxruntime` PyPI
//! wheel, copied by `models/setup.sh` to `models/onnxruntime/`. Search order:
//! 1. an explicit path ([`EncoderOptions::ort_library`](super::EncoderOptions::ort_library); no
//!    configuration key sets it),
//! 2. the `ORT_DYLIB_PATH` environment variable,
//! 3. `models/onnxruntime/libonnxruntime.so*` in the executable's directory and up to four of its parents (so
//!    `target/release/otai` and `cargo test` find the repository's copy), then `libonnxruntime.so*` next to
//!    the executable and in its `lib/` subfolder. Never the working directory or its parents: a library
//!    found there would run as otai for whoever can write a folder otai happens to start in, while
//!    whoever can write the executable's folders can replace otai itself anyway.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::error::{ClassifierError, Result};

/// The ONNX Runtime version `models/setup.sh` installs and the tests run against.
pub const TESTED_ORT_VERSION: &str = "1.31.1";
/// The oldest ONNX Runtime this build accepts (ort's `api-24` feature needs API version 24).
pub const MIN_ORT_VERSION: &str = "1.24";

/// The initialised ONNX Runtime: where it was loaded from, and the environment sessions are created in.
pub struct OrtRuntime {
    /// The shared library that was loaded.
    pub library: PathBuf,
    pub(crate) environment: ort::environment::Environment,
}

impl OrtRuntime {
    /// The ONNX Runtime environment, for code that builds its own sessions (benchmarks, tools).
    pub fn environment(&self) -> &ort::environment::Environment {
        &self.environment
    }
}

impl std::fmt::Debug for OrtRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtRuntime")
            .field("library", &self.library)
            .finish_non_exhaustive()
    }
}

static RUNTIME: OnceLock<OrtRuntime> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime (once per process) and returns it. Later calls return the first runtime, whatever
/// `explicit` says: a process can hold only one ONNX Runtime library.
///
/// `explicit` is [`EncoderOptions::ort_library`](super::EncoderOptions::ort_library); it wins over
/// `ORT_DYLIB_PATH` and the search.
pub fn init(explicit: Option<&Path>) -> Result<&'static OrtRuntime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    // Serialise first initialisation: ort allows one environment per process, and a second dlopen of a
    // different path would be silently ignored by ort.
    let _guard = INIT_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let library = locate(explicit)?;
    let builder = ort::init_from(&library).map_err(|e| load_error(&library, &e))?;
    let environment = builder
        .with_name("otai")
        .with_telemetry(false)
        .build()
        .map_err(|e| {
            ClassifierError::Runtime(format!(
                "ONNX Runtime loaded from {} but could not create its environment: {e}",
                library.display()
            ))
        })?;
    tracing::info!(path = %library.display(), "Loaded ONNX Runtime.");
    Ok(RUNTIME.get_or_init(|| OrtRuntime {
        library,
        environment,
    }))
}

/// The runtime, if [`init`] has succeeded in this process.
pub fn get() -> Option<&'static OrtRuntime> {
    RUNTIME.get()
}

/// Where the library would be loaded from, without loading it (for `otai check`-style diagnostics).
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return existing(path, "`onnxruntime:` in the configuration");
    }
    if let Some(value) = std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        return existing(Path::new(&value), "ORT_DYLIB_PATH");
    }
    let dirs = search_dirs();
    for dir in &dirs {
        if let Some(found) = library_in(dir) {
            return Ok(found);
        }
    }
    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(ClassifierError::Runtime(format!(
        "ONNX Runtime library not found. Run `make setup` (or `models/setup.sh`) in the otai repository to \
         install it into models/onnxruntime/, or set ORT_DYLIB_PATH to a libonnxruntime.so of ONNX Runtime \
         >= {MIN_ORT_VERSION} (tested: {TESTED_ORT_VERSION}; the `onnxruntime` PyPI wheel has it under \
         onnxruntime/capi/). Searched: {}",
        searched.join(", ")
    )))
}

fn existing(path: &Path, what: &str) -> Result<PathBuf> {
    if path.is_file() {
        // ort resolves relative paths against the executable's directory, not the working directory.
        Ok(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    } else {
        Err(ClassifierError::Runtime(format!(
            "{what} points to {}, which is not a file. Point it to libonnxruntime.so (ONNX Runtime >= \
             {MIN_ORT_VERSION}), or unset it and run `make setup` to use models/onnxruntime/",
            path.display()
        )))
    }
}

fn search_dirs() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| std::fs::canonicalize(exe).ok())
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    if let Some(dir) = &exe_dir {
        roots.extend(dir.ancestors().take(5).map(Path::to_path_buf));
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for root in roots {
        let dir = root.join("models").join("onnxruntime");
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    if let Some(dir) = exe_dir {
        dirs.push(dir.join("lib"));
        dirs.push(dir);
    }
    dirs
}

/// `libonnxruntime.so` if present, else the highest-versioned `libonnxruntime.so.X.Y.Z` in `dir`.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let plain = format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let candidate = dir.join(&plain);
    if candidate.is_file() {
        return std::fs::canonicalize(&candidate).ok().or(Some(candidate));
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{plain}.")))
        })
        .collect();
    versioned.sort_by_key(|p| version_key(p));
    versioned.pop()
}

fn version_key(path: &Path) -> Vec<u32> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(|n| {
            n.split('.')
                .filter_map(|part| part.parse::<u32>().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn load_error(path: &Path, err: &ort::LoadDynamicError) -> ClassifierError {
    let detail = match err {
        ort::LoadDynamicError::BadVersion { version_str, .. } => format!(
            "it is ONNX Runtime {version_str}, but otai needs >= {MIN_ORT_VERSION} (tested: {TESTED_ORT_VERSION})"
        ),
        ort::LoadDynamicError::MissingApi { .. } => {
            "it does not export OrtGetApiBase, so it is not an ONNX Runtime library".to_string()
        }
        other => other.to_string(),
    };
    ClassifierError::Runtime(format!(
        "cannot use the ONNX Runtime library at {}: {detail}. Run `make setup` (installs ONNX Runtime \
         {TESTED_ORT_VERSION} into models/onnxruntime/) or set ORT_DYLIB_PATH to a compatible libonnxruntime.so",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_highest_versioned_library() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "libonnxruntime.so.1.9.0",
            "libonnxruntime.so.1.31.1",
            "libonnxruntime.so.1.24.4",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }

        let found = library_in(dir.path()).unwrap();

        assert_eq!(found.file_name().unwrap(), "libonnxruntime.so.1.31.1");
    }

    #[test]
    fn explicit_path_that_does_not_exist_is_a_clear_error() {
        let err = locate(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();

        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/libonnxruntime.so"), "{msg}");
        assert!(msg.contains("make setup"), "{msg}");
    }

    #[test]
    fn a_too_old_library_is_reported_with_its_version_and_the_fix() {
        let path = Path::new("/opt/ort/libonnxruntime.so.1.23.2");
        let err = ort::LoadDynamicError::BadVersion {
            version_str: "1.23.2".into(),
            path: path.to_path_buf(),
        };

        let msg = load_error(path, &err).to_string();

        assert!(msg.contains("/opt/ort/libonnxruntime.so.1.23.2"), "{msg}");
        assert!(msg.contains("1.23.2") && msg.contains(">= 1.24"), "{msg}");
        assert!(
            msg.contains("make setup") && msg.contains("ORT_DYLIB_PATH"),
            "{msg}"
        );
    }

    #[test]
    fn the_working_directory_is_never_searched() {
        // cargo runs these tests in host/, which is no ancestor of the test executable.
        let cwd = std::env::current_dir().unwrap();

        let dirs = search_dirs();

        assert!(
            !dirs.contains(&cwd.join("models").join("onnxruntime")),
            "{dirs:?}"
        );
        let exe = std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap();
        assert!(
            dirs.iter().all(|d| d
                .ancestors()
                .any(|a| exe.starts_with(a) && a != Path::new("/"))),
            "{dirs:?}"
        );
    }

    #[test]
    fn the_repository_copy_is_found_from_the_test_working_directory() {
        // cargo runs tests in host/; the search must walk up to the repository's models/onnxruntime/.
        let path = locate(None).unwrap_or_else(|e| panic!("{e}"));

        assert!(
            path.to_string_lossy().contains("onnxruntime"),
            "{}",
            path.display()
        );
    }
}
