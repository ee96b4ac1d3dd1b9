//! Ticket classification with a local ONNX model: one sentence-encoder pass per ticket, then one linear
//! softmax head per field (queue, priority, custom labels). A bring-your-own Hugging Face
//! sequence-classification model can stand in for encoder + head (one field).
//!
//! The text of a ticket is `subject + "\n" + body` (see [`TicketText::text`]), truncated at 256 tokens by
//! default. Every field's output is the top-k labels with their probabilities; the probabilities come from
//! a softmax over all of the field's labels, so over all labels they sum to 1.
//!
//! ONNX Runtime and the tokenizer run on a dedicated thread ([`encoder`]); the async API awaits it without
//! blocking the runtime, the sync API blocks the caller (training, tools, benchmarks).
//!
//! # Layout
//! - [`runtime`]: finds `libonnxruntime.so` and initialises ONNX Runtime once per process.
//! - [`encoder`]: tokenizer + ONNX session on its own thread, batching by length; sync and async facades.
//! - [`head`]: a linear softmax head per field (embedding, or hybrid: embedding + lexical); JSON files.
//! - [`lexical`]: the TF-IDF n-gram features of hybrid heads.
//! - [`describe`]: zero-history heads from plain-word label descriptions (similarity to them).
//! - [`language`]: the built-in `language` field (which language a ticket is in; no model).
//! - [`model`]: model folder formats (otai's manifest, Hugging Face folders) and writing new folders.
//! - [`data`]: labelled CSV / JSONL training data.
//! - [`unlabelled`]: tickets to classify from a help desk's CSV / JSONL export, with their ids.
//! - [`train`]: multinomial logistic regression in pure Rust; `train_from_file`.
//! - [`hybrid`]: the lexical half of a head, fitted beside the embedding half and mixed by validation.
//! - `lbfgs`: the optimiser the heads are fitted with.
//! - [`metrics`]: accuracy and macro-F1.
//! - [`demo`]: the BANKING77 demo model (routing file, training, test-split report).
//! - [`error`]: the error type.

pub mod data;
pub mod demo;
pub mod describe;
pub mod encoder;
pub mod encoder_choice;
pub mod error;
pub mod evaluate;
pub mod head;
pub mod hybrid;
pub mod language;
mod lbfgs;
pub mod lexical;
pub mod metrics;
pub mod model;
pub mod runtime;
pub mod train;
pub mod unlabelled;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use self::encoder::{Encoder, EncoderOptions};
pub use self::error::{ClassifierError, Result};
pub use self::head::{LabelScore, LinearHead};
use self::lexical::NGrams;
pub use self::train::{train_from_file, Split, TrainOptions, TrainReport};

/// The text of a ticket as the classifier sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketText {
    /// Ticket subject (may be empty).
    pub subject: String,
    /// Ticket body, plain text (may be empty).
    pub body: String,
}

impl TicketText {
    /// A ticket text from subject and body.
    pub fn new(subject: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            body: body.into(),
        }
    }

    /// `subject + "\n" + body`, or just the non-empty one: the subject comes first because it is the densest
    /// summary and survives truncation of long bodies. Training data with subject/body columns is combined
    /// the same way, so training and classification see the same text.
    pub fn text(&self) -> String {
        let (s, b) = (self.subject.trim(), self.body.trim());
        match (s.is_empty(), b.is_empty()) {
            (false, false) => format!("{s}\n{b}"),
            (false, true) => s.to_string(),
            (true, _) => b.to_string(),
        }
    }
}

/// The classifier's answer for one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldPrediction {
    /// The field, e.g. `queue`.
    pub field: String,
    /// The `top_k` most likely labels, most likely first (never empty).
    pub top: Vec<LabelScore>,
}

impl FieldPrediction {
    /// The most likely label.
    pub fn best(&self) -> &LabelScore {
        &self.top[0]
    }
}

