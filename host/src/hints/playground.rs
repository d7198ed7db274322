//! The playground: a context given inline run through the real fan-out and merge, with every
//! plugin's own hints and every merge decision, and nothing stored, announced or fed back —
//! so plugin authors and admins can try a dialogue without touching statistics or platforms.

use super::MAX_HINTS_CEILING;
use super::error::HintsError;
use super::merge::{Decision, MergeRules, Verdict, merge_explained};
use super::pipeline::{FanOut, fan_out};
use super::service::Hints;
use crate::core::{DialogKey, Message, Role, Source};
use crate::plugins::HintRequest;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

/// Messages a playground context may hold at most: enough for any real window, small enough
/// that one request cannot keep the plugins busy for long.
pub const MAX_PLAYGROUND_MESSAGES: usize = 200;

/// A playground run, as the API read it.
#[derive(Debug, Clone)]
pub struct PlaygroundQuery {
    /// Source the dialogue pretends to come from.
    pub source: Source,
    /// Account the dialogue pretends to come from.
    pub account: String,
    /// The dialogue, oldest first.
    pub context: Vec<Message>,
    /// Hints wanted (1–20); default `[hints] max_hints`.
    pub max_hints: Option<u32>,
    /// Only these plugins (default: every enabled plugin).
    pub plugins: Option<Vec<String>>,
}

/// One plugin hint as the plugin returned it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaygroundHint {
    /// The plugin's own id.
    pub id: String,
    /// Suggested reply.
    pub text: String,
    /// URL for the operator.
    pub url: Option<String>,
    /// Link to send along.
    pub link: Option<String>,
    /// The plugin's raw relevance, 0–100.
    pub relevance: u8,
}

/// One plugin's call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaygroundPlugin {
    /// Plugin name.
    pub plugin: String,
    /// `ok`, or how the call failed: `timeout`, `error`, `trap`, `oom`, `busy`, `skipped`,
    /// `rejected`, `deadline` (the request deadline cut it)...
    pub outcome: String,
    /// What went wrong, when the call failed.
    pub error: Option<String>,
    /// How long the call took, ms.
    pub latency_ms: f64,
    /// Its merge weight.
    pub weight: f64,
    /// Its hints, in its own order.
    pub hints: Vec<PlaygroundHint>,
}

/// One hint of the merged answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaygroundMerged {
    /// The answer-local id, 1..k in ranking order.
    pub id: u32,
    /// Text shown to the operator.
    pub text: String,
    /// Relevance reported to the platform, 0–100.
    pub relevance: u8,
    /// Weighted score the ranking used.
    pub score: f64,
    /// The plugin whose hint is shown.
    pub plugin: String,
    /// That plugin's own id of the hint.
    pub plugin_hint_id: String,
}

/// What the merge did with one plugin hint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaygroundVerdict {
    /// In the answer (`merged_id`).
    Kept,
    /// A near-duplicate of the answer's hint `merged_id`: credited to it, not shown.
    Duplicate,
    /// Its score is under the threshold.
    BelowThreshold,
    /// Its text is blank.
    Blank,
    /// The answer was already full (`max_hints`).
    OverLimit,
    /// Beyond the hints one plugin may contribute.
    OverPluginCap,
}

/// The verdict on one plugin hint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaygroundDecision {
    /// Plugin name.
    pub plugin: String,
    /// The plugin's own id of the hint.
    pub hint_id: String,
    /// 1-based position in the plugin's own list.
    pub rank: u32,
    /// Weighted score.
    pub score: f64,
    /// The verdict.
    pub verdict: PlaygroundVerdict,
    /// The answer's hint it is (`kept`) or duplicates (`duplicate`).
    pub merged_id: Option<u32>,
}

/// The result of a playground run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Playground {
    /// Every plugin asked, in slot order.
    pub plugins: Vec<PlaygroundPlugin>,
    /// The merged answer, as a hints request would serve it.
    pub merged: Vec<PlaygroundMerged>,
    /// The verdict on every plugin hint.
    pub decisions: Vec<PlaygroundDecision>,
    /// The threshold the merge applied.
    pub threshold: f64,
    /// The similarity at or above which two hints were duplicates.
    pub dedupe_similarity: f64,
    /// The most hints the answer could hold.
    pub max_hints: u32,
}

