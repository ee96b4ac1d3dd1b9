//! History against zero history, on the Zendesk simulator.
//!
//! The simulator holds a history of solved tickets (bodies: BANKING77 train queries, each in the
//! group of its intent's queue per `models/banking77-routing.yml`) and new, unrouted tickets
//! (bodies: BANKING77 test queries). On the same new tickets, `otai run --once` routes them
//! (a) without history, by similarity to plain-word descriptions of the 8 queues, and (b) with
//! a model that `otai train --system` learned from the solved tickets it pulled from the
//! simulator. The learned routing must beat the zero-history routing, and the zero-history
//! routing must be well above chance.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use otai::classifier::demo::Routing;
use otai_zendesk_sim::{SimHandle, Simulator, DEFAULT_EMAIL, DEFAULT_TOKEN};
use serde_json::{json, Value};

use crate::support;

/// Queue label, its Zendesk group and a short plain-word description (the queue's summary in the
/// routing file's header, written before this test and not tuned on the test queries).
/// Whether history ticket `i` was set high priority (a third of them), and its text as the
/// customer wrote it: urgent ones say so, so priority is learnable from the text (a priority
/// unrelated to the text cannot beat always answering `normal`, and otai refuses such a model).
pub(crate) fn urgent(i: usize, text: &str) -> (bool, String) {
    if i.is_multiple_of(3) {
        (true, format!("URGENT, please answer today! {text}"))
    } else {
        (false, text.to_string())
    }
}

pub(crate) const QUEUES: [(&str, &str, &str); 8] = [
    (
        "cards",
        "Cards",
        "ordering, delivering, activating, blocking and replacing cards; lost, stolen or compromised cards and PINs",
    ),
    (
        "card_payments",
        "Card payments",
        "card payments that are pending, declined, reverted or cost a fee; where the card works",
    ),
    (
        "disputes",
        "Disputes",
        "charges the customer does not recognise, double charges, refunds",
    ),
    (
        "transfers",
        "Transfers",
        "bank transfers in and out: status, failures, fees, beneficiaries",
    ),
    (
        "top_ups",
        "Top-ups",
        "adding money to the account (top up) by card, bank transfer, cash or cheque; top-up limits and failures",
    ),
    ("cash_atm", "Cash and ATM", "ATM and cash withdrawals"),
    ("exchange", "Exchange", "currencies and exchange rates"),
    (
        "account_security",
        "Account security",
        "identity checks, personal details, eligibility, closing the account; lost phones and app passcodes",
    ),
];

/// Every `HISTORY_STRIDE`-th train query is a solved ticket (~830, within one search's 1000).
const HISTORY_STRIDE: usize = 12;
/// Every `NEW_STRIDE`-th test query is a new ticket (~620, within one fetch).
const NEW_STRIDE: usize = 5;
const HISTORY_FIRST_ID: u64 = 10_000;
const NEW_FIRST_ID: u64 = 50_000;
const FIRST_GROUP_ID: u64 = 360_000_000_100;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn encoder_dir() -> PathBuf {
    let dir = repo().join("models/minilm-l6-int8");
    assert!(
        dir.join("otai-model.json").is_file(),
        "{} is missing: build the models with `bash models/setup.sh`",
        dir.display()
    );
    dir
}

/// `otai train --system SYSTEM --since 3650d --fields queue,priority` in `dir` with `config.yml`
/// there, the default encoder and `plugins`; (success, stdout, stderr).
pub(crate) fn train_from_system(
    dir: &Path,
    plugins: &Path,
    system: &str,
    out: &str,
    min_examples: usize,
) -> (bool, String, String) {
    let min_examples = min_examples.to_string();
    train_with(
        dir,
        plugins,
        system,
        &[
            "--fields",
            "queue,priority",
            "--min-examples",
            &min_examples,
            "--out",
            out,
        ],
    )
}

/// `otai train --system SYSTEM --since 3650d ARGS` in `dir` with `config.yml` there, the default
/// encoder and `plugins`; (success, stdout, stderr).
pub(crate) fn train_with(
    dir: &Path,
    plugins: &Path,
    system: &str,
    args: &[&str],
) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(["train", "--system", system, "--since", "3650d"])
        .args(args)
        .args(["--config", "config.yml"])
        .arg("--model")
        .arg(encoder_dir())
        .arg("--plugins-dir")
        .arg(plugins)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("OTAI_CONFIG")
        .output()
        .expect("run otai");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What a `train --system` run that pulled `closed` tickets (of which `merged` were merged) into
