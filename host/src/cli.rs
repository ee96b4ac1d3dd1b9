//! The command line, as clap types. Each subcommand's behaviour lives in [`crate::commands`];
//! a new command is a variant of [`Command`] plus a module there.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::pipeline::{MAX_MAX_TOKENS, MIN_MAX_TOKENS};

/// On-premise ticket AI: reads tickets from a help desk through an adapter plugin, classifies
/// them with a local model and writes the result back.
#[derive(Debug, Parser)]
#[command(name = "otai", version, about, propagate_version = true)]
pub struct Cli {
    /// The configuration file [default: config/config.yml].
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "OTAI_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// The plugins directory (overrides `plugins_dir:` in the configuration; default `plugins`).
    #[arg(long, global = true, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,

    /// Log verbosity on stderr: error, warn, info, debug, trace, or tracing directives such as
    /// `otai=debug,otai::plugin=trace`. Overrides RUST_LOG.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect the plugins directory.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Check the configuration and plugins without touching a help desk (unless --connect).
    Check(CheckArgs),
    /// Read and write tickets through a configured ticket system, to try an adapter by hand.
    #[command(subcommand)]
    Tickets(Box<TicketsCommand>),
    /// Run the configured pipelines: fetch, classify, write back, every interval until
    /// SIGINT/SIGTERM (or once with --once).
    Run(RunArgs),
    /// Run the configured pipelines as `run` does, plus an HTTP server (`serve.listen`, default
    /// 127.0.0.1:8411) that takes the help desks' signed webhooks (`POST
    /// /webhooks/<ticket system>`), so new tickets are routed within seconds; polling stays as
    /// the safety net. `/healthz` and `/readyz` for supervisors.
    Serve(ServeArgs),
    /// Classify text with a model and print the top labels per field; reads and writes no tickets.
    Classify(ClassifyArgs),
    /// Train a model folder (one head per label column) from labelled CSV or JSONL data, or from a
    /// help desk's solved tickets (--system), and print accuracy and macro-F1 per field on a
    /// held-out split.
    Train(TrainArgs),
    /// Say how good routing will be before it writes anything: per field accuracy, macro-F1, the
    /// worst confusions and coverage / precision per threshold with a suggested threshold, on
    /// labelled data (--data) or on shadow-mode decisions compared with what agents did (--shadow);
    /// or how often agents corrected what otai wrote (--audit).
    Evaluate(EvaluateArgs),
}

