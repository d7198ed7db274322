//! Lenient reading of webhook JSON. The platforms serialise from PHP and JavaScript, so a
//! field may come as `""` where null is meant, `[]` where an object is meant, a number as a
//! string, or not at all. Every reader here accepts those forms and rejects only values that
//! cannot mean what the field needs, naming the field's full path in the error.

use super::ParseError;
use super::ids::id_of;
use serde_json::{Map, Value};

/// A JSON object being read, with its path from the body's root (for error messages).
/// A missing or empty object reads as an object without fields.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    map: Option<&'a Map<String, Value>>,
    path: &'a str,
}

static EMPTY_PATH: &str = "";

impl<'a> Fields<'a> {
    /// The body's root object.
    pub(crate) fn root(map: &'a Map<String, Value>) -> Self {
        Fields {
            map: Some(map),
            path: EMPTY_PATH,
        }
    }

    /// Whether the key is present with a value that is not an empty form.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.raw(key).is_some_and(|v| !is_empty_form(v))
    }

    /// The raw value of a key.
    pub(crate) fn raw(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(key))
    }

    /// The full path of a key, for errors.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// A nested object; absent, null, `""` and `[]` read as an empty object. `path` must be
    /// the full path of the child (kept static so that readers stay allocation-free).
    pub(crate) fn child(&self, key: &str, path: &'a str) -> Result<Fields<'a>, ParseError> {
        match self.raw(key) {
            Some(Value::Object(m)) => Ok(Fields { map: Some(m), path }),
            None => Ok(Fields { map: None, path }),
            Some(v) if is_empty_form(v) => Ok(Fields { map: None, path }),
            Some(_) => Err(ParseError::field(self.path_of(key), "expected an object")),
        }
    }

    /// A string-like value: strings as they are, numbers in decimal; empty forms are `None`.
    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, ParseError> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => text_of(v).map_err(|p| ParseError::field(self.path_of(key), p)),
        }
    }

    /// Like [`Fields::text`], but the field must be there.
    pub(crate) fn required_text(&self, key: &str) -> Result<String, ParseError> {
        self.text(key)?
            .ok_or_else(|| ParseError::missing(self.path_of(key)))
    }

    /// An id (see [`super::ids`]): a string as sent or an integer's digits, within the id
    /// rule; empty forms are `None`.
    pub(crate) fn id(&self, key: &str) -> Result<Option<String>, ParseError> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => id_of(v).map_err(|e| ParseError::field(self.path_of(key), e.to_string())),
        }
    }

    /// Like [`Fields::id`], but the field must be there.
    pub(crate) fn required_id(&self, key: &str) -> Result<String, ParseError> {
        self.id(key)?
            .ok_or_else(|| ParseError::missing(self.path_of(key)))
    }

    /// An integer: JSON numbers (integral) or decimal strings; empty forms are `None`.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, ParseError> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => int_of(v).map_err(|p| ParseError::field(self.path_of(key), p)),
        }
    }

    /// A boolean in any of PHP's and JavaScript's spellings: `true`, `1`, `"1"`, `"true"` are
    /// true; `false`, `0`, `""`, `null`, `[]`, absent are false.
    pub(crate) fn flag(&self, key: &str) -> Result<bool, ParseError> {
        match self.raw(key) {
            None => Ok(false),
            Some(v) => flag_of(v).map_err(|p| ParseError::field(self.path_of(key), p)),
        }
    }

    /// A list; absent and empty forms are empty, a PHP associative array (object) reads as
    /// its values.
    pub(crate) fn list(&self, key: &str) -> Result<Vec<&'a Value>, ParseError> {
        match self.raw(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.iter().collect()),
            Some(Value::Object(m)) => Ok(m.values().collect()),
            Some(v) if is_empty_form(v) => Ok(Vec::new()),
            Some(_) => Err(ParseError::field(self.path_of(key), "expected a list")),
        }
    }

    /// A timestamp as unix ms: unix seconds or ms (number or string), RFC 3339, or
    /// `YYYY-MM-DD HH:MM:SS[ UTC]`. Empty forms are `None`.
    pub(crate) fn time_ms(&self, key: &str) -> Result<Option<i64>, ParseError> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => time_of(v).map_err(|p| ParseError::field(self.path_of(key), p)),
        }
    }
}

/// Whether a value is one of the forms that mean "nothing": null, `""`, `[]`, `{}`.
pub(crate) fn is_empty_form(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Reads a string-like value.
pub(crate) fn text_of(v: &Value) -> Result<Option<String>, &'static str> {
    match v {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        v if is_empty_form(v) => Ok(None),
        Value::Bool(_) => Err("expected a string or number, got a boolean"),
        Value::Array(_) => Err("expected a string or number, got a list"),
        _ => Err("expected a string or number, got an object"),
    }
}

