//! The default demo model: BANKING77 as a help desk, trained through the library's own training path.
//!
//! BANKING77 (PolyAI; Casanueva et al. 2020, "Efficient Intent Detection with Dual Sentence Encoders",
//! CC-BY-4.0, `data/banking77/`) labels real online-banking queries with 77 intents. A routing file
//! (`models/banking77-routing.yml`) maps every intent to a queue and a priority, so the model gets three
//! heads: `intent`, `queue`, `priority`. [`train_banking77`] fits them on `train.csv`, scores them on the
//! held-out split and on BANKING77's own `test.csv`, and writes the model folder (with the routing file and
//! the data licence). `models/setup.sh` runs it through `host/src/bin/otai-train-banking77.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use serde::Deserialize;

use super::data::Dataset;
use super::encoder::{Encoder, EncoderOptions};
use super::error::{ClassifierError, Result};
use super::metrics::Metrics;
use super::model::{self, Manifest};
use super::train::{self, TrainOptions, TrainReport};

/// BANKING77's attribution, as the licence requires.
pub const BANKING77_CREDIT: &str =
    "BANKING77 (PolyAI; Casanueva et al. 2020, \"Efficient Intent Detection with \
    Dual Sentence Encoders\"), CC-BY-4.0";

/// The routing file: every intent's queue and priority.
#[derive(Debug, Clone, Deserialize)]
pub struct Routing {
    /// Declared queues.
    pub queues: Vec<String>,
    /// Declared priorities.
    pub priorities: Vec<String>,
    /// Intent -> route.
    pub intents: BTreeMap<String, Route>,
}

/// Where one intent goes.
#[derive(Debug, Clone, Deserialize)]
pub struct Route {
    /// Queue name.
    pub queue: String,
    /// Priority name.
    pub priority: String,
}

impl Routing {
    /// Reads the routing file and checks it against BANKING77's `categories.json`: every intent routed
    /// exactly once, to a declared queue and priority.
    pub fn read(path: &Path, categories: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ClassifierError::io(path, e))?;
        let routing: Self = serde_yaml::from_str(&text).map_err(|e| {
            ClassifierError::data(path, e.location().map_or(0, |l| l.line()), e.to_string())
        })?;
        let text =
            std::fs::read_to_string(categories).map_err(|e| ClassifierError::io(categories, e))?;
        let known: Vec<String> = serde_json::from_str(&text)
            .map_err(|e| ClassifierError::data(categories, e.line(), e.to_string()))?;
        if let Some(missing) = known.iter().find(|i| !routing.intents.contains_key(*i)) {
            return Err(ClassifierError::data(
                path,
                0,
                format!("intent `{missing}` has no route"),
            ));
        }
        for (intent, route) in &routing.intents {
            if !known.contains(intent) {
                return Err(ClassifierError::data(
                    path,
                    0,
                    format!("`{intent}` is not a BANKING77 intent"),
                ));
            }
            if !routing.queues.contains(&route.queue)
                || !routing.priorities.contains(&route.priority)
            {
                return Err(ClassifierError::data(
                    path,
                    0,
                    format!("`{intent}` routes to an undeclared queue or priority"),
                ));
            }
        }
        Ok(routing)
    }

    /// Loads BANKING77's `text,category` file as a dataset with fields `intent`, `queue`, `priority`.
    pub fn load_dataset(&self, path: &Path) -> Result<Dataset> {
        let raw = Dataset::load(path, Some(&["category".to_string()]))?;
        let mut labels: Vec<Vec<Option<String>>> = vec![Vec::new(); 3];
        for (i, category) in raw.labels[0].iter().enumerate() {
            let line = raw.lines[i];
            let category = category
                .as_deref()
                .ok_or_else(|| ClassifierError::data(path, line, "no category"))?;
            let route = self.intents.get(category).ok_or_else(|| {
                ClassifierError::data(
                    path,
                    line,
                    format!("intent `{category}` is not in the routing file"),
                )
            })?;
            labels[0].push(Some(category.to_string()));
            labels[1].push(Some(route.queue.clone()));
            labels[2].push(Some(route.priority.clone()));
        }
        Ok(Dataset {
            fields: vec!["intent".into(), "queue".into(), "priority".into()],
            labels,
            ..raw
        })
    }
}

