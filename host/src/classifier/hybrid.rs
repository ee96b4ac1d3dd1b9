//! Hybrid heads: one linear head per field on the sentence embedding *and* the text's TF-IDF n-grams.
//!
//! The two halves are fitted separately (each a convex multinomial logistic regression, fitted with
//! L-BFGS) and mixed in logit space, `z = (1 - a) z_embedding + a z_lexical`, which is again one
//! linear function of `[embedding, n-grams]`: the saved head carries both weight blocks with `a`
//! folded in. The share `a` and both halves' L2 penalties are chosen on a validation split carved
//! from the fitting rows (the newest fifth by `created_at` where the data has times, else a seeded
//! stratified fifth), never on the held-out split the report scores. `a = 0` (embedding only) and
//! `a = 1` (lexical only) are candidates too, so the choice can only match or beat the better half on
//! the validation split.

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::data::Dataset;
use super::head::{softmax, LexicalPart, LinearHead};
use super::lexical::{SparseMatrix, Vocabulary, DEFAULT_MAX_FEATURES};
use super::train::{fit_head, stratified_split, FitStats, TrainOptions};

/// Settings of the lexical half.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalOptions {
    /// Vocabulary cap per head.
    pub max_features: usize,
    /// L2 penalties tried for the lexical half.
    pub penalties: Vec<f64>,
    /// L2 penalties tried for the embedding half (an encoder's embeddings may want another than the
    /// default `TrainOptions::l2`, which was tuned for MiniLM-L6 alone).
    pub embedding_penalties: Vec<f64>,
    /// L-BFGS iteration cap of a lexical fit.
    pub max_iterations: usize,
    /// Fraction of the fitting rows used to choose the share and the penalties.
    pub validation: f64,
    /// A share fixed by the operator instead of chosen (0 = embedding only, 1 = lexical only); the
    /// penalty is still chosen and all three validation figures are still reported.
    pub share: Option<f64>,
}

impl Default for LexicalOptions {
    fn default() -> Self {
        Self {
            max_features: DEFAULT_MAX_FEATURES,
            penalties: vec![3e-5, 1e-5, 3e-6],
            embedding_penalties: vec![1e-4, 1e-5, 1e-6],
            max_iterations: 300,
            validation: 0.2,
            share: None,
        }
    }
}

/// Fewer validation examples than this make the choice noise: such a field keeps an embedding head.
pub const MIN_VALIDATION_EXAMPLES: usize = 20;
/// Candidate lexical shares: 0, 0.1, ..., 1 (a share fixed by the operator is one of them).
pub const SHARES: usize = 10;

/// What training chose for a field's lexical half, with the validation figures it chose by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridChoice {
    /// Share of the lexical logits (0 = embedding only, 1 = lexical only).
    pub share: f64,
    /// L2 penalty of the lexical half.
    pub l2: f64,
    /// The penalty the lexical half does best with alone (what `lexical_accuracy` was measured with).
    #[serde(default)]
    pub lexical_l2: f64,
    /// L2 penalty of the embedding half in the mix.
    #[serde(default)]
    pub embedding_l2: f64,
    /// The penalty the embedding half does best with alone (what `embedding_accuracy` was measured
    /// with).
    #[serde(default)]
    pub embedding_alone_l2: f64,
    /// Examples in the validation split.
    pub validation_examples: usize,
    /// Validation accuracy of the embedding head alone.
    pub embedding_accuracy: f64,
    /// Validation accuracy of the lexical head alone (its best penalty).
    pub lexical_accuracy: f64,
    /// Validation accuracy of the chosen mix.
    pub hybrid_accuracy: f64,
    /// N-grams in the saved head's vocabulary (0 when the share is 0).
    #[serde(default)]
    pub features: usize,
}

/// One field's labelled rows of a data set: row indices and their label indices.
#[derive(Clone, Copy)]
pub struct Labelled<'a> {
    /// The data (texts, times).
    pub dataset: &'a Dataset,
    /// Example indices into `dataset`.
    pub rows: &'a [usize],
    /// Label index of each row.
    pub y: &'a [usize],
}

