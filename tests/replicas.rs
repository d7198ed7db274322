//! Several hintd replicas on one PostgreSQL database: two real processes on different loopback
//! ports share a fresh schema. These tests always run on PostgreSQL (SQLite is one process's
//! embedded store); set `HINTD_TEST_POSTGRES_URL` to use another server.

use hintd_tests::chat2desk::{self, admin, choice, hints_request, inbox, post};
use hintd_tests::plugins::install_shipped;
use hintd_tests::receiver::{Receiver, Reply};
use hintd_tests::server::{SEAL_KEY, Server, ServerSpec, eventually};
use hintd_tests::store::fresh_postgres_schema;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

fn config(dispatch: &str) -> String {
    format!(
        "{}\n[dispatch]\nsecret_key = \"{SEAL_KEY}\"\nallowed_cidrs = [\"127.0.0.0/8\"]\npoll_interval = \"50ms\"\n\
         request_timeout = \"2s\"\nlease = \"3s\"\n{dispatch}\n",
        chat2desk::source_config()
    )
}

/// Starts two replicas at the same moment (both run migrations against the fresh schema) in
/// sub-directories of `dir`.
fn two_replicas(dir: &Path, config: &str, plugins: Option<&Path>) -> (Server, Server) {
    let url = fresh_postgres_schema();
    let spec = |_: &str| {
        let mut s = ServerSpec::new(config.to_string()).data(url.clone());
        if let Some(p) = plugins {
            s = s.plugins(p);
        }
        s
    };
    let (a, b) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let ha = s.spawn(|| Server::start(&a, spec("a")));
            let hb = s.spawn(|| Server::start(&b, spec("b")));
            (ha.join().unwrap(), hb.join().unwrap())
        })
    })
}

async fn conversation(server: &Server, dialog: u64) -> Value {
    let (status, v) = admin(
        server,
        Method::GET,
        &format!("/api/v1/conversations/chat2desk/default/{dialog}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

fn context_texts(conv: &Value) -> Vec<String> {
    conv["context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_split_across_replicas_gives_one_context() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_replicas(dir.path(), &config(""), None);
    for i in 0..10u64 {
        if i == 1 {
            // Read once on each replica, so any in-memory state exists before the other writes.
            conversation(&a, 7).await;
            conversation(&b, 7).await;
        }
        let target = if i % 2 == 0 { &a } else { &b };
        let (status, v) = post(target, &inbox(9000 + i, 7, &format!("message {i}"))).await;
        assert!(status < 300, "{status} {v}");
    }
    let expected: Vec<String> = (0..10).map(|i| format!("message {i}")).collect();
    assert_eq!(context_texts(&conversation(&a, 7).await), expected);
    assert_eq!(context_texts(&conversation(&b, 7).await), expected);
    // A redelivery to the other replica is still recognised as a duplicate.
    post(&b, &inbox(9000, 7, "message 0")).await;
    assert_eq!(context_texts(&conversation(&a, 7).await).len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_served_by_one_replica_are_chosen_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    install_shipped(&plugins, "example", "");
    let (a, b) = two_replicas(dir.path(), &config(""), Some(&plugins));
    post(&a, &inbox(500, 3, "Where is my order?")).await;

    let (status, first) = post(&a, &hints_request(3, 77, 500)).await;
    assert_eq!(status, 200, "{first}");
    assert!(!first["hints"].as_array().unwrap().is_empty(), "{first}");
    // request_id idempotency holds across replicas: the same answer, not a new one.
    let (status, again) = post(&b, &hints_request(3, 77, 500)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first);

    let hint_id = first["hints"][0]["id"].as_i64().unwrap();
    let (status, v) = post(&b, &choice(3, 500, hint_id)).await;
    assert!(
        status < 300,
        "the choice arriving at the other replica is routed: {status} {v}"
    );
    let (_, stats) = admin(&a, Method::GET, "/api/v1/hints/stats", None).await;
    assert_eq!(stats["answers_chosen"], json!(1), "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_replicas_dispatch_ten_thousand_deliveries_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_replicas(dir.path(), &config("concurrency_per_webhook = 16\n"), None);
    let rx = Receiver::start().await;
    let (status, v) = admin(
        &a,
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"name": "all", "url": rx.url("/in"), "events": ["inbox"]})),
    )
    .await;
    assert_eq!(status, 201, "{v}");

    const N: u64 = 10_000;
    let senders: Vec<_> = [(0u64, &a), (1, &b)]
        .into_iter()
        .map(|(half, server)| {
            let base = server.url("");
            tokio::spawn(async move {
                let client = hintd_tests::server::client();
                let url = format!("{base}/webhooks/chat2desk?token={}", chat2desk::TOKEN);
                for i in (half..N).step_by(2) {
                    let resp = client
                        .post(&url)
                        .json(&inbox(100_000 + i, i % 200, "hi"))
                        .send()
                        .await
                        .unwrap();
                    assert!(resp.status().is_success(), "{}", resp.status());
                }
            })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    let got = eventually(Duration::from_secs(120), || async {
        let got = rx.requests();
        (got.len() >= N as usize).then_some(got)
    })
    .await
    .unwrap_or_else(|| panic!("only {} of {N} delivered", rx.requests().len()));
    // Give stragglers a moment to show up as duplicates, if there were any.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if rx.requests().len() > got.len() {
        rx.requests()
    } else {
        got
    };
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for r in &got {
        *per_id
            .entry(r.header("webhook-id").unwrap().to_string())
            .or_default() += 1;
    }
    let duplicated = per_id.values().filter(|n| **n > 1).count();
    assert_eq!(per_id.len(), N as usize, "every event delivered");
    assert_eq!(
        duplicated, 0,
        "no message delivered twice in normal operation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_delivery_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, b) = two_replicas(
        dir.path(),
        &config("concurrency_per_webhook = 4\nretry_schedule = [\"1s\", \"1s\", \"1s\"]\n"),
        None,
    );
    let rx = Receiver::start().await;
    rx.set_default(Reply::Delayed(Duration::from_millis(100), 200));
    let (status, v) = admin(
        &a,
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"name": "slow", "url": rx.url("/in"), "events": ["inbox"]})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    const N: u64 = 200;
    for i in 0..N {
        let (status, _) = post(&a, &inbox(200_000 + i, i % 20, "hi")).await;
        assert!(status < 300);
    }
    rx.wait_for(10, Duration::from_secs(20)).await;
    tokio::task::block_in_place(|| a.kill9());
    let delivered_before = rx.requests().len();
    assert!(
        delivered_before < N as usize,
        "killed mid-delivery ({delivered_before} of {N})"
    );
    rx.set_default(Reply::Status(200));
    let all = eventually(Duration::from_secs(60), || async {
        let ids: std::collections::HashSet<String> = rx
            .requests()
            .iter()
            .map(|r| r.header("webhook-id").unwrap().to_string())
            .collect();
        (ids.len() == N as usize).then_some(ids.len())
    })
    .await;
    assert_eq!(
        all,
        Some(N as usize),
        "the surviving replica took over the killed one's leased work"
    );
    drop(b);
}

#[test]
fn an_unreachable_postgres_at_start_is_one_clear_line_and_a_failing_exit() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hintd.toml");
    std::fs::write(&config, "").unwrap();
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let out = std::process::Command::new(hintd_tests::server::binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "postgres://postgres:hunter2@127.0.0.1:1/test",
            "--config",
        ])
        .arg(&config)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success(), "exits non-zero");
    assert!(out.stdout.is_empty(), "never reports an address");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("store unavailable"),
        "says what failed: {stderr}"
    );
    assert!(stderr.contains("127.0.0.1:1"), "says where: {stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "never prints the password: {stderr}"
    );
}

