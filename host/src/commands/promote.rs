//! `otai train --system NAME --promote LINK`: a scheduled retraining that puts a new model in use
//! only when it routes the newest tickets better than the model in use.
//!
//! `LINK` is a symbolic link to the model folder the pipelines use (their `model:` names the link,
//! so they never need editing). Training holds out the newest tickets of the history as always;
//! the model the link points to classifies the same held-out tickets, and the candidate is
//! **promoted** (written, and the link repointed to it in one atomic rename) only if
//!
//! - it routes every field the model in use routes (promoting must not silently drop one), and
//! - its mean held-out accuracy over the shared fields is higher, and
//! - no shared field is more than [`MAX_FIELD_DROP`] lower.
//!
//! A candidate that is not promoted is not written. The folder in use is never touched or
//! removed; old folders stay for going back (`ln -sfn OLD LINK`). Every comparison, promoted or
//! not, is printed and appended as one JSON line to `LINK.promotions.jsonl`.
//!
//! Agents' corrections are how the history teaches: a ticket otai routed and an agent moved is
//! labelled with the agent's queue, so a candidate trained on newer history learns from them and
//! the comparison scores both models on the newest of them.
//!
//! Both are scored only on held-out tickets **created after the model in use's history pull**
//! (`history.pulled_at` in its `training.json`): it cannot have learned from those, and the
//! candidate's figures there come from its first fit, which never saw them either. A weekly
//! retraining holding out the newest tenth of half a year's history would otherwise score the
//! model in use mostly on its own training tickets and keep it for ever. With fewer than
//! [`MIN_UNSEEN_TICKETS`] such tickets (or a model in use trained from a file, which records no
//! pull), all held-out tickets are used and the verdict says that this favours the model in use.
//!
//! `otai serve` notices a repointed link within [`crate::commands::run`]'s model check and
//! reloads; `otai run` picks the new model up at its next start.

use std::{
    collections::HashMap,
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context as _};
use serde::Serialize;

use crate::{
    classifier::{data::Dataset, Classifier, ClassifierOptions, TrainReport},
    history::Folded,
};

/// How far (accuracy, 0-1) one field may fall for a candidate still to be promoted on a better
/// mean: two points, a few tickets of a small held-out split.
pub const MAX_FIELD_DROP: f64 = 0.02;

/// Fewer held-out tickets newer than the model in use than this, and both models are scored on
/// all held-out tickets instead: a handful would decide on noise.
pub const MIN_UNSEEN_TICKETS: usize = 20;

/// The link `--promote` names and the model folder it points to now.
#[derive(Debug, Clone)]
pub struct PromotionLink {
    link: PathBuf,
    in_use: Option<PathBuf>,
}

