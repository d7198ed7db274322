//! When the next attempt of a failed delivery happens: the configured schedule with a small
//! random spread (so many messages failing together do not retry in lockstep), stretched by
//! a receiver's `Retry-After` up to a bound.

use rand::Rng;
use std::time::Duration;

/// The retry schedule of every message.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Delay before retry 1, 2, ... after the first, immediate attempt.
    pub schedule: Vec<Duration>,
    /// ± fraction of spread.
    pub jitter: f64,
    /// Cap on what `Retry-After` can demand.
    pub retry_after_max: Duration,
}

impl RetryPolicy {
    /// Delay before the next attempt after `attempts_made` failed ones, or `None` when the
    /// schedule is exhausted and the message is given up.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let base = *self
            .schedule
            .get((attempts_made as usize).checked_sub(1)?)?;
        let spread = if self.jitter > 0.0 {
            rand::rng().random_range(-self.jitter..=self.jitter)
        } else {
            0.0
        };
        let jittered = base.mul_f64((1.0 + spread).max(0.0));
        Some(match retry_after {
            Some(wanted) => jittered.max(wanted.min(self.retry_after_max)),
            None => jittered,
        })
    }

    /// Attempts a message gets in all: the immediate one plus the retries.
    pub fn max_attempts(&self) -> u32 {
        self.schedule.len() as u32 + 1
    }
}

/// Reads a `Retry-After` value: delay seconds or an HTTP date. Unreadable values are ignored.
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v)
        .ok()?
        .timestamp_millis();
    Some(Duration::from_millis(
        at.saturating_sub(now_ms).max(0) as u64
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            schedule: vec![
                Duration::from_secs(10),
                Duration::from_secs(300),
                Duration::from_secs(7200),
            ],
            jitter: 0.1,
            retry_after_max: Duration::from_secs(3600),
        }
    }

    #[test]
    fn follows_the_schedule_with_small_jitter_then_gives_up() {
        let p = policy();
        for _ in 0..100 {
            let d = p.next_delay(1, None).unwrap();
            assert!(
                d >= Duration::from_secs(9) && d <= Duration::from_secs(11),
                "{d:?}"
            );
            let d = p.next_delay(3, None).unwrap();
            assert!(d >= Duration::from_secs(6480) && d <= Duration::from_secs(7920));
        }
        assert_eq!(p.next_delay(4, None), None);
        assert_eq!(p.next_delay(0, None), None);
        assert_eq!(p.max_attempts(), 4);
    }

    #[test]
    fn retry_after_stretches_within_bounds() {
        let p = RetryPolicy {
            jitter: 0.0,
            ..policy()
        };
        assert_eq!(
            p.next_delay(1, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            p.next_delay(1, Some(Duration::from_secs(1))),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            p.next_delay(1, Some(Duration::from_secs(999_999))),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("120", 0), Some(Duration::from_secs(120)));
        let now = chrono::DateTime::parse_from_rfc2822("Sun, 06 Nov 1994 08:49:37 GMT")
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