/// A TCP forwarder to PostgreSQL that a test can cut and restore, standing in for the
/// database going away mid-run.
struct Link {
    port: u16,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// The `host:port` of a PostgreSQL URL (`postgres://user@host:port/db?...`).
fn authority(url: &str) -> String {
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    let rest = &rest[rest.rfind('@').map_or(0, |i| i + 1)..];
    rest.split(['/', '?']).next().unwrap().to_string()
}

impl Link {
    async fn open(port: u16, target: String) -> Link {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let conns = std::sync::Arc::new(std::sync::Mutex::new(
            Vec::<tokio::task::JoinHandle<()>>::new(),
        ));
        let held = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().unwrap().push(task);
            }
        });
        let closer = tokio::spawn(async move {
            // Aborting this task aborts every forwarded connection with it.
            let _guard = AbortOnDrop(conns);
            std::future::pending::<()>().await;
        });
        Link {
            port,
            tasks: vec![accept, closer],
        }
    }

    fn cut(self) -> u16 {
        for t in &self.tasks {
            t.abort();
        }
        self.port
    }
}

struct AbortOnDrop(std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for t in self.0.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lost_mid_run_gives_503_and_service_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_postgres_schema();
    let target = authority(&url);
    let link = Link::open(0, target.clone()).await;
    let via_link = url.replacen(&target, &format!("127.0.0.1:{}", link.port), 1);
    let server = tokio::task::block_in_place(|| {
        Server::start(
            dir.path(),
            ServerSpec::new(format!(
                "{}\n[store]\nacquire_timeout_ms = 1000\n",
                config("")
            ))
            .data(via_link),
        )
    });
    let (status, _) = post(&server, &inbox(700, 5, "before")).await;
    assert!(status < 300);

    let port = link.cut();
    let (status, body) = post(&server, &inbox(701, 5, "while down")).await;
    assert_eq!(status, 503, "the store is down: {body}");

    let _link = Link::open(port, target).await;
    let back = eventually(Duration::from_secs(30), || async {
        let (status, _) = post(&server, &inbox(702, 5, "after")).await;
        (status < 300).then_some(())
    })
    .await;
    assert!(back.is_some(), "ingest recovers when the database returns");
    let texts = context_texts(&conversation(&server, 5).await);
    assert!(
        texts.contains(&"before".to_string()) && texts.contains(&"after".to_string()),
        "{texts:?}"
    );
}
