//! The plugin's persistent key-value store (the `kv` capability), with JSON values.
//!
//! The raw calls take and give bytes; [`get_json`] and [`set_json`] store any serde type as
//! JSON. Every error converts into [`ProviderError`](crate::ProviderError), so `?` works in
//! `suggest`.

pub use crate::bindings::hintd::provider::kv::{KvError, delete, get, scan, set};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

/// Why a JSON value could not be read or written.
#[derive(Debug)]
pub enum JsonError {
    /// The store refused or failed.
    Kv(KvError),
    /// The value did not serialise (e.g. a map with non-string keys).
    Encode {
        /// The key being written.
        key: String,
        /// What serde said.
        source: serde_json::Error,
    },
    /// The stored bytes are not JSON of the asked type (written by an older version of the
    /// plugin, or by the raw `set`).
    Decode {
        /// The key being read.
        key: String,
        /// What serde said.
        source: serde_json::Error,
    },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Kv(e) => write!(f, "kv: {e}"),
            JsonError::Encode { key, source } => {
                write!(f, "kv value for `{key}` does not serialise: {source}")
            }
            JsonError::Decode { key, source } => {
                write!(f, "kv value at `{key}` is not the expected JSON: {source}")
            }
        }
    }
}

impl std::error::Error for JsonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JsonError::Kv(e) => Some(e),
            JsonError::Encode { source, .. } | JsonError::Decode { source, .. } => Some(source),
        }
    }
}

impl From<KvError> for JsonError {
    fn from(e: KvError) -> Self {
        JsonError::Kv(e)
    }
}

/// Reads the JSON value at `key`; `Ok(None)` when the key is absent.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, JsonError> {
    match get(key)? {
        Some(bytes) => decode(key, &bytes).map(Some),
        None => Ok(None),
    }
}

/// Writes `value` as JSON at `key`, replacing any previous value.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), JsonError> {
    set(key, &encode(key, value)?)?;
    Ok(())
}

/// `value` as the bytes [`set_json`] stores.
pub fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, JsonError> {
    serde_json::to_vec(value).map_err(|source| JsonError::Encode {
        key: key.to_string(),
        source,
    })
}

/// Bytes read from `key` (by [`get`] or [`scan`]) as a `T`.
pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, JsonError> {
    serde_json::from_slice(bytes).map_err(|source| JsonError::Decode {
        key: key.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn values_round_trip_and_bad_bytes_name_their_key() {
        let value = BTreeMap::from([("a".to_string(), vec![1u32, 2])]);
        let bytes = encode("k", &value).unwrap();
        assert_eq!(
            decode::<BTreeMap<String, Vec<u32>>>("k", &bytes).unwrap(),
            value
        );
        let e = decode::<u64>("counters/7", b"not json").unwrap_err();
        assert!(
            matches!(&e, JsonError::Decode { key, .. } if key == "counters/7"),
            "{e:?}"
        );
        assert!(e.to_string().contains("`counters/7`"), "{e}");
    }

    #[test]
    fn unserialisable_values_are_an_encode_error() {
        let value = BTreeMap::from([((1, 2), "pair keys are not JSON object keys")]);
        let e = encode("k", &value).unwrap_err();
        assert!(matches!(e, JsonError::Encode { .. }), "{e:?}");
    }
}
