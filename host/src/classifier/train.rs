//! Training heads in pure Rust: multinomial logistic regression with L2 regularisation on frozen,
//! L2-normalised sentence embeddings, fitted full-batch with L-BFGS.
//!
//! The loss is convex, so L-BFGS reaches the same optimum from the all-zero start every time: training is
//! deterministic (the held-out split is seeded) and needs no learning-rate tuning. Embeddings are unit
//! length, so no standardisation is needed.
//!
//! [`train_from_file`] is the whole `otai train` job: load data, embed it, hold out a stratified split,
//! fit one head per field, score the held-out split, refit on all data, write the model folder.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::data::Dataset;
use super::encoder::{Encoder, EncoderOptions};
use super::error::{ClassifierError, Result};
use super::evaluate::{self, Evaluation, FieldEvaluation, Scored};
use super::head::{softmax, LinearHead};
use super::hybrid::{self, HybridChoice, Labelled, LexicalOptions};
use super::lexical::NGrams;
use super::metrics::{self, Metrics};
use super::model;

/// How examples are held out for the reported metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// By time when the data has `created_at`, else random.
    #[default]
    Auto,
    /// Seeded, stratified by the first field.
    Random,
    /// Train on the oldest `1 - holdout`, test on the newest `holdout` (by `created_at`): how the model
    /// will do on tickets that come after its history.
    Time,
}

/// Training settings. `Default` gives the values used for the BANKING77 demo model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Fields (label columns) to train; `None` = every label column in the data.
    pub fields: Option<Vec<String>>,
    /// Fraction of examples held out for the reported metrics (stratified by the first field). 0 = none.
    pub holdout: f64,
    /// Seed of the held-out split.
    pub seed: u64,
    /// Random or by time (default: by time when the data has `created_at`).
    pub split: Split,
    /// Precision the suggested threshold of the held-out evaluation must reach.
    pub target_precision: f64,
    /// L2 penalty on the weights (`lambda / 2 * |W|^2` added to the mean cross-entropy). Default 1e-5: the
    /// best held-out accuracy on BANKING77 among 1e-3 ... 3e-6 (`train_banking77 --sweep`); 1e-4 cost
    /// 1.4 points of intent accuracy there, 3e-6 gained nothing.
    pub l2: f64,
    /// L-BFGS iteration cap per head.
    pub max_iterations: usize,
    /// After scoring on the held-out split, refit every head on all examples (the model that is saved).
    pub refit_on_all: bool,
    /// Replace an existing output folder.
    pub overwrite: bool,
    /// How the encoder runs while embedding the data.
    pub encoder: EncoderOptions,
    /// The lexical half of hybrid heads (chosen per field on a validation split).
    pub lexical: LexicalOptions,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            fields: None,
            holdout: 0.1,
            seed: 42,
            split: Split::Auto,
            target_precision: evaluate::DEFAULT_TARGET_PRECISION,
            l2: 1e-5,
            max_iterations: 500,
            refit_on_all: true,
            overwrite: false,
            encoder: EncoderOptions::default(),
            lexical: LexicalOptions::default(),
        }
    }
}

/// What training did and how well it scored, per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// The training data file.
    pub data: PathBuf,
    /// Examples in the file.
    pub examples: usize,
    /// Examples the held-out metrics were trained on.
    pub train_examples: usize,
    /// Examples held out for the metrics.
    pub holdout_examples: usize,
    /// Whether the saved heads were refitted on all examples.
    pub refit_on_all: bool,
    /// L2 penalty of the embedding-only heads (fields without a lexical half). A hybrid field's
    /// penalties, chosen on its validation split, are in its `hybrid` entry (`l2`, `embedding_l2`).
    pub l2: f64,
    /// Seed of the split.
    pub seed: u64,
    /// The split used: `random` or `time` (newest held out).
    #[serde(default = "random_split")]
    pub split: Split,
    /// Per-field results.
    pub fields: Vec<FieldReport>,
    /// Seconds spent embedding the texts.
    pub embed_seconds: f64,
    /// Seconds spent fitting heads (all fits).
    pub fit_seconds: f64,
}

