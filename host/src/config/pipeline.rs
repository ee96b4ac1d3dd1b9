//! The `pipelines:` section: what to fetch from which ticket system, which model classifies it and
//! how each predicted field is written back.
//!
//! [`RawPipeline`] is the serde form (every struct `deny_unknown_fields`, so a typo is an error with
//! its key path and line); [`RawPipeline::validate`] turns it into a [`PipelineConfig`] and lists
//! every problem with its key path. What needs the model (are the configured fields and mapped
//! labels the model's?) is checked later by [`crate::pipeline::check_against_model`], because
//! parsing a configuration must not depend on files elsewhere.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use serde_json::Value;

use super::{ConfigPaths, Problem};
pub use crate::classifier::describe::DEFAULT_SIMILARITY_SCALE;
use crate::classifier::language::LanguageDetector;
use crate::lists::list_or_none;

/// The model folder a pipeline uses unless `model:` says otherwise.
pub const DEFAULT_MODEL_DIR: &str = "models/banking77";
/// Seconds between passes unless `interval:` says otherwise.
pub const DEFAULT_INTERVAL_SECS: f64 = 60.0;
/// The confidence a prediction needs to be applied unless `threshold:` says otherwise (as Open
/// Ticket AI's default).
pub const DEFAULT_THRESHOLD: f64 = 0.8;
/// The tag that marks a ticket as classified and written.
pub const DEFAULT_PROCESSED_TAG: &str = "otai_processed";
/// The tag that marks a ticket whose write failed every attempt.
pub const DEFAULT_FAILED_TAG: &str = "otai_failed";
/// The tag that marks a ticket left alone because an agent already routed it by hand.
pub const DEFAULT_ROUTED_TAG: &str = "otai_routed";
/// How a label becomes a tag unless `tag_format:` says otherwise, in the spirit of Zendesk's own
/// `intent__...` tags.
pub const DEFAULT_TAG_FORMAT: &str = "otai_{field}__{label}";
/// The folder of the retry state files unless `state_file:` says otherwise, relative to the
/// working directory; each pipeline's file is `<pipeline>.json` in it.
pub const DEFAULT_STATE_DIR: &str = ".otai/state";
/// The folder of the audit logs unless `audit_log:` says otherwise; each pipeline's is
/// `<pipeline>.jsonl` in it.
pub const DEFAULT_AUDIT_DIR: &str = ".otai/audit";
/// The most tickets one pass may fetch: every fetched ticket (text included) is in memory until
/// the pass ends.
pub const MAX_FETCH_LIMIT: u64 = 10_000;
/// Tickets fetched per pass unless `fetch.limit:` says otherwise.
pub const DEFAULT_FETCH_LIMIT: u64 = 100;
/// Tickets per `update_tickets` call: Zendesk's `update_many` takes at most 100.
pub const DEFAULT_WRITE_BATCH: usize = 100;
/// Bounds for `max_tokens`: at least the two special tokens plus one word; at most the 512
/// positions BERT-style encoders have.
pub const MIN_MAX_TOKENS: usize = 3;
pub const MAX_MAX_TOKENS: usize = 512;
/// Write attempts per ticket before it is marked failed.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Seconds before the first retry of a failed write; doubled after each further failure.
pub const DEFAULT_BACKOFF_SECS: f64 = 60.0;
/// otai's priority vocabulary, which plugins map to their help desk's.
pub use otai_plugin_sdk::vocabulary::PRIORITIES;

/// One entry under `pipelines:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    pub ticket_system: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub interval: Option<f64>,
    #[serde(default)]
    pub fetch: Option<RawFetch>,
    #[serde(default)]
    pub skip_routed: Option<bool>,
    #[serde(default)]
    pub inbox_queues: Vec<String>,
    #[serde(default)]
    pub processed_tag: Option<String>,
    #[serde(default)]
    pub failed_tag: Option<String>,
    #[serde(default)]
    pub routed_tag: Option<String>,
    #[serde(default)]
    pub note: Option<bool>,
    #[serde(default)]
    pub write_batch: Option<usize>,
    #[serde(default)]
    pub max_tokens: Option<usize>,
    #[serde(default)]
    pub retry: Option<RawRetry>,
    /// Left out: the default file; `null` or `""`: no file (attempts counted in memory only).
    #[serde(default, deserialize_with = "present")]
    pub state_file: Option<Option<String>>,
    /// Left out: the default file; `null` or `""`: no audit log.
    #[serde(default, deserialize_with = "present")]
    pub audit_log: Option<Option<String>>,
    /// In the order written: the note lists fields in this order.
    #[serde(deserialize_with = "ordered_map")]
    pub fields: Vec<(String, RawField)>,
}

