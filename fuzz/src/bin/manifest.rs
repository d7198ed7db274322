//! The plugin manifest parser (`host/src/plugins/manifest.rs`): any text is a valid manifest
//! or a refusal naming the file (and the field when one is at fault); a valid manifest keeps
//! every rule, and written back as TOML it parses to the same manifest.
#![no_main]

use hintd::plugins::{Limits, Manifest, ManifestError};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const FIELDS: &[&str] = &[
    "name",
    "wasm",
    "weight",
    "timeout_ms",
    "memory_mb",
    "allowed_hosts",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("plugins/fuzz/plugin.toml");
    let limits = Limits::default();
    match Manifest::parse(text, path, &limits) {
        Ok(m) => {
            assert!(!m.name.is_empty() && m.name.len() <= 64);
            assert!(m.wasm.is_relative());
            assert!(m.weight.is_finite() && m.weight >= 0.0);
            assert!((1..=limits.max_timeout_ms).contains(&m.timeout_ms(&limits)));
            assert!(m.memory_bytes(&limits) <= limits.max_memory_mb as usize * 1024 * 1024);
            assert_eq!(m.config_json().len(), m.config.len());
            if m != m.clone() {
                // A NaN in `[config]`: not equal to itself, so not comparable.
                return;
            }
            let written = toml::to_string(&m).expect("a manifest serialises");
            let back = Manifest::parse(&written, path, &limits)
                .unwrap_or_else(|e| panic!("written back, refused: {e}\n{written}"));
            assert_eq!(back, m, "written back, read differently:\n{written}");
        }
        Err(ManifestError::Invalid {
            path: p,
            field,
            reason,
        }) => {
            assert_eq!(p, path);
            assert!(FIELDS.contains(&field), "unexpected field {field}");
            assert!(!reason.is_empty());
        }
        Err(ManifestError::Parse { path: p, message }) => {
            assert_eq!(p, path);
            assert!(!message.is_empty());
        }
        Err(e @ ManifestError::Read { .. }) => panic!("parsing text read a file: {e}"),
    }
});
