//! A linear softmax head: one field's labels scored from an embedding.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{ClassifierError, Result};
use super::lexical::{NGrams, SparseRow, Vocabulary};

/// One label and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    /// The label, e.g. a queue name.
    pub label: String,
    /// Softmax probability over all of the field's labels.
    pub probability: f32,
}

/// Multinomial logistic regression on an embedding: `softmax(W x + b)`; a hybrid head adds the text's
/// lexical features: `softmax(W x + L t + b)` with `t` its TF-IDF row (see [`super::lexical`]).
///
/// Stored as JSON (`heads/<field>.json` in a model folder): readable, diffable, ~0.3 MB for 77 x 384
/// (a lexical part adds labels x features weights and the vocabulary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearHead {
    /// The ticket field this head predicts (e.g. `queue`).
    pub field: String,
    /// Label names; row `i` of `weights` scores `labels[i]`.
    pub labels: Vec<String>,
    /// Embedding length the head expects.
    pub dim: usize,
    /// Row-major `[labels.len() x dim]`.
    pub weights: Vec<f32>,
    /// One bias per label.
    pub bias: Vec<f32>,
    /// The lexical part of a hybrid head (`None`: embedding only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical: Option<LexicalPart>,
}

/// The lexical half of a hybrid head: weights on the TF-IDF features of the ticket's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LexicalPart {
    /// The n-grams and their IDF.
    pub vocabulary: Vocabulary,
    /// Feature-major `[features x labels]`: the weights one n-gram adds to every label lie together, so
    /// a sparse row touches contiguous memory.
    pub weights: Vec<f32>,
    /// The lexical half's own biases, before mixing: with `share` they give back either half alone
    /// (`otai evaluate` scores them beside the mix).
    pub bias: Vec<f32>,
    /// The share of the lexical logits chosen on the validation split (for people: it is already
    /// folded into `weights` and the head's embedding weights).
    pub share: f32,
}

impl LinearHead {
    /// A head with all-zero parameters (uniform probabilities); training fills it in.
    pub fn zeros(field: impl Into<String>, labels: Vec<String>, dim: usize) -> Self {
        let n = labels.len();
        Self {
            field: field.into(),
            labels,
            dim,
            weights: vec![0.0; n * dim],
            bias: vec![0.0; n],
            lexical: None,
        }
    }

    /// Number of labels.
    pub fn num_labels(&self) -> usize {
        self.labels.len()
    }

    /// Checks that the shapes agree; `origin` names the file for the error message.
    pub fn validate(&self, origin: &Path) -> Result<()> {
        let n = self.labels.len();
        let expected = n.checked_mul(self.dim);
        let problem = if n == 0 {
            Some("it has no labels".to_string())
        } else if self.dim == 0 {
            Some("dim is 0; it must be the length of the encoder's embedding".to_string())
        } else if expected.is_none() {
            Some(format!(
                "labels ({n}) x dim ({}) is too large to be the size of weights",
                self.dim
            ))
        } else if Some(self.weights.len()) != expected {
            Some(format!(
                "weights has {} values, expected labels ({n}) x dim ({}) = {}",
                self.weights.len(),
                self.dim,
                n * self.dim
            ))
        } else if self.bias.len() != n {
            Some(format!("bias has {} values, expected {n}", self.bias.len()))
        } else if self
            .weights
            .iter()
            .chain(&self.bias)
            .any(|v| !v.is_finite())
        {
            Some("it contains NaN or infinite values".to_string())
        } else {
            self.lexical_problem()
        };
        match problem {
            Some(p) => Err(ClassifierError::model(
                origin,
                format!("invalid head for field `{}`: {p}", self.field),
            )),
            None => Ok(()),
        }
    }

    fn lexical_problem(&self) -> Option<String> {
        let lexical = self.lexical.as_ref()?;
        if let Some(p) = lexical.vocabulary.problem() {
            return Some(p);
        }
        let expected = lexical.vocabulary.len() * self.labels.len();
        if !(0.0..=1.0).contains(&lexical.share) {
            Some(format!(
                "the lexical share is {}, it must be from 0 to 1",
                lexical.share
            ))
        } else if lexical.bias.len() != self.labels.len() {
            Some(format!(
                "the lexical part has {} biases, expected {}",
                lexical.bias.len(),
                self.labels.len()
            ))
        } else if lexical.weights.len() != expected {
            Some(format!(
                "the lexical weights have {} values, expected features ({}) x labels ({}) = {expected}",
                lexical.weights.len(),
                lexical.vocabulary.len(),
                self.labels.len()
            ))
        } else if lexical.weights.iter().any(|v| !v.is_finite()) {
            Some("its lexical weights contain NaN or infinite values".into())
        } else {
            None
        }
    }

    /// Whether this head reads the text's n-grams too.
    pub fn is_hybrid(&self) -> bool {
        self.lexical.is_some()
    }

