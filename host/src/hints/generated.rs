//! The `hints.generated` event payload, serialised straight from the answer (no intermediate
//! `serde_json::Value` tree: this runs once per served answer).

use super::answer::Answer;
use super::pipeline::ProviderOutcome;
use crate::core::Source;
use serde::Serialize;

/// The payload. Fields are declared in key order so the bytes are those of the same object
/// built as a `serde_json::Value` (whose maps are sorted).
#[derive(Serialize)]
struct Generated<'a> {
    account: &'a str,
    answer_id: &'a str,
    client_id: &'a Option<String>,
    created_at_ms: i64,
    dialog_id: &'a str,
    hints: Vec<GeneratedHint<'a>>,
    message_id: &'a str,
    plugins: Vec<GeneratedPlugin<'a>>,
    request_id: &'a str,
    source: Source,
    #[serde(rename = "type")]
    event_type: &'static str,
}

#[derive(Serialize)]
struct GeneratedHint<'a> {
    id: u32,
    link: &'a Option<String>,
    plugin: &'a str,
    plugin_hint_id: &'a str,
    relevance: u8,
    text: &'a str,
    url: &'a Option<String>,
}

#[derive(Serialize)]
struct GeneratedPlugin<'a> {
    hints: usize,
    latency_ms: f64,
    outcome: &'static str,
    plugin: &'a str,
}

/// The JSON of the `hints.generated` event for `answer`, with each provider's outcome.
pub fn generated_payload(answer: &Answer, outcomes: &[ProviderOutcome]) -> Vec<u8> {
    let payload = Generated {
        account: &answer.dialog.account,
        answer_id: &answer.id,
        client_id: &answer.client_id,
        created_at_ms: answer.created_at_ms,
        dialog_id: &answer.dialog.dialog_id,
        hints: answer
            .hints
            .iter()
            .map(|h| GeneratedHint {
                id: h.id,
                link: &h.link,
                plugin: h.plugin(),
                plugin_hint_id: &h.origins[0].hint.id,
                relevance: h.relevance,
                text: &h.text,
                url: &h.url,
            })
            .collect(),
        message_id: &answer.message_id,
        plugins: outcomes
            .iter()
            .map(|o| GeneratedPlugin {
                hints: o.hints,
                latency_ms: o.latency.as_secs_f64() * 1000.0,
                outcome: o.outcome,
                plugin: &o.plugin,
            })
            .collect(),
        request_id: &answer.request_id,
        source: answer.dialog.source,
        event_type: "hints.generated",
    };
    serde_json::to_vec(&payload).expect("JSON serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::DialogKey;
    use crate::hints::merge::{MergeRules, PluginHints, merge};
    use crate::plugins::Hint;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn bytes_equal_the_value_built_form() {
        let hint = |id: &str, text: &str, url: Option<&str>| Hint {
            id: id.into(),
            text: text.into(),
            url: url.map(Into::into),
            link: None,
            relevance: 70,
        };
        let hints = merge(
            &[
                PluginHints {
                    plugin: "faq".into(),
                    weight: 1.0,
                    hints: vec![hint("f1", "Entrega em 3 \"dias\"", Some("https://x/d"))],
                },
                PluginHints {
                    plugin: "replies".into(),
                    weight: 1.0,
                    hints: vec![hint("r1", "Olá, {name}!\n", None)],
                },
            ],
            &MergeRules {
                threshold: 0.0,
                max_hints: 5,
                dedupe_similarity: 0.8,
            },
        );
        for client_id in [None, Some("11910".to_string())] {
            let answer = Answer {
                id: "ans_1".into(),
                dialog: DialogKey::new(Source::Chat2desk, "default", "331"),
                client_id: client_id.clone(),
                message_id: "8205".into(),
                request_id: "2343".into(),
                hints: hints.clone(),
                body: bytes::Bytes::new(),
                context: Arc::new(Vec::new()),
                context_ids: Vec::new(),
                created_at_ms: 1_767_000_000_000,
            };
            let outcomes = [
                ProviderOutcome {
                    plugin: "faq".into(),
                    outcome: "ok",
                    hints: 1,
                    latency: Duration::from_micros(412),
                    error: None,
                },
                ProviderOutcome {
                    plugin: "llm".into(),
                    outcome: "deadline",
                    hints: 0,
                    latency: Duration::from_millis(800),
                    error: None,
                },
            ];
            let reference = serde_json::json!({
                "type": "hints.generated",
                "answer_id": answer.id,
                "source": answer.dialog.source,
                "account": answer.dialog.account,
                "dialog_id": answer.dialog.dialog_id,
                "client_id": answer.client_id,
                "message_id": answer.message_id,
                "request_id": answer.request_id,
                "created_at_ms": answer.created_at_ms,
                "hints": answer.hints.iter().map(|h| serde_json::json!({
                    "id": h.id, "text": h.text, "url": h.url, "link": h.link, "relevance": h.relevance,
                    "plugin": h.plugin(), "plugin_hint_id": h.origins[0].hint.id,
                })).collect::<Vec<_>>(),
                "plugins": outcomes.iter().map(|o| serde_json::json!({
                    "plugin": o.plugin, "outcome": o.outcome, "hints": o.hints,
                    "latency_ms": o.latency.as_secs_f64() * 1000.0,
                })).collect::<Vec<_>>(),
            });
            assert_eq!(
                String::from_utf8(generated_payload(&answer, &outcomes)).unwrap(),
                serde_json::to_string(&reference).unwrap()
            );
        }
    }
}
