//! Human-readable durations in the config file and on the command line (`500ms`, `10s`,
//! `5m`, `2h`, `7d`), as used by the retry schedule, timeouts and retention.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// A duration text that is not `<integer><unit>` with unit `ms`, `s`, `m`, `h` or `d`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration `{text}`: expected an integer followed by ms, s, m, h or d (e.g. `10s`, `5m`, `2h`)"
)]
pub struct InvalidDuration {
    /// The text as given.
    pub text: String,
}

/// Parses `500ms`, `10s`, `5m`, `2h`, `7d`.
pub fn parse_duration(text: &str) -> Result<Duration, InvalidDuration> {
    let err = || InvalidDuration {
        text: text.to_string(),
    };
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| err())?;
    let ms_per_unit: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(err()),
    };
    n.checked_mul(ms_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(err)
}

/// Parses a comma-separated list of durations (`1s,2s,3s`), as given to `--retry-schedule`.
/// An empty text is an empty list (no retries after the first attempt).
pub fn parse_duration_list(text: &str) -> Result<Vec<Duration>, InvalidDuration> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_duration)
        .collect()
}

/// Formats a duration the way [`parse_duration`] reads it, in the largest exact unit.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    for (unit, size) in [
        ("d", 86_400_000u64),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// serde: one duration from its text form.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

/// serde: a list of durations from their text forms.
pub fn deserialize_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    texts
        .iter()
        .map(|t| parse_duration(t))
        .collect::<Result<_, _>>()
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert_eq!(parse_duration_list("1s, 2s,3s").unwrap().len(), 3);
        assert!(parse_duration_list("").unwrap().is_empty());
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "s", "10", "10x", "-1s", "1.5s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration_list("1s,oops").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for t in ["500ms", "10s", "5m", "2h", "7d", "90s"] {
            assert_eq!(format_duration(parse_duration(t).unwrap()), t);
        }
    }
}
