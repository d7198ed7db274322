//! The crashes the fuzz targets of `fuzz/` found, each as the input that found it and the
//! behaviour now expected of it (fuzz/README.md lists them with the target and the date).

use crate::core::Source;
use crate::ingest::lenient::time_of;
use crate::ingest::verify::{AuthError, Credentials, sign, verify, verify_signature};
use crate::ingest::{AccountSettings, Delivery, parse};
use serde_json::json;

/// A realistic clock, unix seconds.
const NOW_S: i64 = 1_700_000_000;

/// `lenient` crash-61dad8c5: the timestamp `-9223372036854775808` (`i64::MIN`) overflowed
/// `abs` while deciding between seconds and milliseconds (a panic in builds with overflow
/// checks, the host's tests among them). It is a time in ms, like any number from 10^11 on.
#[test]
fn a_timestamp_of_i64_min_is_read_as_milliseconds() {
    for value in [json!("-9223372036854775808"), json!(i64::MIN)] {
        assert_eq!(time_of(&value), Ok(Some(i64::MIN)), "{value}");
    }
    assert_eq!(time_of(&json!(i64::MAX)), Ok(Some(i64::MAX)));
    // The same value in a webhook's time field.
    let body = br#"{"hook_type": "inbox", "message_id": "1", "dialog_id": "2",
        "text": "hi", "event_time": "-9223372036854775808"}"#;
    let parsed = parse(Source::Chat2desk, "default", body, NOW_S * 1000).unwrap();
    assert_eq!(parsed.event.meta.occurred_at_ms, i64::MIN);
}

/// `ingest_verify` crash-89def982: a correctly signed Chatwoot timestamp of `i64::MIN`
/// overflowed `now - timestamp` in the freshness check. It is stale, as is `i64::MAX`.
#[test]
fn a_signed_timestamp_at_either_end_of_i64_is_expired() {
    let body = br#"{"event":"message_created"}"#;
    for (ts, now) in [
        (i64::MIN, NOW_S),
        (i64::MAX, NOW_S),
        (i64::MAX, i64::MIN),
        (i64::MIN, i64::MAX),
    ] {
        let signature = sign("secret", ts, body);
        let ts_text = ts.to_string();
        assert_eq!(
            verify_signature("secret", &signature, Some(&ts_text), body, now),
            Err(AuthError::Expired),
            "signed at {ts}, checked at {now}"
        );
        let settings = AccountSettings {
            account: "default",
            token: None,
            secret: Some("secret"),
            delivery: Delivery::Inline,
            callback_url: None,
        };
        let credentials = Credentials {
            signature: Some(&signature),
            timestamp: Some(&ts_text),
            ..Default::default()
        };
        assert_eq!(
            verify(&settings, &credentials, body, now),
            Err(AuthError::Expired)
        );
    }
}

/// `api_v1_bodies`: a webhook URL within the 2048-byte limit as written (spaces, non-ASCII
/// characters in its path) outgrew it once percent-encoded, so the URL stored was longer
/// than the limit and the stored URL, sent back, was refused. The limit applies to the URL
/// as stored.
#[test]
fn a_webhook_url_is_limited_as_stored() {
    use crate::dispatch::DispatchConfig;
    use crate::dispatch::subscription::{MAX_URL_BYTES, validate_url};
    let policy = DispatchConfig::default().outbound_policy();
    for (raw, times) in [(" ", 1000), ("é", 1000), ("\u{10ffff}", 500)] {
        // Between two letters: the ends of a URL are trimmed.
        let text = format!("https://example.com/a{}b", raw.repeat(times));
        assert!(text.len() <= MAX_URL_BYTES, "{}", text.len());
        let refused = validate_url(Some(&text), &policy).unwrap_err();
        assert_eq!(refused.field, "url");
        assert!(refused.message.contains("percent-encoded"), "{refused:?}");
    }
    // Within the limit once encoded: accepted, and the stored URL validates to itself.
    let text = format!("https://example.com/a{}b", " ".repeat(600));
    let (stored, _) = validate_url(Some(&text), &policy).unwrap();
    assert!(stored.len() <= MAX_URL_BYTES);
    assert_eq!(validate_url(Some(&stored), &policy).unwrap().0, stored);
}