impl PromotionLink {
    /// Reads `link`: missing (the first promotion creates it) or a symbolic link to a model
    /// folder. A real folder or file there is refused: otai never replaces what it did not make.
    pub fn open(link: &Path) -> anyhow::Result<Self> {
        let in_use = match std::fs::symlink_metadata(link) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", link.display())),
            Ok(meta) if !meta.file_type().is_symlink() => bail!(
                "--promote {}: it is a {}, not a symbolic link; move the model folder elsewhere and \
                 link to it (`ln -s FOLDER {}`), then point the pipelines' `model:` at the link",
                link.display(),
                if meta.is_dir() { "folder" } else { "file" },
                link.display()
            ),
            Ok(_) => {
                let target = std::fs::read_link(link)
                    .with_context(|| format!("cannot read the link {}", link.display()))?;
                let target = if target.is_relative() {
                    parent_of(link).join(target)
                } else {
                    target
                };
                if !target.join("otai-model.json").is_file() {
                    bail!(
                        "--promote {}: it points to {}, which is not a model folder (no \
                         otai-model.json); repoint it to the model in use (`ln -sfn FOLDER {}`)",
                        link.display(),
                        target.display(),
                        link.display()
                    );
                }
                Some(target)
            }
        };
        Ok(Self {
            link: link.to_path_buf(),
            in_use,
        })
    }

    /// The link itself.
    pub fn link(&self) -> &Path {
        &self.link
    }

    /// The model folder in use, if the link exists.
    pub fn in_use(&self) -> Option<&Path> {
        self.in_use.as_deref()
    }

    /// Where a new candidate goes by default: beside the link, `<system>-<stamp>`.
    pub fn candidate_dir(&self, system: &str, stamp: &str) -> PathBuf {
        parent_of(&self.link).join(format!("{system}-{stamp}"))
    }

    /// The comparison log, `LINK.promotions.jsonl`.
    pub fn log_path(&self) -> PathBuf {
        let mut name = self.link.file_name().unwrap_or_default().to_os_string();
        name.push(".promotions.jsonl");
        self.link.with_file_name(name)
    }

    /// Points the link at `folder` in one step: a new link beside it renamed over it, so a
    /// pipeline starting at that moment opens the old model or the new one, never neither.
    /// The target is written relative when the folder sits beside the link (the models folder
    /// can then be moved whole).
    pub fn repoint(&self, folder: &Path) -> anyhow::Result<()> {
        let dir = parent_of(&self.link);
        let target = match (folder.parent(), folder.file_name()) {
            (Some(parent), Some(name)) if same_folder(parent, dir) => PathBuf::from(name),
            _ => std::fs::canonicalize(folder)
                .with_context(|| format!("cannot resolve {}", folder.display()))?,
        };
        let name = self.link.file_name().unwrap_or_default().to_string_lossy();
        let staging = dir.join(format!(".{name}.promoting-{}", std::process::id()));
        let _ = std::fs::remove_file(&staging);
        std::os::unix::fs::symlink(&target, &staging)
            .with_context(|| format!("cannot create the link {}", staging.display()))?;
        std::fs::rename(&staging, &self.link).with_context(|| {
            let _ = std::fs::remove_file(&staging);
            format!("cannot repoint {}", self.link.display())
        })
    }

    /// The verdict on `candidate`: promoted when there is no model in use yet, else by the
    /// comparison on the held-out tickets ([`compare`], [`decide`]).
    pub fn judge(&self, candidate: &Candidate<'_>) -> anyhow::Result<Verdict> {
        let Some(in_use) = &self.in_use else {
            return Ok(Verdict {
                promoted: true,
                reason: format!(
                    "no model in use yet ({} did not exist)",
                    self.link.display()
                ),
                fields: Vec::new(),
                missing: Vec::new(),
                scored_on: None,
            });
        };
        let (rows, scored_on) =
            rows_to_score(candidate.dataset, candidate.is_holdout, pulled_at(in_use));
        let (fields, missing) = compare(in_use, candidate, &rows)?;
        Ok(Verdict {
            scored_on: Some(scored_on),
            ..decide(fields, missing)
        })
    }

    /// Logs a verdict ([`PromotionLink::log`]) with what was compared.
    pub fn record(
        &self,
        system: &str,
        candidate: &Candidate<'_>,
        verdict: &Verdict,
    ) -> anyhow::Result<()> {
        tracing::info!(system, promoted = verdict.promoted, reason = %verdict.reason, "Compared the new model with the model in use.");
        self.log(&serde_json::json!({
            "time": crate::history::since::rfc3339(crate::history::since::now_unix()),
            "system": system,
            "link": self.link.display().to_string(),
            "in_use": self.in_use.as_ref().map(|p| p.display().to_string()),
            "candidate": candidate.dir.display().to_string(),
            "held_out": candidate.report.holdout_examples,
            "scored_on": verdict.scored_on,
            "promoted": verdict.promoted,
            "reason": verdict.reason,
            "fields": verdict.fields,
            "missing": verdict.missing,
        }))
    }

    /// The verdict as printed: what it was compared with, the table, the decision.
    pub fn describe(&self, verdict: &Verdict) -> String {
        let (Some(in_use), Some(on)) = (&self.in_use, &verdict.scored_on) else {
            return verdict.to_string();
        };
        let tickets = match (&on.created_after, &on.caveat) {
            (Some(after), _) => format!(
                "the {} held-out tickets created after its history pull ({after})",
                on.tickets
            ),
            (None, Some(caveat)) => format!("all {} held-out tickets ({caveat})", on.tickets),
            (None, None) => format!("{} held-out tickets", on.tickets),
        };
        format!(
            "Compared with the model in use, {}, on {tickets}:\n{verdict}",
            in_use.display()
        )
    }

    /// Appends one comparison to [`PromotionLink::log_path`] and syncs it.
    pub fn log(&self, entry: &serde_json::Value) -> anyhow::Result<()> {
        let path = self.log_path();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        writeln!(file, "{entry}").with_context(|| format!("cannot write {}", path.display()))?;
        file.sync_data()
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// `a/b` for `a/b/link`, `.` for `link`.
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn same_folder(a: &Path, b: &Path) -> bool {
    let a = if a.as_os_str().is_empty() {
        Path::new(".")
    } else {
        a
    };
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// One field's held-out accuracy under both models.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldComparison {
    pub field: String,
    /// Held-out tickets with a label for the field.
    pub examples: usize,
    pub in_use: f64,
    pub candidate: f64,
}

/// The comparison and what it decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub promoted: bool,
    pub reason: String,
    pub fields: Vec<FieldComparison>,
    /// Fields the model in use routes that the candidate does not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The held-out tickets both were scored on (none without a model in use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scored_on: Option<ScoredOn>,
}

