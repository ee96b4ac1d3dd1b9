//! The built-in `language` field in a pipeline: a field named `language` that the model has no
//! head for is answered by the language detector ([`crate::classifier::language`]) instead,
//! appended to every prediction, and written like any other field (`action: tag` gives
//! `otai_language__de`; `action: queue` with a `map:` routes by language).

use std::{collections::BTreeMap, sync::Arc};

use crate::{
    classifier::{
        language::{LanguageDetector, FIELD},
        ClassifierError, Prediction, TicketText,
    },
    config::{FieldRule, PipelineConfig},
    ticket::BoxFuture,
};

use super::Classify;

/// Whether `rule` is answered by the detector: the `language` field of a model without one.
pub fn detects_language(rule: &FieldRule, model_labels: &BTreeMap<String, Vec<String>>) -> bool {
    rule.field == FIELD && !model_labels.contains_key(FIELD)
}

/// The detector of `pipeline`, if one of its fields uses it (the model has no `language` head).
pub fn detector_for(
    pipeline: &PipelineConfig,
    model_has_language: bool,
) -> Option<LanguageDetector> {
    if model_has_language {
        return None;
    }
    let rule = pipeline.fields.iter().find(|r| r.field == FIELD)?;
    // The codes were checked when the configuration was loaded.
    LanguageDetector::new(&rule.languages).ok()
}

/// A classifier whose predictions carry the detected language too.
#[derive(Debug)]
pub struct WithLanguage {
    pub inner: Arc<dyn Classify>,
    pub detector: LanguageDetector,
}

impl Classify for WithLanguage {
    fn classify<'a>(
        &'a self,
        tickets: &'a [TicketText],
    ) -> BoxFuture<'a, Result<Vec<Prediction>, ClassifierError>> {
        Box::pin(async move {
            let mut predictions = self.inner.classify(tickets).await?;
            for (prediction, ticket) in predictions.iter_mut().zip(tickets) {
                prediction
                    .fields
                    .push(self.detector.predict(&ticket.text()));
            }
            Ok(predictions)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        classifier::{FieldPrediction, LabelScore},
        config::Config,
        pipeline::{check_against_model, pipeline_labels},
    };

    /// A model with one field, `queue`, always `cards`.
    #[derive(Debug)]
    struct Queue;

    impl Classify for Queue {
        fn classify<'a>(
            &'a self,
            tickets: &'a [TicketText],
        ) -> BoxFuture<'a, Result<Vec<Prediction>, ClassifierError>> {
            let one = Prediction {
                fields: vec![FieldPrediction {
                    field: "queue".into(),
                    top: vec![LabelScore {
                        label: "cards".into(),
                        probability: 0.9,
                    }],
                }],
            };
            Box::pin(async move { Ok(vec![one; tickets.len()]) })
        }
    }

    fn pipeline(language: &str) -> PipelineConfig {
        let text = format!(
            "ticket_systems: {{z: {{use: \"p:S\"}}}}\npipelines:\n  p:\n    ticket_system: z\n    \
             fields:\n      queue: {{action: tag}}\n      language: {language}\n"
        );
        Config::parse(&text, std::path::Path::new("t.yml"), &|_| Ok(None))
            .unwrap_or_else(|e| panic!("{e}"))
            .pipelines["p"]
            .clone()
    }

    fn model(fields: &[&str]) -> BTreeMap<String, Vec<String>> {
        fields
            .iter()
            .map(|f| (f.to_string(), vec!["cards".to_string(), "de".to_string()]))
            .collect()
    }

    #[tokio::test]
    async fn every_prediction_gets_the_detected_language_after_the_models_fields() {
        let p = pipeline("{action: tag, languages: [de, en]}");
        let with = WithLanguage {
            inner: Arc::new(Queue),
            detector: detector_for(&p, false).expect("the field uses the detector"),
        };
        let tickets = [
            TicketText::new(
                "Karte gesperrt",
                "Meine Karte wurde gesperrt, bitte helfen Sie mir.",
            ),
            TicketText::new("Card blocked", "My card was blocked, please help me."),
        ];
        let predictions = with.classify(&tickets).await.unwrap();
        let languages: Vec<&str> = predictions
            .iter()
            .map(|p| p.field(FIELD).unwrap().best().label.as_str())
            .collect();
        assert_eq!(languages, ["de", "en"]);
        assert_eq!(
            predictions[0].fields[0].field, "queue",
            "the model's fields first"
        );
    }

    #[test]
    fn the_model_s_own_language_head_wins_and_then_takes_no_languages_key() {
        let p = pipeline("{action: tag, languages: [de, en]}");
        assert!(detector_for(&p, true).is_none());
        let problems = check_against_model(&p, &model(&["queue", "language"]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .to_string()
                .starts_with("pipelines.p.fields.language.languages: "),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn without_a_head_the_detectors_languages_are_the_fields_labels() {
        let p = pipeline("{action: queue, map: {de: German, en: English}, languages: [de, en]}");
        let labels = pipeline_labels(&p, &model(&["queue"]));
        assert_eq!(labels[FIELD], ["de", "en", "und"]);
        assert!(check_against_model(&p, &model(&["queue"])).is_empty());
        // A map key the detector cannot give is caught like any unknown label.
        let p = pipeline("{action: queue, map: {fr: French}, languages: [de, en]}");
        let problems = check_against_model(&p, &model(&["queue"]));
        assert!(
            problems[0]
                .to_string()
                .contains("`fr` is not a label of field `language`"),
            "{problems:?}"
        );
    }

    #[test]
    fn languages_are_checked_when_the_configuration_loads() {
        let text = |field: &str, languages: &str| {
            format!(
                "ticket_systems: {{z: {{use: \"p:S\"}}}}\npipelines:\n  p:\n    ticket_system: z\n    \
                 fields:\n      {field}: {{action: tag, languages: {languages}}}\n"
            )
        };
        let problems = |text: String| {
            Config::parse(&text, std::path::Path::new("t.yml"), &|_| Ok(None))
                .unwrap_err()
                .problems()
        };
        let p = problems(text("language", "[de, xx]"));
        assert!(
            p[0].contains("pipelines.p.fields.language.languages: unknown language `xx`"),
            "{p:?}"
        );
        let p = problems(text("queue", "[de]"));
        assert!(
            p[0].contains(
                "pipelines.p.fields.queue.languages: only for the built-in `language` field"
            ),
            "{p:?}"
        );
        let p = problems(text("language", "[]"));
        assert!(p[0].contains("name at least one language"), "{p:?}");
    }
}
