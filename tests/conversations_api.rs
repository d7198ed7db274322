//! End-to-end tests of the conversation list (`GET /api/v1/conversations`) and the acceptance
//! series (`GET /api/v1/hints/stats/series`), on the store `HINTD_TEST_STORE` names.

use hintd_tests::plugins::install_shipped;
use hintd_tests::server::{ADMIN_KEY, Server, ServerSpec, client, eventually};
use hintd_tests::store::fresh_store_url;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const TOKEN: &str = "c2d-token";

fn start(dir: &Path) -> Server {
    let plugins = dir.join("plugins");
    install_shipped(&plugins, "faq", "");
    Server::start(
        dir,
        ServerSpec::new(format!(
            "[sources.chat2desk]\ntoken = \"{TOKEN}\"\ndelivery = \"inline\"\n\
             [sources.chat2desk.accounts.default]\n[sources.chat2desk.accounts.shop]\n"
        ))
        .plugins(plugins)
        .data(fresh_store_url(dir)),
    )
}

static CLOCK: AtomicU32 = AtomicU32::new(0);

/// A fresh, increasing event time.
fn event_time() -> String {
    let n = CLOCK.fetch_add(1, Ordering::SeqCst);
    format!("2026-03-02T08:{:02}:{:02}Z", (n / 60) % 60, n % 60)
}