/// Which held-out tickets the two models were scored on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredOn {
    pub tickets: usize,
    /// Only tickets created after this time (RFC 3339), the model in use's history pull.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_after: Option<String>,
    /// Why every held-out ticket was used, when they all were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
}

impl ScoredOn {
    fn all(tickets: usize, why: String) -> Self {
        Self {
            tickets,
            created_after: None,
            caveat: Some(format!(
                "{why}; it may have learned from some of them, which favours it"
            )),
        }
    }
}

/// The time of the history pull the model in `folder` was trained on (`history.pulled_at` in
/// its `training.json`), as written and in Unix seconds; or why there is none.
pub fn pulled_at(folder: &Path) -> Result<(String, f64), String> {
    let path = folder.join("training.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|_| format!("{} has no training.json", folder.display()))?;
    let summary: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} cannot be read ({e})", path.display()))?;
    let Some(pulled) = summary["history"]["pulled_at"].as_str() else {
        return Err(format!(
            "the model in use was not trained from a help desk's history ({} records no pull)",
            path.display()
        ));
    };
    match crate::classifier::data::parse_time(pulled) {
        Some(t) => Ok((pulled.to_string(), t)),
        None => Err(format!(
            "{}: history.pulled_at `{pulled}` is not a time",
            path.display()
        )),
    }
}

/// The held-out rows to score both models on: those created after `pull` (the model in use's
/// history pull) when there are at least [`MIN_UNSEEN_TICKETS`] of them, else all held-out rows.
pub fn rows_to_score(
    dataset: &Dataset,
    is_holdout: &[bool],
    pull: Result<(String, f64), String>,
) -> (Vec<usize>, ScoredOn) {
    let held: Vec<usize> = (0..dataset.len()).filter(|&i| is_holdout[i]).collect();
    let (pulled, cutoff) = match pull {
        Ok(pull) => pull,
        Err(why) => {
            let scored_on = ScoredOn::all(held.len(), why);
            return (held, scored_on);
        }
    };
    let unseen: Vec<usize> = held
        .iter()
        .copied()
        .filter(|&i| {
            dataset
                .created_at
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|t| t > cutoff)
        })
        .collect();
    if unseen.len() < MIN_UNSEEN_TICKETS {
        let why = format!(
            "only {} of the {} held-out tickets were created after the model in use's history \
             pull ({pulled}), fewer than {MIN_UNSEEN_TICKETS}, so all were used",
            unseen.len(),
            held.len()
        );
        let scored_on = ScoredOn::all(held.len(), why);
        return (held, scored_on);
    }
    let scored_on = ScoredOn {
        tickets: unseen.len(),
        created_after: Some(pulled),
        caveat: None,
    };
    (unseen, scored_on)
}

/// A trained candidate: where it would go, what it was trained on and how it scored.
pub struct Candidate<'a> {
    pub dir: &'a Path,
    pub dataset: &'a Dataset,
    /// The rows its first fit never saw (what `report`'s held-out figures were scored on).
    pub is_holdout: &'a [bool],
    /// Labels folded into `fallback` for training.
    pub folded: &'a [Folded],
    pub fallback: &'a str,
    pub report: &'a TrainReport,
}

