//! `hintd-bench dispatch`: webhook deliveries from the durable outbox to a loopback receiver
//! (an axum handler in this process answering 204), and the latency from posting an event to
//! hintd to its delivery.
//!
//! Throughput is measured on a backlog: events are accepted by a server whose delivery workers
//! are off, that server is stopped, and a second one on the same store drains the outbox —
//! fan-out, claim, sign, POST, record — with nothing else competing for the CPU. Latency is
//! measured separately at a steady, moderate rate with workers on.

use super::client::LoadClient;
use super::load::{Job, Outcome, Stop, closed_loop, open_loop};
use super::receiver::{self, Deliveries};
use super::report::{Goal, Row, Section};
use super::scratch::ScratchDir;
use super::server::{
    ADMIN_KEY, Hintd, Local, Urls, config, new_account, post_chat2desk, serve_local,
    start_replicas, stop_all,
};
use super::{Ctx, payloads};
use anyhow::Context as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The `[dispatch]` settings of the benchmark servers: the receiver is on loopback, and every
/// replica seals signing secrets with the same key (required on PostgreSQL).
fn dispatch_toml(enabled: bool) -> String {
    format!(
        "[dispatch]\nenabled = {enabled}\nallowed_cidrs = [\"127.0.0.0/8\"]\nsecret_key = \"{BENCH_SECRET_KEY}\"\n"
    )
}

/// The benchmark's sealing key (32 bytes, hex): benchmark stores hold nothing worth hiding.
const BENCH_SECRET_KEY: &str = "68696e74642062656e63683a206e6f74206120736563726574206b6579212121";

/// Subscribes the receiver to Chat2Desk `inbox` events of the benchmark's account.
async fn subscribe(hintd: &Hintd, receiver: &Local) -> anyhow::Result<()> {
    let resp = reqwest::Client::new()
        .post(hintd.url("/api/v1/webhooks"))
        .bearer_auth(ADMIN_KEY)
        .json(&serde_json::json!({"name": "bench", "url": receiver.url("/hook"), "events": ["inbox"], "account": hintd.account}))
        .send()
        .await
        .context("creating the webhook")?;
    let status = resp.status();
    anyhow::ensure!(
        status.is_success(),
        "creating the webhook: HTTP {status}: {}",
        resp.text().await.unwrap_or_default()
    );
    Ok(())
}

/// A job posting `inbox` event `seq` (message id `id_base + seq`) to one of `urls`, noting
/// when it was sent.
fn inbox_job(
    client: LoadClient,
    urls: Urls,
    id_base: u64,
    deliveries: Option<Arc<Deliveries>>,
) -> Job {
    Arc::new(move |seq| {
        let (client, urls, deliveries) = (client.clone(), urls.clone(), deliveries.clone());
        Box::pin(async move {
            let dialog = seq % 1_000 + 1;
            let message_id = id_base + seq;
            let body = payloads::message(
                dialog,
                100_000 + dialog,
                message_id,
                true,
                payloads::client_text(seq),
            );
            if let Some(d) = &deliveries {
                d.sent_at.insert(message_id.to_string(), Instant::now());
            }
            post_chat2desk(&client, urls.pick(seq), body).await?;
            Ok(Outcome::default())
        })
    })
}

