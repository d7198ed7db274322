//! `plugin.toml`: what a plugin is, which component it runs and what it may do.

use super::limits::Limits;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of a plugin's manifest inside its directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed and validated `plugin.toml`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Machine name: lowercase letters, digits, `-` and `_`, at most 64 bytes.
    pub name: String,
    /// The component file, relative to the plugin's directory.
    pub wasm: PathBuf,
    /// Whether the registry serves it.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Weight of its hints when the pipeline merges plugins.
    #[serde(default = "one")]
    pub weight: f64,
    /// Per-call deadline, milliseconds (default: `[plugins.limits] default_timeout_ms`).
    #[serde(default)]
    pub timeout_ms: Option<u32>,
    /// Linear memory cap, MiB (default: `[plugins.limits] default_memory_mb`).
    #[serde(default)]
    pub memory_mb: Option<u32>,
    /// A new instance per call, or a bounded per-account pool of reused ones.
    #[serde(default)]
    pub instance: InstanceMode,
    /// Host imports the plugin may use; a call to any other fails with `denied`.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// Host globs `http` may reach (`api.example.com`, `*.corp`); empty: none.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Lets `http` reach loopback, private, link-local and cloud-metadata addresses.
    #[serde(default)]
    pub allow_private_network: bool,
    /// The plugin's own settings, readable through the `config` import.
    #[serde(default)]
    pub config: toml::Table,
}

fn yes() -> bool {
    true
}
fn one() -> f64 {
    1.0
}

/// How instances are managed for a plugin.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InstanceMode {
    /// A new instance for every call: no state leaks between calls (default).
    #[default]
    Fresh,
    /// Instances are kept per account and reused up to a number of calls.
    Reuse,
}

/// A host import a manifest can grant.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// `log.write`.
    Log,
    /// The per-plugin key-value store.
    Kv,
    /// Outbound HTTP to `allowed_hosts`.
    Http,
    /// Reading the `[config]` table.
    Config,
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped fields.
    #[error("{path}: {message}")]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// The parser's message (names the field and position).
        message: String,
    },
    /// A field has a value outside its rules.
    #[error("{path}: field `{field}`: {reason}")]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// Why it is refused.
        reason: String,
    },
}

impl Manifest {
    /// Reads and validates `<dir>/plugin.toml`.
    pub fn load(dir: &Path, limits: &Limits) -> Result<Manifest, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        Manifest::parse(&text, &path, limits)
    }

    /// Parses and validates manifest text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path, limits: &Limits) -> Result<Manifest, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        manifest
            .validate(limits)
            .map_err(|(field, reason)| ManifestError::Invalid {
                path: path.to_path_buf(),
                field,
                reason,
            })?;
        Ok(manifest)
    }

    fn validate(&self, limits: &Limits) -> Result<(), (&'static str, String)> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return Err((
                "name",
                format!("`{}` must be 1-64 of a-z, 0-9, `-`, `_`", self.name),
            ));
        }
        // Relative to the plugin directory so a directory can be moved whole; it may point
        // into a build output (`../../target/...`): manifests are the operator's, not the
        // plugin's, to write.
        let wasm_ok = self.wasm.is_relative() && self.wasm.extension().is_some_and(|e| e == "wasm");
        if !wasm_ok {
            return Err((
                "wasm",
                format!(
                    "`{}` must be a `.wasm` path relative to the plugin directory",
                    self.wasm.display()
                ),
            ));
        }
        if !self.weight.is_finite() || self.weight < 0.0 {
            return Err((
                "weight",
                format!("{} must be a finite number >= 0", self.weight),
            ));
        }
        if let Some(t) = self.timeout_ms
            && (t == 0 || t > limits.max_timeout_ms)
        {
            return Err((
                "timeout_ms",
                format!("{t} must be between 1 and {}", limits.max_timeout_ms),
            ));
        }
        if let Some(m) = self.memory_mb
            && (m == 0 || m > limits.max_memory_mb)
        {
            return Err((
                "memory_mb",
                format!("{m} must be between 1 and {}", limits.max_memory_mb),
            ));
        }
        for host in &self.allowed_hosts {
            let ok = !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.*?:[]".contains(&b));
            if !ok {
                return Err((
                    "allowed_hosts",
                    format!("`{host}` is not a host name or glob"),
                ));
            }
        }
        if !self.allowed_hosts.is_empty() && !self.capabilities.contains(&Capability::Http) {
            return Err((
                "allowed_hosts",
                "set, but `capabilities` does not grant \"http\"".into(),
            ));
        }
        Ok(())
    }

    /// The per-call deadline in effect.
    pub fn timeout_ms(&self, limits: &Limits) -> u32 {
        self.timeout_ms.unwrap_or(limits.default_timeout_ms)
    }

    /// The memory cap in effect, bytes.
    pub fn memory_bytes(&self, limits: &Limits) -> usize {
        self.memory_mb.unwrap_or(limits.default_memory_mb) as usize * 1024 * 1024
    }

    /// Whether the manifest grants `cap`.
    pub fn grants(&self, cap: Capability) -> bool {
        self.capabilities.contains(&cap)
    }

    /// The `[config]` table as a JSON object (TOML dates become strings).
    pub fn config_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.config
            .iter()
            .map(|(k, v)| (k.clone(), toml_to_json(v)))
            .collect()
    }
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("p/plugin.toml"), &Limits::default())
    }

    #[test]
    fn minimal_manifest_gets_defaults() {
        let m = parse("name = \"faq\"\nwasm = \"faq.wasm\"\n").unwrap();
        assert!(m.enabled);
        assert_eq!(m.instance, InstanceMode::Fresh);
        assert_eq!(m.timeout_ms(&Limits::default()), 200);
        assert_eq!(m.memory_bytes(&Limits::default()), 64 << 20);
    }

    #[test]
    fn unknown_field_is_named() {
        let e = parse("name = \"faq\"\nwasm = \"faq.wasm\"\ntimeout = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("timeout"), "{e}");
    }

    #[test]
    fn unknown_capability_is_refused() {
        let e = parse("name = \"faq\"\nwasm = \"faq.wasm\"\ncapabilities = [\"fs\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("fs"), "{e}");
    }

    #[test]
    fn absolute_or_non_wasm_path_is_refused() {
        assert!(parse("name = \"faq\"\nwasm = \"../x.wasm\"\n").is_ok());
        assert!(parse("name = \"faq\"\nwasm = \"x.so\"\n").is_err());
        let e = parse("name = \"faq\"\nwasm = \"/x.wasm\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("field `wasm`"), "{e}");
    }

    #[test]
    fn hosts_need_http() {
        let e = parse("name = \"faq\"\nwasm = \"faq.wasm\"\nallowed_hosts = [\"a.com\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("allowed_hosts"), "{e}");
    }

    #[test]
    fn limits_bound_timeout_and_memory() {
        assert!(parse("name = \"a\"\nwasm = \"a.wasm\"\ntimeout_ms = 0\n").is_err());
        assert!(parse("name = \"a\"\nwasm = \"a.wasm\"\nmemory_mb = 100000\n").is_err());
        assert!(parse("name = \"A\"\nwasm = \"a.wasm\"\n").is_err());
    }
}
