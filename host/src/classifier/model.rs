//! Model folders: otai's own format (encoder + heads + manifest) and bring-your-own Hugging Face classifiers.
//!
//! # otai model folder (`format_version` 1, or 2 when a head is hybrid)
//! ```text
//! otai-model.json     manifest (below)
//! encoder.onnx        inputs input_ids / attention_mask [/ token_type_ids] int64 [batch, seq];
//!                     output [batch, dim]: the pooled, L2-normalised sentence embedding
//! tokenizer.json      Hugging Face tokenizers file (its baked-in padding/truncation is overridden)
//! heads/<field>.json  one linear softmax head per field (see `head.rs`), optional; a hybrid head also
//!                     holds its n-gram vocabulary and lexical weights (format 2)
//! training.json       training summary (data, split, metrics), optional
//! ```
//! The manifest:
//! ```json
//! { "format_version": 1, "kind": "encoder-heads",
//!   "encoder": { "onnx": "encoder.onnx", "tokenizer": "tokenizer.json", "max_tokens": 256, "dim": 384,
//!                "output": "sentence_embedding" },
//!   "heads": [ { "field": "queue", "file": "heads/queue.json", "labels": 8 } ] }
//! ```
//! A folder with no heads is a plain encoder (what training starts from).
//!
//! # Hugging Face sequence-classification folder
//! `model.onnx` (as exported by optimum from a `*ForSequenceClassification` model, output `logits`
//! [batch, labels]), `tokenizer.json`, and `config.json` with `id2label`. It classifies one field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::encoder::{EncoderSpec, DEFAULT_MAX_TOKENS};
use super::error::{ClassifierError, Result};
use super::head::LinearHead;

/// File name of the manifest inside an otai model folder.
pub const MANIFEST_FILE: &str = "otai-model.json";
/// The newest manifest format this build reads.
pub const FORMAT_VERSION: u32 = 2;
/// The format of a folder whose heads are all embedding-only: builds from before hybrid heads read it.
pub const EMBEDDING_HEADS_FORMAT_VERSION: u32 = 1;
/// The format of a folder with a hybrid head (a lexical part): a build from before would ignore that
/// part without a word and route with half a head, so it must refuse the folder instead.
pub const HYBRID_HEADS_FORMAT_VERSION: u32 = 2;
/// The only `kind` so far: an encoder producing embeddings, plus linear heads.
pub const KIND_ENCODER_HEADS: &str = "encoder-heads";

/// The manifest (`otai-model.json`) of an otai model folder. Paths are relative to the folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Bumped when a change would make older otai builds misread the folder.
    pub format_version: u32,
    /// What the folder holds; `encoder-heads`.
    pub kind: String,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The encoder.
    pub encoder: EncoderEntry,
    /// One head per classified field, in output order.
    #[serde(default)]
    pub heads: Vec<HeadEntry>,
    /// Where the files came from (free-form, kept when heads are trained on top).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub provenance: serde_json::Value,
    /// Name of the training summary file, if the heads were trained by otai.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<String>,
}

/// The encoder part of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderEntry {
    /// ONNX file.
    pub onnx: String,
    /// `tokenizer.json` file.
    pub tokenizer: String,
    /// Default truncation in tokens.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// Embedding length.
    pub dim: usize,
    /// Name of the embedding output; `None` = the first output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// sha256 of the ONNX file, informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

fn default_max_tokens() -> usize {
    DEFAULT_MAX_TOKENS
}

/// One head in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadEntry {
    /// The field it predicts.
    pub field: String,
    /// The head file, relative to the folder.
    pub file: String,
    /// Number of labels (informational; the head file is authoritative).
    #[serde(default)]
    pub labels: usize,
}

impl Manifest {
    /// Reads and checks `dir/otai-model.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        if !path.is_file() {
            return Err(ClassifierError::model(
                dir,
                format!(
                    "no {MANIFEST_FILE} here, so it is not an otai model folder{}",
                    if dir.join("config.json").is_file() {
                        " (it looks like a Hugging Face model folder: load it as one)"
                    } else {
                        "; run `make setup` to build the default models"
                    }
                ),
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ClassifierError::io(&path, e))?;
        let manifest: Self = serde_json::from_str(&text)
            .map_err(|e| ClassifierError::model(&path, format!("invalid manifest: {e}")))?;
        if manifest.format_version > FORMAT_VERSION {
            return Err(ClassifierError::model(
                &path,
                format!(
                    "format_version {} is newer than this otai understands ({FORMAT_VERSION}); upgrade otai",
                    manifest.format_version
                ),
            ));
        }
        if manifest.kind != KIND_ENCODER_HEADS {
            return Err(ClassifierError::model(
                &path,
                format!(
                    "unknown kind `{}` (expected `{KIND_ENCODER_HEADS}`)",
                    manifest.kind
                ),
            ));
        }
        Ok(manifest)
    }

