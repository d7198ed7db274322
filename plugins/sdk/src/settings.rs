//! Typed access to the plugin's `[config]` table.

use std::sync::OnceLock;

/// The table, read from the host once per instance: it cannot change while an instance
/// lives (a changed manifest is a new plugin version with new instances), and reused
/// instances then pay neither the host call nor the JSON parse again.
fn table() -> &'static serde_json::Value {
    static TABLE: OnceLock<serde_json::Value> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(&crate::config::get_all()).unwrap_or(serde_json::Value::Null)
    })
}

/// A config value; `None` when absent or of another type.
pub fn get<T: FromJson>(key: &str) -> Option<T> {
    T::from_json(table().get(key)?)
}

/// The whole table (an empty object when the manifest does not grant `config`).
pub fn all() -> serde_json::Value {
    table().clone()
}

/// Conversion from a JSON config value.
pub trait FromJson: Sized {
    /// Decodes the value, `None` on a type mismatch.
    fn from_json(v: &serde_json::Value) -> Option<Self>;
}

impl FromJson for String {
    fn from_json(v: &serde_json::Value) -> Option<Self> {
        v.as_str().map(str::to_owned)
    }
}
impl FromJson for i64 {
    fn from_json(v: &serde_json::Value) -> Option<Self> {
        v.as_i64()
    }
}
impl FromJson for f64 {
    fn from_json(v: &serde_json::Value) -> Option<Self> {
        v.as_f64()
    }
}
impl FromJson for bool {
    fn from_json(v: &serde_json::Value) -> Option<Self> {
        v.as_bool()
    }
}
impl FromJson for serde_json::Value {
    fn from_json(v: &serde_json::Value) -> Option<Self> {
        Some(v.clone())
    }
}
