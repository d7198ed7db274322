//! `hintd eval`: replays recorded dialogues through the plugins and reports how often their
//! hints match what operators really answered.
//!
//! Input: JSON Lines, one dialogue per line:
//! `{"dialog_id": "d1", "client_id": "c1", "messages": [{"role": "client", "text": "…", "at": "2026-01-05T10:00:00Z"}, …]}`
//! (`at` is RFC 3339 or unix ms; without it messages keep file order). Every message of every
//! dialogue is replayed in time order. At each operator reply the plugins are first asked for
//! hints on the context before it (exactly as the server asks: fan-out under the deadline,
//! merge, dedupe), then the reply is revealed to them (`observe`), and when a hint matched it
//! the plugins get the operator's choice (`feedback`), so learning plugins learn as they would
//! in production.

use crate::config::Config;
use crate::core::{DialogKey, Message, Role, Source};
use crate::hints::baselines::HistoryBaselines;
use crate::hints::evaluation::{SystemReport, Tally, first_match, matches};
use crate::hints::feedback::{FeedbackBase, route};
use crate::hints::pipeline::fan_out;
use crate::hints::{HintsConfig, MergeRules, Providers, merge};
use crate::plugins::{ConversationEvent, DialogRef, HintRequest, Registry};
use crate::store::StoreConfig;
use anyhow::{Context as _, bail};
use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `hintd eval` arguments.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Plugin directory (`<dir>/<name>/plugin.toml`).
    #[arg(long)]
    pub plugins: PathBuf,
    /// Recorded dialogues, JSON Lines.
    #[arg(long)]
    pub dialogs: PathBuf,
    /// Cut-offs for hit@k, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5")]
    pub k: Vec<usize>,
    /// Configuration file whose `[hints]` and `[plugins]` sections apply.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Token-set similarity (0–1) at which a hint counts as the operator's reply.
    #[arg(long, default_value_t = 0.6)]
    pub match_threshold: f64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also score the baselines on the same replay: BM25 over the account's earlier replies,
    /// and the oracle (the share of replies that an earlier reply matches).
    #[arg(long)]
    pub baselines: bool,
    /// Write every operator reply, the hints each system showed for it and where one matched,
    /// to FILE as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub per_reply: Option<PathBuf>,
    /// Print what the plugins say — their `log` lines, stdout and stderr (a Python traceback, a
    /// Rust panic message) — and the host's events about them (failed calls, refused
    /// requests) to stderr as the replay goes.
    #[arg(long)]
    pub verbose: bool,
}

/// The whole report.
#[derive(Debug, serde::Serialize)]
pub struct EvalReport {
    /// Dialogues read.
    pub dialogues: usize,
    /// Messages replayed.
    pub messages: usize,
    /// The most hints an answer shows (`[hints] max_hints`): hit@k above it counts only
    /// what was shown.
    pub max_hints: usize,
    /// `merged` first, then each plugin by name, then the baselines (with `--baselines`).
    pub systems: Vec<SystemReport>,
    /// Each plugin scored on what the merge kept of its hints, at their places in the merged
    /// answer (`kept:NAME`): what its hints were worth to the operator beside the others'.
    pub kept: Vec<SystemReport>,
    /// How each plugin's calls went during the replay.
    pub plugins: Vec<PluginHealth>,
    /// With `--baselines`: the share of replies an earlier reply of the account matches, the
    /// ceiling of any system that suggests past replies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oracle: Option<f64>,
}

/// One plugin's calls during a replay: what a quality figure alone would hide.
#[derive(Debug, serde::Serialize)]
pub struct PluginHealth {
    /// The plugin.
    pub plugin: String,
    /// Its `suggest` calls by outcome (`ok`, `timeout`, `deadline`, `error`, `trap`, `oom`,
    /// `rejected`, `busy`, `skipped`).
    pub suggest: BTreeMap<&'static str, u64>,
    /// Every call of every function (`suggest`, `observe`, `feedback`, `describe`) that
    /// failed: errors, timeouts, traps, out of memory, refused answers.
    pub failed_calls: u64,
    /// `kv` writes refused by the plugin's quota.
    pub kv_refusals: u64,
}

