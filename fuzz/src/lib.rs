//! What the fuzz targets of `src/bin/` share: the invariants of a webhook parse, and the
//! splitting of one fuzz input into several fields.

use hintd::core::{Message, Source};
use hintd::ingest::{self, EventKind, MAX_DEDUP_KEY_LEN, MAX_EVENT_TYPE_LEN, ParseError, Parsed};
use serde_json::Value;

/// The account every webhook target parses for.
pub const ACCOUNT: &str = "fuzz";

/// The receive time every webhook target passes (events without a time of their own get it).
pub const RECEIVED_AT_MS: i64 = 1_700_000_000_000;

/// The fields of one fuzz input, separated by NUL bytes (the seeds are written that way, so a
/// field may hold any other byte). Missing fields read as empty.
pub struct Fields<'a> {
    parts: std::slice::Split<'a, u8, fn(&u8) -> bool>,
}

impl<'a> Fields<'a> {
    /// Splits `data` at every NUL.
    pub fn new(data: &'a [u8]) -> Self {
        let is_nul: fn(&u8) -> bool = |b| *b == 0;
        Fields {
            parts: data.split(is_nul),
        }
    }

    /// The next field's bytes (empty when the input has no more).
    pub fn bytes(&mut self) -> &'a [u8] {
        self.parts.next().unwrap_or_default()
    }

    /// The next field as text (invalid UTF-8 replaced).
    pub fn text(&mut self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }

    /// The next field as a signed integer: its decimal text, else its first eight bytes.
    pub fn int(&mut self) -> i64 {
        let b = self.bytes();
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                let mut raw = [0u8; 8];
                let n = b.len().min(8);
                raw[..n].copy_from_slice(&b[..n]);
                i64::from_le_bytes(raw)
            })
    }

    /// Everything not read yet, NULs included.
    pub fn rest(self) -> Vec<u8> {
        self.parts.collect::<Vec<_>>().join(&0u8)
    }
}

/// A fuzz input as a webhook body: its bytes, their JSON value, and that value written back.
pub struct Body<'a> {
    raw: &'a [u8],
    value: serde_json::Result<Value>,
    /// The value written back, when it reads back as the same value.
    rewritten: Option<Vec<u8>>,
}

impl<'a> Body<'a> {
    /// Reads `raw` once for every check of it.
    pub fn new(raw: &'a [u8]) -> Self {
        let value = serde_json::from_slice::<Value>(raw);
        let rewritten = value.as_ref().ok().and_then(|v| {
            let bytes = serde_json::to_vec(v).expect("a JSON value serialises");
            // A float may not survive its own shortest spelling: not the parsers' concern.
            (serde_json::from_slice::<Value>(&bytes).ok().as_ref() == Some(v)).then_some(bytes)
        });
        Body {
            raw,
            value,
            rewritten,
        }
    }
}

/// Parses `body` as a webhook of `source` and checks what every parse must hold: it does not
/// panic, an accepted event is well formed and survives serialisation, a refusal says why,
/// and only the JSON value counts, not how it is spelt (other whitespace, escapes, key order
/// and duplicates, number spellings read the same, but for the digests of the exact bytes).
pub fn check_parse(source: Source, body: &Body<'_>) {
    let first = ingest::parse(source, ACCOUNT, body.raw, RECEIVED_AT_MS);
    match &first {
        Ok(parsed) => check_event(source, parsed),
        Err(e) => check_refusal(source, &body.value, e),
    }
    if let Some(rewritten) = &body.rewritten {
        let second = ingest::parse(source, ACCOUNT, rewritten, RECEIVED_AT_MS);
        assert_eq!(
            without_body_digests(first),
            without_body_digests(second),
            "the same JSON value spelt differently parses differently"
        );
    }
}

fn check_event(source: Source, parsed: &Parsed) {
    let meta = &parsed.event.meta;
    assert_eq!(meta.source, Some(source));
    assert_eq!(meta.account, ACCOUNT);
    assert!(!meta.event_type.is_empty(), "an accepted event has a type");
    assert!(
        meta.event_type.len() <= MAX_EVENT_TYPE_LEN,
        "event type of {} bytes",
        meta.event_type.len()
    );
    let key = meta
        .dedup_key
        .as_deref()
        .expect("every accepted event has a redelivery key");
    assert!(
        !key.is_empty() && key.len() <= MAX_DEDUP_KEY_LEN,
        "key {key:?}"
    );
    let documented: &[&str] = match source {
        Source::Chat2desk => ingest::chat2desk::HOOK_TYPES,
        Source::Chatwoot => ingest::chatwoot::EVENTS,
        Source::Whazing => ingest::whazing::TYPES,
        Source::Api => panic!("the api source has no webhook format, yet a body parsed"),
    };
    assert_eq!(
        parsed.known_type,
        documented.contains(&meta.event_type.as_str()),
        "known_type disagrees with the documented list for {:?}",
        meta.event_type
    );
    if source == Source::Whazing {
        assert_eq!(meta.transport.as_deref(), Some("whatsapp"));
    }
    match &parsed.event.kind {
        EventKind::MessageAdded { message } | EventKind::MessageUpdated { message } => {
            assert!(!message.id.is_empty(), "a message without an id");
            assert_eq!(message.sent_at_ms, meta.occurred_at_ms);
            // Messages are stored and handed to plugins as JSON: the round trip is exact.
            let json = serde_json::to_vec(message).expect("a message serialises");
            let back: Message = serde_json::from_slice(&json).expect("a message deserialises");
            assert_eq!(&back, message, "a message does not survive its JSON form");
        }
        EventKind::MessageDeleted { message_id } => assert!(!message_id.is_empty()),
        EventKind::HintsRequested {
            request_id,
            message_id,
        } => assert!(!request_id.is_empty() && !message_id.is_empty()),
        EventKind::HintChosen { message_id, .. } => assert!(!message_id.is_empty()),
        _ => {}
    }
    let json = serde_json::to_value(&parsed.event).expect("an event serialises");
    assert!(json.is_object());
}

fn check_refusal(source: Source, value: &serde_json::Result<Value>, e: &ParseError) {
    assert!(!e.to_string().is_empty());
    match e {
        ParseError::InvalidJson(_) => assert!(value.is_err(), "valid JSON refused as invalid"),
        ParseError::NotAnObject => assert!(value.as_ref().is_ok_and(|v| !v.is_object())),
        ParseError::Missing { field } | ParseError::Field { field, .. } => {
            assert!(value.as_ref().is_ok_and(Value::is_object));
            assert!(!field.is_empty(), "a refusal names no field");
            if source == Source::Api {
                assert_eq!(field, "source");
            }
        }
    }
}

/// A parse with the digests of the exact body (`body:<hex>`, and `long:<hex>` of keys that
/// may hold one) blanked out.
fn without_body_digests(result: Result<Parsed, ParseError>) -> Result<Parsed, ParseError> {
    result.map(|mut parsed| {
        if let Some(key) = parsed.event.meta.dedup_key.as_mut() {
            *key = blank_digests(key);
        }
        parsed
    })
}

fn blank_digests(key: &str) -> String {
    if key.starts_with("long:") {
        return "long:*".into();
    }
    let mut out = String::with_capacity(key.len());
    let mut rest = key;
    while let Some(at) = rest.find("body:") {
        out.push_str(&rest[..at + 5]);
        rest = &rest[at + 5..];
        let hex_len = rest
            .bytes()
            .take(32)
            .take_while(u8::is_ascii_hexdigit)
            .count();
        if hex_len == 32 {
            out.push('*');
            rest = &rest[32..];
        }
    }
    out.push_str(rest);
    out
}
