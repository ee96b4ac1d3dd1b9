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
//! the comparison scores both models on the newest of them. The model in use may have been
//! trained on some of the held-out tickets (an earlier run saw them): that favours it, so a
//! promotion is a conservative verdict.
//!
//! `otai serve` notices a repointed link within [`crate::commands::run`]'s model check and
//! reloads; `otai run` picks the new model up at its next start.

use std::{
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
            });
        };
        let (fields, missing) = compare(in_use, candidate)?;
        Ok(decide(fields, missing))
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
            "promoted": verdict.promoted,
            "reason": verdict.reason,
            "fields": verdict.fields,
            "missing": verdict.missing,
        }))
    }

    /// The verdict as printed: what it was compared with, the table, the decision.
    pub fn describe(&self, verdict: &Verdict, held_out: usize) -> String {
        match &self.in_use {
            Some(in_use) => format!(
                "Compared on the {held_out} newest held-out tickets with the model in use, {}:\n{verdict}",
                in_use.display()
            ),
            None => verdict.to_string(),
        }
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

/// Scores the model in use on the candidate's held-out rows beside the candidate's held-out
/// figures. The in-use model's labels are folded like the candidate's training labels were (a
/// label folded into the fallback counts as the fallback). Also returns the fields the model in
/// use routes that the candidate lacks.
pub fn compare(
    in_use: &Path,
    candidate: &Candidate<'_>,
) -> anyhow::Result<(Vec<FieldComparison>, Vec<String>)> {
    let Candidate {
        dataset,
        is_holdout,
        folded,
        fallback,
        report,
        ..
    } = *candidate;
    let classifier = Classifier::load(in_use, &ClassifierOptions::default())
        .with_context(|| format!("cannot load the model in use, {}", in_use.display()))?;
    let rows: Vec<usize> = (0..dataset.len()).filter(|&i| is_holdout[i]).collect();
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
        let Some(candidate) = report
            .fields
            .iter()
            .find(|r| &r.field == field)
            .and_then(|r| r.holdout.as_ref())
        else {
            continue;
        };
        if !in_use_fields.contains(field) {
            continue;
        }
        let (mut right, mut examples) = (0usize, 0usize);
        for (&i, prediction) in rows.iter().zip(&predictions) {
            let (Some(truth), Some(p)) = (&dataset.labels[f][i], prediction.field(field)) else {
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
        }
        fields.push(FieldComparison {
            field: field.clone(),
            examples,
            in_use: right as f64 / examples.max(1) as f64,
            candidate: candidate.accuracy,
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
}
