//! How good will routing be? Per field, from labelled predictions (true label, predicted label, confidence):
//! accuracy, macro-F1, the majority-class baseline (always the most common label), the worst confusion
//! pairs, and the coverage / precision trade-off at each threshold with a suggested threshold for a
//! target precision.
//!
//! The input is plain strings, so the same report serves `otai train` (held-out split), `otai evaluate
//! --data` (a labelled file) and `otai evaluate --shadow` (what the pipeline would have written against
//! what agents did).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::metrics;

/// The thresholds of the coverage / precision table.
pub const THRESHOLDS: [f64; 10] = [0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99];

/// Default precision a suggested threshold must reach.
pub const DEFAULT_TARGET_PRECISION: f64 = 0.95;

/// Confusion pairs listed per field.
pub const WORST_PAIRS: usize = 8;

/// Per field, its labelled predictions.
pub type FieldScores = Vec<(String, Vec<Scored>)>;

/// One labelled prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The right label.
    pub truth: String,
    /// The predicted label.
    pub predicted: String,
    /// Probability of the predicted label.
    pub confidence: f64,
}

impl Scored {
    pub fn new(truth: impl Into<String>, predicted: impl Into<String>, confidence: f64) -> Self {
        Self {
            truth: truth.into(),
            predicted: predicted.into(),
            confidence,
        }
    }

    fn correct(&self) -> bool {
        self.truth == self.predicted
    }
}

/// A frequent mistake: `count` examples of `truth` predicted as `predicted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionPair {
    pub truth: String,
    pub predicted: String,
    pub count: usize,
    /// `count` over the examples of `truth`.
    pub share_of_truth: f64,
}

/// One row of the coverage / precision table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoverageRow {
    /// Minimum confidence to route automatically.
    pub threshold: f64,
    /// Examples at or above the threshold.
    pub routed: usize,
    /// Share of all examples at or above the threshold.
    pub coverage: f64,
    /// Accuracy among the routed examples (`None` when none are routed).
    pub precision: Option<f64>,
}

/// The evaluation of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldEvaluation {
    pub field: String,
    /// Examples scored.
    pub examples: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// The most frequent mistakes, most frequent first (ties: by label).
    pub worst_pairs: Vec<ConfusionPair>,
    /// Coverage and precision at each of [`THRESHOLDS`].
    pub coverage: Vec<CoverageRow>,
    /// The precision the suggestion aims for.
    pub target_precision: f64,
    /// The lowest threshold of the table whose precision reaches the target, if any.
    pub suggested: Option<CoverageRow>,
    /// The baseline: always answering the most common true label of these examples.
    #[serde(default)]
    pub majority: Majority,
    /// For a hybrid head: the accuracy of each of its halves alone on the same examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halves: Option<Halves>,
    /// For a head without a lexical half: a TF-IDF + logistic regression baseline fitted and
    /// scored on these examples by cross-validation (`otai evaluate --data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical_baseline: Option<LexicalBaseline>,
}

/// A lexical baseline fitted on the evaluation examples themselves, by cross-validation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LexicalBaseline {
    pub accuracy: f64,
    pub folds: usize,
}

/// The halves of a hybrid head scored alone: how much each adds shows beside the mix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Halves {
    /// Accuracy of the embedding half alone (`None` when the head is all lexical).
    pub embedding: Option<f64>,
    /// Accuracy of the lexical half alone (TF-IDF n-grams with logistic regression).
    pub lexical: f64,
}

/// The majority-class baseline of a field: the most common true label and the accuracy of
/// always answering it. A model at or below it has learnt nothing usable about the field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Majority {
    pub label: String,
    pub accuracy: f64,
}

impl FieldEvaluation {
    /// Whether the model is right more often than the majority-class baseline.
    pub fn beats_majority(&self) -> bool {
        self.examples > 0 && self.accuracy > self.majority.accuracy + 1e-9
    }
}

/// The evaluation of every field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evaluation {
    pub fields: Vec<FieldEvaluation>,
}

