//! Call outcomes per plugin: exported through the `metrics` crate
//! (`hintd_plugin_calls_total{plugin,outcome}`, `hintd_plugin_call_duration_seconds{plugin}`,
//! `hintd_plugin_observe_dropped_total`) and kept as an in-process snapshot for the API.

use dashmap::DashMap;
use serde::Serialize;
use std::time::Duration;

/// How one call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered within limits.
    Ok,
    /// Answered with a provider error.
    Error,
    /// Passed its deadline.
    Timeout,
    /// Trapped, or could not be instantiated.
    Trap,
    /// Ran out of memory.
    Oom,
    /// Answered, but over the output limits.
    Rejected,
    /// Not called: circuit open.
    Skipped,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Timeout,
        Outcome::Trap,
        Outcome::Oom,
        Outcome::Rejected,
        Outcome::Skipped,
    ];

    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Trap => "trap",
            Outcome::Oom => "oom",
            Outcome::Rejected => "rejected",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One plugin's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PluginStats {
    /// The plugin.
    pub plugin: String,
    /// Calls that answered.
    pub ok: u64,
    /// Calls that answered with a provider error.
    pub error: u64,
    /// Calls past their deadline.
    pub timeout: u64,
    /// Calls that trapped or could not instantiate.
    pub trap: u64,
    /// Calls that ran out of memory.
    pub oom: u64,
    /// Answers refused for breaking output limits.
    pub rejected: u64,
    /// Calls skipped while the circuit was open.
    pub skipped: u64,
    /// Mean latency of the calls made (skipped excluded), microseconds.
    pub mean_latency_us: u64,
    /// Slowest call, microseconds.
    pub max_latency_us: u64,
    /// Whether the circuit breaker currently skips the plugin.
    pub circuit_open: bool,
}

struct Counters {
    stats: PluginStats,
    latency_sum_us: u64,
    made: u64,
    meters: Meters,
}

/// One plugin's metric handles, resolved once: the `metrics!` macros would allocate the label
/// and look the series up on every call.
struct Meters {
    /// `hintd_plugin_calls_total{plugin, outcome}`, indexed by [`Outcome`].
    calls: [metrics::Counter; Outcome::ALL.len()],
    /// `hintd_plugin_call_duration_seconds{plugin}`.
    duration: metrics::Histogram,
}

impl Meters {
    fn new(plugin: &str) -> Meters {
        Meters {
            calls: Outcome::ALL.map(|o| {
                metrics::counter!("hintd_plugin_calls_total", "plugin" => plugin.to_string(), "outcome" => o.as_str())
            }),
            duration: metrics::histogram!("hintd_plugin_call_duration_seconds", "plugin" => plugin.to_string()),
        }
    }
}

/// All plugins' counters.
#[derive(Default)]
pub struct Stats {
    by_plugin: DashMap<String, Counters>,
}

impl Stats {
    /// Counts one call.
    pub fn record(&self, plugin: &str, outcome: Outcome, took: Duration) {
        // The plugin's entry exists after its first call: look it up without allocating.
        let mut c = match self.by_plugin.get_mut(plugin) {
            Some(c) => c,
            None => self
                .by_plugin
                .entry(plugin.to_string())
                .or_insert_with(|| Counters {
                    stats: PluginStats::default(),
                    latency_sum_us: 0,
                    made: 0,
                    meters: Meters::new(plugin),
                }),
        };
        c.meters.calls[outcome as usize].increment(1);
        let s = &mut c.stats;
        match outcome {
            Outcome::Ok => s.ok += 1,
            Outcome::Error => s.error += 1,
            Outcome::Timeout => s.timeout += 1,
            Outcome::Trap => s.trap += 1,
            Outcome::Oom => s.oom += 1,
            Outcome::Rejected => s.rejected += 1,
            Outcome::Skipped => s.skipped += 1,
        }
        if outcome != Outcome::Skipped {
            c.meters.duration.record(took.as_secs_f64());
            let us = took.as_micros().min(u128::from(u64::MAX)) as u64;
            c.latency_sum_us = c.latency_sum_us.saturating_add(us);
            c.made += 1;
            c.stats.max_latency_us = c.stats.max_latency_us.max(us);
        }
    }

    /// A snapshot, one entry per plugin that was ever called, sorted by name.
    pub fn snapshot(&self) -> Vec<PluginStats> {
        let mut out: Vec<PluginStats> = self
            .by_plugin
            .iter()
            .map(|e| {
                let mut s = e.stats.clone();
                s.plugin = e.key().clone();
                s.mean_latency_us = e.latency_sum_us.checked_div(e.made).unwrap_or(0);
                s
            })
            .collect();
        out.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_outcome() {
        let s = Stats::default();
        s.record("a", Outcome::Ok, Duration::from_micros(10));
        s.record("a", Outcome::Timeout, Duration::from_micros(30));
        s.record("a", Outcome::Skipped, Duration::ZERO);
        let snap = s.snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!((snap[0].ok, snap[0].timeout, snap[0].skipped), (1, 1, 1));
        assert_eq!(snap[0].mean_latency_us, 20);
        assert_eq!(snap[0].max_latency_us, 30);
    }

    #[test]
    fn all_outcomes_index_their_own_meter() {
        for (i, o) in Outcome::ALL.iter().enumerate() {
            assert_eq!(*o as usize, i, "{o:?}");
        }
    }
}
