//! Chaos tests: the real hintd on SQLite under continuous load — platform messages ingested,
//! hints requested (Chat2Desk `ai_hints_requested` and `POST /api/v1/hints`), every event
//! delivered to a loopback webhook receiver — killed with SIGKILL at a random moment and
//! started again on the same data, over and over. After each restart nothing hintd
//! acknowledged may be missing:
//!
//! - every event answered `200 {"status":"accepted","seq":N}` is stored (its message is in
//!   `GET /api/v1/conversations/...`) and delivered to the receiver (at least once);
//! - every hint answer served (a `200` reply with hints) is stored: the operator's choice of
//!   it still routes (`POST /api/v1/hints/choice`), its `hints.generated` event is delivered,
//!   and `/api/v1/hints/stats` counts it;
//! - every message of the outbox ends delivered, and the receiver saw its `webhook-id`.
//!
//! `HINTD_CHAOS_ITERATIONS` sets the number of kill/restart cycles (default 3);
//! `HINTD_CHAOS_SEED` replays the random kill times of an earlier run (the seed is printed).
//! The second test is the graceful case: SIGTERM right after a burst of hint requests.

use hintd_tests::plugins::install_shipped;
use hintd_tests::receiver::Receiver;
use hintd_tests::server::{ADMIN_KEY, SEAL_KEY, Server, ServerSpec, client, eventually};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "chaos-token";
/// Kill/restart cycles when `HINTD_CHAOS_ITERATIONS` is not set: small enough for CI.
const DEFAULT_ITERATIONS: u32 = 3;
/// Tasks posting platform messages, and tasks asking for hints, at once.
const INGEST_TASKS: u64 = 3;
const HINT_TASKS: u64 = 2;
/// Messages per dialog of the ingest tasks: well inside the context window (50), so every
/// message stays visible in `GET /api/v1/conversations/...`.
const MESSAGES_PER_DIALOG: u64 = 10;
/// How long, at most, the restarted server may take to deliver what it owes. Generous: the
/// messages leased by the killed process are taken over only when their lease (2 s) ends.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(90);
/// Questions the shipped `faq` plugin answers, so every hint answer carries hints.
const QUESTIONS: [&str; 4] = [
    "How long does delivery take to my city?",
    "Which payment methods do you accept?",
    "How do I return a product?",
    "How can I cancel my order?",
];

fn config() -> String {
    format!(
        "[sources.chat2desk]\ntoken = \"{TOKEN}\"\ndelivery = \"inline\"\n\n\
         [dispatch]\nsecret_key = \"{SEAL_KEY}\"\npoll_interval = \"50ms\"\nrequest_timeout = \"1s\"\n\
         lease = \"2s\"\nallowed_cidrs = [\"127.0.0.0/8\"]\n"
    )
}

/// The shipped `faq` and `replies` plugins, installed under `root`.
fn plugins(root: &Path) -> PathBuf {
    let dir = root.join("plugins");
    install_shipped(&dir, "faq", "");
    install_shipped(&dir, "replies", "");
    dir
}

/// Always SQLite: the kill -9 guarantees under test are those of the single-process store.
fn start(dir: &Path) -> Server {
    let spec = ServerSpec::new(config())
        .plugins(plugins(dir))
        .data(format!("sqlite://{}", dir.join("hintd.db").display()));
    tokio::task::block_in_place(|| Server::start(dir, spec))
}

/// A small xorshift generator: the kill times are random, and reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn from_env() -> Rng {
        let seed = std::env::var("HINTD_CHAOS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("chaos: HINTD_CHAOS_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn iterations() -> u32 {
    std::env::var("HINTD_CHAOS_ITERATIONS")
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("HINTD_CHAOS_ITERATIONS={v} is not a number"))
        })
        .unwrap_or(DEFAULT_ITERATIONS)
}

/// An event hintd acknowledged as stored.
#[derive(Debug, Clone)]
struct AckedEvent {
    seq: i64,
    dialog: u64,
    message_id: u64,
}

/// A hint answer hintd served.
#[derive(Debug, Clone)]
struct ServedAnswer {
    dialog: u64,
    message_id: u64,
    hints: usize,
    via: &'static str,
}

/// Everything acknowledged so far, across all iterations.
#[derive(Default, Clone)]
struct Ledger {
    events: Vec<AckedEvent>,
    answers: Vec<ServedAnswer>,
    /// Answers whose choice was checked (by message id).
    chosen: HashSet<u64>,
}