/// The classifier's answer for one ticket: one entry per field, in the model's field order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Per-field predictions.
    pub fields: Vec<FieldPrediction>,
}

impl Prediction {
    /// The prediction for `field`, if the model has that field.
    pub fn field(&self, field: &str) -> Option<&FieldPrediction> {
        self.fields.iter().find(|f| f.field == field)
    }
}

/// How to load and run a classifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifierOptions {
    /// Encoder thread settings (truncation, threads, batch size, ONNX Runtime library).
    pub encoder: EncoderOptions,
    /// Labels returned per field (at least 1). Default 3.
    pub top_k: usize,
    /// Field name for a Hugging Face model's labels (it classifies one field). Default `queue`.
    pub hf_field: String,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        Self {
            encoder: EncoderOptions::default(),
            top_k: 3,
            hf_field: "queue".into(),
        }
    }
}

#[derive(Debug, Clone)]
enum Field {
    /// A linear head on the encoder's embedding.
    Head(LinearHead),
    /// The encoder output already is this field's logits (Hugging Face classifier).
    Logits { field: String, labels: Vec<String> },
}

impl Field {
    /// `row` is the encoder's output for a text, `ngrams` its n-grams (read by hybrid heads).
    fn predict(&self, row: &[f32], ngrams: &NGrams, k: usize) -> FieldPrediction {
        match self {
            Field::Head(head) => FieldPrediction {
                field: head.field.clone(),
                top: head.top_k_of(row, ngrams, k),
            },
            Field::Logits { field, labels } => FieldPrediction {
                field: field.clone(),
                top: head::top_k(labels, &head::softmax(row), k),
            },
        }
    }

    fn name(&self) -> &str {
        match self {
            Field::Head(h) => &h.field,
            Field::Logits { field, .. } => field,
        }
    }
}

/// One encoder and N heads: classifies tickets into every field with one encoder pass per ticket.
/// Cheap to clone (the encoder thread is shared).
#[derive(Debug, Clone)]
pub struct Classifier {
    encoder: Encoder,
    fields: std::sync::Arc<Vec<Field>>,
    top_k: usize,
}

impl Classifier {
    /// Loads a model folder: an otai folder (`otai-model.json`, encoder + heads) or a Hugging Face
    /// sequence-classification folder (`model.onnx`, `tokenizer.json`, `config.json` with `id2label`), which
    /// classifies the single field `options.hf_field`.
    pub fn load(dir: &Path, options: &ClassifierOptions) -> Result<Self> {
        Self::load_folder(dir, options, true)
    }

    /// As [`Classifier::load`], but an otai folder may have no heads (an encoder alone): its fields
    /// then come from [`Classifier::with_extra_heads`], e.g. heads built from label descriptions.
    pub fn load_allowing_no_heads(dir: &Path, options: &ClassifierOptions) -> Result<Self> {
        Self::load_folder(dir, options, false)
    }

    fn load_folder(dir: &Path, options: &ClassifierOptions, require_heads: bool) -> Result<Self> {
        match model::detect(dir)? {
            model::FolderKind::Otai => {
                let manifest = model::Manifest::read(dir)?;
                let heads = manifest.load_heads(dir)?;
                if require_heads && heads.is_empty() {
                    return Err(ClassifierError::model(
                        dir,
                        "this model folder has an encoder but no heads; train some with `otai train`",
                    ));
                }
                let encoder = Encoder::spawn(&manifest.encoder_spec(dir), &options.encoder)?;
                if encoder.dim() != manifest.encoder.dim {
                    return Err(ClassifierError::model(
                        dir,
                        format!(
                            "the encoder gives {}-d embeddings, the manifest says {}",
                            encoder.dim(),
                            manifest.encoder.dim
                        ),
                    ));
                }
                Ok(Self::new(
                    encoder,
                    heads.into_iter().map(Field::Head).collect(),
                    options,
                ))
            }
            model::FolderKind::HuggingFace => Self::load_hf(dir, &options.hf_field, options),
        }
    }