/// Evaluates one field's labelled predictions.
pub fn evaluate_field(field: &str, scored: &[Scored], target_precision: f64) -> FieldEvaluation {
    let labels: Vec<&str> = scored
        .iter()
        .flat_map(|s| [s.truth.as_str(), s.predicted.as_str()])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index = |l: &str| labels.binary_search(&l).unwrap_or_default();
    let truth: Vec<usize> = scored.iter().map(|s| index(&s.truth)).collect();
    let predicted: Vec<usize> = scored.iter().map(|s| index(&s.predicted)).collect();
    let m = metrics::score(&truth, &predicted, labels.len());

    let mut per_truth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pairs: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for s in scored {
        *per_truth.entry(&s.truth).or_default() += 1;
        if !s.correct() {
            *pairs.entry((&s.truth, &s.predicted)).or_default() += 1;
        }
    }
    let mut worst: Vec<ConfusionPair> = pairs
        .into_iter()
        .map(|((t, p), count)| ConfusionPair {
            truth: t.to_string(),
            predicted: p.to_string(),
            count,
            share_of_truth: count as f64 / per_truth[t] as f64,
        })
        .collect();
    // Stable sort: equal counts keep label order.
    worst.sort_by_key(|p| std::cmp::Reverse(p.count));
    worst.truncate(WORST_PAIRS);

    let coverage = coverage_table(scored, &THRESHOLDS);
    let suggested = suggest_threshold(&coverage, target_precision);
    // Ties: the label first in label order, so the baseline does not depend on input order.
    let majority = per_truth
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(label, &n)| Majority {
            label: label.to_string(),
            accuracy: n as f64 / scored.len() as f64,
        })
        .unwrap_or_default();
    FieldEvaluation {
        field: field.to_string(),
        examples: scored.len(),
        accuracy: m.accuracy,
        macro_f1: m.macro_f1,
        worst_pairs: worst,
        coverage,
        target_precision,
        suggested,
        majority,
        halves: None,
        lexical_baseline: None,
    }
}

/// Coverage and precision at each threshold: an example is routed when its confidence is at least the
/// threshold.
pub fn coverage_table(scored: &[Scored], thresholds: &[f64]) -> Vec<CoverageRow> {
    thresholds
        .iter()
        .map(|&threshold| {
            // A small tolerance: an f32 probability of 0.7 is 0.69999..., and should count as 0.7.
            let routed: Vec<&Scored> = scored
                .iter()
                .filter(|s| s.confidence + 1e-6 >= threshold)
                .collect();
            let right = routed.iter().filter(|s| s.correct()).count();
            CoverageRow {
                threshold,
                routed: routed.len(),
                coverage: if scored.is_empty() {
                    0.0
                } else {
                    routed.len() as f64 / scored.len() as f64
                },
                precision: (!routed.is_empty()).then(|| right as f64 / routed.len() as f64),
            }
        })
        .collect()
}

/// The lowest threshold whose precision reaches `target` (and routes at least one example).
pub fn suggest_threshold(table: &[CoverageRow], target: f64) -> Option<CoverageRow> {
    table
        .iter()
        .filter(|r| r.precision.is_some_and(|p| p + 1e-12 >= target))
        .min_by(|a, b| a.threshold.total_cmp(&b.threshold))
        .copied()
}

fn percent(v: f64) -> String {
    format!("{:.1} %", 100.0 * v)
}

