//! The status page at `/`: server-rendered HTML, no script and no build step. It reloads itself
//! every [`REFRESH_SECS`] seconds, so an open page follows the passes.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

use super::{
    readiness::Check,
    status::{Snapshot, CONFIDENCE_BUCKETS},
    WebhookSupport,
};

/// How often the page reloads itself.
pub const REFRESH_SECS: u32 = 5;

/// One pipeline as the page introduces it.
#[derive(Debug, Clone)]
pub struct PipelineInfo {
    pub name: String,
    pub ticket_system: String,
    pub model: PathBuf,
    /// The folder `model` led to when the pipeline started, when that is another path (a link,
    /// repointed by `otai train --promote`): which model is in use.
    pub model_folder: Option<PathBuf>,
    pub dry_run: bool,
    /// Per field, the coverage / precision table the model was evaluated with (from its
    /// `training.json`), if it has one.
    pub coverage: BTreeMap<String, Vec<CoverageRow>>,
}

/// One row of a model's coverage / precision table.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageRow {
    pub threshold: f64,
    pub coverage: f64,
    pub precision: f64,
}

/// The coverage tables in `<model>/training.json` (`fields[].evaluation.coverage`); none if
/// the file is missing or has none (a model from elsewhere).
pub fn coverage_tables(model: &Path) -> BTreeMap<String, Vec<CoverageRow>> {
    let Ok(text) = std::fs::read_to_string(model.join("training.json")) else {
        return BTreeMap::new();
    };
    let Ok(json) = serde_json::from_str::<Value>(&text) else {
        return BTreeMap::new();
    };
    let mut tables = BTreeMap::new();
    for field in json["fields"].as_array().into_iter().flatten() {
        let (Some(name), Some(rows)) = (
            field["field"].as_str(),
            field["evaluation"]["coverage"].as_array(),
        ) else {
            continue;
        };
        let rows: Vec<CoverageRow> = rows
            .iter()
            .filter_map(|r| {
                Some(CoverageRow {
                    threshold: r["threshold"].as_f64()?,
                    coverage: r["coverage"].as_f64()?,
                    precision: r["precision"].as_f64()?,
                })
            })
            .collect();
        if !rows.is_empty() {
            tables.insert(name.to_string(), rows);
        }
    }
    tables
}

/// Everything the page shows besides the snapshot.
pub struct PageInput<'a> {
    pub pipelines: &'a [PipelineInfo],
    pub systems: Vec<(String, WebhookSupport)>,
    pub checks: BTreeMap<String, Check>,
    pub waiting: usize,
    pub started: SystemTime,
}

