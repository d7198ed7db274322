//! The hint panel (`GET /panel`) in a real browser: the system Chromium, driven by
//! playwright-core (`tests/browser/panel.cjs`), opens a loopback parent page that embeds the
//! panel in a frame and speaks Chatwoot's dashboard-app protocol, against the real hintd
//! with the shipped plugins. Everything stays on loopback. The screenshots of the panel's
//! states land in `docs/panel-*.png` (shown in the README).
//!
//! `tests/browser/setup.sh` installs the browser and playwright-core when they are missing.

use hintd_tests::browser::{CHROMIUM, browser_dir, ensure_browser};
use hintd_tests::plugins::{install_hostile, install_shipped, repo_root};
use hintd_tests::server::{ADMIN_KEY, Server, ServerSpec, client, eventually};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const WEBHOOK_TOKEN: &str = "chatwoot-webhook-token";
const SHOP_PANEL: &str = "shop-panel-token-0123456789";
const BANK_PANEL: &str = "bank-panel-token-9876543210";
/// The conversation (Chatwoot display id) the panel follows.
const CONVERSATION: u64 = 42;
/// A conversation whose client message no plugin can answer (one plugin fails).
const FAILING: u64 = 43;
/// A conversation hintd has never heard of.
const UNKNOWN: u64 = 99;
/// The conversation of the latency measurement, and its messages.
const BENCH: u64 = 44;
const BENCH_MESSAGES: u64 = 30;
const DELIVERY: &str = "Orders are delivered in 3 to 5 business days";
const RETURNS: &str = "You can return any item within 30 days";
const EDITED: &str = "Hi Maria! You can return any item within 30 days, free of charge.";
/// The conversation whose `replies` ranking the panel's choice changes, and the two
/// conversations that teach `replies` its two answers (WRAP_A after TEACH_A's question,
/// WRAP_B after TEACH_B's).
const RANKED: u64 = 45;
const TEACH_A: u64 = 46;
const TEACH_B: u64 = 47;
const WRAP_A: &str = "Yes, any order can be gift wrapped at checkout for 5 euros.";
const WRAP_B: &str = "Gift wrapping is available in red or green paper, free of charge.";
/// `replies` ranks a learned reply by `cosine × α/(α+β)`, the cosine of content-word sets
/// (stop words dropped, a plural's `s` stripped) between the question and the client message
/// the reply once answered, the quality starting at Beta(1, 1). Every client message of
/// RANKED has the words {gift, wrapping, present}; WRAP_A answered the same words
/// (cosine 1), WRAP_B answered {gift, wrapping, available} (cosine 2/√9 = ⅔). Before any
/// choice: WRAP_A 1 × ½ = 0.5 above WRAP_B ⅔ × ½ ≈ 0.33 (relevance 100 and 67).
/// A choice of WRAP_B with both shown gives it α = 2 and WRAP_A β = 2; after k such choices
/// WRAP_B scores ⅔ × (k+1)/(k+2) and WRAP_A 1/(k+2), so WRAP_B leads once 2(k+1) > 3: one
/// choice is enough (WRAP_B ⅔ × ⅔ ≈ 0.44 above WRAP_A ⅓: relevance 89 and 67). hintd records
/// one choice per hint of an answer, so more choices would each need a new client message.
/// The words differ from every other conversation of this test, so no other step shows these
/// replies or moves their quality.
const TEACH_A_QUESTION: &str = "Can you do gift wrapping for presents?";
const TEACH_B_QUESTION: &str = "Is gift wrapping available?";
const RANKED_QUESTION: &str = "Hi! Can you do gift wrapping for my presents?";
const RANKED_AGAIN: &str = "And gift wrapping for presents, can you do it?";
/// Chatwoot message ids of RANKED's two client messages.
const RANKED_FIRST_ID: u64 = 5301;
const RANKED_AGAIN_ID: u64 = 5302;

