//! A help desk's ticket history, pulled through its adapter's export and turned into labelled
//! examples: what `otai train --system NAME` learns its queues from.
//!
//! # Layout
//! - [`pull`] follows the export pages of [`TicketSystem::export_tickets`] (the plugin API's
//!   `export_tickets`, since 1.1) and keeps what it pulled in a cache, so an interrupted pull
//!   resumes where it stopped: `<cache>/<system>.jsonl` (every ticket as pulled, one JSON object a
//!   line, appended page by page) and `<cache>/<system>.cursor` (JSON: the `--since` it was
//!   started with, the start time, the cursor after the last page kept, pages so far; replaced
//!   atomically after the page's tickets are on disk). A rerun with the same `--since` continues
//!   from the cursor (and, after an earlier end of stream, pulls only what changed since); a
//!   different `--since` or `fresh` starts over. Duplicates are resolved by id, the latest copy
//!   winning ([`History::labelled`], which reads the cache line by line instead of loading it).
//! - [`labelled`] keeps the tickets agents finished and takes what they finally set as labels;
//!   see [`Field`] for the field syntax and [`SkipReport`] for what is skipped and why.
//! - [`fold_rare`] folds classes with too few examples into the fallback label.
//! - [`since`]: `180d` / `12w` / `36h` / an RFC 3339 time or date, to the export's start time.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    fs::{self, File, OpenOptions},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    classifier::TicketText,
    ticket::{ExportRequest, Ticket, TicketSystem},
};

pub mod since;

/// The default folder of the pull caches.
pub const DEFAULT_CACHE_DIR: &str = ".otai/history";
/// Classes with fewer examples than this are folded into the fallback label by default.
pub const DEFAULT_MIN_EXAMPLES: usize = 10;
/// The default fallback label.
pub const DEFAULT_FALLBACK_LABEL: &str = "Unclassified";
/// A guard against an export that never ends.
const MAX_PAGES: usize = 100_000;

/// What a pull should do.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The folder of the caches (`<dir>/<system>.jsonl`, `<dir>/<system>.cursor`).
    pub cache_dir: PathBuf,
    /// The `--since` as given (a rerun with the same one resumes).
    pub since: String,
    /// The RFC 3339 start time of a fresh export.
    pub start_time: String,
    /// Start over even if a cache for the same `since` exists.
    pub fresh: bool,
}

/// Progress after each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullProgress {
    /// Pages pulled so far (including those of an earlier, resumed run).
    pub pages: usize,
    /// Tickets pulled so far, duplicates included.
    pub tickets: usize,
    /// Whether this run continued an earlier one.
    pub resumed: bool,
}

/// The pulled history: its cache file, read ticket by ticket when it is used (a history can be
/// far larger than what training keeps of it).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The cache (`<cache>/<system>.jsonl`): every copy of every ticket pulled.
    pub cache: PathBuf,
    /// Tickets pulled, duplicates included.
    pub pulled: usize,
    /// Pages pulled in all runs.
    pub pages: usize,
    /// Whether this run continued from a cached cursor.
    pub resumed: bool,
    /// The start time of the export.
    pub start_time: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CursorFile {
    since: String,
    start_time: String,
    cursor: Option<String>,
    pages: usize,
    end_of_stream: bool,
}

fn cache_paths(dir: &Path, system: &str) -> (PathBuf, PathBuf) {
    let safe: String = system
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        dir.join(format!("{safe}.jsonl")),
        dir.join(format!("{safe}.cursor")),
    )
}