    /// A hybrid head's halves as heads of their own: the embedding half (`None` when the share is 1:
    /// nothing of it is left) and the lexical half. `None` for an embedding-only head.
    pub fn halves(&self) -> Option<(Option<LinearHead>, LinearHead)> {
        let lexical = self.lexical.as_ref()?;
        let share = lexical.share;
        let own_bias = &lexical.bias;
        let lexical_only = LinearHead {
            weights: vec![0.0; self.weights.len()],
            bias: own_bias.clone(),
            lexical: Some(LexicalPart {
                weights: lexical.weights.iter().map(|w| w / share).collect(),
                share: 1.0,
                ..lexical.clone()
            }),
            ..self.clone()
        };
        let keep = 1.0 - share;
        let embedding_only = (keep > 0.0).then(|| LinearHead {
            weights: self.weights.iter().map(|w| w / keep).collect(),
            // The mixed bias is keep * b_embedding + share * b_lexical.
            bias: self
                .bias
                .iter()
                .zip(own_bias)
                .map(|(b, l)| (b - share * l) / keep)
                .collect(),
            lexical: None,
            ..self.clone()
        });
        Some((embedding_only, lexical_only))
    }

    /// The lexical features this head reads from a text's n-grams (empty without a lexical part).
    pub fn lexical_row(&self, ngrams: &NGrams) -> SparseRow {
        match &self.lexical {
            Some(lexical) => lexical.vocabulary.row_of(ngrams),
            None => SparseRow::new(),
        }
    }

    /// Raw scores `W x + b` (+ `L t` for a hybrid head, `t` the lexical row of `text`).
    pub fn logits(&self, embedding: &[f32], text: &str) -> Vec<f32> {
        match &self.lexical {
            Some(_) => self.logits_with_row(embedding, &self.lexical_row(&NGrams::of(text))),
            None => self.logits_with_row(embedding, &[]),
        }
    }

    /// As [`LinearHead::logits`] with the lexical row already computed.
    pub fn logits_with_row(&self, embedding: &[f32], row: &[(u32, f32)]) -> Vec<f32> {
        debug_assert_eq!(embedding.len(), self.dim);
        let mut logits: Vec<f32> = self
            .weights
            .chunks_exact(self.dim)
            .zip(&self.bias)
            .map(|(w, b)| w.iter().zip(embedding).map(|(w, x)| w * x).sum::<f32>() + b)
            .collect();
        self.add_lexical_logits(&mut logits, row);
        logits
    }

    /// Adds `L t` to `logits` for the lexical row `t` (nothing without a lexical part).
    pub fn add_lexical_logits(&self, logits: &mut [f32], row: &[(u32, f32)]) {
        let Some(lexical) = &self.lexical else {
            return;
        };
        let labels = self.labels.len();
        for &(column, value) in row {
            let start = column as usize * labels;
            for (z, w) in logits
                .iter_mut()
                .zip(&lexical.weights[start..start + labels])
            {
                *z += w * value;
            }
        }
    }

    /// Probabilities for every label, in label order; they sum to 1.
    pub fn probabilities(&self, embedding: &[f32], text: &str) -> Vec<f32> {
        softmax(&self.logits(embedding, text))
    }

    /// The `k` most likely labels, most likely first (ties: lower label index first).
    pub fn top_k(&self, embedding: &[f32], text: &str, k: usize) -> Vec<LabelScore> {
        top_k(&self.labels, &self.probabilities(embedding, text), k)
    }

    /// [`LinearHead::top_k`] from the text's n-grams counted before (shared by a model's heads).
    pub fn top_k_of(&self, embedding: &[f32], ngrams: &NGrams, k: usize) -> Vec<LabelScore> {
        let logits = self.logits_with_row(embedding, &self.lexical_row(ngrams));
        top_k(&self.labels, &softmax(&logits), k)
    }

    /// Reads a head from JSON and validates it.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ClassifierError::io(path, e))?;
        let head: Self = serde_json::from_str(&text)
            .map_err(|e| ClassifierError::model(path, format!("not a valid head file: {e}")))?;
        head.validate(path)?;
        Ok(head)
    }

    /// Writes the head as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self)
            .map_err(|e| ClassifierError::model(path, format!("cannot serialise head: {e}")))?;
        std::fs::write(path, text).map_err(|e| ClassifierError::io(path, e))
    }
}