/// Waits until the receiver has seen `n` deliveries or `timeout` passes; returns when the last
/// one needed arrived (None on timeout).
async fn wait_delivered(d: &Deliveries, n: u64, timeout: Duration) -> Option<Instant> {
    let end = Instant::now() + timeout;
    loop {
        if d.delivered.load(Ordering::Relaxed) >= n {
            return Some(Instant::now());
        }
        if Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Runs the dispatch benchmark.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let p = &ctx.progress;
    p.add_steps(ctx.repeats as u64 * 2 + 1);
    let backlog: u64 = if ctx.smoke {
        200
    } else {
        (5_000.0 * ctx.duration.as_secs_f64()).ceil() as u64
    };
    let mut section = Section::new(
        "dispatch",
        format!(
            "backlog of {backlog} inbox events drained from the outbox to a loopback 204 receiver by {} replica(s); latency at a steady rate",
            ctx.replicas
        ),
    );
    let client = LoadClient::default();
    let (router, deliveries) = receiver::router();
    let receiver = serve_local(router).await?;

    let (mut rates, mut fill_rates) = (vec![], vec![]);
    for i in 0..ctx.repeats {
        p.step(format!(
            "dispatch: filling the outbox, repeat {}/{}",
            i + 1,
            ctx.repeats
        ));
        let scratch = ScratchDir::new("dispatch")?;
        let store = ctx.store_url(&scratch);
        let account = new_account();
        let fill = {
            let hintd = Hintd::start(
                config(&store, None, &account, &dispatch_toml(false))?,
                &account,
            )
            .await?;
            subscribe(&hintd, &receiver).await?;
            let job = inbox_job(
                client.clone(),
                hintd.ingest_url().into(),
                (i as u64 + 1) * 1_000_000_000,
                None,
            );
            closed_loop(ctx.concurrency, Stop::Count(backlog), 0, job).await
        };
        anyhow::ensure!(
            fill.errors == 0,
            "filling the outbox: {} failed, first: {}",
            fill.errors,
            fill.first_error.unwrap_or_default()
        );
        fill_rates.push(fill.rate());
        p.done_one();

        p.step(format!(
            "dispatch: draining {backlog}, repeat {}/{}",
            i + 1,
            ctx.repeats
        ));
        let already = deliveries.delivered.load(Ordering::Relaxed);
        let start = Instant::now();
        let replicas = start_replicas(
            ctx.replicas,
            config(&store, None, &account, &dispatch_toml(true))?,
            &account,
        )
        .await?;
        let timeout = Duration::from_secs(30) + Duration::from_secs_f64(backlog as f64 / 200.0);
        let done = wait_delivered(&deliveries, already + backlog, timeout).await;
        let Some(done) = done else {
            let got = deliveries.delivered.load(Ordering::Relaxed) - already;
            anyhow::bail!(
                "only {got} of {backlog} deliveries arrived within {} s",
                timeout.as_secs()
            );
        };
        rates.push(backlog as f64 / (done - start).as_secs_f64());
        stop_all(replicas).await;
        drop(scratch);
        p.done_one();
    }
    section.row(
        Row::new("deliveries from the outbox", "deliveries/s", rates)
            .target(Goal::AtLeast, 5_000.0),
    );
    section.row(Row::new(
        "events accepted while filling (workers off)",
        "events/s",
        fill_rates,
    ));

    // Latency at a steady rate, delivery workers on.
    let rate = if ctx.smoke { 100.0 } else { 1_000.0 };
    p.step(format!("dispatch: latency at {rate} events/s"));
    let scratch = ScratchDir::new("dispatch-latency")?;
    let account = new_account();
    let replicas = start_replicas(
        ctx.replicas,
        config(
            &ctx.store_url(&scratch),
            None,
            &account,
            &dispatch_toml(true),
        )?,
        &account,
    )
    .await?;
    subscribe(&replicas[0], &receiver).await?;
    deliveries.take_latencies();
    let already = deliveries.delivered.load(Ordering::Relaxed);
    let job = inbox_job(
        client.clone(),
        Urls::ingest(&replicas),
        9_000_000_000,
        Some(deliveries.clone()),
    );
    let sent = open_loop(rate, ctx.duration, ctx.concurrency * 4, 0, job).await;
    let _ = wait_delivered(
        &deliveries,
        already + sent.completed,
        Duration::from_secs(30),
    )
    .await;
    let latencies = deliveries.take_latencies();
    p.done_one();
    section.row(Row::new(
        format!("ingest → delivery p50 at {rate} events/s"),
        "ms",
        vec![latencies.quantile_ms(0.5)],
    ));
    section.row(Row::new(
        format!("ingest → delivery p99 at {rate} events/s"),
        "ms",
        vec![latencies.quantile_ms(0.99)],
    ));
    if latencies.len() < sent.completed as usize {
        section.note(format!(
            "{} of {} events sent were delivered in time for the latency figure",
            latencies.len(),
            sent.completed
        ));
    }
    let dups = deliveries.duplicates.load(Ordering::Relaxed);
    section.note(format!(
        "duplicate deliveries (same webhook-id twice): {dups}"
    ));
    stop_all(replicas).await;
    Ok(section)
}
