//! Classifier throughput, printed side by side in one run (figures only, nothing asserted: the machine may
//! be shared, so compare only numbers from the same run).
//!
//! For short tickets (BANKING77 test queries, ~10-20 tokens), typical ones (6 queries joined, ~100 tokens)
//! and long ones (14 queries joined, ~200-250 tokens), at batch size 1 and 32:
//! - `classifier`: the full otai path (`Classifier::classify_texts_blocking`: tokenise, hop to the encoder
//!   thread, sort by length, ONNX, heads, top-k), on the demo model `models/banking77`;
//! - `bare ort`: only `session.run` on the same int8 encoder over pre-tokenised, pre-padded input, in
//!   length-sorted batches: the floor the classifier is measured against.
//!
//! Run: `cargo bench -p otai --bench classifier` (or `make bench`). Needs `models/setup.sh` first.
//! Tickets: BANKING77, PolyAI, CC-BY-4.0.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;
use otai::classifier::{runtime, Classifier, ClassifierOptions, EncoderOptions};
use tokenizers::{Tokenizer, TruncationParams};

const SHORT: usize = 400;
const TYPICAL: usize = 150;
const LONG: usize = 60;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load_texts() -> Vec<String> {
    let path = repo().join("data/banking77/test.csv");
    let ds = otai::classifier::data::Dataset::load(&path, None).unwrap_or_else(|e| panic!("{e}"));
    ds.texts
}

/// `n` tickets of `per_ticket` BANKING77 queries each under one subject line: 6 queries make a
/// typical ~100-token ticket (English tickets average 94 tokens, models.md), 14 a long one.
fn joined_tickets(texts: &[String], n: usize, per_ticket: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let body: Vec<&str> = (0..per_ticket)
                .map(|k| texts[(i * per_ticket + k) % texts.len()].as_str())
                .collect();
            format!("Several problems with my account\n{}", body.join(" "))
        })
        .collect()
}

/// A `/proc/self/status` memory line (`VmHWM` = peak, `VmRSS` = now) in MB.
fn status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(key)).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Tickets per second of `f` over `n` tickets: the best of 3 timed calls after one untimed warm-up (the
/// best, because on a shared machine the slow runs measure the neighbours).
fn rate(n: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..3)
        .map(|_| {
            let started = Instant::now();
            f();
            n as f64 / started.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

struct Bare {
    session: Session,
    tokenizer: Tokenizer,
}

/// One batch of token ids ready for `session.run`: `rows` x `seq`, row-major, zero-padded.
struct PaddedBatch {
    rows: usize,
    seq: usize,
    ids: Vec<i64>,
    mask: Vec<i64>,
    types: Vec<i64>,
}

impl Bare {
    fn new(encoder_dir: &Path) -> Self {
        let rt = runtime::init(None).unwrap_or_else(|e| panic!("{e}"));
        let mut builder = Session::builder(rt.environment())
            .unwrap()
            .with_intra_threads(2)
            .map_err(|e| e.to_string())
            .unwrap()
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| e.to_string())
            .unwrap();
        let session = builder
            .commit_from_file(encoder_dir.join("encoder.onnx"))
            .unwrap();
        let mut tokenizer = Tokenizer::from_file(encoder_dir.join("tokenizer.json")).unwrap();
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: 256,
                ..Default::default()
            }))
            .unwrap();
        Self { session, tokenizer }
    }

    /// Pre-tokenised, length-sorted, padded batches.
    fn prepare(&self, texts: &[String], batch: usize) -> Vec<PaddedBatch> {
        let mut enc: Vec<_> = texts
            .iter()
            .map(|t| self.tokenizer.encode_fast(t.as_str(), true).unwrap())
            .collect();
        enc.sort_by_key(|e| e.get_ids().len());
        enc.chunks(batch)
            .map(|chunk| {
                let seq = chunk.iter().map(|e| e.get_ids().len()).max().unwrap();
                let mut ids = vec![0i64; chunk.len() * seq];
                let mut mask = vec![0i64; chunk.len() * seq];
                for (r, e) in chunk.iter().enumerate() {
                    for (j, (&id, &m)) in e.get_ids().iter().zip(e.get_attention_mask()).enumerate()
                    {
                        ids[r * seq + j] = id as i64;
                        mask[r * seq + j] = m as i64;
                    }
                }
                let types = vec![0i64; chunk.len() * seq];
                PaddedBatch {
                    rows: chunk.len(),
                    seq,
                    ids,
                    mask,
                    types,
                }
            })
            .collect()
    }

    fn run(&mut self, batches: &[PaddedBatch]) -> f32 {
        let mut checksum = 0.0;
        for PaddedBatch {
            rows,
            seq,
            ids,
            mask,
            types,
        } in batches
        {
            let shape = [*rows, *seq];
            let outputs = self
                .session
                .run(ort::inputs![
                    "input_ids" => TensorRef::from_array_view((shape, ids.as_slice())).unwrap(),
                    "attention_mask" => TensorRef::from_array_view((shape, mask.as_slice())).unwrap(),
                    "token_type_ids" => TensorRef::from_array_view((shape, types.as_slice())).unwrap(),
                ])
                .unwrap();
            let (_, data) = outputs["sentence_embedding"]
                .try_extract_tensor::<f32>()
                .unwrap();
            checksum += data[0];
        }
        checksum
    }
}

