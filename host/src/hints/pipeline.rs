//! Fan-out: every enabled provider's `suggest` runs concurrently under one request deadline;
//! providers that fail, trap or miss the deadline are left out, the others' hints are kept.

use super::merge::PluginHints;
use super::providers::{ProviderSlot, Providers};
use crate::plugins::HintRequest;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How one provider's call ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderOutcome {
    /// Plugin name.
    pub plugin: String,
    /// `ok`, a failure outcome of the runtime, or `deadline` when the request deadline cut it.
    pub outcome: &'static str,
    /// Hints it returned.
    pub hints: usize,
    /// What went wrong, when the call failed (the runtime's message).
    pub error: Option<String>,
    /// How long it took (up to the deadline).
    pub latency: Duration,
}

/// Everything the providers answered in time, in slot order.
#[derive(Debug, Clone, Default)]
pub struct FanOut {
    /// Hints of the providers that answered.
    pub results: Vec<PluginHints>,
    /// One entry per provider asked.
    pub outcomes: Vec<ProviderOutcome>,
}

/// Asks every slot for hints at once; waits at most `deadline` from now. Each call runs in
/// its own task (so plugins use every core); calls still running at the deadline are
/// aborted, which cancels their wasm execution.
pub async fn fan_out(
    providers: &Arc<dyn Providers>,
    slots: &[ProviderSlot],
    req: Arc<HintRequest>,
    deadline: Duration,
) -> FanOut {
    let started = Instant::now();
    let until = tokio::time::Instant::now() + deadline;
    let handles: Vec<_> = slots
        .iter()
        .map(|slot| {
            let providers = providers.clone();
            let req = req.clone();
            let name = slot.name.clone();
            tokio::spawn(async move {
                let began = Instant::now();
                let result = providers.suggest(&name, &req).await;
                (result, began.elapsed())
            })
        })
        .collect();
    let mut out = FanOut {
        results: Vec::with_capacity(slots.len()),
        outcomes: Vec::with_capacity(slots.len()),
    };
    for (slot, mut handle) in slots.iter().zip(handles) {
        let (outcome, hints, latency, error) = match tokio::time::timeout_at(until, &mut handle)
            .await
        {
            Ok(Ok((Ok(hints), took))) => {
                let n = hints.len();
                out.results.push(PluginHints {
                    plugin: slot.name.clone(),
                    weight: slot.weight,
                    hints,
                });
                ("ok", n, took, None)
            }
            Ok(Ok((Err(failure), took))) => {
                tracing::debug!(plugin = %slot.name, outcome = failure.outcome, error = %failure.message, "provider left out");
                (failure.outcome, 0, took, Some(failure.message))
            }
            Ok(Err(join)) => {
                tracing::warn!(plugin = %slot.name, error = %join, "provider task failed");
                ("trap", 0, started.elapsed(), Some(join.to_string()))
            }
            Err(_) => {
                handle.abort();
                tracing::debug!(plugin = %slot.name, "provider missed the request deadline");
                let missed = format!(
                    "no answer within the {} ms request deadline",
                    deadline.as_millis()
                );
                ("deadline", 0, started.elapsed(), Some(missed))
            }
        };
        metrics::counter!("hintd_hint_provider_results_total", "plugin" => slot.name.clone(), "outcome" => outcome)
            .increment(1);
        out.outcomes.push(ProviderOutcome {
            plugin: slot.name.clone(),
            outcome,
            hints,
            latency,
            error,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{DialogKey, Source};
    use crate::hints::providers::ProviderFailure;
    use crate::plugins::{Feedback, Hint};

    struct Fake;

    #[async_trait::async_trait]
    impl Providers for Fake {
        fn slots(&self) -> Vec<ProviderSlot> {
            ["fast", "slow", "broken"]
                .iter()
                .map(|n| ProviderSlot {
                    name: n.to_string(),
                    weight: 1.0,
                })
                .collect()
        }
        async fn suggest(
            &self,
            name: &str,
            _req: &Arc<HintRequest>,
        ) -> Result<Vec<Hint>, ProviderFailure> {
            match name {
                "fast" => Ok(vec![Hint {
                    id: "1".into(),
                    text: "hi".into(),
                    url: None,
                    link: None,
                    relevance: 50,
                }]),
                "slow" => {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Ok(vec![])
                }
                _ => Err(ProviderFailure {
                    outcome: "trap",
                    message: "boom".into(),
                }),
            }
        }
        async fn feedback(&self, _: &str, _: &Feedback) -> Result<(), ProviderFailure> {
            Ok(())
        }
    }

    pub(crate) fn request() -> HintRequest {
        HintRequest {
            request_id: "r".into(),
            dialog: DialogKey::new(Source::Api, "default", "d"),
            client_id: "c".into(),
            operator_id: None,
            channel_id: None,
            transport: None,
            message_id: "m".into(),
            external_key: None,
            context: vec![],
            max_hints: 5,
            deadline_ms: 100,
        }
    }

    #[tokio::test]
    async fn slow_and_failing_providers_are_left_out_at_the_deadline() {
        let providers: Arc<dyn Providers> = Arc::new(Fake);
        let started = Instant::now();
        let out = fan_out(
            &providers,
            &providers.slots(),
            Arc::new(request()),
            Duration::from_millis(100),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(out.results.len(), 1);
        assert_eq!(out.results[0].plugin, "fast");
        let outcomes: Vec<_> = out
            .outcomes
            .iter()
            .map(|o| (o.plugin.as_str(), o.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [("fast", "ok"), ("slow", "deadline"), ("broken", "trap")]
        );
    }
}
