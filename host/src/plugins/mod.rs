//! Provider plugins: the wasmtime runtime, the registry and the host imports.
//!
//! Other layers use [`Registry`]: [`Registry::load`] at start, [`Registry::suggest`] /
//! [`Registry::feedback`] per request, [`Registry::observe`] per ingested event,
//! [`Registry::stats`] for the API and [`Registry::watch`] for hot reload. Guest code runs
//! only on the guest threads (`guest_threads`), never on the caller's runtime.

mod breaker;
pub mod engine;
mod error;
mod gate;
mod guest_threads;
pub mod host;
pub mod imports;
mod instance;
mod latency;
pub mod limits;
pub mod manifest;
mod observe;
mod output;
mod registry;
mod reuse_pool;
pub mod stats;
mod types;
mod watch;
pub mod wit;

pub use engine::CacheStats;
pub use error::{CallError, PluginError};
pub use limits::Limits;
pub use manifest::{Capability, InstanceMode, Manifest, ManifestError};
pub use registry::{LoadedPlugin, PluginSummary, Registry};
pub use stats::{Outcome, PluginStats};
pub use types::{
    ConversationEvent, DialogRef, Feedback, Hint, HintRequest, PluginInfo, ProviderError,
};
pub use watch::WatchGuard;

use serde::Deserialize;
use std::path::PathBuf;

/// `[plugins]`: where plugins live and the runtime's global limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginsConfig {
    /// Directory of plugin directories (`<dir>/<name>/plugin.toml`). None: no plugins.
    pub dir: Option<PathBuf>,
    /// Whether compiled components are cached on disk (reused across restarts).
    pub cache: bool,
    /// Where the compiled-component cache lives.
    pub cache_dir: PathBuf,
    /// Watch `dir` and reload changed plugins.
    pub hot_reload: bool,
    /// Quiet time after the last change before a reload, ms.
    pub reload_debounce_ms: u64,
    /// Consecutive failures that open a plugin's circuit (0: never).
    pub breaker_failures: u32,
    /// How long an open circuit skips the plugin, ms.
    pub breaker_cooldown_ms: u64,
    /// Conversation events waiting for each plugin's `observe`; more are dropped for that
    /// plugin and counted.
    pub observe_queue_size: usize,
    /// Per-call and per-plugin limits (`[plugins.limits]`).
    pub limits: Limits,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            dir: None,
            cache: true,
            cache_dir: PathBuf::from("hintd-data/plugin-cache"),
            hot_reload: true,
            reload_debounce_ms: 300,
            breaker_failures: 5,
            breaker_cooldown_ms: 30_000,
            observe_queue_size: 1024,
            limits: Limits::default(),
        }
    }
}

impl PluginsConfig {
    /// Checks the settings that depend on each other.
    pub fn validate(&self) -> Result<(), PluginError> {
        let l = &self.limits;
        let bad = |m: String| Err(PluginError::Config(m));
        if l.max_memory_mb > engine::MAX_MEMORY_MB {
            return bad(format!(
                "limits.max_memory_mb = {} is over the engine's {}",
                l.max_memory_mb,
                engine::MAX_MEMORY_MB
            ));
        }
        if l.default_memory_mb == 0 || l.default_memory_mb > l.max_memory_mb {
            return bad(format!(
                "limits.default_memory_mb = {} must be between 1 and max_memory_mb",
                l.default_memory_mb
            ));
        }
        if l.default_timeout_ms == 0 || l.default_timeout_ms > l.max_timeout_ms {
            return bad(format!(
                "limits.default_timeout_ms = {} must be between 1 and max_timeout_ms",
                l.default_timeout_ms
            ));
        }
        if self.observe_queue_size == 0 {
            return bad("observe_queue_size must be at least 1".into());
        }
        Ok(())
    }
}
