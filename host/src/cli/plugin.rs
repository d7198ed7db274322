//! `hintd plugin check|run`: validate a plugin and try it on a recorded dialogue, with the
//! server's compile cache and the plugin's own output shown.

use super::plugin_output::PluginOutput;
use crate::config::Config;
use crate::core::{DialogKey, Message, Source};
use crate::plugins::{PluginsConfig, Registry};
use crate::store::StoreConfig;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `hintd plugin ...`.
#[derive(Debug, Args)]
pub struct PluginArgs {
    /// What to do with the plugin.
    #[command(subcommand)]
    pub command: PluginCommand,
}

/// Plugin subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Validates that a plugin directory (or a bare .wasm) implements hint-provider; prints
    /// describe() and the manifest. Exits non-zero with the reason otherwise.
    Check {
        /// A plugin directory (with plugin.toml) or a .wasm component.
        path: PathBuf,
        /// Cache and output options.
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Creates a plugin in Rust, Python or JavaScript that builds on its own, outside the
    /// repository (`cargo build --release` or `./build.sh` in it), and is a plugin folder once
    /// built.
    New {
        /// The plugin's name: a-z first, then a-z, 0-9, `-`, `_`.
        name: String,
        /// The folder to create [default: ./NAME].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The SDK of the language (`plugins/sdk`, `plugins/sdk-python` or `plugins/sdk-js`
        /// of a hintd checkout) [default: this build's own].
        #[arg(long)]
        sdk: Option<PathBuf>,
        /// The plugin's language.
        #[arg(long, value_enum, default_value = "rust")]
        lang: super::scaffold::Lang,
    },
    /// Runs suggest() on a recorded dialogue and prints the hints.
    Run {
        /// A plugin directory (with plugin.toml) or a .wasm component.
        path: PathBuf,
        /// The dialogue, a JSON file like examples/dialogue.json.
        #[arg(long)]
        context: PathBuf,
        /// Print the hints as JSON.
        #[arg(long)]
        json: bool,
        /// Cache and output options.
        #[command(flatten)]
        load: LoadArgs,
    },
}

/// How `check` and `run` load the plugin.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Print the plugin's log lines, stdout and stderr also when it succeeds (when it fails
    /// they are always printed).
    #[arg(long, short)]
    pub verbose: bool,
    /// The server's TOML configuration, for its `[plugins]` cache and limits: the compiled
    /// component is taken from and written to the cache `serve` uses ([plugins] cache_dir,
    /// default hintd-data/plugin-cache; `HINTD__PLUGINS__*` variables apply as for serve).
    #[arg(long, env = "HINTD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Compile without the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// Runs a plugin subcommand.
pub async fn run(args: PluginArgs) -> anyhow::Result<()> {
    match args.command {
        PluginCommand::Check { path, load } => {
            let output = PluginOutput::collect();
            let result = check(&path, &load).await;
            show_output(&output, &path, &load, result.is_err());
            result
        }
        PluginCommand::New {
            name,
            dir,
            sdk,
            lang,
        } => {
            let made = super::scaffold::create(&name, dir.as_deref(), sdk.as_deref(), lang)?;
            let dir = made.dir.display();
            println!("created plugin `{name}` in {dir}");
            println!("build:   cd {dir} && {}", made.build);
            println!("output:  {dir}/{}", made.wasm);
            if let Some(test) = made.test {
                println!("test:    cd {dir} && {test}");
            }
            println!("try it:  hintd plugin check {dir}");
            println!(
                "install: copy {dir} into the plugins folder (or plugin.toml and the .wasm, with `wasm` pointing at it)"
            );
            Ok(())
        }
        PluginCommand::Run {
            path,
            context,
            json,
            load,
        } => {
            let output = PluginOutput::collect();
            let result = run_dialogue(&path, &context, json, &load).await;
            show_output(&output, &path, &load, result.is_err());
            result
        }
    }
}

/// The plugin's output, with `--verbose` or after a failure.
fn show_output(output: &PluginOutput, path: &Path, load: &LoadArgs, failed: bool) {
    if load.verbose || failed {
        output.print(&path.display().to_string());
    }
}

/// The `[plugins]` settings `serve` would use, without a plugin directory or hot reload.
fn plugins_config(load: &LoadArgs) -> anyhow::Result<PluginsConfig> {
    let config = Config::load(load.config.as_deref(), std::env::vars(), &[])
        .context("configuration")?
        .plugins;
    Ok(PluginsConfig {
        dir: None,
        hot_reload: false,
        cache: config.cache && !load.no_cache,
        ..config
    })
}

