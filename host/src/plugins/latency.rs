//! Call latency percentiles of one plugin, for `GET /api/v1/plugins` and the console. A
//! histogram of fixed buckets, four per doubling from 1 µs up (each bucket's edge ≈ 19 % above
//! the last), so recording is one increment and memory is constant whatever the call count;
//! a percentile is the upper edge of the bucket it falls in, so it errs high by at most a
//! bucket's width. `/metrics` keeps the Prometheus histogram beside it.

/// Buckets per doubling.
const PER_DOUBLING: u32 = 4;
/// Doublings covered: 2^40 µs is about 12 days, past any call's deadline.
const DOUBLINGS: u32 = 40;
const BUCKETS: usize = (PER_DOUBLING * DOUBLINGS) as usize + 1;

/// Counts of calls by latency bucket.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
        }
    }
}

/// The bucket of `us`: below 4 µs one per value, then four per power of two, by the two bits
/// after the leading one (buckets 4–7 stay unused).
fn bucket(us: u64) -> usize {
    if us < 4 {
        return us as usize;
    }
    let log2 = 63 - us.leading_zeros();
    let quarter = (us >> (log2 - 2)) & 0b11;
    ((log2 * PER_DOUBLING) as usize + quarter as usize).min(BUCKETS - 1)
}

/// The largest latency, µs, that falls in bucket `index`.
fn upper_edge(index: usize) -> u64 {
    if index < 8 {
        return index as u64;
    }
    let log2 = index as u32 / PER_DOUBLING;
    let quarter = u64::from(index as u32 % PER_DOUBLING);
    // The next bucket starts at 2^log2 × (1 + (quarter + 1) / 4).
    ((4 + quarter + 1) << (log2 - 2)) - 1
}

impl LatencyHistogram {
    /// Counts one call of `us` microseconds.
    pub fn record(&mut self, us: u64) {
        self.counts[bucket(us)] += 1;
        self.total += 1;
    }

    /// The latency, µs, that a share `q` (0–1) of the calls did not exceed, within a
    /// bucket's width; 0 when no call was counted.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return upper_edge(index);
            }
        }
        upper_edge(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_latency_lies_within_its_bucket() {
        let mut previous = 0;
        for us in 0..100_000u64 {
            let b = bucket(us);
            assert!(us <= upper_edge(b), "{us} over the edge of bucket {b}");
            assert!(b >= previous, "buckets go down at {us}");
            if b != previous {
                assert!(
                    us > upper_edge(previous),
                    "{us} belongs in bucket {previous}"
                );
            }
            // A bucket spans at most a quarter of its lower edge.
            assert!(
                upper_edge(b) <= us + us / 4 + 1,
                "{us}: edge {}",
                upper_edge(b)
            );
            previous = b;
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_err_high_by_less_than_a_bucket() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), 0);
        // 1..=1000 ms, one call each: p50 500 ms, p99 990 ms.
        for ms in 1..=1000u64 {
            h.record(ms * 1000);
        }
        let p50 = h.quantile(0.5);
        let p99 = h.quantile(0.99);
        assert!((500_000..=500_000 * 5 / 4).contains(&p50), "p50 {p50}");
        assert!((990_000..=990_000 * 5 / 4).contains(&p99), "p99 {p99}");
        assert!(h.quantile(1.0) >= 1_000_000);
    }
}
