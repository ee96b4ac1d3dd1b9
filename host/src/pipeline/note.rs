//! The internal notes otai writes: what was predicted, how sure the model was, the runner-up and
//! what was done, so an agent can trust or correct it at a glance.

use super::decide::FieldOutcome;

/// A probability as a whole percentage, e.g. `97%`; values that would round to 100 show as `>99%`
/// so a note never claims certainty.
pub fn percent(p: f32) -> String {
    let pct = (p * 100.0).round();
    if pct >= 100.0 && p < 1.0 {
        ">99%".to_string()
    } else {
        format!("{pct:.0}%")
    }
}

/// The note that goes with a classification write.
pub fn prediction_note(model_name: &str, outcomes: &[FieldOutcome], processed_tag: &str) -> String {
    let mut text = format!("otai classified this ticket (model {model_name}):\n");
    for o in outcomes {
        let predicted = match &o.best {
            Some(best) => format!("{} ({}", best.label, percent(best.probability)),
            None => "no prediction".to_string(),
        };
        let runner_up = match (&o.best, &o.runner_up) {
            (Some(_), Some(r)) => format!("; runner-up {} {})", r.label, percent(r.probability)),
            (Some(_), None) => ")".to_string(),
            (None, _) => String::new(),
        };
        text.push_str(&format!(
            "- {}: {predicted}{runner_up} -> {}\n",
            o.field,
            o.action_text()
        ));
    }
    text.push_str(&format!(
        "If something is wrong, correct it here; otai will not classify this ticket again (tag {processed_tag})."
    ));
    text
}

/// The note that goes with the failed tag.
pub fn failed_note(attempts: u32, reason: &str, failed_tag: &str) -> String {
    format!(
        "otai could not write its classification to this ticket after {attempts} attempts and \
         gave up (tag {failed_tag}); please route it by hand. Last error: {reason}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        classifier::LabelScore,
        pipeline::decide::{Basis, Write},
    };

    fn outcome(
        field: &str,
        best: (&str, f32),
        runner: Option<(&str, f32)>,
        basis: Basis,
        write: Option<Write>,
    ) -> FieldOutcome {
        let score = |(label, probability): (&str, f32)| LabelScore {
            label: label.into(),
            probability,
        };
        FieldOutcome {
            field: field.into(),
            best: Some(score(best)),
            runner_up: runner.map(score),
            threshold: 0.8,
            basis,
            write,
        }
    }

    #[test]
    fn percent_never_claims_certainty() {
        assert_eq!(percent(0.971), "97%");
        assert_eq!(percent(0.9996), ">99%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.004), "0%");
    }

    #[test]
    fn note_lists_each_field_with_confidence_runner_up_and_action() {
        let outcomes = [
            outcome(
                "queue",
                ("cards", 0.97),
                Some(("disputes", 0.012)),
                Basis::Confident,
                Some(Write::Queue("cards".into())),
            ),
            outcome(
                "priority",
                ("urgent", 0.55),
                Some(("high", 0.3)),
                Basis::BelowThreshold,
                None,
            ),
        ];

        let text = prediction_note("banking77", &outcomes, "otai_processed");

        assert_eq!(
            text,
            "otai classified this ticket (model banking77):\n\
             - queue: cards (97%; runner-up disputes 1%) -> set queue \"cards\"\n\
             - priority: urgent (55%; runner-up high 30%) -> below the 80% threshold, left unchanged\n\
             If something is wrong, correct it here; otai will not classify this ticket again (tag otai_processed)."
        );
    }
}