impl fmt::Display for FieldEvaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Field `{}`: {} examples, accuracy {}, macro-F1 {:.3}",
            self.field,
            self.examples,
            percent(self.accuracy),
            self.macro_f1
        )?;
        if self.examples > 0 {
            writeln!(
                f,
                "  Baseline: always `{}` (the most common label) would be right {}.",
                self.majority.label,
                percent(self.majority.accuracy)
            )?;
            if let Some(h) = &self.halves {
                writeln!(
                    f,
                    "  Its halves alone: lexical (TF-IDF n-grams) {}, embedding {}.",
                    percent(h.lexical),
                    h.embedding
                        .map_or("- (the head is all lexical)".to_string(), percent)
                )?;
            }
            if let Some(b) = &self.lexical_baseline {
                writeln!(
                    f,
                    "  Lexical baseline: TF-IDF n-grams + logistic regression, {}-fold \
                     cross-validated on these examples, {}{}.",
                    b.folds,
                    percent(b.accuracy),
                    if b.accuracy > self.accuracy {
                        " (better than the model: train a hybrid model, `otai train`)"
                    } else {
                        ""
                    }
                )?;
            }
            if !self.beats_majority() {
                writeln!(
                    f,
                    "  WARNING: the model does not beat that baseline on this field: do not route it \
                     with this model (more or cleaner history, or leave the field out)."
                )?;
            }
        }
        if self.worst_pairs.is_empty() {
            writeln!(f, "  No mistakes.")?;
        } else {
            let tw = self
                .worst_pairs
                .iter()
                .map(|p| p.truth.chars().count())
                .max()
                .unwrap_or(0)
                .max(4);
            let pw = self
                .worst_pairs
                .iter()
                .map(|p| p.predicted.chars().count())
                .max()
                .unwrap_or(0)
                .max(9);
            writeln!(f, "  Worst confusions (true -> predicted):")?;
            writeln!(
                f,
                "    {:<tw$}    {:<pw$} {:>6} {:>10}",
                "true", "predicted", "count", "of true"
            )?;
            for p in &self.worst_pairs {
                writeln!(
                    f,
                    "    {:<tw$} -> {:<pw$} {:>6} {:>10}",
                    p.truth,
                    p.predicted,
                    p.count,
                    percent(p.share_of_truth)
                )?;
            }
        }
        writeln!(f, "  Coverage / precision:")?;
        writeln!(
            f,
            "    {:>9} {:>8} {:>9} {:>10}",
            "threshold", "routed", "coverage", "precision"
        )?;
        for r in &self.coverage {
            writeln!(
                f,
                "    {:>9.2} {:>8} {:>9} {:>10}",
                r.threshold,
                r.routed,
                percent(r.coverage),
                r.precision.map(percent).unwrap_or_else(|| "-".into())
            )?;
        }
        match &self.suggested {
            Some(r) => write!(
                f,
                "  Suggested threshold for {} precision: {:.2} (routes {} of tickets automatically, {} right).",
                percent(self.target_precision),
                r.threshold,
                percent(r.coverage),
                r.precision.map(percent).unwrap_or_default()
            ),
            None => write!(
                f,
                "  No threshold reaches {} precision: route this field by hand or collect more history.",
                percent(self.target_precision)
            ),
        }
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
                writeln!(f)?;
            }
            write!(f, "{field}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str, p: &str, c: f64) -> Scored {
        Scored::new(t, p, c)
    }

    /// 10 predictions: 7 right. Confidences chosen so each threshold cuts cleanly.
    fn sample() -> Vec<Scored> {
        vec![
            s("a", "a", 0.99),
            s("a", "a", 0.95),
            s("b", "b", 0.92),
            s("a", "a", 0.9),
            s("b", "a", 0.85), // wrong, confident
            s("b", "b", 0.75),
            s("c", "c", 0.65),
            s("c", "b", 0.55), // wrong
            s("c", "b", 0.4),  // wrong
            s("a", "a", 0.35),
        ]
    }

    #[test]
    fn accuracy_f1_and_worst_pairs_are_exact() {
        let e = evaluate_field("queue", &sample(), 0.95);

        assert_eq!(e.examples, 10);
        assert!((e.accuracy - 0.7).abs() < 1e-12);
        // a: tp 4, fp 1, fn 0 -> 8/9; b: tp 2, fp 2, fn 1 -> 4/7; c: tp 1, fp 0, fn 2 -> 2/4.
        let f1 = (8.0 / 9.0 + 4.0 / 7.0 + 0.5) / 3.0;
        assert!((e.macro_f1 - f1).abs() < 1e-12, "{}", e.macro_f1);
        assert_eq!(
            e.worst_pairs,
            vec![
                ConfusionPair {
                    truth: "c".into(),
                    predicted: "b".into(),
                    count: 2,
                    share_of_truth: 2.0 / 3.0
                },
                ConfusionPair {
                    truth: "b".into(),
                    predicted: "a".into(),
                    count: 1,
                    share_of_truth: 1.0 / 3.0
                },
            ]
        );
    }

    #[test]
    fn coverage_and_precision_per_threshold() {
        let t = coverage_table(&sample(), &[0.0, 0.5, 0.7, 0.9, 0.95, 0.999]);

        let got: Vec<(usize, Option<f64>)> = t.iter().map(|r| (r.routed, r.precision)).collect();
        assert_eq!(
            got,
            vec![
                (10, Some(0.7)),
                (8, Some(6.0 / 8.0)),
                (6, Some(5.0 / 6.0)),
                (4, Some(1.0)),
                (2, Some(1.0)),
                (0, None),
            ]
        );
        assert!((t[1].coverage - 0.8).abs() < 1e-12);
    }

    #[test]
    fn the_suggestion_is_the_lowest_threshold_reaching_the_target() {
        let e = evaluate_field("queue", &sample(), 0.95);
        let r = e.suggested.unwrap();
        assert_eq!(r.threshold, 0.9);
        assert_eq!(r.routed, 4);
        assert!((r.coverage - 0.4).abs() < 1e-12);
        assert!(e
            .to_string()
            .contains("Suggested threshold for 95.0 % precision: 0.90"));

        // At 0.6: 7 routed, 1 wrong -> 85.7 %.
        let e = evaluate_field("queue", &sample(), 0.8);
        assert_eq!(e.suggested.unwrap().threshold, 0.6);
    }

    #[test]
    fn no_threshold_reaching_the_target_is_said_plainly() {
        let scored = vec![s("a", "b", 0.99), s("a", "a", 0.99), s("b", "a", 0.5)];

        let e = evaluate_field("priority", &scored, 0.95);

        assert_eq!(e.suggested, None);
        assert!(e
            .to_string()
            .contains("No threshold reaches 95.0 % precision"));
    }

    #[test]
    fn an_f32_probability_counts_at_its_threshold() {
        let t = coverage_table(&[s("a", "a", 0.7f32 as f64)], &[0.7]);
        assert_eq!(t[0].routed, 1);
    }
}

