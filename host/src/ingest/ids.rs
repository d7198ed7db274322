//! Ids — of dialogs, clients, operators, channels, messages, requests — follow one rule on
//! every entry point (each platform's webhook and every API body): at most [`MAX_ID_LEN`]
//! bytes, no control characters, and kept exactly as the platform sent them. A JSON
//! integer is kept as its digits; a number that is not an integer, or too large to have
//! been read exactly, is refused rather than stored in a rounded or float form.

use serde_json::Value;

/// Longest id accepted anywhere, bytes.
pub const MAX_ID_LEN: usize = 200;

/// Largest integer a JSON number written with a fraction or an exponent (`12.0`, `1e3`)
/// can stand for exactly (2^53): such a number is read as its integer.
const MAX_EXACT_FLOAT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Why an id is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Over [`MAX_ID_LEN`] bytes.
    #[error("longer than {MAX_ID_LEN} bytes")]
    TooLong,
    /// Holds a control character (a newline, NUL, ...).
    #[error("contains control characters")]
    ControlCharacter,
    /// A number with a fractional part.
    #[error("expected an id (a string or an integer), got a number with a fraction")]
    Fraction,
    /// A number beyond what JSON readers keep exactly.
    #[error("integer too large to be read exactly; send it as a string")]
    TooLarge,
    /// Not a string or a number.
    #[error("expected an id (a string or an integer)")]
    NotAnId,
}

/// Checks an id given as text.
pub fn check_id(id: &str) -> Result<(), IdError> {
    if id.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    if id.chars().any(char::is_control) {
        return Err(IdError::ControlCharacter);
    }
    Ok(())
}

/// Reads an id from a JSON value: a string as it is, an integer as its digits; the forms
/// meaning "nothing" (`null`, `""`, `[]`, `{}`) are `None`.
pub(crate) fn id_of(v: &Value) -> Result<Option<String>, IdError> {
    let id = match v {
        Value::String(s) if s.is_empty() => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.to_string()
            } else if let Some(i) = n.as_i64() {
                i.to_string()
            } else {
                // Written with a fraction or an exponent, or beyond 64 bits.
                let f = n.as_f64().ok_or(IdError::NotAnId)?;
                if f.fract() != 0.0 {
                    return Err(IdError::Fraction);
                }
                if f.abs() > MAX_EXACT_FLOAT_INTEGER {
                    return Err(IdError::TooLarge);
                }
                (f as i64).to_string()
            }
        }
        v if super::lenient::is_empty_form(v) => return Ok(None),
        _ => return Err(IdError::NotAnId),
    };
    check_id(&id)?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> Result<Option<String>, IdError> {
        id_of(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn ids_are_kept_as_sent_or_refused() {
        assert_eq!(read(r#""A-17""#).unwrap().as_deref(), Some("A-17"));
        assert_eq!(read(r#"" 7 ""#).unwrap().as_deref(), Some(" 7 "));
        assert_eq!(read("17").unwrap().as_deref(), Some("17"));
        assert_eq!(read("-17").unwrap().as_deref(), Some("-17"));
        assert_eq!(
            read("18446744073709551615").unwrap().as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(read("12.0").unwrap().as_deref(), Some("12"));
        assert_eq!(read("1e3").unwrap().as_deref(), Some("1000"));
        assert_eq!(read("1.5"), Err(IdError::Fraction));
        assert_eq!(read("18446744073709551616"), Err(IdError::TooLarge));
        assert_eq!(read("1e300"), Err(IdError::TooLarge));
        assert_eq!(read("true"), Err(IdError::NotAnId));
        assert_eq!(read("[1]"), Err(IdError::NotAnId));
        for empty in ["null", r#""""#, "[]", "{}"] {
            assert_eq!(read(empty).unwrap(), None, "{empty}");
        }
        assert_eq!(
            id_of(&json!("x".repeat(MAX_ID_LEN)))
                .unwrap()
                .unwrap()
                .len(),
            MAX_ID_LEN
        );
        assert_eq!(
            id_of(&json!("x".repeat(MAX_ID_LEN + 1))),
            Err(IdError::TooLong)
        );
        assert_eq!(id_of(&json!("a\nb")), Err(IdError::ControlCharacter));
    }
}
