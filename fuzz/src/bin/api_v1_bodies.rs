//! The JSON bodies of `/api/v1/*`: `POST /api/v1/hints` and `/api/v1/hints/choice`
//! (`api/v1/hints.rs`), and the webhook hub's create, update and recover bodies with the
//! validation a create or update applies (`api/v1/webhooks.rs`, `dispatch/subscription.rs`).
//! The first input byte picks the endpoint. A refusal is a 400 naming its field; an accepted
//! body is well formed, and written back as JSON reads the same; validation is idempotent.
#![no_main]

use hintd::api::error::ApiError;
use hintd::api::v1::hints::{choice_body, hints_body};
use hintd::api::v1::webhooks::{RecoverBody, parse_body};
use hintd::dispatch::DispatchConfig;
use hintd::dispatch::subscription::{
    CreateWebhook, Invalid, UpdateWebhook, validate_account, validate_events, validate_name,
    validate_url,
};
use hintd::hints::{ChoiceQuery, HintQuery};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const HINT_FIELDS: &[&str] = &[
    "body",
    "source",
    "account",
    "dialog_id",
    "request_id",
    "message_id",
    "client_id",
    "operator_id",
    "channel_id",
    "transport",
    "external_key",
    "max_hints",
];
const CHOICE_FIELDS: &[&str] = &[
    "body",
    "source",
    "account",
    "message_id",
    "client_id",
    "hint_id",
];

fuzz_target!(|data: &[u8]| {
    let Some((&endpoint, body)) = data.split_first() else {
        return;
    };
    match endpoint % 5 {
        0 => hints(body),
        1 => choice(body),
        2 => create(body),
        3 => update(body),
        _ => recover(body),
    }
    // The hub takes JSON only, whatever the body.
    let mut text = HeaderMap::new();
    text.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    let refused = parse_body::<RecoverBody>(&text, body)
        .err()
        .expect("text/plain refused");
    assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
});

fn hints(body: &[u8]) {
    let q = match hints_body(body) {
        Ok(q) => q,
        Err(e) => return refused(&e, HINT_FIELDS),
    };
    let dialog = &q.dialog;
    assert_id(&dialog.dialog_id);
    assert_id(&dialog.account);
    for id in [
        &q.request_id,
        &q.message_id,
        &q.client_id,
        &q.operator_id,
        &q.channel_id,
        &q.transport,
        &q.external_key,
    ]
    .into_iter()
    .flatten()
    {
        assert_id(id);
    }
    if let Some(n) = q.max_hints {
        assert!((1..=hintd::hints::MAX_HINTS_CEILING).contains(&n));
    }
    // Written back as a body, it reads the same.
    let mut again = Map::new();
    again.insert("source".into(), json!(dialog.source));
    again.insert("account".into(), json!(dialog.account));
    again.insert("dialog_id".into(), json!(dialog.dialog_id));
    for (name, value) in [
        ("request_id", &q.request_id),
        ("message_id", &q.message_id),
        ("client_id", &q.client_id),
        ("operator_id", &q.operator_id),
        ("channel_id", &q.channel_id),
        ("transport", &q.transport),
        ("external_key", &q.external_key),
    ] {
        if let Some(v) = value {
            again.insert(name.into(), json!(v));
        }
    }
    if let Some(n) = q.max_hints {
        again.insert("max_hints".into(), json!(n));
    }
    let back: HintQuery = hints_body(&to_bytes(again)).expect("its own body accepted");
    assert_eq!(format!("{back:?}"), format!("{q:?}"));
}