/// Scores the model in use and the candidate's first fit on `rows` (held-out rows, see
/// [`rows_to_score`]). The in-use model's labels are folded like the candidate's training labels
/// were (a label folded into the fallback counts as the fallback). Also returns the fields the
/// model in use routes that the candidate lacks.
pub fn compare(
    in_use: &Path,
    candidate: &Candidate<'_>,
    rows: &[usize],
) -> anyhow::Result<(Vec<FieldComparison>, Vec<String>)> {
    let Candidate {
        dataset,
        folded,
        fallback,
        report,
        ..
    } = *candidate;
    let classifier = Classifier::load(in_use, &ClassifierOptions::default())
        .with_context(|| format!("cannot load the model in use, {}", in_use.display()))?;
    let texts: Vec<String> = rows.iter().map(|&i| dataset.texts[i].clone()).collect();
    let predictions = classifier
        .classify_texts_blocking(texts)
        .with_context(|| format!("the model in use, {}, cannot classify", in_use.display()))?;
    let in_use_fields: Vec<String> = classifier
        .fields()
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut fields = Vec::new();
    for (f, field) in dataset.fields.iter().enumerate() {
        let Some(candidate) = report.fields.iter().find(|r| &r.field == field) else {
            continue;
        };
        if candidate.holdout.is_none() || !in_use_fields.contains(field) {
            continue;
        }
        // The candidate's outcome on each held-out row of this field: both models are scored on
        // exactly the labelled rows in `rows`.
        let candidate_right: HashMap<usize, bool> =
            candidate.holdout_outcomes.iter().copied().collect();
        let (mut right, mut candidate_hits, mut examples) = (0usize, 0usize, 0usize);
        for (&i, prediction) in rows.iter().zip(&predictions) {
            let (Some(truth), Some(p), Some(&candidate_hit)) = (
                &dataset.labels[f][i],
                prediction.field(field),
                candidate_right.get(&i),
            ) else {
                continue;
            };
            let label = &p.best().label;
            let label = if folded
                .iter()
                .any(|x| &x.field == field && &x.label == label)
            {
                fallback
            } else {
                label.as_str()
            };
            examples += 1;
            right += usize::from(label == truth);
            candidate_hits += usize::from(candidate_hit);
        }
        if examples == 0 {
            continue;
        }
        fields.push(FieldComparison {
            field: field.clone(),
            examples,
            in_use: right as f64 / examples as f64,
            candidate: candidate_hits as f64 / examples as f64,
        });
    }
    let missing = in_use_fields
        .into_iter()
        .filter(|f| f != crate::classifier::language::FIELD && !dataset.fields.contains(f))
        .collect();
    Ok((fields, missing))
}

