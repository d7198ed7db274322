//! Who may post a webhook (`host/src/ingest/verify.rs`): a body signed with the account's
//! secret and a fresh timestamp passes, any change of body, secret or timestamp fails, an
//! arbitrary signature passes only when it is the right MAC of a fresh time, and a token
//! passes exactly when it is the account's.
#![no_main]

use hintd::ingest::verify::{
    AuthError, Credentials, SIGNATURE_TOLERANCE_S, sign, verify, verify_signature,
};
use hintd::ingest::{AccountSettings, Delivery};
use hintd_fuzz::Fields;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

fuzz_target!(|data: &[u8]| {
    let mut f = Fields::new(data);
    let secret = f.text();
    let timestamp_text = f.text();
    let now = f.int();
    let skew = f.int();
    let signature = f.text();
    let token = f.text();
    let sent_token = f.text();
    let body = f.rest();

    // Whatever is sent: no panic, and success only for the right MAC of a fresh time.
    if verify_signature(&secret, &signature, Some(&timestamp_text), &body, now).is_ok() {
        let ts_text = timestamp_text.trim();
        let ts: i64 = ts_text.parse().expect("accepted, so a number");
        let hex_sig = signature.trim().strip_prefix("sha256=").expect("accepted");
        let sent = hex::decode(hex_sig).expect("accepted, so hex");
        assert_eq!(sent, mac(&secret, ts_text, &body), "a wrong MAC accepted");
        assert!(fresh(now, ts), "a stale signature accepted");
    }

    // A correct signature passes at its own time, and at `now` exactly when it is fresh:
    // `skew` puts the timestamp anywhere, near `now` or at the ends of the range.
    let ts = if skew.unsigned_abs() <= 1000 {
        now.saturating_add(skew)
    } else {
        skew
    };
    let ts_text = ts.to_string();
    let good = sign(&secret, ts, &body);
    let check = |secret: &str, body: &[u8], now: i64| {
        verify_signature(secret, &good, Some(&ts_text), body, now)
    };
    assert_eq!(check(&secret, &body, ts), Ok(()));
    let at_now = if fresh(now, ts) {
        Ok(())
    } else {
        Err(AuthError::Expired)
    };
    assert_eq!(check(&secret, &body, now), at_now);
    // Tampering with the body, the secret or the timestamp.
    let mut other_body = body.clone();
    other_body.push(b'x');
    assert_eq!(
        check(&secret, &other_body, ts),
        Err(AuthError::BadSignature)
    );
    assert_eq!(
        check(&format!("{secret}x"), &body, ts),
        Err(AuthError::BadSignature)
    );
    let other_ts = ts.wrapping_add(1).to_string();
    assert_eq!(
        verify_signature(&secret, &good, Some(&other_ts), &body, ts),
        Err(AuthError::BadSignature)
    );

    // The account's token, in the query or as a bearer, is enough; another one is not.
    let query = |t| Credentials {
        query_token: Some(t),
        ..Default::default()
    };
    let bearer = |t| Credentials {
        bearer: Some(t),
        ..Default::default()
    };
    let with_token = settings(Some(&token), None);
    assert_eq!(verify(&with_token, &query(&token), &body, now), Ok(()));
    assert_eq!(verify(&with_token, &bearer(&token), &body, now), Ok(()));
    let expected = if sent_token == token {
        Ok(())
    } else {
        Err(AuthError::BadToken)
    };
    assert_eq!(
        verify(&with_token, &query(&sent_token), &body, now),
        expected
    );
    assert_eq!(
        verify(&with_token, &bearer(&sent_token), &body, now),
        expected
    );
    assert_eq!(
        verify(&with_token, &Credentials::default(), &body, now),
        Err(AuthError::Missing)
    );
    // A signature counts only on an account with a secret.
    let signed = Credentials {
        signature: Some(&good),
        timestamp: Some(&ts_text),
        ..Default::default()
    };
    assert_eq!(
        verify(&with_token, &signed, &body, ts),
        Err(AuthError::Missing)
    );
    let both = settings(Some(&token), Some(&secret));
    let signed_with_bad_token = Credentials {
        query_token: Some(&sent_token),
        ..signed
    };
    assert_eq!(verify(&both, &signed_with_bad_token, &body, ts), Ok(()));
    // An account without credentials is open.
    let open = settings(None, None);
    assert_eq!(verify(&open, &query(&sent_token), &body, now), Ok(()));
});

fn settings<'a>(token: Option<&'a str>, secret: Option<&'a str>) -> AccountSettings<'a> {
    AccountSettings {
        account: "fuzz",
        token,
        secret,
        delivery: Delivery::Inline,
        callback_url: None,
    }
}

/// Whether `ts` is within the tolerance of `now` (computed without overflow).
fn fresh(now: i64, ts: i64) -> bool {
    i128::from(now).abs_diff(i128::from(ts)) <= SIGNATURE_TOLERANCE_S as u128
}

/// HMAC-SHA256 of `"{timestamp}.{body}"`, computed here independently of the host.
fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}