#[cfg(test)]
mod majority_tests {
    use super::*;

    fn scored(pairs: &[(&str, &str)]) -> Vec<Scored> {
        pairs
            .iter()
            .map(|(t, p)| Scored::new(*t, *p, 0.9))
            .collect()
    }

    #[test]
    fn the_baseline_is_the_most_common_true_label_ties_by_label_order() {
        let e = evaluate_field(
            "queue",
            &scored(&[("b", "b"), ("a", "b"), ("b", "b"), ("a", "a"), ("c", "a")]),
            0.95,
        );
        assert_eq!(
            e.majority.label, "a",
            "a and b tie at 2: the first label wins"
        );
        assert!((e.majority.accuracy - 0.4).abs() < 1e-12);
        assert!(e.beats_majority(), "3 of 5 right beats 2 of 5");
        assert!(e
            .to_string()
            .contains("Baseline: always `a` (the most common label) would be right 40.0 %."));
        assert!(!e.to_string().contains("WARNING"));
    }

    #[test]
    fn a_model_no_better_than_always_the_most_common_label_is_flagged() {
        // Always predicting `cards` is what the model does, and what the baseline does.
        let e = evaluate_field(
            "queue",
            &scored(&[("cards", "cards"), ("cards", "cards"), ("atm", "cards")]),
            0.95,
        );
        assert!((e.accuracy - e.majority.accuracy).abs() < 1e-12);
        assert!(!e.beats_majority());
        assert!(
            e.to_string()
                .contains("WARNING: the model does not beat that baseline"),
            "{e}"
        );
        assert!(!evaluate_field("queue", &[], 0.95).beats_majority());
    }
}
