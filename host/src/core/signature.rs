//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): the scheme hintd signs
//! every outbound webhook and hint callback with, verifiable by the official libraries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The prefix of a signing secret in its text form.
pub const SECRET_PREFIX: &str = "whsec_";

/// A signing secret: random key bytes, shown to users as `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(***)")
    }
}

/// A secret text that is not `whsec_` followed by base64.
#[derive(Debug, thiserror::Error)]
#[error("signing secret must be `whsec_` followed by base64 of at least 24 bytes")]
pub struct InvalidSecret;

impl SigningSecret {
    /// A new random 32-byte secret.
    pub fn generate() -> Self {
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        SigningSecret(key)
    }

    /// Parses `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, InvalidSecret> {
        let b64 = text.strip_prefix(SECRET_PREFIX).ok_or(InvalidSecret)?;
        let key = B64.decode(b64).map_err(|_| InvalidSecret)?;
        if key.len() < 24 {
            return Err(InvalidSecret);
        }
        Ok(SigningSecret(key))
    }

    /// The key bytes.
    pub fn key(&self) -> &[u8] {
        &self.0
    }

    /// The `whsec_<base64>` text form.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", B64.encode(&self.0))
    }

    /// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
    }
}

/// The three Standard Webhooks headers of one delivery. Several secrets (during rotation)
/// give several space-separated signatures.
pub fn headers(
    secrets: &[&SigningSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    let signature = secrets
        .iter()
        .map(|s| s.sign(msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ");
    [
        ("webhook-id", msg_id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specification_example() {
        // Test vector from the Standard Webhooks specification repository.
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secret_round_trips_and_rejects_garbage() {
        let s = SigningSecret::generate();
        assert_eq!(SigningSecret::parse(&s.expose()).unwrap(), s);
        assert!(SigningSecret::parse("whsec_!!").is_err());
        assert!(SigningSecret::parse("abc").is_err());
        assert_eq!(format!("{s:?}"), "SigningSecret(***)");
    }
}