/// Ids unique for the whole test process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Now, as Chat2Desk writes event times.
fn event_time() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn message_body(hook: &str, message_id: u64, dialog: u64, text: &str) -> Value {
    let (kind, operator) = if hook == "inbox" {
        ("from_client", json!(""))
    } else {
        ("to_client", json!(41164))
    };
    json!({
        "message_id": message_id, "type": kind, "text": text, "transport": "telegram",
        "client_id": dialog + 1_000_000, "operator_id": operator, "dialog_id": dialog,
        "channel_id": 17, "hook_type": hook, "request_id": dialog + 2_000_000, "attachments": [],
        "is_new_request": "", "event_time": event_time(),
    })
}

/// Posts a Chat2Desk webhook; `Some(seq)` when hintd acknowledged it as stored.
async fn ingest(http: &reqwest::Client, base: &str, body: &Value) -> Option<i64> {
    let r = http
        .post(format!("{base}/webhooks/chat2desk?token={TOKEN}"))
        .json(body)
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    if v["status"] != "accepted" {
        return None;
    }
    v["seq"].as_i64()
}

/// Posts platform messages (client and operator alternating), recording each acknowledged one.
async fn ingest_load(task: u64, base: String, stop: Arc<AtomicBool>, ledger: Arc<Mutex<Ledger>>) {
    let http = client();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let dialog = 100_000 * (task + 1) + next_id() / MESSAGES_PER_DIALOG;
        let message_id = next_id();
        let hook = if n.is_multiple_of(2) {
            "inbox"
        } else {
            "outbox"
        };
        let body = message_body(hook, message_id, dialog, QUESTIONS[(n % 4) as usize]);
        n += 1;
        match ingest(&http, &base, &body).await {
            Some(seq) => ledger.lock().unwrap().events.push(AckedEvent {
                seq,
                dialog,
                message_id,
            }),
            None => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// In a new dialog: a client question (ingested, acknowledged), then hints for it, asked
/// through Chat2Desk's `ai_hints_requested` or the generic API in turn.
async fn hint_load(task: u64, base: String, stop: Arc<AtomicBool>, ledger: Arc<Mutex<Ledger>>) {
    let http = client();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let dialog = 900_000_000 + next_id();
        let message_id = next_id();
        let question = QUESTIONS[((n + task) % 4) as usize];
        n += 1;
        let Some(seq) = ingest(
            &http,
            &base,
            &message_body("inbox", message_id, dialog, question),
        )
        .await
        else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        ledger.lock().unwrap().events.push(AckedEvent {
            seq,
            dialog,
            message_id,
        });
        let request_id = next_id();
        let (via, request) = if n.is_multiple_of(2) {
            let body = json!({
                "client_id": dialog + 1_000_000, "operator_id": 1, "dialog_id": dialog,
                "request_id": request_id, "channel_id": 17, "message_id": message_id,
                "hook_type": "ai_hints_requested", "event_time": event_time(),
            });
            (
                "chat2desk",
                http.post(format!("{base}/webhooks/chat2desk?token={TOKEN}"))
                    .json(&body),
            )
        } else {
            let body = json!({
                "source": "chat2desk", "dialog_id": dialog.to_string(),
                "message_id": message_id.to_string(), "request_id": request_id.to_string(),
            });
            (
                "api",
                http.post(format!("{base}/api/v1/hints"))
                    .bearer_auth(ADMIN_KEY)
                    .json(&body),
            )
        };
        let Ok(r) = request.send().await else {
            continue;
        };
        if r.status() != 200 {
            continue;
        }
        let Ok(reply) = r.json::<Value>().await else {
            continue;
        };
        let hints = reply["hints"].as_array().map_or(0, Vec::len);
        ledger.lock().unwrap().answers.push(ServedAnswer {
            dialog,
            message_id,
            hints,
            via,
        });
    }
}

/// Runs the load against `server` for `for_how_long`, then kills it with SIGKILL while the
/// load is still running.
async fn load_then_kill9(server: &mut Server, ledger: &Arc<Mutex<Ledger>>, for_how_long: Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..INGEST_TASKS {
        tasks.spawn(ingest_load(
            t,
            server.base.clone(),
            stop.clone(),
            ledger.clone(),
        ));
    }
    for t in 0..HINT_TASKS {
        tasks.spawn(hint_load(
            t,
            server.base.clone(),
            stop.clone(),
            ledger.clone(),
        ));
    }
    tokio::time::sleep(for_how_long).await;
    tokio::task::block_in_place(|| server.kill9());
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
}

async fn admin_get(server: &Server, path: &str) -> (u16, Value) {
    let r = client()
        .get(server.url(path))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Acknowledged events whose message is not in its stored conversation.
async fn missing_events(server: &Server, events: &[AckedEvent]) -> Vec<String> {
    let mut by_dialog: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for e in events {
        by_dialog.entry(e.dialog).or_default().push(e.message_id);
    }
    let mut missing = Vec::new();
    for (dialog, ids) in by_dialog {
        let (status, conv) = admin_get(
            server,
            &format!("/api/v1/conversations/chat2desk/default/{dialog}"),
        )
        .await;
        let stored: HashSet<String> = conv["messages"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for id in ids {
            if !stored.contains(&id.to_string()) {
                missing.push(format!(
                    "event: message {id} of dialog {dialog} (conversation answered {status})"
                ));
            }
        }
    }
    missing
}

/// Chooses hint 1 of each served answer not chosen yet; the answers whose choice does not route.
async fn unroutable_answers(server: &Server, answers: &[ServedAnswer]) -> Vec<String> {
    let mut lost = Vec::new();
    for a in answers {
        let r = client()
            .post(server.url("/api/v1/hints/choice"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"source": "chat2desk", "message_id": a.message_id.to_string(), "hint_id": 1}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status != 200 || body["plugin"].as_str().is_none_or(str::is_empty) {
            lost.push(format!(
                "answer: message {} of dialog {} (served via {}): choice answered {status} {body}",
                a.message_id, a.dialog, a.via
            ));
        }
    }
    lost
}

/// What the receiver has been sent: event positions, the message ids of `hints.generated`,
/// and every `webhook-id`.
fn received(receiver: &Receiver) -> (HashSet<i64>, HashSet<String>, HashSet<String>) {
    let mut seqs = HashSet::new();
    let mut generated = HashSet::new();
    let mut ids = HashSet::new();
    for r in receiver.requests() {
        let v = r.json();
        if let Some(seq) = v["event_seq"].as_i64() {
            seqs.insert(seq);
        }
        if v["type"] == "hints.generated"
            && let Some(m) = v["data"]["message_id"].as_str()
        {
            generated.insert(m.to_string());
        }
        if let Some(id) = r.header("webhook-id") {
            ids.insert(id.to_string());
        }
    }
    (seqs, generated, ids)
}

/// Waits until the receiver has every acknowledged event and every served answer's
/// `hints.generated`; what is still missing after [`DELIVERY_TIMEOUT`].
async fn undelivered(receiver: &Receiver, ledger: &Ledger) -> Vec<String> {
    let missing = || {
        let (seqs, generated, _) = received(receiver);
        let mut missing: Vec<String> = ledger
            .events
            .iter()
            .filter(|e| !seqs.contains(&e.seq))
            .map(|e| format!("delivery: event {} (message {})", e.seq, e.message_id))
            .collect();
        missing.extend(
            ledger
                .answers
                .iter()
                .filter(|a| !generated.contains(&a.message_id.to_string()))
                .map(|a| format!("delivery: hints.generated of message {}", a.message_id)),
        );
        missing
    };
    let end = Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let now_missing = missing();
        if now_missing.is_empty() || Instant::now() >= end {
            return now_missing;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every row of the outbox: (webhook-id, status).
async fn outbox(data_url: &str) -> Vec<(String, String)> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(data_url).await.unwrap();
    let rows = sqlx::query("SELECT id, status FROM webhook_messages")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get::<String, _>("id"), r.get::<String, _>("status")))
        .collect()
}

/// Outbox messages not delivered, or delivered without the receiver having seen them, once the
/// outbox has settled (or [`DELIVERY_TIMEOUT`] passed).
async fn outbox_losses(server: &Server, receiver: &Receiver) -> (usize, Vec<String>) {
    let settled = eventually(DELIVERY_TIMEOUT, || async {
        let rows = outbox(server.data_url()).await;
        rows.iter()
            .all(|(_, status)| status == "delivered")
            .then_some(rows)
    })
    .await;
    let rows = match settled {
        Some(rows) => rows,
        None => outbox(server.data_url()).await,
    };
    let (_, _, ids) = received(receiver);
    let lost = rows
        .iter()
        .filter(|(id, status)| status != "delivered" || !ids.contains(id))
        .map(|(id, status)| format!("outbox: {id} is {status}, received: {}", ids.contains(id)))
        .collect();
    (rows.len(), lost)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill9_under_load_loses_nothing_acknowledged() {
    let started = Instant::now();
    let iterations = iterations();
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let mut server = start(tmp.path());
    let r = client()
        .post(server.url("/api/v1/webhooks"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "everything", "url": receiver.url("/events"), "events": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for iteration in 1..=iterations {
        let run_for = Duration::from_millis(300 + rng.below(1200));
        load_then_kill9(&mut server, &ledger, run_for).await;
        tokio::task::block_in_place(|| server.restart());

        // The load has stopped: the ledger holds everything acknowledged so far.
        let acked = ledger.lock().unwrap().clone();
        let unchosen: Vec<ServedAnswer> = acked
            .answers
            .iter()
            .filter(|a| a.hints > 0 && !acked.chosen.contains(&a.message_id))
            .cloned()
            .collect();
        let mut lost = missing_events(&server, &acked.events).await;
        lost.extend(unroutable_answers(&server, &unchosen).await);
        ledger
            .lock()
            .unwrap()
            .chosen
            .extend(unchosen.iter().map(|a| a.message_id));
        lost.extend(undelivered(&receiver, &acked).await);
        eprintln!(
            "chaos: iteration {iteration}/{iterations}: killed after {run_for:?}; {} events and {} answers acknowledged so far ({} new answers chosen); lost {}",
            acked.events.len(),
            acked.answers.len(),
            unchosen.len(),
            lost.len()
        );
        assert!(
            lost.is_empty(),
            "iteration {iteration}: {} acknowledged items lost after kill -9 and restart:\n{}",
            lost.len(),
            lost.join("\n")
        );
    }

    // Nothing of the earlier iterations went missing later: statistics count every answer and
    // choice, and the whole outbox is delivered.
    let acked = ledger.lock().unwrap().clone();
    let (status, stats) = admin_get(&server, "/api/v1/hints/stats").await;
    assert_eq!(status, 200, "{stats}");
    let with_hints = acked.answers.iter().filter(|a| a.hints > 0).count() as i64;
    assert!(
        stats["answers_shown"].as_i64().unwrap() >= with_hints,
        "{with_hints} answers with hints served: {stats}"
    );
    assert_eq!(
        stats["answers_chosen"].as_i64().unwrap(),
        acked.chosen.len() as i64,
        "every choice is still counted: {stats}"
    );
    let (messages, lost) = outbox_losses(&server, &receiver).await;
    assert!(
        lost.is_empty(),
        "{} of {messages} outbox messages not delivered:\n{}",
        lost.len(),
        lost.join("\n")
    );
    assert!(
        messages >= acked.events.len(),
        "one outbox message per event at least"
    );
    eprintln!(
        "chaos: {iterations} kill -9 cycles in {:?}: {} acknowledged events, {} served answers ({} with hints, choices checked), {} outbox messages, {} deliveries received; nothing lost",
        started.elapsed(),
        acked.events.len(),
        acked.answers.len(),
        with_hints,
        messages,
        receiver.requests().len(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_right_after_a_burst_of_hint_requests_keeps_every_answer() {
    const BURST: u64 = 64;
    let tmp = tempfile::tempdir().unwrap();
    let mut server = start(tmp.path());
    let http = client();
    let mut dialogs = Vec::new();
    for i in 0..BURST {
        let (dialog, message_id) = (800_000_000 + next_id(), next_id());
        let body = message_body("inbox", message_id, dialog, QUESTIONS[(i % 4) as usize]);
        assert!(ingest(&http, &server.base, &body).await.is_some());
        dialogs.push((dialog, message_id));
    }

    // The burst; SIGTERM as soon as the first replies are back, while the rest are answered
    // during the graceful shutdown.
    let mut burst = tokio::task::JoinSet::new();
    for (i, &(dialog, message_id)) in dialogs.iter().enumerate() {
        let (http, base) = (http.clone(), server.base.clone());
        burst.spawn(async move {
            let r = http
                .post(format!("{base}/api/v1/hints"))
                .bearer_auth(ADMIN_KEY)
                .json(&json!({"source": "chat2desk", "dialog_id": dialog.to_string(),
                              "message_id": message_id.to_string(), "request_id": format!("burst-{i}")}))
                .send()
                .await
                .ok()?;
            let v: Value = r.json().await.ok()?;
            (!v["hints"].as_array()?.is_empty()).then_some((dialog, message_id))
        });
    }
    let mut answered = Vec::new();
    while answered.len() < (BURST / 4) as usize {
        match burst.join_next().await {
            Some(result) => answered.extend(result.unwrap()),
            None => break,
        }
    }
    let exited_cleanly = tokio::task::block_in_place(|| server.terminate(Duration::from_secs(30)));
    while let Some(result) = burst.join_next().await {
        answered.extend(result.unwrap());
    }
    assert!(exited_cleanly, "hintd exits with status 0 on SIGTERM");
    assert!(
        answered.len() >= (BURST / 4) as usize,
        "{} answers",
        answered.len()
    );

    tokio::task::block_in_place(|| server.restart());
    let answers: Vec<ServedAnswer> = answered
        .iter()
        .map(|&(dialog, message_id)| ServedAnswer {
            dialog,
            message_id,
            hints: 1,
            via: "api",
        })
        .collect();
    let lost = unroutable_answers(&server, &answers).await;
    assert!(
        lost.is_empty(),
        "{} of {} answered requests lost by SIGTERM:\n{}",
        lost.len(),
        answers.len(),
        lost.join("\n")
    );
    let (_, stats) = admin_get(&server, "/api/v1/hints/stats").await;
    assert_eq!(
        stats["answers_chosen"].as_i64().unwrap(),
        answers.len() as i64,
        "{stats}"
    );
}