/// HTML-escapes text for element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-12-02 10:00:00 UTC`.
fn when(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a (year, month, day) of the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}\
table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}\
th{background:#f3f3f3}.ok{color:#176d2c}.bad{color:#a31515}.muted{color:#777}\
.bar{display:inline-block;height:.7rem;background:#4a7bd0}";

/// The whole page.
pub fn render(input: &PageInput<'_>, snapshot: &Snapshot) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
         <title>otai status</title><style>{STYLE}</style></head><body>\
         <h1>otai status</h1><p class=\"muted\">Serving since {}; this page reloads every {REFRESH_SECS} s. \
         Webhook tickets waiting: <span id=\"waiting\">{}</span>.</p>",
        when(input.started),
        input.waiting
    );
    ticket_systems(&mut html, input);
    pipelines(&mut html, input, snapshot);
    decisions(&mut html, snapshot);
    failures(&mut html, snapshot);
    fields(&mut html, input, snapshot);
    html.push_str("</body></html>\n");
    html
}

fn ticket_systems(html: &mut String, input: &PageInput<'_>) {
    html.push_str("<h2>Ticket systems</h2><table id=\"ticket-systems\"><tr><th>name</th><th>connection</th><th>webhooks</th></tr>");
    for (name, support) in &input.systems {
        let connection = match input.checks.get(name) {
            Some(c) if c.reachable => {
                format!("<span class=\"ok\">reachable</span>: {}", esc(&c.detail))
            }
            Some(c) => format!("<span class=\"bad\">unreachable</span>: {}", esc(&c.detail)),
            None => "<span class=\"muted\">not checked yet</span>".into(),
        };
        let webhooks = match support {
            WebhookSupport::Verified => {
                format!("verified at <code>POST /webhooks/{}</code>", esc(name))
            }
            WebhookSupport::Unsupported(why) | WebhookSupport::NotConfigured(why) => {
                format!("<span class=\"bad\">refused</span>: {}", esc(why))
            }
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{connection}</td><td>{webhooks}</td></tr>",
            esc(name)
        );
    }
    html.push_str("</table>");
}

fn pipelines(html: &mut String, input: &PageInput<'_>, snapshot: &Snapshot) {
    html.push_str("<h2>Pipelines</h2>");
    for p in input.pipelines {
        let _ = write!(
            html,
            "<h3>{}</h3><p class=\"muted\">ticket system {}, model {}{}{}</p>",
            esc(&p.name),
            esc(&p.ticket_system),
            esc(&p.model.display().to_string()),
            match &p.model_folder {
                Some(folder) => format!(" (the folder {})", esc(&folder.display().to_string())),
                None => String::new(),
            },
            if p.dry_run {
                ", dry run (nothing written)"
            } else {
                ""
            }
        );
        let passes = snapshot
            .passes
            .get(&p.name)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if passes.is_empty() {
            html.push_str("<p class=\"muted\">No pass yet.</p>");
            continue;
        }
        let _ = write!(html, "<table class=\"passes\" data-pipeline=\"{}\"><tr><th>started</th><th>took</th><th>fetched</th><th>classified</th><th>written</th><th>skipped</th><th>failed</th><th>outcome</th></tr>", esc(&p.name));
        for pass in passes {
            let s = &pass.summary;
            let outcome = match &pass.failure {
                None => "<span class=\"ok\">ok</span>".to_string(),
                Some(why) => format!("<span class=\"bad\">failed: {}</span>", esc(why)),
            };
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{outcome}</td></tr>",
                when(pass.started),
                seconds(pass.took),
                s.fetched,
                s.classified,
                s.written,
                s.routed + s.waiting,
                s.conflicts + s.unknown + s.failed,
            );
        }
        html.push_str("</table>");
    }
}

fn decisions(html: &mut String, snapshot: &Snapshot) {
    html.push_str("<h2>Latest decisions</h2>");
    if snapshot.decisions.is_empty() {
        html.push_str("<p class=\"muted\">No ticket classified yet.</p>");
        return;
    }
    html.push_str("<table id=\"decisions\"><tr><th>when</th><th>pipeline</th><th>ticket</th><th>subject</th><th>fields (label, confidence, action)</th><th>write</th></tr>");
    for d in &snapshot.decisions {
        let fields: Vec<String> = d
            .fields
            .iter()
            .map(|f| {
                format!(
                    "<b>{}</b>: {} {} &rarr; {}",
                    esc(&f.field),
                    esc(f.label.as_deref().unwrap_or("-")),
                    f.confidence.map_or("-".into(), |c| format!("{c:.2}")),
                    esc(&f.action)
                )
            })
            .collect();
        let class = if d.written { "ok" } else { "bad" };
        let _ = write!(
            html,
            "<tr class=\"decision\" data-ticket=\"{ticket}\"><td>{}</td><td>{}</td><td>{ticket}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            when(d.at),
            esc(&d.pipeline),
            esc(&d.subject),
            fields.join("<br>"),
            esc(&d.result),
            ticket = esc(&d.ticket),
        );
    }
    html.push_str("</table>");
}

fn failures(html: &mut String, snapshot: &Snapshot) {
    html.push_str("<h2>Failed tickets</h2>");
    if snapshot.failures.is_empty() {
        html.push_str("<p class=\"muted\">None.</p>");
        return;
    }
    html.push_str("<table id=\"failures\"><tr><th>when</th><th>pipeline</th><th>ticket</th><th>subject</th><th>reason</th></tr>");
    for f in &snapshot.failures {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"bad\">{}</td></tr>",
            when(f.at),
            esc(&f.pipeline),
            esc(&f.ticket),
            esc(&f.subject),
            esc(&f.reason)
        );
    }
    html.push_str("</table>");
}

