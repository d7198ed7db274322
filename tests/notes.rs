//! End-to-end tests of hint delivery per source: Chatwoot private notes (`delivery = "note"`)
//! posted to a mock Chatwoot Application API on loopback from client messages ingested
//! through the real, signed Chatwoot webhook; and `POST /api/v1/hints` in each delivery mode.
//! The real hintd runs with the shipped `faq` and `replies` plugins.

use hintd_tests::plugins::install_shipped;
use hintd_tests::receiver::{Receiver, Reply};
use hintd_tests::server::{ADMIN_KEY, Server, ServerSpec, client, eventually};
use hintd_tests::store::fresh_store_url;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const HMAC_SECRET: &str = "chatwoot-hmac-secret";
const ACCESS_TOKEN: &str = "cw-access-token-5f1e9a7c3d";
const CHATWOOT_ACCOUNT: u64 = 7;
const DEBOUNCE_MS: u64 = 600;
const DELIVERY_ANSWER: &str = "Orders are delivered in 3 to 5 business days";
const NOTE_MARKER: &str = "💡 hintd hints";

fn plugins(root: &Path) -> PathBuf {
    let dir = root.join("plugins");
    install_shipped(&dir, "faq", "");
    install_shipped(&dir, "replies", "");
    dir
}

/// Loopback opt-ins, quick retries, a short debounce.
fn hints_section() -> String {
    format!(
        "[hints]\nnote_debounce_ms = {DEBOUNCE_MS}\nnote_allowed_cidrs = [\"127.0.0.0/8\"]\n\
         callback_allowed_cidrs = [\"127.0.0.0/8\"]\ncallback_retry_initial_ms = 100\n\
         callback_retry_max_ms = 200\ncallback_give_up_ms = 5000\n"
    )
}