/// A key that is present, even as `null`, as `Some` (a missing key stays `None` by `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A YAML mapping as `(key, value)` pairs in file order (a `BTreeMap` would sort them). Goes
/// through the deserializer's own map access, so unknown keys inside values still get their
/// key path from `serde_path_to_error`. A repeated key is an error, as YAML requires.
fn ordered_map<'de, D, V>(deserializer: D) -> Result<Vec<(String, V)>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Ordered<V>(std::marker::PhantomData<V>);

    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Ordered<V> {
        type Value = Vec<(String, V)>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a mapping of field names to field rules")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out: Vec<(String, V)> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.iter().any(|(k, _)| *k == key) {
                    return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
                }
                let value = map.next_value()?;
                out.push((key, value));
            }
            Ok(out)
        }
    }

    deserializer.deserialize_map(Ordered(std::marker::PhantomData))
}

/// `pipelines.<name>.fetch` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFetch {
    #[serde(default)]
    pub statuses: Option<Vec<String>>,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub without_tags: Vec<String>,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// `pipelines.<name>.retry` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    #[serde(default)]
    pub max_attempts: Option<u32>,
    #[serde(default)]
    pub backoff: Option<f64>,
}

/// `pipelines.<name>.fields.<field>` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    pub action: String,
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub map: BTreeMap<String, Value>,
    #[serde(default)]
    pub fallback: Option<Value>,
    #[serde(default)]
    pub tag_format: Option<String>,
    #[serde(default)]
    pub field_id: Option<String>,
    /// Label to description(s), in file order: zero-history routing by similarity.
    #[serde(default, deserialize_with = "some_ordered_map")]
    pub descriptions: Option<Vec<(String, RawDescription)>>,
    #[serde(default)]
    pub similarity_scale: Option<f64>,
    #[serde(default)]
    pub use_descriptions: Option<bool>,
    /// The built-in `language` field only: the ISO 639-1 codes the detector chooses among.
    #[serde(default)]
    pub languages: Option<Vec<String>>,
}

/// One label's description: a string, or a list of strings (their embeddings are averaged).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawDescription {
    One(String),
    Many(Vec<String>),
}

fn some_ordered_map<'de, D, V>(deserializer: D) -> Result<Option<Vec<(String, V)>>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    ordered_map(deserializer).map(Some)
}

/// A validated pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// The key under `pipelines:`.
    pub name: String,
    /// The key of the ticket system under `ticket_systems:`.
    pub ticket_system: String,
    /// The model folder: `model:` resolved from the configuration file's folder, or the default
    /// in the working directory.
    pub model: PathBuf,
    pub interval: Duration,
    pub fetch: FetchConfig,
    /// Leave tickets alone that are already in a queue other than [`Self::inbox_queues`].
    pub skip_routed: bool,
    /// Queue names or ids that count as "not routed yet".
    pub inbox_queues: Vec<String>,
    pub processed_tag: String,
    pub failed_tag: String,
    /// Added (alone) to tickets left alone because they were routed by hand, so that the fetch
    /// skips them from then on and they cannot crowd unrouted tickets out of `fetch.limit`.
    pub routed_tag: String,
    /// Add an internal note with the predictions to every write.
    pub note: bool,
    /// Tickets per `update_tickets` call.
    pub write_batch: usize,
    /// Truncate each ticket's text at this many tokens; `None`: the model's own setting (256 for
    /// the shipped encoder).
    pub max_tokens: Option<usize>,
    pub retry: RetryConfig,
    /// Where the write attempts and next-try times of tickets whose writes failed are kept
    /// between runs (relative to the working directory); `None` keeps them in memory only.
    pub state_file: Option<PathBuf>,
    /// Where every write (and write attempt) is logged, one JSON line per ticket
    /// ([`crate::pipeline::audit`]); `None`: not logged.
    pub audit_log: Option<PathBuf>,
    /// In the order written in the file.
    pub fields: Vec<FieldRule>,
}

