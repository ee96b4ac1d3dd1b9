//! Test helpers: where the models built by `models/setup.sh` live, with a clear failure when they are not;
//! a gradient check for the heads' objectives; sentences the language detector is sure of.

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

/// One customer sentence ("I lost my credit card ...") in `language` (`de`, `en`, else French),
/// long enough for the language detector to be sure of it.
pub(crate) fn lost_card_sentence(language: &str) -> &'static str {
    match language {
        "de" => "Ich habe meine Kreditkarte verloren und brauche bitte schnell eine neue Karte",
        "en" => "I lost my credit card and need a new one as soon as possible, please",
        _ => "J'ai perdu ma carte de crédit et j'ai besoin d'une nouvelle carte rapidement",
    }
}

/// Asserts that the analytic gradient of `f` at `theta` matches central finite differences (step `h`,
/// tolerance `tolerance`) at each of the parameter indices `at`.
pub(crate) fn assert_gradient_matches(
    f: impl Fn(&[f64]) -> (f64, Vec<f64>),
    theta: &[f64],
    at: &[usize],
    h: f64,
    tolerance: f64,
) {
    let (_, grad) = f(theta);
    for &k in at {
        let mut plus = theta.to_vec();
        plus[k] += h;
        let mut minus = theta.to_vec();
        minus[k] -= h;
        let numeric = (f(&plus).0 - f(&minus).0) / (2.0 * h);
        assert!(
            (numeric - grad[k]).abs() < tolerance,
            "param {k}: {numeric} vs {}",
            grad[k]
        );
    }
}