impl Labelled<'_> {
    fn texts(&self) -> Vec<&str> {
        self.rows
            .iter()
            .map(|&i| self.dataset.texts[i].as_str())
            .collect()
    }
}

/// One mix tried on the validation split.
struct Candidate {
    /// Accuracy, then minus the mean log loss: what decides.
    score: (f64, f64),
    share: f64,
    l2: f64,
    embedding_l2: f64,
}

/// A lexical head before mixing.
pub struct LexicalFit {
    vocabulary: Vocabulary,
    /// Feature-major `[features x labels]`.
    weights: Vec<f64>,
    bias: Vec<f64>,
    stats: FitStats,
}

/// Chooses the lexical share and penalty for one field on a validation split of `rows`.
/// `Err` says why the field keeps an embedding-only head.
pub fn choose(
    x: ArrayView2<'_, f32>,
    data: Labelled<'_>,
    classes: usize,
    options: &TrainOptions,
) -> Result<HybridChoice, String> {
    let Labelled { dataset, rows, y } = data;
    let lexical = &options.lexical;
    let is_validation = validation_split(dataset, rows, y, lexical.validation, options.seed);
    let pick = |want: bool| -> (Vec<usize>, Vec<usize>) {
        rows.iter()
            .zip(y)
            .zip(&is_validation)
            .filter(|(_, &v)| v == want)
            .map(|((&r, &l), _)| (r, l))
            .unzip()
    };
    let (fit_rows, fit_y) = pick(false);
    let (val_rows, val_y) = pick(true);
    if val_rows.len() < MIN_VALIDATION_EXAMPLES || fit_rows.len() < MIN_VALIDATION_EXAMPLES {
        return Err(format!(
            "{} labelled examples are too few to choose a lexical share on a validation split \
             (it needs {MIN_VALIDATION_EXAMPLES} to fit and {MIN_VALIDATION_EXAMPLES} to validate)",
            rows.len()
        ));
    }
    let labels: Vec<String> = (0..classes).map(|c| c.to_string()).collect();
    let (x_fit, x_val) = (x.select(Axis(0), &fit_rows), x.select(Axis(0), &val_rows));
    let mut embedding_penalties = lexical.embedding_penalties.clone();
    if embedding_penalties.is_empty() {
        embedding_penalties.push(options.l2);
    }
    let embedding_logits: Vec<(f64, Array2<f32>)> = embedding_penalties
        .iter()
        .map(|&l2| {
            let with = TrainOptions {
                l2,
                ..options.clone()
            };
            let (head, _) = fit_head("validation", &labels, x_fit.view(), &fit_y, &with);
            (l2, dense_logits(&head, x_val.view()))
        })
        .collect();
    let texts =
        |rows: &[usize]| -> Vec<&str> { rows.iter().map(|&i| dataset.texts[i].as_str()).collect() };
    let vocabulary = Vocabulary::build(texts(&fit_rows), lexical.max_features);
    if vocabulary.is_empty() {
        return Err(
            "the texts share no word or n-gram, so there is nothing lexical to learn".into(),
        );
    }
    let fit_matrix = SparseMatrix::of(&vocabulary, texts(&fit_rows));
    let val_matrix = SparseMatrix::of(&vocabulary, texts(&val_rows));
    let mut best: Option<Candidate> = None;
    let mut lexical_best = (f64::NEG_INFINITY, 0.0);
    let mut embedding_best = (f64::NEG_INFINITY, 0.0);
    for &l2 in &lexical.penalties {
        let (weights, bias, _) =
            fit_lexical(&fit_matrix, &fit_y, classes, l2, lexical.max_iterations);
        let lexical_logits = sparse_logits(&weights, &bias, classes, &val_matrix);
        for (embedding_l2, embedding) in &embedding_logits {
            for step in 0..=SHARES {
                let share = step as f64 / SHARES as f64;
                let (accuracy, log_loss) = score_mix(embedding, &lexical_logits, share, &val_y);
                if step == 0 && accuracy > embedding_best.0 {
                    embedding_best = (accuracy, *embedding_l2);
                }
                if step == SHARES && accuracy > lexical_best.0 {
                    lexical_best = (accuracy, l2);
                }
                let allowed = lexical
                    .share
                    .is_none_or(|fixed| (fixed - share).abs() < 1e-9);
                // Better accuracy wins; equal accuracy, the lower validation log loss.
                let score = (accuracy, -log_loss);
                if allowed && best.as_ref().is_none_or(|b| score > b.score) {
                    best = Some(Candidate {
                        score,
                        share,
                        l2,
                        embedding_l2: *embedding_l2,
                    });
                }
            }
        }
    }
    let Candidate {
        score: (hybrid_accuracy, _),
        share,
        l2,
        embedding_l2,
    } = best.ok_or("no penalty or share to try")?;
    Ok(HybridChoice {
        share,
        l2,
        lexical_l2: lexical_best.1,
        embedding_l2,
        embedding_alone_l2: embedding_best.1,
        validation_examples: val_rows.len(),
        embedding_accuracy: embedding_best.0,
        lexical_accuracy: lexical_best.0,
        hybrid_accuracy,
        features: 0,
    })
}