/// Training result of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldReport {
    /// The field.
    pub field: String,
    /// Number of labels.
    pub labels: usize,
    /// Examples with a label for this field.
    pub labelled: usize,
    /// Metrics on the held-out split (`None` without a split).
    pub holdout: Option<Metrics>,
    /// Confusions and coverage / precision per threshold on the held-out split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<FieldEvaluation>,
    /// L-BFGS iterations of the final fit.
    pub iterations: usize,
    /// Final training loss (mean cross-entropy + penalty).
    pub loss: f64,
    /// The lexical half: share and penalty chosen, with the validation accuracy of embedding only,
    /// lexical only and the mix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hybrid: Option<HybridChoice>,
    /// Why the field has no lexical half, when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_only: Option<String>,
    /// Per held-out row (its index in the dataset), whether the first fit (the one that never saw
    /// it) was right. Kept in memory only: `otai train --promote` rescores the candidate on the
    /// subset of held-out tickets the model in use cannot have seen.
    #[serde(skip)]
    pub holdout_outcomes: Vec<(usize, bool)>,
}

fn random_split() -> Split {
    Split::Random
}

impl TrainReport {
    /// The held-out evaluation of every field that has one.
    pub fn evaluation(&self) -> Evaluation {
        Evaluation {
            fields: self
                .fields
                .iter()
                .filter_map(|f| f.evaluation.clone())
                .collect(),
        }
    }
}

impl fmt::Display for TrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Trained on {} ({} examples; {} for fitting, {} held out{}{}).",
            self.data.display(),
            self.examples,
            self.train_examples,
            self.holdout_examples,
            match (self.holdout_examples, self.split) {
                (0, _) => "",
                (_, Split::Time) => ": the newest, by created_at",
                _ => ": random, stratified",
            },
            if self.refit_on_all {
                ", then refitted on all"
            } else {
                ""
            }
        )?;
        writeln!(
            f,
            "{:<16} {:>7} {:>9} {:>10} {:>9}",
            "field", "labels", "labelled", "accuracy", "macro-F1"
        )?;
        for r in &self.fields {
            let (acc, f1) = match &r.holdout {
                Some(m) => (
                    format!("{:.2} %", 100.0 * m.accuracy),
                    format!("{:.3}", m.macro_f1),
                ),
                None => ("-".into(), "-".into()),
            };
            writeln!(
                f,
                "{:<16} {:>7} {:>9} {:>10} {:>9}",
                r.field, r.labels, r.labelled, acc, f1
            )?;
        }
        write_hybrid_choices(f, &self.fields)?;
        let evaluation = self.evaluation();
        if !evaluation.fields.is_empty() {
            writeln!(f)?;
            writeln!(f, "On the held-out split:")?;
            writeln!(f, "{evaluation}")?;
            writeln!(f)?;
        }
        write!(
            f,
            "Embedding took {:.1} s, fitting {:.1} s.",
            self.embed_seconds, self.fit_seconds
        )
    }
}

/// The lexical half per field: what was chosen and the validation figures it was chosen by.
fn write_hybrid_choices(f: &mut fmt::Formatter<'_>, fields: &[FieldReport]) -> fmt::Result {
    if fields
        .iter()
        .all(|r| r.hybrid.is_none() && r.embedding_only.is_none())
    {
        return Ok(());
    }
    writeln!(f)?;
    writeln!(
        f,
        "Hybrid heads (validation accuracy inside the fitting rows; the share of lexical n-grams chosen):"
    )?;
    writeln!(
        f,
        "{:<16} {:>10} {:>10} {:>9} {:>9} {:>6} {:>8} {:>8} {:>9}",
        "field",
        "validated",
        "embedding",
        "lexical",
        "hybrid",
        "share",
        "l2 emb",
        "l2 lex",
        "n-grams"
    )?;
    for r in fields {
        match (&r.hybrid, &r.embedding_only) {
            (Some(c), _) => writeln!(
                f,
                "{:<16} {:>10} {:>8.2} % {:>7.2} % {:>7.2} % {:>6.1} {:>8.0e} {:>8.0e} {:>9}",
                r.field,
                c.validation_examples,
                100.0 * c.embedding_accuracy,
                100.0 * c.lexical_accuracy,
                100.0 * c.hybrid_accuracy,
                c.share,
                c.embedding_l2,
                c.l2,
                c.features
            )?,
            (None, Some(reason)) => writeln!(f, "{:<16} embedding only: {reason}", r.field)?,
            (None, None) => {}
        }
    }
    Ok(())
}