/// `dir/out` must show: the counts in its report, a model folder that opens, its summary naming
/// `system`, and every queue of [`QUEUES`] learned.
pub(crate) fn assert_trained(
    dir: &Path,
    out: &str,
    stdout: &str,
    system: &str,
    closed: usize,
    merged: usize,
) {
    assert!(
        stdout.contains(&format!("{closed} tickets in the history")),
        "{stdout}"
    );
    // A help desk without merged tickets (Freshdesk's export has none) prints no such line.
    assert!(
        merged == 0
            || stdout.contains(&format!(
                "skipped      {merged}: merged into another ticket"
            )),
        "{stdout}"
    );
    let folder = dir.join(out);
    otai::classifier::Classifier::load(&folder, &otai::classifier::ClassifierOptions::default())
        .expect("the model loads");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("training.json")).unwrap())
            .unwrap();
    assert_eq!(summary["history"]["system"], system);
    let queue_labels = summary["history"]["label_maps"]["queue"]
        .as_object()
        .unwrap();
    assert_eq!(
        queue_labels.len(),
        QUEUES.len(),
        "every queue learned: {queue_labels:?}"
    );
}

/// BANKING77 `(text, queue)` pairs of a split, every `stride`-th.
pub(crate) fn queries(split: &str, stride: usize) -> Vec<(String, String)> {
    let data = repo().join("data/banking77");
    let routing = Routing::read(
        &repo().join("models/banking77-routing.yml"),
        &data.join("categories.json"),
    )
    .expect("the routing file");
    let set = routing
        .load_dataset(&data.join(format!("{split}.csv")))
        .expect("BANKING77");
    let queue = set.field_index("queue").unwrap();
    set.texts
        .iter()
        .zip(&set.labels[queue])
        .step_by(stride)
        .map(|(t, q)| (t.clone(), q.clone().unwrap()))
        .collect()
}

fn group_of(queue: &str) -> &'static str {
    QUEUES.iter().find(|q| q.0 == queue).unwrap().1
}

