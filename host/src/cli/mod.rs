//! The `hintd` command line.

use clap::{Parser, Subcommand};

pub mod bench;
pub mod eval;
pub mod guests;
pub mod plugin;
pub mod serve;

/// hintd: WebAssembly plugin host for AI hint providers.
#[derive(Debug, Parser)]
#[command(name = "hintd", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server: platform webhooks, context, plugins, hints, webhook delivery.
    Serve(serve::ServeArgs),
    /// Measures hintd's hot paths against a server started in this process.
    Bench(bench::BenchArgs),
    /// Replays recorded dialogues through the plugins and reports hit@k, MRR, coverage.
    Eval(eval::EvalArgs),
    /// Checks and runs a plugin outside the server (the plugin author's inner loop).
    Plugin(plugin::PluginArgs),
}

/// Entry point of the binary.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Eval(args) => eval::run(args).await,
            Command::Plugin(args) => plugin::run(args).await,
        }
    })
}