fn main() {
    let models = repo().join("models");
    let encoder_dir = models.join("minilm-l6-int8");
    let demo = models.join("banking77");
    if !demo.join("otai-model.json").is_file() {
        eprintln!(
            "{} is missing: run `models/setup.sh` (or `make setup`) first.",
            demo.display()
        );
        std::process::exit(1);
    }
    let texts = load_texts();
    let short: Vec<String> = texts.iter().take(SHORT).cloned().collect();
    let typical = joined_tickets(&texts, TYPICAL, 6);
    let long = joined_tickets(&texts, LONG, 14);
    let mut tok = Tokenizer::from_file(encoder_dir.join("tokenizer.json")).unwrap();
    // The shipped file pads to a fixed 128 and truncates at 128; count what the classifier feeds.
    tok.with_padding(None);
    tok.with_truncation(Some(TruncationParams {
        max_length: 256,
        ..Default::default()
    }))
    .unwrap();
    let mean_tokens = |t: &[String]| {
        t.iter()
            .map(|s| {
                tok.encode_fast(s.as_str(), true)
                    .unwrap()
                    .get_ids()
                    .len()
                    .min(256)
            })
            .sum::<usize>() as f64
            / t.len() as f64
    };

    println!("otai classifier benchmark: int8 MiniLM-L6 + 3 heads (models/banking77), 2 intra-op threads");
    println!(
        "short: {} BANKING77 test queries, mean {:.0} tokens; typical: {} joined tickets, mean {:.0} tokens; \
         long: {} joined tickets, mean {:.0} tokens (cap 256)",
        short.len(),
        mean_tokens(&short),
        typical.len(),
        mean_tokens(&typical),
        long.len(),
        mean_tokens(&long)
    );
    println!();
    println!(
        "{:<8} {:>6} {:>14} {:>12} {:>8} {:>8}",
        "tickets", "batch", "classifier/s", "bare ort/s", "ratio", "peak MB"
    );

    let mut bare = Bare::new(&encoder_dir);
    for (name, set) in [("short", &short), ("typical", &typical), ("long", &long)] {
        for batch in [1usize, 32] {
            let options = ClassifierOptions {
                encoder: EncoderOptions {
                    batch_size: batch,
                    ..Default::default()
                },
                ..Default::default()
            };
            let classifier = Classifier::load(&demo, &options).unwrap_or_else(|e| panic!("{e}"));
            // Whole set per call: the classifier sorts by length and chunks by `batch` itself.
            let c = rate(set.len(), || {
                classifier.classify_texts_blocking(set.to_vec()).unwrap();
            });
            let prepared = bare.prepare(set, batch);
            let b = rate(set.len(), || {
                std::hint::black_box(bare.run(&prepared));
            });
            println!(
                "{name:<8} {batch:>6} {c:>14.1} {b:>12.1} {:>7.2}x {:>8.0}",
                c / b,
                status_mb("VmHWM:")
            );
        }
    }
    println!();
    println!("classifier/s includes tokenising, the encoder-thread hop, heads and top-k; ratio = classifier / bare.");
    println!(
        "peak MB = VmHWM after the row (process peak so far); now (VmRSS): {:.0} MB",
        status_mb("VmRSS:")
    );
}