/// The name of the BM25 baseline in reports.
pub const BM25_BASELINE: &str = "bm25-history";

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DialogueLine {
    dialog_id: serde_json::Value,
    #[serde(default)]
    client_id: Option<serde_json::Value>,
    #[serde(default)]
    account: Option<String>,
    messages: Vec<MessageLine>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageLine {
    role: Role,
    text: String,
    #[serde(default)]
    at: Option<serde_json::Value>,
    #[serde(default)]
    id: Option<String>,
}

/// One message to replay.
struct Step {
    dialog: usize,
    message: Message,
}

struct Dialogue {
    key: DialogKey,
    client_id: String,
}

fn id_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_time(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis()),
        _ => None,
    }
}

/// Reads the dialogues and orders every message in time (file order breaks ties).
fn read_dialogues(path: &PathBuf) -> anyhow::Result<(Vec<Dialogue>, Vec<Step>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut dialogues = Vec::new();
    let mut steps = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() || line.trim_start().starts_with("//") {
            continue;
        }
        let d: DialogueLine = serde_json::from_str(line)
            .with_context(|| format!("{}:{line_no}: not a dialogue", path.display()))?;
        let dialog_id = id_text(&d.dialog_id).with_context(|| {
            format!(
                "{}:{line_no}: dialog_id must be a non-empty string or number",
                path.display()
            )
        })?;
        let index = dialogues.len();
        let account = d.account.unwrap_or_else(|| "eval".into());
        for (i, m) in d.messages.into_iter().enumerate() {
            let sent_at_ms = match &m.at {
                Some(v) => parse_time(v).with_context(|| {
                    format!(
                        "{}:{line_no}: messages[{i}].at must be RFC 3339 or unix ms",
                        path.display()
                    )
                })?,
                // Without times, dialogues are replayed one after the other in file order.
                None => (line_no as i64) * 3_600_000 + i as i64 * 1_000,
            };
            let id = m.id.unwrap_or_else(|| format!("{dialog_id}-{i}"));
            steps.push(Step {
                dialog: index,
                message: Message {
                    id,
                    role: m.role,
                    text: m.text,
                    sent_at_ms,
                    private: false,
                    media_type: None,
                    media_url: None,
                },
            });
        }
        let client_id = d
            .client_id
            .as_ref()
            .and_then(id_text)
            .unwrap_or_else(|| format!("client-{dialog_id}"));
        dialogues.push(Dialogue {
            key: DialogKey::new(Source::Api, account, dialog_id),
            client_id,
        });
    }
    // Stable: equal times keep file order.
    steps.sort_by_key(|s| s.message.sent_at_ms);
    Ok((dialogues, steps))
}

/// Total calls the registry has made or given up (observe calls included), to wait for `observe` to
/// finish before the next request — the replay must be deterministic.
fn calls_made(registry: &Registry) -> u64 {
    registry
        .stats()
        .iter()
        .map(|s| {
            s.ok + s.error
                + s.timeout
                + s.trap
                + s.oom
                + s.rejected
                + s.skipped
                + s.busy
                + s.observe_dropped
        })
        .sum()
}

async fn observe_and_wait(registry: &Registry, plugins: u64, event: ConversationEvent) {
    let before = calls_made(registry);
    registry.observe(event);
    let until = Instant::now() + Duration::from_secs(10);
    while calls_made(registry) < before + plugins && Instant::now() < until {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// Runs the evaluation.
pub async fn run(args: EvalArgs) -> anyhow::Result<()> {
    if args.verbose {
        // Without a subscriber (the default for eval) these events go nowhere.
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("hintd=info"))
            .try_init();
    }
    let report = evaluate(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report, &args.k);
    }
    Ok(())
}

