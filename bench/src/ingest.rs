//! `hintd-bench ingest`: Chat2Desk message webhooks (`inbox`/`outbox`) over many dialogs
//! through the real endpoint, each one stored and applied to its dialog's context before the
//! 2xx; then the memory of N active dialogs × 20 messages.

use super::client::LoadClient;
use super::load::{Job, LoadResult, Outcome, Stop, closed_loop};
use super::report::{Goal, Row, Section};
use super::rss::{mib, resident_bytes};
use super::scratch::ScratchDir;
use super::server::{Hintd, Urls, config, new_account, post_chat2desk};
use super::{Ctx, payloads};
use std::sync::Arc;
use std::time::Duration;

/// Dialogs the throughput figure spreads its events over.
const THROUGHPUT_DIALOGS: u64 = 10_000;
/// Messages per dialog in the memory figure.
const MESSAGES_PER_DIALOG: u64 = 20;

/// A job posting message `seq` of a conversation load (see
/// [`payloads::conversation_message`]).
pub fn message_job(client: LoadClient, urls: Urls, dialogs: u64, id_base: u64) -> Job {
    Arc::new(move |seq| {
        let (client, urls) = (client.clone(), urls.clone());
        Box::pin(async move {
            let body = payloads::conversation_message(dialogs, id_base, seq);
            post_chat2desk(&client, urls.pick(seq), body).await?;
            Ok(Outcome::default())
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

/// Runs the ingest benchmark.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let p = &ctx.progress;
    p.add_steps(ctx.repeats as u64 + 2);
    let mut section = Section::new(
        "ingest",
        format!(
            "POST /webhooks/chat2desk inbox/outbox over {THROUGHPUT_DIALOGS} dialogs, {} connections; memory after {} dialogs × {MESSAGES_PER_DIALOG} messages",
            ctx.concurrency, ctx.dialogs
        ),
    );
    let client = LoadClient::default();

    // Memory first, in a process nothing else has grown yet: a fresh server filled with
    // N dialogs × 20 messages.
    p.step(format!(
        "ingest: filling {} dialogs × {MESSAGES_PER_DIALOG}",
        ctx.dialogs
    ));
    let scratch = ScratchDir::new("ingest-rss")?;
    let account = new_account();
    let hintd = Hintd::start(
        config(&ctx.store_url(&scratch), None, &account, "")?,
        &account,
    )
    .await?;
    let before = resident_bytes();
    let dialogs = ctx.dialogs as u64;
    let job = message_job(
        client.clone(),
        hintd.ingest_url().into(),
        dialogs,
        2_000_000_000,
    );
    let fill = closed_loop(
        ctx.concurrency,
        Stop::Count(dialogs * MESSAGES_PER_DIALOG),
        0,
        job,
    )
    .await;
    error_note(&mut section, "memory fill", &fill);
    // Let background work (observe queue, caches) settle before reading RSS.
    tokio::time::sleep(Duration::from_millis(if ctx.smoke { 50 } else { 1_000 })).await;
    let after = resident_bytes();
    p.done_one();
    section.row(Row::new(
        format!("sustained rate while filling ({} events)", fill.completed),
        "events/s",
        vec![fill.rate()],
    ));
    match (before, after) {
        (Some(b), Some(a)) => {
            let per_dialog = a.saturating_sub(b) as f64 / ctx.dialogs as f64;
            let mut rss = Row::new(
                format!(
                    "process RSS after {} dialogs × {MESSAGES_PER_DIALOG}",
                    ctx.dialogs
                ),
                "MiB",
                vec![mib(a)],
            );
            if ctx.dialogs == 100_000 {
                rss = rss.target(Goal::AtMost, 512.0);
            }
            section.row(rss);
            section.row(Row::new(
                "RSS growth per dialog",
                "KiB",
                vec![per_dialog / 1024.0],
            ));
            if ctx.dialogs != 100_000 {
                // Fewer dialogs than the target's: judge the projection, not the raw figure
                // (the process's fixed footprint would dominate it).
                let projected = mib(b) + per_dialog * 100_000.0 / (1024.0 * 1024.0);
                section.row(
                    Row::new(
                        "projected RSS for 100 000 dialogs × 20",
                        "MiB",
                        vec![projected],
                    )
                    .target(Goal::AtMost, 512.0),
                );
            }
        }
        _ => {
            section.note("RSS not available on this platform (/proc/self/status)");
        }
    }
    drop(hintd);
    drop(scratch);
    let memory_rows = section.rows.len();

    // Throughput: one server, repeats continue with fresh message ids.
    let scratch = ScratchDir::new("ingest")?;
    let account = new_account();
    let hintd = Hintd::start(
        config(&ctx.store_url(&scratch), None, &account, "")?,
        &account,
    )
    .await?;
    let job = message_job(
        client.clone(),
        hintd.ingest_url().into(),
        THROUGHPUT_DIALOGS,
        1_000_000_000,
    );
    p.step("ingest: warm-up");
    let warm = closed_loop(
        ctx.concurrency,
        Stop::After(ctx.duration.min(Duration::from_secs(2))),
        0,
        job.clone(),
    )
    .await;
    anyhow::ensure!(
        warm.completed > 0,
        "no event accepted: {}",
        warm.first_error.unwrap_or_default()
    );
    p.done_one();
    let mut next = warm.completed + warm.errors + 1_000;
    let (mut rates, mut p50, mut p99, mut p999) = (vec![], vec![], vec![], vec![]);
    for i in 0..ctx.repeats {
        p.step(format!(
            "ingest: events/s, repeat {}/{}",
            i + 1,
            ctx.repeats
        ));
        let r = closed_loop(
            ctx.concurrency,
            Stop::After(ctx.duration),
            next,
            job.clone(),
        )
        .await;
        next += r.completed + r.errors + 1_000;
        error_note(&mut section, "throughput", &r);
        rates.push(r.rate());
        p50.push(r.latencies.quantile_ms(0.5));
        p99.push(r.latencies.quantile_ms(0.99));
        p999.push(r.latencies.quantile_ms(0.999));
        p.done_one();
    }
    drop(hintd);
    drop(scratch);
    section.row(Row::new("events accepted", "events/s", rates).target(Goal::AtLeast, 20_000.0));
    section.row(Row::new("latency p50", "ms", p50));
    section.row(Row::new("latency p99", "ms", p99));
    section.row(Row::new("latency p999", "ms", p999));
    // Throughput first in the table, as in every other section.
    section.rows.rotate_left(memory_rows);

    section.note(
        "RSS is the whole process: server, store connections and the in-process load generator",
    );
    Ok(section)
}
