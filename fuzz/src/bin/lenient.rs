//! The lenient field readers of webhook JSON (`host/src/ingest/lenient.rs`). Whatever a
//! reader accepts, written back in its plain form (a JSON number, `"true"`, RFC 3339) reads
//! the same; the empty forms read as nothing; and the object view answers as the value
//! readers do, naming the field's full path when it refuses.
#![no_main]

use chrono::{DateTime, SecondsFormat};
use hintd::fuzzing::{self as lenient, CHILD_PATH, read_field};
use hintd::ingest::ParseError;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// The key the object view reads.
const KEY: &str = "field";

/// First and last unix ms of the years 0000-9999, the range RFC 3339 can spell.
const RFC3339_MS: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;

fuzz_target!(|data: &[u8]| {
    // The input as JSON when it is JSON, and always as a string: the string spellings of
    // numbers, booleans and dates are where the readers do the most.
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        check(&value);
    }
    check(&Value::String(String::from_utf8_lossy(data).into_owned()));
});

fn check(v: &Value) {
    let text = lenient::text_of(v);
    let int = lenient::int_of(v);
    let flag = lenient::flag_of(v);
    let time = lenient::time_of(v);
    if lenient::is_empty_form(v) {
        assert_eq!(text, Ok(None));
        assert_eq!(int, Ok(None));
        assert_eq!(flag, Ok(false));
        assert_eq!(time, Ok(None));
    }
    if let Ok(Some(s)) = &text {
        assert!(!s.is_empty());
        assert_eq!(lenient::text_of(&json!(s)).as_ref(), Ok(&Some(s.clone())));
    }
    if let Ok(Some(i)) = int {
        assert_eq!(lenient::int_of(&json!(i)), Ok(Some(i)));
        assert_eq!(lenient::int_of(&json!(i.to_string())), Ok(Some(i)));
    }
    if let Ok(b) = flag {
        assert_eq!(lenient::flag_of(&json!(b)), Ok(b));
        let spelt = if b { "true" } else { "false" };
        assert_eq!(lenient::flag_of(&json!(spelt)), Ok(b));
    }
    if let Ok(Some(ms)) = time {
        // Numbers below 10^11 are seconds, so unix ms read back as ms only from there on.
        if ms.unsigned_abs() >= 100_000_000_000 {
            assert_eq!(lenient::time_of(&json!(ms)), Ok(Some(ms)));
        }
        if RFC3339_MS.contains(&ms) {
            let t = DateTime::from_timestamp_millis(ms).expect("in chrono's range");
            let spelt = t.to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(lenient::time_of(&json!(spelt)), Ok(Some(ms)), "{spelt}");
        }
    }

    // The object view of the value under KEY.
    let in_key = |p: &str| ParseError::field(KEY, p);
    let mut object = Map::new();
    object.insert(KEY.into(), v.clone());
    let r = read_field(&object, KEY);
    assert_eq!(r.has, !lenient::is_empty_form(v));
    assert_eq!(r.text, text.clone().map_err(in_key));
    assert_eq!(r.int, int.map_err(in_key));
    assert_eq!(r.flag, flag.map_err(in_key));
    assert_eq!(r.time_ms, time.map_err(in_key));
    match &text {
        Ok(Some(s)) => assert_eq!(r.required_text.as_ref(), Ok(s)),
        Ok(None) => assert_eq!(r.required_text, Err(ParseError::missing(KEY))),
        Err(p) => assert_eq!(r.required_text, Err(in_key(p))),
    }
    match v {
        Value::Array(items) => assert_eq!(r.list_len, Ok(items.len())),
        Value::Object(m) => assert_eq!(r.list_len, Ok(m.len())),
        v if lenient::is_empty_form(v) => assert_eq!(r.list_len, Ok(0)),
        _ => assert_eq!(r.list_len, Err(ParseError::field(KEY, "expected a list"))),
    }
    let nested_path = format!("{CHILD_PATH}.{KEY}");
    match v {
        Value::Object(m) => match m.get(KEY) {
            Some(inner) => assert_eq!(
                r.child_text,
                lenient::text_of(inner).map_err(|p| ParseError::field(&nested_path, p))
            ),
            None => assert_eq!(r.child_text, Ok(None)),
        },
        v if lenient::is_empty_form(v) => assert_eq!(r.child_text, Ok(None)),
        _ => assert_eq!(
            r.child_text,
            Err(ParseError::field(KEY, "expected an object"))
        ),
    }

    // An absent key reads as nothing everywhere.
    let absent = read_field(&Map::new(), KEY);
    assert!(!absent.has);
    assert_eq!(absent.text, Ok(None));
    assert_eq!(absent.required_text, Err(ParseError::missing(KEY)));
    assert_eq!(absent.list_len, Ok(0));
}