/// Inputs of [`train_banking77`].
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Encoder model folder (`models/minilm-l6-int8`).
    pub encoder_dir: PathBuf,
    /// BANKING77 folder with `train.csv`, `test.csv`, `categories.json`, `LICENSE`.
    pub data_dir: PathBuf,
    /// Routing file.
    pub routing: PathBuf,
    /// Model folder to write (replaced if it exists).
    pub out: PathBuf,
    /// Folder for cached embeddings (keyed by encoder and texts); `None` = no cache.
    pub cache: Option<PathBuf>,
    /// Training settings (`overwrite` is forced on).
    pub train: TrainOptions,
}

impl DemoOptions {
    /// The repository layout: paths relative to `repo`.
    pub fn in_repo(repo: &Path) -> Self {
        Self {
            encoder_dir: repo.join("models/minilm-l6-int8"),
            data_dir: repo.join("data/banking77"),
            routing: repo.join("models/banking77-routing.yml"),
            out: repo.join("models/banking77"),
            cache: Some(repo.join(".cache/otai-models/embeddings")),
            train: TrainOptions::default(),
        }
    }
}

/// What [`train_banking77`] measured.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Training report (held-out split of train.csv).
    pub train: TrainReport,
    /// Per field, the final heads on BANKING77's test.csv.
    pub test: Vec<(String, Metrics)>,
    /// Test examples.
    pub test_examples: usize,
    /// Seconds to embed the test texts (0 when cached).
    pub test_embed_seconds: f64,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.train)?;
        writeln!(
            f,
            "BANKING77 test split ({} queries; final heads, fitted on all of train.csv):",
            self.test_examples
        )?;
        for (field, m) in &self.test {
            writeln!(
                f,
                "  {field:<9} accuracy {:.2} %  macro-F1 {:.3}",
                100.0 * m.accuracy,
                m.macro_f1
            )?;
        }
        write!(f, "Data: {BANKING77_CREDIT}.")
    }
}

/// Trains and writes the demo model; see the module documentation.
pub fn train_banking77(options: &DemoOptions) -> Result<DemoReport> {
    let routing = Routing::read(&options.routing, &options.data_dir.join("categories.json"))?;
    let train_ds = routing.load_dataset(&options.data_dir.join("train.csv"))?;
    let test_ds = routing.load_dataset(&options.data_dir.join("test.csv"))?;
    let encoder = Encoder::load(&options.encoder_dir, &options.train.encoder)?;
    let (x_train, train_seconds) = embed_cached(
        &encoder,
        &options.encoder_dir,
        &train_ds,
        options.cache.as_deref(),
        "banking77-train",
    )?;
    let (x_test, test_seconds) = embed_cached(
        &encoder,
        &options.encoder_dir,
        &test_ds,
        options.cache.as_deref(),
        "banking77-test",
    )?;
    drop(encoder);

    let (heads, mut report) = train::train_heads(x_train.view(), &train_ds, &options.train)?;
    report.embed_seconds = train_seconds;
    let test = train::evaluate(&heads, x_test.view(), &test_ds);

    let mut summary =
        serde_json::to_value(&report).map_err(|e| ClassifierError::Inference(e.to_string()))?;
    summary["test"] = serde_json::json!({
        "data": test_ds.path,
        "metrics": test.iter().map(|(f, m)| (f.clone(), serde_json::json!(m))).collect::<serde_json::Map<_, _>>(),
    });
    summary["routing"] = serde_json::json!("routing.yml");
    summary["data_credit"] = serde_json::json!(BANKING77_CREDIT);
    model::write_model_folder(
        &options.encoder_dir,
        &heads,
        Some(&summary),
        &options.out,
        true,
    )?;
    // The routing and the data licence travel with the model: where `queue` and `priority` come from, and
    // the attribution CC-BY-4.0 asks for.
    for (from, to) in [
        (options.routing.clone(), "routing.yml"),
        (options.data_dir.join("LICENSE"), "DATA_LICENSE"),
    ] {
        std::fs::copy(&from, options.out.join(to)).map_err(|e| ClassifierError::io(&from, e))?;
    }
    Ok(DemoReport {
        train: report,
        test,
        test_examples: test_ds.len(),
        test_embed_seconds: test_seconds,
    })
}

