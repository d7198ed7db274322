//! Entry points for the fuzz targets of `fuzz/` (a workspace of its own) into readers that are
//! private to their modules. Hidden from the documentation; nothing but the fuzz targets and
//! their regression tests calls these. Every crash the targets found is a test in
//! `regressions`, run with the host's unit tests.

use crate::ingest::ParseError;
use crate::ingest::lenient::{self, Fields};
use serde_json::{Map, Value};

#[cfg(test)]
mod regressions;

/// The lenient string reader (`lenient::text_of`).
pub fn text_of(v: &Value) -> Result<Option<String>, &'static str> {
    lenient::text_of(v)
}

/// The lenient integer reader (`lenient::int_of`).
pub fn int_of(v: &Value) -> Result<Option<i64>, &'static str> {
    lenient::int_of(v)
}

/// The lenient boolean reader (`lenient::flag_of`).
pub fn flag_of(v: &Value) -> Result<bool, &'static str> {
    lenient::flag_of(v)
}

/// The lenient timestamp reader (`lenient::time_of`), unix ms.
pub fn time_of(v: &Value) -> Result<Option<i64>, &'static str> {
    lenient::time_of(v)
}

/// Whether a value is one of the forms that mean "nothing" (`lenient::is_empty_form`).
pub fn is_empty_form(v: &Value) -> bool {
    lenient::is_empty_form(v)
}

/// The path under which [`read_field`] reads a nested object, as it appears in errors.
pub const CHILD_PATH: &str = "child";

/// What every reader of a webhook object makes of one key.
#[derive(Debug)]
pub struct FieldReadings {
    /// `has`: present and not an empty form.
    pub has: bool,
    /// `text`.
    pub text: Result<Option<String>, ParseError>,
    /// `required_text`.
    pub required_text: Result<String, ParseError>,
    /// `int`.
    pub int: Result<Option<i64>, ParseError>,
    /// `flag`.
    pub flag: Result<bool, ParseError>,
    /// `list`, as the number of items.
    pub list_len: Result<usize, ParseError>,
    /// `time_ms`.
    pub time_ms: Result<Option<i64>, ParseError>,
    /// `child(key, CHILD_PATH)` then `text(key)` inside it: the nested reader and its paths.
    pub child_text: Result<Option<String>, ParseError>,
}

/// Reads `key` of `object` with every reader of the lenient object view.
pub fn read_field(object: &Map<String, Value>, key: &str) -> FieldReadings {
    let root = Fields::root(object);
    FieldReadings {
        has: root.has(key),
        text: root.text(key),
        required_text: root.required_text(key),
        int: root.int(key),
        flag: root.flag(key),
        list_len: root.list(key).map(|l| l.len()),
        time_ms: root.time_ms(key),
        child_text: root.child(key, CHILD_PATH).and_then(|c| c.text(key)),
    }
}
