//! Circuit breakers, one per plugin and exported function: after `threshold` consecutive
//! failures of `suggest` (say) the plugin's `suggest` is skipped for `cooldown`; then one trial
//! call is let through, and its outcome closes the circuit or opens it for another cooldown.
//! Each function counts only its own calls, so a plugin whose `observe` succeeds while its
//! `suggest` always fails is still skipped for hints.

use super::instance::Function;
use dashmap::DashMap;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_in_flight: bool,
}

/// The breakers of every plugin, by name; kept across reloads, so a new version of a failing
/// plugin does not reset its circuit.
pub struct Breakers {
    threshold: u32,
    cooldown: Duration,
    by_plugin: DashMap<String, Arc<PluginBreakers>>,
}

/// One plugin's breakers, one per function.
pub struct PluginBreakers {
    suggest: Breaker,
    feedback: Breaker,
    observe: Breaker,
}

impl PluginBreakers {
    /// The breaker of `function`.
    pub fn of(&self, function: Function) -> &Breaker {
        match function {
            Function::Suggest => &self.suggest,
            Function::Feedback => &self.feedback,
            Function::Observe => &self.observe,
        }
    }

    /// The functions whose circuit is open now.
    pub fn open(&self) -> Vec<&'static str> {
        [Function::Suggest, Function::Feedback, Function::Observe]
            .into_iter()
            .filter(|f| self.of(*f).is_open())
            .map(Function::as_str)
            .collect()
    }
}

impl Breakers {
    /// Breakers opening after `threshold` failures (0 disables them) for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Breakers {
            threshold,
            cooldown,
            by_plugin: DashMap::new(),
        }
    }

    /// The breakers of `plugin`, created closed on first use.
    pub fn of(&self, plugin: &str) -> Arc<PluginBreakers> {
        let breaker = || Breaker {
            threshold: self.threshold,
            cooldown: self.cooldown,
            state: Mutex::new(State::default()),
        };
        self.by_plugin
            .entry(plugin.to_string())
            .or_insert_with(|| {
                Arc::new(PluginBreakers {
                    suggest: breaker(),
                    feedback: breaker(),
                    observe: breaker(),
                })
            })
            .clone()
    }

    /// The functions of `plugin` being skipped right now.
    pub fn open(&self, plugin: &str) -> Vec<&'static str> {
        self.by_plugin
            .get(plugin)
            .map_or_else(Vec::new, |b| b.open())
    }
}

/// One breaker. A loaded plugin holds its own handles, so a call passes its breaker without
/// looking the plugin up by name.
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    /// Whether a call may go ahead now.
    pub fn allow(&self) -> bool {
        if self.threshold == 0 {
            return true;
        }
        let mut s = self.state.lock();
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
    pub fn record(&self, success: bool) {
        if self.threshold == 0 {
            return;
        }
        let mut s = self.state.lock();
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

    /// Whether the plugin is being skipped right now.
    pub fn is_open(&self) -> bool {
        self.state
            .lock()
            .open_until
            .is_some_and(|u| Instant::now() < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_half_opens_after_cooldown() {
        let breakers = Breakers::new(2, Duration::from_millis(30));
        let b = breakers.of("p");
        let b = b.of(Function::Suggest);
        b.record(false);
        assert!(b.allow());
        b.record(false);
        assert!(!b.allow());
        assert_eq!(breakers.open("p"), ["suggest"]);
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow(), "one trial after the cooldown");
        assert!(!b.allow(), "only one trial at a time");
        b.record(true);
        assert!(b.allow());
        assert!(breakers.of("other").of(Function::Suggest).allow());
        assert!(breakers.open("other").is_empty());
    }

    #[test]
    fn another_functions_success_does_not_close_a_circuit() {
        let breakers = Breakers::new(2, Duration::from_secs(60));
        let p = breakers.of("p");
        for _ in 0..3 {
            p.of(Function::Suggest).record(false);
            p.of(Function::Observe).record(true);
        }
        assert!(!p.of(Function::Suggest).allow(), "suggest stays skipped");
        assert!(p.of(Function::Observe).allow());
        assert!(p.of(Function::Feedback).allow());
        assert_eq!(breakers.open("p"), ["suggest"]);
    }
}
