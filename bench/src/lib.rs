//! hintd's benchmark harness: reproducible figures for every hot path, measured against the
//! real server started in this process on a loopback port and driven by an in-process load
//! generator. It is a crate of its own so that the `hintd` binary carries none of it.
//!
//! Each measurement is repeated (`--repeats`) and reported as the median with its min–max
//! range; comparisons (hintd ÷ baseline, fresh ÷ reused) are taken within the same repeat so
//! a noisy neighbour shifts both sides alike. `--smoke` runs every path briefly with tiny
//! sizes: it proves the harness works and its numbers mean nothing.

mod baseline;
mod client;
mod dispatch;
mod fixtures;
pub mod guests;
mod hints;
mod ingest;
mod load;
mod machine;
mod payloads;
mod plugin_call;
mod progress;
mod receiver;
mod report;
mod rss;
mod scratch;
mod server;
mod stats;

/// The example plugin's logic compiled natively: what the Wasm calls of `plugin-call` and of
/// the `plugin_call` criterion bench are compared with. The plugin itself is a `cdylib` of
/// the guest workspace, so its one binding-free file is compiled here as it is.
#[path = "../../plugins/example/src/logic.rs"]
pub mod example_logic;

use clap::{Parser, ValueEnum};
use report::{Report, Section, Settings};
use std::path::PathBuf;
use std::time::Duration;

/// Which benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// Hint requests through the real endpoint vs a bare axum baseline.
    Hints,
    /// One plugin `suggest` call: fresh instance, reused instance, native code.
    PluginCall,
    /// Inbound webhook events with context upkeep, and memory per active dialog.
    Ingest,
    /// Webhook deliveries from the durable outbox to a loopback receiver.
    Dispatch,
    /// Every benchmark above (ingest first, for its memory figure).
    All,
}

/// hintd-bench: measures hintd's hot paths against a server started in this process.
#[derive(Debug, Clone, Parser)]
#[command(name = "hintd-bench", version, about)]
pub struct BenchArgs {
    /// Which benchmark to run.
    #[arg(value_enum)]
    pub which: Which,
    /// Seconds each measurement runs (per repeat).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Times each measurement is repeated; the median and range are reported.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Print the report as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Run every path briefly with tiny sizes (checks the harness; numbers are meaningless).
    #[arg(long)]
    pub smoke: bool,
    /// Store URL for the server under test (default: a fresh SQLite file per benchmark in a
    /// temporary directory). A PostgreSQL URL measures that backend.
    #[arg(long)]
    pub data: Option<String>,
    /// Plugin directory with the shipped plugins (`faq`, `replies`, `llm`) and `example`
    /// (default: built from this repository's `plugins/` and laid out in a temporary
    /// directory, with `llm` pointed at a mock completion endpoint in this process).
    #[arg(long)]
    pub plugins: Option<PathBuf>,
    /// Active dialogs for the ingest memory figure (each gets 20 messages).
    #[arg(long, default_value_t = 100_000)]
    pub dialogs: usize,
    /// hintd replicas serving the `hints` and `dispatch` benchmarks on one store (load spread
    /// round robin); more than one needs a PostgreSQL `--data`.
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
}

/// The settings every benchmark reads.
#[derive(Clone)]
pub struct Ctx {
    /// Per-measurement duration.
    pub duration: Duration,
    /// Load generator connections.
    pub concurrency: usize,
    /// Repeats per measurement.
    pub repeats: usize,
    /// Smoke mode.
    pub smoke: bool,
    /// Store URL override.
    pub data: Option<String>,
    /// Plugin directory override.
    pub plugins: Option<PathBuf>,
    /// Dialogs for the memory figure.
    pub dialogs: usize,
    /// Replicas serving `hints` and `dispatch`.
    pub replicas: usize,
    /// The progress bar.
    pub progress: progress::Progress,
}