/// Fits one field's head on `rows` with a choice made before: the embedding head, and, for a share
/// above 0, the lexical head on a vocabulary of these rows' texts, mixed into one head.
pub fn fit_mixed(
    field: &str,
    labels: &[String],
    x: ArrayView2<'_, f32>,
    data: Labelled<'_>,
    choice: Option<&mut HybridChoice>,
    options: &TrainOptions,
) -> (LinearHead, FitStats) {
    let rows = x.select(Axis(0), data.rows);
    // The embedding half with the penalty chosen for the mix (the default without a choice).
    let embedding_options = TrainOptions {
        l2: choice.as_ref().map_or(options.l2, |c| c.embedding_l2),
        ..options.clone()
    };
    let (head, stats) = fit_head(field, labels, rows.view(), data.y, &embedding_options);
    let Some(choice) = choice.filter(|c| c.share > 0.0) else {
        return (head, stats);
    };
    let fit = lexical_head(data, labels.len(), choice.l2, &options.lexical);
    choice.features = fit.vocabulary.len();
    let stats = FitStats {
        iterations: stats.iterations.max(fit.stats.iterations),
        loss: stats.loss,
    };
    (mix(&head, &fit, choice.share), stats)
}

/// One head scoring `(1 - share) * embedding + share * lexical` (their logits).
pub fn mix(embedding: &LinearHead, lexical: &LexicalFit, share: f64) -> LinearHead {
    let mut head = embedding.clone();
    head.weights
        .iter_mut()
        .for_each(|w| *w *= (1.0 - share) as f32);
    for (b, lb) in head.bias.iter_mut().zip(&lexical.bias) {
        *b = ((1.0 - share) * *b as f64 + share * lb) as f32;
    }
    head.lexical = Some(LexicalPart {
        vocabulary: lexical.vocabulary.clone(),
        weights: lexical.weights.iter().map(|w| (share * w) as f32).collect(),
        bias: lexical.bias.iter().map(|&b| b as f32).collect(),
        share: share as f32,
    });
    head
}

/// The lexical half alone, fitted on `rows` with penalty `l2` (for [`mix`]; benchmarks compare the
/// halves this way).
pub fn lexical_head(
    data: Labelled<'_>,
    classes: usize,
    l2: f64,
    options: &LexicalOptions,
) -> LexicalFit {
    let texts = data.texts();
    let vocabulary = Vocabulary::build(texts.iter().copied(), options.max_features);
    let matrix = SparseMatrix::of(&vocabulary, texts);
    let (weights, bias, stats) = fit_lexical(&matrix, data.y, classes, l2, options.max_iterations);
    LexicalFit {
        vocabulary,
        weights,
        bias,
        stats,
    }
}