    /// Loads a Hugging Face sequence-classification folder as a classifier for `field`.
    pub fn load_hf(dir: &Path, field: &str, options: &ClassifierOptions) -> Result<Self> {
        let hf = model::HfModel::read(dir)?;
        let encoder = Encoder::spawn(&hf.spec, &options.encoder)?;
        if encoder.dim() != hf.labels.len() {
            return Err(ClassifierError::model(
                dir,
                format!(
                    "the model outputs {} logits but config.json's id2label has {} labels",
                    encoder.dim(),
                    hf.labels.len()
                ),
            ));
        }
        let fields = vec![Field::Logits {
            field: field.to_string(),
            labels: hf.labels,
        }];
        Ok(Self::new(encoder, fields, options))
    }

    fn new(encoder: Encoder, fields: Vec<Field>, options: &ClassifierOptions) -> Self {
        Self {
            encoder,
            fields: std::sync::Arc::new(fields),
            top_k: options.top_k.max(1),
        }
    }

    /// The fields this classifier predicts, in output order.
    pub fn fields(&self) -> Vec<&str> {
        self.fields.iter().map(Field::name).collect()
    }

    /// A head for `field` scored by similarity to plain-word label descriptions, embedded with this
    /// classifier's encoder (see [`describe::description_head`]). Blocks; not for async code.
    pub fn description_head(
        &self,
        field: &str,
        descriptions: &[(String, Vec<String>)],
        scale: f32,
    ) -> Result<LinearHead> {
        self.require_embeddings()?;
        describe::description_head(&self.encoder, field, descriptions, scale)
    }

    /// This classifier with `heads` added on the same encoder (one encoder pass still serves every
    /// field): a head for a field the model already has replaces that field's head in place,
    /// others are appended in order. The encoder thread is shared, not copied.
    pub fn with_extra_heads(&self, heads: Vec<LinearHead>) -> Result<Self> {
        if heads.is_empty() {
            return Ok(self.clone());
        }
        self.require_embeddings()?;
        let mut fields: Vec<Field> = self.fields.as_ref().clone();
        for head in heads {
            head.validate(Path::new(&format!("extra head `{}`", head.field)))?;
            if head.dim != self.encoder.dim() {
                return Err(ClassifierError::InvalidInput(format!(
                    "the head for field `{}` expects {}-d embeddings, the encoder gives {}",
                    head.field,
                    head.dim,
                    self.encoder.dim()
                )));
            }
            match fields.iter_mut().find(|f| f.name() == head.field) {
                Some(slot) => *slot = Field::Head(head),
                None => fields.push(Field::Head(head)),
            }
        }
        Ok(Self {
            encoder: self.encoder.clone(),
            fields: std::sync::Arc::new(fields),
            top_k: self.top_k,
        })
    }

