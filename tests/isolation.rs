//! Hostile plugins cannot take the server with them: guest code runs on threads of its own
//! (spinning plugins leave health checks, ingest and the other plugins answering), each
//! plugin's `observe` has its own queue, a circuit opened by `suggest` failures stays open
//! whatever other functions do, the pool of idle instances stays within its bounds however
//! many accounts call, and plugin log output is bounded and cannot forge host log lines.

use hintd::core::{DialogKey, Source};
use hintd::plugins::{ConversationEvent, DialogRef, Limits, PluginsConfig, Registry};
use hintd_tests::plugins::{install_example, install_hostile};
use hintd_tests::registry::{hint_request, plugins_config, sqlite_store};
use hintd_tests::server::{ADMIN_KEY, Server, ServerSpec, client, eventually};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn closed(account: &str) -> ConversationEvent {
    ConversationEvent::DialogClosed(DialogRef {
        dialog: DialogKey::new(Source::Chatwoot, account, "42"),
        client_id: Some("c".into()),
    })
}

/// Taken by every test here: they measure latency with plugins spinning on every core, so
/// they run one at a time rather than measuring each other.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An SQLite store in `dir`: what is measured here is the plugin runtime's isolation, which
/// does not depend on the store, and a shared PostgreSQL server's commit times would blur it.
fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("hintd.db").display())
}

/// The 99th percentile (nearest rank) of `samples`.
fn p99(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[(samples.len() * 99).div_ceil(100).saturating_sub(1)]
}

const TOKEN: &str = "c2d-token";