/// Embeds every text (sync; logs progress), as an `[n, dim]` matrix.
pub fn embed_texts(encoder: &Encoder, texts: &[String]) -> Result<Array2<f32>> {
    let dim = encoder.dim();
    let mut data = Vec::with_capacity(texts.len() * dim);
    let started = Instant::now();
    // Chunks keep memory flat and give progress; the encoder batches inside a chunk by length.
    for (i, chunk) in texts.chunks(512).enumerate() {
        for row in encoder.embed_blocking(chunk.to_vec())? {
            data.extend_from_slice(&row);
        }
        let done = (i * 512 + chunk.len()).min(texts.len());
        tracing::info!(
            done,
            total = texts.len(),
            seconds = started.elapsed().as_secs_f64(),
            "Embedding texts."
        );
    }
    Array2::from_shape_vec((texts.len(), dim), data)
        .map_err(|e| ClassifierError::Inference(format!("embedding matrix: {e}")))
}

/// The whole training job: `data` (CSV/JSONL) embedded with the encoder in `encoder_dir`, heads written
/// with the encoder into a new model folder `out`. Returns the report to print.
pub fn train_from_file(
    encoder_dir: &Path,
    data: &Path,
    out: &Path,
    options: &TrainOptions,
) -> Result<TrainReport> {
    let dataset = Dataset::load(data, options.fields.as_deref())?;
    let encoder = Encoder::load(encoder_dir, &options.encoder)?;
    let started = Instant::now();
    let x = embed_texts(&encoder, &dataset.texts)?;
    let embed_seconds = started.elapsed().as_secs_f64();
    drop(encoder);
    let (heads, mut report) = train_heads(x.view(), &dataset, options)?;
    report.embed_seconds = embed_seconds;
    let summary =
        serde_json::to_value(&report).map_err(|e| ClassifierError::Inference(e.to_string()))?;
    model::write_model_folder(encoder_dir, &heads, Some(&summary), out, options.overwrite)?;
    Ok(report)
}