struct Desk {
    sim: SimHandle,
    /// New ticket id and the group it belongs in.
    expected: Vec<(u64, &'static str)>,
}

async fn desk(history: &[(String, String)], new: &[(String, String)]) -> Desk {
    let mut tickets: Vec<Value> = history
        .iter()
        .enumerate()
        .map(|(i, (text, queue))| {
            json!({"id": HISTORY_FIRST_ID + i as u64, "description": text, "status": "solved",
                   "group_id": FIRST_GROUP_ID + QUEUES.iter().position(|q| q.0 == queue).unwrap() as u64})
        })
        .collect();
    let mut expected = Vec::new();
    for (i, (text, queue)) in new.iter().enumerate() {
        let id = NEW_FIRST_ID + i as u64;
        tickets.push(json!({"id": id, "description": text, "status": "new"}));
        expected.push((id, group_of(queue)));
    }
    let groups = QUEUES
        .iter()
        .enumerate()
        .map(|(i, q)| json!({"id": FIRST_GROUP_ID + i as u64, "name": q.1}))
        .collect();
    let sim = Simulator::builder()
        .group_objects(groups)
        .tickets(tickets)
        .rate_limit_per_minute(100_000)
        .job_delays(Duration::from_millis(5), Duration::from_millis(5))
        .start()
        .await
        .expect("the simulator starts");
    Desk { sim, expected }
}

impl Desk {
    /// Share of the new tickets otai put in their group; panics on a group that is not a queue.
    fn accuracy(&self) -> f64 {
        let names: BTreeMap<u64, &str> = QUEUES
            .iter()
            .enumerate()
            .map(|(i, q)| (FIRST_GROUP_ID + i as u64, q.1))
            .collect();
        let mut right = 0;
        for (id, group) in &self.expected {
            let t = self.sim.ticket(*id).expect("the ticket exists");
            let gid = t
                .group_id
                .unwrap_or_else(|| panic!("ticket {id} was not routed"));
            let got = names
                .get(&gid)
                .unwrap_or_else(|| panic!("ticket {id} went to group {gid}, not a queue"));
            right += usize::from(got == group);
        }
        right as f64 / self.expected.len() as f64
    }
}

fn config_yaml(base_url: &str, model: &Path, queue_field: &str) -> String {
    format!(
        r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    call_timeout: 120
    params:
      base_url: {base_url}
      email: {DEFAULT_EMAIL}
      api_token: {DEFAULT_TOKEN}
      export_min_interval: 0
pipelines:
  routing:
    ticket_system: zendesk
    model: {model}
    fetch: {{statuses: [new], limit: 1000}}
    note: false
    state_file: null
    fields:
      queue:
{queue_field}"#,
        model = model.display()
    )
}

/// The zero-history field: the 8 queues described in plain words, mapped to their groups.
fn described_queue() -> String {
    let mut s = String::from("        action: queue\n        threshold: 0\n        map:\n");
    for (label, group, _) in QUEUES {
        s += &format!("          {label}: {group}\n");
    }
    s += "        descriptions:\n";
    for (label, _, description) in QUEUES {
        s += &format!("          {label}: \"{description}\"\n");
    }
    s
}

/// `otai <args>` in `dir` with `config`; its stdout.
async fn otai(dir: &Path, config: String, plugins: &Path, args: &[&str]) -> String {
    let file = dir.join("config.yml");
    std::fs::write(&file, config).unwrap();
    let (dir, plugins) = (dir.to_path_buf(), plugins.to_path_buf());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let shown = args.join(" ");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_otai"))
            .arg("--config")
            .arg(&file)
            .arg("--plugins-dir")
            .arg(&plugins)
            .args(&args)
            .current_dir(&dir)
            .env_remove("RUST_LOG")
            .env_remove("OTAI_CONFIG")
            .output()
            .expect("run otai")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "otai {shown} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learned_routing_beats_zero_history_routing_on_held_out_tickets() {
    let history = queries("train", HISTORY_STRIDE);
    let new = queries("test", NEW_STRIDE);
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let tmp = tempfile::tempdir().unwrap();

    // (a) No history: routed by similarity to the queue descriptions.
    let zero = desk(&history, &new).await;
    let config = config_yaml(zero.sim.base_url(), &encoder_dir(), &described_queue());
    let stdout = otai(tmp.path(), config, plugins.path(), &["run", "--once"]).await;
    println!("zero history: {}", stdout.trim());
    let zero_accuracy = zero.accuracy();
    // The writes use the described labels, mapped to their groups: every queue gets tickets.
    let used: std::collections::BTreeSet<u64> = zero
        .expected
        .iter()
        .filter_map(|(id, _)| zero.sim.ticket(*id).and_then(|t| t.group_id))
        .collect();
    assert_eq!(used.len(), QUEUES.len(), "groups used: {used:?}");

    // (b) History: `otai train --system` pulls the solved tickets from the simulator and learns
    // the groups agents put them in; the new tickets (not finished) are not learned from.
    let learned = desk(&history, &new).await;
    let model = tmp.path().join("learned");
    let config = config_yaml(
        learned.sim.base_url(),
        &encoder_dir(),
        "        action: queue\n",
    );
    let stdout = otai(
        tmp.path(),
        config,
        plugins.path(),
        &[
            "train",
            "--system",
            "zendesk",
            "--fields",
            "queue",
            "--holdout",
            "0",
            "--model",
            encoder_dir().to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ],
    )
    .await;
    println!("otai train --system: {}", stdout.trim());
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(model.join("training.json")).expect("training.json"),
    )
    .unwrap();
    assert_eq!(
        summary["examples"],
        json!(history.len()),
        "every solved ticket, and only those, is learned from: {summary:#}"
    );
    let config = config_yaml(
        learned.sim.base_url(),
        &model,
        "        action: queue\n        threshold: 0\n",
    );
    let stdout = otai(tmp.path(), config, plugins.path(), &["run", "--once"]).await;
    println!("learned: {}", stdout.trim());
    let learned_accuracy = learned.accuracy();

    println!(
        "queue accuracy on {} held-out tickets: learned from {} solved tickets {:.1} %, zero history (descriptions) {:.1} %, chance {:.1} %",
        new.len(),
        history.len(),
        100.0 * learned_accuracy,
        100.0 * zero_accuracy,
        100.0 / QUEUES.len() as f64
    );
    assert!(
        learned_accuracy > zero_accuracy,
        "learned {learned_accuracy} vs zero history {zero_accuracy}"
    );
    assert!(
        zero_accuracy > 1.0 / QUEUES.len() as f64 + 0.2,
        "zero history {zero_accuracy} must be a real baseline, well above chance"
    );
    assert!(learned_accuracy > 0.85, "learned {learned_accuracy}");
    zero.sim.shutdown().await;
    learned.sim.shutdown().await;
}

/// `otai train --system --promote`: a new model is put in use only when it beats the one in use.
mod promote;
/// `otai train --system`: pull, skip, fold, resume (the history engineer's part).
mod pull;
