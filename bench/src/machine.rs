//! What a benchmark ran on: figures are meaningless without the machine, the build profile
//! and the versions behind them.

use serde::Serialize;

/// The machine, build and versions of one benchmark run.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// CPU model from `/proc/cpuinfo`, when readable.
    pub cpu: Option<String>,
    /// `release` or `debug` (debug builds are not representative).
    pub profile: &'static str,
    /// hintd's version.
    pub hintd: &'static str,
    /// The compiler that built this binary.
    pub rustc: &'static str,
    /// The wasmtime version linked in.
    pub wasmtime: &'static str,
    /// Operating system and architecture.
    pub os: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
}

impl RunInfo {
    /// Describes this process.
    pub fn collect() -> RunInfo {
        RunInfo {
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu: cpu_model(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            hintd: env!("CARGO_PKG_VERSION"),
            rustc: option_env!("HINTD_RUSTC_VERSION").unwrap_or("unknown"),
            wasmtime: option_env!("HINTD_WASMTIME_VERSION").unwrap_or("unknown"),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// One line for the top of a table.
    pub fn line(&self) -> String {
        format!(
            "hintd {} ({} build) · rustc {} · wasmtime {} · {} cores{} · {} · {}",
            self.hintd,
            self.profile,
            self.rustc,
            self.wasmtime,
            self.cores,
            self.cpu
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            self.os,
            self.started_at
        )
    }
}

fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
}
