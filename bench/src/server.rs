//! Servers the benchmarks start inside this process: hintd itself (built through the same
//! code path as `hintd serve`), and small loopback helpers (the baseline, the webhook
//! receiver, a mock completion endpoint).

use super::client::{LoadClient, Reply};
use anyhow::Context as _;
use axum::Router;
use hintd::app::{App, Running};
use hintd::config::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// A router served on a loopback port until dropped.
pub struct Local {
    /// The bound address.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Local {
    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on a fresh loopback port.
pub async fn serve_local(router: Router) -> anyhow::Result<Local> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding a loopback port")?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::warn!("benchmark helper server stopped: {e}");
        }
    });
    Ok(Local { addr, task })
}

/// hintd running in this process.
pub struct Hintd {
    /// The Chat2Desk account the benchmark posts to. Each run uses its own, so runs against a
    /// shared PostgreSQL store never see each other's dialogs, redelivery keys or answers.
    pub account: String,
    /// Its listener.
    pub local: Local,
    running: Running,
}

impl Hintd {
    /// Starts hintd from `config` as `serve` does ([`App::start`]), waits for its plugins,
    /// and serves it on a loopback port.
    pub async fn start(config: Config, account: &str) -> anyhow::Result<Hintd> {
        let running = App::start(config).await.context("starting hintd")?;
        running.app().plugins.loaded().await;
        let local = serve_local(hintd::api::router(running.app().clone())).await?;
        Ok(Hintd {
            account: account.to_string(),
            local,
            running,
        })
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        self.local.url(path)
    }

    /// The Chat2Desk endpoint of the benchmark account, with its token.
    pub fn ingest_url(&self) -> String {
        self.url(&format!(
            "/webhooks/chat2desk/{}?token={TOKEN}",
            self.account
        ))
    }

    /// Stops serving and stops the delivery workers the way `serve` does at shutdown (on a
    /// shared PostgreSQL store, a stopped run's workers would otherwise drain the next
    /// run's backlog).
    pub async fn stop(self) {
        self.local.task.abort();
        self.running.shutdown().await;
        // Let aborted tasks and closed connections wind down before the next measurement.
        tokio::task::yield_now().await;
    }
}

/// Replicas of hintd in this process on one store (`--replicas`): each is its own
/// application — its own connection pool, plugin registry, hint writer and delivery workers
/// under its own lease owner — served on its own port, exactly what a second `hintd serve`
/// on the same database would be, minus the separate address space.
pub async fn start_replicas(n: usize, config: Config, account: &str) -> anyhow::Result<Vec<Hintd>> {
    let mut replicas = Vec::with_capacity(n);
    for i in 0..n {
        let hintd = Hintd::start(config.clone(), account)
            .await
            .with_context(|| format!("starting replica {}", i + 1))?;
        replicas.push(hintd);
    }
    Ok(replicas)
}

/// Stops every replica.
pub async fn stop_all(replicas: Vec<Hintd>) {
    for hintd in replicas {
        hintd.stop().await;
    }
}

/// The loopback URLs a load generator spreads its requests over, round robin by sequence
/// number (one per replica).
#[derive(Clone)]
pub struct Urls(Arc<[String]>);

impl Urls {
    /// The ingest endpoint of every replica.
    pub fn ingest(replicas: &[Hintd]) -> Urls {
        Urls(replicas.iter().map(Hintd::ingest_url).collect())
    }

    /// The URL request `seq` goes to.
    pub fn pick(&self, seq: u64) -> &str {
        &self.0[(seq % self.0.len() as u64) as usize]
    }
}

impl From<String> for Urls {
    fn from(url: String) -> Urls {
        Urls(Arc::from([url]))
    }
}

/// Admin key of every server a benchmark starts.
pub const ADMIN_KEY: &str = "bench-admin-key";
/// Chat2Desk token of every server a benchmark starts.
pub const TOKEN: &str = "bench-token";

/// A fresh account name for one benchmark.
pub fn new_account() -> String {
    format!("bench{:08x}", rand::random::<u32>())
}

/// The configuration of a benchmark server: the given store, Chat2Desk enabled with a token
/// and `account`, plugins from `plugins` (none without; compiled code cached in the temp
/// dir, no hot reload), plus `extra` TOML tables.
pub fn config(
    store_url: &str,
    plugins: Option<&std::path::Path>,
    account: &str,
    extra: &str,
) -> anyhow::Result<Config> {
    let mut text = format!(
        "[server]\nadmin_key = {}\n\n[store]\nurl = {}\n\n[sources.chat2desk]\ntoken = {}\n\n[sources.chat2desk.accounts.{account}]\n\n",
        toml_str(ADMIN_KEY),
        toml_str(store_url),
        toml_str(TOKEN)
    );
    if let Some(dir) = plugins {
        // Compiled components are keyed by content and engine: one cache for every run.
        let cache = std::env::temp_dir().join("hintd-bench-plugin-cache");
        text.push_str(&format!(
            "[plugins]\ndir = {}\ncache_dir = {}\nhot_reload = false\n\n",
            toml_str(&dir.display().to_string()),
            toml_str(&cache.display().to_string())
        ));
    }
    text.push_str(extra);
    toml::from_str(&text).with_context(|| format!("benchmark configuration rejected:\n{text}"))
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// POSTs a Chat2Desk webhook body and checks for a 2xx answer.
pub async fn post_chat2desk(
    client: &LoadClient,
    url: &str,
    body: Vec<u8>,
) -> Result<Reply, String> {
    let reply = client.post_json(url, &body).await?;
    if !(200..300).contains(&reply.status) {
        return Err(format!(
            "HTTP {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
                .chars()
                .take(300)
                .collect::<String>()
        ));
    }
    Ok(reply)
}