/// The lexical half alone, fitted and scored by `folds`-fold cross-validation over `data` (row
/// `k` of `data.rows` in fold `k % folds`, so a file sorted by label still spreads every label
/// over the folds): a TF-IDF + logistic regression baseline for a model without a lexical half,
/// with the middle penalty of the grid. Returns the accuracy over all rows.
pub fn cross_validated_lexical(
    data: Labelled<'_>,
    classes: usize,
    folds: usize,
    options: &LexicalOptions,
) -> f64 {
    let l2 = options.penalties[options.penalties.len() / 2];
    let folds = folds.max(2);
    let mut right = 0usize;
    for k in 0..folds {
        let (fit_at, test_at): (Vec<usize>, Vec<usize>) =
            (0..data.rows.len()).partition(|&j| j % folds != k);
        let rows: Vec<usize> = fit_at.iter().map(|&j| data.rows[j]).collect();
        let y: Vec<usize> = fit_at.iter().map(|&j| data.y[j]).collect();
        let fit = lexical_head(
            Labelled {
                dataset: data.dataset,
                rows: &rows,
                y: &y,
            },
            classes,
            l2,
            options,
        );
        let texts = test_at
            .iter()
            .map(|&j| data.dataset.texts[data.rows[j]].as_str());
        let z = sparse_logits(
            &fit.weights,
            &fit.bias,
            classes,
            &SparseMatrix::of(&fit.vocabulary, texts),
        );
        for (row, &j) in z.rows().into_iter().zip(&test_at) {
            right += usize::from(first_max(row.iter().copied()) == data.y[j]);
        }
    }
    right as f64 / data.rows.len().max(1) as f64
}

/// Marks a validation share of `rows`: the newest by `created_at` when the data has times, else a
/// seeded split stratified by label.
fn validation_split(
    dataset: &Dataset,
    rows: &[usize],
    y: &[usize],
    fraction: f64,
    seed: u64,
) -> Vec<bool> {
    if dataset.has_times() {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let time = |k: usize| {
            dataset
                .created_at
                .get(rows[k])
                .copied()
                .flatten()
                .unwrap_or(f64::NEG_INFINITY)
        };
        order.sort_by(|&a, &b| time(a).total_cmp(&time(b)));
        let take = (fraction * rows.len() as f64).round() as usize;
        let mut out = vec![false; rows.len()];
        for &k in &order[rows.len() - take.min(rows.len())..] {
            out[k] = true;
        }
        out
    } else {
        let strata: Vec<Option<String>> = y.iter().map(|l| Some(l.to_string())).collect();
        // Another seed than the held-out split's, so the two splits are not the same shuffle.
        stratified_split(&strata, fraction, seed ^ 0x01e8_1ca1)
    }
}

fn dense_logits(head: &LinearHead, x: ArrayView2<'_, f32>) -> Array2<f32> {
    let w =
        ArrayView2::from_shape((head.num_labels(), head.dim), &head.weights).expect("head shape");
    let mut z = x.dot(&w.t());
    z += &ndarray::ArrayView1::from(&head.bias[..]);
    z
}

fn sparse_logits(weights: &[f64], bias: &[f64], classes: usize, m: &SparseMatrix) -> Array2<f32> {
    let mut z = Array2::<f32>::zeros((m.len(), classes));
    for (i, mut out) in z.rows_mut().into_iter().enumerate() {
        let mut logits = bias.to_vec();
        add_row_logits(&mut logits, weights, classes, m.row(i));
        for (o, v) in out.iter_mut().zip(logits) {
            *o = v as f32;
        }
    }
    z
}

fn add_row_logits(logits: &mut [f64], weights: &[f64], classes: usize, row: &[(u32, f32)]) {
    for &(column, value) in row {
        let start = column as usize * classes;
        for (z, w) in logits.iter_mut().zip(&weights[start..start + classes]) {
            *z += w * value as f64;
        }
    }
}