/// Fits one head per field of `dataset` on the embeddings `x` (row `i` = example `i`): split, fit, score,
/// refit. `embed_seconds` of the report is left at 0.
pub fn train_heads(
    x: ArrayView2<'_, f32>,
    dataset: &Dataset,
    options: &TrainOptions,
) -> Result<(Vec<LinearHead>, TrainReport)> {
    if x.nrows() != dataset.len() {
        return Err(ClassifierError::InvalidInput(format!(
            "{} embeddings for {} examples",
            x.nrows(),
            dataset.len()
        )));
    }
    if dataset.fields.is_empty() {
        return Err(ClassifierError::InvalidInput(
            "the data has no fields to train".into(),
        ));
    }
    if !(0.0..1.0).contains(&options.holdout) {
        return Err(ClassifierError::InvalidInput(format!(
            "holdout must be in [0, 1), got {}",
            options.holdout
        )));
    }
    let started = Instant::now();
    let (split, is_holdout) = holdout_split(dataset, options)?;
    let holdout_examples = is_holdout.iter().filter(|&&h| h).count();
    // Fields are independent: fit them on parallel threads (each fit is single-threaded).
    let results: Vec<Result<(LinearHead, FieldReport)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..dataset.fields.len())
            .map(|f| {
                let is_holdout = &is_holdout;
                scope.spawn(move || {
                    train_field(x, dataset, f, is_holdout, holdout_examples, options)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(ClassifierError::Inference(
                        "a training thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    let mut heads = Vec::new();
    let mut fields = Vec::new();
    for result in results {
        let (head, report) = result?;
        heads.push(head);
        fields.push(report);
    }
    let report = TrainReport {
        data: dataset.path.clone(),
        examples: dataset.len(),
        train_examples: dataset.len() - holdout_examples,
        holdout_examples,
        refit_on_all: options.refit_on_all || holdout_examples == 0,
        l2: options.l2,
        seed: options.seed,
        split,
        fields,
        embed_seconds: 0.0,
        fit_seconds: started.elapsed().as_secs_f64(),
    };
    Ok((heads, report))
}

/// Which rows [`train_heads`] holds out for the reported metrics, and by which split: the newest
/// `holdout` share by `created_at` (where the data has times), else a seeded stratified share.
/// Public so that a comparison with another model (`otai train --promote`) scores it on exactly
/// the rows the new heads never saw.
pub fn holdout_split(dataset: &Dataset, options: &TrainOptions) -> Result<(Split, Vec<bool>)> {
    let split = match options.split {
        Split::Auto if dataset.has_times() => Split::Time,
        Split::Auto => Split::Random,
        other => other,
    };
    let is_holdout = match split {
        Split::Time => {
            if !dataset.has_times() {
                return Err(ClassifierError::data(
                    &dataset.path,
                    0,
                    "a split by time needs a `created_at` column",
                ));
            }
            dataset.newest(options.holdout)
        }
        _ => stratified_split(&dataset.labels[0], options.holdout, options.seed),
    };
    Ok((split, is_holdout))
}

/// Fits one field: on the non-held-out rows first (scored on the held-out rows), then on all rows unless
/// `refit_on_all` is off.
fn train_field(
    x: ArrayView2<'_, f32>,
    dataset: &Dataset,
    f: usize,
    is_holdout: &[bool],
    holdout_examples: usize,
    options: &TrainOptions,
) -> Result<(LinearHead, FieldReport)> {
    let field = &dataset.fields[f];
    let labels: Vec<String> = dataset.labels[f]
        .iter()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if labels.len() < 2 {
        return Err(ClassifierError::data(
            &dataset.path,
            0,
            format!(
                "field `{field}` has {} distinct label(s); a classifier needs at least 2",
                labels.len()
            ),
        ));
    }
    let index = |l: &String| labels.binary_search(l).unwrap_or_default();
    let labelled: Vec<usize> = (0..dataset.len())
        .filter(|&i| dataset.labels[f][i].is_some())
        .collect();
    let y_of = |rows: &[usize]| -> Vec<usize> {
        rows.iter()
            .map(|&i| index(dataset.labels[f][i].as_ref().unwrap_or(&labels[0])))
            .collect()
    };
    // The lexical share and penalty are chosen once, inside the rows the first fit sees (the held-out
    // rows never take part), and kept for the refit.
    let first_rows: Vec<usize> = labelled
        .iter()
        .copied()
        .filter(|&i| holdout_examples == 0 || !is_holdout[i])
        .collect();
    let fixed_off = options.lexical.share == Some(0.0);
    let (mut hybrid, embedding_only) = if !fixed_off {
        let first_y = y_of(&first_rows);
        let data = Labelled {
            dataset,
            rows: &first_rows,
            y: &first_y,
        };
        match hybrid::choose(x, data, labels.len(), options) {
            Ok(choice) => (Some(choice), None),
            Err(reason) => (None, Some(reason)),
        }
    } else {
        (None, Some("the lexical share is set to 0".to_string()))
    };
    let mut fit = |rows: &[usize]| {
        let y = y_of(rows);
        let data = Labelled {
            dataset,
            rows,
            y: &y,
        };
        hybrid::fit_mixed(field, &labels, x, data, hybrid.as_mut(), options)
    };
    let mut holdout = None;
    let mut evaluation = None;
    let mut final_fit = None;
    let mut holdout_outcomes = Vec::new();
    if holdout_examples > 0 {
        let train_rows: Vec<usize> = labelled
            .iter()
            .copied()
            .filter(|&i| !is_holdout[i])
            .collect();
        let test_rows: Vec<usize> = labelled
            .iter()
            .copied()
            .filter(|&i| is_holdout[i])
            .collect();
        let (head, stats) = fit(&train_rows);
        if !test_rows.is_empty() {
            let xt = x.select(Axis(0), &test_rows);
            let predicted = predict_scores(&head, xt.view(), &texts_of(dataset, &test_rows));
            let truth = y_of(&test_rows);
            let indices: Vec<usize> = predicted.iter().map(|p| p.0).collect();
            holdout = Some(metrics::score(&truth, &indices, labels.len()));
            holdout_outcomes = test_rows
                .iter()
                .zip(truth.iter().zip(&indices))
                .map(|(&row, (t, p))| (row, t == p))
                .collect();
            let scored: Vec<Scored> = truth
                .iter()
                .zip(&predicted)
                .map(|(&t, &(p, c))| Scored::new(&labels[t], &labels[p], c as f64))
                .collect();
            evaluation = Some(evaluate::evaluate_field(
                field,
                &scored,
                options.target_precision,
            ));
        }
        if !options.refit_on_all {
            final_fit = Some((head, stats));
        }
    }
    let (head, stats) = match final_fit {
        Some(done) => done,
        None => fit(&labelled),
    };
    tracing::info!(field = %field, labels = labels.len(), iterations = stats.iterations, "Fitted head.");
    let report = FieldReport {
        field: field.clone(),
        labels: labels.len(),
        labelled: labelled.len(),
        holdout,
        evaluation,
        iterations: stats.iterations,
        loss: stats.loss,
        hybrid,
        embedding_only,
        holdout_outcomes,
    };
    Ok((head, report))
}

/// Scores `heads` on labelled embeddings: per head whose field the data has, accuracy and macro-F1. A
/// label the head does not know counts as an error.
pub fn evaluate(
    heads: &[LinearHead],
    x: ArrayView2<'_, f32>,
    dataset: &Dataset,
) -> Vec<(String, Metrics)> {
    let mut out = Vec::new();
    for head in heads {
        let Some(f) = dataset.field_index(&head.field) else {
            continue;
        };
        let rows: Vec<usize> = (0..dataset.len())
            .filter(|&i| dataset.labels[f][i].is_some())
            .collect();
        let unknown = head.num_labels();
        let truth: Vec<usize> = rows
            .iter()
            .map(|&i| {
                let label = dataset.labels[f][i].as_deref().unwrap_or_default();
                head.labels
                    .iter()
                    .position(|l| l == label)
                    .unwrap_or(unknown)
            })
            .collect();
        let xs = x.select(Axis(0), &rows);
        let predicted = predict_indices(head, xs.view(), &texts_of(dataset, &rows));
        out.push((
            head.field.clone(),
            metrics::score(&truth, &predicted, unknown + 1),
        ));
    }
    out
}

fn texts_of<'a>(dataset: &'a Dataset, rows: &[usize]) -> Vec<&'a str> {
    rows.iter().map(|&i| dataset.texts[i].as_str()).collect()
}

/// The head's logits for every row of `x` (the embeddings of `texts`).
pub fn logits(head: &LinearHead, x: ArrayView2<'_, f32>, texts: &[&str]) -> Array2<f32> {
    let w = ArrayView2::from_shape((head.num_labels(), head.dim), &head.weights)
        .expect("validated head shape");
    let mut z = x.dot(&w.t());
    z += &ArrayView1::from(&head.bias[..]);
    if head.is_hybrid() {
        for (mut out, text) in z.rows_mut().into_iter().zip(texts) {
            let row = head.lexical_row(&NGrams::of(text));
            head.add_lexical_logits(out.as_slice_mut().expect("row-major logits"), &row);
        }
    }
    z
}

/// Most likely label index and its probability per row.
pub fn predict_scores(
    head: &LinearHead,
    x: ArrayView2<'_, f32>,
    texts: &[&str],
) -> Vec<(usize, f32)> {
    logits(head, x, texts)
        .rows()
        .into_iter()
        .map(|row| {
            let p = softmax(&row.to_vec());
            p.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (j, &v)| {
                    if v > best.1 {
                        (j, v)
                    } else {
                        best
                    }
                })
        })
        .collect()
}

/// Most likely label index per row.
pub fn predict_indices(head: &LinearHead, x: ArrayView2<'_, f32>, texts: &[&str]) -> Vec<usize> {
    logits(head, x, texts)
        .rows()
        .into_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (j, &v)| {
                    if v > best.1 {
                        (j, v)
                    } else {
                        best
                    }
                })
                .0
        })
        .collect()
}

