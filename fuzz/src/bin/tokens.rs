//! Token extraction: `?token=` from a webhook's query string (`api::v1::ingest::query_token`)
//! and `Authorization: Bearer` (`api::auth::bearer`, and the admin key check built on it).
//! A token put in by the standard encoders comes out as it went in; anything else gives a
//! token or none, never a panic.
#![no_main]

use hintd::api::auth::{bearer, check};
use hintd::api::v1::ingest::query_token;
use hintd_fuzz::Fields;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut f = Fields::new(data);
    let raw_query = f.text();
    let token = f.text();
    let other_key = f.text();
    let other_value = f.text();
    let header_bytes = f.rest();

    // Any query string.
    let _ = query_token(Some(&raw_query));
    // A form-encoded query: the first `token` wins, whatever precedes or follows it.
    let mut form = form_urlencoded::Serializer::new(String::new());
    if other_key != "token" {
        form.append_pair(&other_key, &other_value);
    }
    form.append_pair("token", &token);
    form.append_pair("token", &other_value);
    let encoded = form.finish();
    assert_eq!(
        query_token(Some(&encoded)).as_ref(),
        Some(&token),
        "{encoded}"
    );
    assert_eq!(query_token(None), None);

    // Any Authorization header.
    if let Ok(value) = HeaderValue::from_bytes(&header_bytes) {
        let headers = authorization(value.clone());
        if let Some(sent) = bearer(&headers) {
            assert!(!sent.is_empty() && sent == sent.trim());
            let text = value.to_str().expect("bearer reads text only");
            let (scheme, rest) = text.split_once(' ').expect("a scheme and a token");
            assert!(scheme.eq_ignore_ascii_case("bearer"));
            assert_eq!(rest.trim(), sent);
            assert!(check(Some(sent), &headers).is_ok());
        }
        let refused = check(Some("the-admin-key"), &headers);
        assert_eq!(refused.is_ok(), bearer(&headers) == Some("the-admin-key"));
        if let Err(e) = refused {
            assert_eq!(e.status, StatusCode::UNAUTHORIZED);
            assert_eq!(e.field.as_deref(), Some("Authorization"));
        }
        assert!(check(None, &headers).is_err(), "no admin key, yet admitted");
    }
    // A token sent as `Bearer <token>`, in any case of the scheme, comes back as sent.
    let trimmed = token.trim();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let Ok(value) = HeaderValue::from_str(&format!("{scheme} {trimmed}")) else {
            break;
        };
        // Header values that are not visible ASCII cannot be read as text at all.
        let readable = value.to_str().is_ok();
        let headers = authorization(value);
        let expected = Some(trimmed).filter(|t| readable && !t.is_empty());
        assert_eq!(bearer(&headers), expected);
    }
});

fn authorization(value: HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    headers
}