/// Held-out and test accuracy of the intent and queue heads for several L2 penalties (no model written).
/// Returns `(l2, intent held-out, intent test, queue test)` rows.
pub fn sweep_l2(options: &DemoOptions, penalties: &[f64]) -> Result<Vec<(f64, f64, f64, f64)>> {
    let routing = Routing::read(&options.routing, &options.data_dir.join("categories.json"))?;
    let train_ds = routing.load_dataset(&options.data_dir.join("train.csv"))?;
    let test_ds = routing.load_dataset(&options.data_dir.join("test.csv"))?;
    let encoder = Encoder::load(&options.encoder_dir, &EncoderOptions::default())?;
    let (x_train, _) = embed_cached(
        &encoder,
        &options.encoder_dir,
        &train_ds,
        options.cache.as_deref(),
        "banking77-train",
    )?;
    let (x_test, _) = embed_cached(
        &encoder,
        &options.encoder_dir,
        &test_ds,
        options.cache.as_deref(),
        "banking77-test",
    )?;
    let mut rows = Vec::new();
    for &l2 in penalties {
        let train_options = TrainOptions {
            l2,
            refit_on_all: false,
            ..options.train.clone()
        };
        let (heads, report) = train::train_heads(x_train.view(), &train_ds, &train_options)?;
        let test = train::evaluate(&heads, x_test.view(), &test_ds);
        let holdout = report.fields[0]
            .holdout
            .map(|m| m.accuracy)
            .unwrap_or_default();
        rows.push((l2, holdout, test[0].1.accuracy, test[1].1.accuracy));
    }
    Ok(rows)
}

/// FNV-1a: a stable hash for cache keys (std's hasher may change between Rust releases).
fn fnv(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= b as u64;
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

/// Embeds `ds.texts`, reusing `cache/<name>-<key>.f32` when the encoder and the texts are unchanged.
/// Returns the matrix and the seconds spent encoding (0 from the cache).
fn embed_cached(
    encoder: &Encoder,
    encoder_dir: &Path,
    ds: &Dataset,
    cache: Option<&Path>,
    name: &str,
) -> Result<(Array2<f32>, f64)> {
    let manifest = Manifest::read(encoder_dir)?;
    let mut key = 0xcbf2_9ce4_8422_2325u64;
    fnv(
        &mut key,
        manifest.encoder.sha256.as_deref().unwrap_or("?").as_bytes(),
    );
    fnv(&mut key, &encoder.max_tokens().to_le_bytes());
    for t in &ds.texts {
        fnv(&mut key, t.as_bytes());
        fnv(&mut key, &[0]);
    }
    let file = cache.map(|dir| dir.join(format!("{name}-{key:016x}.f32")));
    let dim = encoder.dim();
    if let Some(file) = &file {
        if let Ok(bytes) = std::fs::read(file) {
            if bytes.len() == ds.len() * dim * 4 {
                let data: Vec<f32> = bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                tracing::info!(file = %file.display(), "Using cached embeddings.");
                let x = Array2::from_shape_vec((ds.len(), dim), data)
                    .map_err(|e| ClassifierError::Inference(e.to_string()))?;
                return Ok((x, 0.0));
            }
        }
    }
    let started = Instant::now();
    let x = train::embed_texts(encoder, &ds.texts)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(file) = &file {
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| ClassifierError::io(dir, e))?;
        let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(file, bytes).map_err(|e| ClassifierError::io(file, e))?;
    }
    Ok((x, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn the_shipped_routing_covers_every_intent() {
        let r = repo();

        let routing = Routing::read(
            &r.join("models/banking77-routing.yml"),
            &r.join("data/banking77/categories.json"),
        )
        .unwrap();

        assert_eq!(routing.intents.len(), 77);
        assert!((6..=9).contains(&routing.queues.len()));
        assert_eq!(routing.intents["lost_or_stolen_card"].priority, "urgent");
    }
}
