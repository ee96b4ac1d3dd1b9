//! Test helpers: where the models built by `models/setup.sh` live, with a clear failure when they are not.

use std::path::PathBuf;

/// `<repo>/models/<name>`, or a panic that says how to build it. Tests with the real model never skip:
/// a missing model is a setup problem to fix, not a reason to pass.
pub(crate) fn model_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name);
    let marker = if name == "test-hf-classifier" {
        "config.json"
    } else {
        "otai-model.json"
    };
    assert!(
        dir.join(marker).is_file(),
        "{} is missing: run `models/setup.sh` (or `make setup`) first; it builds the models the classifier \
         tests use (ONNX Runtime, the int8 encoder, the BYO test model, and - unless --skip-train - the \
         banking77 demo model)",
        dir.display()
    );
    dir
}
