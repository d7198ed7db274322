//! Chatwoot private notes (`delivery = "note"`): an answer's hints as ONE private note posted
//! into the conversation through Chatwoot's Application API
//! (`POST {base}/api/v1/accounts/{account}/conversations/{display_id}/messages`), and the
//! recognition of that note when Chatwoot sends it back as a `message_created` webhook, so it
//! never becomes context, an operator reply or a new trigger.

use super::answer::Answer;
use super::callback::CallbackOutcome;
use crate::core::{DialogKey, Role, Source};
use crate::ingest::{ChatwootApi, Event, EventKind};
use dashmap::DashMap;

/// The first line of every note hintd posts. Chatwoot echoes the note back in a webhook that
/// may reach any replica, even after a restart: the text itself is what marks it as hintd's.
pub const NOTE_MARKER: &str = "💡 hintd hints";

/// The note's text: the marker, then one numbered line per hint (its link or URL on the next
/// line); `None` when there is nothing to show.
pub fn note_content(answer: &Answer) -> Option<String> {
    if answer.hints.is_empty() {
        return None;
    }
    let mut text = String::from(NOTE_MARKER);
    for h in &answer.hints {
        text.push_str(&format!("\n{}. {}", h.id, h.text.trim()));
        for extra in [&h.link, &h.url].into_iter().flatten() {
            if !extra.is_empty() {
                text.push_str(&format!("\n   {extra}"));
            }
        }
    }
    Some(text)
}

/// Where a note for `dialog` (keyed by Chatwoot's `display_id`) is posted.
pub fn note_url(api: &ChatwootApi, dialog: &DialogKey) -> String {
    format!(
        "{}/api/v1/accounts/{}/conversations/{}/messages",
        api.base_url, api.account_id, dialog.dialog_id
    )
}

/// The request body: a private note, not a message to the client.
pub fn note_body(content: &str) -> bytes::Bytes {
    serde_json::to_vec(&serde_json::json!({"content": content, "private": true}))
        .expect("a JSON value serialises")
        .into()
}

/// Whether `event` is Chatwoot's echo of a note hintd posted: a private message, not from
/// the client, whose text starts with [`NOTE_MARKER`].
pub fn is_own_note(event: &Event) -> bool {
    if event.meta.source != Some(Source::Chatwoot) {
        return false;
    }
    match &event.kind {
        EventKind::MessageAdded { message } | EventKind::MessageUpdated { message } => {
            message.private
                && message.role != Role::Client
                && message.text.trim_start().starts_with(NOTE_MARKER)
        }
        _ => false,
    }
}

/// Why notes of an account fail for good, as a metrics label.
pub fn failure_reason(outcome: &CallbackOutcome) -> Option<&'static str> {
    let CallbackOutcome::Failed { status, error, .. } = outcome else {
        return None;
    };
    Some(match status {
        Some(401 | 403) => "unauthorized",
        Some(404) => "not_found",
        Some(_) => "rejected",
        None if error.contains("SSRF") => "refused",
        None => "gave_up",
    })
}

/// The last lasting failure of each account's notes, shown as a `/readyz` warning until a
/// note of that account goes through again.
#[derive(Default)]
pub(super) struct NoteFailures {
    by_account: DashMap<String, String>,
}

impl NoteFailures {
    /// Records the outcome of one note of `account`.
    pub(super) fn record(&self, account: &str, outcome: &CallbackOutcome) {
        match (outcome, failure_reason(outcome)) {
            (CallbackOutcome::Sent { .. }, _) => {
                self.by_account.remove(account);
            }
            (CallbackOutcome::Failed { error, .. }, Some(reason)) => {
                let hint = match reason {
                    "unauthorized" => " (check api_access_token)",
                    "not_found" => " (check chatwoot_base_url and chatwoot_account_id)",
                    _ => "",
                };
                self.by_account.insert(
                    account.to_string(),
                    format!("chatwoot notes of account {account} fail: {error}{hint}"),
                );
            }
            _ => {}
        }
    }

    /// The current warnings, sorted.
    pub(super) fn warnings(&self) -> Vec<String> {
        let mut w: Vec<String> = self.by_account.iter().map(|e| e.value().clone()).collect();
        w.sort();
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Message;
    use crate::ingest::EventMeta;

    fn event(private: bool, role: Role, text: &str) -> Event {
        Event {
            meta: EventMeta {
                source: Some(Source::Chatwoot),
                ..Default::default()
            },
            kind: EventKind::MessageAdded {
                message: Message {
                    id: "1".into(),
                    role,
                    text: text.into(),
                    sent_at_ms: 0,
                    private,
                    media_type: None,
                    media_url: None,
                },
            },
        }
    }

    #[test]
    fn only_private_notes_with_the_marker_are_own() {
        let own = format!("{NOTE_MARKER}\n1. Hello");
        assert!(is_own_note(&event(true, Role::Operator, &own)));
        assert!(is_own_note(&event(true, Role::Bot, &own)));
        assert!(!is_own_note(&event(false, Role::Operator, &own)));
        assert!(!is_own_note(&event(true, Role::Client, &own)));
        assert!(!is_own_note(&event(true, Role::Operator, "my own note")));
    }

    #[test]
    fn reasons_and_warnings() {
        let failures = NoteFailures::default();
        let failed = |status| CallbackOutcome::Failed {
            attempts: 1,
            error: "HTTP 401".into(),
            status,
        };
        assert_eq!(failure_reason(&failed(Some(401))), Some("unauthorized"));
        assert_eq!(failure_reason(&failed(Some(404))), Some("not_found"));
        assert_eq!(failure_reason(&failed(None)), Some("gave_up"));
        failures.record("shop", &failed(Some(401)));
        assert!(failures.warnings()[0].contains("api_access_token"));
        failures.record("shop", &CallbackOutcome::Sent { attempts: 1 });
        assert!(failures.warnings().is_empty());
    }

    #[test]
    fn url_and_body() {
        let api = ChatwootApi {
            base_url: "http://127.0.0.1:9".into(),
            account_id: 3,
            access_token: "t".into(),
        };
        let dialog = DialogKey::new(Source::Chatwoot, "shop", "42");
        assert_eq!(
            note_url(&api, &dialog),
            "http://127.0.0.1:9/api/v1/accounts/3/conversations/42/messages"
        );
        let body: serde_json::Value = serde_json::from_slice(&note_body("x")).unwrap();
        assert_eq!(body, serde_json::json!({"content": "x", "private": true}));
    }
}