/// Outcome of one fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitStats {
    /// L-BFGS iterations run.
    pub iterations: usize,
    /// Final objective.
    pub loss: f64,
}

/// Fits a softmax head on `x` (`[n, dim]`) with label indices `y` into `labels`.
pub fn fit_head(
    field: &str,
    labels: &[String],
    x: ArrayView2<'_, f32>,
    y: &[usize],
    options: &TrainOptions,
) -> (LinearHead, FitStats) {
    let (n, d) = x.dim();
    let c = labels.len();
    let mut head = LinearHead::zeros(field, labels.to_vec(), d);
    if n == 0 {
        return (
            head,
            FitStats {
                iterations: 0,
                loss: 0.0,
            },
        );
    }
    let objective = Objective {
        x,
        y,
        classes: c,
        l2: options.l2,
    };
    let (theta, iterations, loss) = super::lbfgs::minimise(
        |t| objective.eval(t),
        vec![0.0; c * d + c],
        options.max_iterations,
    );
    head.weights = theta[..c * d].iter().map(|&v| v as f32).collect();
    head.bias = theta[c * d..].iter().map(|&v| v as f32).collect();
    (head, FitStats { iterations, loss })
}

/// Mean cross-entropy of softmax(X W^T + b) plus `l2 / 2 * |W|^2`, over parameters `[W (c x d), b (c)]`.
struct Objective<'a> {
    x: ArrayView2<'a, f32>,
    y: &'a [usize],
    classes: usize,
    l2: f64,
}