impl PipelineConfig {
    /// Where this entry lives in the file, e.g. `pipelines.zendesk`.
    pub fn key_path(&self) -> String {
        format!("pipelines.{}", self.name)
    }
}

/// Which tickets a pass fetches. The processed, failed and routed tags are always excluded on top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    pub statuses: Vec<String>,
    pub queue: Option<String>,
    pub tags: Vec<String>,
    pub without_tags: Vec<String>,
    pub query: Option<String>,
    pub limit: u64,
}

/// How often and how fast a failed write is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Write attempts before the ticket is marked failed (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled per further failure, at most an hour.
    pub backoff: Duration,
}

/// How one model field is written back.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    /// The model's field (head), e.g. `queue`.
    pub field: String,
    /// The best label's probability must reach this for the label to be applied.
    pub threshold: f32,
    pub action: FieldAction,
    /// Model label to help-desk value; labels not listed map to themselves.
    pub map: BTreeMap<String, Value>,
    /// Applied below the threshold; `None` leaves the ticket's value unchanged.
    pub fallback: Option<Value>,
    /// Plain-word label descriptions: without a trained head for this field (or with
    /// `use_descriptions: true`), the field is predicted by similarity to them.
    pub descriptions: Option<Descriptions>,
    /// `languages:` of the built-in `language` field (ISO 639-1 codes, lower case, checked);
    /// empty: every language the detector knows.
    pub languages: Vec<String>,
}

/// A field's labels described in plain words (`descriptions:`), for routing without history.
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptions {
    /// Label and its description(s), in file order; at least two labels, no empty text.
    pub labels: Vec<(String, Vec<String>)>,
    /// `similarity_scale`: logits are this times the cosine similarity.
    pub scale: f32,
    /// `use_descriptions: true`: used even when the model has a trained head for the field.
    pub override_trained: bool,
}

impl Descriptions {
    /// Whether these descriptions, rather than the model, give the field's labels: the model has
    /// no head for it, or `use_descriptions: true` says to prefer them. Descriptions are used
    /// until you train a model with history.
    pub fn in_use(&self, model_has_field: bool) -> bool {
        self.override_trained || !model_has_field
    }

    /// The described labels, in file order.
    pub fn label_names(&self) -> Vec<String> {
        self.labels.iter().map(|(l, _)| l.clone()).collect()
    }
}

/// Where a field's value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldAction {
    /// The queue (Zendesk: group), by name.
    Queue,
    /// The priority, one of [`PRIORITIES`].
    Priority,
    /// A tag; unmapped labels become `format` with `{field}` and `{label}` replaced.
    Tag { format: String },
    /// A custom field by id.
    CustomField { id: String },
    /// Only reported in the note.
    None,
}

impl FieldAction {
    /// The name used under `action:`.
    pub fn name(&self) -> &'static str {
        match self {
            FieldAction::Queue => "queue",
            FieldAction::Priority => "priority",
            FieldAction::Tag { .. } => "tag",
            FieldAction::CustomField { .. } => "custom_field",
            FieldAction::None => "none",
        }
    }
}

impl FieldRule {
    /// The help-desk value for a model label: the `map:` entry, or the label itself.
    pub fn value_for(&self, label: &str) -> Value {
        match (&self.action, self.map.get(label)) {
            (_, Some(value)) => value.clone(),
            (FieldAction::Tag { format }, None) => {
                Value::String(render_tag(format, &self.field, label))
            }
            (_, None) => Value::String(label.to_string()),
        }
    }
}

