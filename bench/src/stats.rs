//! Summaries of measurements: latency percentiles within one run, and the median and spread
//! of a figure over repeated runs (these machines are noisy, one run proves little).

use serde::Serialize;
use std::time::Duration;

/// Latencies of one run, sorted ascending, in microseconds (or in nanoseconds where a
/// caller times calls far below a microsecond and reads them with [`Latencies::quantile`]).
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<u32>);

impl Latencies {
    /// Sorts raw samples (microseconds).
    pub fn from_micros(mut samples: Vec<u32>) -> Self {
        samples.sort_unstable();
        Latencies(samples)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `q`-quantile (0..=1) by nearest rank, in the samples' unit; 0 without samples.
    pub fn quantile(&self, q: f64) -> u32 {
        if self.0.is_empty() {
            return 0;
        }
        let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1]
    }

    /// The `q`-quantile of microsecond samples, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        f64::from(self.quantile(q)) / 1000.0
    }
}

/// Converts a duration to whole nanoseconds, saturating at about 4.3 s.
pub fn nanos(d: Duration) -> u32 {
    u32::try_from(d.as_nanos()).unwrap_or(u32::MAX)
}

/// Converts a duration to whole microseconds, saturating (a latency over 71 minutes is
/// not a latency worth distinguishing).
pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// The median and range of one figure over repeats.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Spread {
    /// Median over repeats (the figure reported).
    pub median: f64,
    /// Smallest repeat.
    pub min: f64,
    /// Largest repeat.
    pub max: f64,
}

impl Spread {
    /// Summarises repeats; `None` without any.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let l = Latencies::from_micros((1..=1000).rev().collect());
        assert_eq!(l.quantile_ms(0.5), 0.5);
        assert_eq!(l.quantile_ms(0.99), 0.99);
        assert_eq!(l.quantile_ms(0.999), 0.999);
        assert_eq!(l.quantile_ms(1.0), 1.0);
        assert_eq!(l.quantile_ms(0.0), 0.001);
        assert_eq!(Latencies::default().quantile_ms(0.5), 0.0);
    }

    #[test]
    fn spread_is_median_and_range() {
        assert_eq!(
            Spread::of(&[3.0, 1.0, 2.0]),
            Some(Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            })
        );
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert_eq!(Spread::of(&[f64::NAN]), None);
        assert_eq!(Spread::of(&[]), None);
    }
}
