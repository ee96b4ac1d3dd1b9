//! Accuracy and macro-F1 for one field.

use serde::{Deserialize, Serialize};

/// How well predictions match the truth for one field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Number of examples scored.
    pub examples: usize,
    /// Fraction of exact matches.
    pub accuracy: f64,
    /// Unweighted mean of per-label F1 over every label that occurs in the truth or the predictions
    /// (as scikit-learn's `f1_score(average="macro")`): rare labels count as much as common ones.
    pub macro_f1: f64,
}

/// Scores label indices `predicted` against `truth` (same length) over `num_labels` labels.
pub fn score(truth: &[usize], predicted: &[usize], num_labels: usize) -> Metrics {
    assert_eq!(
        truth.len(),
        predicted.len(),
        "truth and predictions differ in length"
    );
    let mut tp = vec![0usize; num_labels];
    let mut fp = vec![0usize; num_labels];
    let mut fn_ = vec![0usize; num_labels];
    for (&t, &p) in truth.iter().zip(predicted) {
        if t == p {
            tp[t] += 1;
        } else {
            fp[p] += 1;
            fn_[t] += 1;
        }
    }
    let mut f1_sum = 0.0;
    let mut present = 0usize;
    for l in 0..num_labels {
        if tp[l] + fp[l] + fn_[l] == 0 {
            continue;
        }
        present += 1;
        f1_sum += 2.0 * tp[l] as f64 / (2 * tp[l] + fp[l] + fn_[l]) as f64;
    }
    let correct: usize = tp.iter().sum();
    Metrics {
        examples: truth.len(),
        accuracy: if truth.is_empty() {
            0.0
        } else {
            correct as f64 / truth.len() as f64
        },
        macro_f1: if present == 0 {
            0.0
        } else {
            f1_sum / present as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_hand_computed_example() {
        let m = score(&[0, 0, 1, 1], &[0, 1, 1, 2], 3);

        assert_eq!(m.examples, 4);
        assert!((m.accuracy - 0.5).abs() < 1e-12);
        // label 0: tp 1, fp 0, fn 1 -> F1 2/3; label 1: tp 1, fp 1, fn 1 -> 1/2; label 2: tp 0, fp 1 -> 0.
        assert!(
            (m.macro_f1 - (2.0 / 3.0 + 0.5 + 0.0) / 3.0).abs() < 1e-12,
            "{m:?}"
        );
    }

    #[test]
    fn perfect_predictions_score_one() {
        let m = score(&[2, 0, 1], &[2, 0, 1], 5);

        assert_eq!(m.accuracy, 1.0);
        assert_eq!(m.macro_f1, 1.0);
    }
}