impl Ctx {
    fn from_args(args: &BenchArgs) -> anyhow::Result<Ctx> {
        anyhow::ensure!(
            args.duration.is_finite() && args.duration > 0.0,
            "--duration must be a positive number of seconds"
        );
        anyhow::ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
        anyhow::ensure!(args.repeats >= 1, "--repeats must be at least 1");
        anyhow::ensure!(args.dialogs >= 1, "--dialogs must be at least 1");
        anyhow::ensure!(args.replicas >= 1, "--replicas must be at least 1");
        let shared_store = args
            .data
            .as_deref()
            .is_some_and(|url| url.starts_with("postgres:") || url.starts_with("postgresql:"));
        anyhow::ensure!(
            args.replicas == 1 || shared_store,
            "--replicas {} needs a PostgreSQL store (--data postgres://...): SQLite serves one process",
            args.replicas
        );
        let ctx = if args.smoke {
            Ctx {
                duration: Duration::from_millis(300),
                concurrency: args.concurrency.min(4),
                repeats: 1,
                smoke: true,
                data: args.data.clone(),
                plugins: args.plugins.clone(),
                dialogs: args.dialogs.min(200),
                replicas: args.replicas,
                progress: progress::Progress::new(0),
            }
        } else {
            Ctx {
                duration: Duration::from_secs_f64(args.duration),
                concurrency: args.concurrency,
                repeats: args.repeats,
                smoke: false,
                data: args.data.clone(),
                plugins: args.plugins.clone(),
                dialogs: args.dialogs,
                replicas: args.replicas,
                progress: progress::Progress::new(0),
            }
        };
        Ok(ctx)
    }

    /// The store URL for one benchmark: the override, or an SQLite file in `scratch`.
    pub fn store_url(&self, scratch: &scratch::ScratchDir) -> String {
        self.data.clone().unwrap_or_else(|| scratch.sqlite_url())
    }
}

/// Entry point of the `hintd-bench` binary.
pub fn main() -> anyhow::Result<()> {
    let args = BenchArgs::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}

/// Runs the benchmarks `args` asks for and prints their report.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let ctx = Ctx::from_args(&args)?;
    let run_info = machine::RunInfo::collect();
    let which: Vec<Which> = match args.which {
        // Ingest first: its memory figure is read before any other benchmark has grown the
        // process (freed memory is not returned to the OS and would be counted).
        Which::All => vec![
            Which::Ingest,
            Which::Hints,
            Which::PluginCall,
            Which::Dispatch,
        ],
        one => vec![one],
    };
    let mut sections = Vec::new();
    let mut failed = Vec::new();
    for w in which {
        let result = match w {
            Which::Hints => hints::run(&ctx).await,
            Which::PluginCall => plugin_call::run(&ctx).await,
            Which::Ingest => ingest::run(&ctx).await,
            Which::Dispatch => dispatch::run(&ctx).await,
            Which::All => unreachable!("expanded above"),
        };
        match result {
            Ok(section) => sections.push(section),
            Err(e) => {
                let name = w
                    .to_possible_value()
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default();
                let mut section = Section::new(section_name(w), "FAILED");
                section.note(format!("{e:#}"));
                sections.push(section);
                failed.push(name);
            }
        }
    }
    ctx.progress.finish();
    let report = Report {
        run: run_info,
        settings: Settings {
            duration_s: ctx.duration.as_secs_f64(),
            concurrency: ctx.concurrency,
            repeats: ctx.repeats,
            replicas: ctx.replicas,
            smoke: ctx.smoke,
            data: ctx
                .data
                .as_deref()
                .map(hintd::store::sql::redact)
                .unwrap_or_else(|| "sqlite (temporary file)".into()),
        },
        sections,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    anyhow::ensure!(
        failed.is_empty(),
        "benchmark(s) failed: {}",
        failed.join(", ")
    );
    Ok(())
}

fn section_name(w: Which) -> &'static str {
    match w {
        Which::Hints => "hints",
        Which::PluginCall => "plugin-call",
        Which::Ingest => "ingest",
        Which::Dispatch => "dispatch",
        Which::All => "all",
    }
}