    /// Extra heads need sentence embeddings; a Hugging Face classifier's rows are its own logits.
    fn require_embeddings(&self) -> Result<()> {
        if self
            .fields
            .iter()
            .any(|f| matches!(f, Field::Logits { .. }))
        {
            return Err(ClassifierError::InvalidInput(
                "a Hugging Face classifier outputs its own labels' logits, not sentence \
                 embeddings: label descriptions need an otai model folder (an encoder)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Classifies tickets without blocking the async runtime. One [`Prediction`] per ticket, in order.
    pub async fn classify_batch(&self, tickets: &[TicketText]) -> Result<Vec<Prediction>> {
        let texts: Vec<String> = tickets.iter().map(TicketText::text).collect();
        let ngrams = self.ngrams_of(&texts);
        let rows = self.encoder.embed(texts).await?;
        Ok(self.predict_rows(&rows, &ngrams))
    }

    /// Blocking variant of [`Classifier::classify_batch`]; not for async code.
    pub fn classify_batch_blocking(&self, tickets: &[TicketText]) -> Result<Vec<Prediction>> {
        self.classify_texts_blocking(tickets.iter().map(TicketText::text).collect())
    }

    /// Blocking classification of raw texts; not for async code.
    pub fn classify_texts_blocking(&self, texts: Vec<String>) -> Result<Vec<Prediction>> {
        let ngrams = self.ngrams_of(&texts);
        let rows = self.encoder.embed_blocking(texts)?;
        Ok(self.predict_rows(&rows, &ngrams))
    }

    /// The encoder's rows for `texts` (blocking): with [`Classifier::predict_embedded`], the two
    /// halves of [`Classifier::classify_texts_blocking`], for tools that score more than one set of
    /// heads on one encoder pass.
    pub fn embed_blocking(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        self.encoder.embed_blocking(texts)
    }

    /// Every field's prediction from encoder rows made by [`Classifier::embed_blocking`] for `texts`.
    pub fn predict_embedded(&self, rows: &[Vec<f32>], texts: &[String]) -> Vec<Prediction> {
        self.predict_rows(rows, &self.ngrams_of(texts))
    }

    /// The hybrid heads' halves, per field that has a hybrid head: `(field, embedding half,
    /// lexical half)` (see [`LinearHead::halves`]).
    pub fn hybrid_halves(&self) -> Vec<(String, Option<LinearHead>, LinearHead)> {
        self.fields
            .iter()
            .filter_map(|f| match f {
                Field::Head(h) => h.halves().map(|(e, l)| (h.field.clone(), e, l)),
                Field::Logits { .. } => None,
            })
            .collect()
    }

    /// Each text's n-grams, counted once per ticket for all hybrid heads (and not at all without
    /// one); counted before the texts move to the encoder thread.
    fn ngrams_of(&self, texts: &[String]) -> Vec<NGrams> {
        let hybrid = self
            .fields
            .iter()
            .any(|f| matches!(f, Field::Head(h) if h.is_hybrid()));
        texts
            .iter()
            .map(|t| {
                if hybrid {
                    NGrams::of(t)
                } else {
                    NGrams::default()
                }
            })
            .collect()
    }

    /// Applies every field to encoder rows (embeddings or logits) and their texts' n-grams.
    fn predict_rows(&self, rows: &[Vec<f32>], ngrams: &[NGrams]) -> Vec<Prediction> {
        rows.iter()
            .zip(ngrams)
            .map(|(row, ngrams)| Prediction {
                fields: self
                    .fields
                    .iter()
                    .map(|f| f.predict(row, ngrams, self.top_k))
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::testing::model_dir;
    use super::*;

    #[test]
    fn ticket_text_joins_subject_and_body() {
        assert_eq!(
            TicketText::new("Card lost", "Please block it").text(),
            "Card lost\nPlease block it"
        );
        assert_eq!(TicketText::new("", " body only ").text(), "body only");
        assert_eq!(TicketText::new("subject only", "").text(), "subject only");
        assert_eq!(TicketText::default().text(), "");
    }

    #[test]
    fn the_classifier_can_be_shared_across_tasks() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<Classifier>();
        assert_send_sync::<Encoder>();
    }

    fn banking77() -> Classifier {
        Classifier::load(&model_dir("banking77"), &ClassifierOptions::default()).unwrap()
    }

    fn best<'a>(p: &'a Prediction, field: &str) -> &'a str {
        &p.field(field).unwrap().best().label
    }

    #[test]
    fn the_demo_model_classifies_clear_cases_in_every_field() {
        let classifier = banking77();
        let tickets = [
            TicketText::new("Card gone", "I lost my card, please block it"),
            TicketText::new("", "My card was stolen yesterday"),
            TicketText::new("Top up", "My top-up failed, why?"),
            TicketText::new("", "The ATM kept my card"),
            TicketText::new("Question", "Which currencies can I exchange in the app?"),
        ];

        let p = classifier.classify_batch_blocking(&tickets).unwrap();

        assert_eq!(classifier.fields(), ["intent", "queue", "priority"]);
        assert_eq!(
            (
                best(&p[0], "intent"),
                best(&p[0], "queue"),
                best(&p[0], "priority")
            ),
            ("lost_or_stolen_card", "cards", "urgent")
        );
        assert_eq!(best(&p[1], "intent"), "lost_or_stolen_card");
        assert_eq!(
            (best(&p[2], "intent"), best(&p[2], "queue")),
            ("top_up_failed", "top_ups")
        );
        assert_eq!(
            (best(&p[3], "intent"), best(&p[3], "queue")),
            ("card_swallowed", "cash_atm")
        );
        assert_eq!(best(&p[4], "queue"), "exchange");
    }

    #[test]
    fn every_field_returns_top_k_in_order_from_a_distribution_summing_to_one() {
        let options = ClassifierOptions {
            top_k: 100,
            ..Default::default()
        };
        let classifier = Classifier::load(&model_dir("banking77"), &options).unwrap();

        let p = classifier
            .classify_texts_blocking(vec!["why was I charged twice?".into()])
            .unwrap();

        for field in &p[0].fields {
            let sum: f32 = field.top.iter().map(|l| l.probability).sum();
            assert!((sum - 1.0).abs() < 1e-4, "{}: {sum}", field.field);
            assert!(field
                .top
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability));
        }
        assert_eq!(p[0].field("intent").unwrap().top.len(), 77);
        assert_eq!(p[0].field("queue").unwrap().top.len(), 8);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn async_batches_match_one_by_one_sync_results() {
        let classifier = banking77();
        let tickets: Vec<TicketText> = [
            "I lost my card",
            "",
            "🙂🙂🙂",
            "How do I top up by bank transfer?",
        ]
        .iter()
        .map(|b| TicketText::new("", *b))
        .collect();

        let batch = classifier.classify_batch(&tickets).await.unwrap();
        let mut single = Vec::new();
        for t in &tickets {
            single.extend(
                classifier
                    .classify_batch(std::slice::from_ref(t))
                    .await
                    .unwrap(),
            );
        }

        assert_eq!(batch, single);
        assert!(classifier.classify_batch(&[]).await.unwrap().is_empty());
    }

    #[test]
    fn a_hugging_face_classifier_folder_loads_with_its_id2label_labels() {
        let dir = model_dir("test-hf-classifier");
        let options = ClassifierOptions {
            top_k: 4,
            ..Default::default()
        };

        let classifier = Classifier::load(&dir, &options).unwrap();
        let p = classifier
            .classify_texts_blocking(vec![
                "Someone stole my card".into(),
                "How can I add money to my account with a top up?".into(),
            ])
            .unwrap();

        assert_eq!(classifier.fields(), ["queue"]);
        assert_eq!(best(&p[0], "queue"), "cards");
        assert_eq!(best(&p[1], "queue"), "top_up");
        let mut labels: Vec<&str> = p[0].fields[0]
            .top
            .iter()
            .map(|l| l.label.as_str())
            .collect();
        labels.sort();
        assert_eq!(labels, ["account", "cards", "top_up", "transfers"]);
        let sum: f32 = p[0].fields[0].top.iter().map(|l| l.probability).sum();
        assert!((sum - 1.0).abs() < 1e-4);
    }

    #[test]
    fn a_hugging_face_folder_can_name_its_field() {
        let classifier = Classifier::load_hf(
            &model_dir("test-hf-classifier"),
            "category",
            &ClassifierOptions::default(),
        )
        .unwrap();

        assert_eq!(classifier.fields(), ["category"]);
    }

    #[test]
    fn extra_heads_replace_or_join_the_model_fields_on_one_encoder() {
        let base = banking77();
        let described = |pairs: &[(&str, &str)]| -> Vec<(String, Vec<String>)> {
            pairs
                .iter()
                .map(|(l, d)| (l.to_string(), vec![d.to_string()]))
                .collect()
        };
        let queue = base
            .description_head(
                "queue",
                &described(&[
                    ("Plastic", "lost or stolen cards"),
                    ("Money", "exchange rates"),
                ]),
                20.0,
            )
            .unwrap();
        let mood = base
            .description_head(
                "mood",
                &described(&[
                    ("angry", "furious, outraged"),
                    ("calm", "a polite question"),
                ]),
                20.0,
            )
            .unwrap();

        let extended = base.with_extra_heads(vec![queue, mood]).unwrap();
        let p = extended
            .classify_texts_blocking(vec!["Someone stole my card".into()])
            .unwrap();

        assert_eq!(extended.fields(), ["intent", "queue", "priority", "mood"]);
        assert_eq!(base.fields(), ["intent", "queue", "priority"]);
        assert_eq!(best(&p[0], "queue"), "Plastic");
        assert_eq!(best(&p[0], "intent"), "lost_or_stolen_card");
        let encoder_only = Classifier::load_allowing_no_heads(
            &model_dir("minilm-l6-int8"),
            &ClassifierOptions::default(),
        )
        .unwrap();
        assert!(encoder_only.fields().is_empty());
        let hf = Classifier::load(
            &model_dir("test-hf-classifier"),
            &ClassifierOptions::default(),
        )
        .unwrap();
        let err = hf.description_head("queue", &described(&[("a", "b")]), 20.0);
        assert!(err.unwrap_err().to_string().contains("Hugging Face"));
    }

    #[test]
    fn an_encoder_without_heads_is_refused_with_advice() {
        let err = Classifier::load(&model_dir("minilm-l6-int8"), &ClassifierOptions::default())
            .unwrap_err()
            .to_string();

        assert!(
            err.contains("no heads") && err.contains("otai train"),
            "{err}"
        );
    }

    #[test]
    fn train_from_file_writes_a_model_that_classifies_its_own_kind_of_text() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("tickets.csv");
        let mut csv = String::from("subject,body,queue,priority\n");
        let cards = [
            "card",
            "credit card",
            "debit card",
            "bank card",
            "new card",
            "plastic card",
        ];
        let logins = [
            "password",
            "login",
            "sign-in",
            "two-factor code",
            "account access",
            "passcode",
        ];
        let invoices = [
            "invoice",
            "bill",
            "receipt",
            "VAT invoice",
            "billing statement",
            "tax receipt",
        ];
        for i in 0..6 {
            csv += &format!(
                "Help,\"My {} is blocked, please unblock it\",cards,high\n",
                cards[i]
            );
            csv += &format!(
                "Login,I forgot my {} and cannot get in,access,high\n",
                logins[i]
            );
            csv += &format!(
                "Question,Please send me a copy of my {},billing,low\n",
                invoices[i]
            );
        }
        std::fs::write(&data, csv).unwrap();
        let out = tmp.path().join("model");
        let options = TrainOptions {
            holdout: 0.34,
            ..Default::default()
        };

        let report = train_from_file(&model_dir("minilm-l6-int8"), &data, &out, &options).unwrap();
        let classifier = Classifier::load(&out, &ClassifierOptions::default()).unwrap();
        let p = classifier
            .classify_batch_blocking(&[TicketText::new(
                "Card",
                "my card does not work, it is blocked",
            )])
            .unwrap();

        assert_eq!(report.examples, 18);
        assert_eq!(report.holdout_examples, 6);
        let queue = report.fields.iter().find(|f| f.field == "queue").unwrap();
        assert_eq!(queue.holdout.unwrap().accuracy, 1.0, "{report}");
        assert_eq!(best(&p[0], "queue"), "cards");
        assert!(out.join("training.json").is_file());
        assert!(
            train_from_file(&model_dir("minilm-l6-int8"), &data, &out, &options)
                .unwrap_err()
                .to_string()
                .contains("already exists")
        );
    }
}