/// The promotion rule (module docs) applied to a comparison.
pub fn decide(fields: Vec<FieldComparison>, missing: Vec<String>) -> Verdict {
    let verdict = |promoted: bool, reason: String| Verdict {
        promoted,
        reason,
        fields: fields.clone(),
        missing: missing.clone(),
        scored_on: None,
    };
    if !missing.is_empty() {
        return verdict(
            false,
            format!(
                "the model in use also routes {}, which the candidate was not trained for (add \
                 them to --fields)",
                missing.join(", ")
            ),
        );
    }
    if fields.is_empty() {
        return verdict(
            false,
            "the candidate shares no held-out field with the model in use".into(),
        );
    }
    let mean = |pick: fn(&FieldComparison) -> f64| {
        fields.iter().map(pick).sum::<f64>() / fields.len() as f64
    };
    let (old, new) = (mean(|f| f.in_use), mean(|f| f.candidate));
    if let Some(worse) = fields
        .iter()
        .find(|f| f.candidate < f.in_use - MAX_FIELD_DROP)
    {
        return verdict(
            false,
            format!(
                "`{}` would fall from {:.1} % to {:.1} % (more than {:.0} points)",
                worse.field,
                100.0 * worse.in_use,
                100.0 * worse.candidate,
                100.0 * MAX_FIELD_DROP
            ),
        );
    }
    if new > old {
        verdict(
            true,
            format!(
                "mean held-out accuracy {:.1} % against {:.1} % in use",
                100.0 * new,
                100.0 * old
            ),
        )
    } else {
        verdict(
            false,
            format!(
                "mean held-out accuracy {:.1} % does not beat the {:.1} % of the model in use",
                100.0 * new,
                100.0 * old
            ),
        )
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<16} {:>9} {:>9} {:>10}",
            "field", "held out", "in use", "candidate"
        )?;
        for c in &self.fields {
            writeln!(
                f,
                "{:<16} {:>9} {:>7.1} % {:>8.1} %",
                c.field,
                c.examples,
                100.0 * c.in_use,
                100.0 * c.candidate
            )?;
        }
        write!(
            f,
            "{}: {}.",
            if self.promoted {
                "Promoted"
            } else {
                "Not promoted"
            },
            self.reason
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, in_use: f64, candidate: f64) -> FieldComparison {
        FieldComparison {
            field: name.into(),
            examples: 100,
            in_use,
            candidate,
        }
    }

    #[test]
    fn a_better_mean_promotes_unless_a_field_falls_too_far_or_is_missing() {
        let better = decide(
            vec![field("queue", 0.80, 0.85), field("priority", 0.70, 0.69)],
            vec![],
        );
        assert!(better.promoted, "{better}");
        assert!(better.reason.contains("77.0 % against 75.0 %"), "{better}");

        let equal = decide(vec![field("queue", 0.80, 0.80)], vec![]);
        assert!(!equal.promoted, "a tie keeps the model in use: {equal}");

        let falls = decide(
            vec![field("queue", 0.60, 0.90), field("priority", 0.70, 0.67)],
            vec![],
        );
        assert!(!falls.promoted);
        assert!(falls.reason.contains("`priority` would fall"), "{falls}");

        let missing = decide(vec![field("queue", 0.5, 0.9)], vec!["priority".into()]);
        assert!(!missing.promoted);
        assert!(missing.reason.contains("also routes priority"), "{missing}");

        let nothing_shared = decide(vec![], vec![]);
        assert!(!nothing_shared.promoted);
        let text = better.to_string();
        assert!(text.contains("queue") && text.contains("85.0 %"), "{text}");
        assert!(text.ends_with("Promoted: mean held-out accuracy 77.0 % against 75.0 % in use."));
    }

    #[test]
    fn the_link_is_created_repointed_relative_and_never_replaces_a_real_folder() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zendesk");
        let first = PromotionLink::open(&link).unwrap();
        assert!(first.in_use().is_none());
        assert_eq!(
            first.log_path(),
            dir.path().join("zendesk.promotions.jsonl")
        );
        let candidate = first.candidate_dir("zendesk", "20261202T000000Z");
        assert_eq!(candidate, dir.path().join("zendesk-20261202T000000Z"));
        std::fs::create_dir(&candidate).unwrap();
        std::fs::write(candidate.join("otai-model.json"), "{}").unwrap();
        first.repoint(&candidate).unwrap();
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            PathBuf::from("zendesk-20261202T000000Z"),
            "relative, beside the link"
        );
        let again = PromotionLink::open(&link).unwrap();
        assert_eq!(again.in_use(), Some(candidate.as_path()));

        // A link to something that is not a model folder is named.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        again.repoint(&empty).unwrap();
        let err = PromotionLink::open(&link).unwrap_err().to_string();
        assert!(err.contains("not a model folder"), "{err}");

        // A real folder is refused, named, and left alone.
        let folder = dir.path().join("real");
        std::fs::create_dir(&folder).unwrap();
        let err = PromotionLink::open(&folder).unwrap_err().to_string();
        assert!(err.contains("it is a folder, not a symbolic link"), "{err}");
        assert!(folder.is_dir());

        // Logged lines append.
        again.log(&serde_json::json!({"n": 1})).unwrap();
        again.log(&serde_json::json!({"n": 2})).unwrap();
        let log = std::fs::read_to_string(again.log_path()).unwrap();
        assert_eq!(log, "{\"n\":1}\n{\"n\":2}\n");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("promoting")),
            "no staging link left behind"
        );
    }

    /// `n` held-out tickets created one hour apart from `start` (Unix seconds), every other one
    /// without a time, plus one training ticket.
    fn held_out_tickets(n: usize, start: f64) -> (Dataset, Vec<bool>) {
        let created_at: Vec<Option<f64>> = (0..=n)
            .map(|i| (i % 2 == 0).then_some(start + 3600.0 * i as f64))
            .collect();
        let dataset = Dataset {
            path: PathBuf::from("history.jsonl"),
            texts: vec!["ticket".into(); n + 1],
            lines: (1..=n + 1).collect(),
            fields: vec!["queue".into()],
            labels: vec![vec![Some("billing".into()); n + 1]],
            created_at,
        };
        let is_holdout = (0..=n).map(|i| i > 0).collect();
        (dataset, is_holdout)
    }

    #[test]
    fn only_tickets_newer_than_the_pull_are_scored_when_there_are_enough() {
        let pull = ("2026-12-01T00:00:00Z".to_string(), 1_796_083_200.0);
        // 60 held-out rows (1..=60); the even ones have times, 0-59 hours after one hour before
        // the pull, so rows 2, 4, ..., 60 (30 of them) are newer than it.
        let (dataset, is_holdout) = held_out_tickets(60, pull.1 - 3600.0);
        let (rows, on) = rows_to_score(&dataset, &is_holdout, Ok(pull.clone()));
        assert_eq!(rows, (2..=60).step_by(2).collect::<Vec<_>>());
        assert_eq!(on.tickets, 30);
        assert_eq!(on.created_after.as_deref(), Some("2026-12-01T00:00:00Z"));
        assert!(on.caveat.is_none());

        // 30 held-out rows, 15 unseen at most: too few, so all 30 with a caveat naming both counts.
        let (dataset, is_holdout) = held_out_tickets(30, pull.1 + 3600.0 * 2.0);
        let (rows, on) = rows_to_score(&dataset, &is_holdout, Ok(pull.clone()));
        assert_eq!(rows, (1..=30).collect::<Vec<_>>());
        assert_eq!((on.tickets, on.created_after.clone()), (30, None));
        let caveat = on.caveat.unwrap();
        assert!(
            caveat.starts_with("only 15 of the 30 held-out tickets were created after"),
            "{caveat}"
        );
        assert!(caveat.contains("favours it"), "{caveat}");

        // No pull: all held-out rows, and why.
        let (rows, on) = rows_to_score(&dataset, &is_holdout, Err("no history".into()));
        assert_eq!(rows.len(), 30);
        assert!(on.caveat.unwrap().starts_with("no history;"));
    }

    #[test]
    fn the_pull_time_is_read_from_training_json_or_its_absence_explained() {
        let dir = tempfile::tempdir().unwrap();
        let err = pulled_at(dir.path()).unwrap_err();
        assert!(err.contains("has no training.json"), "{err}");

        let summary = dir.path().join("training.json");
        std::fs::write(&summary, r#"{"data": "train.csv"}"#).unwrap();
        let err = pulled_at(dir.path()).unwrap_err();
        assert!(
            err.contains("not trained from a help desk's history"),
            "{err}"
        );

        std::fs::write(&summary, r#"{"history": {"pulled_at": "yesterday"}}"#).unwrap();
        let err = pulled_at(dir.path()).unwrap_err();
        assert!(err.contains("`yesterday` is not a time"), "{err}");

        std::fs::write(
            &summary,
            r#"{"history": {"pulled_at": "2026-12-01T00:00:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(
            pulled_at(dir.path()).unwrap(),
            ("2026-12-01T00:00:00Z".to_string(), 1_796_083_200.0)
        );
    }

    #[test]
    fn the_printed_verdict_says_which_tickets_were_scored() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("zendesk-1");
        std::fs::create_dir(&model).unwrap();
        std::fs::write(model.join("otai-model.json"), "{}").unwrap();
        let link = dir.path().join("zendesk");
        std::os::unix::fs::symlink(&model, &link).unwrap();
        let promotion = PromotionLink::open(&link).unwrap();
        let verdict = Verdict {
            scored_on: Some(ScoredOn {
                tickets: 31,
                created_after: Some("2026-12-01T00:00:00Z".into()),
                caveat: None,
            }),
            ..decide(vec![field("queue", 0.5, 0.8)], vec![])
        };
        let text = promotion.describe(&verdict);
        assert!(
            text.contains(
                "on the 31 held-out tickets created after its history pull (2026-12-01T00:00:00Z):"
            ),
            "{text}"
        );
        let verdict = Verdict {
            scored_on: Some(ScoredOn::all(40, "no pull".into())),
            ..verdict
        };
        let text = promotion.describe(&verdict);
        assert!(
            text.contains("on all 40 held-out tickets (no pull; it may"),
            "{text}"
        );
    }
}