/// Reads an integer value.
pub(crate) fn int_of(v: &Value) -> Result<Option<i64>, &'static str> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or("expected an integer"),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse::<i64>()
                    .map(Some)
                    .map_err(|_| "expected an integer")
            }
        }
        v if is_empty_form(v) => Ok(None),
        _ => Err("expected an integer"),
    }
}

/// Reads a boolean value.
pub(crate) fn flag_of(v: &Value) -> Result<bool, &'static str> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" | "off" => Ok(false),
            "1" | "true" | "yes" | "on" => Ok(true),
            _ => Err("expected a boolean (true/false, 1/0)"),
        },
        v if is_empty_form(v) => Ok(false),
        _ => Err("expected a boolean (true/false, 1/0)"),
    }
}

/// Reads a timestamp value.
pub(crate) fn time_of(v: &Value) -> Result<Option<i64>, &'static str> {
    const BAD: &str = "expected a unix timestamp or an ISO 8601 date-time";
    match v {
        Value::Number(_) => Ok(int_of(v).map_err(|_| BAD)?.map(unix_to_ms)),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if let Ok(n) = s.parse::<i64>() {
                return Ok(Some(unix_to_ms(n)));
            }
            parse_datetime(s).map(Some).ok_or(BAD)
        }
        v if is_empty_form(v) => Ok(None),
        _ => Err(BAD),
    }
}

/// Unix seconds or milliseconds to ms: values below 10^11 are seconds (10^11 s is the year 5138).
/// `unsigned_abs`, as `abs` of `i64::MIN` overflows.
fn unix_to_ms(n: i64) -> i64 {
    if n.unsigned_abs() < 100_000_000_000 {
        n.saturating_mul(1000)
    } else {
        n
    }
}

/// Parses the date-time spellings the platforms use. Stray spaces (seen in the platforms'
/// own documentation, `2019- 07-28T23:01:40Z`) are removed first when the text has a `T`.
fn parse_datetime(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDateTime};
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    if s.contains('T') && s.contains(' ') {
        let squeezed: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(t) = DateTime::parse_from_rfc3339(&squeezed) {
            return Some(t.timestamp_millis());
        }
    }
    let bare = s.trim_end_matches(" UTC").trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(bare, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S %z")
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn php_quirks_read_as_meant() {
        assert_eq!(text_of(&json!("")).unwrap(), None);
        assert_eq!(text_of(&json!([])).unwrap(), None);
        assert_eq!(text_of(&json!(17)).unwrap().as_deref(), Some("17"));
        assert!(text_of(&json!({"a": 1})).is_err());
        assert_eq!(int_of(&json!("42")).unwrap(), Some(42));
        assert_eq!(int_of(&json!(" 42 ")).unwrap(), Some(42));
        assert_eq!(int_of(&json!(42.0)).unwrap(), Some(42));
        assert_eq!(int_of(&json!("")).unwrap(), None);
        assert!(int_of(&json!("4x")).is_err());
        for t in [json!(1), json!("1"), json!(true), json!("true")] {
            assert!(flag_of(&t).unwrap(), "{t}");
        }
        for f in [
            json!(""),
            json!(0),
            json!(false),
            json!(null),
            json!([]),
            json!("0"),
        ] {
            assert!(!flag_of(&f).unwrap(), "{f}");
        }
        assert!(flag_of(&json!("maybe")).is_err());
    }

    #[test]
    fn timestamps_in_every_spelling() {
        let want = 1_564_354_900_000;
        assert_eq!(time_of(&json!("2019-07-28T23:01:40Z")).unwrap(), Some(want));
        assert_eq!(
            time_of(&json!("2019- 07-28T23:01:40Z")).unwrap(),
            Some(want)
        );
        assert_eq!(
            time_of(&json!("2019-07-28 23:01:40 UTC")).unwrap(),
            Some(want)
        );
        assert_eq!(time_of(&json!(1_564_354_900)).unwrap(), Some(want));
        assert_eq!(time_of(&json!("1564354900")).unwrap(), Some(want));
        assert_eq!(time_of(&json!(want)).unwrap(), Some(want));
        assert_eq!(time_of(&json!("")).unwrap(), None);
        assert!(time_of(&json!("yesterday")).is_err());
    }

    #[test]
    fn fields_name_the_full_path() {
        let v = json!({"client": {"id": {"x": 1}}, "list": 5});
        let root = Fields::root(v.as_object().unwrap());
        let client = root.child("client", "client").unwrap();
        let err = client.text("id").unwrap_err();
        assert_eq!(err.field_name(), Some("client.id"));
        assert_eq!(root.list("list").unwrap_err().field_name(), Some("list"));
        let missing = root.child("nothing", "nothing").unwrap();
        assert_eq!(missing.text("id").unwrap(), None);
        assert_eq!(
            missing.required_text("id").unwrap_err().field_name(),
            Some("nothing.id")
        );
    }
}
