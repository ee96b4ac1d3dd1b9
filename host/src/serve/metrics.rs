//! `/metrics`: what the pipelines, the ticket systems and the webhooks did since start, in the
//! OpenMetrics text format Prometheus scrapes.
//!
//! Per pipeline (label `pipeline`): `otai_passes_total{outcome="ok|failed"}`, tickets
//! `otai_tickets_{fetched,classified,written,skipped,failed,conflicts}_total`,
//! `otai_pass_duration_seconds` and `otai_classify_duration_seconds` (histograms), and per field
//! `otai_confidence` (the top label's probability of each classified ticket). Per ticket
//! system (label `ticket_system`): `otai_api_requests_total`, `otai_api_retries_total`,
//! `otai_api_rate_limited_total` (429 or 503 with Retry-After), and
//! `otai_ticket_system_call_duration_seconds{ticket_system, operation}` (each call into the
//! plugin, e.g. `find_tickets` with all its pages, `update_tickets` with its job). Webhooks:
//! `otai_webhook_deliveries_total{ticket_system, outcome}` (`accepted`, `duplicate`,
//! `no_ticket`, or the refusal's status such as `refused_401`) and the gauge
//! `otai_webhook_tickets_waiting` (accepted ids not yet routed: the queue depth).

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, linear_buckets, Histogram},
    },
    registry::Registry,
};