/// Index of the largest value, the first one on ties (how a head's prediction breaks ties).
fn first_max(values: impl Iterator<Item = f32>) -> usize {
    values
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

/// Accuracy and mean log loss of `softmax((1 - share) a + share b)`.
fn score_mix(a: &Array2<f32>, b: &Array2<f32>, share: f64, y: &[usize]) -> (f64, f64) {
    let mut right = 0usize;
    let mut log_loss = 0.0f64;
    for ((ra, rb), &t) in a.rows().into_iter().zip(b.rows()).zip(y) {
        let z: Vec<f32> = ra
            .iter()
            .zip(rb.iter())
            .map(|(x, l)| ((1.0 - share) * *x as f64 + share * *l as f64) as f32)
            .collect();
        let p = softmax(&z);
        right += usize::from(first_max(p.iter().copied()) == t);
        log_loss -= (p[t].max(1e-12) as f64).ln();
    }
    let n = y.len().max(1) as f64;
    (right as f64 / n, log_loss / n)
}

/// Fits softmax regression on sparse rows; returns feature-major weights, biases and stats.
fn fit_lexical(
    m: &SparseMatrix,
    y: &[usize],
    classes: usize,
    l2: f64,
    max_iterations: usize,
) -> (Vec<f64>, Vec<f64>, FitStats) {
    let parameters = m.columns * classes + classes;
    if m.is_empty() {
        return (
            vec![0.0; m.columns * classes],
            vec![0.0; classes],
            FitStats {
                iterations: 0,
                loss: 0.0,
            },
        );
    }
    let objective = SparseObjective { m, y, classes, l2 };
    let (theta, iterations, loss) =
        super::lbfgs::minimise(|t| objective.eval(t), vec![0.0; parameters], max_iterations);
    let split = m.columns * classes;
    (
        theta[..split].to_vec(),
        theta[split..].to_vec(),
        FitStats { iterations, loss },
    )
}

/// Mean cross-entropy of softmax over sparse rows plus `l2 / 2 * |W|^2`; parameters `[W (features x
/// classes), b (classes)]`.
struct SparseObjective<'a> {
    m: &'a SparseMatrix,
    y: &'a [usize],
    classes: usize,
    l2: f64,
}