impl Objective<'_> {
    fn eval(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let (n, d) = self.x.dim();
        let c = self.classes;
        let w = Array2::from_shape_vec((c, d), theta[..c * d].iter().map(|&v| v as f32).collect())
            .expect("parameter length");
        let b = Array1::from_iter(theta[c * d..].iter().map(|&v| v as f32));
        // The products run in f32 (fast, matrixmultiply); sums that decide convergence run in f64.
        let mut z = self.x.dot(&w.t());
        z += &b;
        let mut loss = 0.0f64;
        let inv_n = 1.0 / n as f32;
        for (mut row, &yi) in z.rows_mut().into_iter().zip(self.y) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0f32;
            for v in row.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            loss += (sum.ln() as f64) - ((row[yi].ln()) as f64);
            for v in row.iter_mut() {
                *v *= inv_n / sum;
            }
            row[yi] -= inv_n;
        }
        // z now holds the gradient of the mean loss with respect to the logits.
        let gw = z.t().dot(&self.x);
        let gb = z.sum_axis(Axis(0));
        let mut grad = Vec::with_capacity(theta.len());
        let mut penalty = 0.0f64;
        for (g, &t) in gw.iter().zip(&theta[..c * d]) {
            grad.push(*g as f64 + self.l2 * t);
            penalty += t * t;
        }
        grad.extend(gb.iter().map(|&g| g as f64));
        (loss / n as f64 + 0.5 * self.l2 * penalty, grad)
    }
}

/// Marks a seeded, stratified `fraction` of examples as held out: per label of `strata`, shuffle and take
/// `round(fraction * count)` (at least one when the label has two or more examples). Unlabelled examples
/// form their own stratum.
pub fn stratified_split(strata: &[Option<String>], fraction: f64, seed: u64) -> Vec<bool> {
    let mut out = vec![false; strata.len()];
    if fraction <= 0.0 {
        return out;
    }
    let mut groups: std::collections::BTreeMap<Option<&str>, Vec<usize>> = Default::default();
    for (i, s) in strata.iter().enumerate() {
        groups.entry(s.as_deref()).or_default().push(i);
    }
    let mut rng = SplitMix64(seed);
    for (_, mut members) in groups {
        // Fisher-Yates with a fixed generator: the same seed gives the same split on every machine.
        for i in (1..members.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            members.swap(i, j);
        }
        let mut take = (fraction * members.len() as f64).round() as usize;
        if take == 0 && members.len() >= 2 {
            take = 1;
        }
        take = take.min(members.len().saturating_sub(1));
        for &i in &members[..take] {
            out[i] = true;
        }
    }
    out
}