async fn inbox(server: &Server, dialog: u64, message_id: u64, text: &str) -> Duration {
    let body = json!({
        "message_id": message_id, "type": "from_client", "text": text, "transport": "telegram",
        "client_id": dialog + 10_000, "operator_id": "", "dialog_id": dialog, "channel_id": 17,
        "hook_type": "inbox", "request_id": dialog + 20_000, "attachments": [],
        "event_time": "2026-03-02T08:00:00Z",
    });
    let started = Instant::now();
    let r = client()
        .post(server.url(&format!("/webhooks/chat2desk?token={TOKEN}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "ingest: {}", r.status());
    started.elapsed()
}

async fn healthz(server: &Server) -> Duration {
    let started = Instant::now();
    let r = client().get(server.url("/healthz")).send().await.unwrap();
    assert!(r.status().is_success());
    started.elapsed()
}

/// More spinning plugins than cores, each called by a stream of hint requests: health checks
/// and ingest keep answering quickly, and the well-behaved plugin's hints still arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spinning_plugins_leave_the_server_and_other_plugins_answering() {
    let _one = ONE_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_example(&plugins, "example", "");
    let spinners = 2 * std::thread::available_parallelism().map_or(2, usize::from) + 2;
    for i in 0..spinners {
        install_hostile(
            &plugins,
            &format!("spin{i}"),
            "loop",
            "timeout_ms = 2000\ncapabilities = [\"config\"]",
            "",
        );
    }
    let server = Server::start(
        tmp.path(),
        ServerSpec::new(format!(
            "[sources.chat2desk]\ntoken = \"{TOKEN}\"\n\n[hints]\nrequest_deadline_ms = 1500\n\n\
             [plugins]\nbreaker_failures = 0\n"
        ))
        .plugins(&plugins)
        .data(sqlite_url(tmp.path())),
    );
    inbox(&server, 1, 1, "where is my order?").await;

    // Hint requests keep every spinner busy for the whole measurement.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..6 {
        let (url, stop) = (server.url("/api/v1/hints"), stop.clone());
        load.push(tokio::spawn(async move {
            let mut answered_by_example = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = client()
                    .post(&url)
                    .bearer_auth(ADMIN_KEY)
                    .json(&json!({"source": "chat2desk", "dialog_id": 1}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let body: Value = r.json().await.unwrap();
                let hints = body["hints"].as_array().unwrap();
                if hints
                    .iter()
                    .any(|h| h["text"].as_str().unwrap().contains("where is my order"))
                {
                    answered_by_example += 1;
                }
            }
            answered_by_example
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut health, mut ingest) = (Vec::new(), Vec::new());
    for i in 0..60 {
        health.push(healthz(&server).await);
        ingest.push(inbox(&server, 2, 100 + i, "hello").await);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answered = 0;
    for task in load {
        answered += task.await.unwrap();
    }
    let (health, ingest) = (p99(&mut health), p99(&mut ingest));
    eprintln!("{spinners} spinning plugins: /healthz p99 {health:?}, ingest p99 {ingest:?}");
    assert!(
        health < Duration::from_millis(100),
        "/healthz p99 {health:?}"
    );
    assert!(ingest < Duration::from_millis(100), "ingest p99 {ingest:?}");
    assert!(answered > 0, "the example plugin never answered");
}

/// A plugin whose `describe` spins does not hold up the server: a hot reload that compiles and
/// describes it leaves `/healthz` fast, and the reload ends when its deadline cuts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spinning_describe_does_not_stall_health_checks() {
    let _one = ONE_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_example(&plugins, "example", "");
    let server = Server::start(
        tmp.path(),
        ServerSpec::new("[plugins]\nhot_reload = true\nreload_debounce_ms = 50\n")
            .plugins(&plugins)
            .data(sqlite_url(tmp.path())),
    );
    for i in 0..4 {
        install_hostile(
            &plugins,
            &format!("describe-spin{i}"),
            "ok",
            "timeout_ms = 3000\ncapabilities = [\"config\"]",
            "describe = \"loop\"",
        );
    }
    let mut health = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        health.push(healthz(&server).await);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let health = p99(&mut health);
    assert!(
        health < Duration::from_millis(100),
        "/healthz p99 {health:?}"
    );
    let warned = eventually(Duration::from_secs(20), || async {
        let r: Value = client()
            .get(server.url("/readyz"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let text = r.to_string();
        (text.matches("describe-spin").count() >= 4).then_some(text)
    })
    .await;
    let warned = warned.expect("the spinning plugins are reported as failed loads");
    assert!(warned.contains("timed out"), "{warned}");
}

/// A plugin spinning in `feedback` until its 30 s deadline delays the operator's choice by
/// `feedback_wait_ms` at most; its call goes on in the background, reported as `pending`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spinning_feedback_does_not_hold_up_the_choice() {
    let _one = ONE_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_hostile(
        &plugins,
        "stubborn",
        "ok",
        "timeout_ms = 30000\ncapabilities = [\"config\"]",
        "feedback = \"loop\"",
    );
    let server = Server::start(
        tmp.path(),
        ServerSpec::new(format!(
            "[sources.chat2desk]\ntoken = \"{TOKEN}\"\n\n[hints]\nfeedback_wait_ms = 300\n"
        ))
        .plugins(&plugins)
        .data(sqlite_url(tmp.path())),
    );
    inbox(&server, 5, 50, "anyone there?").await;
    let answer: Value = client()
        .post(server.url("/api/v1/hints"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"source": "chat2desk", "dialog_id": 5}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["hints"][0]["text"], "still here", "{answer}");
    let started = Instant::now();
    let r = client()
        .post(server.url("/api/v1/hints/choice"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"source": "chat2desk", "message_id": answer["message_id"], "hint_id": 1}))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    let status = r.status();
    let chosen: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{chosen}");
    assert!(took < Duration::from_secs(10), "the choice took {took:?}");
    assert_eq!(
        chosen["feedback"],
        json!([["stubborn", "pending"]]),
        "{chosen}"
    );
    assert!(healthz(&server).await < Duration::from_secs(1));
}

/// hintd listens and answers health checks before its plugins have loaded: `/readyz` names
/// the ones still loading, then turns ready once the first load has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_while_plugins_load() {
    let _one = ONE_AT_A_TIME.lock().await;
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_example(&plugins, "example", "");
    install_hostile(
        &plugins,
        "slow-start",
        "ok",
        "timeout_ms = 4000\ncapabilities = [\"config\"]",
        "describe = \"loop\"",
    );
    let config = tmp.path().join("hintd.toml");
    std::fs::write(&config, format!("[server]\nadmin_key = \"{ADMIN_KEY}\"\n")).unwrap();
    let started = Instant::now();
    let mut child = std::process::Command::new(hintd_tests::server::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(sqlite_url(tmp.path()))
        .arg("--plugins")
        .arg(&plugins)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let addr = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_string))
        .expect("hintd listens");
    let listening_after = started.elapsed();
    let base = format!("http://{addr}");
    let health = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = client().get(format!("{base}/readyz")).send().await.unwrap();
    let loading_at_start = ready.status();
    let body: Value = ready.json().await.unwrap();
    eprintln!("listening after {listening_after:?}: {body}");
    assert!(
        listening_after < Duration::from_secs(4),
        "listening only after {listening_after:?}"
    );
    assert_eq!(loading_at_start, 503, "{body}");
    assert!(body.to_string().contains("slow-start"), "{body}");
    let ready = eventually(Duration::from_secs(60), || async {
        let r = client().get(format!("{base}/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    ready.expect("ready once the first load ended");
}

/// One plugin spinning in `observe` delays and drops only its own events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_observe_drops_only_its_own_events() {
    let _one = ONE_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_example(&plugins, "example", "");
    install_hostile(
        &plugins,
        "slow",
        "ok",
        "timeout_ms = 2000\ncapabilities = [\"config\"]",
        "observe = \"loop\"",
    );
    let cfg = PluginsConfig {
        observe_queue_size: 8,
        ..plugins_config(tmp.path())
    };
    let registry = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    // Paced so the example keeps up however loaded the machine is; the slow plugin, taking
    // 2 s per event, cannot.
    for _ in 0..50 {
        registry.observe(closed("1"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats_of = |name: &str| {
        registry
            .stats()
            .into_iter()
            .find(|s| s.plugin == name)
            .unwrap()
    };
    let delivered = eventually(Duration::from_secs(10), || async {
        let s = stats_of("example");
        (s.ok == 50).then_some(s)
    })
    .await;
    let example = delivered.unwrap_or_else(|| panic!("example: {:?}", stats_of("example")));
    assert_eq!(example.observe_dropped, 0);
    assert_eq!(example.timeout, 0);
    let slow = stats_of("slow");
    assert!(slow.observe_dropped >= 30, "{slow:?}");
    assert_eq!(registry.observe_dropped(), slow.observe_dropped);
}

/// A plugin whose `suggest` always fails is skipped once its circuit opens, however often its
/// `observe` succeeds in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_opened_by_suggest_stays_open_while_observe_succeeds() {
    let _one = ONE_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    install_hostile(
        &tmp.path().join("plugins"),
        "trap",
        "trap",
        "capabilities = [\"config\"]",
        "",
    );
    let cfg = PluginsConfig {
        breaker_failures: 3,
        breaker_cooldown_ms: 60_000,
        ..plugins_config(tmp.path())
    };
    let registry = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    let calls = |s: &hintd::plugins::PluginStats| s.ok + s.trap + s.skipped;
    for round in 0..5 {
        let _ = registry.suggest("trap", hint_request("acme", "x")).await;
        registry.observe(closed("acme"));
        let expected = 2 * (round + 1);
        eventually(Duration::from_secs(10), || async {
            (calls(&registry.stats()[0]) == expected).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("round {round}: {:?}", registry.stats()));
    }
    let stats = &registry.stats()[0];
    assert_eq!(
        (stats.trap, stats.skipped, stats.ok),
        (3, 2, 5),
        "{stats:?}"
    );
    assert!(stats.circuit_open);
    assert_eq!(stats.open_circuits, ["suggest"]);
}

/// A thousand accounts calling a `reuse` plugin: every call answers, and the idle instances
/// kept stay within the pool's count and memory bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_pool_stays_bounded_across_a_thousand_accounts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    install_example(
        &tmp.path().join("plugins"),
        "example",
        "instance = \"reuse\"",
    );
    let cfg = PluginsConfig {
        limits: Limits {
            reuse_max_idle_instances: 40,
            reuse_max_idle_mb: 64,
            ..Limits::default()
        },
        ..plugins_config(tmp.path())
    };
    let registry = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    for i in 0..1000 {
        let hints = registry
            .suggest("example", hint_request(&format!("account-{i}"), "hi"))
            .await
            .unwrap_or_else(|e| panic!("account {i}: {e}"));
        assert!(!hints.is_empty());
    }
    let (idle, bytes, evicted) = registry.idle_instances();
    assert!(idle <= 40, "{idle} idle instances");
    assert!(bytes <= 64 << 20, "{bytes} idle bytes");
    assert!(evicted >= 960, "{evicted} evicted");
    assert_eq!(registry.stats()[0].ok, 1000);
    // The most recent accounts are still warm.
    registry
        .suggest("example", hint_request("account-999", "hi"))
        .await
        .unwrap();
    assert!(registry.idle_instances().2 <= evicted + 1);
}

/// A plugin writing thousands of forged log lines: what reaches the log is within the
/// plugin's budget, and every plugin line is one escaped field of one host line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_log_output_is_bounded_and_cannot_forge_lines() {
    let _one = ONE_AT_A_TIME.lock().await;
    let captured = capture_logs();
    let tmp = tempfile::tempdir().unwrap();
    install_hostile(
        &tmp.path().join("plugins"),
        "chatty",
        "log",
        "timeout_ms = 5000\ncapabilities = [\"config\", \"log\"]",
        "log_lines = 5000",
    );
    let cfg = PluginsConfig {
        limits: Limits {
            log_lines_per_second: 50,
            stdio_capture_bytes: 1 << 20,
            ..Limits::default()
        },
        ..plugins_config(tmp.path())
    };
    let registry = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    let started = Instant::now();
    registry
        .suggest("chatty", hint_request("acme", "x"))
        .await
        .unwrap();
    let windows = started.elapsed().as_secs() + 2;
    let text = String::from_utf8(captured.lock().unwrap().clone()).unwrap();
    let plugin_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("plugin=\"chatty\"") || l.contains("plugin=chatty"))
        .filter(|l| l.contains(" text="))
        .collect();
    assert!(!plugin_lines.is_empty(), "{text}");
    assert!(
        plugin_lines.len() as u64 <= 50 * windows,
        "{} plugin lines in {windows} windows",
        plugin_lines.len()
    );
    assert!(
        !text.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a forged line reached the log"
    );
    assert!(!text.contains('\r') && !text.contains('\0'));
    assert!(
        plugin_lines.iter().all(|l| l.contains("\\n")),
        "{plugin_lines:?}"
    );
}

/// Routes every log event of the process to a buffer (text format, no colour).
fn capture_logs() -> Arc<std::sync::Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Buffer(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer(Arc::default());
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .init();
    buffer.0
}