impl SparseObjective<'_> {
    fn eval(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let c = self.classes;
        let split = self.m.columns * c;
        let (weights, bias) = theta.split_at(split);
        let n = self.m.len();
        // Rows split over two threads (each with its own gradient): the lexical fit of a field with
        // many labels is the longest part of training.
        let chunks = if n >= 2_000 { 2 } else { 1 };
        let per = n.div_ceil(chunks);
        let partials: Vec<(f64, Vec<f64>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..chunks)
                .map(|k| {
                    let range = k * per..((k + 1) * per).min(n);
                    scope.spawn(move || self.partial(weights, bias, range))
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("lexical gradient thread"))
                .collect()
        });
        let mut loss = 0.0;
        let mut grad = vec![0.0; theta.len()];
        for (l, g) in partials {
            loss += l;
            grad.iter_mut().zip(g).for_each(|(a, b)| *a += b);
        }
        let inv_n = 1.0 / n as f64;
        grad.iter_mut().for_each(|g| *g *= inv_n);
        let mut penalty = 0.0;
        for (g, &t) in grad[..split].iter_mut().zip(weights) {
            *g += self.l2 * t;
            penalty += t * t;
        }
        (loss * inv_n + 0.5 * self.l2 * penalty, grad)
    }

    /// Summed loss and gradient (not yet divided by n) over a range of rows.
    fn partial(
        &self,
        weights: &[f64],
        bias: &[f64],
        range: std::ops::Range<usize>,
    ) -> (f64, Vec<f64>) {
        let c = self.classes;
        let mut grad = vec![0.0; weights.len() + c];
        let mut loss = 0.0;
        let mut z = vec![0.0f64; c];
        for i in range {
            let row = self.m.row(i);
            z.copy_from_slice(bias);
            add_row_logits(&mut z, weights, c, row);
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut sum = 0.0;
            for v in z.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            let yi = self.y[i];
            loss += sum.ln() - z[yi].ln();
            for v in z.iter_mut() {
                *v /= sum;
            }
            z[yi] -= 1.0;
            for &(column, value) in row {
                let start = column as usize * c;
                for (g, d) in grad[start..start + c].iter_mut().zip(&z) {
                    *g += d * value as f64;
                }
            }
            let (_, gb) = grad.split_at_mut(weights.len());
            gb.iter_mut().zip(&z).for_each(|(g, d)| *g += d);
        }
        (loss, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(texts: &[&str]) -> (Vocabulary, SparseMatrix) {
        let v = Vocabulary::build(texts.iter().copied(), 1_000);
        let m = SparseMatrix::of(&v, texts.iter().copied());
        (v, m)
    }

    #[test]
    fn the_sparse_gradient_matches_finite_differences() {
        let (_, m) = matrix(&[
            "card stolen",
            "card lost",
            "invoice copy",
            "invoice lost",
            "card copy",
        ]);
        let y = [0, 0, 1, 1, 2];
        let objective = SparseObjective {
            m: &m,
            y: &y,
            classes: 3,
            l2: 0.01,
        };
        let theta: Vec<f64> = (0..m.columns * 3 + 3)
            .map(|i| (i as f64 * 0.37).sin())
            .collect();

        crate::classifier::testing::assert_gradient_matches(
            |t| objective.eval(t),
            &theta,
            &[0, 7, m.columns * 3 - 1, m.columns * 3 + 1],
            1e-4,
            1e-5,
        );
    }

    #[test]
    fn a_lexical_fit_learns_words_the_labels_share() {
        let texts = [
            "karte gesperrt",
            "karte verloren",
            "rechnung kopie",
            "rechnung fehlt",
        ];
        let (v, m) = matrix(&texts);

        let (weights, bias, stats) = fit_lexical(&m, &[0, 0, 1, 1], 2, 1e-4, 200);
        let z = sparse_logits(
            &weights,
            &bias,
            2,
            &SparseMatrix::of(&v, ["meine karte", "die rechnung"]),
        );

        assert!(stats.iterations > 0);
        assert!(z[[0, 0]] > z[[0, 1]] && z[[1, 1]] > z[[1, 0]], "{z:?}");
    }

    #[test]
    fn the_cross_validated_baseline_learns_words_and_not_noise() {
        let words = ["karte", "rechnung", "konto"];
        let n = 90;
        let dataset = Dataset {
            path: "t.csv".into(),
            lines: (1..=n).collect(),
            texts: (0..n)
                .map(|i| format!("eine frage zu meiner {}", words[i % 3]))
                .collect(),
            fields: vec!["label".into()],
            labels: vec![vec![None; n]],
            created_at: vec![None; n],
        };
        let rows: Vec<usize> = (0..n).collect();
        let options = LexicalOptions::default();
        let accuracy = |y: &[usize]| {
            cross_validated_lexical(
                Labelled {
                    dataset: &dataset,
                    rows: &rows,
                    y,
                },
                3,
                5,
                &options,
            )
        };
        let by_word: Vec<usize> = (0..n).map(|i| i % 3).collect();
        assert!(accuracy(&by_word) > 0.95);
        // Labels the words do not tell: about chance, never the fit's own rows.
        let unrelated: Vec<usize> = (0..n).map(|i| (i / 3) % 3).collect();
        assert!(accuracy(&unrelated) < 0.6, "{}", accuracy(&unrelated));
    }

    #[test]
    fn the_mix_scores_its_ends_as_the_halves() {
        let a = Array2::from_shape_vec((2, 2), vec![1.0, 0.0, 1.0, 0.0]).unwrap();
        let b = Array2::from_shape_vec((2, 2), vec![0.0, 1.0, 0.0, 1.0]).unwrap();

        assert_eq!(score_mix(&a, &b, 0.0, &[0, 1]).0, 0.5);
        assert_eq!(score_mix(&a, &b, 1.0, &[1, 1]).0, 1.0);
        assert!(score_mix(&a, &b, 0.0, &[0, 0]).1 < score_mix(&a, &b, 1.0, &[0, 0]).1);
    }
}
