//! What the end-to-end benches share: the repository root and the plugin `.so` cargo built.

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The plugin `name` (`libotai_zendesk.so`) as cargo built it for this bench (a dev-dependency
/// cdylib lands next to the bench binary, in target/<profile>/deps/), else the release build or
/// plugins/.
pub fn plugin_so(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the bench binary knows its path");
    let deps = exe.parent().expect("the bench binary lives in a directory");
    let candidates = [
        deps.join(name),
        deps.join("..").join(name),
        repo().join("target/release").join(name),
        repo().join("plugins").join(name),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{name} not found (looked in {}); `cargo bench -p otai` builds it as a dev-dependency",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}
