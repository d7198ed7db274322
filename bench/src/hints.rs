//! `hintd-bench hints`: Chat2Desk hints requests (`ai_hints_requested`) through the real
//! endpoint with the shipped plugins and a 20-message context per dialog, against the bare
//! baseline handler (same request JSON, fixed reply) in the same run. Then latency at half of
//! hintd's maximum rate, and the host's overhead beyond plugin time when the server reports
//! the plugins' share (`Server-Timing: plugins;dur=…`).

use super::client::LoadClient;
use super::fixtures::plugin_dir;
use super::ingest::message_job;
use super::load::{Job, LoadResult, Outcome, Stop, closed_loop, open_loop, server_timing_plugins};
use super::report::{Goal, Row, Section};
use super::scratch::ScratchDir;
use super::server::{
    Urls, config, new_account, post_chat2desk, serve_local, start_replicas, stop_all,
};
use super::{Ctx, baseline, payloads};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Messages of context per dialog (odd, so the last one is the client's question).
const CONTEXT: u64 = 21;
/// First message id of the seeded conversations.
const ID_BASE: u64 = 3_000_000_000;

/// Counts of what the hintd answers contained, to show the plugins really answered.
#[derive(Default)]
struct AnswerTally {
    answers: AtomicU64,
    hints: AtomicU64,
}

/// A job sending hints request `seq` (dialog `seq % dialogs + 1`, about its latest client
/// message, a fresh `request_id` so no answer comes from the idempotency cache) to one of
/// `urls`.
fn hints_job(client: LoadClient, urls: Urls, dialogs: u64, tally: Option<Arc<AnswerTally>>) -> Job {
    Arc::new(move |seq| {
        let (client, urls, tally) = (client.clone(), urls.clone(), tally.clone());
        Box::pin(async move {
            let dialog = seq % dialogs + 1;
            let message_id =
                payloads::conversation_message_id(dialogs, ID_BASE, dialog, CONTEXT - 1);
            let body = payloads::hints_request(
                dialog,
                payloads::client_of(dialog),
                7_000_000_000 + seq,
                message_id,
            );
            let reply = post_chat2desk(&client, urls.pick(seq), body).await?;
            if reply.header("x-hintd-replayed").is_some() {
                return Err(
                    "answer replayed from the idempotency cache: request ids must not repeat"
                        .into(),
                );
            }
            let plugin_time = server_timing_plugins(reply.header("server-timing"));
            let answer: serde_json::Value = serde_json::from_slice(&reply.body)
                .map_err(|e| format!("answer is not JSON: {e}"))?;
            let hints = answer
                .get("hints")
                .and_then(|h| h.as_array())
                .ok_or("answer has no `hints` array")?;
            if let Some(t) = &tally {
                t.answers.fetch_add(1, Ordering::Relaxed);
                t.hints.fetch_add(hints.len() as u64, Ordering::Relaxed);
            }
            Ok(Outcome { plugin_time })
        })
    })
}

fn error_note(section: &mut Section, what: &str, r: &LoadResult) {
    if r.errors > 0 {
        section.note(format!(
            "{what}: {} requests failed, first: {}",
            r.errors,
            r.first_error.as_deref().unwrap_or("?")
        ));
    }
}

/// Runs the hints benchmark.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let p = &ctx.progress;
    p.add_steps(ctx.repeats as u64 * 2 + 3);
    let dialogs: u64 = if ctx.smoke { 5 } else { 200 };
    let mut section = Section::new(
        "hints",
        format!(
            "ai_hints_requested via POST /webhooks/chat2desk, plugins faq+replies+llm (mock endpoint), {} context messages, {dialogs} dialogs, {} connections, {} replica(s)",
            CONTEXT - 1,
            ctx.concurrency,
            ctx.replicas
        ),
    );
    p.step("hints: preparing plugins");
    let plugins = plugin_dir(ctx.plugins.as_deref()).await?;
    let scratch = ScratchDir::new("hints")?;
    let account = new_account();
    let replicas = start_replicas(
        ctx.replicas,
        config(
            &ctx.store_url(&scratch),
            Some(&plugins.shipped),
            &account,
            "",
        )?,
        &account,
    )
    .await?;
    let urls = Urls::ingest(&replicas);
    let base = serve_local(baseline::router()).await?;
    let client = LoadClient::default();
    p.done_one();

    // Context: every dialog gets its conversation, which `replies` also learns from.
    p.step("hints: seeding dialogs");
    let seed = closed_loop(
        ctx.concurrency,
        Stop::Count(dialogs * CONTEXT),
        0,
        message_job(client.clone(), urls.clone(), dialogs, ID_BASE),
    )
    .await;
    anyhow::ensure!(
        seed.errors == 0,
        "seeding the context: {} failed, first: {}",
        seed.errors,
        seed.first_error.unwrap_or_default()
    );
    // Plugins observe events off the request path; give the queue time to drain.
    tokio::time::sleep(Duration::from_millis(if ctx.smoke { 200 } else { 2_000 })).await;

    let tally = Arc::new(AnswerTally::default());
    let hintd_job = hints_job(client.clone(), urls, dialogs, Some(tally.clone()));
    let base_job = hints_job(
        client.clone(),
        base.url(&format!("/webhooks/chat2desk/{account}?token=x"))
            .into(),
        dialogs,
        None,
    );
    let warm = ctx.duration.min(Duration::from_secs(2));
    let w = closed_loop(ctx.concurrency, Stop::After(warm), 0, hintd_job.clone()).await;
    anyhow::ensure!(
        w.completed > 0,
        "no hints answer: {}",
        w.first_error.unwrap_or_default()
    );
    closed_loop(ctx.concurrency, Stop::After(warm), 0, base_job.clone()).await;
    p.done_one();

    // Every request carries a new request id: warm-ups used the first ones.
    let mut next = 1_000_000_000;
    let mut rows: [Vec<f64>; 9] = Default::default();
    let [h_rate, b_rate, ratio, h50, h99, h999, b50, b99, b999] = &mut rows;
    for i in 0..ctx.repeats {
        p.step(format!("hints: baseline, repeat {}/{}", i + 1, ctx.repeats));
        let b = closed_loop(
            ctx.concurrency,
            Stop::After(ctx.duration),
            next,
            base_job.clone(),
        )
        .await;
        next += b.completed + b.errors;
        error_note(&mut section, "baseline", &b);
        p.done_one();
        p.step(format!("hints: hintd, repeat {}/{}", i + 1, ctx.repeats));
        let h = closed_loop(
            ctx.concurrency,
            Stop::After(ctx.duration),
            next,
            hintd_job.clone(),
        )
        .await;
        next += h.completed + h.errors;
        error_note(&mut section, "hintd", &h);
        p.done_one();
        h_rate.push(h.rate());
        b_rate.push(b.rate());
        ratio.push(if b.rate() > 0.0 {
            h.rate() / b.rate()
        } else {
            f64::NAN
        });
        for (v, r, q) in [
            (&mut *h50, &h, 0.5),
            (&mut *h99, &h, 0.99),
            (&mut *h999, &h, 0.999),
            (&mut *b50, &b, 0.5),
            (&mut *b99, &b, 0.99),
            (&mut *b999, &b, 0.999),
        ] {
            v.push(r.latencies.quantile_ms(q));
        }
    }
    let [h_rate, b_rate, ratio, h50, h99, h999, b50, b99, b999] = rows;
    let max_rate = super::stats::Spread::of(&h_rate)
        .map(|s| s.median)
        .unwrap_or(0.0);
    section.row(
        Row::new("ratio hintd ÷ baseline (same repeat)", "×", ratio).target(Goal::AtLeast, 0.5),
    );
    section.row(Row::new("hintd", "req/s", h_rate));
    section.row(Row::new("baseline", "req/s", b_rate));
    section.row(Row::new("hintd p50", "ms", h50));
    section.row(Row::new("hintd p99", "ms", h99));
    section.row(Row::new("hintd p999", "ms", h999));
    section.row(Row::new("baseline p50", "ms", b50));
    section.row(Row::new("baseline p99", "ms", b99));
    section.row(Row::new("baseline p999", "ms", b999));

    // Half of the maximum rate, open loop: latency as a platform sees it under normal load.
    let half = (max_rate / 2.0).max(1.0);
    let (mut l50, mut l99, mut o50, mut o99) = (vec![], vec![], vec![], vec![]);
    for i in 0..ctx.repeats {
        p.step(format!(
            "hints: {half:.0} req/s (half load), repeat {}/{}",
            i + 1,
            ctx.repeats
        ));
        let r = open_loop(
            half,
            ctx.duration,
            ctx.concurrency * 4,
            next,
            hintd_job.clone(),
        )
        .await;
        next += r.completed + r.errors;
        error_note(&mut section, "half load", &r);
        l50.push(r.latencies.quantile_ms(0.5));
        l99.push(r.latencies.quantile_ms(0.99));
        if !r.overheads.is_empty() {
            o50.push(r.overheads.quantile_ms(0.5));
            o99.push(r.overheads.quantile_ms(0.99));
        }
        p.done_one();
    }
    section.row(Row::new(
        format!("hintd p50 at half load ({half:.0} req/s)"),
        "ms",
        l50,
    ));
    section.row(Row::new(
        format!("hintd p99 at half load ({half:.0} req/s)"),
        "ms",
        l99,
    ));
    if o99.is_empty() {
        section.note("host overhead beyond plugin time: the server reported no `Server-Timing: plugins` figure");
    } else {
        section.row(Row::new(
            "host overhead beyond plugin time p50, half load",
            "ms",
            o50,
        ));
        section.row(
            Row::new("host overhead beyond plugin time p99, half load", "ms", o99)
                .target(Goal::AtMost, 1.0),
        );
        section.note("overhead = latency seen by the client − the plugins' time the server reports per request");
    }
    let answers = tally.answers.load(Ordering::Relaxed).max(1);
    section.note(format!(
        "hintd answers carried {:.2} hints on average",
        tally.hints.load(Ordering::Relaxed) as f64 / answers as f64
    ));
    stop_all(replicas).await;
    drop(plugins);
    Ok(section)
}