/// A client message in `dialog` of `account`.
async fn message(server: &Server, account: &str, dialog: u64, message_id: u64, text: &str) {
    let body = json!({
        "message_id": message_id, "type": "from_client", "text": text, "transport": "telegram",
        "client_id": dialog + 10_000, "operator_id": "", "dialog_id": dialog, "channel_id": 17,
        "hook_type": "inbox", "request_id": dialog + 20_000, "attachments": [], "is_new_request": "",
        "event_time": event_time(),
    });
    let r = client()
        .post(server.url(&format!("/webhooks/chat2desk/{account}?token={TOKEN}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "message {message_id}: {}",
        r.status()
    );
}

async fn get(server: &Server, path: &str) -> (u16, Value) {
    let r = client()
        .get(server.url(path))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(server.url(path))
        .bearer_auth(ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn dialog_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["dialog_id"].as_str().unwrap().to_string())
        .collect()
}

fn assert_400(answer: &(u16, Value), field: &str) {
    assert_eq!(answer.0, 400, "{field}: {}", answer.1);
    assert_eq!(answer.1["error"]["field"], field, "{}", answer.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_are_listed_newest_first_in_stable_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path());
    for d in 701..=705 {
        message(&server, "default", d, d * 10, &format!("question of {d}")).await;
    }
    message(&server, "shop", 801, 8010, "shop question").await;
    let long = "x".repeat(400);
    message(&server, "default", 705, 7051, &long).await;

    // Newest activity first; the newest client message, shortened.
    let (status, all) = get(
        &server,
        "/api/v1/conversations?source=chat2desk&account=default",
    )
    .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(dialog_ids(&all), ["705", "704", "703", "702", "701"]);
    assert!(all.get("next_cursor").is_none(), "{all}");
    let top = &all["items"][0];
    assert_eq!(top["source"], "chat2desk");
    assert_eq!(top["account"], "default");
    assert_eq!(top["client_id"], "10705");
    assert_eq!(top["status"], "open");
    assert_eq!(top["message_count"], 2);
    assert!(top["last_message_at_ms"].as_i64().is_some(), "{top}");
    let text = top["last_client_text"].as_str().unwrap();
    assert_eq!(text.chars().count(), 161, "{text}");
    assert!(text.ends_with('…'));
    assert_eq!(all["items"][4]["last_client_text"], "question of 701");

    // Filters: the account, and every account of the source.
    let (_, shop) = get(&server, "/api/v1/conversations?account=shop").await;
    assert_eq!(dialog_ids(&shop), ["801"]);
    let (_, every) = get(&server, "/api/v1/conversations?source=chat2desk").await;
    assert_eq!(every["items"].as_array().unwrap().len(), 6);
    let (_, none) = get(&server, "/api/v1/conversations?source=chatwoot").await;
    assert_eq!(dialog_ids(&none), Vec::<String>::new());

    // Pages of two; a dialog arriving between pages does not shift the pages after it.
    let (_, p1) = get(&server, "/api/v1/conversations?account=default&limit=2").await;
    assert_eq!(dialog_ids(&p1), ["705", "704"]);
    let cursor = p1["next_cursor"].as_str().unwrap().to_string();
    message(&server, "default", 706, 7060, "a newcomer").await;
    let (_, p2) = get(
        &server,
        &format!("/api/v1/conversations?account=default&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(dialog_ids(&p2), ["703", "702"]);
    let cursor = p2["next_cursor"].as_str().unwrap().to_string();
    let (_, p3) = get(
        &server,
        &format!("/api/v1/conversations?account=default&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(dialog_ids(&p3), ["701"]);
    assert!(p3.get("next_cursor").is_none(), "{p3}");
    let (_, fresh) = get(&server, "/api/v1/conversations?account=default&limit=1").await;
    assert_eq!(dialog_ids(&fresh), ["706"]);

    // Limit bounds and bad parameters: 400 naming the parameter.
    let (status, _) = get(&server, "/api/v1/conversations?limit=200").await;
    assert_eq!(status, 200);
    assert_400(
        &get(&server, "/api/v1/conversations?limit=201").await,
        "limit",
    );
    assert_400(
        &get(&server, "/api/v1/conversations?limit=0").await,
        "limit",
    );
    assert_400(
        &get(&server, "/api/v1/conversations?limit=-1").await,
        "limit",
    );
    assert_400(
        &get(&server, "/api/v1/conversations?cursor=zz%21").await,
        "cursor",
    );
    assert_400(
        &get(&server, "/api/v1/conversations?cursor=WzFd").await,
        "cursor",
    );
    assert_400(
        &get(&server, "/api/v1/conversations?source=icq").await,
        "source",
    );

    // Admin only.
    let r = client()
        .get(server.url("/api/v1/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

fn hints_request(dialog: u64, request_id: u64, message_id: u64) -> Value {
    json!({
        "client_id": dialog + 10_000, "operator_id": 1, "dialog_id": dialog, "request_id": request_id,
        "channel_id": 17, "message_id": message_id, "hook_type": "ai_hints_requested", "event_time": event_time(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_series_buckets_answers_and_choices_per_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path());
    let before = chrono_ms();
    // Three answers showing faq's hint; the operator picks it in two of them.
    for (d, chosen) in [(901u64, true), (902, true), (903, false)] {
        let m = d * 10;
        message(
            &server,
            "default",
            d,
            m,
            "How long does delivery take to my city?",
        )
        .await;
        let r = client()
            .post(server.url(&format!("/webhooks/chat2desk?token={TOKEN}")))
            .json(&hints_request(d, d + 5000, m))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let reply: Value = r.json().await.unwrap();
        let hint = reply["hints"][0]["id"].as_i64().expect("a hint");
        if chosen {
            let (status, c) = post(
                &server,
                "/api/v1/hints/choice",
                json!({"source": "chat2desk", "message_id": m, "hint_id": hint}),
            )
            .await;
            assert_eq!(status, 200, "{c}");
        }
    }
    // Answers are written by a group commit after the reply: wait until all three are.
    eventually(Duration::from_secs(20), || async {
        let (_, s) = get(&server, "/api/v1/hints/stats").await;
        (s["answers_shown"] == 3).then_some(())
    })
    .await
    .expect("three answers stored");
    let after = chrono_ms() + 1;

    for bucket in ["hour", "day"] {
        let (status, s) = get(
            &server,
            &format!("/api/v1/hints/stats/series?bucket={bucket}"),
        )
        .await;
        assert_eq!(status, 200, "{s}");
        let width = s["bucket_ms"].as_i64().unwrap();
        assert_eq!(
            width,
            if bucket == "hour" {
                3_600_000
            } else {
                86_400_000
            }
        );
        let faq: Vec<&Value> = s["points"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["plugin"] == "faq")
            .collect();
        assert!(!faq.is_empty(), "{s}");
        for p in &faq {
            let start = p["bucket_start_ms"].as_i64().unwrap();
            assert_eq!(start % width, 0, "buckets start on UTC boundaries: {p}");
            assert!(start <= after && start + width > before, "{p}");
        }
        let shown: i64 = faq
            .iter()
            .map(|p| p["answers_shown"].as_i64().unwrap())
            .sum();
        let chosen: i64 = faq
            .iter()
            .map(|p| p["answers_chosen"].as_i64().unwrap())
            .sum();
        assert_eq!((shown, chosen), (3, 2), "{s}");
        if faq.len() == 1 {
            let rate = faq[0]["acceptance_rate"].as_f64().unwrap();
            assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{s}");
        }
    }

    // Filters as for the totals: another account or a span before the answers holds nothing.
    let (_, s) = get(
        &server,
        "/api/v1/hints/stats/series?bucket=day&account=shop",
    )
    .await;
    assert_eq!(s["points"], json!([]));
    let (_, s) = get(
        &server,
        &format!(
            "/api/v1/hints/stats/series?bucket=hour&since_ms={}&until_ms={}",
            before - 7_200_000,
            before - 3_600_000
        ),
    )
    .await;
    assert_eq!(s["points"], json!([]), "{s}");
    let (_, s) = get(
        &server,
        &format!(
            "/api/v1/hints/stats/series?bucket=hour&source=chat2desk&since_ms={}&until_ms={after}",
            before - 3_600_000
        ),
    )
    .await;
    let shown: i64 = s["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["answers_shown"].as_i64().unwrap())
        .sum();
    assert_eq!(shown, 3, "{s}");

    // Bounded buckets and bad parameters: 400 naming the parameter.
    let (status, _) = get(
        &server,
        "/api/v1/hints/stats/series?bucket=hour&since_ms=0&until_ms=3600000000",
    )
    .await;
    assert_eq!(status, 200);
    assert_400(
        &get(
            &server,
            "/api/v1/hints/stats/series?bucket=hour&since_ms=0&until_ms=3600000001",
        )
        .await,
        "since_ms",
    );
    assert_400(
        &get(
            &server,
            "/api/v1/hints/stats/series?bucket=day&since_ms=10&until_ms=5",
        )
        .await,
        "until_ms",
    );
    assert_400(
        &get(&server, "/api/v1/hints/stats/series?bucket=week").await,
        "bucket",
    );
    assert_400(&get(&server, "/api/v1/hints/stats/series").await, "bucket");
    assert_400(
        &get(&server, "/api/v1/hints/stats/series?bucket=day&source=icq").await,
        "source",
    );
    assert_400(
        &get(&server, "/api/v1/hints/stats/series?bucket=day&since_ms=x").await,
        "since_ms",
    );

    let r = client()
        .get(server.url("/api/v1/hints/stats/series?bucket=day"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

fn chrono_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
