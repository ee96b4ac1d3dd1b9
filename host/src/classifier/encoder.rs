//! A text model (tokenizer + ONNX session) on its own OS thread, behind a sync and an async API.
//!
//! The session never runs on the async runtime: one dedicated thread owns it and answers jobs sent over a
//! channel (text-embeddings-inference style), so a slow batch cannot stall the runtime's workers, and
//! ONNX Runtime's intra-op threads are the only compute threads.
//!
//! The model's output must be one row per text: `[batch, n]`. For otai's encoders that is the pooled,
//! L2-normalised sentence embedding; for a bring-your-own Hugging Face classifier it is the logits.
//!
//! Tokenising overrides what a `tokenizer.json` may have baked in (the MiniLM one pads every input to 128
//! and truncates at 128): texts are truncated at `max_tokens` and each batch is padded only to its longest
//! member. Texts are sorted by token count before batching so similar lengths share a batch; results come
//! back in input order.

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::{Session, SessionInputValue};
use ort::value::TensorRef;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use super::error::{ClassifierError, Result};
use super::runtime;

/// Default truncation length in tokens: covers ~98 % of English tickets (subject + body average ~94 tokens).
pub const DEFAULT_MAX_TOKENS: usize = 256;

/// How to run a text model. `Default` suits a 2-core machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderOptions {
    /// Truncate each text to this many tokens, special tokens included. `None` = the model folder's value
    /// (256 for otai's encoder), capped at what the model supports.
    pub max_tokens: Option<usize>,
    /// ONNX Runtime intra-op threads (the compute threads). Default 2.
    pub intra_threads: usize,
    /// Texts per ONNX run. Default 1: with a dynamically quantised (int8) encoder, one activation scale is
    /// computed over the whole batch, so a text's embedding would shift slightly (cosine ~0.99) with its
    /// batch companions; batch 1 makes every ticket's result independent of what it arrived with, and on
    /// CPU batching gains only for very short texts (see `make bench`, `host/benches/classifier.rs`).
    pub batch_size: usize,
    /// Path of `libonnxruntime.so`; `None` = `ORT_DYLIB_PATH` or the search described in [`runtime`].
    pub ort_library: Option<PathBuf>,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        Self {
            max_tokens: None,
            intra_threads: 2,
            batch_size: 1,
            ort_library: None,
        }
    }
}

/// What to load: the ONNX file, its tokenizer, and which output holds the per-text rows.
#[derive(Debug, Clone)]
pub(crate) struct EncoderSpec {
    pub onnx: PathBuf,
    pub tokenizer: PathBuf,
    /// Default truncation when [`EncoderOptions::max_tokens`] is `None`.
    pub max_tokens: usize,
    /// Hard cap (the model's position embeddings), if known.
    pub max_positions: Option<usize>,
    /// Output name; `None` = the model's only (or first) output.
    pub output: Option<String>,
}

enum Reply {
    Sync(mpsc::Sender<Result<Vec<Vec<f32>>>>),
    Async(tokio::sync::oneshot::Sender<Result<Vec<Vec<f32>>>>),
}

struct Job {
    texts: Vec<String>,
    reply: Reply,
}

struct Shared {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    dim: usize,
    max_tokens: usize,
    onnx: PathBuf,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop after the job in hand; joining releases the session
        // before the caller goes on (e.g. deletes the model folder).
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A tokenizer + ONNX model running on a dedicated thread. Cheap to clone; every clone talks to the same
/// thread, and the thread ends when the last clone is dropped.
#[derive(Clone)]
pub struct Encoder {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("onnx", &self.shared.onnx)
            .field("dim", &self.shared.dim)
            .field("max_tokens", &self.shared.max_tokens)
            .finish()
    }
}

impl Encoder {
    /// Loads an otai encoder folder (one with `otai-model.json`), e.g. `models/minilm-l6-int8`.
    pub fn load(model_dir: &Path, options: &EncoderOptions) -> Result<Self> {
        let manifest = super::model::Manifest::read(model_dir)?;
        Self::spawn(&manifest.encoder_spec(model_dir), options)
    }