fn fields(html: &mut String, input: &PageInput<'_>, snapshot: &Snapshot) {
    html.push_str("<h2>Fields</h2>");
    for p in input.pipelines {
        let names: std::collections::BTreeSet<&str> = snapshot
            .confidence
            .keys()
            .filter(|(pipeline, _)| *pipeline == p.name)
            .map(|(_, field)| field.as_str())
            .chain(p.coverage.keys().map(String::as_str))
            .collect();
        for field in names {
            let _ = write!(html, "<h3>{} / {}</h3>", esc(&p.name), esc(field));
            if let Some(counts) = snapshot
                .confidence
                .get(&(p.name.clone(), field.to_string()))
            {
                let most = counts.iter().copied().max().unwrap_or(0).max(1);
                html.push_str("<table class=\"confidence\"><tr><th>confidence</th><th colspan=\"2\">tickets since start</th></tr>");
                for (i, n) in counts.iter().enumerate() {
                    let width = (*n as f64 / most as f64 * 200.0).round();
                    let _ = write!(
                        html,
                        "<tr><td>{:.1}-{:.1}</td><td>{n}</td><td><span class=\"bar\" style=\"width:{width}px\"></span></td></tr>",
                        i as f64 / CONFIDENCE_BUCKETS as f64,
                        (i + 1) as f64 / CONFIDENCE_BUCKETS as f64
                    );
                }
                html.push_str("</table>");
            }
            if let Some(rows) = p.coverage.get(field) {
                html.push_str("<table class=\"coverage\"><tr><th>threshold</th><th>coverage</th><th>precision</th></tr>");
                for r in rows {
                    let _ = write!(
                        html,
                        "<tr><td>{:.2}</td><td>{}</td><td>{}</td></tr>",
                        r.threshold,
                        percent(r.coverage),
                        percent(r.precision)
                    );
                }
                html.push_str("</table><p class=\"muted\">From the model's evaluation on held-out examples (training.json).</p>");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<b>\"Tom & Jerry's\"</b>"),
            "&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn times_are_utc_calendar_dates() {
        assert_eq!(when(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            when(UNIX_EPOCH + Duration::from_secs(1_796_205_600)),
            "2026-12-02 10:00:00 UTC"
        );
        assert_eq!(
            when(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29 00:00:00 UTC"
        );
    }

    #[test]
    fn a_models_coverage_tables_are_read_from_its_training_report() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("training.json"),
            r#"{"fields": [
                {"field": "queue", "evaluation": {"coverage": [
                    {"threshold": 0.5, "coverage": 0.99, "precision": 0.97, "routed": 990},
                    {"threshold": 0.9, "coverage": 0.8, "precision": 0.995, "routed": 800}]}},
                {"field": "priority"}]}"#,
        )
        .unwrap();
        let tables = coverage_tables(dir.path());
        assert_eq!(tables.len(), 1, "{tables:?}");
        assert_eq!(
            tables["queue"][1],
            CoverageRow {
                threshold: 0.9,
                coverage: 0.8,
                precision: 0.995
            }
        );
        assert!(coverage_tables(Path::new("/nonexistent")).is_empty());
    }

    #[test]
    fn an_empty_page_renders_with_every_section() {
        let pipelines = [PipelineInfo {
            name: "demo".into(),
            ticket_system: "zendesk".into(),
            model: "models/banking77".into(),
            model_folder: Some("/srv/models/banking77-20261202T000000Z".into()),
            dry_run: false,
            coverage: BTreeMap::new(),
        }];
        let input = PageInput {
            pipelines: &pipelines,
            systems: vec![("zendesk".into(), WebhookSupport::Verified)],
            checks: BTreeMap::new(),
            waiting: 0,
            started: UNIX_EPOCH,
        };
        let html = render(&input, &Snapshot::default());
        for part in [
            "Ticket systems",
            "Pipelines",
            "No pass yet",
            "Latest decisions",
            "Failed tickets",
            "/webhooks/zendesk",
            "model models/banking77 (the folder /srv/models/banking77-20261202T000000Z)",
        ] {
            assert!(html.contains(part), "{part}");
        }
    }
}
