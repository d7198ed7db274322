//! A served answer: the hints with their origins, the exact reply body, and the context they
//! came from; and its stored form.

use super::merge::{MergedHint, Origin};
use crate::core::{DialogKey, Message, Source};
use crate::plugins::Hint;
use crate::store::{AnswerRecord, ServedHintRecord};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One answer as served.
#[derive(Debug, Clone)]
pub struct Answer {
    /// hintd's id (`ans_…`), also the callback's `webhook-id`.
    pub id: String,
    /// The dialog.
    pub dialog: DialogKey,
    /// Client, when known.
    pub client_id: Option<String>,
    /// The message the hints answer.
    pub message_id: String,
    /// The platform's request id, or one hintd made.
    pub request_id: String,
    /// The hints, ranked.
    pub hints: Vec<MergedHint>,
    /// The reply body exactly as sent.
    pub body: bytes::Bytes,
    /// The context the plugins saw. Only the message ids are stored (the messages themselves
    /// live in the context store); an answer read back from the store has the ids in
    /// [`Answer::context_ids`] and this empty until [`Answer::restore_context`].
    pub context: Arc<Vec<Message>>,
    /// Ids of the context's messages, oldest first.
    pub context_ids: Vec<String>,
    /// When it was served, unix ms.
    pub created_at_ms: i64,
}

/// An origin in its stored JSON form.
#[derive(Serialize, Deserialize)]
struct StoredOrigin {
    plugin: String,
    id: String,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    relevance: u8,
    rank: u32,
}

/// A stored answer that cannot be read back.
#[derive(Debug, thiserror::Error)]
#[error("stored answer {id} is unreadable: {reason}")]
pub struct CorruptAnswer {
    /// The answer.
    pub id: String,
    /// What is wrong.
    pub reason: String,
}

impl Answer {
    /// The context of a stored answer: the messages of `window` (the dialog's current context)
    /// whose ids the answer recorded, in order. Messages deleted since are missing.
    pub fn restore_context(&self, window: Vec<Message>) -> Vec<Message> {
        let wanted: std::collections::HashSet<&str> =
            self.context_ids.iter().map(String::as_str).collect();
        window
            .into_iter()
            .filter(|m| wanted.contains(m.id.as_str()))
            .collect()
    }

    /// The stored form; `request_key` and `replay_until_ms` are the idempotency settings.
    pub fn to_record(&self, request_key: Option<String>, replay_until_ms: i64) -> AnswerRecord {
        AnswerRecord {
            id: self.id.clone(),
            source: self.dialog.source.as_str().to_string(),
            account: self.dialog.account.clone(),
            dialog_id: self.dialog.dialog_id.clone(),
            client_id: self.client_id.clone(),
            message_id: self.message_id.clone(),
            request_id: self.request_id.clone(),
            request_key,
            created_at_ms: self.created_at_ms,
            replay_until_ms,
            body: self.body.to_vec(),
            context: serde_json::to_vec(&self.context_ids).expect("ids serialise"),
            hints: self
                .hints
                .iter()
                .map(|h| {
                    let origins: Vec<StoredOrigin> = h
                        .origins
                        .iter()
                        .map(|o| StoredOrigin {
                            plugin: o.plugin.clone(),
                            id: o.hint.id.clone(),
                            text: o.hint.text.clone(),
                            url: o.hint.url.clone(),
                            link: o.hint.link.clone(),
                            relevance: o.hint.relevance,
                            rank: o.rank,
                        })
                        .collect();
                    ServedHintRecord {
                        hint_id: i64::from(h.id),
                        plugin: h.plugin().to_string(),
                        local_id: h.origins[0].hint.id.clone(),
                        text: h.text.clone(),
                        url: h.url.clone(),
                        link: h.link.clone(),
                        relevance: i64::from(h.relevance),
                        score: h.score,
                        origins: serde_json::to_vec(&origins).expect("origins serialise"),
                    }
                })
                .collect(),
        }
    }

    /// Reads a stored answer back.
    pub fn from_record(r: AnswerRecord) -> Result<Answer, CorruptAnswer> {
        let corrupt = |reason: String| CorruptAnswer {
            id: r.id.clone(),
            reason,
        };
        let source: Source = r
            .source
            .parse()
            .map_err(|e: crate::core::UnknownSource| corrupt(e.to_string()))?;
        let context_ids: Vec<String> =
            serde_json::from_slice(&r.context).map_err(|e| corrupt(format!("context ids: {e}")))?;
        let mut hints = Vec::with_capacity(r.hints.len());
        for h in &r.hints {
            let origins: Vec<StoredOrigin> = serde_json::from_slice(&h.origins)
                .map_err(|e| corrupt(format!("hint {}: {e}", h.hint_id)))?;
            if origins.is_empty() {
                return Err(corrupt(format!("hint {} has no origin", h.hint_id)));
            }
            hints.push(MergedHint {
                id: u32::try_from(h.hint_id)
                    .map_err(|_| corrupt(format!("hint id {}", h.hint_id)))?,
                text: h.text.clone(),
                url: h.url.clone(),
                link: h.link.clone(),
                relevance: h.relevance.clamp(0, 100) as u8,
                score: h.score,
                origins: origins
                    .into_iter()
                    .map(|o| Origin {
                        plugin: o.plugin,
                        hint: Hint {
                            id: o.id,
                            text: o.text,
                            url: o.url,
                            link: o.link,
                            relevance: o.relevance,
                        },
                        rank: o.rank,
                    })
                    .collect(),
            });
        }
        Ok(Answer {
            dialog: DialogKey::new(source, r.account.clone(), r.dialog_id.clone()),
            client_id: r.client_id.clone(),
            message_id: r.message_id.clone(),
            request_id: r.request_id.clone(),
            hints,
            body: bytes::Bytes::from(r.body.clone()),
            context: Arc::new(Vec::new()),
            context_ids,
            created_at_ms: r.created_at_ms,
            id: r.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Role;
    use crate::hints::merge::{MergeRules, PluginHints, merge};

    #[test]
    fn round_trips_through_its_record() {
        let mut h = Hint {
            id: "f1".into(),
            text: "Delivery in 3 days".into(),
            url: None,
            link: None,
            relevance: 90,
        };
        h.url = Some("https://shop.example/d".into());
        let hints = merge(
            &[PluginHints {
                plugin: "faq".into(),
                weight: 1.0,
                hints: vec![h],
            }],
            &MergeRules {
                threshold: 0.0,
                max_hints: 5,
                dedupe_similarity: 0.8,
            },
        );
        let message = Message {
            id: "1".into(),
            role: Role::Client,
            text: "when?".into(),
            sent_at_ms: 5,
            private: false,
            media_type: None,
            media_url: None,
        };
        let answer = Answer {
            id: "ans_1".into(),
            dialog: DialogKey::new(Source::Chat2desk, "default", "331"),
            client_id: Some("11910".into()),
            message_id: "8205".into(),
            request_id: "2343".into(),
            body: bytes::Bytes::from_static(b"{}"),
            hints,
            context: Arc::new(vec![message.clone()]),
            context_ids: vec!["1".into()],
            created_at_ms: 10,
        };
        let back = Answer::from_record(answer.to_record(Some("k".into()), 20)).unwrap();
        assert_eq!(back.hints, answer.hints);
        assert_eq!(back.context_ids, answer.context_ids);
        let later = Message {
            id: "2".into(),
            ..message.clone()
        };
        assert_eq!(
            back.restore_context(vec![message.clone(), later]),
            vec![message]
        );
        assert_eq!(back.dialog, answer.dialog);
    }
}