/// A tag from a format: `{field}` and `{label}` replaced, lower-cased, and every character
/// Zendesk-style tags cannot hold (whitespace, quotes, punctuation other than `_-:./`) turned into
/// `_`, so a label such as `reverted_card_payment?` still gives one valid tag word.
pub fn render_tag(format: &str, field: &str, label: &str) -> String {
    format
        .replace("{field}", field)
        .replace("{label}", label)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "_-:./".contains(c) {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `.otai/state/<pipeline>.json`, with characters other than letters, digits, `-`, `_` and `.` in
/// the pipeline's name turned into `_` so the name is always one plain file name.
pub fn default_state_file(pipeline: &str) -> PathBuf {
    PathBuf::from(DEFAULT_STATE_DIR).join(format!("{}.json", file_stem(pipeline)))
}

/// `.otai/audit/<pipeline>.jsonl`, named like [`default_state_file`].
pub fn default_audit_log(pipeline: &str) -> PathBuf {
    PathBuf::from(DEFAULT_AUDIT_DIR).join(format!("{}.jsonl", file_stem(pipeline)))
}

fn file_stem(pipeline: &str) -> String {
    pipeline
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether a tag is one word that help desks accept.
pub fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && !tag
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\'')
}

impl RawPipeline {
    /// Validates one pipeline; `known_systems` are the keys under `ticket_systems:`.
    pub fn validate(
        self,
        name: &str,
        known_systems: &[&str],
        paths: &ConfigPaths,
        problems: &mut Vec<Problem>,
    ) -> Option<PipelineConfig> {
        let key = format!("pipelines.{name}");
        let before = problems.len();
        let mut problem =
            |path: String, message: String| problems.push(Problem::new(path, message));
        let problem = &mut problem;

        if name.trim().is_empty() {
            problem(key.clone(), "a pipeline needs a non-empty name".into());
        }
        if !known_systems.contains(&self.ticket_system.as_str()) {
            problem(
                format!("{key}.ticket_system"),
                format!(
                    "no ticket system named `{}` under ticket_systems:; configured: {}",
                    self.ticket_system,
                    list_or_none(known_systems)
                ),
            );
        }
        let model = match self.model.as_deref() {
            Some("") => {
                problem(
                    format!("{key}.model"),
                    format!("must not be empty; leave it out to use `{DEFAULT_MODEL_DIR}`"),
                );
                PathBuf::new()
            }
            Some(dir) => paths
                .resolve(&format!("{key}.model"), dir)
                .unwrap_or_else(|p| {
                    problem(p.key_path, p.message);
                    PathBuf::new()
                }),
            None => PathBuf::from(DEFAULT_MODEL_DIR),
        };
        let interval = match self.interval {
            None => Duration::from_secs_f64(DEFAULT_INTERVAL_SECS),
            Some(s) if s.is_finite() && s > 0.0 && s <= 7.0 * 24.0 * 3600.0 => {
                Duration::from_secs_f64(s)
            }
            Some(_) => {
                problem(
                    format!("{key}.interval"),
                    "must be a number of seconds greater than 0 and at most a week (604800)".into(),
                );
                Duration::ZERO
            }
        };

        let raw_fetch = self.fetch.unwrap_or_default();
        let fetch = FetchConfig {
            statuses: raw_fetch
                .statuses
                .unwrap_or_else(|| vec!["new".to_string()]),
            queue: raw_fetch.queue,
            tags: raw_fetch.tags,
            without_tags: raw_fetch.without_tags,
            query: raw_fetch.query,
            limit: raw_fetch.limit.unwrap_or(DEFAULT_FETCH_LIMIT),
        };
        if fetch.limit == 0 || fetch.limit > MAX_FETCH_LIMIT {
            problem(
                format!("{key}.fetch.limit"),
                format!(
                    "must be between 1 and {MAX_FETCH_LIMIT} (a pass holds its tickets in memory; \
                     `otai run --once` passes again while more are waiting)"
                ),
            );
        }
        for (list, what) in [(&fetch.tags, "tags"), (&fetch.without_tags, "without_tags")] {
            for (i, tag) in list.iter().enumerate() {
                if !valid_tag(tag) {
                    problem(
                        format!("{key}.fetch.{what}[{i}]"),
                        "a tag is one word without spaces or quotes".into(),
                    );
                }
            }
        }

        let processed_tag = self
            .processed_tag
            .unwrap_or_else(|| DEFAULT_PROCESSED_TAG.to_string());
        let failed_tag = self
            .failed_tag
            .unwrap_or_else(|| DEFAULT_FAILED_TAG.to_string());
        let routed_tag = self
            .routed_tag
            .unwrap_or_else(|| DEFAULT_ROUTED_TAG.to_string());
        for (tag, what) in [
            (&processed_tag, "processed_tag"),
            (&failed_tag, "failed_tag"),
            (&routed_tag, "routed_tag"),
        ] {
            if !valid_tag(tag) {
                problem(
                    format!("{key}.{what}"),
                    "a tag is one word without spaces or quotes".into(),
                );
            }
        }
        if processed_tag == failed_tag {
            problem(
                format!("{key}.failed_tag"),
                "must differ from processed_tag".into(),
            );
        }
        if routed_tag == processed_tag || routed_tag == failed_tag {
            problem(
                format!("{key}.routed_tag"),
                "must differ from processed_tag and failed_tag".into(),
            );
        }

        let write_batch = self.write_batch.unwrap_or(DEFAULT_WRITE_BATCH);
        if write_batch == 0 {
            problem(format!("{key}.write_batch"), "must be at least 1".into());
        }
        if let Some(n) = self.max_tokens {
            if !(MIN_MAX_TOKENS..=MAX_MAX_TOKENS).contains(&n) {
                problem(
                    format!("{key}.max_tokens"),
                    format!("must be between {MIN_MAX_TOKENS} and {MAX_MAX_TOKENS} (the encoder's position limit)"),
                );
            }
        }
        let raw_retry = self.retry.unwrap_or_default();
        let max_attempts = raw_retry.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if max_attempts == 0 {
            problem(
                format!("{key}.retry.max_attempts"),
                "must be at least 1 (the first write counts)".into(),
            );
        }
        let backoff = match raw_retry.backoff {
            None => Duration::from_secs_f64(DEFAULT_BACKOFF_SECS),
            Some(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Duration::from_secs_f64(s),
            Some(_) => {
                problem(
                    format!("{key}.retry.backoff"),
                    "must be a number of seconds from 0 to 86400".into(),
                );
                Duration::ZERO
            }
        };

        let mut optional_file =
            |raw: Option<Option<String>>, default: PathBuf, field: &str| match raw {
                None => Some(default),
                Some(None) => None,
                Some(Some(path)) if path.is_empty() => None,
                Some(Some(written)) => {
                    let field_key = format!("{key}.{field}");
                    let as_written = Path::new(&written);
                    if as_written.file_name().is_none() || written.ends_with('/') {
                        problem(
                            field_key,
                            format!(
                                "must name a file, e.g. `{}` (or null for none)",
                                default.display()
                            ),
                        );
                        return Some(as_written.to_path_buf());
                    }
                    match paths.resolve(&field_key, &written) {
                        Ok(path) => Some(path),
                        Err(p) => {
                            problem(p.key_path, p.message);
                            Some(as_written.to_path_buf())
                        }
                    }
                }
            };
        let state_file = optional_file(self.state_file, default_state_file(name), "state_file");
        let audit_log = optional_file(self.audit_log, default_audit_log(name), "audit_log");

        if self.fields.is_empty() {
            problem(
                format!("{key}.fields"),
                "name at least one model field to classify, e.g. `queue: {action: queue}`".into(),
            );
        }
        let mut fields = Vec::new();
        let mut targets: BTreeMap<String, String> = BTreeMap::new();
        for (field, raw) in self.fields {
            let field_key = format!("{key}.fields.{field}");
            // Checked on the raw action so that a field with another problem still counts.
            let target = match raw.action.as_str() {
                "queue" => Some("the queue".to_string()),
                "priority" => Some("the priority".to_string()),
                "custom_field" => raw
                    .field_id
                    .as_ref()
                    .map(|id| format!("custom field {}", id.trim())),
                _ => None,
            };
            if let Some(target) = target {
                if let Some(other) = targets.insert(target.clone(), field.clone()) {
                    problem(
                        format!("{field_key}.action"),
                        format!("field `{other}` already writes {target}; one field per target"),
                    );
                }
            }
            if let Some(rule) = raw.validate(&field, &field_key, problem) {
                fields.push(rule);
            }
        }

        (problems.len() == before).then_some(PipelineConfig {
            name: name.to_string(),
            ticket_system: self.ticket_system,
            model,
            interval,
            fetch,
            skip_routed: self.skip_routed.unwrap_or(true),
            inbox_queues: self.inbox_queues,
            processed_tag,
            failed_tag,
            routed_tag,
            note: self.note.unwrap_or(true),
            write_batch,
            max_tokens: self.max_tokens,
            retry: RetryConfig {
                max_attempts,
                backoff,
            },
            state_file,
            audit_log,
            fields,
        })
    }
}

impl RawField {
    fn validate(
        self,
        field: &str,
        key: &str,
        problem: &mut impl FnMut(String, String),
    ) -> Option<FieldRule> {
        let mut ok = true;
        let mut bad = |path: String, message: String| {
            ok = false;
            problem(path, message)
        };
        let threshold = self.threshold.unwrap_or(DEFAULT_THRESHOLD);
        if !(threshold.is_finite() && (0.0..=1.0).contains(&threshold)) {
            bad(
                format!("{key}.threshold"),
                "must be a probability from 0 to 1, e.g. 0.8".into(),
            );
        }
        let action = match self.action.as_str() {
            "queue" => FieldAction::Queue,
            "priority" => FieldAction::Priority,
            "tag" => FieldAction::Tag {
                format: self
                    .tag_format
                    .clone()
                    .unwrap_or_else(|| DEFAULT_TAG_FORMAT.to_string()),
            },
            "custom_field" => match self.field_id.as_deref().map(str::trim) {
                Some(id) if !id.is_empty() => FieldAction::CustomField { id: id.to_string() },
                _ => {
                    bad(
                        format!("{key}.field_id"),
                        "action `custom_field` needs the field's id, e.g. `field_id: \"360001234\"`"
                            .into(),
                    );
                    FieldAction::None
                }
            },
            "none" => FieldAction::None,
            other => {
                bad(
                    format!("{key}.action"),
                    format!(
                        "unknown action `{other}`; one of queue, priority, tag, custom_field, none"
                    ),
                );
                FieldAction::None
            }
        };
        if self.tag_format.is_some() && !matches!(action, FieldAction::Tag { .. }) {
            bad(format!("{key}.tag_format"), "only for `action: tag`".into());
        }
        if let FieldAction::Tag { format } = &action {
            if !format.contains("{label}") {
                bad(
                    format!("{key}.tag_format"),
                    "must contain `{label}`, e.g. `otai_{field}__{label}`".into(),
                );
            }
        }
        if self.field_id.is_some() && !matches!(action, FieldAction::CustomField { .. }) {
            bad(
                format!("{key}.field_id"),
                "only for `action: custom_field`".into(),
            );
        }
        if matches!(action, FieldAction::None) && self.fallback.is_some() {
            bad(
                format!("{key}.fallback"),
                "`action: none` writes nothing, so a fallback has no effect; remove it".into(),
            );
        }
        let descriptions = self.validate_descriptions(key, &mut bad);
        let languages = self.languages.clone().unwrap_or_default();
        if self.languages.is_some() {
            if field != crate::classifier::language::FIELD {
                bad(
                    format!("{key}.languages"),
                    format!(
                        "only for the built-in `{}` field",
                        crate::classifier::language::FIELD
                    ),
                );
            } else if languages.is_empty() {
                bad(
                    format!("{key}.languages"),
                    "name at least one language (ISO 639-1, e.g. [de, en]), or leave it out for all"
                        .into(),
                );
            } else if let Err(message) = LanguageDetector::new(&languages) {
                bad(format!("{key}.languages"), message);
            }
        }
        let languages = languages
            .iter()
            .map(|l| l.trim().to_ascii_lowercase())
            .collect();
        let values = self
            .map
            .iter()
            .map(|(label, v)| (format!("{key}.map.{label}"), v))
            .chain(self.fallback.iter().map(|v| (format!("{key}.fallback"), v)));
        for (path, value) in values {
            if let Err(message) = check_value(&action, value) {
                bad(path, message);
            }
        }
        ok.then(|| FieldRule {
            field: field.to_string(),
            threshold: threshold as f32,
            action,
            map: self.map,
            fallback: self.fallback,
            descriptions,
            languages,
        })
    }

    /// `descriptions`, `similarity_scale` and `use_descriptions`.
    fn validate_descriptions(
        &self,
        key: &str,
        bad: &mut impl FnMut(String, String),
    ) -> Option<Descriptions> {
        let Some(raw) = &self.descriptions else {
            for (given, what) in [
                (self.similarity_scale.is_some(), "similarity_scale"),
                (self.use_descriptions.is_some(), "use_descriptions"),
            ] {
                if given {
                    bad(
                        format!("{key}.{what}"),
                        "only with `descriptions:` (label descriptions for routing without history)"
                            .into(),
                    );
                }
            }
            return None;
        };
        let scale = self
            .similarity_scale
            .unwrap_or(f64::from(DEFAULT_SIMILARITY_SCALE));
        if !(scale.is_finite() && scale > 0.0 && scale <= 1000.0) {
            bad(
                format!("{key}.similarity_scale"),
                format!(
                    "must be a number greater than 0 and at most 1000, e.g. {DEFAULT_SIMILARITY_SCALE}"
                ),
            );
        }
        if raw.len() < 2 {
            bad(
                format!("{key}.descriptions"),
                format!(
                    "describe at least two labels (found {}), e.g. `{{billing: \"invoices, charges, \
                     refunds\", cards: \"lost or stolen cards, PIN\"}}`",
                    raw.len()
                ),
            );
        }
        let mut labels = Vec::new();
        for (label, description) in raw {
            let path = format!("{key}.descriptions.{label}");
            if label.trim().is_empty() {
                bad(path.clone(), "a label must not be empty".into());
            }
            let texts = match description {
                RawDescription::One(text) => vec![text.clone()],
                RawDescription::Many(texts) => texts.clone(),
            };
            if texts.is_empty() {
                bad(path.clone(), "give at least one description".into());
            }
            for (i, text) in texts.iter().enumerate() {
                if text.trim().is_empty() {
                    let at = match description {
                        RawDescription::One(_) => path.clone(),
                        RawDescription::Many(_) => format!("{path}[{i}]"),
                    };
                    bad(
                        at,
                        "a description must not be empty: say in plain words which tickets \
                         belong to this label"
                            .into(),
                    );
                }
            }
            labels.push((label.clone(), texts));
        }
        Some(Descriptions {
            labels,
            scale: scale as f32,
            override_trained: self.use_descriptions.unwrap_or(false),
        })
    }
}

/// Whether `value` can be written by `action`.
pub fn check_value(action: &FieldAction, value: &Value) -> Result<(), String> {
    match (action, value) {
        (FieldAction::Queue, Value::String(s)) if !s.trim().is_empty() => Ok(()),
        (FieldAction::Queue, _) => Err("a queue is a non-empty name".into()),
        (FieldAction::Priority, Value::String(s)) if PRIORITIES.contains(&s.as_str()) => Ok(()),
        (FieldAction::Priority, _) => {
            Err(format!("a priority is one of {}", PRIORITIES.join(", ")))
        }
        (FieldAction::Tag { .. }, Value::String(s)) if valid_tag(s) => Ok(()),
        (FieldAction::Tag { .. }, _) => Err("a tag is one word without spaces or quotes".into()),
        (FieldAction::CustomField { .. }, Value::Array(_) | Value::Object(_)) => {
            Err("a custom field value is a string, number, boolean or null".into())
        }
        (FieldAction::CustomField { .. }, _) => Ok(()),
        (FieldAction::None, _) => Ok(()),
    }
}