/// A loopback server of the test's parent page (Chatwoot's stand-in). Returns its origin.
fn parent_page() -> String {
    use std::io::{Read, Write};
    let html = std::fs::read(repo_root().join("tests/browser/parent.html")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let html = html.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let n = conn.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let (status, body): (&str, &[u8]) = if head.starts_with("GET /parent.html") {
                    ("200 OK", &html)
                } else {
                    ("404 Not Found", b"not found")
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(body);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn config(parent_origin: &str) -> String {
    format!(
        "[sources.chatwoot]\ntoken = \"{WEBHOOK_TOKEN}\"\npanel_frame_ancestors = [\"{parent_origin}\"]\n\
         [sources.chatwoot.accounts.shop]\npanel_token = \"{SHOP_PANEL}\"\nchatwoot_account_id = 1\n\
         [sources.chatwoot.accounts.bank]\npanel_token = \"{BANK_PANEL}\"\nchatwoot_account_id = 2\n"
    )
}

/// Posts a Chatwoot `message_created` webhook of a client message to the shop account.
async fn client_message(server: &Server, conversation: u64, id: u64, text: &str) {
    message(server, conversation, id, text, false).await;
}

/// Posts a Chatwoot `message_created` webhook of an operator's (public) reply to the shop
/// account: what `replies` learns from.
async fn operator_message(server: &Server, conversation: u64, id: u64, text: &str) {
    message(server, conversation, id, text, true).await;
}

async fn message(server: &Server, conversation: u64, id: u64, text: &str, operator: bool) {
    let (message_type, sender) = if operator {
        ("outgoing", json!({"id": 7, "name": "Ana", "type": "user"}))
    } else {
        (
            "incoming",
            json!({"id": 501, "name": "Maria", "type": "contact"}),
        )
    };
    let body = json!({
        "event": "message_created", "id": id, "content": text,
        "created_at": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        "message_type": message_type, "content_type": "text", "content_attributes": {},
        "private": false,
        "sender": sender,
        "contact": {"id": 501, "name": "Maria"},
        "conversation": {"display_id": conversation, "id": conversation + 1000, "inbox_id": 3,
                         "status": "open", "meta": {"sender": {"id": 501, "type": "contact"}}},
        "account": {"id": 1, "name": "Shop"}
    });
    let r = client()
        .post(server.url(&format!("/webhooks/chatwoot/shop?token={WEBHOOK_TOKEN}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "webhook: {}", r.status());
}

/// `POST /api/v1/hints` (admin key) for RANKED's client message `message_id`: `None` until
/// hintd answers it.
async fn ranked_hints(server: &Server, message_id: u64) -> Option<Value> {
    let r = client()
        .post(server.url("/api/v1/hints"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"source": "chatwoot", "account": "shop",
                      "dialog_id": RANKED.to_string(), "message_id": message_id.to_string()}))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

/// The order in which hints (`[{text, plugin?}]`, from the panel or the API) show the two
/// learned replies.
fn wrap_order(hints: &Value) -> Vec<&str> {
    hints
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["plugin"].as_str().is_none_or(|p| p.ends_with("replies")))
        .filter_map(|h| h["text"].as_str())
        .filter(|t| [WRAP_A, WRAP_B].contains(t))
        .collect()
}

/// The panel's relevance of one learned reply.
fn relevance_of(hints: &Value, text: &str) -> i64 {
    hints
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["text"] == text)
        .and_then(|h| h["relevance"].as_i64())
        .unwrap_or_else(|| panic!("{text:?} not shown: {hints}"))
}

async fn stats(server: &Server) -> Value {
    client()
        .get(server.url("/api/v1/hints/stats?source=chatwoot&account=shop"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hint_panel_in_a_real_browser() {
    ensure_browser();
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_shipped(&plugins, "faq", "");
    install_shipped(&plugins, "replies", "");
    // A plugin that always fails, so the "plugins failed" state can be seen.
    install_hostile(&plugins, "flaky", "trap", "capabilities = [\"config\"]", "");
    let parent = parent_page();
    // The same page from an origin the configuration does not list.
    let unlisted = parent_page();
    let mut server = Server::start(
        tmp.path(),
        ServerSpec::new(config(&parent)).plugins(&plugins),
    );
    client_message(
        &server,
        CONVERSATION,
        5001,
        "Hello, how long does delivery take? When will my order arrive?",
    )
    .await;
    client_message(&server, FAILING, 5101, "xyzzy plugh").await;
    // Two conversations teach `replies` two answers to a gift-wrapping question (the math of
    // their ranking is at WRAP_A), then RANKED's client asks it.
    client_message(&server, TEACH_A, 5201, TEACH_A_QUESTION).await;
    operator_message(&server, TEACH_A, 5202, WRAP_A).await;
    client_message(&server, TEACH_B, 5211, TEACH_B_QUESTION).await;
    operator_message(&server, TEACH_B, 5212, WRAP_B).await;
    client_message(&server, RANKED, RANKED_FIRST_ID, RANKED_QUESTION).await;
    // `observe` runs off the request path: wait until `replies` has learnt both replies, so
    // that the panel's first answer for RANKED already holds them.
    let ranked_before = eventually(Duration::from_secs(10), || async {
        let r = ranked_hints(&server, RANKED_FIRST_ID).await?;
        (wrap_order(&r["hints"]).len() == 2).then_some(r)
    })
    .await
    .expect("replies learnt both gift-wrapping replies");
    let mut ranked_after = Value::Null;

    // The panel's own API: the JSON error shape, and the page's headers.
    let refused = client()
        .get(server.url(&format!(
            "/panel/api/hints?source=chatwoot&account=shop&dialog={CONVERSATION}"
        )))
        .bearer_auth(BANK_PANEL)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    let unauthenticated = client()
        .get(server.url(&format!(
            "/panel/api/hints?source=chatwoot&account=shop&dialog={CONVERSATION}"
        )))
        .bearer_auth("not-a-panel-token")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let admin_only = client()
        .get(server.url("/api/v1/hints/stats"))
        .bearer_auth(SHOP_PANEL)
        .send()
        .await
        .unwrap();
    assert_eq!(
        admin_only.status(),
        401,
        "a panel token is not the admin key"
    );
    let page = client()
        .get(server.url("/panel?source=chatwoot&account=shop"))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains(&format!("frame-ancestors {parent}")), "{csp}");

    let docs = repo_root().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let panel = |token: &str| format!("{}/panel?token={token}&source=chatwoot", server.base);
    let plan = json!({
        "node_modules": browser_dir().join("node_modules"),
        "chromium": CHROMIUM,
        "hintd": server.base,
        "parent": parent,
        "parent_unlisted": unlisted,
        "docs": docs,
        "conversation": CONVERSATION,
        "failing_conversation": FAILING,
        "unknown_conversation": UNKNOWN,
        "bench_conversation": BENCH,
        "bench_messages": BENCH_MESSAGES,
        "expect_after_update": RETURNS,
        "edited_text": EDITED,
        "ranked": {"conversation": RANKED, "replies": [WRAP_A, WRAP_B]},
        "panel": {
            "shop": panel(SHOP_PANEL),
            "wrong": panel("wrong-token-wrong-token"),
            "direct": format!("{}/panel?token={SHOP_PANEL}&source=chatwoot&account=shop&dialog={CONVERSATION}&lang=pt", server.base),
        },
    });
    let plan_path = tmp.path().join("plan.json");
    std::fs::write(&plan_path, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();

    let mut node = tokio::process::Command::new("node")
        .arg(repo_root().join("tests/browser/panel.cjs"))
        .arg(&plan_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut result = None;
    let mut stats_before_stop = Value::Null;
    let mut stopped_in = Duration::ZERO;
    let mut bench_sent = 0u64;
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(150), lines.next_line()).await
    {
        if let Some(what) = line.strip_prefix("ASK ") {
            match what {
                "ingest_new_message" => {
                    client_message(
                        &server,
                        CONVERSATION,
                        5002,
                        "I changed my mind: how do I return a product? I want a refund",
                    )
                    .await;
                }
                "ingest_ranked_question" => {
                    client_message(&server, RANKED, RANKED_AGAIN_ID, RANKED_AGAIN).await;
                    // The same ranking through the API, for the same fresh message.
                    ranked_after = eventually(Duration::from_secs(10), || {
                        ranked_hints(&server, RANKED_AGAIN_ID)
                    })
                    .await
                    .expect("hints for RANKED's second client message");
                }
                "ingest_bench_message" => {
                    bench_sent += 1;
                    let text = if bench_sent.is_multiple_of(2) {
                        "When will my order arrive?"
                    } else {
                        "How can I cancel my order?"
                    };
                    client_message(&server, BENCH, 6000 + bench_sent, text).await;
                }
                "stop_hintd" => {
                    stats_before_stop = stats(&server).await;
                    let at = Instant::now();
                    assert!(
                        server.terminate(Duration::from_secs(20)),
                        "hintd exits cleanly"
                    );
                    stopped_in = at.elapsed();
                }
                other => panic!("unknown request from panel.cjs: {other}"),
            }
            stdin.write_all(b"done\n").await.unwrap();
            stdin.flush().await.unwrap();
        } else if let Some(json) = line.strip_prefix("RESULT ") {
            result = Some(serde_json::from_str::<Value>(json).unwrap());
        }
    }
    let status = node.wait().await.unwrap();
    assert!(status.success(), "panel.cjs failed: {status}");
    let r = result.expect("panel.cjs printed its result");
    let steps = &r["steps"];
    eprintln!(
        "panel results: {}",
        serde_json::to_string_pretty(&r).unwrap()
    );

    // Hints of the conversation Chatwoot named, from the shipped plugins.
    let shown = &steps["shown"];
    assert_eq!(shown["dialog"], format!("#{CONVERSATION}"));
    assert!(
        shown["hints"][0].as_str().unwrap().starts_with(DELIVERY),
        "{shown}"
    );
    assert!(shown["plugins"][0].as_str().unwrap().ends_with("faq"));
    assert_eq!(shown["lang"], "en");
    // The page, its assets and the first hints: well within the 150 KB budget.
    let weight = steps["weight"]["bytes"].as_u64().unwrap();
    assert!(weight > 0 && weight < 150 * 1024, "{weight} bytes");

    // First hints after the navigation began (page, assets, Chatwoot's handshake, hints); the
    // budget is 300 ms on loopback, checked loosely here: test machines are shared and the
    // build is unoptimised.
    let first = shown["first_hints_ms"].as_u64().unwrap();
    assert!(first < 3_000, "first hints after {first} ms");
    let latency = &steps["latency"];
    assert_eq!(latency["n"], BENCH_MESSAGES);
    assert!(latency["p50_ms"].as_u64().unwrap() < 2_000, "{latency}");

    // A new client message, through the webhook, replaced the hints in the same document.
    let updated = &steps["updated"];
    assert!(
        updated["hints"][0].as_str().unwrap().starts_with(RETURNS),
        "{updated}"
    );
    assert_eq!(updated["same_document"], true, "the panel did not reload");

    // A click copied the hint and recorded the choice.
    let clicked = &steps["clicked"];
    assert_eq!(clicked["clipboard"], clicked["hint"]);
    assert_eq!(clicked["recorded"], "yes");
    // The choice went the way of Chat2Desk's: every plugin that had hints shown was told.
    assert!(
        clicked["feedback"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f[0] == "faq" && f[1] == "ok"),
        "{clicked}"
    );
    if !steps["key2"].is_null() {
        assert_eq!(steps["key2"]["clipboard"], steps["key2"]["hint"]);
        assert_eq!(steps["key2"]["recorded"], "yes");
    }
    assert_eq!(steps["edited"]["clipboard"], EDITED);
    assert_eq!(steps["edited"]["recorded"], "yes");
    // The choices reached hintd's records (`/api/v1/hints/stats`).
    assert!(
        stats_before_stop["answers_chosen"].as_i64().unwrap_or(0) >= 1,
        "{stats_before_stop}"
    );
    let choices: i64 = stats_before_stop["chosen_positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_i64().unwrap())
        .sum();
    let wanted = if steps["key2"].is_null() { 1 } else { 2 };
    assert!(choices >= wanted, "{stats_before_stop}");

    // The panel's choice reached `replies`: the reply the operator picked, ranked below the
    // other before, ranks above it on the next client message (one choice: see WRAP_A).
    let ranked = &steps["ranked"];
    assert_eq!(
        wrap_order(&ranked_before["hints"]),
        [WRAP_A, WRAP_B],
        "before any choice, the closer question ranks first (API): {ranked_before}"
    );
    assert_eq!(
        wrap_order(&ranked["before"]),
        [WRAP_A, WRAP_B],
        "before any choice, the closer question ranks first (panel): {ranked}"
    );
    assert_eq!(
        ranked["chosen"], WRAP_B,
        "the lower-ranked reply was clicked"
    );
    assert_eq!(ranked["clipboard"], WRAP_B);
    assert_eq!(ranked["recorded"], "yes");
    assert!(
        ranked["feedback"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f[0] == "replies" && f[1] == "ok"),
        "{ranked}"
    );
    assert_eq!(
        wrap_order(&ranked["after"]),
        [WRAP_B, WRAP_A],
        "after the choice, the chosen reply ranks first (panel): {ranked}"
    );
    assert_eq!(
        wrap_order(&ranked_after["hints"]),
        [WRAP_B, WRAP_A],
        "after the choice, the chosen reply ranks first (API): {ranked_after}"
    );
    // Both moved: the chosen one gained (α), the one passed over lost (β).
    let (before, after) = (&ranked["before"], &ranked["after"]);
    assert!(
        relevance_of(after, WRAP_B) > relevance_of(before, WRAP_B),
        "{ranked}"
    );
    assert!(
        relevance_of(after, WRAP_A) < relevance_of(before, WRAP_A),
        "{ranked}"
    );

    assert!(
        steps["failed"]["text"].as_str().unwrap().contains("flaky"),
        "{}",
        steps["failed"]
    );
    assert!(steps["refused"]["text"].as_str().unwrap().contains("token"));
    assert!(
        steps["other_account"]["text"]
            .as_str()
            .unwrap()
            .contains("token")
    );
    assert!(
        steps["direct"]["hints"][0]
            .as_str()
            .unwrap()
            .starts_with(RETURNS)
    );
    assert_eq!(
        steps["unlisted"]["panel_rendered"], 0,
        "frame-ancestors lets only the configured origin frame the panel: {}",
        steps["unlisted"]
    );
    assert_eq!(steps["direct"]["lang"], "pt");
    assert_eq!(steps["direct"]["refresh_status"], 200);
    assert_eq!(
        steps["direct"]["tab_focus"], "pick",
        "Tab reaches the first hint"
    );
    assert!(
        steps["direct"]["toast"]
            .as_str()
            .unwrap()
            .starts_with("Copiado")
    );
    assert_eq!(steps["direct"]["title"], "Sugestões");
    assert!(!steps["unreachable"]["text"].as_str().unwrap().is_empty());
    // Open event streams end with the shutdown instead of holding it for its grace.
    assert!(
        stopped_in < Duration::from_secs(5),
        "hintd took {stopped_in:?} to stop"
    );
    assert_eq!(
        r["offHost"],
        json!([]),
        "the panel asked for something off loopback"
    );
}