/// Pulls the history of `system` page by page (see the module docs for the cache and resuming),
/// calling `progress` after each page.
pub async fn pull(
    system: &dyn TicketSystem,
    options: &PullOptions,
    progress: &mut dyn FnMut(PullProgress),
) -> anyhow::Result<History> {
    let dir = &options.cache_dir;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (jsonl, cursor_path) = cache_paths(dir, system.name());
    let previous: Option<CursorFile> = if options.fresh {
        None
    } else {
        fs::read_to_string(&cursor_path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .filter(|c: &CursorFile| c.since == options.since && jsonl.exists())
    };
    let resumed = previous.is_some();
    let mut state = match previous {
        Some(state) => {
            tracing::info!(
                system = system.name(),
                pages = state.pages,
                "Resuming the history pull from its cursor."
            );
            state
        }
        None => {
            // Start over: an empty ticket file, then no cursor.
            let _ = fs::remove_file(&cursor_path);
            File::create(&jsonl).with_context(|| format!("cannot write {}", jsonl.display()))?;
            CursorFile {
                since: options.since.clone(),
                start_time: options.start_time.clone(),
                cursor: None,
                pages: 0,
                end_of_stream: false,
            }
        }
    };
    let mut pulled = count_lines(&jsonl)?;
    let mut pages_this_run = 0usize;
    loop {
        let request = match &state.cursor {
            Some(cursor) => ExportRequest {
                start_time: None,
                cursor: Some(cursor.clone()),
            },
            None => ExportRequest {
                start_time: Some(state.start_time.clone()),
                cursor: None,
            },
        };
        let page = system.export_tickets(request).await.with_context(|| {
            format!(
                "pulling page {} of the history of `{}`",
                state.pages + 1,
                system.name()
            )
        })?;
        {
            let mut file = OpenOptions::new()
                .append(true)
                .open(&jsonl)
                .with_context(|| format!("cannot append to {}", jsonl.display()))?;
            let mut buf = Vec::new();
            for ticket in &page.tickets {
                serde_json::to_writer(&mut buf, ticket)?;
                buf.push(b'\n');
            }
            file.write_all(&buf)?;
            file.sync_all()?;
        }
        pulled += page.tickets.len();
        state.pages += 1;
        pages_this_run += 1;
        let same_cursor = page.cursor.is_some() && page.cursor == state.cursor;
        if page.cursor.is_some() {
            state.cursor = page.cursor;
        }
        state.end_of_stream = page.end_of_stream;
        crate::pipeline::state::write_atomically(&cursor_path, &serde_json::to_vec_pretty(&state)?)
            .with_context(|| format!("cannot write {}", cursor_path.display()))?;
        progress(PullProgress {
            pages: state.pages,
            tickets: pulled,
            resumed,
        });
        if page.end_of_stream {
            break;
        }
        if state.cursor.is_none() || same_cursor {
            bail!(
                "the history export of `{}` did not move on after page {} (no new cursor)",
                system.name(),
                state.pages
            );
        }
        if pages_this_run >= MAX_PAGES {
            bail!(
                "the history export of `{}` gave more than {MAX_PAGES} pages",
                system.name()
            );
        }
    }
    Ok(History {
        cache: jsonl,
        pulled,
        pages: state.pages,
        resumed,
        start_time: state.start_time,
    })
}

fn count_lines(path: &Path) -> anyhow::Result<usize> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .count())
}

/// The longest ticket text kept for training, in bytes (cut at a character boundary): the encoder
/// reads at most a few hundred tokens of it, and one pasted log file must not cost megabytes per
/// example.
pub const MAX_TRAINING_TEXT_BYTES: usize = 64 * 1024;

impl History {
    /// The labelled examples of the cached tickets (see [`labelled`]), each ticket once: its
    /// latest copy, at the place it was first seen. The cache is read twice, line by line: first
    /// where each ticket's latest copy is, then those copies, so memory holds the kept examples
    /// and one id per ticket, never the pulled tickets themselves.
    pub fn labelled(&self, fields: &[Field]) -> anyhow::Result<(Labelled, SkipReport)> {
        let mut latest: HashMap<String, usize> = HashMap::new();
        let mut first_seen: Vec<String> = Vec::new();
        for_each_cached(&self.cache, |line, ticket| {
            if latest.insert(ticket.id.clone(), line).is_none() {
                first_seen.push(ticket.id);
            }
        })?;
        let mut judged: HashMap<usize, Judged> = HashMap::new();
        for_each_cached(&self.cache, |line, ticket| {
            if latest.get(&ticket.id) == Some(&line) {
                judged.insert(line, judge(&ticket, fields));
            }
        })?;
        let mut out = LabelledBuilder::new(fields, first_seen.len());
        for id in &first_seen {
            // A line that vanished between the two readings (the cache is only appended to, so
            // only by someone else's hand) is left out rather than guessed.
            if let Some(j) = judged.remove(&latest[id]) {
                out.push(j);
            }
        }
        Ok(out.finish())
    }