impl Command {
    /// The log level when neither --log-level nor RUST_LOG says otherwise. Inspection commands
    /// print their findings on stdout, so their logs stay quiet unless something is wrong.
    pub fn default_log_level(&self) -> &'static str {
        match self {
            Command::Plugins(_)
            | Command::Check(_)
            | Command::Tickets(_)
            | Command::Classify(_)
            | Command::Evaluate(_) => "warn",
            // A service and a long job: their progress is the point of their logs.
            Command::Run(_) | Command::Serve(_) | Command::Train(_) => "info",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List every `*.so` in the plugins directory: loaded plugins with their services, and every
    /// file that failed to load with the reason. Exits non-zero if any failed.
    List,
    /// Loads one plugin file and exits (what otai runs in a throwaway process before loading a
    /// plugin itself; see `plugins::probe`).
    #[command(hide = true)]
    Probe { path: std::path::PathBuf },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also make one authenticated read per ticket system.
    #[arg(long)]
    pub connect: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Route what is waiting, then exit (non-zero if a pass failed as a whole): passes again
    /// while the last one came back full (`fetch.limit` tickets) and moved some, at most
    /// --max-passes times. With --dry-run or --shadow, one pass.
    #[arg(long)]
    pub once: bool,
    /// With --once: the most passes per pipeline.
    #[arg(long, value_name = "N", requires = "once", default_value_t = crate::pipeline::DEFAULT_MAX_PASSES,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_passes: u32,
    /// Print every decision (ticket, field, label, confidence, action) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run only this pipeline (the key under `pipelines:`).
    #[arg(long, value_name = "NAME")]
    pub pipeline: Option<String>,
    /// When another otai run holds a pipeline's lock, wait for it to finish instead of exiting
    /// with an error naming it.
    #[arg(long)]
    pub wait_lock: bool,
    /// Seconds a write batch in flight may take to finish after SIGINT/SIGTERM before it is
    /// abandoned.
    #[arg(long, value_name = "SECS", default_value_t = crate::pipeline::run::DEFAULT_GRACE.as_secs_f64())]
    pub grace: f64,
    /// Print each pass as a table (ticket, subject, queue, priority, confidence, what was
    /// written) and its summary; while a pass runs, show progress on stderr if it is a terminal.
    #[arg(long)]
    pub table: bool,
    /// Shadow mode: decide like --dry-run (nothing written, retry state untouched) and append one
    /// JSON line per classified ticket to the shadow file, for `otai evaluate --shadow`. Tickets
    /// are not tagged, so each pass fetches them again; each is recorded once.
    #[arg(long)]
    pub shadow: bool,
    /// The shadow file, for every pipeline [default: .otai/shadow/<pipeline>.jsonl].
    #[arg(long, value_name = "FILE", requires = "shadow")]
    pub shadow_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen here instead of `serve.listen` (e.g. `0.0.0.0:8411` behind a reverse proxy).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// Serve only this pipeline (the key under `pipelines:`).
    #[arg(long, value_name = "NAME")]
    pub pipeline: Option<String>,
    /// Decide and report, write nothing (as `run --dry-run`).
    #[arg(long)]
    pub dry_run: bool,
    /// Shadow mode (as `run --shadow`).
    #[arg(long)]
    pub shadow: bool,
    /// The shadow file, for every pipeline [default: .otai/shadow/<pipeline>.jsonl].
    #[arg(long, value_name = "FILE", requires = "shadow")]
    pub shadow_file: Option<PathBuf>,
    /// When another otai run holds a pipeline's lock, wait for it instead of exiting.
    #[arg(long)]
    pub wait_lock: bool,
    /// Seconds a write batch in flight may take to finish after SIGINT/SIGTERM.
    #[arg(long, value_name = "SECS", default_value_t = crate::pipeline::run::DEFAULT_GRACE.as_secs_f64())]
    pub grace: f64,
}

impl ServeArgs {
    /// The `run` arguments a server runs its pipelines with: never once, no table.
    pub fn run_args(&self) -> RunArgs {
        RunArgs {
            once: false,
            max_passes: crate::pipeline::DEFAULT_MAX_PASSES,
            dry_run: self.dry_run,
            pipeline: self.pipeline.clone(),
            wait_lock: self.wait_lock,
            grace: self.grace,
            table: false,
            shadow: self.shadow,
            shadow_file: self.shadow_file.clone(),
        }
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["data", "shadow", "audit"])))]
pub struct EvaluateArgs {
    /// Labelled CSV or JSONL (as for `otai train`): classified with --model and scored. With a
    /// `created_at` column only the newest --holdout share is scored.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// A shadow file of `otai run --shadow`: its decisions compared with the tickets' current
    /// state (only tickets agents handled: solved/closed, or in a queue that is not an inbox
    /// queue).
    #[arg(long, value_name = "FILE")]
    pub shadow: Option<PathBuf>,
    /// A pipeline's audit log (`.otai/audit/<pipeline>.jsonl` by default): what otai wrote,
    /// compared with the tickets now; per field, how often agents kept otai's value and how
    /// often they corrected it, and the moves they made most.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// With --shadow or --audit: the ticket system to read the tickets from [default: the
    /// records' pipelines' ticket system].
    #[arg(long, value_name = "NAME")]
    pub system: Option<String>,
    /// The model folder (with --data).
    #[arg(long, value_name = "DIR", default_value = crate::config::pipeline::DEFAULT_MODEL_DIR)]
    pub model: PathBuf,
    /// Evaluate only these fields (comma-separated).
    #[arg(long, value_name = "F1,F2", value_delimiter = ',')]
    pub fields: Option<Vec<String>>,
    /// With --data and a `created_at` column: the newest share of examples evaluated.
    #[arg(long, value_name = "F", default_value_t = 0.2)]
    pub holdout: f64,
    /// The precision the suggested threshold must reach.
    #[arg(long, value_name = "P", default_value_t = crate::classifier::evaluate::DEFAULT_TARGET_PRECISION)]
    pub target_precision: f64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["text", "file"])))]
