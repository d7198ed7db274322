//! End-to-end tests of prompter mode: the real hintd with the shipped plugins (`faq`,
//! `replies`, `llm` against a loopback mock), Chat2Desk `ai_hints_requested` in both forms,
//! callbacks to a loopback receiver, the generic API, metrics and `hintd eval`.

use base64::Engine as _;
use hintd_tests::llm_mock::LlmMock;
use hintd_tests::plugins::{install_plugin, install_shipped, repo_root};
use hintd_tests::receiver::{Receiver, Reply};
use hintd_tests::server::{ADMIN_KEY, SEAL_KEY, Server, ServerSpec, client, eventually};
use hintd_tests::store::fresh_store_url;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const TOKEN: &str = "c2d-token";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const DELIVERY_ANSWER: &str = "Orders are delivered in 3 to 5 business days";

/// Installs faq and replies (shipped manifests), and llm against `llm` when given.
fn plugins(root: &Path, llm: Option<(&LlmMock, u32)>) -> PathBuf {
    let dir = root.join("plugins");
    install_shipped(&dir, "faq", "");
    install_shipped(&dir, "replies", "");
    if let Some((mock, timeout_ms)) = llm {
        install_plugin(
            &dir,
            "llm",
            "hintd-llm",
            &format!(
                "enabled = true\nweight = 0.8\ntimeout_ms = {timeout_ms}\ninstance = \"fresh\"\n\
                 capabilities = [\"log\", \"http\", \"config\"]\nallowed_hosts = [\"127.0.0.1\"]\n\
                 allow_private_network = true\n\n[config]\nbase_url = \"{}\"\nmodel = \"test-model\"\n\
                 api_key = \"sk-test\"\nmax_hints = 2\n",
                mock.base_url()
            ),
        );
    }
    dir
}

/// The callbacks' opt-in for the loopback receivers of these tests.
const CALLBACK_OPT_IN: &str = "callback_allowed_cidrs = [\"127.0.0.0/8\"]\n";

fn config(delivery: &str, callback_url: Option<&str>, hints: &str) -> String {
    config_without_opt_in(delivery, callback_url, &format!("{CALLBACK_OPT_IN}{hints}"))
}

fn config_without_opt_in(delivery: &str, callback_url: Option<&str>, hints: &str) -> String {
    let callback = callback_url
        .map(|u| format!("callback_url = \"{u}\"\n"))
        .unwrap_or_default();
    format!(
        "[sources.chat2desk]\ntoken = \"{TOKEN}\"\ndelivery = \"{delivery}\"\n{callback}\n\
         [hints]\ncallback_secret = \"{SECRET}\"\ncallback_retry_initial_ms = 100\ncallback_retry_max_ms = 300\n{hints}\n"
    )
}

fn start(dir: &Path, config: String, plugins: PathBuf) -> Server {
    Server::start(
        dir,
        ServerSpec::new(config)
            .plugins(plugins)
            .data(fresh_store_url(dir)),
    )
}

static CLOCK: AtomicU32 = AtomicU32::new(0);

/// A fresh, increasing event time.
fn event_time() -> String {
    let n = CLOCK.fetch_add(1, Ordering::SeqCst);
    format!(
        "2026-03-02T{:02}:{:02}:{:02}Z",
        8 + n / 3600,
        (n / 60) % 60,
        n % 60
    )
}

