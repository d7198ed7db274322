//! Standard Webhooks signing (`host/src/core/signature.rs`): a secret's text form parses back
//! to the same key, garbage is refused, and every signature in the headers is the HMAC of
//! `"{id}.{timestamp}.{body}"` under one of the secrets, verified here independently.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hintd::core::signature::{SECRET_PREFIX, SigningSecret, headers};
use hintd_fuzz::Fields;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

fuzz_target!(|data: &[u8]| {
    let mut f = Fields::new(data);
    let secret_text = f.text();
    let key = f.bytes().to_vec();
    let msg_id = f.text();
    let timestamp = f.int();
    let body = f.rest();

    // Any text: a secret or a refusal; an accepted one round-trips through its text form.
    if let Ok(secret) = SigningSecret::parse(&secret_text) {
        assert!(secret.key().len() >= 24);
        assert_eq!(SigningSecret::parse(&secret.expose()).ok(), Some(secret));
    }
    // Key bytes in their text form: accepted exactly from 24 bytes on, same bytes back.
    let text = format!("{SECRET_PREFIX}{}", B64.encode(&key));
    match SigningSecret::parse(&text) {
        Ok(secret) => {
            assert!(key.len() >= 24);
            assert_eq!(secret.key(), &key[..]);
            assert_eq!(secret.expose(), text);
        }
        Err(_) => assert!(key.len() < 24, "a {}-byte key refused", key.len()),
    }

    // Signatures, one per secret (two during a rotation), each verifiable on its own.
    let mut long_key = key.clone();
    long_key.resize(long_key.len().max(24), 0x5a);
    let first = SigningSecret::parse(&format!("{SECRET_PREFIX}{}", B64.encode(&long_key)))
        .expect("a 24-byte key");
    let inverted: Vec<u8> = long_key.iter().map(|b| !b).collect();
    let second = SigningSecret::parse(&format!("{SECRET_PREFIX}{}", B64.encode(&inverted)))
        .expect("a 24-byte key");
    assert_eq!(
        format!("{first:?}"),
        "SigningSecret(***)",
        "a secret in a log line"
    );
    let [id, ts, sig] = headers(&[&first, &second], &msg_id, timestamp, &body);
    assert_eq!(id, ("webhook-id", msg_id.clone()));
    assert_eq!(ts, ("webhook-timestamp", timestamp.to_string()));
    assert_eq!(sig.0, "webhook-signature");
    let signatures: Vec<&str> = sig.1.split(' ').collect();
    assert_eq!(signatures.len(), 2);
    for (secret, signature) in [&first, &second].into_iter().zip(signatures) {
        let mac = signature.strip_prefix("v1,").expect("v1 scheme");
        let mac = B64.decode(mac).expect("base64");
        assert_eq!(mac, expected(secret.key(), &msg_id, timestamp, &body));
        assert_eq!(signature, secret.sign(&msg_id, timestamp, &body));
    }
});

/// HMAC-SHA256 of `"{id}.{timestamp}.{body}"`, computed here independently of the host.
fn expected(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}