pub struct ClassifyArgs {
    /// The ticket text (subject and body in one).
    pub text: Option<String>,
    /// A help desk's export: JSON lines ({"id": ..., "subject": ..., "body": ...} or {"id": ...,
    /// "text": ...}) or, for a .csv file, a header with `id` and `text` or `subject`/`body`. Other
    /// fields are ignored; the id (when present) is carried into each result.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The model folder.
    #[arg(long, value_name = "DIR", default_value = crate::config::pipeline::DEFAULT_MODEL_DIR)]
    pub model: PathBuf,
    /// Labels shown per field.
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub top_k: usize,
    /// Truncate each ticket at this many tokens (default: the model's setting, 256 for the
    /// shipped encoder).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(MIN_MAX_TOKENS as i64..=MAX_MAX_TOKENS as i64))]
    pub max_tokens: Option<u16>,
    /// One JSON object per ticket and line instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["data", "system"])))]
pub struct TrainArgs {
    /// Labelled data: CSV with a `text` (or `subject`/`body`) column and one column per field,
    /// or JSON lines with the same keys.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Learn from a help desk's history instead: pull the solved and closed tickets of this
    /// ticket system (the key under `ticket_systems:`) through its adapter's export and take what
    /// agents finally set as labels.
    #[arg(long, value_name = "NAME")]
    pub system: Option<String>,
    /// With --system: how far back, `180d`, `26w`, `48h`, or an RFC 3339 date or time. A rerun
    /// with the same --since continues an interrupted pull from its cursor.
    #[arg(long, value_name = "WHEN", default_value = "180d", requires = "system")]
    pub since: String,
    /// With --system: start the pull over instead of continuing from the cached cursor.
    #[arg(long, requires = "system")]
    pub fresh: bool,
    /// With --system: where pulls are cached (`<dir>/<system>.jsonl` and `.cursor`).
    #[arg(long, value_name = "DIR", default_value = crate::history::DEFAULT_CACHE_DIR, requires = "system")]
    pub cache_dir: PathBuf,
    /// With --system: classes with fewer examples are folded into --fallback-label.
    #[arg(long, value_name = "N", default_value_t = crate::history::DEFAULT_MIN_EXAMPLES, requires = "system")]
    pub min_examples: usize,
    /// With --system: the label rare classes are folded into.
    #[arg(long, value_name = "LABEL", default_value = crate::history::DEFAULT_FALLBACK_LABEL, requires = "system")]
    pub fallback_label: String,
    /// The new model folder. With --system the default is a new versioned folder,
    /// `models/<system>-<UTC yyyymmddThhmmssZ>`; an existing folder is never written into.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Train only these label columns (comma-separated); default: every label column. With
    /// --system: `queue`, `priority`, `custom_field:<id>`, `tags:<prefix>` (default
    /// `queue,priority`).
    #[arg(long, value_name = "F1,F2", value_delimiter = ',')]
    pub fields: Option<Vec<String>>,
    /// The model folder whose encoder embeds the texts (its heads are not used). Default: by
    /// the texts' languages: mostly English -> `models/banking77` (MiniLM-L6), else
    /// `models/use-multilingual-int8` (USE multilingual) when installed.
    #[arg(long, visible_alias = "encoder", value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Fraction of examples held out for the reported metrics (0 for none).
    #[arg(long, value_name = "F", default_value_t = 0.1)]
    pub holdout: f64,
    /// Seed of the held-out split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fix the share of the lexical (TF-IDF n-gram) half of every head instead of choosing it on a
    /// validation split: 0 = embedding-only heads (smaller, as before hybrid heads), 1 = lexical
    /// only, in steps of 0.1.
    #[arg(long, value_name = "S", value_parser = parse_lexical_share)]
    pub lexical_share: Option<f64>,
    /// With --system: put the new model in use only if it beats the one in use. LINK is a
    /// symbolic link to the model folder the pipelines use (their `model:` names it; missing at
    /// the first run). Both models classify the newest held-out tickets; the new one is written
    /// and the link repointed to it only when its mean accuracy is higher and no field falls by
    /// more than 2 points. Old folders are kept; each comparison is appended to
    /// `LINK.promotions.jsonl`. Meant for a scheduled job (packaging/otai-train.timer).
    #[arg(long, value_name = "LINK", requires = "system")]
    pub promote: Option<PathBuf>,
    /// Replace an existing --out folder (not with --system: a pipeline may be using it).
    #[arg(long, conflicts_with = "system")]
    pub overwrite: bool,
}

#[derive(Debug, Subcommand)]
pub enum TicketsCommand {
    /// Find tickets; prints one JSON ticket per line.
    Find(FindArgs),
    /// Get one ticket; prints it as JSON.
    Get(GetArgs),
    /// Apply a partial update to one ticket; prints the updated ticket as JSON.
    Update(UpdateArgs),
    /// Add a note to one ticket (internal unless --public).
    Note(NoteArgs),
}

#[derive(Debug, Args)]
pub struct FindArgs {
    /// The ticket system, as named under `ticket_systems:`.
    pub system: String,
    /// Any of these statuses (repeatable).
    #[arg(long = "status", value_name = "S")]
    pub statuses: Vec<String>,
    /// In this queue (by name).
    #[arg(long, value_name = "Q")]
    pub queue: Option<String>,
    /// Carrying this tag (repeatable: all of them).
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
    /// Not carrying this tag (repeatable: none of them).
    #[arg(long = "without-tag", value_name = "T")]
    pub without_tags: Vec<String>,
    /// Updated at or after this ISO-8601 time, e.g. 2024-05-01T00:00:00Z.
    #[arg(long, value_name = "TS")]
    pub updated_since: Option<String>,
    /// A query in the help desk's own syntax, combined with the conditions above.
    #[arg(long, value_name = "Q")]
    pub query: Option<String>,
    /// At most this many tickets.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The ticket system, as named under `ticket_systems:`.
    pub system: String,
    /// The ticket id.
    pub id: String,
}

/// otai's priority vocabulary, which plugins map to their help desk's. The variants are in the
/// order of [`PRIORITIES`](crate::config::pipeline::PRIORITIES), which names them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    /// The name in [`PRIORITIES`](crate::config::pipeline::PRIORITIES), the one list of them.
    pub fn as_str(self) -> &'static str {
        crate::config::pipeline::PRIORITIES[self as usize]
    }
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The ticket system, as named under `ticket_systems:`.
    pub system: String,
    /// The ticket id.
    pub id: String,
    /// Move to this queue, by name.
    #[arg(long, value_name = "NAME", conflicts_with = "queue_id")]
    pub queue: Option<String>,
    /// Move to this queue, by id.
    #[arg(long, value_name = "ID")]
    pub queue_id: Option<String>,
    /// Set the priority.
    #[arg(long, value_name = "P")]
    pub priority: Option<Priority>,
    /// Set the status, in the help desk's vocabulary.
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// Add this tag (repeatable).
    #[arg(long = "add-tag", value_name = "T")]
    pub add_tags: Vec<String>,
    /// Remove this tag (repeatable).
    #[arg(long = "remove-tag", value_name = "T")]
    pub remove_tags: Vec<String>,
    /// Set a custom field: ID=JSON, e.g. --field 360001='"billing"' or --field 360002=true (repeatable).
    #[arg(long = "field", value_name = "ID=JSON")]
    pub fields: Vec<String>,
    /// Help-desk-specific fields as a JSON object, e.g. '{"type": "incident"}'.
    #[arg(long, value_name = "JSON")]
    pub system_fields: Option<String>,
    /// Add a note in the same write (internal unless --public-note).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Make the --note visible to the customer.
    #[arg(long, requires = "note")]
    pub public_note: bool,
    /// Write only if the ticket's updated_at still equals this stamp.
    #[arg(long, value_name = "TS")]
    pub if_unchanged_since: Option<String>,
}

