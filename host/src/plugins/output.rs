//! Checks on what `suggest` returns. Over-limit output is refused whole (the plugin is
//! misbehaving), never silently cut, except beyond the request's own `max_hints`, which the
//! contract says is merely wasted work, and a `relevance` over 100, which is clamped: the
//! same rule for every language (a Python or JavaScript SDK clamps before the value crosses
//! the contract's `u8`; 101–255 from any guest is clamped here), counted and logged, because
//! an over-eager score is a calibration slip, not a reason to lose the hints.

use super::error::CallError;
use super::limits::Limits;
use super::types::{Hint, PluginInfo};

/// Longest hint id, bytes.
const MAX_ID_BYTES: usize = 256;
/// Longest url or link, bytes.
const MAX_URL_BYTES: usize = 2048;

/// Longest `describe` name and version, bytes.
const MAX_INFO_NAME_BYTES: usize = 128;
/// Longest `describe` description, bytes.
const MAX_INFO_DESCRIPTION_BYTES: usize = 4096;

/// Validates what `describe` returned: it is kept for the plugin's lifetime and shown in the
/// API, so an oversized answer is refused rather than stored.
pub fn check_info(info: &PluginInfo) -> Result<(), CallError> {
    for (field, value, max) in [
        ("name", &info.name, MAX_INFO_NAME_BYTES),
        ("version", &info.version, MAX_INFO_NAME_BYTES),
        ("description", &info.description, MAX_INFO_DESCRIPTION_BYTES),
    ] {
        if value.len() > max {
            return Err(CallError::InvalidOutput(format!(
                "describe: {field} of {} bytes, the limit is {max}",
                value.len()
            )));
        }
    }
    Ok(())
}

/// Validates a plugin's hints and keeps at most `max_hints` of them.
pub fn check_hints(
    hints: Vec<Hint>,
    limits: &Limits,
    max_hints: u32,
) -> Result<Vec<Hint>, CallError> {
    if hints.len() > limits.max_hints {
        return Err(CallError::InvalidOutput(format!(
            "{} hints, the limit is {}",
            hints.len(),
            limits.max_hints
        )));
    }
    for (i, h) in hints.iter().enumerate() {
        if h.text.len() > limits.max_hint_text_bytes {
            return Err(CallError::InvalidOutput(format!(
                "hint {i}: text of {} bytes, the limit is {}",
                h.text.len(),
                limits.max_hint_text_bytes
            )));
        }
        if h.id.len() > MAX_ID_BYTES {
            return Err(CallError::InvalidOutput(format!(
                "hint {i}: id over {MAX_ID_BYTES} bytes"
            )));
        }
        for (field, v) in [("url", &h.url), ("link", &h.link)] {
            if v.as_ref().is_some_and(|v| v.len() > MAX_URL_BYTES) {
                return Err(CallError::InvalidOutput(format!(
                    "hint {i}: {field} over {MAX_URL_BYTES} bytes"
                )));
            }
        }
    }
    let mut hints = hints;
    hints.truncate(max_hints as usize);
    Ok(hints)
}

/// Clamps every relevance over 100 to 100; returns how many were.
pub fn clamp_relevance(hints: &mut [Hint]) -> usize {
    let mut clamped = 0;
    for h in hints.iter_mut().filter(|h| h.relevance > 100) {
        h.relevance = 100;
        clamped += 1;
    }
    clamped
}

#[cfg(test)]
mod tests {
    #[test]
    fn oversized_describe_is_refused() {
        let info = |description: usize| super::PluginInfo {
            name: "p".into(),
            version: "1".into(),
            description: "d".repeat(description),
        };
        assert!(super::check_info(&info(4096)).is_ok());
        let e = super::check_info(&info(32 << 20)).unwrap_err();
        assert!(
            e.to_string().contains("description of 33554432 bytes"),
            "{e}"
        );
    }

    use super::*;

    fn hint(text: &str, relevance: u8) -> Hint {
        Hint {
            id: "h".into(),
            text: text.into(),
            url: None,
            link: None,
            relevance,
        }
    }

    #[test]
    fn refuses_floods_and_truncates_to_request() {
        let l = Limits::default();
        assert!(check_hints(vec![hint("a", 1); l.max_hints + 1], &l, 100).is_err());
        assert!(check_hints(vec![hint(&"x".repeat(l.max_hint_text_bytes + 1), 1)], &l, 3).is_err());
        assert_eq!(check_hints(vec![hint("a", 1); 5], &l, 3).unwrap().len(), 3);
    }

    #[test]
    fn relevance_over_100_is_clamped_and_counted() {
        let mut hints = vec![hint("a", 101), hint("b", 100), hint("c", 255), hint("d", 0)];
        assert_eq!(clamp_relevance(&mut hints), 2);
        let relevances: Vec<u8> = hints.iter().map(|h| h.relevance).collect();
        assert_eq!(relevances, [100, 100, 100, 0]);
    }
}