fn choice(body: &[u8]) {
    let q = match choice_body(body) {
        Ok(q) => q,
        Err(e) => return refused(&e, CHOICE_FIELDS),
    };
    assert_id(&q.message_id);
    assert_id(&q.account);
    if let Some(c) = &q.client_id {
        assert_id(c);
    }
    let mut again = Map::new();
    again.insert("source".into(), json!(q.source));
    again.insert("account".into(), json!(q.account));
    again.insert("message_id".into(), json!(q.message_id));
    again.insert("hint_id".into(), json!(q.hint_id));
    if let Some(c) = &q.client_id {
        again.insert("client_id".into(), json!(c));
    }
    let back: ChoiceQuery = choice_body(&to_bytes(again)).expect("its own body accepted");
    assert_eq!(format!("{back:?}"), format!("{q:?}"));
}

fn create(body: &[u8]) {
    let Some(input) = hub_body::<CreateWebhook>(body) else {
        return;
    };
    check_name(input.name.as_deref());
    check_url(input.url.as_deref());
    check_events(input.events.as_deref());
    check_account(input.account.as_deref());
}

fn update(body: &[u8]) {
    let Some(input) = hub_body::<UpdateWebhook>(body) else {
        return;
    };
    if let Some(name) = input.name.as_deref() {
        check_name(Some(name));
    }
    if let Some(Some(url)) = input.url.as_ref() {
        check_url(Some(url));
    }
    if let Some(events) = input.events.as_deref() {
        check_events(Some(events));
    }
    if let Some(account) = input.account.as_deref() {
        check_account(Some(account));
    }
}

fn recover(body: &[u8]) {
    if let Some(input) = hub_body::<RecoverBody>(body) {
        let _ = input.since;
    }
}

/// A hub body with `Content-Type: application/json`; a refusal is a 400 `invalid_json`.
fn hub_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    match parse_body::<T>(&headers, body) {
        Ok(input) => Some(input),
        Err(e) => {
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert_eq!(e.code, "invalid_json");
            None
        }
    }
}

fn check_name(name: Option<&str>) {
    idempotent("name", name, validate_name, |n| validate_name(Some(n)));
}

fn check_url(url: Option<&str>) {
    let policy = DispatchConfig::default().outbound_policy();
    idempotent(
        "url",
        url,
        |u| validate_url(u, &policy).map(|(url, _)| url),
        |u| validate_url(Some(u), &policy).map(|(url, _)| url),
    );
}

fn check_events(events: Option<&[String]>) {
    if let Ok(valid) = validate_events(events) {
        assert_eq!(validate_events(Some(&valid)), Ok(valid.clone()));
    } else if let Err(e) = validate_events(events) {
        assert_eq!(e.field, "events");
    }
}

fn check_account(account: Option<&str>) {
    match validate_account(account) {
        Ok(Some(a)) => assert_eq!(validate_account(Some(&a)), Ok(Some(a.clone()))),
        Ok(None) => assert!(account.is_none()),
        Err(e) => assert_eq!(e.field, "account"),
    }
}

/// A validator's output validates to itself; its refusals name the field.
fn idempotent(
    field: &str,
    input: Option<&str>,
    first: impl Fn(Option<&str>) -> Result<String, Invalid>,
    again: impl Fn(&str) -> Result<String, Invalid>,
) {
    match first(input) {
        Ok(out) => assert_eq!(again(&out).as_ref(), Ok(&out), "{field} {input:?}"),
        Err(e) => {
            assert_eq!(e.field, field);
            assert!(!e.message.is_empty());
        }
    }
}

/// A refusal of the hints API: a 400 naming one of the body's fields.
fn refused(e: &ApiError, fields: &[&str]) {
    assert_eq!(e.status, StatusCode::BAD_REQUEST, "{e:?}");
    let field = e.field.as_deref().expect("a refusal names its field");
    assert!(fields.contains(&field), "{e:?}");
}

/// An accepted id: not empty, no surrounding whitespace.
fn assert_id(id: &str) {
    assert!(!id.is_empty() && id.trim() == id, "{id:?}");
}

fn to_bytes(object: Map<String, Value>) -> Vec<u8> {
    serde_json::to_vec(&Value::Object(object)).expect("JSON")
}
