//! `GET /metrics`: every counter and histogram hintd records, in the Prometheus text format.
//!
//! The recorder is installed once per process (the first call of [`install`]); layers record
//! through the `metrics` facade. Families include `hintd_hint_requests_total{source,outcome}`,
//! `hintd_hint_request_duration_seconds{source}`, `hintd_plugin_calls_total{plugin,outcome}`,
//! `hintd_plugin_call_duration_seconds{plugin}`, `hintd_hint_provider_results_total{plugin,outcome}`,
//! `hintd_hints_shown_total{plugin}`, `hintd_hints_chosen_total{plugin}`,
//! `hintd_hint_callbacks_total{outcome}` (sent, failed, suppressed) and
//! `hintd_ingest_events_total{source,type}`, and the server's
//! `hintd_http_connections_open`, `hintd_http_connections_closed_total{reason}` and
//! `hintd_http_connections_refused_total`.

use crate::app::App;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Latency buckets, seconds: fine below a millisecond (host overhead) up to a few seconds
/// (slow plugins, callbacks).
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1.0,
    2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder on first use; `None` when another recorder was
/// installed first (e.g. by an embedding program), in which case `/metrics` answers 503.
pub fn install() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("bucket list is not empty");
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    start_at_zero();
                    let upkeep = handle.clone();
                    // Histograms are drained into their buckets here, bounding memory between scrapes.
                    std::thread::Builder::new()
                        .name("metrics-upkeep".into())
                        .spawn(move || loop {
                            std::thread::sleep(Duration::from_secs(5));
                            upkeep.run_upkeep();
                        })
                        .expect("a thread starts");
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics is unavailable");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_histogram};
    describe_counter!(
        "hintd_hint_requests_total",
        "Hint requests by source and outcome (computed, replayed, invalid, error)"
    );
    describe_histogram!(
        "hintd_hint_request_duration_seconds",
        metrics::Unit::Seconds,
        "Hint request latency"
    );
    describe_counter!(
        "hintd_hint_provider_results_total",
        "Per-plugin results within hint requests (ok, error, timeout, trap, deadline, ...)"
    );
    describe_counter!("hintd_hints_shown_total", "Hints shown, by plugin");
    describe_counter!(
        "hintd_hints_chosen_total",
        "Hints chosen by operators, by plugin"
    );
    describe_counter!(
        "hintd_hint_answers_total",
        "Answers served, with hints or empty"
    );
    describe_counter!("hintd_hint_choices_total", "Operator choices by outcome");
    describe_counter!(
        "hintd_hint_feedback_calls_total",
        "Plugin feedback calls by outcome"
    );
    describe_counter!(
        "hintd_hint_callbacks_total",
        "Hint callbacks: sent, failed, suppressed (stale)"
    );
    describe_counter!(
        "hintd_hint_callback_attempts_failed_total",
        "Failed hint callback attempts (retried or not)"
    );
    metrics::describe_gauge!(
        "hintd_http_connections_open",
        "Client connections open (at most server.max_connections)"
    );
    describe_counter!(
        "hintd_http_connections_closed_total",
        "Client connections closed by hintd, by reason (idle, header_timeout, evicted)"
    );
    describe_counter!(
        "hintd_http_connections_refused_total",
        "Connections answered 503 at once because every open connection was being served"
    );
    describe_counter!(
        "hintd_plugin_observe_dropped_total",
        "Events dropped because the plugin's observe queue was full, by plugin"
    );
    describe_counter!(
        "hintd_plugin_log_dropped_total",
        "Plugin log lines over the plugin's budget, dropped, by plugin"
    );
    describe_counter!(
        "hintd_plugin_kv_quota_exceeded_total",
        "kv writes refused because the plugin's quota would be exceeded, by plugin"
    );
    describe_counter!(
        "hintd_outbound_refusals_total",
        "Outbound connections refused by the network policy, by path and range"
    );
}

/// The series whose label values are known before anything happens, registered at zero: an
/// alert on `rate()` or `increase()` sees each series from the first scrape, not only after its
/// first event (a counter that appears at 1 shows no increase).
fn start_at_zero() {
    use crate::core::Source;
    use metrics::{counter, gauge};
    for source in Source::PLATFORMS.into_iter().chain([Source::Api]) {
        for outcome in crate::hints::REQUEST_OUTCOMES {
            counter!("hintd_hint_requests_total", "source" => source.as_str(), "outcome" => outcome)
                .increment(0);
        }
    }
    for source in Source::PLATFORMS.map(Source::as_str) {
        counter!("hintd_ingest_rejected_total", "source" => source, "reason" => "invalid")
            .increment(0);
        counter!("hintd_ingest_duplicates_total", "source" => source).increment(0);
    }
    counter!("hintd_ingest_rejected_total", "reason" => "unauthorized").increment(0);
    for result in ["empty", "with_hints"] {
        counter!("hintd_hint_answers_total", "result" => result).increment(0);
    }
    for outcome in ["sent", "failed", "suppressed"] {
        counter!("hintd_hint_callbacks_total", "outcome" => outcome).increment(0);
    }
    for outcome in ["success", "failure"] {
        counter!("hintd_webhook_deliveries_total", "outcome" => outcome).increment(0);
    }
    for reason in ["idle", "header_timeout", "evicted"] {
        counter!("hintd_http_connections_closed_total", "reason" => reason).increment(0);
    }
    for family in [
        "hintd_hint_answer_write_failures_total",
        "hintd_hint_callback_attempts_failed_total",
        "hintd_http_connections_refused_total",
        "hintd_webhook_messages_total",
    ] {
        counter!(family).increment(0);
    }
    gauge!("hintd_http_connections_open").set(0.0);
}

/// Every loaded plugin's series, at zero until its first call: plugins load after the
/// recorder is installed and may be added by a reload at any time, so they are registered
/// when scraped.
fn plugins_at_zero(app: &App) {
    use crate::plugins::Outcome;
    use metrics::counter;
    for stats in app.plugins.stats() {
        let plugin = stats.plugin;
        for outcome in Outcome::ALL {
            counter!("hintd_plugin_calls_total", "plugin" => plugin.clone(), "outcome" => outcome.as_str())
                .increment(0);
        }
        for family in [
            "hintd_hints_shown_total",
            "hintd_hints_chosen_total",
            "hintd_plugin_observe_dropped_total",
        ] {
            counter!(family, "plugin" => plugin.clone()).increment(0);
        }
    }
}

/// `GET /metrics` (no admin key: scrapers rarely carry one and nothing secret is exported).
pub fn routes() -> OpenApiRouter<App> {
    install();
    OpenApiRouter::new().routes(routes!(render))
}

/// Every counter and histogram, in the Prometheus text format.
#[utoipa::path(get, operation_id = "get_metrics", path = "/metrics", tag = "health", responses(
    (status = 200, description = "Prometheus text exposition format 0.0.4", body = String,
        content_type = "text/plain"),
    (status = 503, description = "No metrics recorder is installed in this process",
        body = super::error::ErrorBody)))]
async fn render(State(app): State<App>) -> Response {
    match install() {
        Some(handle) => {
            plugins_at_zero(&app);
            let mut response = handle.render().into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        None => super::error::ApiError::unavailable("the metrics recorder is not installed")
            .into_response(),
    }
}