fn decision(d: Decision) -> PlaygroundDecision {
    let (verdict, merged_id) = match d.verdict {
        Verdict::Kept(id) => (PlaygroundVerdict::Kept, Some(id)),
        Verdict::Duplicate(id) => (PlaygroundVerdict::Duplicate, Some(id)),
        Verdict::BelowThreshold => (PlaygroundVerdict::BelowThreshold, None),
        Verdict::Blank => (PlaygroundVerdict::Blank, None),
        Verdict::OverLimit => (PlaygroundVerdict::OverLimit, None),
        Verdict::OverPluginCap => (PlaygroundVerdict::OverPluginCap, None),
    };
    PlaygroundDecision {
        plugin: d.plugin,
        hint_id: d.hint_id,
        rank: d.rank,
        score: d.score,
        verdict,
        merged_id,
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> HintsError {
    HintsError::InvalidRequest {
        field,
        reason: reason.into(),
    }
}

impl Hints {
    /// Runs a dialogue through the chosen plugins and the merge exactly as a hints request
    /// would, and reports everything; stores nothing, announces nothing, tells no plugin of
    /// a choice.
    pub async fn playground(&self, q: PlaygroundQuery) -> Result<Playground, HintsError> {
        let config = self.config();
        if q.context.is_empty() {
            return Err(invalid("context", "must hold at least one message"));
        }
        if q.context.len() > MAX_PLAYGROUND_MESSAGES {
            return Err(invalid(
                "context",
                format!("holds more than {MAX_PLAYGROUND_MESSAGES} messages"),
            ));
        }
        if let Some(n) = q.max_hints
            && (n == 0 || n > MAX_HINTS_CEILING)
        {
            return Err(invalid(
                "max_hints",
                format!("{n} is not in 1..={MAX_HINTS_CEILING}"),
            ));
        }
        let mut slots = self.providers().slots();
        if let Some(names) = &q.plugins {
            if let Some(unknown) = names.iter().find(|n| !slots.iter().any(|s| &s.name == *n)) {
                return Err(invalid(
                    "plugins",
                    format!("names `{unknown}`, which is not an enabled plugin"),
                ));
            }
            slots.retain(|s| names.contains(&s.name));
        }
        // Plugins see what a served request would show them: private notes left out.
        let context: Vec<Message> = q.context.into_iter().filter(|m| !m.private).collect();
        let answered = context
            .iter()
            .rev()
            .find(|m| m.role == Role::Client)
            .or(context.last())
            .map(|m| m.id.clone())
            .unwrap_or_default();
        let max_hints = q
            .max_hints
            .unwrap_or(config.max_hints)
            .clamp(1, MAX_HINTS_CEILING);
        let request = Arc::new(HintRequest {
            request_id: format!("playground-{}", uuid::Uuid::now_v7().simple()),
            dialog: DialogKey::new(q.source, q.account, "playground"),
            client_id: String::new(),
            operator_id: None,
            channel_id: None,
            transport: None,
            message_id: answered,
            external_key: None,
            context,
            max_hints,
            deadline_ms: config.request_deadline_ms.min(u64::from(u32::MAX)) as u32,
        });
        let FanOut { results, outcomes } = fan_out(
            self.providers(),
            &slots,
            request,
            Duration::from_millis(config.request_deadline_ms),
        )
        .await;
        let rules = MergeRules {
            threshold: config.threshold,
            max_hints,
            dedupe_similarity: config.dedupe_similarity,
        };
        let (merged, decisions) = merge_explained(&results, &rules);
        let plugins = outcomes
            .into_iter()
            .zip(&slots)
            .map(|(o, slot)| {
                let hints = results
                    .iter()
                    .find(|r| r.plugin == o.plugin)
                    .map(|r| {
                        r.hints
                            .iter()
                            .map(|h| PlaygroundHint {
                                id: h.id.clone(),
                                text: h.text.clone(),
                                url: h.url.clone(),
                                link: h.link.clone(),
                                relevance: h.relevance,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                PlaygroundPlugin {
                    plugin: o.plugin,
                    outcome: o.outcome.to_string(),
                    error: o.error,
                    latency_ms: o.latency.as_secs_f64() * 1000.0,
                    weight: slot.weight,
                    hints,
                }
            })
            .collect();
        let merged = merged
            .into_iter()
            .map(|h| PlaygroundMerged {
                id: h.id,
                plugin: h.origins[0].plugin.clone(),
                plugin_hint_id: h.origins[0].hint.id.clone(),
                text: h.text,
                relevance: h.relevance,
                score: h.score,
            })
            .collect();
        Ok(Playground {
            plugins,
            merged,
            decisions: decisions.into_iter().map(decision).collect(),
            threshold: rules.threshold,
            dedupe_similarity: rules.dedupe_similarity,
            max_hints,
        })
    }
}