    /// Every cached ticket once (the latest copy, at the place it was first seen), whole: for
    /// tests and small histories.
    pub fn tickets(&self) -> anyhow::Result<Vec<Ticket>> {
        let mut tickets: Vec<Ticket> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for_each_cached(&self.cache, |_, ticket| match index.get(&ticket.id) {
            Some(&i) => tickets[i] = ticket,
            None => {
                index.insert(ticket.id.clone(), tickets.len());
                tickets.push(ticket);
            }
        })?;
        Ok(tickets)
    }
}

/// Calls `each` with the line number and ticket of every readable line of a cache.
fn for_each_cached(path: &Path, mut each: impl FnMut(usize, Ticket)) -> anyhow::Result<()> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(ticket) => each(n, ticket),
            // A line cut short by an interruption: its page is pulled again.
            Err(e) => {
                tracing::warn!(file = %path.display(), line = n + 1, error = %e, "Skipping an unreadable line of the history cache.");
            }
        }
    }
    Ok(())
}

/// A label a head is trained for, as given in `--fields`:
/// - `queue`: the queue (Zendesk: group) name;
/// - `priority`: `low` / `normal` / `high` / `urgent`;
/// - `custom_field:<id>`: that custom field's value (strings as they are, numbers and booleans
///   written out, a one-element list as its element, longer lists joined with `,`);
/// - `tags:<prefix>`: a tag group, the ticket's (first, in tag order) tag that starts with
///   `<prefix>`, e.g. `tags:product_` gives `product_app`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Queue,
    Priority,
    CustomField(String),
    TagGroup(String),
}

impl Field {
    /// Parses one `--fields` entry.
    pub fn parse(s: &str) -> anyhow::Result<Field> {
        let s = s.trim();
        Ok(match s {
            "queue" => Field::Queue,
            "priority" => Field::Priority,
            _ => match s.split_once(':') {
                Some(("custom_field", id)) if !id.trim().is_empty() => {
                    Field::CustomField(id.trim().to_string())
                }
                Some(("tags", prefix)) if !prefix.trim().is_empty() => {
                    Field::TagGroup(prefix.trim().to_string())
                }
                _ => bail!(
                    "unknown field `{s}`: use queue, priority, custom_field:<id> or tags:<prefix>"
                ),
            },
        })
    }

    /// The field's name in the model folder (the head's name): `queue`, `priority`,
    /// `custom_field_<id>`, `tags_<prefix>` (trailing `_` of the prefix dropped).
    pub fn head_name(&self) -> String {
        match self {
            Field::Queue => "queue".into(),
            Field::Priority => "priority".into(),
            Field::CustomField(id) => format!("custom_field_{id}"),
            Field::TagGroup(prefix) => format!("tags_{}", prefix.trim_end_matches(['_', '-', ':'])),
        }
    }

