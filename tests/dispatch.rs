//! End-to-end tests of the webhook hub: the real hintd process, platform events posted to its
//! ingest endpoint, deliveries received by a loopback receiver.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hintd_tests::chat2desk::admin as api;
use hintd_tests::receiver::{Received, Receiver, Reply};
use hintd_tests::server::{SEAL_KEY, Server, ServerSpec, client, eventually};
use hintd_tests::store::fresh_store_url;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const C2D_TOKEN: &str = "c2d-test-token";

fn config(dispatch: &str, allow_loopback: bool) -> String {
    let allow = if allow_loopback {
        "allowed_cidrs = [\"127.0.0.0/8\"]\n"
    } else {
        ""
    };
    format!(
        "[sources.chat2desk]\ntoken = \"{C2D_TOKEN}\"\n\n[dispatch]\nsecret_key = \"{SEAL_KEY}\"\npoll_interval = \"50ms\"\n\
         request_timeout = \"3s\"\nlease = \"6s\"\n{allow}{dispatch}\n"
    )
}

fn start(dir: &tempfile::TempDir, spec: ServerSpec) -> Server {
    let spec = spec.data(fresh_store_url(dir.path()));
    tokio::task::block_in_place(|| Server::start(dir.path(), spec))
}

fn inbox(message_id: u64, dialog: u64, text: &str) -> Value {
    json!({
        "message_id": message_id, "type": "from_client", "text": text, "transport": "telegram",
        "client_id": 100 + dialog, "operator_id": "", "dialog_id": dialog, "channel_id": 17,
        "client": {"id": 100 + dialog, "name": "Peter", "phone": ""}, "hook_type": "inbox",
        "request_id": 8725057, "attachments": [], "is_new_request": 1, "event_time": "2019-07-28T23:01:40Z"
    })
}

fn outbox(message_id: u64, dialog: u64) -> Value {
    json!({
        "message_id": message_id, "type": "to_client", "text": "Hello!", "transport": "telegram",
        "client_id": 100 + dialog, "operator_id": 41164, "dialog_id": dialog, "channel_id": 17,
        "hook_type": "outbox", "request_id": 8725095, "attachments": [], "event_time": "2019-07-28T23:01:41Z"
    })
}

fn close_dialog(dialog: u64) -> Value {
    json!({
        "dialog_id": dialog, "request_id": 8725057, "created": 1540282584, "updated": 1540464524,
        "client_id": 100 + dialog, "channel_id": 17404, "operator_id": 41164, "transport": "telegram",
        "hook_type": "close_dialog", "event_time": "2019-07-28T23:01:40Z"
    })
}

async fn post_event(server: &Server, body: &Value) {
    let resp = client()
        .post(server.url(&format!("/webhooks/chat2desk?token={C2D_TOKEN}")))
        .json(body)
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "ingest answered {}: {}",
        resp.status(),
        resp.text().await.unwrap()
    );
}