/// A tiny, well-known PRNG (Steele et al.), enough for shuffling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points around `classes` orthogonal unit directions in `dim` dimensions, L2-normalised.
    fn synthetic(
        classes: usize,
        per_class: usize,
        dim: usize,
        seed: u64,
    ) -> (Array2<f32>, Vec<usize>) {
        let mut rng = SplitMix64(seed);
        let mut uniform = move || (rng.next() >> 11) as f32 / (1u64 << 53) as f32 - 0.5;
        let mut x = Array2::<f32>::zeros((classes * per_class, dim));
        let mut y = Vec::new();
        for c in 0..classes {
            for k in 0..per_class {
                let mut row = x.row_mut(c * per_class + k);
                for v in row.iter_mut() {
                    *v = 0.3 * uniform();
                }
                row[c] += 1.0;
                let norm = row.dot(&row).sqrt();
                row.mapv_inplace(|v| v / norm);
                y.push(c);
            }
        }
        (x, y)
    }

    #[test]
    fn separable_synthetic_data_is_learned() {
        let (x, y) = synthetic(5, 40, 16, 7);
        let labels: Vec<String> = (0..5).map(|c| format!("c{c}")).collect();

        let (head, stats) = fit_head("f", &labels, x.view(), &y, &TrainOptions::default());
        let predicted = predict_indices(&head, x.view(), &vec![""; y.len()]);

        assert_eq!(predicted, y);
        assert!(stats.iterations > 1 && stats.loss < 0.5, "{stats:?}");
        let p = head.probabilities(x.row(0).as_slice().unwrap(), "");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (x, y) = synthetic(3, 5, 4, 1);
        let obj = Objective {
            x: x.view(),
            y: &y,
            classes: 3,
            l2: 0.01,
        };
        let theta: Vec<f64> = (0..15).map(|i| (i as f64 * 0.37).sin()).collect();

        crate::classifier::testing::assert_gradient_matches(
            |t| obj.eval(t),
            &theta,
            &[0, 5, 11, 13],
            1e-3,
            1e-3,
        );
    }

    #[test]
    fn training_is_deterministic() {
        let (x, y) = synthetic(4, 20, 8, 3);
        let labels: Vec<String> = (0..4).map(|c| format!("c{c}")).collect();

        let (a, _) = fit_head("f", &labels, x.view(), &y, &TrainOptions::default());
        let (b, _) = fit_head("f", &labels, x.view(), &y, &TrainOptions::default());

        assert_eq!(a, b);
    }

    #[test]
    fn train_heads_reports_holdout_metrics_per_field() {
        let (x, y) = synthetic(3, 30, 8, 5);
        let ds = Dataset {
            path: "synthetic.csv".into(),
            texts: vec![String::new(); y.len()],
            lines: (2..y.len() + 2).collect(),
            fields: vec!["queue".into(), "priority".into()],
            labels: vec![
                y.iter().map(|c| Some(format!("q{c}"))).collect(),
                y.iter()
                    .map(|&c| Some(if c == 0 { "high" } else { "low" }.to_string()))
                    .collect(),
            ],
            created_at: Vec::new(),
        };

        let (heads, report) = train_heads(x.view(), &ds, &TrainOptions::default()).unwrap();

        assert_eq!(heads.len(), 2);
        assert_eq!(report.holdout_examples, 9);
        for field in &report.fields {
            let m = field.holdout.unwrap();
            assert!(m.accuracy > 0.99 && m.macro_f1 > 0.99, "{field:?}");
        }
        assert!(report.to_string().contains("queue"));
    }

    /// Embeddings that say nothing (noise) and texts whose words name the class: only the lexical half
    /// can learn this field.
    fn words_carry_the_label(per_class: usize, times: bool) -> (Array2<f32>, Dataset) {
        let classes = ["karte", "rechnung", "passwort"];
        let mut rng = SplitMix64(17);
        let n = classes.len() * per_class;
        let x = Array2::from_shape_fn((n, 8), |_| (rng.next() % 1000) as f32 / 1000.0 - 0.5);
        let filler = ["bitte", "hallo", "danke", "heute", "dringend", "frage"];
        let texts: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "{} {} meine {} {}",
                    filler[i % 6],
                    filler[(i / 3) % 6],
                    classes[i % 3],
                    filler[(i / 7) % 6]
                )
            })
            .collect();
        let ds = Dataset {
            path: "words.csv".into(),
            lines: (2..n + 2).collect(),
            fields: vec!["queue".into()],
            labels: vec![(0..n).map(|i| Some(classes[i % 3].to_string())).collect()],
            created_at: if times {
                (0..n).map(|i| Some(i as f64 * 60.0)).collect()
            } else {
                Vec::new()
            },
            texts,
        };
        (x, ds)
    }

    #[test]
    fn a_field_only_the_words_tell_gets_a_hybrid_head_chosen_on_validation() {
        let (x, ds) = words_carry_the_label(50, false);

        let (heads, report) = train_heads(x.view(), &ds, &TrainOptions::default()).unwrap();

        let field = &report.fields[0];
        let choice = field.hybrid.as_ref().expect("a hybrid choice");
        assert!(choice.share >= 0.5, "{choice:?}");
        assert!(
            choice.lexical_accuracy > 0.95 && choice.embedding_accuracy < 0.7,
            "{choice:?}"
        );
        assert!(choice.hybrid_accuracy >= choice.lexical_accuracy.max(choice.embedding_accuracy));
        assert_eq!(choice.validation_examples, 27);
        assert!(choice.features > 0);
        assert!(field.holdout.unwrap().accuracy > 0.9, "{report}");
        let head = &heads[0];
        assert_eq!(
            head.lexical.as_ref().unwrap().vocabulary.len(),
            choice.features
        );
        let text = report.to_string();
        assert!(
            text.contains("Hybrid heads") && text.contains("share"),
            "{text}"
        );
        let p = head.top_k(&[0.0; 8], "Ich habe meine Karte verloren", 1);
        assert_eq!(p[0].label, "karte");
    }

    #[test]
    fn the_lexical_share_can_be_fixed_and_a_tiny_field_stays_embedding_only() {
        let (x, ds) = words_carry_the_label(50, true);
        let fixed = |share| TrainOptions {
            lexical: LexicalOptions {
                share: Some(share),
                ..LexicalOptions::default()
            },
            ..TrainOptions::default()
        };

        let (off, off_report) = train_heads(x.view(), &ds, &fixed(0.0)).unwrap();
        let (half, half_report) = train_heads(x.view(), &ds, &fixed(0.5)).unwrap();
        let (tiny_x, tiny) = words_carry_the_label(5, false);
        let (small, small_report) =
            train_heads(tiny_x.view(), &tiny, &TrainOptions::default()).unwrap();

        assert!(off[0].lexical.is_none());
        assert!(off_report.fields[0]
            .embedding_only
            .as_deref()
            .unwrap()
            .contains("set to 0"));
        assert_eq!(half_report.split, Split::Time);
        assert_eq!(half_report.fields[0].hybrid.as_ref().unwrap().share, 0.5);
        assert_eq!(half[0].lexical.as_ref().unwrap().share, 0.5);
        assert!(small[0].lexical.is_none());
        let reason = small_report.fields[0].embedding_only.as_deref().unwrap();
        assert!(reason.contains("too few"), "{reason}");
    }

    #[test]
    fn the_split_is_stratified_and_seeded() {
        let strata: Vec<Option<String>> = (0..100).map(|i| Some(format!("l{}", i % 4))).collect();

        let a = stratified_split(&strata, 0.2, 9);
        let b = stratified_split(&strata, 0.2, 9);
        let c = stratified_split(&strata, 0.2, 10);

        assert_eq!(a, b);
        assert_ne!(a, c);
        for l in 0..4 {
            let held = (0..100).filter(|&i| i % 4 == l && a[i]).count();
            assert_eq!(held, 5);
        }
    }

    #[test]
    fn a_field_with_one_label_is_an_error_naming_it() {
        let ds = Dataset {
            path: "d.csv".into(),
            texts: vec![String::new(); 3],
            lines: vec![2, 3, 4],
            fields: vec!["queue".into()],
            labels: vec![vec![Some("a".into()); 3]],
            created_at: Vec::new(),
        };
        let x = Array2::<f32>::zeros((3, 4));

        let err = train_heads(x.view(), &ds, &TrainOptions::default())
            .unwrap_err()
            .to_string();

        assert!(err.contains("queue") && err.contains("at least 2"), "{err}");
    }

    #[test]
    fn with_times_the_newest_examples_are_held_out_and_evaluated() {
        let (x, y) = synthetic(3, 20, 8, 11);
        let n = y.len();
        // Times run backwards through the file: the newest are the first rows.
        let ds = Dataset {
            path: "timed.csv".into(),
            texts: vec![String::new(); n],
            lines: (2..n + 2).collect(),
            fields: vec!["queue".into()],
            labels: vec![y.iter().map(|c| Some(format!("q{c}"))).collect()],
            created_at: (0..n).map(|i| Some((n - i) as f64 * 60.0)).collect(),
        };
        let options = TrainOptions {
            holdout: 0.25,
            ..TrainOptions::default()
        };

        let (_, report) = train_heads(x.view(), &ds, &options).unwrap();

        assert_eq!(report.split, Split::Time);
        assert_eq!(report.holdout_examples, 15);
        assert_eq!(ds.newest(0.25)[..15], [true; 15]);
        assert!(!ds.newest(0.25)[15..].contains(&true));
        let e = report.fields[0].evaluation.as_ref().unwrap();
        assert_eq!(e.examples, 15);
        assert_eq!(e.coverage[0].routed, 15);
        let text = report.to_string();
        assert!(text.contains("the newest, by created_at"), "{text}");
        assert!(text.contains("Coverage / precision"), "{text}");

        let random = TrainOptions {
            split: Split::Random,
            ..options
        };
        let (_, report) = train_heads(x.view(), &ds, &random).unwrap();
        assert_eq!(report.split, Split::Random);
    }
}
