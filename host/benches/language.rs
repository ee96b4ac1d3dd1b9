//! The built-in `language` field: how often whatlang names the right language, how sure it is, and
//! how fast, printed side by side in one run (figures only, nothing asserted: the machine may be
//! shared, so compare only numbers from the same run).
//!
//! For English (BANKING77 test queries, PolyAI, CC-BY-4.0, `data/banking77`) and German
//! (MASSIVE de-DE test and MINDS-14 de-DE, CC BY 4.0, `../shared/data/german`), single queries
//! and ticket-sized texts (6 queries of one data set joined, ~100 tokens), over every language the
//! detector knows, over `[de, en]` and over six Western European languages:
//! - accuracy: the right language first;
//! - at the default threshold (0.8): how many are written (coverage) and how many of those right
//!   (precision);
//! - tickets per second, batch 1 (one detection per ticket, as the pipeline runs it).
//!
//! Run: `cargo bench -p otai --bench language` (part of `make bench`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use otai::classifier::{data::Dataset, language::LanguageDetector};

const THRESHOLD: f32 = 0.8;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn texts(path: &Path) -> Vec<String> {
    Dataset::load(path, None)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .texts
}

/// Tickets of six queries each, as long as a typical ticket.
fn tickets(queries: &[String]) -> Vec<String> {
    queries.chunks_exact(6).map(|c| c.join(" ")).collect()
}

fn report(name: &str, want: &str, texts: &[String], detector: &LanguageDetector, set: &str) {
    let started = Instant::now();
    let predictions: Vec<_> = texts.iter().map(|t| detector.predict(t)).collect();
    let seconds = started.elapsed().as_secs_f64();
    let right = predictions
        .iter()
        .filter(|p| p.best().label == want)
        .count();
    let sure: Vec<_> = predictions
        .iter()
        .filter(|p| p.best().probability >= THRESHOLD)
        .collect();
    let sure_right = sure.iter().filter(|p| p.best().label == want).count();
    println!(
        "{name:<26} {set:<14} {:>5} texts  accuracy {:>5.1} %  at {THRESHOLD}: coverage {:>5.1} %, precision {:>5.1} %  {:>9.0} texts/s",
        texts.len(),
        100.0 * right as f64 / texts.len() as f64,
        100.0 * sure.len() as f64 / texts.len() as f64,
        100.0 * sure_right as f64 / sure.len().max(1) as f64,
        texts.len() as f64 / seconds,
    );
}

fn main() {
    let german = repo().join("../shared/data/german");
    let english = texts(&repo().join("data/banking77/test.csv"));
    let massive = texts(&german.join("massive_de/test.csv"));
    let minds = texts(&german.join("minds14_de/test.csv"));
    let sets: [(&str, &str, Vec<String>); 5] = [
        ("BANKING77 queries", "en", english.clone()),
        ("BANKING77 tickets", "en", tickets(&english)),
        ("MASSIVE de queries", "de", massive.clone()),
        ("MASSIVE de tickets", "de", tickets(&massive)),
        ("MINDS-14 de calls", "de", minds),
    ];
    let candidates: [(&str, Vec<String>); 3] = [
        ("all 70", Vec::new()),
        ("[de, en]", vec!["de".into(), "en".into()]),
        (
            "6 W. European",
            ["de", "en", "fr", "nl", "it", "es"]
                .map(String::from)
                .to_vec(),
        ),
    ];
    for (name, want, texts) in &sets {
        for (set, languages) in &candidates {
            let detector = LanguageDetector::new(languages).expect("known codes");
            report(name, want, texts, &detector, set);
        }
    }
}
