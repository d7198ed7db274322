//! What a plugin's store holds and the host side of its imports (`log`, `kv`, `http`,
//! `config`, plus a locked-down WASI and `wasi:http` under the `http` policy). Every import
//! checks the manifest's capabilities first; a denied call gets the contract's `denied` answer
//! (for `wasi:http`, an error code), never a trap.

mod config;
pub mod http;
mod kv;
mod log;
pub mod stdio;
mod wasi_http;

use super::limits::Limits;
use super::manifest::{Capability, Manifest};
use crate::store::Store;
use std::sync::Arc;
use std::time::Instant;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

pub use http::{GuardedHttpPolicy, HttpPolicy};
pub use stdio::CapturedOutput;

/// Everything about one loaded plugin that its imports need; shared by all its instances.
pub struct PluginContext {
    /// The plugin's name (tags its log lines, namespaces its kv data).
    pub name: String,
    /// Its manifest (capabilities, hosts, config).
    pub manifest: Manifest,
    /// The `[config]` table as JSON values.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// The `[config]` table as one JSON object text.
    pub config_text: String,
    /// Host-wide limits.
    pub limits: Arc<Limits>,
    /// Where `kv` data lives.
    pub store: Arc<dyn Store>,
    /// Decides where `http` may go.
    pub http: Arc<dyn HttpPolicy>,
    /// Its `http` clients, reused across calls and instances.
    pub http_clients: http::HttpClients,
    /// How much it may write to the log.
    pub log_budget: log::LogBudget,
}

impl PluginContext {
    /// Builds the context of a plugin from its manifest.
    pub fn new(
        manifest: Manifest,
        limits: Arc<Limits>,
        store: Arc<dyn Store>,
        http: Arc<dyn HttpPolicy>,
    ) -> Self {
        let config = manifest.config_json();
        let log_budget = log::LogBudget::new(&limits);
        let config_text = serde_json::Value::Object(config.clone()).to_string();
        PluginContext {
            name: manifest.name.clone(),
            manifest,
            config,
            config_text,
            limits,
            store,
            http,
            http_clients: http::HttpClients::default(),
            log_budget,
        }
    }

    fn grants(&self, cap: Capability) -> bool {
        self.manifest.grants(cap)
    }
}

/// A call ran out of time inside a host import; raised as a trap so the call ends now.
#[derive(Debug, thiserror::Error)]
#[error("the call's deadline passed inside a host call")]
pub struct DeadlineExceeded;

/// Memory cap of one store, remembering whether it refused a growth so that the resulting
/// guest abort is reported as out-of-memory rather than a plain trap.
pub struct MemoryLimiter {
    max_bytes: usize,
    /// Set once a `memory.grow` beyond the cap was refused.
    pub refused: bool,
    /// Bytes of linear memory the instance holds (all its memories), so the pool of idle
    /// instances can bound what they keep.
    pub bytes: usize,
}

impl MemoryLimiter {
    /// A limiter allowing `max_bytes` of linear memory per memory.
    pub fn new(max_bytes: usize) -> Self {
        MemoryLimiter {
            max_bytes,
            refused: false,
            bytes: 0,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.refused = true;
            return Ok(false);
        }
        self.bytes = self.bytes.saturating_sub(current).saturating_add(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a plugin never needs more than this.
        Ok(desired <= 100_000)
    }
}

/// The data of one plugin store.
pub struct HostState {
    /// The plugin this store runs.
    pub ctx: Arc<PluginContext>,
    /// Built on the guest's first WASI call: many calls make none, and building one
    /// (clocks, seeded random sources) is a measurable part of a fresh instance.
    wasi: Option<Wasi>,
    /// Built on the guest's first `wasi:http` call, for the same reason.
    wasi_http: Option<wasi_http::WasiHttpState>,
    table: ResourceTable,
    /// The memory cap.
    pub memory: MemoryLimiter,
    /// When the current call must be over (bounds `http` waits).
    pub deadline: Instant,
}

/// A store's WASI context and the guest output it captured.
struct Wasi {
    ctx: WasiCtx,
    stdout: CapturedOutput,
    stderr: CapturedOutput,
}

impl Wasi {
    /// WASI locked down: no preopens, no environment, no arguments, no sockets, no name
    /// lookup, stdin closed, stdout/stderr captured up to `capture_bytes` each.
    fn locked_down(capture_bytes: usize) -> Wasi {
        let (stdout, stderr) = (
            CapturedOutput::new(capture_bytes),
            CapturedOutput::new(capture_bytes),
        );
        let mut ctx = WasiCtx::builder();
        ctx.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        Wasi {
            ctx: ctx.build(),
            stdout,
            stderr,
        }
    }
}

impl HostState {
    /// The state of a new store; its WASI context is built on first use.
    pub fn new(ctx: Arc<PluginContext>) -> Self {
        let memory = MemoryLimiter::new(ctx.manifest.memory_bytes(&ctx.limits));
        HostState {
            ctx,
            wasi: None,
            wasi_http: None,
            table: ResourceTable::new(),
            memory,
            deadline: Instant::now(),
        }
    }

    /// Writes captured guest output to the log. Output goes only through WASI, so a store
    /// whose guest never made a WASI call has none.
    pub fn flush_stdio(&self) {
        if let Some(wasi) = &self.wasi {
            let budget = &self.ctx.log_budget;
            wasi.stdout.flush_to_log(&self.ctx.name, "stdout", budget);
            wasi.stderr.flush_to_log(&self.ctx.name, "stderr", budget);
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let capture_bytes = self.ctx.limits.stdio_capture_bytes;
        WasiCtxView {
            ctx: &mut self
                .wasi
                .get_or_insert_with(|| Wasi::locked_down(capture_bytes))
                .ctx,
            table: &mut self.table,
        }
    }
}

// The `types` interface has no functions; its host trait only marks the store data.
impl super::wit::v0_1_0::hintd::provider::types::Host for HostState {}