    pub(crate) fn spawn(spec: &EncoderSpec, options: &EncoderOptions) -> Result<Self> {
        let mut core = Core::load(spec, options)?;
        let dim = core.probe_dim()?;
        core.dim = Some(dim);
        let max_tokens = core.max_tokens;
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("otai-encoder".into())
            .spawn(move || worker(core, rx))
            .map_err(|e| {
                ClassifierError::Inference(format!("cannot start the encoder thread: {e}"))
            })?;
        Ok(Self {
            shared: Arc::new(Shared {
                jobs: Some(tx),
                thread: Some(thread),
                dim,
                max_tokens,
                onnx: spec.onnx.clone(),
            }),
        })
    }

    /// Length of each output row (384 for MiniLM-L6; the number of labels for a Hugging Face classifier).
    pub fn dim(&self) -> usize {
        self.shared.dim
    }

    /// The truncation length in effect.
    pub fn max_tokens(&self) -> usize {
        self.shared.max_tokens
    }

    /// Embeds `texts` without blocking the async runtime: the work runs on the encoder thread.
    /// Returns one row per text, in input order.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Job {
            texts,
            reply: Reply::Async(tx),
        })?;
        rx.await.map_err(|_| ClassifierError::WorkerStopped)?
    }

    /// Embeds `texts`, blocking the calling thread (for training, benchmarks and tools). Do not call it from
    /// async code; use [`Encoder::embed`] there.
    pub fn embed_blocking(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (tx, rx) = mpsc::channel();
        self.send(Job {
            texts,
            reply: Reply::Sync(tx),
        })?;
        rx.recv().map_err(|_| ClassifierError::WorkerStopped)?
    }

    fn send(&self, job: Job) -> Result<()> {
        self.shared
            .jobs
            .as_ref()
            .ok_or(ClassifierError::WorkerStopped)?
            .send(job)
            .map_err(|_| ClassifierError::WorkerStopped)
    }
}

