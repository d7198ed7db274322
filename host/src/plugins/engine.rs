//! The one wasmtime [`Engine`] of the process and the on-disk cache of compiled components.
//!
//! Engine: component model, pooling allocator (instances, memories, tables and fiber stacks
//! come from pre-reserved slots; memories are initialised copy-on-write), epoch interruption
//! driven by one ticker thread. It is shared by every registry of the process, so the
//! ticker and the pools exist once.

use super::PluginError;
use super::host::HostState;
use super::limits::EPOCH_TICK;
use super::wit::HintProvider;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Largest linear memory any plugin may have (the pooling allocator's slot size), MiB.
/// `[plugins.limits] max_memory_mb` cannot exceed it.
pub const MAX_MEMORY_MB: u32 = 512;

/// Bytes of each freed linear memory kept resident and reset in place rather than decommitted.
const KEEP_RESIDENT_BYTES: usize = 4 * 1024 * 1024;

/// Instances alive at once across all plugins (fresh calls in flight + reuse pools).
pub const MAX_INSTANCES: u32 = 512;

/// The process-wide engine and the linker with every host import.
pub struct SharedEngine {
    /// The engine.
    pub engine: Engine,
    /// WASI (locked down per store), `wasi:http` (under the `http` policy) + `log`, `kv`,
    /// `http`, `config`.
    pub linker: Linker<HostState>,
}

/// The shared engine, created (with its epoch ticker) on first use.
pub fn shared() -> Result<&'static SharedEngine, PluginError> {
    static SHARED: OnceLock<Result<SharedEngine, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| PluginError::Engine(e.clone()))
}

fn build() -> wasmtime::Result<SharedEngine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES * 8)
        .total_memories(MAX_INSTANCES * 2)
        .total_tables(MAX_INSTANCES * 8)
        .total_stacks(MAX_INSTANCES)
        .max_core_instances_per_component(32)
        .max_memories_per_component(4)
        .max_tables_per_component(16)
        .max_memory_size(MAX_MEMORY_MB as usize * 1024 * 1024)
        // A fresh instance per call is the default mode, so slot reuse is the hot path. By
        // default a freed memory slot is reset with `madvise`, and the next instance then
        // takes a page fault on every page it touches (the guest's stack and heap). Instead,
        // keep the low pages resident and reset only the dirty ones in place (PAGEMAP_SCAN
        // finds them on Linux 6.7+), and batch the remaining decommits.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(64 * 1024)
        .pagemap_scan(wasmtime::Enabled::Auto)
        .decommit_batch_size(16);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .parallel_compilation(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    HintProvider::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    let ticker = engine.weak();
    std::thread::Builder::new()
        .name("hintd-epoch".into())
        .spawn(move || {
            while let Some(engine) = ticker.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map_err(|e| wasmtime::format_err!("cannot start the epoch thread: {e}"))?;
    Ok(SharedEngine { engine, linker })
}

/// Compiled components on disk, named `<sha256 of the wasm>-<engine compatibility hash>.cwasm`
/// so a changed file or a changed engine (version, settings, CPU features) compiles anew.
pub struct ComponentCache {
    dir: Option<PathBuf>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Cache counters, for tests and the stats API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Components loaded from the disk cache.
    pub hits: u64,
    /// Components compiled (and written to the cache when it is enabled).
    pub misses: u64,
}

impl ComponentCache {
    /// A cache in `dir` (created on first write); `None` disables it.
    pub fn new(dir: Option<PathBuf>) -> Arc<Self> {
        Arc::new(ComponentCache {
            dir,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// Hit and miss counts so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// The cache file for `wasm` under this engine.
    pub fn path_for(&self, engine: &Engine, wasm: &[u8]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut h = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Some(dir.join(format!(
            "{}-{:016x}.cwasm",
            hex::encode(Sha256::digest(wasm)),
            h.finish()
        )))
    }

    /// The compiled component of `wasm`, from the cache when possible. Blocking (compiling
    /// takes from milliseconds to seconds): call it off the request path.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        origin: &Path,
    ) -> Result<Component, PluginError> {
        let invalid = |reason: String| PluginError::Wasm {
            path: origin.to_path_buf(),
            reason,
        };
        let Some(path) = self.path_for(engine, wasm) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return Component::new(engine, wasm).map_err(|e| invalid(format!("{e:#}")));
        };
        if path.exists() {
            // SAFETY: the file was written by `precompile_component` of a compatible engine
            // (its name carries the compatibility hash) into hintd's own cache directory, which
            // plugins cannot write to; wasmtime still checks its header before use.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(c);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "unusable cached component; recompiling")
                }
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let compiled = engine
            .precompile_component(wasm)
            .map_err(|e| invalid(format!("{e:#}")))?;
        if let Err(e) = write_atomically(&path, &compiled) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the component cache");
        }
        // SAFETY: `compiled` was just produced by this engine.
        unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| invalid(format!("{e:#}")))
    }
}

/// Writes a file so that readers see either nothing or the whole of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
