//! `hintd serve`: loads the configuration, builds every layer, listens, and stops gracefully
//! on SIGTERM or Ctrl-C.
//!
//! Contract relied on by scripts and tests: after binding, exactly one line
//! `listening on <addr>` goes to stdout; every log line goes to stderr. A startup failure
//! prints one line and exits non-zero.

use crate::api::server::Limits;
use crate::app::App;
use crate::config::{Config, LogFormat};
use anyhow::Context as _;
use clap::Args;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The variables `serve` reads besides its flags' own, for `--help`.
const ENVIRONMENT: &str = "\
Environment:
  HINTD_ADMIN_KEY        server.admin_key: the bearer key of /api/v1/* (at least 8 characters)
  HINTD_LOG_FORMAT       server.log_format: text or json
  HINTD__SECTION__KEY    any configuration key, e.g. HINTD__HINTS__REQUEST_DEADLINE_MS=500 or
                         HINTD__SOURCES__CHATWOOT__SECRET=...; values read as TOML when they parse
  RUST_LOG               log filter (default: info)

Precedence: flags, then their variables and HINTD_ADMIN_KEY / HINTD_LOG_FORMAT, then HINTD__*,
then the configuration file.";

/// How long connections still open after a shutdown signal may take to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// `hintd serve` flags. Each has an environment variable; flags win over variables, which win
/// over the config file.
#[derive(Debug, Args)]
#[command(after_help = ENVIRONMENT)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HINTD_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Store URL: sqlite://PATH (created if missing) or postgres://USER@HOST:PORT/DB; a bare
    /// path means an SQLite file [default: sqlite://./hintd-data/hintd.db].
    #[arg(long, env = "HINTD_DATA", value_name = "URL", hide_env_values = true)]
    pub data: Option<String>,
    /// Plugin directory (one sub-directory with a plugin.toml per plugin).
    #[arg(long, env = "HINTD_PLUGINS", value_name = "DIR")]
    pub plugins: Option<PathBuf>,
    /// TOML configuration file (see examples/hintd.toml).
    #[arg(long, env = "HINTD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Webhook retry delays after the first attempt, e.g. `10s,5m,2h` ([dispatch] retry_schedule).
    #[arg(long, value_name = "DELAYS")]
    pub retry_schedule: Option<String>,
}

/// Runs the server until a shutdown signal. Startup errors are printed as one line and end
/// the process with status 1.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    match serve(args).await {
        Ok(()) => Ok(()),
        Err(e) => {
            eprintln!("hintd serve: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = load_config(&args)?;
    init_logging(config.server.log_format);
    for (source, account) in config.sources.open_endpoints() {
        tracing::warn!(
            "webhook endpoint {source}/{account} has no token or secret: anyone who can reach it can post events"
        );
    }
    if config.server.admin_key.is_none() {
        tracing::warn!(
            "no admin key configured (server.admin_key or HINTD_ADMIN_KEY): /api/v1 answers 401"
        );
    }
    let listen = config.server.listen;
    let running = App::start(config).await.context("cannot start")?;
    let app = running.app().clone();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;

    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, backend = ?app.store.backend(), "hintd serving");

    let stop = Arc::new(Notify::new());
    let limits = Limits::from_config(&app.config.server);
    let server = crate::api::server::serve(listener, crate::api::router(app.clone()), limits, {
        let stop = stop.clone();
        let context = app.context.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutdown requested; finishing open requests");
            // Open panels' event streams would otherwise hold the shutdown for its grace.
            context.stop_watching();
            stop.notify_waiters();
        }
    });
    let grace = async {
        stop.notified().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.context("server failed")?,
        _ = grace => tracing::warn!("requests still open after {SHUTDOWN_GRACE:?}; stopping anyway"),
    }
    running.shutdown().await;
    tracing::info!("hintd stopped");
    Ok(())
}

/// The configuration: file, `HINTD__*` overrides, then the named variables and flags.
fn load_config(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut sets: Vec<(&str, toml::Value)> = Vec::new();
    if let Some(listen) = &args.listen {
        sets.push(("server.listen", toml::Value::String(listen.clone())));
    }
    if let Some(data) = &args.data {
        sets.push(("store.url", toml::Value::String(store_url(data))));
    }
    if let Some(dir) = &args.plugins {
        sets.push((
            "plugins.dir",
            toml::Value::String(dir.display().to_string()),
        ));
    }
    if let Some(schedule) = &args.retry_schedule {
        let delays = crate::dispatch::parse_duration_list(schedule).context("--retry-schedule")?;
        let texts = delays
            .into_iter()
            .map(|d| toml::Value::String(crate::dispatch::duration::format_duration(d)))
            .collect();
        sets.push(("dispatch.retry_schedule", toml::Value::Array(texts)));
    }
    if let Ok(key) = std::env::var("HINTD_ADMIN_KEY") {
        sets.push(("server.admin_key", toml::Value::String(key)));
    }
    if let Ok(format) = std::env::var("HINTD_LOG_FORMAT") {
        sets.push((
            "server.log_format",
            toml::Value::String(format.to_ascii_lowercase()),
        ));
    }
    Config::load(args.config.as_deref(), std::env::vars(), &sets).context("configuration")
}

/// A bare path names an SQLite file.
fn store_url(data: &str) -> String {
    if data.contains("://") || data.starts_with("sqlite:") || data.starts_with("postgres") {
        data.to_string()
    } else {
        format!("sqlite://{data}")
    }
}

/// Logs to stderr: `RUST_LOG` filters (default `info`), JSON lines when configured.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a terminal: in a file or a log collector they are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second initialisation (tests running several servers in one process) is harmless.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_paths_are_sqlite_files() {
        assert_eq!(store_url("/tmp/x.db"), "sqlite:///tmp/x.db");
        assert_eq!(store_url("sqlite://./a.db"), "sqlite://./a.db");
        assert_eq!(store_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