/// A Chatwoot `message_created` webhook of `account`'s conversation, signed like Chatwoot.
async fn chatwoot_webhook(server: &Server, account: &str, body: &Value) -> (u16, Value) {
    let raw = serde_json::to_vec(body).unwrap();
    let ts = chrono::Utc::now().timestamp();
    let r = client()
        .post(server.url(&format!("/webhooks/chatwoot/{account}")))
        .header("content-type", "application/json")
        .header("x-chatwoot-timestamp", ts.to_string())
        .header(
            "x-chatwoot-signature",
            hintd::ingest::verify::sign(HMAC_SECRET, ts, &raw),
        )
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn message(conversation: u64, id: u64, text: &str, outgoing_private: bool) -> Value {
    let (message_type, sender) = if outgoing_private {
        (
            "outgoing",
            json!({"id": 3, "name": "Hint bot", "type": "user"}),
        )
    } else {
        (
            "incoming",
            json!({"id": 501, "name": "Maria", "type": "contact"}),
        )
    };
    json!({
        "event": "message_created", "id": id, "content": text,
        "created_at": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        "message_type": message_type, "content_type": "text", "content_attributes": {},
        "private": outgoing_private, "sender": sender,
        "contact": {"id": 501, "name": "Maria"},
        "conversation": {"display_id": conversation, "id": conversation + 1000, "inbox_id": 3,
                         "status": "open", "meta": {"sender": {"id": 501, "type": "contact"}}},
        "account": {"id": CHATWOOT_ACCOUNT, "name": "Shop"}
    })
}

async fn client_message(server: &Server, account: &str, conversation: u64, id: u64, text: &str) {
    let (status, body) =
        chatwoot_webhook(server, account, &message(conversation, id, text, false)).await;
    assert_eq!(status, 200, "client message {id}: {body}");
}

async fn get_text(server: &Server, path: &str) -> String {
    client()
        .get(server.url(path))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn conversation(server: &Server, account: &str, id: u64) -> Value {
    let text = get_text(
        server,
        &format!("/api/v1/conversations/chatwoot/{account}/{id}"),
    )
    .await;
    serde_json::from_str(&text).unwrap()
}

fn note_path(conversation: u64) -> String {
    format!("/api/v1/accounts/{CHATWOOT_ACCOUNT}/conversations/{conversation}/messages")
}

#[tokio::test(flavor = "multi_thread")]
async fn private_notes_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let chatwoot = Receiver::start().await;
    let log = dir.path().join("hintd.log");
    let config = format!(
        "[sources.chatwoot]\nsecret = \"{HMAC_SECRET}\"\nchatwoot_base_url = \"{}\"\n\
         [sources.chatwoot.accounts.shop]\ndelivery = \"note\"\nchatwoot_account_id = {CHATWOOT_ACCOUNT}\n\n{}",
        chatwoot.url(""),
        hints_section()
    );
    // The token comes from the environment, as secrets do in deployments.
    let server = Server::start(
        dir.path(),
        ServerSpec::new(config)
            .plugins(plugins(dir.path()))
            .data(fresh_store_url(dir.path()))
            .env(
                "HINTD__SOURCES__CHATWOOT__ACCOUNTS__SHOP__API_ACCESS_TOKEN",
                ACCESS_TOKEN,
            )
            .env("RUST_LOG", "debug")
            .stderr_to(&log),
    );

    // Three quick client messages: one debounce window, one note, for the last message.
    client_message(&server, "shop", 42, 1001, "Hello").await;
    client_message(&server, "shop", 42, 1002, "I paid yesterday").await;
    client_message(&server, "shop", 42, 1003, "When will my order arrive?").await;
    let notes = chatwoot.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(notes.len(), 1, "a note after the window");
    tokio::time::sleep(Duration::from_millis(DEBOUNCE_MS * 3)).await;
    let notes = chatwoot.requests();
    assert_eq!(notes.len(), 1, "exactly one note per window: {notes:?}");
    let note = &notes[0];
    assert_eq!(note.path, note_path(42));
    assert_eq!(note.header("api_access_token"), Some(ACCESS_TOKEN));
    assert_eq!(note.header("content-type"), Some("application/json"));
    let body = note.json();
    assert_eq!(body["private"], json!(true), "{body}");
    let content = body["content"].as_str().unwrap().to_string();
    assert!(content.starts_with(NOTE_MARKER), "{content}");
    assert!(content.contains(DELIVERY_ANSWER), "{content}");
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only content and private: {body}"
    );

    // Chatwoot echoes the note as an outgoing private message: acknowledged and ignored.
    let (status, answer) =
        chatwoot_webhook(&server, "shop", &message(42, 1004, &content, true)).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("ignored")));
    tokio::time::sleep(Duration::from_millis(DEBOUNCE_MS * 3)).await;
    assert_eq!(chatwoot.requests().len(), 1, "the echo triggers no note");
    let conv = conversation(&server, "shop", 42).await;
    let ids: Vec<&str> = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["1001", "1002", "1003"],
        "the note is no context: {conv}"
    );
    assert!(!conv.to_string().contains(NOTE_MARKER), "{conv}");
    // An operator's own private note is context as usual (flagged private).
    let (status, _) =
        chatwoot_webhook(&server, "shop", &message(42, 1005, "Customer is VIP", true)).await;
    assert_eq!(status, 200);
    assert!(
        conversation(&server, "shop", 42)
            .await
            .to_string()
            .contains("Customer is VIP")
    );

    // A 5xx is retried with backoff: the same note again.
    chatwoot.script([Reply::Status(503)]);
    client_message(&server, "shop", 43, 2001, "How do I track my package?").await;
    let got = chatwoot.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3, "one failed attempt and its retry");
    assert_eq!(got[1].path, note_path(43));
    assert_eq!(got[1].body, got[2].body);
    assert!(got[2].at.duration_since(got[1].at) >= Duration::from_millis(70));

    // A 401 ends the note at once (no retry storm) and shows on /readyz and /metrics.
    chatwoot.set_default(Reply::Status(401));
    client_message(&server, "shop", 44, 3001, "When will my order arrive?").await;
    let got = chatwoot.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 4);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(chatwoot.requests().len(), 4, "a 401 is not retried");
    let ready: Value = serde_json::from_str(&get_text(&server, "/readyz").await).unwrap();
    let warnings = ready["warnings"].to_string();
    assert!(
        warnings.contains("chatwoot notes of account shop fail: HTTP 401")
            && warnings.contains("api_access_token"),
        "{ready}"
    );
    let metrics = get_text(&server, "/metrics").await;
    let line = metrics
        .lines()
        .find(|l| l.starts_with("hintd_chatwoot_note_failures_total") && l.contains("unauthorized"))
        .unwrap_or_else(|| panic!("no failure counter:\n{metrics}"));
    assert!(line.ends_with(" 1"), "{line}");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("hintd_ingest_own_notes_ignored_total") && l.ends_with(" 1")),
        "{metrics}"
    );

    // A note that goes through again clears the warning.
    chatwoot.set_default(Reply::Status(200));
    client_message(&server, "shop", 45, 4001, "How long does delivery take?").await;
    assert_eq!(chatwoot.wait_for(5, Duration::from_secs(10)).await.len(), 5);
    let cleared = eventually(Duration::from_secs(5), || async {
        let ready = get_text(&server, "/readyz").await;
        (!ready.contains("chatwoot notes")).then_some(())
    })
    .await;
    assert!(cleared.is_some(), "the warning clears after a sent note");

    // The access token never reaches the log, at debug level either.
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("private note"), "the log was captured");
    assert!(
        !logged.contains(ACCESS_TOKEN),
        "the token leaked into the log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_hints_in_every_delivery_mode() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let chatwoot = Receiver::start().await;
    let config = format!(
        "[sources.chatwoot]\nsecret = \"{HMAC_SECRET}\"\nchatwoot_base_url = \"{}\"\napi_access_token = \"{ACCESS_TOKEN}\"\n\
         [sources.chatwoot.accounts.inline]\n\
         [sources.chatwoot.accounts.cb]\ndelivery = \"callback\"\ncallback_url = \"{}\"\n\
         [sources.chatwoot.accounts.both]\ndelivery = \"both\"\ncallback_url = \"{}\"\n\
         [sources.chatwoot.accounts.note]\ndelivery = \"note\"\nchatwoot_account_id = {CHATWOOT_ACCOUNT}\n\n{}",
        chatwoot.url(""),
        receiver.url("/cb"),
        receiver.url("/both"),
        hints_section()
    );
    let server = Server::start(
        dir.path(),
        ServerSpec::new(config)
            .plugins(plugins(dir.path()))
            .data(fresh_store_url(dir.path())),
    );
    for (n, account) in ["inline", "cb", "both", "note"].iter().enumerate() {
        client_message(
            &server,
            account,
            50,
            5000 + n as u64,
            "When will my order arrive?",
        )
        .await;
    }
    // The note account's client message gets its debounced note first.
    assert_eq!(chatwoot.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    let api = |account: &str| {
        let body = json!({"source": "chatwoot", "account": account, "dialog_id": "50"});
        let url = server.url("/api/v1/hints");
        async move {
            let r = client()
                .post(url)
                .bearer_auth(ADMIN_KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let has_answer = |v: &Value| v.to_string().contains(DELIVERY_ANSWER);

    // inline: the answer in the response, nothing sent.
    let (status, body) = api("inline").await;
    assert_eq!(status, 200, "{body}");
    assert!(has_answer(&body), "{body}");

    // callback: 202 now, the answer POSTed to callback_url.
    let (status, body) = api("cb").await;
    assert_eq!(
        (status, body),
        (202, json!({"status": "accepted", "delivery": "callback"}))
    );
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].path, "/cb");
    assert!(has_answer(&got[0].json()), "{:?}", got[0].json());

    // both: the answer in the response and the same answer POSTed.
    let (status, body) = api("both").await;
    assert_eq!(status, 200, "{body}");
    assert!(has_answer(&body));
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got[1].path, "/both");
    assert_eq!(
        got[1].json(),
        body,
        "the callback carries the answer served"
    );

    // note: 202 now, one private note into the conversation.
    let (status, body) = api("note").await;
    assert_eq!(
        (status, body),
        (202, json!({"status": "accepted", "delivery": "note"}))
    );
    let notes = chatwoot.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1].path, note_path(50));
    assert_eq!(notes[1].header("api_access_token"), Some(ACCESS_TOKEN));
    let note = notes[1].json();
    assert_eq!(note["private"], json!(true));
    assert!(note["content"].as_str().unwrap().contains(DELIVERY_ANSWER));

    // Nothing else was sent: callbacks only to their accounts, notes only to theirs.
    tokio::time::sleep(Duration::from_millis(DEBOUNCE_MS * 2)).await;
    assert_eq!(receiver.requests().len(), 2);
    assert_eq!(chatwoot.requests().len(), 2);
}