async fn post_c2d(server: &Server, body: &Value) -> reqwest::Response {
    client()
        .post(server.url(&format!("/webhooks/chat2desk?token={TOKEN}")))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn message(server: &Server, hook: &str, dialog: u64, message_id: u64, text: &str) {
    let (kind, operator) = if hook == "inbox" {
        ("from_client", json!(""))
    } else {
        ("to_client", json!(41164))
    };
    let body = json!({
        "message_id": message_id, "type": kind, "text": text, "transport": "telegram",
        "client_id": dialog + 10_000, "operator_id": operator, "dialog_id": dialog, "channel_id": 17,
        "hook_type": hook, "request_id": dialog + 20_000, "attachments": [], "is_new_request": "",
        "event_time": event_time(),
    });
    let r = post_c2d(server, &body).await;
    assert!(
        r.status().is_success(),
        "{hook} {message_id}: {} {}",
        r.status(),
        r.text().await.unwrap()
    );
}

fn hints_request(dialog: u64, request_id: u64, message_id: u64) -> Value {
    json!({
        "client_id": dialog + 10_000, "operator_id": 1, "dialog_id": dialog, "request_id": request_id,
        "channel_id": 17, "message_id": message_id, "hook_type": "ai_hints_requested", "event_time": event_time(),
    })
}

fn choice(dialog: u64, message_id: u64, hint_id: i64) -> Value {
    json!({"client_id": dialog + 10_000, "message_id": message_id, "hint_id": hint_id,
           "hook_type": "ai_hints_requested", "event_time": event_time()})
}

fn texts(reply: &Value) -> Vec<String> {
    reply["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap().to_string())
        .collect()
}

fn hint_id_of(reply: &Value, starts_with: &str) -> Option<i64> {
    reply["hints"].as_array()?.iter().find(|h| {
        h["text"]
            .as_str()
            .is_some_and(|t| t.starts_with(starts_with))
    })?["id"]
        .as_i64()
}

async fn api_hints(server: &Server, body: Value) -> reqwest::Response {
    client()
        .post(server.url("/api/v1/hints"))
        .bearer_auth(ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn metrics(server: &Server) -> String {
    client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of a metric line starting with `prefix` (name and labels), 0 when absent.
fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn verify_signature(received: &hintd_tests::receiver::Received) {
    let id = received.header("webhook-id").expect("webhook-id");
    let ts = received
        .header("webhook-timestamp")
        .expect("webhook-timestamp");
    let sig = received
        .header("webhook-signature")
        .expect("webhook-signature");
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&received.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert!(
        sig.split(' ').any(|s| s == expected),
        "signature {sig} does not verify (expected {expected})"
    );
    let age = (chrono_now() - ts.parse::<i64>().unwrap()).abs();
    assert!(age < 60, "timestamp is current");
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_reply_has_the_chat2desk_shape_and_repeats_are_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        config("inline", None, ""),
        plugins(tmp.path(), None),
    );
    // Before any traffic every family with known labels is there at zero, the loaded
    // plugins' too, so that `increase()` sees the first event.
    let m = metrics(&server).await;
    for series in [
        "hintd_hint_requests_total{source=\"chat2desk\",outcome=\"computed\"} 0",
        "hintd_hint_requests_total{source=\"api\",outcome=\"error\"} 0",
        "hintd_ingest_duplicates_total{source=\"whazing\"} 0",
        "hintd_hint_callbacks_total{outcome=\"failed\"} 0",
        "hintd_webhook_deliveries_total{outcome=\"failure\"} 0",
        "hintd_http_connections_refused_total 0",
        "hintd_plugin_calls_total{plugin=\"faq\",outcome=\"timeout\"} 0",
        "hintd_hints_chosen_total{plugin=\"replies\"} 0",
    ] {
        assert!(m.lines().any(|l| l == series), "no `{series}` in\n{m}");
    }
    message(
        &server,
        "inbox",
        331,
        8205,
        "Hi! How long does delivery take to my city?",
    )
    .await;

    let r = post_c2d(&server, &hints_request(331, 2343, 8205)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let first = r.text().await.unwrap();
    let reply: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        reply["message_id"],
        json!(8205),
        "message id echoed as a number"
    );
    let hints = reply["hints"].as_array().unwrap();
    assert!(!hints.is_empty() && hints.len() <= 5);
    for (i, h) in hints.iter().enumerate() {
        assert_eq!(h["id"], json!(i + 1), "ids are 1..k in order");
        assert!(h["relevance"].as_u64().unwrap() <= 100);
        assert!(
            h["url"].is_string() && h["link"].is_string(),
            "url and link are strings: {h}"
        );
        assert_eq!(
            h.as_object().unwrap().len(),
            5,
            "exactly id, text, url, relevance, link: {h}"
        );
    }
    assert!(
        texts(&reply)[0].starts_with(DELIVERY_ANSWER),
        "faq answers the delivery question first: {reply}"
    );
    let relevances: Vec<u64> = hints
        .iter()
        .map(|h| h["relevance"].as_u64().unwrap())
        .collect();
    assert!(
        relevances.windows(2).all(|w| w[0] >= w[1]),
        "sorted by relevance: {relevances:?}"
    );

    // The same request again (a platform retry): the same bytes, not recomputed.
    let r = post_c2d(&server, &hints_request(331, 2343, 8205)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), first);
    let m = metrics(&server).await;
    assert_eq!(
        metric(
            &m,
            "hintd_hint_requests_total{source=\"chat2desk\",outcome=\"computed\"}"
        ),
        1.0,
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "hintd_hint_requests_total{source=\"chat2desk\",outcome=\"replayed\"}"
        ),
        1.0
    );
    assert!(m.contains("hintd_hint_request_duration_seconds_bucket"));
    assert!(m.contains("hintd_plugin_calls_total"));
    assert!(metric(&m, "hintd_hints_shown_total{plugin=\"faq\"}") >= 1.0);
    assert!(
        m.contains("hintd_ingest_events_total"),
        "ingest counters are exported too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_is_signed_and_retried_after_a_failure() {
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500)]);
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        config("callback", Some(&receiver.url("/hints")), ""),
        plugins(tmp.path(), None),
    );
    message(
        &server,
        "inbox",
        400,
        9001,
        "Which payment methods do you accept?",
    )
    .await;

    let started = Instant::now();
    let r = post_c2d(&server, &hints_request(400, 7001, 9001)).await;
    assert_eq!(r.status(), 202, "callback mode answers at once");
    assert!(started.elapsed() < Duration::from_secs(2));

    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2, "one failure, then one retry that succeeds");
    assert_eq!(got[0].path, "/hints");
    assert_eq!(
        got[0].header("webhook-id"),
        got[1].header("webhook-id"),
        "retries keep the message id"
    );
    assert_eq!(got[0].body, got[1].body);
    for received in &got {
        verify_signature(received);
    }
    let reply = got[1].json();
    assert_eq!(reply["message_id"], json!(9001));
    assert!(
        texts(&reply)[0].starts_with("We accept credit and debit cards"),
        "{reply}"
    );
    let m = metrics(&server).await;
    assert_eq!(
        metric(&m, "hintd_hint_callbacks_total{outcome=\"sent\"}"),
        1.0,
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_to_a_refused_address_is_refused_and_reported() {
    let receiver = Receiver::start().await;
    let tmp = tempfile::tempdir().unwrap();
    // The loopback receiver the other tests reach with the opt-in, spelled as one integer.
    let url = format!("http://2130706433:{}/hints", receiver.addr.port());
    let server = start(
        tmp.path(),
        config_without_opt_in("callback", Some(&url), ""),
        plugins(tmp.path(), None),
    );
    message(
        &server,
        "inbox",
        420,
        9401,
        "Which payment methods do you accept?",
    )
    .await;
    let r = post_c2d(&server, &hints_request(420, 7401, 9401)).await;
    assert_eq!(r.status(), 202, "the request itself is answered");

    let m = eventually(Duration::from_secs(10), || async {
        let m = metrics(&server).await;
        (metric(&m, "hintd_hint_callbacks_total{outcome=\"failed\"}") >= 1.0).then_some(m)
    })
    .await
    .expect("the refused callback is counted as failed");
    let refusals: Vec<&str> = m
        .lines()
        .filter(|l| l.starts_with("hintd_outbound_refusals_total{"))
        .collect();
    assert_eq!(refusals.len(), 1, "{m}");
    assert!(
        refusals[0].contains("path=\"callback\"")
            && refusals[0].contains("range=\"loopback\"")
            && refusals[0].ends_with(" 1"),
        "{}",
        refusals[0]
    );
    assert_eq!(
        metric(&m, "hintd_hint_callback_attempts_failed_total"),
        0.0,
        "a refusal is final: no retries"
    );
    assert_eq!(
        metric(&m, "hintd_hint_callbacks_total{outcome=\"sent\"}"),
        0.0
    );
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the receiver"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_answers_inline_and_posts_the_same_body() {
    let receiver = Receiver::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        config("both", Some(&receiver.url("/cb")), ""),
        plugins(tmp.path(), None),
    );
    message(&server, "inbox", 401, 9101, "How do I return a product?").await;
    let r = post_c2d(&server, &hints_request(401, 7101, 9101)).await;
    assert_eq!(r.status(), 200);
    let inline = r.bytes().await.unwrap();
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body,
        inline.to_vec(),
        "the callback carries the inline body"
    );
    verify_signature(&got[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_client_message_suppresses_the_callback() {
    let mock = LlmMock::start(&["Let me check that for you."]).await;
    mock.set_delay(Duration::from_millis(600));
    let receiver = Receiver::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        config(
            "callback",
            Some(&receiver.url("/cb")),
            "request_deadline_ms = 2000\n",
        ),
        plugins(tmp.path(), Some((&mock, 1500))),
    );
    message(&server, "inbox", 402, 9201, "Where is my order?").await;
    let r = post_c2d(&server, &hints_request(402, 7201, 9201)).await;
    assert_eq!(r.status(), 202);
    // While the llm plugin thinks, the client writes again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    message(&server, "inbox", 402, 9202, "Hello? Anyone there?").await;

    let m = eventually(Duration::from_secs(10), || async {
        let m = metrics(&server).await;
        (metric(&m, "hintd_hint_callbacks_total{outcome=\"suppressed\"}") >= 1.0).then_some(m)
    })
    .await
    .expect("the callback is counted as suppressed");
    assert_eq!(
        metric(&m, "hintd_hint_callbacks_total{outcome=\"sent\"}"),
        0.0
    );
    assert!(receiver.requests().is_empty(), "stale hints are not sent");
    assert_eq!(mock.requests().len(), 1, "the llm plugin was asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_plugin_does_not_delay_the_answer_past_the_deadline() {
    let mock = LlmMock::start(&["Too late to matter."]).await;
    mock.set_delay(Duration::from_secs(5));
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        config("inline", None, "request_deadline_ms = 300\n"),
        plugins(tmp.path(), Some((&mock, 3000))),
    );
    message(&server, "inbox", 403, 9301, "How long does delivery take?").await;
    let started = Instant::now();
    let r = post_c2d(&server, &hints_request(403, 7301, 9301)).await;
    let took = started.elapsed();
    assert_eq!(r.status(), 200);
    let reply: Value = r.json().await.unwrap();
    // Deadline 300 ms; a generous bound so a loaded CI machine never flakes.
    assert!(took < Duration::from_millis(1500), "answered in {took:?}");
    assert!(
        texts(&reply)[0].starts_with(DELIVERY_ANSWER),
        "the others' hints still come: {reply}"
    );
    assert!(!texts(&reply).iter().any(|t| t.contains("Too late")));
    let m = metrics(&server).await;
    // Cut off by the request deadline, or by its own call deadline shortened to it (then the
    // plugin sees its http call time out and reports an upstream error): either way, left out.
    assert!(
        metric(&m, "hintd_hint_provider_results_total{plugin=\"llm\"") >= 1.0,
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "hintd_hint_provider_results_total{plugin=\"llm\",outcome=\"ok\"}"
        ),
        0.0,
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_plugin_turns_a_completion_into_hints() {
    let mock = LlmMock::start(&[
        "Sure, I can help with that.",
        "Could you share your order number?",
        "x",
        "y",
    ])
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        config("inline", None, ""),
        plugins(tmp.path(), Some((&mock, 2000))),
    );
    message(
        &server,
        "inbox",
        404,
        9401,
        "I have a problem with my purchase",
    )
    .await;
    let reply: Value = post_c2d(&server, &hints_request(404, 7401, 9401))
        .await
        .json()
        .await
        .unwrap();
    let t = texts(&reply);
    assert!(
        t.contains(&"Sure, I can help with that.".to_string()),
        "{reply}"
    );
    assert!(t.contains(&"Could you share your order number?".to_string()));
    assert!(
        !t.contains(&"x".to_string()),
        "max_hints = 2 of the plugin's config is respected"
    );
    let (headers, body) = &mock.requests()[0];
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(body["model"], "test-model");
    let messages = body["messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m["role"] == "user" && m["content"] == "I have a problem with my purchase")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_choice_reaches_the_plugin_and_changes_the_next_ranking_of_replies() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        config("inline", None, ""),
        plugins(tmp.path(), None),
    );
    const A: &str = "Sorry, we do not take bitcoin.";
    const B: &str = "No bitcoin for now, but card and PIX work fine.";
    // Two dialogues teach `replies` two answers to similar questions.
    message(&server, "inbox", 501, 1, "Can I pay with bitcoin?").await;
    message(&server, "outbox", 501, 2, A).await;
    message(&server, "inbox", 502, 3, "Do you accept bitcoin to pay?").await;
    message(&server, "outbox", 502, 4, B).await;
    message(&server, "inbox", 503, 5, "Can I pay with bitcoin here?").await;

    // `observe` runs off the request path: wait until both replies are learnt.
    eventually(Duration::from_secs(10), || async {
        let r: Value = api_hints(&server, json!({"source": "chat2desk", "dialog_id": 503}))
            .await
            .json()
            .await
            .ok()?;
        (hint_id_of(&r, A).is_some() && hint_id_of(&r, B).is_some()).then_some(())
    })
    .await
    .expect("replies learnt both answers");

    let first: Value = post_c2d(&server, &hints_request(503, 8001, 5))
        .await
        .json()
        .await
        .unwrap();
    let (a, b) = (
        hint_id_of(&first, A).unwrap(),
        hint_id_of(&first, B).unwrap(),
    );
    assert!(
        a < b,
        "the closer question ranks first before any feedback: {first}"
    );

    // The operator picks B (form 2).
    let chosen_id = b;
    let r = post_c2d(&server, &choice(503, 5, b)).await;
    assert_eq!(r.status(), 200);
    let chosen: Value = r.json().await.unwrap();
    assert_eq!(chosen["choice"]["plugin"], "replies");
    assert_eq!(chosen["choice"]["position"], json!(b));
    let told: Vec<(String, String)> =
        serde_json::from_value(chosen["choice"]["feedback"].clone()).unwrap();
    assert!(told.contains(&("replies".into(), "ok".into())), "{told:?}");

    // The next request ranks B above A.
    message(
        &server,
        "inbox",
        503,
        6,
        "So can I pay with bitcoin here or not?",
    )
    .await;
    let next: Value = eventually(Duration::from_secs(10), || async {
        let r: Value = post_c2d(&server, &hints_request(503, 8002, 6))
            .await
            .json()
            .await
            .ok()?;
        hint_id_of(&r, B).is_some().then_some(r)
    })
    .await
    .unwrap();
    let (a, b) = (hint_id_of(&next, A), hint_id_of(&next, B).unwrap());
    assert!(
        a.is_none_or(|a| b < a),
        "the chosen reply now ranks higher: {next}"
    );

    let stats: Value = client()
        .get(server.url("/api/v1/hints/stats"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["answers_chosen"], json!(1), "{stats}");
    let replies = stats["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["plugin"] == "replies")
        .unwrap();
    assert_eq!(replies["chosen"], json!(1));
    assert!(replies["acceptance_rate"].as_f64().unwrap() > 0.0);
    assert_eq!(stats["chosen_positions"], json!([[chosen_id, 1]]));
    let m = metrics(&server).await;
    assert_eq!(
        metric(&m, "hintd_hints_chosen_total{plugin=\"replies\"}"),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_choices_get_404_and_bad_api_requests_400() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        config("inline", None, ""),
        plugins(tmp.path(), None),
    );
    let r = post_c2d(&server, &choice(600, 424242, 1)).await;
    assert_eq!(r.status(), 404);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unknown_message");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("424242"),
        "{e}"
    );
    // The refused webhook was not stored: its redelivery is refused again, not taken for a
    // duplicate of a stored event.
    let r = post_c2d(&server, &choice(600, 424242, 1)).await;
    assert_eq!(r.status(), 404);

    message(&server, "inbox", 600, 9601, "How can I cancel my order?").await;
    let reply: Value = post_c2d(&server, &hints_request(600, 7601, 9601))
        .await
        .json()
        .await
        .unwrap();
    let n = reply["hints"].as_array().unwrap().len() as i64;
    let r = post_c2d(&server, &choice(600, 9601, n + 5)).await;
    assert_eq!(r.status(), 404);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unknown_hint");
    assert_eq!(e["error"]["field"], "hint_id");
    let r = post_c2d(&server, &choice(600, 9601, n + 5)).await;
    assert_eq!(r.status(), 404, "a refused choice is refused again");
    let stats: Value = client()
        .get(server.url("/api/v1/hints/stats"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["answers_chosen"],
        json!(0),
        "nothing was recorded: {stats}"
    );

    // The generic API: precise 400s, 401 without the key.
    for (body, field) in [
        (json!({"dialog_id": 1}), "source"),
        (json!({"source": "nope", "dialog_id": 1}), "source"),
        (json!({"source": "chat2desk"}), "dialog_id"),
        (
            json!({"source": "chat2desk", "dialog_id": [1]}),
            "dialog_id",
        ),
        (
            json!({"source": "chat2desk", "dialog_id": 1, "max_hints": 50}),
            "max_hints",
        ),
    ] {
        let r = api_hints(&server, body.clone()).await;
        assert_eq!(r.status(), 400, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{body} → {e}");
    }
    // A dialog hintd never heard of is not found (it used to be a 400 on `message_id`).
    let body = json!({"source": "chat2desk", "dialog_id": 77777});
    let r = api_hints(&server, body.clone()).await;
    assert_eq!(r.status(), 404, "{body}");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "dialog_id", "{body} → {e}");
    let r = client()
        .post(server.url("/api/v1/hints"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let ok: Value = api_hints(
        &server,
        json!({"source": "chat2desk", "dialog_id": 600, "max_hints": 1}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(ok["hints"].as_array().unwrap().len(), 1);
    assert_eq!(
        ok["message_id"],
        json!(9601),
        "the latest client message is answered by default"
    );
}

fn eval(plugins: &Path) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .arg("eval")
        .arg("--plugins")
        .arg(plugins)
        .arg("--dialogs")
        .arg(repo_root().join("examples/dialogues.jsonl"))
        .args(["--k", "1,3", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `--baselines` scores BM25 over the account's earlier replies and the oracle on the same
/// replay; `--per-reply` writes every reply with what each system showed; a failing plugin's
/// calls and a plugin's refused `kv` writes are counted, every reply asked of every plugin
/// (no circuit skips them); compiled plugins go to the user's cache, not the working directory.
#[test]
fn eval_reports_baselines_every_reply_failures_and_kv_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugins(tmp.path(), None);
    hintd_tests::plugins::install_hostile(
        &dir,
        "trapper",
        "trap",
        "capabilities = [\"config\"]",
        "",
    );
    hintd_tests::plugins::install_hostile(
        &dir,
        "hoarder",
        "kv",
        "capabilities = [\"kv\", \"config\"]",
        "kv_bytes = 2000000",
    );
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let per_reply = tmp.path().join("replies.jsonl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .current_dir(&work)
        .env("XDG_CACHE_HOME", tmp.path().join("cache"))
        .arg("eval")
        .arg("--plugins")
        .arg(&dir)
        .arg("--dialogs")
        .arg(repo_root().join("examples/dialogues.jsonl"))
        .args([
            "--k",
            "1,3,9",
            "--json",
            "--baselines",
            "--verbose",
            "--per-reply",
        ])
        .arg(&per_reply)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --verbose: what the plugins said, on stderr (the trapping plugin's panic message).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("hostile plugin panics on purpose"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The entry of `list` (`systems` or `plugins`) whose `key` is `name`.
    let entry = |list: &str, key: &str, name: &str| {
        report[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s[key] == name)
            .unwrap_or_else(|| panic!("no {name} in {report:#}"))
            .clone()
    };
    let system = |name: &str| entry("systems", "system", name);
    // Each plugin also scored on what the merge kept of its hints: the merge can only keep
    // hints a plugin gave, so it shows them for no more replies than the plugin answered.
    for plugin in ["faq", "replies", "trapper"] {
        let kept = entry("kept", "system", &format!("kept:{plugin}"));
        let own = system(plugin);
        assert_eq!(kept["replies"], 40);
        let coverage = |r: &Value| r["coverage"].as_f64().unwrap();
        assert!(coverage(&kept) <= coverage(&own), "{kept} {own}");
    }
    assert_eq!(entry("kept", "system", "kept:trapper")["coverage"], 0.0);
    let bm25 = system("bm25-history");
    assert_eq!(bm25["replies"], 40);
    assert!(bm25["hit_at"]["1"].as_f64().unwrap() > 0.0, "{bm25}");
    let oracle = report["oracle"].as_f64().unwrap();
    assert!(oracle > 0.0 && oracle <= 1.0, "{report}");
    // No system that suggests past replies beats the oracle.
    assert!(bm25["hit_at"]["9"].as_f64().unwrap() <= oracle, "{report}");
    assert!(report["max_hints"].as_u64().unwrap() < 9);

    let health = |name: &str| entry("plugins", "plugin", name);
    let trapper = health("trapper");
    assert_eq!(trapper["suggest"]["trap"], 40, "{trapper}");
    assert!(trapper["failed_calls"].as_u64().unwrap() >= 40, "{trapper}");
    assert_eq!(health("hoarder")["kv_refusals"], 40, "{report:#}");
    assert_eq!(health("faq")["suggest"]["ok"], 40);

    let lines: Vec<Value> = std::fs::read_to_string(&per_reply)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 40);
    let matched = lines.iter().filter(|l| !l["matched_at"].is_null()).count() as f64;
    let merged_hit_9 = system("merged")["hit_at"]["9"].as_f64().unwrap();
    assert!((matched / 40.0 - merged_hit_9).abs() < 1e-9, "{}", lines[0]);
    for l in &lines {
        assert!(l["reply"].is_string() && l["merged"].is_array(), "{l}");
        assert_eq!(l["plugins"]["trapper"]["outcome"], "trap", "{l}");
        assert!(l["baselines"]["oracle"].is_boolean(), "{l}");
    }

    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "eval wrote into its working directory"
    );
    assert!(tmp.path().join("cache/hintd/plugin-cache").is_dir());
}

#[test]
fn eval_on_the_example_dialogues_gives_stable_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugins(tmp.path(), None);
    let (a, b) = (eval(&dir), eval(&dir));
    let quality = |r: &Value| -> Vec<(String, Value, Value, Value, Value)> {
        r["systems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["system"].as_str().unwrap().to_string(),
                    s["hit_at"].clone(),
                    s["mrr"].clone(),
                    s["coverage"].clone(),
                    s["acceptance"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(quality(&a), quality(&b), "two runs agree");
    assert_eq!(a["dialogues"], json!(20));
    let systems: Vec<&str> = a["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["system"].as_str().unwrap())
        .collect();
    assert_eq!(systems, ["merged", "faq", "replies"]);
    let merged = &a["systems"][0];
    assert_eq!(merged["replies"], json!(40));
    assert!(merged["hit_at"]["1"].as_f64().unwrap() >= 0.5, "{merged}");
    assert!(merged["hit_at"]["3"].as_f64().unwrap() >= merged["hit_at"]["1"].as_f64().unwrap());
    assert!(merged["coverage"].as_f64().unwrap() >= 0.9);
    let replies = &a["systems"][2];
    assert!(
        replies["mrr"].as_f64().unwrap() > 0.3,
        "replies learns from the earlier dialogues: {replies}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hint_events_reach_webhook_subscribers() {
    let receiver = Receiver::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let dispatch = format!(
        "\n[dispatch]\nsecret_key = \"{SEAL_KEY}\"\npoll_interval = \"50ms\"\n\
         allowed_cidrs = [\"127.0.0.0/8\"]\n"
    );
    let server = start(
        tmp.path(),
        config("inline", None, "") + &dispatch,
        plugins(tmp.path(), None),
    );
    let r = client()
        .post(server.url("/api/v1/webhooks"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"name": "hints", "url": receiver.url("/events"), "events": ["hints.generated", "hint.selected"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    message(
        &server,
        "inbox",
        700,
        9701,
        "Which payment methods do you accept?",
    )
    .await;
    let reply: Value = post_c2d(&server, &hints_request(700, 7701, 9701))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(post_c2d(&server, &choice(700, 9701, 1)).await.status(), 200);

    let got = receiver.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(
        got.len(),
        2,
        "one hints.generated and one hint.selected, nothing else"
    );
    let bodies: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let generated = bodies
        .iter()
        .find(|b| b["type"] == "hints.generated")
        .expect("hints.generated");
    assert_eq!(generated["source"], "hintd");
    assert_eq!(generated["data"]["message_id"], "9701");
    assert_eq!(
        generated["data"]["hints"][0]["text"],
        reply["hints"][0]["text"]
    );
    assert_eq!(generated["data"]["hints"][0]["plugin"], "faq");
    let selected = bodies
        .iter()
        .find(|b| b["type"] == "hint.selected")
        .expect("hint.selected");
    assert_eq!(selected["data"]["hint_id"], json!(1));
    assert_eq!(selected["data"]["plugin"], "faq");
    assert_eq!(
        selected["data"]["answer_id"],
        generated["data"]["answer_id"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_survive_a_restart_for_replays_and_choices() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = start(
        tmp.path(),
        config("inline", None, ""),
        plugins(tmp.path(), None),
    );
    message(&server, "inbox", 800, 9801, "How do I return a product?").await;
    let first = post_c2d(&server, &hints_request(800, 7801, 9801))
        .await
        .text()
        .await
        .unwrap();
    // Statistics are read after everything queued is written.
    let stats: Value = client()
        .get(server.url("/api/v1/hints/stats"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["answers_shown"], json!(1), "{stats}");
    tokio::task::block_in_place(|| server.restart());

    let again = post_c2d(&server, &hints_request(800, 7801, 9801))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "the stored answer is replayed after a restart"
    );
    let r = post_c2d(&server, &choice(800, 9801, 1)).await;
    assert_eq!(r.status(), 200);
    let chosen: Value = r.json().await.unwrap();
    assert_eq!(chosen["choice"]["plugin"], "faq");
    let told: Vec<(String, String)> =
        serde_json::from_value(chosen["choice"]["feedback"].clone()).unwrap();
    assert!(
        told.iter()
            .any(|(p, outcome)| p == "faq" && outcome == "ok"),
        "{told:?}"
    );
}