    fn label(&self, ticket: &Ticket) -> Option<String> {
        let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        match self {
            Field::Queue => ticket.queue.as_ref()?.name.as_deref().and_then(non_empty),
            Field::Priority => ticket.priority.as_deref().and_then(non_empty),
            Field::CustomField(id) => {
                let value = &ticket.custom_fields.iter().find(|f| &f.id == id)?.value;
                match value {
                    Value::Null => None,
                    Value::String(s) => non_empty(s),
                    Value::Array(items) if items.is_empty() => None,
                    Value::Array(items) => Some(
                        items
                            .iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    other => Some(other.to_string()),
                }
            }
            Field::TagGroup(prefix) => ticket
                .tags
                .iter()
                .find(|t| t.starts_with(prefix.as_str()))
                .cloned(),
        }
    }
}

/// Parses `--fields` entries.
pub fn parse_fields(items: &[String]) -> anyhow::Result<Vec<Field>> {
    let fields = items
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Field::parse(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if fields.is_empty() {
        bail!("no fields to train: give --fields, e.g. queue,priority");
    }
    Ok(fields)
}

/// What [`labelled`] left out, and why. A ticket is counted under the first reason that applies,
/// in this order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SkipReport {
    /// Tickets looked at (each once).
    pub tickets: usize,
    /// Deleted tickets.
    pub deleted: usize,
    /// Tickets merged into another one (Zendesk closes them with a merge tag): their labels are
    /// the merge, not a routing decision.
    pub merged: usize,
    /// Tickets not finished (neither solved nor closed): agents may still change them.
    pub unfinished: usize,
    /// Finished tickets with neither subject nor body.
    pub no_text: usize,
    /// Tickets in a queue that is not among the help desk's current queues (the adapter gave the
    /// queue no name: a deleted group): left out when `queue` is a field.
    pub unknown_queue: usize,
    /// Tickets with none of the fields set.
    pub no_label: usize,
    /// Kept tickets missing a field's label: left out of that field's head only.
    pub missing_label: BTreeMap<String, usize>,
    /// Tickets kept.
    pub kept: usize,
}

impl fmt::Display for SkipReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} tickets in the history, {} kept for training.",
            self.tickets, self.kept
        )?;
        let rows = [
            (self.deleted, "deleted"),
            (self.merged, "merged into another ticket"),
            (self.unfinished, "not solved or closed"),
            (self.no_text, "no subject and no text"),
            (
                self.unknown_queue,
                "queue no longer exists (not among the current groups)",
            ),
            (self.no_label, "none of the fields set"),
        ];
        for (n, why) in rows {
            if n > 0 {
                writeln!(f, "  skipped {n:>6}: {why}")?;
            }
        }
        for (field, n) in &self.missing_label {
            writeln!(
                f,
                "  {n:>6} kept tickets have no `{field}` (left out of that head only)"
            )?;
        }
        Ok(())
    }
}

/// Labelled examples from a history: one per kept ticket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labelled {
    /// Ticket ids.
    pub ids: Vec<String>,
    /// `subject + "\n" + body`, as classification sees a ticket ([`TicketText::text`]).
    pub texts: Vec<String>,
    /// Creation times (Unix seconds) where readable.
    pub created_at: Vec<Option<f64>>,
    /// Head names, one per field.
    pub fields: Vec<String>,
    /// `labels[f][i]`: ticket `i`'s label for field `f`.
    pub labels: Vec<Vec<Option<String>>>,
}

/// Keeps the finished tickets of `history` and takes their labels for `fields`; see
/// [`SkipReport`] for what is skipped. Texts longer than [`MAX_TRAINING_TEXT_BYTES`] are cut.
pub fn labelled(tickets: &[Ticket], fields: &[Field]) -> (Labelled, SkipReport) {
    let mut out = LabelledBuilder::new(fields, tickets.len());
    for t in tickets {
        out.push(judge(t, fields));
    }
    out.finish()
}

/// One ticket, judged: an example, or why it is left out.
enum Judged {
    Kept {
        id: String,
        text: String,
        created_at: Option<f64>,
        labels: Vec<Option<String>>,
    },
    Skipped(Skip),
}

#[derive(Clone, Copy)]
enum Skip {
    Deleted,
    Merged,
    Unfinished,
    NoText,
    UnknownQueue,
    NoLabel,
}