fn worker(mut core: Core, jobs: mpsc::Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        // A panic inside tokenizers or ort must fail this job, not silently kill the thread.
        let result =
            catch_unwind(AssertUnwindSafe(|| core.run(&job.texts))).unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(ClassifierError::Inference(format!(
                    "the model panicked: {what}"
                )))
            });
        match job.reply {
            Reply::Sync(tx) => {
                let _ = tx.send(result);
            }
            Reply::Async(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

/// The part that lives on the worker thread.
pub(crate) struct Core {
    tokenizer: Tokenizer,
    session: Session,
    output: String,
    token_type_ids: bool,
    pad_id: i64,
    max_tokens: usize,
    batch_size: usize,
    dim: Option<usize>,
    /// The model file, for errors about what it produces.
    onnx: PathBuf,
}

impl Core {
    pub(crate) fn load(spec: &EncoderSpec, options: &EncoderOptions) -> Result<Self> {
        let rt = runtime::init(options.ort_library.as_deref())?;
        for file in [&spec.onnx, &spec.tokenizer] {
            if !file.is_file() {
                return Err(ClassifierError::model(
                    file,
                    "file not found (run `make setup` to build the default models)",
                ));
            }
        }
        let mut tokenizer = Tokenizer::from_file(&spec.tokenizer).map_err(|e| {
            ClassifierError::model(&spec.tokenizer, format!("cannot read tokenizer: {e}"))
        })?;
        let mut max_tokens = options.max_tokens.unwrap_or(spec.max_tokens);
        if let Some(cap) = spec.max_positions {
            max_tokens = max_tokens.min(cap);
        }
        if max_tokens < 2 {
            return Err(ClassifierError::InvalidInput(format!(
                "max_tokens must be at least 2 (room for the special tokens), got {max_tokens}"
            )));
        }
        // The pad id the tokenizer was shipped with, else the usual pad tokens; the attention mask hides
        // padding anyway, but models with learned pad embeddings expect their own id.
        let pad_id = tokenizer
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| tokenizer.token_to_id("[PAD]"))
            .or_else(|| tokenizer.token_to_id("<pad>"))
            .unwrap_or(0) as i64;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| {
                ClassifierError::model(&spec.tokenizer, format!("cannot set truncation: {e}"))
            })?;

        let configure = || -> std::result::Result<SessionBuilder, String> {
            Session::builder(&rt.environment)
                .map_err(|e| e.to_string())?
                .with_intra_threads(options.intra_threads.max(1))
                .map_err(|e| e.to_string())?
                .with_inter_threads(1)
                .map_err(|e| e.to_string())?
                .with_optimization_level(GraphOptimizationLevel::All)
                .map_err(|e| e.to_string())
        };
        let session = configure()
            .map_err(|e| {
                ClassifierError::Runtime(format!("cannot configure an ONNX session: {e}"))
            })?
            .commit_from_file(&spec.onnx)
            .map_err(|e| {
                ClassifierError::model(&spec.onnx, format!("ONNX Runtime cannot load it: {e}"))
            })?;

        let mut token_type_ids = false;
        for input in session.inputs() {
            match input.name() {
                "input_ids" | "attention_mask" => {}
                "token_type_ids" => token_type_ids = true,
                other => {
                    return Err(ClassifierError::model(
                        &spec.onnx,
                        format!(
                            "unsupported model input `{other}`; otai feeds input_ids, attention_mask and \
                             token_type_ids (int64 [batch, sequence])"
                        ),
                    ))
                }
            }
        }
        for needed in ["input_ids", "attention_mask"] {
            if !session.inputs().iter().any(|i| i.name() == needed) {
                return Err(ClassifierError::model(
                    &spec.onnx,
                    format!("the model has no `{needed}` input"),
                ));
            }
        }
        let output = match &spec.output {
            Some(name) if session.outputs().iter().any(|o| o.name() == name) => name.clone(),
            Some(name) => {
                return Err(ClassifierError::model(
                    &spec.onnx,
                    format!(
                        "the model has no output `{name}` (it has: {})",
                        session
                            .outputs()
                            .iter()
                            .map(|o| o.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
            None => session
                .outputs()
                .first()
                .map(|o| o.name().to_string())
                .ok_or_else(|| ClassifierError::model(&spec.onnx, "the model has no outputs"))?,
        };
        Ok(Self {
            tokenizer,
            session,
            output,
            token_type_ids,
            pad_id,
            max_tokens,
            batch_size: options.batch_size.max(1),
            dim: None,
            onnx: spec.onnx.clone(),
        })
    }

    /// Runs one short text to learn the row length (the output's static shape may be symbolic).
    fn probe_dim(&mut self) -> Result<usize> {
        let rows = self.run(&["dimension probe".to_string()])?;
        Ok(rows[0].len())
    }

    /// Tokenises with the truncation in effect and no padding.
    pub(crate) fn tokenize(&self, texts: &[String]) -> Result<Vec<Encoding>> {
        texts
            .iter()
            .map(|t| {
                self.tokenizer
                    .encode_fast(t.as_str(), true)
                    .map_err(|e| ClassifierError::Inference(format!("tokenizer failed: {e}")))
            })
            .collect()
    }

    pub(crate) fn run(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let encodings = self.tokenize(texts)?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        // Stable sort: equal lengths keep input order, so results are deterministic.
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
            let rows = self.run_encoded(&batch)?;
            for (&i, row) in chunk.iter().zip(rows) {
                out[i] = row;
            }
        }
        Ok(out)
    }

    /// One ONNX run over a batch, padded to its longest member.
    pub(crate) fn run_encoded(&mut self, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>> {
        let rows = batch.len();
        let seq = batch
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut ids = vec![self.pad_id; rows * seq];
        let mut mask = vec![0i64; rows * seq];
        let mut types = vec![0i64; rows * seq];
        for (r, enc) in batch.iter().enumerate() {
            let base = r * seq;
            for (j, ((&id, &m), &t)) in enc
                .get_ids()
                .iter()
                .zip(enc.get_attention_mask())
                .zip(enc.get_type_ids())
                .enumerate()
            {
                ids[base + j] = id as i64;
                mask[base + j] = m as i64;
                types[base + j] = t as i64;
            }
        }
        let shape = [rows, seq];
        fn tensor(shape: [usize; 2], data: &[i64]) -> Result<TensorRef<'_, i64>> {
            TensorRef::from_array_view((shape, data)).map_err(|e| {
                ClassifierError::Inference(format!("cannot build an input tensor: {e}"))
            })
        }
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = vec![
            ("input_ids".into(), tensor(shape, &ids)?.into()),
            ("attention_mask".into(), tensor(shape, &mask)?.into()),
        ];
        if self.token_type_ids {
            inputs.push(("token_type_ids".into(), tensor(shape, &types)?.into()));
        }
        let outputs = self
            .session
            .run(inputs)
            .map_err(|e| ClassifierError::Inference(format!("ONNX Runtime run failed: {e}")))?;
        let (out_shape, data) = outputs[self.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(|e| {
                ClassifierError::Inference(format!(
                    "output `{}` is not a float tensor: {e}",
                    self.output
                ))
            })?;
        if out_shape.len() != 2 || out_shape[0] != rows as i64 {
            return Err(ClassifierError::Inference(format!(
                "output `{}` has shape {:?}; otai needs one row per text ([{rows}, n]): a pooled sentence \
                 embedding or classification logits",
                self.output, &**out_shape
            )));
        }
        let width = usize::try_from(out_shape[1])
            .ok()
            .filter(|&w| w > 0)
            .ok_or_else(|| {
                ClassifierError::model(
                    &self.onnx,
                    format!(
                        "output `{}` has width {}; otai needs at least one value per text",
                        self.output, out_shape[1]
                    ),
                )
            })?;
        if let Some(dim) = self.dim {
            if dim != width {
                return Err(ClassifierError::Inference(format!(
                    "output width changed from {dim} to {width}"
                )));
            }
        }
        Ok(data.chunks(width).map(<[f32]>::to_vec).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::testing::model_dir;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()
            / (a.iter().map(|x| x * x).sum::<f32>().sqrt()
                * b.iter().map(|x| x * x).sum::<f32>().sqrt())
    }

    fn texts() -> Vec<String> {
        [
            "I lost my card",
            "How long does a transfer to another bank take? I sent money on Monday and it is still pending.",
            "",
            "😡🔥 Meine Karte wurde gesperrt, warum?",
            "top up",
        ]
        .map(String::from)
        .to_vec()
    }

    /// Protobuf wire format, just enough to write a tiny ONNX model by hand.
    mod pb {
        pub fn varint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        pub fn int(out: &mut Vec<u8>, field: u64, v: u64) {
            varint(out, field << 3);
            varint(out, v);
        }
        pub fn bytes(out: &mut Vec<u8>, field: u64, v: &[u8]) {
            varint(out, (field << 3) | 2);
            varint(out, v.len() as u64);
            out.extend_from_slice(v);
        }
        pub fn msg(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
            let mut out = Vec::new();
            f(&mut out);
            out
        }
    }

    /// An ONNX model taking `input_ids` and `attention_mask` (`[batch, seq]`, int64) whose only
    /// output `out` is `attention_mask` as float, sliced to `[batch, 0]`: zero values per text.
    fn zero_width_onnx() -> Vec<u8> {
        use pb::*;
        const INT64: u64 = 7;
        const FLOAT: u64 = 1;
        let value_info = |name: &str, elem: u64, dims: &[&str]| {
            msg(|m| {
                bytes(m, 1, name.as_bytes());
                let shape = msg(|s| {
                    for d in dims {
                        bytes(s, 1, &msg(|dim| bytes(dim, 2, d.as_bytes())));
                    }
                });
                let tensor = msg(|t| {
                    int(t, 1, elem);
                    bytes(t, 2, &shape);
                });
                bytes(m, 2, &msg(|ty| bytes(ty, 1, &tensor)));
            })
        };
        let int64_tensor = |name: &str, v: u64| {
            msg(|t| {
                int(t, 1, 1); // dims: [1]
                int(t, 2, INT64);
                int(t, 7, v); // int64_data
                bytes(t, 8, name.as_bytes());
            })
        };
        let node = |inputs: &[&str], output: &str, op: &str, attr: Option<Vec<u8>>| {
            msg(|n| {
                for i in inputs {
                    bytes(n, 1, i.as_bytes());
                }
                bytes(n, 2, output.as_bytes());
                bytes(n, 4, op.as_bytes());
                if let Some(a) = &attr {
                    bytes(n, 5, a);
                }
            })
        };
        let to_float = msg(|a| {
            bytes(a, 1, b"to");
            int(a, 3, FLOAT);
            int(a, 20, 2); // AttributeType INT
        });
        let graph = msg(|g| {
            bytes(
                g,
                1,
                &node(&["attention_mask"], "mask_f", "Cast", Some(to_float)),
            );
            bytes(
                g,
                1,
                &node(&["mask_f", "starts", "ends", "axes"], "out", "Slice", None),
            );
            bytes(g, 2, b"zero_width");
            bytes(g, 5, &int64_tensor("starts", 0));
            bytes(g, 5, &int64_tensor("ends", 0));
            bytes(g, 5, &int64_tensor("axes", 1));
            bytes(g, 11, &value_info("input_ids", INT64, &["batch", "seq"]));
            bytes(
                g,
                11,
                &value_info("attention_mask", INT64, &["batch", "seq"]),
            );
            bytes(g, 12, &value_info("out", FLOAT, &["batch", "width"]));
        });
        msg(|m| {
            int(m, 1, 8); // ir_version
            bytes(m, 7, &graph);
            bytes(m, 8, &msg(|o| int(o, 2, 13))); // opset 13 of the default domain
        })
    }

    #[test]
    fn a_model_with_zero_output_width_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let onnx = dir.path().join("encoder.onnx");
        std::fs::write(&onnx, zero_width_onnx()).unwrap();
        let spec = EncoderSpec {
            onnx: onnx.clone(),
            tokenizer: model_dir("minilm-l6-int8").join("tokenizer.json"),
            max_tokens: 16,
            max_positions: None,
            output: None,
        };

        // Used to panic in `chunks(0)` on the caller's thread (the load probes the width).
        let err = Encoder::spawn(&spec, &EncoderOptions::default())
            .expect_err("a zero-width model must not load")
            .to_string();

        assert!(err.contains(&onnx.display().to_string()), "{err}");
        assert!(err.contains("has width 0"), "{err}");
    }

    #[test]
    fn embeddings_have_the_model_dimension_and_unit_length() {
        let enc = Encoder::load(&model_dir("minilm-l6-int8"), &EncoderOptions::default()).unwrap();

        let rows = enc.embed_blocking(texts()).unwrap();

        assert_eq!(enc.dim(), 384);
        assert_eq!(rows.len(), 5);
        for row in &rows {
            assert_eq!(row.len(), 384);
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        }
    }

    #[test]
    fn with_batch_size_one_a_text_embeds_the_same_alone_or_among_others() {
        let enc = Encoder::load(&model_dir("minilm-l6-int8"), &EncoderOptions::default()).unwrap();

        let together = enc.embed_blocking(texts()).unwrap();
        let alone: Vec<Vec<f32>> = texts()
            .into_iter()
            .map(|t| enc.embed_blocking(vec![t]).unwrap().remove(0))
            .collect();

        assert_eq!(together, alone);
    }

    #[test]
    fn padding_changes_nothing_in_fp32_and_batches_come_back_in_input_order() {
        // fp32 has no batch-wide quantisation scale, so this isolates otai's own padding and reordering.
        let batched = EncoderOptions {
            batch_size: 8,
            ..Default::default()
        };
        let enc = Encoder::load(&model_dir("minilm-l6-fp32"), &batched).unwrap();

        let together = enc.embed_blocking(texts()).unwrap();
        let alone: Vec<Vec<f32>> = texts()
            .into_iter()
            .map(|t| enc.embed_blocking(vec![t]).unwrap().remove(0))
            .collect();

        for (a, b) in together.iter().zip(&alone) {
            let diff = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(diff < 1e-5, "max |diff| {diff}");
        }
    }

    #[test]
    fn int8_batching_shifts_embeddings_only_slightly() {
        let batched = EncoderOptions {
            batch_size: 8,
            ..Default::default()
        };
        let enc = Encoder::load(&model_dir("minilm-l6-int8"), &batched).unwrap();

        let together = enc.embed_blocking(texts()).unwrap();
        let alone: Vec<Vec<f32>> = texts()
            .into_iter()
            .map(|t| enc.embed_blocking(vec![t]).unwrap().remove(0))
            .collect();

        for (a, b) in together.iter().zip(&alone) {
            assert!(cosine(a, b) > 0.95, "cosine {}", cosine(a, b));
        }
    }

    #[test]
    fn truncation_is_respected_and_overrides_the_tokenizer_file() {
        let dir = model_dir("minilm-l6-int8");
        let manifest = crate::classifier::model::Manifest::read(&dir).unwrap();
        let spec = manifest.encoder_spec(&dir);
        let long = "word ".repeat(1000);
        let default = Core::load(&spec, &EncoderOptions::default()).unwrap();
        let short = Core::load(
            &spec,
            &EncoderOptions {
                max_tokens: Some(16),
                ..Default::default()
            },
        )
        .unwrap();

        let n_default = default.tokenize(std::slice::from_ref(&long)).unwrap()[0]
            .get_ids()
            .len();
        let n_short = short.tokenize(&[long]).unwrap()[0].get_ids().len();
        let n_tiny = default.tokenize(&["hi".into()]).unwrap()[0].get_ids().len();

        // 256, not the 128 baked into tokenizer.json; and no padding to a fixed 128 either.
        assert_eq!(n_default, 256);
        assert_eq!(n_short, 16);
        assert_eq!(n_tiny, 3);
    }

    #[test]
    fn texts_that_differ_only_after_the_limit_embed_identically() {
        let options = EncoderOptions {
            max_tokens: Some(16),
            ..Default::default()
        };
        let enc = Encoder::load(&model_dir("minilm-l6-int8"), &options).unwrap();
        let head =
            "my card was stolen yesterday evening at the train station and i need a new one ";

        let rows = enc
            .embed_blocking(vec![
                format!("{head} please hurry"),
                format!("{head} no rush at all, thanks"),
            ])
            .unwrap();

        assert_eq!(enc.max_tokens(), 16);
        assert_eq!(rows[0], rows[1]);
    }

    #[test]
    fn empty_huge_and_emoji_texts_embed_to_finite_unit_vectors() {
        let enc = Encoder::load(&model_dir("minilm-l6-int8"), &EncoderOptions::default()).unwrap();
        let huge = "Ünïcödé text with emoji 🎉 and symbols ✓ ".repeat(5000);

        let rows = enc
            .embed_blocking(vec![String::new(), huge, "🙂".into(), "\u{0}\t\n".into()])
            .unwrap();

        for row in rows {
            assert!(row.iter().all(|v| v.is_finite()));
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_async_api_agrees_with_the_sync_api_and_serves_concurrent_callers() {
        let enc = Encoder::load(&model_dir("minilm-l6-int8"), &EncoderOptions::default()).unwrap();

        let (a, b) = tokio::join!(enc.embed(texts()), enc.embed(vec!["top up".into()]));
        let sync = enc.embed_blocking(texts()).unwrap();

        assert_eq!(a.unwrap(), sync);
        assert_eq!(b.unwrap()[0], sync[4]);
        assert!(enc.embed(Vec::new()).await.unwrap().is_empty());
    }

    #[test]
    fn a_missing_model_file_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();

        let err = Encoder::load(tmp.path(), &EncoderOptions::default())
            .unwrap_err()
            .to_string();

        assert!(
            err.contains("otai-model.json") && err.contains("make setup"),
            "{err}"
        );
    }
}