/// Numerically stable softmax (shifts by the maximum so `exp` cannot overflow).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|&l| (l - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// The `k` highest probabilities with their labels, highest first.
pub fn top_k(labels: &[String], probabilities: &[f32], k: usize) -> Vec<LabelScore> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| {
        probabilities[b]
            .total_cmp(&probabilities[a])
            .then(a.cmp(&b))
    });
    order
        .into_iter()
        .take(k.max(1))
        .map(|i| LabelScore {
            label: labels[i].clone(),
            probability: probabilities[i],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> LinearHead {
        LinearHead {
            field: "queue".into(),
            labels: vec!["a".into(), "b".into(), "c".into()],
            dim: 2,
            weights: vec![1.0, 0.0, 0.0, 1.0, -1.0, -1.0],
            bias: vec![0.0, 0.5, 0.0],
            lexical: None,
        }
    }

    fn hybrid() -> LinearHead {
        let vocabulary = Vocabulary::build(["card stolen", "card stolen", "invoice"], 100);
        let features = vocabulary.len();
        let mut weights = vec![0.0; features * 3];
        // Every known n-gram pushes label `c`.
        for f in 0..features {
            weights[f * 3 + 2] = 10.0;
        }
        LinearHead {
            lexical: Some(LexicalPart {
                vocabulary,
                weights,
                bias: vec![0.0, 0.0, 1.0],
                share: 0.5,
            }),
            ..head()
        }
    }

    #[test]
    fn a_hybrid_heads_halves_score_as_they_were_fitted() {
        let h = hybrid();
        let (embedding, lexical) = h.halves().unwrap();
        let embedding = embedding.unwrap();
        let lexical_part = h.lexical.as_ref().unwrap();

        assert!(embedding.lexical.is_none());
        assert!(head().halves().is_none());
        // Mixing the halves' logits at the share gives the head's own logits back.
        let (x, text) = ([0.3, 0.9], "card stolen");
        let mixed: Vec<f32> = embedding
            .logits(&x, text)
            .iter()
            .zip(lexical.logits(&x, text))
            .map(|(e, l)| (1.0 - lexical_part.share) * e + lexical_part.share * l)
            .collect();
        for (a, b) in mixed.iter().zip(h.logits(&x, text)) {
            assert!((a - b).abs() < 1e-5, "{mixed:?}");
        }
        assert_eq!(lexical.top_k(&x, "zzz", 1)[0].label, "c", "its own bias");
    }

    #[test]
    fn probabilities_sum_to_one_and_top_k_is_ordered() {
        let h = head();

        let p = h.probabilities(&[0.3, 0.9], "any text");
        let top = h.top_k(&[0.3, 0.9], "", 3);

        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{p:?}");
        assert_eq!(top[0].label, "b");
        assert!(top.windows(2).all(|w| w[0].probability >= w[1].probability));
        assert_eq!(h.top_k(&[0.3, 0.9], "", 1).len(), 1);
    }

    #[test]
    fn a_hybrid_head_adds_the_texts_lexical_scores_to_the_embeddings() {
        let h = hybrid();

        let known = h.top_k(&[0.3, 0.9], "my card was stolen", 3);
        let unknown = h.top_k(&[0.3, 0.9], "zzz", 3);

        assert_eq!(known[0].label, "c");
        assert_eq!(unknown[0].label, "b");
        assert_eq!(
            h.logits(&[0.3, 0.9], "zzz"),
            head().logits(&[0.3, 0.9], "my card was stolen")
        );
    }

    #[test]
    fn a_hybrid_head_round_trips_and_wrong_lexical_shapes_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.json");
        hybrid().save(&path).unwrap();

        assert_eq!(LinearHead::load(&path).unwrap(), hybrid());

        let mut bad = hybrid();
        bad.lexical.as_mut().unwrap().weights.pop();
        std::fs::write(&path, serde_json::to_string(&bad).unwrap()).unwrap();
        let err = LinearHead::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("queue.json") && err.contains("lexical weights"),
            "{err}"
        );
    }

    #[test]
    fn softmax_survives_huge_logits() {
        let p = softmax(&[1000.0, 999.0, -1000.0]);

        assert!(p.iter().all(|v| v.is_finite()));
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.json");

        head().save(&path).unwrap();
        let loaded = LinearHead::load(&path).unwrap();

        assert_eq!(loaded, head());
    }

    #[test]
    fn a_head_with_wrong_shapes_is_rejected_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        let mut h = head();
        h.bias.pop();
        std::fs::write(&path, serde_json::to_string(&h).unwrap()).unwrap();

        let err = LinearHead::load(&path).unwrap_err().to_string();

        assert!(err.contains("bad.json") && err.contains("bias"), "{err}");
    }

    #[test]
    fn a_head_with_dim_0_or_an_overflowing_size_is_rejected_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // Written as text: a bring-your-own head file, not one otai saved.
        let zero = dir.path().join("zero.json");
        std::fs::write(
            &zero,
            r#"{"field": "queue", "labels": ["a", "b"], "dim": 0, "weights": [], "bias": [0, 0]}"#,
        )
        .unwrap();
        let huge = dir.path().join("huge.json");
        std::fs::write(
            &huge,
            format!(
                r#"{{"field": "queue", "labels": ["a", "b"], "dim": {}, "weights": [], "bias": [0, 0]}}"#,
                usize::MAX
            ),
        )
        .unwrap();

        let err = LinearHead::load(&zero).unwrap_err().to_string();
        assert!(
            err.contains("zero.json") && err.contains("dim is 0"),
            "{err}"
        );
        let err = LinearHead::load(&huge).unwrap_err().to_string();
        assert!(
            err.contains("huge.json") && err.contains("too large"),
            "{err}"
        );
    }
}
