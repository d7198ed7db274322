//! Errors of loading plugins and of calling them.

use super::manifest::ManifestError;
use super::types::ProviderError;
use std::path::PathBuf;

/// Why a plugin (or the runtime) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The shared engine could not be created.
    #[error("wasm engine: {0}")]
    Engine(String),
    /// The runtime configuration is unusable.
    #[error("plugins config: {0}")]
    Config(String),
    /// A directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What was read.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is missing or invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The file is not a valid WebAssembly component.
    #[error("{path}: not a valid WebAssembly component: {reason}")]
    Wasm {
        /// The component file.
        path: PathBuf,
        /// The validator's message.
        reason: String,
    },
    /// The component does not implement the `hint-provider` world (missing exports or
    /// imports the host does not provide).
    #[error("{path}: does not implement hintd:provider/hint-provider@0.1.0: {reason}")]
    WrongWorld {
        /// The component file.
        path: PathBuf,
        /// What is missing or mismatched.
        reason: String,
    },
    /// The component imports an interface hintd does not link; found before compiling.
    #[error("plugin {name} imports {interface}, which hintd does not provide ({path})")]
    NotProvided {
        /// The plugin.
        name: String,
        /// The component file.
        path: PathBuf,
        /// The import, as the component names it (`wasi:keyvalue/store@0.2.0-draft`).
        interface: String,
    },
    /// `describe()` failed when the plugin was loaded.
    #[error("{name}: describe() failed: {error}")]
    Describe {
        /// The plugin.
        name: String,
        /// How the call failed.
        error: CallError,
    },
    /// Two plugin directories declare the same name.
    #[error("plugin name `{name}` is used by both {first} and {second}")]
    DuplicateName {
        /// The name.
        name: String,
        /// The directory loaded first.
        first: PathBuf,
        /// The directory refused.
        second: PathBuf,
    },
    /// The plugin directory could not be watched.
    #[error("cannot watch {path}: {reason}")]
    Watch {
        /// The directory.
        path: PathBuf,
        /// The watcher's message.
        reason: String,
    },
}

/// Why a call into a plugin gave no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The call passed its deadline (guest code or a host call it made).
    #[error("timed out")]
    Timeout,
    /// The guest trapped (panic, unreachable, stack overflow, bad memory access, ...).
    #[error("trapped: {0}")]
    Trap(String),
    /// The guest needed more memory than its cap.
    #[error("out of memory")]
    OutOfMemory,
    /// The plugin answered with its own error.
    #[error("provider error: {0}")]
    Provider(ProviderError),
    /// The plugin's answer broke the host's output limits; nothing of it is used.
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    /// The plugin failed too often recently and is skipped until its cooldown ends.
    #[error("circuit open: plugin skipped after repeated failures")]
    CircuitOpen,
    /// The plugin had too many calls running and waiting; this one was not made.
    #[error("busy: too many calls of this plugin running and waiting")]
    Busy,
    /// No enabled plugin has this name.
    #[error("no such plugin")]
    NotFound,
    /// No instance could be created (pool exhausted, start function failed).
    #[error("cannot instantiate: {0}")]
    Instantiate(String),
}

impl CallError {
    /// The outcome label of this error in stats and metrics.
    pub fn outcome(&self) -> super::stats::Outcome {
        use super::stats::Outcome as O;
        match self {
            CallError::Timeout => O::Timeout,
            CallError::Trap(_) | CallError::Instantiate(_) => O::Trap,
            CallError::OutOfMemory => O::Oom,
            CallError::Provider(_) => O::Error,
            CallError::InvalidOutput(_) => O::Rejected,
            CallError::CircuitOpen | CallError::NotFound => O::Skipped,
            CallError::Busy => O::Busy,
        }
    }
}