#[derive(Debug, Args)]
pub struct NoteArgs {
    /// The ticket system, as named under `ticket_systems:`.
    pub system: String,
    /// The ticket id.
    pub id: String,
    /// The text of the note.
    pub text: String,
    /// Make the note visible to the customer.
    #[arg(long)]
    pub public: bool,
    /// The text is HTML.
    #[arg(long)]
    pub html: bool,
}

/// `--lexical-share`: a share from 0 to 1 in steps of 0.1 (the shares training compares).
fn parse_lexical_share(value: &str) -> Result<f64, String> {
    let share: f64 = value
        .parse()
        .map_err(|_| format!("`{value}` is not a number; give a share from 0 to 1, e.g. 0.5"))?;
    let steps = crate::classifier::hybrid::SHARES as f64;
    let on_grid = (share * steps - (share * steps).round()).abs() < 1e-9;
    if !(0.0..=1.0).contains(&share) || !on_grid {
        return Err(format!(
            "`{value}`: the share must be 0, 0.1, ..., 1 (0 = embedding only, 1 = lexical only)"
        ));
    }
    Ok((share * steps).round() / steps)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn priority_flags_are_exactly_the_configured_priorities() {
        let names: Vec<&str> = Priority::value_variants()
            .iter()
            .map(|p| p.as_str())
            .collect();
        assert_eq!(names, crate::config::pipeline::PRIORITIES);
        for p in Priority::value_variants() {
            let flag = p.to_possible_value().unwrap();
            assert_eq!(
                flag.get_name(),
                p.as_str(),
                "the --priority value is the name"
            );
        }
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "otai",
            "plugins",
            "list",
            "--plugins-dir",
            "x",
            "--config",
            "c.yml",
        ])
        .unwrap();
        assert_eq!(cli.plugins_dir, Some(PathBuf::from("x")));
        assert_eq!(cli.config, Some(PathBuf::from("c.yml")));
    }

    #[test]
    fn update_collects_repeated_flags() {
        let cli = Cli::try_parse_from([
            "otai",
            "tickets",
            "update",
            "zendesk",
            "42",
            "--add-tag",
            "a",
            "--add-tag",
            "b",
            "--field",
            "1=true",
            "--priority",
            "high",
        ])
        .unwrap();
        let Command::Tickets(command) = cli.command else {
            panic!("not a tickets command")
        };
        let TicketsCommand::Update(args) = *command else {
            panic!("not tickets update")
        };
        assert_eq!(args.add_tags, ["a", "b"]);
        assert_eq!(args.fields, ["1=true"]);
        assert!(matches!(args.priority, Some(Priority::High)));
    }

    #[test]
    fn the_lexical_share_is_a_tenth_step_from_0_to_1() {
        assert_eq!(parse_lexical_share("0.3"), Ok(0.3));
        assert_eq!(parse_lexical_share("1"), Ok(1.0));
        for bad in ["1.5", "-0.1", "0.25", "half"] {
            let err = parse_lexical_share(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }
}
