//! The JSON body a subscriber receives.
//!
//! Every delivery is one object:
//!
//! ```json
//! {"type":"inbox","source":"chat2desk","account":"default","dialog_id":"4324035",
//!  "received_at":"2026-01-02T03:04:05.678Z","event_seq":42,"data":{ ...as received... }}
//! ```
//!
//! - `type`: the platform's own event name (`inbox`, `message_created`, `NewTicket`,
//!   `message` for Whazing messages) or hintd's (`hints.generated`, `hint.selected`,
//!   `plugin.failed`, `webhook.disabled`).
//! - `source`: `chat2desk`, `chatwoot`, `whazing` or `hintd`.
//! - `account`: the account inside the source; `dialog_id` when the event has one.
//! - `received_at`: when hintd accepted the event (RFC 3339, UTC, milliseconds).
//! - `event_seq`: position in hintd's event log (increasing; the `webhook-id` header is the
//!   per-subscriber message id to deduplicate on).
//! - `data`: for platform events the payload byte for byte as the platform sent it; for
//!   hintd's events the JSON documented with the event (`webhook.disabled`: [`WebhookDisabled`]).

use crate::store::StoredEvent;
use serde::Serialize;

/// The body delivered for one event of the log.
pub fn envelope(stored: &StoredEvent) -> Vec<u8> {
    let e = &stored.event;
    let mut head = serde_json::Map::new();
    head.insert("type".into(), e.event_type.clone().into());
    head.insert("source".into(), e.source.clone().into());
    head.insert("account".into(), e.account.clone().into());
    if let Some(d) = &e.dialog_id {
        head.insert("dialog_id".into(), d.clone().into());
    }
    head.insert("received_at".into(), rfc3339_ms(e.received_at_ms).into());
    head.insert("event_seq".into(), stored.seq.into());
    let mut out = serde_json::to_vec(&head).expect("a map of strings serialises");
    out.pop(); // the closing brace; `data` follows
    out.extend_from_slice(br#","data":"#);
    if serde_json::from_slice::<serde::de::IgnoredAny>(&e.payload).is_ok() {
        // Valid JSON is embedded as is: receivers see exactly what the platform sent.
        out.extend_from_slice(trim_ascii(&e.payload));
    } else {
        // Not JSON (never produced by ingest, kept safe anyway): embedded as a JSON string.
        let text = String::from_utf8_lossy(&e.payload);
        out.extend_from_slice(&serde_json::to_vec(&text).expect("a string serialises"));
    }
    out.push(b'}');
    out
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &b[start..end]
}

/// Unix ms as `2026-01-02T03:04:05.678Z`.
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `data` of the `webhook.disabled` event, emitted when a webhook is switched off by
/// delivery failures (never when an administrator disables it).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDisabled {
    /// The webhook's id (`wh_...`).
    pub webhook_id: String,
    /// Its name.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// `gone` (the receiver answered 410) or `failing` (every delivery failed for
    /// `[dispatch] disable_after`).
    pub reason: String,
    /// When it was disabled, RFC 3339.
    pub disabled_at: String,
    /// Since when every delivery had failed, RFC 3339.
    pub failing_since: Option<String>,
    /// The last error recorded.
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewEvent;

    fn stored(payload: &[u8]) -> StoredEvent {
        StoredEvent {
            seq: 7,
            event: NewEvent {
                source: "chat2desk".into(),
                account: "acme".into(),
                event_type: "inbox".into(),
                dialog_id: Some("42".into()),
                dedup_key: None,
                received_at_ms: 1_700_000_000_123,
                payload: payload.to_vec(),
            },
        }
    }

    #[test]
    fn keeps_the_platform_payload_byte_for_byte() {
        let raw = br#"{"hook_type":"inbox","text":"Ol\u00e1",  "n": 1.50}"#;
        let body = envelope(&stored(raw));
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(
            text.ends_with(&format!(
                r#""data":{}}}"#,
                std::str::from_utf8(raw).unwrap()
            )),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["type"], "inbox");
        assert_eq!(v["source"], "chat2desk");
        assert_eq!(v["account"], "acme");
        assert_eq!(v["dialog_id"], "42");
        assert_eq!(v["event_seq"], 7);
        assert_eq!(v["received_at"], "2023-11-14T22:13:20.123Z");
        assert_eq!(v["data"]["text"], "Olá");
    }

    #[test]
    fn non_json_payload_becomes_a_string() {
        let v: serde_json::Value = serde_json::from_slice(&envelope(&stored(b"a=1&b=2"))).unwrap();
        assert_eq!(v["data"], "a=1&b=2");
    }
}
