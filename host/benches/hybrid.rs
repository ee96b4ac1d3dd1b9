//! Hybrid heads against their halves, and what the lexical half costs, printed side by side in one run
//! (figures only, nothing asserted: the machine may be shared, so compare only numbers from the same
//! run; int8 embeddings differ slightly between CPUs, so do the accuracies in the last digit).
//!
//! Accuracy on the test split, heads fitted on the train split (nothing of the test split seen):
//! - BANKING77 (English banking queries; PolyAI, CC-BY-4.0, `data/banking77`): intent, and the demo
//!   routing's queue and priority;
//! - MASSIVE de-DE (German assistant intents, CC BY 4.0, `../shared/data/german/massive_de`).
//!
//! Per field: the majority class, the embedding head alone (MiniLM-L6 int8, as before hybrid heads),
//! the lexical head alone (TF-IDF word 1-2-grams + character 2-5-grams, logistic regression: the
//! usual strong baseline), and the hybrid head with the share and penalty `otai train` chooses on a
//! validation fifth of the train split.
//!
//! Speed: typical tickets (6 queries joined, ~100 tokens), batch 1, through the whole classifier
//! path, with the hybrid heads and with the same fields' embedding-only heads on one encoder,
//! interleaved; and the lexical part alone (n-grams, lookup, sparse dot) per ticket.
//!
//! Run: `cargo bench -p otai --bench hybrid` (part of `make bench`; about 10 minutes on 2 cores).

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{Array2, Axis};
use otai::classifier::{
    data::Dataset,
    demo::Routing,
    hybrid::{self, HybridChoice, Labelled},
    lexical::NGrams,
    train::{self, embed_texts},
    Classifier, ClassifierOptions, Encoder, EncoderOptions, LinearHead, TrainOptions,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Heads {
    embedding: LinearHead,
    lexical: LinearHead,
    hybrid: LinearHead,
}

/// Fits one field on all of `train` the way `otai train` does, plus the halves alone.
fn fit_field(
    x: &Array2<f32>,
    train: &Dataset,
    f: usize,
    options: &TrainOptions,
) -> (Heads, HybridChoice, f64) {
    let started = Instant::now();
    let labels: Vec<String> = train.labels[f]
        .iter()
        .flatten()
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows: Vec<usize> = (0..train.len())
        .filter(|&i| train.labels[f][i].is_some())
        .collect();
    let y: Vec<usize> = rows
        .iter()
        .map(|&i| {
            labels
                .binary_search(train.labels[f][i].as_ref().unwrap())
                .unwrap()
        })
        .collect();
    let data = Labelled {
        dataset: train,
        rows: &rows,
        y: &y,
    };
    let mut choice = hybrid::choose(x.view(), data, labels.len(), options)
        .unwrap_or_else(|reason| panic!("{}: {reason}", train.fields[f]));
    let field = &train.fields[f];
    // Each half alone with the penalty it does best with alone on the validation split.
    let alone = TrainOptions {
        l2: choice.embedding_alone_l2,
        ..options.clone()
    };
    let (embedding, _) =
        train::fit_head(field, &labels, x.select(Axis(0), &rows).view(), &y, &alone);
    let lexical_fit = hybrid::lexical_head(data, labels.len(), choice.lexical_l2, &options.lexical);
    let lexical = hybrid::mix(&embedding, &lexical_fit, 1.0);
    // The mix as `otai train` fits it.
    let (hybrid, _) = hybrid::fit_mixed(field, &labels, x.view(), data, Some(&mut choice), options);
    (
        Heads {
            embedding,
            lexical,
            hybrid,
        },
        choice,
        started.elapsed().as_secs_f64(),
    )
}

fn accuracy(head: &LinearHead, x: &Array2<f32>, test: &Dataset) -> f64 {
    let f = test.field_index(&head.field).expect("test field");
    let rows: Vec<usize> = (0..test.len())
        .filter(|&i| test.labels[f][i].is_some())
        .collect();
    let texts: Vec<&str> = rows.iter().map(|&i| test.texts[i].as_str()).collect();
    let predicted = train::predict_indices(head, x.select(Axis(0), &rows).view(), &texts);
    let right = rows
        .iter()
        .zip(predicted)
        .filter(|(&i, p)| test.labels[f][i].as_deref() == Some(head.labels[*p].as_str()))
        .count();
    right as f64 / rows.len() as f64
}

fn majority(test: &Dataset, f: usize) -> f64 {
    let mut counts: std::collections::HashMap<&str, usize> = Default::default();
    let mut n = 0;
    for label in test.labels[f].iter().flatten() {
        *counts.entry(label).or_default() += 1;
        n += 1;
    }
    *counts.values().max().unwrap_or(&0) as f64 / n.max(1) as f64
}

/// Prints one table row per field; returns the hybrid heads.
fn compare(name: &str, encoder: &Encoder, train: &Dataset, test: &Dataset) -> Vec<LinearHead> {
    let x_train = embed_texts(encoder, &train.texts).expect("embed train");
    let x_test = embed_texts(encoder, &test.texts).expect("embed test");
    let options = TrainOptions::default();
    let mut hybrids = Vec::new();
    for f in 0..train.fields.len() {
        let (heads, choice, seconds) = fit_field(&x_train, train, f, &options);
        let tf = test
            .field_index(&train.fields[f])
            .expect("test has the field");
        println!(
            "{name:<10} {:<9} {:>5} {:>7.1} % {:>7.1} % {:>7.1} % {:>7.1} %  {:>5.1} {:>13} {:>7} {:>6.0} s",
            train.fields[f],
            test.len(),
            100.0 * majority(test, tf),
            100.0 * accuracy(&heads.embedding, &x_test, test),
            100.0 * accuracy(&heads.lexical, &x_test, test),
            100.0 * accuracy(&heads.hybrid, &x_test, test),
            choice.share,
            format!("{:.0e}/{:.0e}", choice.embedding_l2, choice.l2),
            choice.features,
            seconds
        );
        hybrids.push(heads.hybrid);
    }
    hybrids
}

fn typical_tickets(texts: &[String], n: usize) -> Vec<String> {
    texts.chunks_exact(6).take(n).map(|c| c.join(" ")).collect()
}

/// Tickets per second, batch 1, through the whole classifier path.
fn per_second(classifier: &Classifier, tickets: &[String]) -> f64 {
    let started = Instant::now();
    for t in tickets {
        classifier
            .classify_texts_blocking(vec![t.clone()])
            .expect("classify");
    }
    tickets.len() as f64 / started.elapsed().as_secs_f64()
}

/// The same heads without their lexical part: the work of embedding-only heads (the predictions do
/// not matter here, only the time).
fn without_lexical(heads: &[LinearHead]) -> Vec<LinearHead> {
    heads
        .iter()
        .map(|h| LinearHead {
            lexical: None,
            ..h.clone()
        })
        .collect()
}

/// Interleaved rounds of every classifier over the same tickets (drift on a shared machine hits all
/// alike); prints tickets/s and the ratio to the first, today's default.
fn speed(tickets: &[String], contenders: &[(String, Classifier)]) {
    for (_, c) in contenders {
        per_second(c, &tickets[..10]);
    }
    let mut rates = vec![0.0; contenders.len()];
    const ROUNDS: usize = 3;
    for _ in 0..ROUNDS {
        for (rate, (_, c)) in rates.iter_mut().zip(contenders) {
            *rate += per_second(c, tickets) / ROUNDS as f64;
        }
    }
    for (rate, (name, _)) in rates.iter().zip(contenders) {
        println!(
            "  {name:<44} {rate:>7.1} tickets/s  x{:.2} of the first",
            rate / rates[0]
        );
    }
}

/// The lexical part alone per ticket: n-grams counted once, every head's lookup and sparse dot.
fn lexical_cost(name: &str, heads: &[LinearHead], tickets: &[String]) {
    let started = Instant::now();
    let mut touched = 0usize;
    for t in tickets {
        let ngrams = NGrams::of(t);
        for head in heads {
            let row = head.lexical_row(&ngrams);
            touched += row.len();
            std::hint::black_box(head.logits_with_row(&vec![0.0; head.dim], &row));
        }
    }
    println!(
        "  {name}: the lexical part alone {:.0} us per ticket for {} heads ({} n-gram features per ticket and head)",
        1e6 * started.elapsed().as_secs_f64() / tickets.len() as f64,
        heads.len(),
        touched / (tickets.len() * heads.len()).max(1),
    );
}

fn classifier(encoder: &str, heads: Vec<LinearHead>) -> Classifier {
    let dir = repo().join("models").join(encoder);
    Classifier::load_allowing_no_heads(&dir, &ClassifierOptions::default())
        .and_then(|c| c.with_extra_heads(heads))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

const ENCODERS: [(&str, &str); 2] = [
    ("minilm-l6-int8", "MiniLM-L6 int8 (English)"),
    ("use-multilingual-int8", "USE multilingual v3 int8"),
];

fn main() {
    let banking = repo().join("data/banking77");
    let routing = Routing::read(
        &repo().join("models/banking77-routing.yml"),
        &banking.join("categories.json"),
    )
    .expect("routing");
    let b_train = routing
        .load_dataset(&banking.join("train.csv"))
        .expect("banking77 train");
    let b_test = routing
        .load_dataset(&banking.join("test.csv"))
        .expect("banking77 test");
    let german = repo().join("../shared/data/german/massive_de");
    let load = |p: &Path| Dataset::load(p, None).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let g_train = load(&german.join("train.csv"));
    let g_test = load(&german.join("test.csv"));

    let mut heads = Vec::new();
    for (dir, name) in ENCODERS {
        let encoder = Encoder::load(&repo().join("models").join(dir), &EncoderOptions::default())
            .unwrap_or_else(|e| panic!("{dir}: {e}"));
        println!("\nTest accuracy, heads fitted on the train split, {name} embeddings:");
        println!(
            "{:<10} {:<9} {:>5} {:>9} {:>9} {:>9} {:>9}  {:>5} {:>13} {:>7} {:>8}",
            "data",
            "field",
            "test",
            "majority",
            "embedding",
            "lexical",
            "hybrid",
            "share",
            "l2 emb/lex",
            "n-grams",
            "fit"
        );
        let banking_heads = compare("BANKING77", &encoder, &b_train, &b_test);
        let german_heads = compare("MASSIVE de", &encoder, &g_train, &g_test);
        heads.push((dir, name, banking_heads, german_heads));
    }

    for (data, test, pick) in [
        ("BANKING77 (3 heads)", &b_test, 0usize),
        ("MASSIVE de (1 head)", &g_test, 1),
    ] {
        let tickets = typical_tickets(&test.texts, 150);
        println!(
            "\n{data}: {} typical tickets (6 queries joined), batch 1, whole classifier path:",
            tickets.len()
        );
        let mut contenders = Vec::new();
        for (dir, name, banking_heads, german_heads) in &heads {
            let hybrid = if pick == 0 {
                banking_heads
            } else {
                german_heads
            };
            contenders.push((
                format!("{name}, embedding heads"),
                classifier(dir, without_lexical(hybrid)),
            ));
            contenders.push((
                format!("{name}, hybrid heads"),
                classifier(dir, hybrid.clone()),
            ));
        }
        speed(&tickets, &contenders);
        let (_, name, banking_heads, german_heads) = &heads[0];
        lexical_cost(
            name,
            if pick == 0 {
                banking_heads
            } else {
                german_heads
            },
            &tickets,
        );
    }
}