    /// Writes the manifest into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| {
            ClassifierError::model(&path, format!("cannot serialise manifest: {e}"))
        })?;
        std::fs::write(&path, text + "\n").map_err(|e| ClassifierError::io(&path, e))
    }

    pub(crate) fn encoder_spec(&self, dir: &Path) -> EncoderSpec {
        EncoderSpec {
            onnx: dir.join(&self.encoder.onnx),
            tokenizer: dir.join(&self.encoder.tokenizer),
            max_tokens: self.encoder.max_tokens,
            max_positions: None,
            output: self.encoder.output.clone(),
        }
    }

    /// Loads every head listed, checking that fields are unique and dimensions match the encoder.
    pub fn load_heads(&self, dir: &Path) -> Result<Vec<LinearHead>> {
        let mut heads: Vec<LinearHead> = Vec::with_capacity(self.heads.len());
        for entry in &self.heads {
            let path = dir.join(&entry.file);
            let head = LinearHead::load(&path)?;
            if head.field != entry.field {
                return Err(ClassifierError::model(
                    &path,
                    format!(
                        "head is for field `{}`, the manifest says `{}`",
                        head.field, entry.field
                    ),
                ));
            }
            if head.dim != self.encoder.dim {
                return Err(ClassifierError::model(
                    &path,
                    format!(
                        "head expects {}-d embeddings, the encoder gives {}",
                        head.dim, self.encoder.dim
                    ),
                ));
            }
            if heads.iter().any(|h| h.field == head.field) {
                return Err(ClassifierError::model(
                    dir.join(MANIFEST_FILE),
                    format!("field `{}` has two heads", head.field),
                ));
            }
            heads.push(head);
        }
        Ok(heads)
    }
}

/// A bring-your-own Hugging Face sequence-classification model folder.
#[derive(Debug, Clone)]
pub struct HfModel {
    /// The folder.
    pub dir: PathBuf,
    /// Labels by class index, from `config.json`'s `id2label`.
    pub labels: Vec<String>,
    pub(crate) spec: EncoderSpec,
}

impl HfModel {
    /// Reads `dir/config.json` and checks that `model.onnx` and `tokenizer.json` exist.
    pub fn read(dir: &Path) -> Result<Self> {
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path)
            .map_err(|e| ClassifierError::io(&config_path, e))?;
        #[derive(Deserialize)]
        struct Config {
            id2label: Option<BTreeMap<String, String>>,
            max_position_embeddings: Option<usize>,
        }
        let config: Config = serde_json::from_str(&text).map_err(|e| {
            ClassifierError::model(&config_path, format!("invalid config.json: {e}"))
        })?;
        let id2label = config.id2label.filter(|m| !m.is_empty()).ok_or_else(|| {
            ClassifierError::model(
                &config_path,
                "no `id2label`: otai needs the label names of a sequence-classification model",
            )
        })?;
        let mut labels = vec![None; id2label.len()];
        for (id, label) in id2label {
            let index: usize = id
                .parse()
                .ok()
                .filter(|&i| i < labels.len())
                .ok_or_else(|| {
                    ClassifierError::model(
                        &config_path,
                        format!("id2label key `{id}` is not an index 0..{}", labels.len()),
                    )
                })?;
            labels[index] = Some(label);
        }
        let labels: Vec<String> = labels.into_iter().map(Option::unwrap_or_default).collect();
        for file in ["model.onnx", "tokenizer.json"] {
            if !dir.join(file).is_file() {
                return Err(ClassifierError::model(
                    dir,
                    format!(
                        "missing {file}; a Hugging Face model folder needs model.onnx (e.g. exported with \
                         `optimum-cli export onnx --task text-classification`), tokenizer.json and config.json"
                    ),
                ));
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            labels,
            spec: EncoderSpec {
                onnx: dir.join("model.onnx"),
                tokenizer: dir.join("tokenizer.json"),
                max_tokens: DEFAULT_MAX_TOKENS,
                max_positions: config.max_position_embeddings,
                output: Some("logits".into()),
            },
        })
    }
}