async fn create(server: &Server, body: Value) -> Value {
    let (status, v) = api(
        server,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    v
}

async fn webhook(server: &Server, id: &str) -> Value {
    let (status, v) = api(
        server,
        reqwest::Method::GET,
        &format!("/api/v1/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// Standard Webhooks verification written independently of hintd: HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` with the base64-decoded secret, compared with every `v1,` entry.
fn verifies(r: &Received, secret: &str) -> bool {
    let key = B64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    let (Some(id), Some(ts), Some(sigs)) = (
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
    ) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    sigs.split(' ').any(|s| s == expected)
}

fn data_ids(got: &[Received]) -> Vec<i64> {
    got.iter()
        .map(|r| r.json()["data"]["message_id"].as_i64().unwrap_or(-1))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_filtered_and_carry_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, ServerSpec::new(config("", true)));
    let (a, b) = (Receiver::start().await, Receiver::start().await);
    let hook_a = create(
        &server,
        json!({"name": "CRM", "url": a.url("/in"), "events": ["inbox"]}),
    )
    .await;
    let hook_b = create(
        &server,
        json!({"name": "BI", "url": b.url("/bi"), "events": ["chat2desk.outbox", "close_dialog"]}),
    )
    .await;
    let secret_a = hook_a["secret"].as_str().unwrap().to_string();
    assert!(secret_a.starts_with("whsec_"));
    assert!(
        hook_a["warnings"][0].as_str().unwrap().contains("https"),
        "http URLs get a warning: {hook_a}"
    );

    let sent = inbox(1001, 7, "Olá, onde está meu pedido?");
    post_event(&server, &sent).await;
    post_event(&server, &outbox(1002, 7)).await;
    post_event(&server, &close_dialog(7)).await;

    let got_b = b.wait_for(2, Duration::from_secs(10)).await;
    let got_a = a.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_a = if a.requests().len() > got_a.len() {
        a.requests()
    } else {
        got_a
    };
    assert_eq!(got_a.len(), 1, "A subscribed to inbox only");
    assert_eq!(
        b.requests().len(),
        2,
        "B subscribed to outbox and close_dialog"
    );

    let r = &got_a[0];
    assert!(
        verifies(r, &secret_a),
        "signature verifies with an independent HMAC"
    );
    assert!(!verifies(r, hook_b["secret"].as_str().unwrap()));
    assert!(r.header("webhook-id").unwrap().starts_with("msg_"));
    let ts: i64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!((ts - chrono_now()).abs() < 60);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["type"], "inbox");
    assert_eq!(v["source"], "chat2desk");
    assert_eq!(v["account"], "default");
    assert!(v["received_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["data"], sent, "the platform payload is relayed unchanged");
    let types: HashSet<String> = got_b
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        HashSet::from(["outbox".to_string(), "close_dialog".to_string()])
    );
    assert!(
        got_b
            .iter()
            .all(|r| verifies(r, hook_b["secret"].as_str().unwrap()))
    );

    let id_a = hook_a["id"].as_str().unwrap();
    let shown = webhook(&server, id_a).await;
    assert_eq!(shown["status"], "active");
    assert!(shown["last_success_at"].is_string(), "{shown}");
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown only at creation"
    );
    let (_, list) = api(&server, reqwest::Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(&secret_a));

    // Rotation: the new secret is shown once; both sign for the grace period.
    let (status, rotated) = api(
        &server,
        reqwest::Method::POST,
        &format!("/api/v1/webhooks/{id_a}/rotate-secret"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret_a);
    post_event(&server, &inbox(1003, 8, "again")).await;
    let got = a.wait_for(2, Duration::from_secs(10)).await;
    let r = got
        .iter()
        .find(|r| r.json()["data"]["message_id"] == 1003)
        .expect("second delivery");
    assert_eq!(r.header("webhook-signature").unwrap().split(' ').count(), 2);
    assert!(verifies(r, &new_secret) && verifies(r, &secret_a));

    // Resend: same message id again.
    let msg = got_a[0].header("webhook-id").unwrap();
    let (status, _) = api(
        &server,
        reqwest::Method::POST,
        &format!("/api/v1/webhooks/{id_a}/messages/{msg}/resend"),
        None,
    )
    .await;
    assert_eq!(status, 202);
    let got = a.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(
        got.iter()
            .filter(|r| r.header("webhook-id") == Some(msg))
            .count(),
        2
    );
    // The attempt is recorded once the receiver's answer is back, a moment after it arrived.
    let attempts_path = format!("/api/v1/webhooks/{id_a}/messages/{msg}/attempts");
    let atts = eventually(Duration::from_secs(10), || async {
        let (status, atts) = api(&server, reqwest::Method::GET, &attempts_path, None).await;
        assert_eq!(status, 200);
        (atts["attempts"].as_array().unwrap().len() == 2).then_some(atts)
    })
    .await;
    assert!(atts.is_some(), "both attempts recorded");
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// With no webhook the fan-out only moves its cursor (on its poll, not on every event): a
/// webhook created afterwards gets the events from its creation on, at once, and none before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_created_later_gets_only_later_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, ServerSpec::new(config("", true)));
    for id in 2001..2004 {
        post_event(&server, &inbox(id, 8, "before any webhook")).await;
    }
    // Several polls: the fan-out has seen that no webhook is active.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let receiver = Receiver::start().await;
    create(
        &server,
        json!({"name": "late", "url": receiver.url("/in"), "events": ["inbox"]}),
    )
    .await;
    post_event(&server, &inbox(2004, 8, "after the webhook")).await;
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(data_ids(&got), [2004]);
    assert_eq!(
        receiver.requests().len(),
        1,
        "no event from before the webhook"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_api_validates_limits_and_url_null_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, ServerSpec::new(config("", true)));
    let url = "https://hooks.example.com/in";
    let mut ids = vec![];
    for i in 0..5 {
        ids.push(
            create(
                &server,
                json!({"name": format!("hook {i}"), "url": url, "events": ["*"]}),
            )
            .await["id"]
                .clone(),
        );
    }
    let (status, v) = api(
        &server,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"name": "6th", "url": url, "events": ["inbox"]})),
    )
    .await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"]["code"], "limit_reached");
    assert!(v["error"]["message"].as_str().unwrap().contains('5'), "{v}");
    // Another account has its own limit.
    create(
        &server,
        json!({"name": "other", "url": url, "events": ["inbox"], "account": "shop2"}),
    )
    .await;

    let (status, v) = api(
        &server,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"name": "x", "url": url, "events": ["inbox", "nope"], "account": "a"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["field"], "events");
    assert!(v["error"]["message"].as_str().unwrap().contains("nope"));
    let message = v["error"]["message"].as_str().unwrap();
    let (_, listed) = message
        .split_once("valid events: ")
        .expect("the valid names are listed");
    let valid: Vec<&str> = listed.split(", ").collect();
    for name in [
        "inbox",
        "chatwoot.message_created",
        "NewTicket",
        "hints.generated",
        "webhook.disabled",
        "*",
    ] {
        assert!(valid.contains(&name), "{name} listed");
    }
    let (status, catalog) = api(
        &server,
        reqwest::Method::GET,
        "/api/v1/webhooks/events",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(catalog["events"].as_array().unwrap().len(), valid.len());
    let (status, v) = api(
        &server,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"name": "x", "url": "ftp://h/x", "events": ["inbox"], "account": "a"})),
    )
    .await;
    assert_eq!((status, v["error"]["field"].as_str()), (400, Some("url")));
    let (status, v) = api(
        &server,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": url, "events": ["inbox"], "account": "a"})),
    )
    .await;
    assert_eq!((status, v["error"]["field"].as_str()), (400, Some("name")));
    let (status, v) = api(
        &server,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"name": "x", "url": url, "events": ["inbox"], "colour": 1})),
    )
    .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (400, Some("colour"))
    );
    let (status, _) = api(
        &server,
        reqwest::Method::GET,
        "/api/v1/webhooks/wh_missing",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let resp = client()
        .get(server.url("/api/v1/webhooks"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // PUT modifies; url null deletes (Chat2Desk semantics), freeing a slot.
    let first = ids[0].as_str().unwrap();
    let (status, v) = api(
        &server,
        reqwest::Method::PUT,
        &format!("/api/v1/webhooks/{first}"),
        Some(json!({"name": "renamed", "events": ["outbox"]})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["name"].as_str(), v["events"][0].as_str()),
        (Some("renamed"), Some("outbox"))
    );
    let (status, v) = api(
        &server,
        reqwest::Method::PUT,
        &format!("/api/v1/webhooks/{first}"),
        Some(json!({"status": "paused"})),
    )
    .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (400, Some("status"))
    );
    let (status, v) = api(
        &server,
        reqwest::Method::PUT,
        &format!("/api/v1/webhooks/{first}"),
        Some(json!({"url": null})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["deleted"], true);
    let (status, _) = api(
        &server,
        reqwest::Method::GET,
        &format!("/api/v1/webhooks/{first}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    create(
        &server,
        json!({"name": "sixth fits now", "url": url, "events": ["inbox"]}),
    )
    .await;
    let second = ids[1].as_str().unwrap();
    let (status, _) = api(
        &server,
        reqwest::Method::DELETE,
        &format!("/api/v1/webhooks/{second}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receiver_gets_the_retry_schedule_then_success() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        &dir,
        ServerSpec::new(config("retry_jitter = 0.0\n", true))
            .arg("--retry-schedule")
            .arg("1s,2s,3s"),
    );
    let rx = Receiver::start().await;
    rx.script([Reply::Status(500), Reply::Status(503), Reply::Status(500)]);
    let hook = create(
        &server,
        json!({"name": "flaky", "url": rx.url("/x"), "events": ["inbox"]}),
    )
    .await;
    post_event(&server, &inbox(2001, 1, "hi")).await;
    let got = rx.wait_for(4, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 4, "three failures then a success");
    let gaps: Vec<f64> = got
        .windows(2)
        .map(|w| (w[1].at - w[0].at).as_secs_f64())
        .collect();
    for (gap, want) in gaps.iter().zip([1.0, 2.0, 3.0]) {
        assert!(
            *gap >= want - 0.1 && *gap <= want + 1.0,
            "gaps {gaps:?} follow 1s, 2s, 3s"
        );
    }
    let ids: HashSet<_> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one stable webhook-id across retries");
    assert!(
        got.iter()
            .all(|r| verifies(r, hook["secret"].as_str().unwrap()))
    );
    let id = hook["id"].as_str().unwrap();
    let v = eventually(Duration::from_secs(5), || async {
        let v = webhook(&server, id).await;
        v["last_success_at"].is_string().then_some(v)
    })
    .await
    .expect("success recorded");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{v}");
    assert_eq!(errors[0]["http_status"], 500);
    assert_eq!(errors[1]["http_status"], 503);
    assert_eq!(errors[0]["response"], "status 500");
    assert!(errors[0]["time"].is_string() && errors[0]["attempt"] == 3);
    assert!(v["failing_since"].is_null());
    let (_, atts) = api(
        &server,
        reqwest::Method::GET,
        &format!("/api/v1/webhooks/{id}/attempts"),
        None,
    )
    .await;
    let outcomes: Vec<&str> = atts["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["success", "failure", "failure", "failure"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_failing_webhook_is_disabled_and_announced() {
    let dir = tempfile::tempdir().unwrap();
    let dispatch = "retry_schedule = [\"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\"]\ndisable_after = \"2s\"\n";
    let server = start(&dir, ServerSpec::new(config(dispatch, true)));
    let (failing, watcher) = (Receiver::start().await, Receiver::start().await);
    failing.set_default(Reply::Status(500));
    let bad = create(
        &server,
        json!({"name": "down", "url": failing.url("/down"), "events": ["inbox"]}),
    )
    .await;
    create(
        &server,
        json!({"name": "ops", "url": watcher.url("/ops"), "events": ["webhook.disabled"]}),
    )
    .await;
    post_event(&server, &inbox(3001, 1, "hello")).await;
    let got = watcher.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "webhook.disabled delivered to its subscriber");
    let v = got[0].json();
    assert_eq!(
        (v["type"].as_str(), v["source"].as_str()),
        (Some("webhook.disabled"), Some("hintd"))
    );
    let id = bad["id"].as_str().unwrap();
    assert_eq!(v["data"]["webhook_id"], id);
    assert_eq!(v["data"]["reason"], "failing");
    let shown = webhook(&server, id).await;
    assert_eq!(
        (shown["status"].as_str(), shown["disabled_reason"].as_str()),
        (Some("disabled"), Some("failing"))
    );
    let before = failing.requests().len();
    assert!(before >= 3, "it was retried before being disabled");
    post_event(&server, &inbox(3002, 1, "more")).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        failing.requests().len(),
        before,
        "a disabled webhook receives nothing"
    );
    // Re-enabling is a PUT; recover re-sends what failed.
    failing.set_default(Reply::Status(204));
    let (status, v) = api(
        &server,
        reqwest::Method::PUT,
        &format!("/api/v1/webhooks/{id}"),
        Some(json!({"status": "active"})),
    )
    .await;
    assert_eq!((status, v["status"].as_str()), (200, Some("active")), "{v}");
    let (status, v) = api(
        &server,
        reqwest::Method::POST,
        &format!("/api/v1/webhooks/{id}/recover"),
        Some(json!({"since": "2000-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    assert!(v["requeued"].as_u64().unwrap() >= 1);
    let got = failing.wait_for(before + 1, Duration::from_secs(10)).await;
    assert!(
        data_ids(&got[before..]).contains(&3001),
        "the failed message is delivered after recover"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_at_once_and_redirects_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        &dir,
        ServerSpec::new(config("retry_schedule = [\"1s\", \"1s\"]\n", true)),
    );
    let (gone, mover, target) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    gone.set_default(Reply::Status(410));
    mover.set_default(Reply::Redirect(302, target.url("/new")));
    let g = create(
        &server,
        json!({"name": "gone", "url": gone.url("/g"), "events": ["inbox"]}),
    )
    .await;
    let m = create(
        &server,
        json!({"name": "moved", "url": mover.url("/m"), "events": ["inbox"]}),
    )
    .await;
    post_event(&server, &inbox(4001, 1, "hi")).await;
    let gid = g["id"].as_str().unwrap();
    let shown = eventually(Duration::from_secs(10), || async {
        let v = webhook(&server, gid).await;
        (v["status"] == "disabled").then_some(v)
    })
    .await
    .expect("410 disables the webhook");
    assert_eq!(shown["disabled_reason"], "gone");
    assert_eq!(gone.requests().len(), 1, "no retry after 410");

    let got = mover.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3, "a 3xx is a failure and is retried");
    assert!(target.requests().is_empty(), "the redirect is not followed");
    let v = webhook(&server, m["id"].as_str().unwrap()).await;
    assert_eq!(v["errors"][0]["http_status"], 302);
    assert!(
        v["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("redirect"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_guard_refuses_loopback_without_the_allowlist() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        &dir,
        ServerSpec::new(config("retry_schedule = []\n", false)),
    );
    let rx = Receiver::start().await;
    let literal = create(
        &server,
        json!({"name": "literal", "url": rx.url("/a"), "events": ["inbox"]}),
    )
    .await;
    assert!(
        literal["warnings"].to_string().contains("refused"),
        "{literal}"
    );
    let named = create(
        &server,
        json!({"name": "named", "url": rx.localhost_url("/b"), "events": ["inbox"]}),
    )
    .await;
    let v6 = create(&server, json!({"name": "v6", "url": format!("http://[::1]:{}/c", rx.addr.port()), "events": ["inbox"]})).await;
    let meta = create(&server, json!({"name": "metadata", "url": "http://169.254.169.254/latest/meta-data/", "events": ["inbox"]})).await;
    post_event(&server, &inbox(5001, 1, "hi")).await;
    for (hook, class) in [
        (&literal, "loopback"),
        (&named, "loopback"),
        (&v6, "loopback"),
        (&meta, "metadata"),
    ] {
        let id = hook["id"].as_str().unwrap();
        let v = eventually(Duration::from_secs(10), || async {
            let v = webhook(&server, id).await;
            (!v["errors"].as_array().unwrap().is_empty()).then_some(v)
        })
        .await
        .unwrap_or_else(|| panic!("refusal recorded for {hook}"));
        let error = v["errors"][0]["error"].as_str().unwrap();
        assert!(error.contains("SSRF") && error.contains(class), "{error}");
        assert!(v["errors"][0]["http_status"].is_null());
    }
    assert!(
        rx.requests().is_empty(),
        "nothing reached the loopback receiver"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_with_pending_deliveries_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        &dir,
        ServerSpec::new(config(
            "concurrency_per_webhook = 4\nretry_schedule = [\"1s\", \"1s\", \"1s\", \"1s\", \"1s\"]\n",
            true,
        )),
    );
    let rx = Receiver::start().await;
    rx.set_default(Reply::Delayed(Duration::from_millis(200), 200));
    create(
        &server,
        json!({"name": "slow", "url": rx.url("/slow"), "events": ["inbox"]}),
    )
    .await;
    const N: u64 = 60;
    for i in 0..N {
        post_event(&server, &inbox(6000 + i, i % 10, "msg")).await;
    }
    rx.wait_for(1, Duration::from_secs(10)).await;
    tokio::task::block_in_place(|| server.kill9());
    let before = rx.requests().len();
    assert!(
        before < N as usize,
        "killed with deliveries pending ({before} of {N} done)"
    );
    rx.set_default(Reply::Status(200));
    tokio::task::block_in_place(|| server.restart());
    let start = Instant::now();
    let all = eventually(Duration::from_secs(30), || async {
        let ids: HashSet<i64> = data_ids(&rx.requests()).into_iter().collect();
        (ids.len() == N as usize).then_some(ids)
    })
    .await;
    assert!(
        all.is_some(),
        "every accepted event delivered after kill -9 and restart (took {:?})",
        start.elapsed()
    );
    // Per dialog, first deliveries arrive in event order.
    let got = rx.requests();
    for dialog in 0..10 {
        let mut seen = HashSet::new();
        let order: Vec<i64> = got
            .iter()
            .filter(|r| r.json()["data"]["dialog_id"] == dialog)
            .map(|r| r.json()["data"]["message_id"].as_i64().unwrap())
            .filter(|id| seen.insert(*id))
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "dialog {dialog} delivered in order");
    }
}

/// Two replicas on one PostgreSQL database share the outbox: every event is delivered, none
/// twice in normal operation, and a replica killed mid-delivery loses nothing (its leases are
/// taken over). Runs with `HINTD_TEST_STORE=postgres`; SQLite is one process by design.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_the_outbox() {
    if !hintd_tests::store::is_postgres() {
        eprintln!("skipped: needs HINTD_TEST_STORE=postgres");
        return;
    }
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = hintd_tests::store::fresh_postgres_schema();
    let spec = ServerSpec::new(config("", true)).data(data.clone());
    let mut a = tokio::task::block_in_place(|| Server::start(dir_a.path(), spec.clone()));
    let b = tokio::task::block_in_place(|| Server::start(dir_b.path(), spec));
    let rx = Receiver::start().await;
    rx.set_default(Reply::Delayed(Duration::from_millis(5), 200));
    create(
        &a,
        json!({"name": "shared", "url": rx.url("/s"), "events": ["inbox"]}),
    )
    .await;
    const N: u64 = 400;
    for i in 0..N {
        // A takes every other event until it is killed half-way; B takes the rest.
        let target = if i % 2 == 0 && i < N / 2 { &a } else { &b };
        post_event(target, &inbox(7000 + i, i % 40, "x")).await;
        if i == N / 2 {
            tokio::task::block_in_place(|| a.kill9());
        }
    }
    let ids = eventually(Duration::from_secs(40), || async {
        let ids: HashSet<i64> = data_ids(&rx.requests()).into_iter().collect();
        (ids.len() == N as usize).then_some(ids)
    })
    .await;
    let got = rx.requests();
    assert!(
        ids.is_some(),
        "all {N} events delivered ({} distinct)",
        data_ids(&got).into_iter().collect::<HashSet<_>>().len()
    );
    let distinct: HashSet<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    let dups = got.len() - distinct.len();
    // Only messages in flight at the kill may arrive twice (at-least-once).
    assert!(dups <= 20, "{dups} duplicates");
}
