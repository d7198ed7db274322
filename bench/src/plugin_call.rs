//! `hintd-bench plugin-call`: one `suggest` call of the minimal `example` plugin through the
//! registry (the path the hint pipeline takes), with a fresh instance per call and with a
//! reused instance, beside the very same logic compiled natively into this binary
//! (`plugins/example/src/logic.rs`). Calls run one after another on one task, so the figure
//! is the cost of a call, not of contention.

use super::fixtures::plugin_dir;
use super::report::{Goal, Row, Section};
use super::scratch::ScratchDir;
use super::stats::{Latencies, nanos};
use super::{Ctx, example_logic, payloads};
use anyhow::Context as _;
use hintd::core::{DialogKey, Message, Role, Source};
use hintd::plugins::{Hint, HintRequest, PluginsConfig, Registry};
use std::path::Path;
use std::time::{Duration, Instant};

/// What the native side does for one call: what the guest's `suggest` does around the logic.
fn native_suggest(req: &HintRequest, greeting: &str) -> Vec<Hint> {
    let last = req
        .context
        .iter()
        .rev()
        .find(|m| m.role == Role::Client)
        .map(|m| m.text.as_str());
    example_logic::suggest(last, greeting)
        .into_iter()
        .map(|(id, text, relevance)| Hint {
            id,
            text,
            url: None,
            link: None,
            relevance,
        })
        .collect()
}

/// A request whose context holds `messages` messages, ending with the client's.
fn request(messages: usize) -> HintRequest {
    let context = (0..messages)
        .map(|i| {
            let from_client = (messages - 1 - i).is_multiple_of(2);
            Message {
                id: format!("m{i}"),
                role: if from_client {
                    Role::Client
                } else {
                    Role::Operator
                },
                text: if from_client {
                    payloads::client_text(i as u64 / 2)
                } else {
                    payloads::operator_text(i as u64 / 2)
                }
                .to_string(),
                sent_at_ms: 1_700_000_000_000 + i as i64 * 1_000,
                private: false,
                media_type: None,
                media_url: None,
            }
        })
        .collect();
    HintRequest {
        request_id: "bench".into(),
        dialog: DialogKey::new(Source::Chat2desk, "default", "331"),
        client_id: "11910".into(),
        operator_id: Some("1".into()),
        channel_id: Some("17404".into()),
        transport: Some("telegram".into()),
        message_id: format!("m{}", messages.saturating_sub(1)),
        external_key: None,
        context,
        max_hints: 5,
        deadline_ms: 0,
    }
}