async fn open(path: &Path, load: &LoadArgs) -> anyhow::Result<Registry> {
    if !path.exists() {
        bail!("{}: no such file or directory", path.display());
    }
    // kv goes to an in-memory database: a try leaves no data behind.
    let store = crate::store::open(&StoreConfig {
        url: "sqlite::memory:".into(),
        max_connections: 1,
        ..StoreConfig::default()
    })
    .await
    .context("opening an in-memory store")?;
    let config = plugins_config(load)?;
    let started = std::time::Instant::now();
    let registry = Registry::load_one(path, &config, store).await?;
    let took = started.elapsed().as_secs_f64() * 1000.0;
    let cache = registry.cache_stats();
    let dir = config.cache_dir.display();
    if !config.cache {
        eprintln!("compiled in {took:.0} ms (compile cache off)");
    } else if cache.hits > 0 {
        eprintln!("loaded from the compile cache {dir} in {took:.0} ms");
    } else {
        eprintln!("compiled in {took:.0} ms, kept in the compile cache {dir}");
    }
    Ok(registry)
}

async fn check(path: &Path, load: &LoadArgs) -> anyhow::Result<()> {
    let registry = open(path, load).await?;
    let plugin = registry
        .enabled()
        .into_iter()
        .next()
        .context("no plugin loaded")?;
    println!(
        "ok: {} implements hintd:provider/hint-provider@0.1.0",
        path.display()
    );
    println!(
        "describe(): {} {} — {}",
        plugin.info.name, plugin.info.version, plugin.info.description
    );
    if path.is_dir() {
        let manifest = std::fs::read_to_string(path.join(crate::plugins::manifest::MANIFEST_FILE))?;
        println!(
            "manifest ({}):\n{}",
            path.join("plugin.toml").display(),
            manifest.trim_end()
        );
    } else {
        println!("manifest: none (a bare component runs with no capabilities)");
    }
    Ok(())
}

/// A recorded dialogue (`examples/dialogue.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Dialogue {
    #[serde(default = "default_source")]
    source: Source,
    #[serde(default = "default_account")]
    account: String,
    dialog_id: String,
    client_id: String,
    #[serde(default)]
    operator_id: Option<String>,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    transport: Option<String>,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    external_key: Option<String>,
    #[serde(default = "default_max_hints")]
    max_hints: u32,
    #[serde(default)]
    deadline_ms: u32,
    context: Vec<Message>,
}

fn default_source() -> Source {
    Source::Api
}
fn default_account() -> String {
    "default".into()
}
fn default_max_hints() -> u32 {
    3
}

async fn run_dialogue(
    path: &Path,
    context: &Path,
    json: bool,
    load: &LoadArgs,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(context)
        .with_context(|| format!("reading {}", context.display()))?;
    let dialogue: Dialogue = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a dialogue", context.display()))?;
    let registry = open(path, load).await?;
    let plugin = registry
        .enabled()
        .into_iter()
        .next()
        .context("no plugin loaded")?;
    let message_id = dialogue
        .message_id
        .clone()
        .or_else(|| dialogue.context.last().map(|m| m.id.clone()))
        .unwrap_or_default();
    let req = crate::plugins::HintRequest {
        request_id: format!("cli-{}", uuid::Uuid::new_v4()),
        dialog: DialogKey::new(dialogue.source, dialogue.account, dialogue.dialog_id),
        client_id: dialogue.client_id,
        operator_id: dialogue.operator_id,
        channel_id: dialogue.channel_id,
        transport: dialogue.transport,
        message_id,
        external_key: dialogue.external_key,
        // Private notes never reach plugins.
        context: dialogue
            .context
            .into_iter()
            .filter(|m| !m.private)
            .collect(),
        max_hints: dialogue.max_hints,
        deadline_ms: dialogue.deadline_ms,
    };
    let started = std::time::Instant::now();
    let hints = registry
        .suggest(&plugin.name, req.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{}: suggest failed: {e}", plugin.name))?;
    let took = started.elapsed();
    if json {
        let out: Vec<serde_json::Value> = hints
            .iter()
            .map(|h| serde_json::json!({"id": h.id, "text": h.text, "url": h.url, "link": h.link, "relevance": h.relevance}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} hint(s) from {} in {:.1} ms:",
            hints.len(),
            plugin.name,
            took.as_secs_f64() * 1000.0
        );
        for (i, h) in hints.iter().enumerate() {
            println!("{}. [{}] ({}) {}", i + 1, h.relevance, h.id, h.text);
            if let Some(url) = &h.url {
                println!("   url: {url}");
            }
            if let Some(link) = &h.link {
                println!("   link: {link}");
            }
        }
    }
    Ok(())
}
