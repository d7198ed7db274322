//! The `hintd` command line.

use clap::{Parser, Subcommand};

pub mod eval;
pub mod plugin;
mod plugin_output;
pub mod scaffold;
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
    /// Replays recorded dialogues through the plugins and reports hit@k, MRR, coverage.
    Eval(eval::EvalArgs),
    /// Checks and runs a plugin outside the server (the plugin author's inner loop).
    Plugin(plugin::PluginArgs),
    /// Prints the shell completion script for SHELL (e.g. `hintd completions bash >
    /// /etc/bash_completion.d/hintd`).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// Entry point of the binary.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        stdout_closed_ends_quietly();
    }
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match cli.command {
        Command::Serve(args) => runtime()?.block_on(serve::run(args)),
        Command::Eval(args) => runtime()?.block_on(eval::run(args)),
        Command::Plugin(args) => runtime()?.block_on(plugin::run(args)),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "hintd", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// Commands that print a report end quietly when their reader goes away (`hintd eval | head`),
/// as `cat` does, instead of panicking on the broken pipe: the default action of `SIGPIPE`,
/// which the Rust runtime ignores. Sockets are unaffected (their writes use `MSG_NOSIGNAL`).
/// The server keeps the runtime's choice: its logs' reader going away must not kill it.
fn stdout_closed_ends_quietly() {
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; installs the default disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