fn judge(t: &Ticket, fields: &[Field]) -> Judged {
    // The adapter says what its statuses mean (`Ticket::state`); the host reads no status name.
    if t.state.deleted {
        return Judged::Skipped(Skip::Deleted);
    }
    if t.state.merged {
        return Judged::Skipped(Skip::Merged);
    }
    if !t.state.category.is_finished() {
        return Judged::Skipped(Skip::Unfinished);
    }
    let mut text = TicketText::new(t.subject.as_str(), t.body.as_str()).text();
    if text.is_empty() {
        return Judged::Skipped(Skip::NoText);
    }
    if fields.contains(&Field::Queue)
        && t.queue.as_ref().is_some_and(|q| {
            q.id.is_some() && q.name.as_deref().is_none_or(|n| n.trim().is_empty())
        })
    {
        return Judged::Skipped(Skip::UnknownQueue);
    }
    let labels: Vec<Option<String>> = fields.iter().map(|f| f.label(t)).collect();
    if labels.iter().all(Option::is_none) {
        return Judged::Skipped(Skip::NoLabel);
    }
    if text.len() > MAX_TRAINING_TEXT_BYTES {
        let mut end = MAX_TRAINING_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Judged::Kept {
        id: t.id.clone(),
        text,
        created_at: t
            .created_at
            .as_deref()
            .and_then(crate::classifier::data::parse_time),
        labels,
    }
}

/// Collects judged tickets into [`Labelled`] and counts the skips.
struct LabelledBuilder {
    out: Labelled,
    report: SkipReport,
}

impl LabelledBuilder {
    fn new(fields: &[Field], tickets: usize) -> Self {
        Self {
            out: Labelled {
                fields: fields.iter().map(Field::head_name).collect(),
                labels: vec![Vec::new(); fields.len()],
                ..Labelled::default()
            },
            report: SkipReport {
                tickets,
                ..SkipReport::default()
            },
        }
    }

    fn push(&mut self, judged: Judged) {
        let report = &mut self.report;
        let (id, text, created_at, labels) = match judged {
            Judged::Kept {
                id,
                text,
                created_at,
                labels,
            } => (id, text, created_at, labels),
            Judged::Skipped(skip) => {
                *match skip {
                    Skip::Deleted => &mut report.deleted,
                    Skip::Merged => &mut report.merged,
                    Skip::Unfinished => &mut report.unfinished,
                    Skip::NoText => &mut report.no_text,
                    Skip::UnknownQueue => &mut report.unknown_queue,
                    Skip::NoLabel => &mut report.no_label,
                } += 1;
                return;
            }
        };
        for (f, label) in labels.into_iter().enumerate() {
            if label.is_none() {
                *report
                    .missing_label
                    .entry(self.out.fields[f].clone())
                    .or_default() += 1;
            }
            self.out.labels[f].push(label);
        }
        self.out.ids.push(id);
        self.out.texts.push(text);
        self.out.created_at.push(created_at);
        report.kept += 1;
    }

    fn finish(self) -> (Labelled, SkipReport) {
        (self.out, self.report)
    }
}

/// One class folded into the fallback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folded {
    pub field: String,
    pub label: String,
    pub examples: usize,
}

/// Replaces every label with fewer than `min_examples` examples in its field by `fallback`, and
/// says which. The fallback label itself is never folded.
pub fn fold_rare(data: &mut Labelled, min_examples: usize, fallback: &str) -> Vec<Folded> {
    let mut folded = Vec::new();
    for (f, labels) in data.labels.iter_mut().enumerate() {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for label in labels.iter().flatten() {
            *counts.entry(label.clone()).or_default() += 1;
        }
        let rare: BTreeMap<String, usize> = counts
            .into_iter()
            .filter(|(label, n)| *n < min_examples && label != fallback)
            .collect();
        for label in labels.iter_mut() {
            if label.as_ref().is_some_and(|l| rare.contains_key(l)) {
                *label = Some(fallback.to_string());
            }
        }
        folded.extend(rare.into_iter().map(|(label, examples)| Folded {
            field: data.fields[f].clone(),
            label,
            examples,
        }));
    }
    folded
}

/// Examples per label, per field (the label maps of the training summary).
pub fn label_counts(data: &Labelled) -> BTreeMap<String, BTreeMap<String, usize>> {
    data.fields
        .iter()
        .zip(&data.labels)
        .map(|(field, labels)| {
            let mut counts = BTreeMap::new();
            for label in labels.iter().flatten() {
                *counts.entry(label.clone()).or_default() += 1;
            }
            (field.clone(), counts)
        })
        .collect()
}

#[cfg(test)]
mod tests;