/// Replays the dialogues and returns the report.
pub async fn evaluate(args: &EvalArgs) -> anyhow::Result<EvalReport> {
    if args.k.is_empty() || args.k.iter().any(|&k| k == 0 || k > 20) {
        bail!("--k: every cut-off must be in 1..=20");
    }
    if !(0.0..=1.0).contains(&args.match_threshold) || args.match_threshold == 0.0 {
        bail!("--match-threshold must be in (0, 1]");
    }
    let (hints_config, mut plugins_config) = match &args.config {
        Some(path) => {
            let c = Config::load(Some(path), std::iter::empty(), &[])?;
            (c.hints, c.plugins)
        }
        None => (
            HintsConfig::default(),
            crate::plugins::PluginsConfig::default(),
        ),
    };
    hints_config.validate()?;
    if !args.plugins.is_dir() {
        bail!("--plugins {}: not a directory", args.plugins.display());
    }
    plugins_config.dir = Some(args.plugins.clone());
    plugins_config.hot_reload = false;
    // Every reply is asked of every plugin: a circuit opened by a run of failures would skip
    // the plugin silently and flatter or sink its figures. Failures are reported instead.
    plugins_config.breaker_failures = 0;
    // Compiled plugins are kept in the user's cache, not in whatever directory eval runs in.
    match user_cache_dir() {
        Some(dir) => plugins_config.cache_dir = dir.join("hintd").join("plugin-cache"),
        None => plugins_config.cache = false,
    }
    // An in-memory store: every run starts from nothing, so results are reproducible.
    let store = crate::store::open(&StoreConfig {
        url: "sqlite::memory:".into(),
        max_connections: 1,
        ..StoreConfig::default()
    })
    .await
    .context("in-memory store")?;
    let registry = Registry::load(&plugins_config, store.clone())
        .await
        .context("loading plugins")?;
    for (dir, error) in registry.failures() {
        eprintln!("warning: plugin {dir} skipped: {error}");
    }
    let providers: Arc<dyn Providers> = Arc::new(registry.clone());
    let slots = providers.slots();
    if slots.is_empty() {
        bail!("no enabled plugin in {}", args.plugins.display());
    }
    let (dialogues, steps) = read_dialogues(&args.dialogs)?;

    let rules = MergeRules {
        threshold: hints_config.threshold,
        max_hints: hints_config.max_hints,
        dedupe_similarity: hints_config.dedupe_similarity,
    };
    let deadline = Duration::from_millis(hints_config.request_deadline_ms);
    let mut ks = args.k.clone();
    ks.sort_unstable();
    ks.dedup();
    let mut merged_tally = Tally::default();
    let mut plugin_tallies: HashMap<String, Tally> = slots
        .iter()
        .map(|s| (s.name.clone(), Tally::default()))
        .collect();
    let mut kept_tallies: HashMap<String, Tally> = slots
        .iter()
        .map(|s| (s.name.clone(), Tally::default()))
        .collect();
    let mut suggest_outcomes: HashMap<String, BTreeMap<&'static str, u64>> = HashMap::new();
    let mut contexts: Vec<Vec<Message>> = dialogues.iter().map(|_| Vec::new()).collect();
    let mut baselines = args
        .baselines
        .then(|| (HistoryBaselines::default(), Tally::default(), 0u64));
    let mut per_reply = match &args.per_reply {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("--per-reply {}", path.display()))?,
        )),
        None => None,
    };
    let mut replies_seen = 0u64;

    let progress = indicatif::ProgressBar::new(steps.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} messages, {elapsed} elapsed, {eta} left",
        )
        .expect("valid template"),
    );
    if args.json || steps.len() < 200 {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }

    for (n, step) in steps.iter().enumerate() {
        let dialogue = &dialogues[step.dialog];
        let context = &mut contexts[step.dialog];
        let message = &step.message;
        if message.role == Role::Operator && context.iter().any(|m| m.role == Role::Client) {
            let latest_client = context
                .iter()
                .rev()
                .find(|m| m.role == Role::Client)
                .map(|m| m.id.clone())
                .unwrap_or_default();
            let request = Arc::new(HintRequest {
                request_id: format!("eval-{n}"),
                dialog: dialogue.key.clone(),
                client_id: dialogue.client_id.clone(),
                operator_id: None,
                channel_id: None,
                transport: None,
                message_id: latest_client,
                external_key: None,
                context: context.clone(),
                max_hints: rules.max_hints,
                deadline_ms: hints_config.request_deadline_ms as u32,
            });
            let started = Instant::now();
            let out = fan_out(&providers, &slots, request.clone(), deadline).await;
            let merged = merge(&out.results, &rules);
            let merged_latency = started.elapsed();

            let position = first_match(
                merged.iter().map(|h| h.text.as_str()),
                &message.text,
                args.match_threshold,
            );
            merged_tally.record(&ks, merged.len(), position, merged_latency);
            replies_seen += 1;
            let mut plugin_positions = serde_json::Map::new();
            for outcome in &out.outcomes {
                let own = out.results.iter().find(|r| r.plugin == outcome.plugin);
                let texts: Vec<&str> = own
                    .map(|r| r.hints.iter().map(|h| h.text.as_str()).collect())
                    .unwrap_or_default();
                let p = first_match(texts.iter().copied(), &message.text, args.match_threshold);
                if let Some(t) = plugin_tallies.get_mut(&outcome.plugin) {
                    t.record(&ks, texts.len(), p, outcome.latency);
                }
                // Its hints where the merge put them: a place held by another plugin's hint
                // is not its match.
                let from_it = |h: &crate::hints::MergedHint| {
                    h.origins.iter().any(|o| o.plugin == outcome.plugin)
                };
                let kept_position = merged
                    .iter()
                    .position(|h| {
                        from_it(h) && matches(&h.text, &message.text, args.match_threshold)
                    })
                    .map(|i| i + 1);
                if let Some(t) = kept_tallies.get_mut(&outcome.plugin) {
                    let shown = merged.iter().filter(|h| from_it(h)).count();
                    t.record(&ks, shown, kept_position, merged_latency);
                }
                *suggest_outcomes
                    .entry(outcome.plugin.clone())
                    .or_default()
                    .entry(outcome.outcome)
                    .or_default() += 1;
                plugin_positions.insert(
                    outcome.plugin.clone(),
                    serde_json::json!({"outcome": outcome.outcome, "hints": texts, "matched_at": p}),
                );
            }
            let mut baseline_line = serde_json::Value::Null;
            if let Some((history, tally, oracle_hits)) = &mut baselines {
                let account = &dialogue.key.account;
                let question = client_turn(context);
                let started = Instant::now();
                let ranked = history.bm25(account, &question, rules.max_hints as usize);
                let latency = started.elapsed();
                let p = first_match(
                    ranked.iter().map(String::as_str),
                    &message.text,
                    args.match_threshold,
                );
                tally.record(&ks, ranked.len(), p, latency);
                let oracle = history.oracle(account, &message.text, args.match_threshold);
                *oracle_hits += u64::from(oracle);
                history.learn(account, &question, &message.text);
                baseline_line = serde_json::json!({
                    BM25_BASELINE: {"hints": ranked, "matched_at": p},
                    "oracle": oracle,
                });
            }
            if let Some(w) = &mut per_reply {
                let line = serde_json::json!({
                    "dialog_id": dialogue.key.dialog_id,
                    "account": dialogue.key.account,
                    "reply": message.text,
                    "merged": merged.iter().map(|h| serde_json::json!({"text": h.text, "plugin": h.plugin()})).collect::<Vec<_>>(),
                    "matched_at": position,
                    "plugins": plugin_positions,
                    "baselines": baseline_line,
                });
                writeln!(w, "{line}").context("--per-reply")?;
            }
            // The operator "chooses" the matching hint: the plugins hear it as in production.
            if let Some(p) = position {
                let base = FeedbackBase {
                    request_id: &request.request_id,
                    dialog_id: &dialogue.key.dialog_id,
                    account: &dialogue.key.account,
                    message_id: &request.message_id,
                    context: &request.context,
                };
                for (plugin, fb) in route(&merged, merged[p - 1].id, &base).unwrap_or_default() {
                    let _ = providers.feedback(&plugin, &fb).await;
                }
            }
        }
        context.push(message.clone());
        let at = DialogRef {
            dialog: dialogue.key.clone(),
            client_id: Some(dialogue.client_id.clone()),
        };
        observe_and_wait(
            &registry,
            slots.len() as u64,
            ConversationEvent::MessageAdded(at, message.clone()),
        )
        .await;
        progress.inc(1);
    }
    progress.finish_and_clear();

    if let Some(w) = &mut per_reply {
        w.flush().context("--per-reply")?;
    }

    let mut systems = vec![merged_tally.report("merged")];
    let mut names: Vec<&String> = plugin_tallies.keys().collect();
    names.sort();
    systems.extend(names.iter().map(|name| plugin_tallies[*name].report(name)));
    let kept = names
        .iter()
        .map(|name| kept_tallies[*name].report(&format!("kept:{name}")))
        .collect();
    let mut oracle = None;
    if let Some((_, tally, oracle_hits)) = &baselines {
        systems.push(tally.report(BM25_BASELINE));
        oracle = Some(if replies_seen == 0 {
            0.0
        } else {
            *oracle_hits as f64 / replies_seen as f64
        });
    }
    let kv_refusals: HashMap<String, u64> = store
        .kv_quota_refusals(0)
        .await
        .context("reading kv refusals")?
        .into_iter()
        .map(|r| (r.plugin, r.refusals))
        .collect();
    let stats = registry.stats();
    let plugins = names
        .into_iter()
        .map(|name| {
            let s = stats.iter().find(|s| &s.plugin == name);
            PluginHealth {
                plugin: name.clone(),
                suggest: suggest_outcomes.remove(name).unwrap_or_default(),
                failed_calls: s.map_or(0, |s| s.error + s.timeout + s.trap + s.oom + s.rejected),
                kv_refusals: kv_refusals.get(name).copied().unwrap_or(0),
            }
        })
        .collect();
    Ok(EvalReport {
        dialogues: dialogues.len(),
        messages: steps.len(),
        max_hints: rules.max_hints as usize,
        systems,
        kept,
        plugins,
        oracle,
    })
}

