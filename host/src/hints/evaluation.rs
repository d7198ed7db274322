//! Offline evaluation metrics: at every operator reply of a recorded dialogue, how highly a
//! system (one plugin, or the merged answer) ranked a hint matching what the operator really
//! wrote. hit@k, MRR, coverage, acceptance and latency percentiles.

use super::text::{jaccard, normalize, token_set};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Whether a hint says what the operator wrote: same normal form, or token-set Jaccard at
/// least `threshold`.
pub fn matches(hint: &str, reply: &str, threshold: f64) -> bool {
    let (h, r) = (normalize(hint), normalize(reply));
    !h.is_empty() && (h == r || jaccard(&token_set(&h), &token_set(&r)) >= threshold)
}

/// The 1-based position of the first hint matching `reply`.
pub fn first_match<'a>(
    hints: impl IntoIterator<Item = &'a str>,
    reply: &str,
    threshold: f64,
) -> Option<usize> {
    hints
        .into_iter()
        .position(|h| matches(h, reply, threshold))
        .map(|i| i + 1)
}

/// One system's tallies.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    points: u64,
    covered: u64,
    matched: u64,
    reciprocal_rank_sum: f64,
    hits_at: BTreeMap<usize, u64>,
    latencies_us: Vec<u64>,
}

impl Tally {
    /// Records one operator reply: the system's hint count, the matching position (if any)
    /// and how long it took.
    pub fn record(
        &mut self,
        ks: &[usize],
        shown: usize,
        position: Option<usize>,
        latency: Duration,
    ) {
        self.points += 1;
        if shown > 0 {
            self.covered += 1;
        }
        if let Some(p) = position {
            self.matched += 1;
            self.reciprocal_rank_sum += 1.0 / p as f64;
        }
        for &k in ks {
            let hit = position.is_some_and(|p| p <= k);
            *self.hits_at.entry(k).or_default() += u64::from(hit);
        }
        self.latencies_us
            .push(latency.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    /// The report of these tallies.
    pub fn report(&self, system: &str) -> SystemReport {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let pct = |q: f64| -> f64 {
            if sorted.is_empty() {
                return 0.0;
            }
            let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[i] as f64 / 1000.0
        };
        SystemReport {
            system: system.to_string(),
            replies: self.points,
            hit_at: self
                .hits_at
                .iter()
                .map(|(k, n)| (format!("{k}"), ratio(*n, self.points)))
                .collect(),
            mrr: if self.points == 0 {
                0.0
            } else {
                self.reciprocal_rank_sum / self.points as f64
            },
            coverage: ratio(self.covered, self.points),
            acceptance: ratio(self.matched, self.covered),
            latency_ms: Latency {
                p50: pct(0.50),
                p90: pct(0.90),
                p99: pct(0.99),
                max: pct(1.0),
            },
        }
    }
}

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// The evaluation of one system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemReport {
    /// A plugin name, or `merged`.
    pub system: String,
    /// Operator replies evaluated.
    pub replies: u64,
    /// k → share of replies whose matching hint was in the top k.
    pub hit_at: BTreeMap<String, f64>,
    /// Mean reciprocal rank of the matching hint (0 when none).
    pub mrr: f64,
    /// Share of replies for which the system gave any hint.
    pub coverage: f64,
    /// Of the replies with hints, the share where a hint matched (would have been chosen).
    pub acceptance: f64,
    /// Time to answer.
    pub latency_ms: Latency,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_is_lenient_about_form_only() {
        assert!(matches(
            "Your order ships tomorrow!",
            "your order ships tomorrow",
            0.6
        ));
        assert!(!matches(
            "Refunds take 5 days",
            "Your order ships tomorrow",
            0.6
        ));
        assert_eq!(
            first_match(["a b c", "x y z", "x y z w"], "x y z", 0.6),
            Some(2)
        );
    }

    #[test]
    fn tallies_give_hit_at_k_mrr_coverage_acceptance() {
        let ks = [1, 3];
        let mut t = Tally::default();
        t.record(&ks, 3, Some(1), Duration::from_millis(1));
        t.record(&ks, 3, Some(3), Duration::from_millis(2));
        t.record(&ks, 2, None, Duration::from_millis(3));
        t.record(&ks, 0, None, Duration::from_millis(4));
        let r = t.report("merged");
        assert_eq!(r.replies, 4);
        assert_eq!(r.hit_at["1"], 0.25);
        assert_eq!(r.hit_at["3"], 0.5);
        assert!((r.mrr - (1.0 + 1.0 / 3.0) / 4.0).abs() < 1e-12);
        assert_eq!(r.coverage, 0.75);
        assert!((r.acceptance - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.latency_ms.p50, 2.0);
        assert_eq!(r.latency_ms.max, 4.0);
    }
}
