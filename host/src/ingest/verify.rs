//! Who may post a webhook: the shared token (Chat2Desk, Whazing, and Chatwoot as a fallback)
//! and Chatwoot's HMAC signature.

use super::config::AccountSettings;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a Chatwoot timestamp may be from now, either way, in seconds.
pub const SIGNATURE_TOLERANCE_S: i64 = 300;

/// The credentials a request carried.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// `?token=`.
    pub query_token: Option<&'a str>,
    /// `Authorization: Bearer <token>`.
    pub bearer: Option<&'a str>,
    /// `X-Chatwoot-Signature`.
    pub signature: Option<&'a str>,
    /// `X-Chatwoot-Timestamp`.
    pub timestamp: Option<&'a str>,
}

/// Why a webhook was refused (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Neither token nor signature.
    #[error("missing credentials: send ?token=, Authorization: Bearer, or a signature")]
    Missing,
    /// A token was sent and is wrong.
    #[error("invalid token")]
    BadToken,
    /// The signature header is not `sha256=<hex>`.
    #[error("X-Chatwoot-Signature must be `sha256=<hex>`")]
    MalformedSignature,
    /// The signature does not match the body.
    #[error("X-Chatwoot-Signature does not match the body")]
    BadSignature,
    /// Signed, but the timestamp is missing or not a number.
    #[error("X-Chatwoot-Timestamp is missing or not a unix timestamp")]
    BadTimestamp,
    /// Signed too long ago (or in the future): a replay.
    #[error("X-Chatwoot-Timestamp is more than 5 minutes away from now")]
    Expired,
}

impl AuthError {
    /// The header or parameter the error is about.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AuthError::Missing => None,
            AuthError::BadToken => Some("token"),
            AuthError::MalformedSignature | AuthError::BadSignature => Some("X-Chatwoot-Signature"),
            AuthError::BadTimestamp | AuthError::Expired => Some("X-Chatwoot-Timestamp"),
        }
    }
}

/// Checks a request against an account's settings. An account without token and secret
/// accepts everything. A valid token is enough; otherwise, when a secret is set, the
/// signature must be valid and fresh.
pub fn verify(
    settings: &AccountSettings<'_>,
    creds: &Credentials<'_>,
    body: &[u8],
    now_s: i64,
) -> Result<(), AuthError> {
    if !settings.requires_auth() {
        return Ok(());
    }
    let sent_token = creds.query_token.or(creds.bearer);
    if let (Some(expected), Some(sent)) = (settings.token, sent_token)
        && constant_time_eq(expected.as_bytes(), sent.as_bytes())
    {
        return Ok(());
    }
    if let (Some(secret), Some(signature)) = (settings.secret, creds.signature) {
        return verify_signature(secret, signature, creds.timestamp, body, now_s);
    }
    if sent_token.is_some() {
        Err(AuthError::BadToken)
    } else {
        Err(AuthError::Missing)
    }
}

/// Verifies `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>` in constant time.
pub fn verify_signature(
    secret: &str,
    signature: &str,
    timestamp: Option<&str>,
    body: &[u8],
    now_s: i64,
) -> Result<(), AuthError> {
    let hex_sig = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(AuthError::MalformedSignature)?;
    let sig = hex::decode(hex_sig).map_err(|_| AuthError::MalformedSignature)?;
    let ts_text = timestamp.map(str::trim).ok_or(AuthError::BadTimestamp)?;
    let ts: i64 = ts_text.parse().map_err(|_| AuthError::BadTimestamp)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(ts_text.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&sig)
        .map_err(|_| AuthError::BadSignature)?;
    // Checked after the MAC so that a forged timestamp cannot be told apart from a stale one;
    // `abs_diff`, as the difference of two i64 (a signed `i64::MIN`) overflows.
    if now_s.abs_diff(ts) > SIGNATURE_TOLERANCE_S.unsigned_abs() {
        return Err(AuthError::Expired);
    }
    Ok(())
}

/// Computes the signature header value for a body, as Chatwoot does (used by tests and the
/// examples script).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Byte equality whose time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::config::Delivery;

    fn settings<'a>(token: Option<&'a str>, secret: Option<&'a str>) -> AccountSettings<'a> {
        AccountSettings {
            account: "default",
            token,
            secret,
            delivery: Delivery::Inline,
            callback_url: None,
        }
    }

    #[test]
    fn tokens() {
        let s = settings(Some("tok"), None);
        let ok = Credentials {
            query_token: Some("tok"),
            ..Default::default()
        };
        assert_eq!(verify(&s, &ok, b"{}", 0), Ok(()));
        let bearer = Credentials {
            bearer: Some("tok"),
            ..Default::default()
        };
        assert_eq!(verify(&s, &bearer, b"{}", 0), Ok(()));
        let bad = Credentials {
            query_token: Some("nope"),
            ..Default::default()
        };
        assert_eq!(verify(&s, &bad, b"{}", 0), Err(AuthError::BadToken));
        assert_eq!(
            verify(&s, &Credentials::default(), b"{}", 0),
            Err(AuthError::Missing)
        );
        assert_eq!(
            verify(&settings(None, None), &Credentials::default(), b"{}", 0),
            Ok(())
        );
    }

    #[test]
    fn signatures() {
        let s = settings(None, Some("secret"));
        let body = br#"{"event":"message_created"}"#;
        let now = 1_700_000_000;
        let sig = sign("secret", now, body);
        let ts = now.to_string();
        let good = Credentials {
            signature: Some(&sig),
            timestamp: Some(&ts),
            ..Default::default()
        };
        assert_eq!(verify(&s, &good, body, now + 10), Ok(()));
        assert_eq!(verify(&s, &good, b"{}", now), Err(AuthError::BadSignature));
        assert_eq!(verify(&s, &good, body, now + 301), Err(AuthError::Expired));
        let garbled = Credentials {
            signature: Some("md5=00"),
            timestamp: Some(&ts),
            ..Default::default()
        };
        assert_eq!(
            verify(&s, &garbled, body, now),
            Err(AuthError::MalformedSignature)
        );
        let no_ts = Credentials {
            signature: Some(&sig),
            ..Default::default()
        };
        assert_eq!(verify(&s, &no_ts, body, now), Err(AuthError::BadTimestamp));
    }
}