/// What the client wrote since the operator last spoke (their latest turn), as one text.
fn client_turn(context: &[Message]) -> String {
    let turn: Vec<&str> = context
        .iter()
        .rev()
        .take_while(|m| m.role != Role::Operator)
        .filter(|m| m.role == Role::Client)
        .map(|m| m.text.as_str())
        .collect();
    turn.into_iter().rev().collect::<Vec<_>>().join(" ")
}

/// `$XDG_CACHE_HOME`, else `$HOME/.cache`.
fn user_cache_dir() -> Option<PathBuf> {
    let non_empty = |v: std::ffi::OsString| (!v.is_empty()).then(|| PathBuf::from(v));
    std::env::var_os("XDG_CACHE_HOME")
        .and_then(non_empty)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(non_empty)
                .map(|h| h.join(".cache"))
        })
}

fn print_table(report: &EvalReport, ks: &[usize]) {
    println!(
        "{} dialogues, {} messages replayed",
        report.dialogues, report.messages
    );
    let mut header = format!("{:<12} {:>7}", "system", "replies");
    for k in ks {
        let above = if *k > report.max_hints { "*" } else { "" };
        header.push_str(&format!(" {:>7}", format!("hit@{k}{above}")));
    }
    header.push_str(&format!(
        " {:>6} {:>8} {:>10} {:>8} {:>8} {:>8}",
        "MRR", "coverage", "acceptance", "p50 ms", "p90 ms", "p99 ms"
    ));
    println!("{header}");
    for s in report.systems.iter().chain(&report.kept) {
        let mut line = format!("{:<12} {:>7}", s.system, s.replies);
        for k in ks {
            line.push_str(&format!(
                " {:>7.3}",
                s.hit_at.get(&k.to_string()).copied().unwrap_or(0.0)
            ));
        }
        line.push_str(&format!(
            " {:>6.3} {:>8.3} {:>10.3} {:>8.2} {:>8.2} {:>8.2}",
            s.mrr, s.coverage, s.acceptance, s.latency_ms.p50, s.latency_ms.p90, s.latency_ms.p99
        ));
        println!("{line}");
    }
    if ks.iter().any(|&k| k > report.max_hints) {
        println!(
            "* k above max_hints ({}): an answer shows at most {} hints, so hit@k counts only those",
            report.max_hints, report.max_hints
        );
    }
    if let Some(oracle) = report.oracle {
        println!("oracle (an earlier reply of the account matches): {oracle:.3}");
    }
    println!();
    println!(
        "{:<12} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7} {:>9} {:>7} {:>10}",
        "plugin",
        "ok",
        "timeout",
        "deadline",
        "error",
        "trap",
        "skipped",
        "rejected",
        "failed",
        "kv-refused"
    );
    for p in &report.plugins {
        let n = |o: &str| p.suggest.get(o).copied().unwrap_or(0);
        println!(
            "{:<12} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7} {:>9} {:>7} {:>10}",
            p.plugin,
            n("ok"),
            n("timeout"),
            n("deadline"),
            n("error"),
            n("trap") + n("oom"),
            n("skipped") + n("busy"),
            n("rejected"),
            p.failed_calls,
            p.kv_refusals
        );
    }
    println!(
        "(suggest calls by outcome; `failed`: failed calls of every function, observe and feedback included)"
    );
}