/// Lays out `example-fresh` and `example-reuse` (the example plugin under both instance
/// modes) in `dest`.
fn layout(example: &Path, dest: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(example.join("plugin.toml"))
        .context("reading the example's plugin.toml")?;
    let manifest: toml::Table = text.parse().context("parsing the example's plugin.toml")?;
    let wasm = manifest
        .get("wasm")
        .and_then(|w| w.as_str())
        .context("example manifest has no `wasm`")?;
    for mode in ["fresh", "reuse"] {
        let dir = dest.join(format!("example-{mode}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(example.join(wasm), dir.join("example.wasm"))
            .context("copying the example component")?;
        let mut m = manifest.clone();
        m.insert("name".into(), format!("example-{mode}").into());
        m.insert("wasm".into(), "example.wasm".into());
        m.insert("instance".into(), mode.into());
        std::fs::write(dir.join("plugin.toml"), toml::to_string(&m)?)?;
    }
    Ok(())
}

/// Times calls of `call` one after another for `duration`: the per-call samples (in
/// nanoseconds) and the mean per call in µs.
async fn time_calls<F, Fut>(duration: Duration, mut call: F) -> anyhow::Result<(Latencies, f64)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < duration {
        let t = Instant::now();
        call().await?;
        samples.push(nanos(t.elapsed()));
    }
    let mean_us = start.elapsed().as_secs_f64() * 1e6 / samples.len().max(1) as f64;
    Ok((Latencies::from_micros(samples), mean_us))
}

/// Times a synchronous closure in batches (one native call is far below the clock's
/// resolution); returns the mean per call in µs.
fn time_native(duration: Duration, mut call: impl FnMut()) -> f64 {
    const BATCH: u64 = 1_000;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        for _ in 0..BATCH {
            call();
        }
        n += BATCH;
    }
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// Runs the plugin-call benchmark.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let p = &ctx.progress;
    let sizes = [1usize, 20];
    p.add_steps(1 + ctx.repeats as u64 * sizes.len() as u64);
    p.step("plugin-call: preparing plugins");
    let plugins = plugin_dir(ctx.plugins.as_deref()).await?;
    let example = plugins
        .example
        .clone()
        .context("the plugin directory has no `example` plugin (needed by plugin-call)")?;
    let scratch = ScratchDir::new("plugin-call")?;
    let dir = scratch.path().join("plugins");
    layout(&example, &dir)?;
    let store = hintd::store::open(&hintd::store::StoreConfig {
        url: scratch.sqlite_url(),
        ..Default::default()
    })
    .await?;
    let config = PluginsConfig {
        dir: Some(dir),
        cache_dir: scratch.path().join("plugin-cache"),
        hot_reload: false,
        ..PluginsConfig::default()
    };
    let registry = Registry::load(&config, store).await?;
    let failures = registry.failures();
    anyhow::ensure!(
        failures.is_empty(),
        "loading the example plugin failed: {failures:?}"
    );
    p.done_one();

    let greeting = "Hello! How can I help you?".to_string();
    let mut section = Section::new(
        "plugin-call",
        "one suggest() of plugins/example through Registry::suggest, sequential calls; native = same logic.rs compiled into hintd-bench",
    );
    let warm = ctx.duration.min(Duration::from_millis(500));
    // Hundreds of thousands of calls per variant settle the figure; more time adds nothing.
    let span = ctx.duration.min(Duration::from_secs(2));
    for size in sizes {
        let req = request(size);
        // Warm both modes (code cache, reuse pool, allocator).
        for name in ["example-fresh", "example-reuse"] {
            time_calls(warm, || async {
                registry
                    .suggest(name, req.clone())
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            })
            .await?;
        }
        let mut rows: [Vec<f64>; 7] = Default::default();
        let [
            fresh_mean,
            fresh_p99,
            reuse_mean,
            reuse_p99,
            native,
            fresh_x,
            reuse_x,
        ] = &mut rows;
        for i in 0..ctx.repeats {
            p.step(format!(
                "plugin-call: {size}-message context, repeat {}/{}",
                i + 1,
                ctx.repeats
            ));
            let (f, fm) = time_calls(span, || async {
                registry
                    .suggest("example-fresh", req.clone())
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            })
            .await?;
            let (r, rm) = time_calls(span, || async {
                registry
                    .suggest("example-reuse", req.clone())
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            })
            .await?;
            let n = time_native(span, || {
                std::hint::black_box(native_suggest(std::hint::black_box(&req), &greeting));
            });
            fresh_mean.push(fm);
            fresh_p99.push(f64::from(f.quantile(0.99)) / 1000.0);
            reuse_mean.push(rm);
            reuse_p99.push(f64::from(r.quantile(0.99)) / 1000.0);
            native.push(n);
            fresh_x.push(fm / n);
            reuse_x.push(rm / n);
            p.done_one();
        }
        let [
            fresh_mean,
            fresh_p99,
            reuse_mean,
            reuse_p99,
            native,
            fresh_x,
            reuse_x,
        ] = rows;
        let ctx_label = format!("{size}-msg context");
        section.row(
            Row::new(
                format!("fresh instance, mean ({ctx_label})"),
                "µs",
                fresh_mean,
            )
            .target(Goal::AtMost, 15.0),
        );
        section.row(Row::new(
            format!("fresh instance, p99 ({ctx_label})"),
            "µs",
            fresh_p99,
        ));
        section.row(
            Row::new(
                format!("reused instance, mean ({ctx_label})"),
                "µs",
                reuse_mean,
            )
            .target(Goal::AtMost, 2.0),
        );
        section.row(Row::new(
            format!("reused instance, p99 ({ctx_label})"),
            "µs",
            reuse_p99,
        ));
        section.row(Row::new(
            format!("native, mean ({ctx_label})"),
            "µs",
            native,
        ));
        section.row(Row::new(
            format!("fresh ÷ native ({ctx_label})"),
            "×",
            fresh_x,
        ));
        section.row(Row::new(
            format!("reused ÷ native ({ctx_label})"),
            "×",
            reuse_x,
        ));
    }
    section.note("per-call times include the registry's work around the call: lookup, breaker, deadline, request conversion, output checks, stats");
    drop(plugins);
    Ok(section)
}