use crate::pipeline::{PassReport, TicketReport};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PipelineLabel {
    pipeline: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PassLabels {
    pipeline: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SystemLabel {
    ticket_system: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    ticket_system: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FieldLabels {
    pipeline: String,
    field: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    ticket_system: String,
    operation: String,
}

/// Every call into a ticket system's plugin, timed where it is made
/// ([`crate::plugins::ForeignTicketSystem`]); process-wide, as the plugins are.
static CALL_SECONDS: std::sync::LazyLock<Histograms<CallLabels>> =
    std::sync::LazyLock::new(|| Family::new_with_constructor(seconds_histogram));

/// Records how long one call into `ticket_system`'s plugin took.
pub fn observe_call(ticket_system: &str, operation: &str, took: std::time::Duration) {
    CALL_SECONDS
        .get_or_create(&CallLabels {
            ticket_system: ticket_system.to_string(),
            operation: operation.to_string(),
        })
        .observe(took.as_secs_f64());
}

/// Every metric `otai serve` exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    passes: Family<PassLabels, Counter>,
    fetched: Family<PipelineLabel, Counter>,
    classified: Family<PipelineLabel, Counter>,
    written: Family<PipelineLabel, Counter>,
    skipped: Family<PipelineLabel, Counter>,
    failed: Family<PipelineLabel, Counter>,
    conflicts: Family<PipelineLabel, Counter>,
    pass_seconds: Histograms<PipelineLabel>,
    classify_seconds: Histograms<PipelineLabel>,
    confidence: Histograms<FieldLabels>,
    api_requests: Family<SystemLabel, Counter>,
    api_retries: Family<SystemLabel, Counter>,
    api_rate_limited: Family<SystemLabel, Counter>,
    webhooks: Family<WebhookLabels, Counter>,
    waiting: Gauge<i64, std::sync::atomic::AtomicI64>,
}

fn seconds_histogram() -> Histogram {
    // 10 ms to about 80 s.
    Histogram::new(exponential_buckets(0.01, 2.0, 14))
}

fn confidence_histogram() -> Histogram {
    Histogram::new(linear_buckets(0.1, 0.1, 10))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("otai");
        let passes = Family::<PassLabels, Counter>::default();
        registry.register(
            "passes",
            "Pipeline passes, by outcome (ok, failed)",
            passes.clone(),
        );
        let tickets = |registry: &mut Registry, name: &str, help: &str| {
            let family = Family::<PipelineLabel, Counter>::default();
            registry.register(name, help, family.clone());
            family
        };
        let fetched = tickets(
            &mut registry,
            "tickets_fetched",
            "Tickets the passes fetched",
        );
        let classified = tickets(
            &mut registry,
            "tickets_classified",
            "Tickets the model classified",
        );
        let written = tickets(
            &mut registry,
            "tickets_written",
            "Tickets whose classification was written back",
        );
        let skipped = tickets(
            &mut registry,
            "tickets_skipped",
            "Tickets left alone (routed by hand, backing off)",
        );
        let failed = tickets(
            &mut registry,
            "tickets_failed",
            "Writes that failed (conflicts, timeouts, errors)",
        );
        let conflicts = tickets(
            &mut registry,
            "tickets_conflicts",
            "Writes refused because the ticket changed since it was read",
        );
        let pass_seconds: Histograms<PipelineLabel> =
            Family::new_with_constructor(seconds_histogram);
        registry.register(
            "pass_duration_seconds",
            "How long a pass took",
            pass_seconds.clone(),
        );
        let classify_seconds: Histograms<PipelineLabel> =
            Family::new_with_constructor(seconds_histogram);
        registry.register(
            "classify_duration_seconds",
            "How long the classifier took for one pass's tickets",
            classify_seconds.clone(),
        );
        let confidence: Histograms<FieldLabels> =
            Family::new_with_constructor(confidence_histogram);
        registry.register(
            "confidence",
            "The top label's probability, per classified ticket and field",
            confidence.clone(),
        );
        let system = |registry: &mut Registry, name: &str, help: &str| {
            let family = Family::<SystemLabel, Counter>::default();
            registry.register(name, help, family.clone());
            family
        };
        let api_requests = system(
            &mut registry,
            "api_requests",
            "Requests to the help desk, retries included",
        );
        let api_retries = system(
            &mut registry,
            "api_retries",
            "Requests that retried an earlier attempt",
        );
        let api_rate_limited = system(
            &mut registry,
            "api_rate_limited",
            "Answers that said slow down (429, or 503 with Retry-After)",
        );
        registry.register(
            "ticket_system_call_duration_seconds",
            "How long each call into a ticket system's plugin took (all its requests)",
            CALL_SECONDS.clone(),
        );
        let webhooks = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries, by ticket system and outcome",
            webhooks.clone(),
        );
        let waiting = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        registry.register(
            "webhook_tickets_waiting",
            "Ticket ids accepted from webhooks and not yet routed",
            waiting.clone(),
        );
        Metrics {
            registry,
            passes,
            fetched,
            classified,
            written,
            skipped,
            failed,
            conflicts,
            pass_seconds,
            classify_seconds,
            confidence,
            api_requests,
            api_retries,
            api_rate_limited,
            webhooks,
            waiting,
        }
    }

    /// Counts one pass of a pipeline reading `ticket_system`.
    pub fn record_pass(&self, report: &PassReport, ticket_system: &str) {
        let pipeline = PipelineLabel {
            pipeline: report.pipeline.clone(),
        };
        let outcome = if report.failure.is_some() {
            "failed"
        } else {
            "ok"
        };
        self.passes
            .get_or_create(&PassLabels {
                pipeline: report.pipeline.clone(),
                outcome: outcome.into(),
            })
            .inc();
        let s = &report.summary;
        let add = |family: &Family<PipelineLabel, Counter>, n: usize| {
            family.get_or_create(&pipeline).inc_by(n as u64);
        };
        add(&self.fetched, s.fetched);
        add(&self.classified, s.classified);
        add(&self.written, s.written);
        add(&self.skipped, s.routed + s.waiting);
        add(&self.failed, s.conflicts + s.unknown + s.failed);
        add(&self.conflicts, s.conflicts);
        self.pass_seconds
            .get_or_create(&pipeline)
            .observe(report.took.as_secs_f64());
        if let Some(took) = report.classify_took {
            self.classify_seconds
                .get_or_create(&pipeline)
                .observe(took.as_secs_f64());
        }
        for ticket in &report.tickets {
            let TicketReport::Decided { decision, .. } = ticket else {
                continue;
            };
            for outcome in &decision.outcomes {
                if let Some(best) = &outcome.best {
                    self.confidence
                        .get_or_create(&FieldLabels {
                            pipeline: report.pipeline.clone(),
                            field: outcome.field.clone(),
                        })
                        .observe(f64::from(best.probability));
                }
            }
        }
        if let Some(api) = s.api {
            let system = SystemLabel {
                ticket_system: ticket_system.to_string(),
            };
            self.api_requests
                .get_or_create(&system)
                .inc_by(api.requests);
            self.api_retries.get_or_create(&system).inc_by(api.retries);
            self.api_rate_limited
                .get_or_create(&system)
                .inc_by(api.rate_limited);
        }
    }

    /// Counts one webhook delivery: `outcome` is `accepted`, `duplicate`, `no_ticket` or
    /// `refused_<status>`.
    pub fn webhook(&self, ticket_system: &str, outcome: &str) {
        self.webhooks
            .get_or_create(&WebhookLabels {
                ticket_system: ticket_system.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// The text a scrape gets, with the queue depth as it is now.
    pub fn encode(&self, waiting: usize) -> String {
        self.waiting.set(waiting as i64);
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_depth_is_read_at_scrape_and_the_text_ends_with_eof() {
        let metrics = Metrics::new();
        assert!(metrics.encode(3).contains("otai_webhook_tickets_waiting 3"));
        let text = metrics.encode(0);
        assert!(text.contains("otai_webhook_tickets_waiting 0"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn webhooks_are_counted_by_system_and_outcome() {
        let metrics = Metrics::new();
        metrics.webhook("zendesk", "accepted");
        metrics.webhook("zendesk", "accepted");
        metrics.webhook("zendesk", "refused_401");
        let text = metrics.encode(0);
        assert!(
            text.contains(
                "otai_webhook_deliveries_total{ticket_system=\"zendesk\",outcome=\"accepted\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("outcome=\"refused_401\"} 1"), "{text}");
    }
}
