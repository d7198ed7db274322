//! Per-plugin circuit breaker: after `threshold` consecutive failures a plugin is skipped
//! for `cooldown`; then one trial call is let through, and its outcome closes the circuit
//! or opens it for another cooldown.

use dashmap::DashMap;
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_in_flight: bool,
}

/// The breakers of every plugin.
pub struct Breakers {
    threshold: u32,
    cooldown: Duration,
    states: DashMap<String, State>,
}

impl Breakers {
    /// Breakers opening after `threshold` failures (0 disables them) for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Breakers {
            threshold,
            cooldown,
            states: DashMap::new(),
        }
    }

    /// Whether a call to `plugin` may go ahead now.
    pub fn allow(&self, plugin: &str) -> bool {
        if self.threshold == 0 {
            return true;
        }
        let Some(mut s) = self.states.get_mut(plugin) else {
            return true;
        };
        match s.open_until {
            None => true,
            Some(until) if Instant::now() < until => false,
            Some(_) if s.trial_in_flight => false,
            Some(_) => {
                s.trial_in_flight = true;
                true
            }
        }
    }

    /// Records how a call that was allowed ended.
    pub fn record(&self, plugin: &str, success: bool) {
        if self.threshold == 0 {
            return;
        }
        if success {
            // The common case: a healthy plugin stays healthy, no entry needed.
            match self.states.get_mut(plugin) {
                None => return,
                Some(mut s) => {
                    s.trial_in_flight = false;
                    s.consecutive_failures = 0;
                    s.open_until = None;
                    return;
                }
            }
        }
        let mut s = self.states.entry(plugin.to_string()).or_default();
        s.trial_in_flight = false;
        if success {
            s.consecutive_failures = 0;
            s.open_until = None;
        } else {
            s.consecutive_failures = s.consecutive_failures.saturating_add(1);
            if s.consecutive_failures >= self.threshold {
                s.open_until = Some(Instant::now() + self.cooldown);
            }
        }
    }

    /// Whether `plugin` is being skipped right now.
    pub fn is_open(&self, plugin: &str) -> bool {
        self.states
            .get(plugin)
            .and_then(|s| s.open_until)
            .is_some_and(|u| Instant::now() < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_half_opens_after_cooldown() {
        let b = Breakers::new(2, Duration::from_millis(30));
        b.record("p", false);
        assert!(b.allow("p"));
        b.record("p", false);
        assert!(!b.allow("p"));
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow("p"), "one trial after the cooldown");
        assert!(!b.allow("p"), "only one trial at a time");
        b.record("p", true);
        assert!(b.allow("p"));
        assert!(b.allow("other"));
    }
}