/// What a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    /// An otai model folder (`otai-model.json`).
    Otai,
    /// A Hugging Face sequence-classification folder (`config.json` + `model.onnx`).
    HuggingFace,
}

/// Tells the two folder kinds apart, or says what is missing.
pub fn detect(dir: &Path) -> Result<FolderKind> {
    if dir.join(MANIFEST_FILE).is_file() {
        Ok(FolderKind::Otai)
    } else if dir.join("config.json").is_file() && dir.join("model.onnx").is_file() {
        Ok(FolderKind::HuggingFace)
    } else if !dir.is_dir() {
        Err(ClassifierError::model(
            dir,
            "no such folder; run `make setup` to build the default models, or point to a model folder",
        ))
    } else {
        Err(ClassifierError::model(
            dir,
            format!(
                "not a model folder: expected {MANIFEST_FILE} (otai) or config.json + model.onnx + \
                 tokenizer.json (Hugging Face sequence classification)"
            ),
        ))
    }
}

/// Writes a new model folder at `out`: the encoder files of `encoder_dir`, `heads`, and (if given) a
/// training summary. Built in a temporary sibling folder and renamed into place, so a failure never leaves
/// a half-written model; an existing `out` is replaced only when `overwrite` is set.
pub fn write_model_folder(
    encoder_dir: &Path,
    heads: &[LinearHead],
    training_summary: Option<&serde_json::Value>,
    out: &Path,
    overwrite: bool,
) -> Result<()> {
    let source = Manifest::read(encoder_dir)?;
    if out.exists() && !overwrite {
        return Err(ClassifierError::model(
            out,
            "already exists; choose another output folder or remove it first",
        ));
    }
    for head in heads {
        if head.dim != source.encoder.dim {
            return Err(ClassifierError::InvalidInput(format!(
                "head `{}` is {}-d, the encoder in {} gives {}",
                head.field,
                head.dim,
                encoder_dir.display(),
                source.encoder.dim
            )));
        }
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| ClassifierError::io(parent, e))?;
    let name = out
        .file_name()
        .ok_or_else(|| ClassifierError::model(out, "output path has no folder name"))?
        .to_string_lossy()
        .into_owned();
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| ClassifierError::io(&staging, e))?;
    }
    let result = (|| {
        std::fs::create_dir_all(staging.join("heads"))
            .map_err(|e| ClassifierError::io(&staging, e))?;
        let mut files = vec![
            source.encoder.onnx.clone(),
            source.encoder.tokenizer.clone(),
        ];
        // Licence and model card travel with the weights.
        for extra in ["config.json", "MODEL_CARD.md", "LICENSE"] {
            if encoder_dir.join(extra).is_file() {
                files.push(extra.to_string());
            }
        }
        for file in files {
            let from = encoder_dir.join(&file);
            let to = staging.join(&file);
            std::fs::copy(&from, &to).map_err(|e| ClassifierError::io(&from, e))?;
        }
        let mut manifest = source.clone();
        manifest.heads.clear();
        manifest.format_version = if heads.iter().any(LinearHead::is_hybrid) {
            HYBRID_HEADS_FORMAT_VERSION
        } else {
            EMBEDDING_HEADS_FORMAT_VERSION
        };
        let fields: Vec<&str> = heads.iter().map(|h| h.field.as_str()).collect();
        manifest.description = format!("{} + heads: {}", source.description, fields.join(", "))
            .trim_start_matches(" + ")
            .to_string();
        for head in heads {
            let file = format!("heads/{}.json", sanitize(&head.field));
            head.save(&staging.join(&file))?;
            manifest.heads.push(HeadEntry {
                field: head.field.clone(),
                file,
                labels: head.num_labels(),
            });
        }
        if let Some(summary) = training_summary {
            let path = staging.join("training.json");
            let text = serde_json::to_string_pretty(summary)
                .map_err(|e| ClassifierError::model(&path, e.to_string()))?;
            std::fs::write(&path, text + "\n").map_err(|e| ClassifierError::io(&path, e))?;
            manifest.training = Some("training.json".into());
        }
        manifest.write(&staging)?;
        if out.exists() {
            // Move the old folder aside first so that `out` is never missing or half-written for long.
            let old = parent.join(format!(".{name}.old-{}", std::process::id()));
            std::fs::rename(out, &old).map_err(|e| ClassifierError::io(out, e))?;
            std::fs::rename(&staging, out).map_err(|e| ClassifierError::io(out, e))?;
            std::fs::remove_dir_all(&old).map_err(|e| ClassifierError::io(&old, e))?;
        } else {
            std::fs::rename(&staging, out).map_err(|e| ClassifierError::io(out, e))?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Field names become file names: keep them portable.
fn sanitize(field: &str) -> String {
    field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_encoder_dir(dir: &Path) {
        std::fs::write(dir.join("encoder.onnx"), b"onnx").unwrap();
        std::fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
        let manifest = Manifest {
            format_version: 1,
            kind: KIND_ENCODER_HEADS.into(),
            description: String::new(),
            encoder: EncoderEntry {
                onnx: "encoder.onnx".into(),
                tokenizer: "tokenizer.json".into(),
                max_tokens: 256,
                dim: 2,
                output: Some("sentence_embedding".into()),
                sha256: None,
            },
            heads: vec![],
            provenance: serde_json::Value::Null,
            training: None,
        };
        manifest.write(dir).unwrap();
    }

    #[test]
    fn writes_a_folder_that_reads_back_and_refuses_to_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let enc = tmp.path().join("enc");
        std::fs::create_dir(&enc).unwrap();
        fake_encoder_dir(&enc);
        let head = LinearHead::zeros("queue/main", vec!["a".into(), "b".into()], 2);
        let out = tmp.path().join("out");

        write_model_folder(&enc, std::slice::from_ref(&head), None, &out, false).unwrap();
        let manifest = Manifest::read(&out).unwrap();
        let heads = manifest.load_heads(&out).unwrap();
        let again = write_model_folder(&enc, std::slice::from_ref(&head), None, &out, false);

        assert_eq!(heads, vec![head]);
        assert_eq!(manifest.format_version, EMBEDDING_HEADS_FORMAT_VERSION);
        assert_eq!(manifest.heads[0].file, "heads/queue_main.json");
        assert!(again.unwrap_err().to_string().contains("already exists"));
        assert!(out.join("encoder.onnx").is_file());
    }

    #[test]
    fn a_folder_with_a_hybrid_head_is_written_as_the_format_older_builds_refuse() {
        let tmp = tempfile::tempdir().unwrap();
        let enc = tmp.path().join("enc");
        std::fs::create_dir(&enc).unwrap();
        fake_encoder_dir(&enc);
        let vocabulary = super::super::lexical::Vocabulary::build(["card lost", "card lost"], 10);
        let mut head = LinearHead::zeros("queue", vec!["a".into(), "b".into()], 2);
        head.lexical = Some(super::super::head::LexicalPart {
            weights: vec![0.5; vocabulary.len() * 2],
            bias: vec![0.0; 2],
            vocabulary,
            share: 0.5,
        });
        let out = tmp.path().join("out");

        write_model_folder(&enc, std::slice::from_ref(&head), None, &out, false).unwrap();
        let manifest = Manifest::read(&out).unwrap();

        assert_eq!(manifest.format_version, HYBRID_HEADS_FORMAT_VERSION);
        assert_eq!(manifest.load_heads(&out).unwrap(), vec![head]);
    }

    #[test]
    fn a_newer_format_is_rejected_with_advice() {
        let tmp = tempfile::tempdir().unwrap();
        fake_encoder_dir(tmp.path());
        let path = tmp.path().join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"format_version\": 1", "\"format_version\": 9");
        std::fs::write(&path, text).unwrap();

        let err = Manifest::read(tmp.path()).unwrap_err().to_string();

        assert!(err.contains("upgrade otai"), "{err}");
    }

    #[test]
    fn detect_explains_what_a_model_folder_needs() {
        let tmp = tempfile::tempdir().unwrap();

        let err = detect(tmp.path()).unwrap_err().to_string();

        assert!(
            err.contains("config.json") && err.contains(MANIFEST_FILE),
            "{err}"
        );
    }

    #[test]
    fn hf_config_without_id2label_is_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("config.json"), r#"{"model_type": "bert"}"#).unwrap();

        let err = HfModel::read(tmp.path()).unwrap_err().to_string();

        assert!(err.contains("id2label"), "{err}");
    }
}
