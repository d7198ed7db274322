//! End-to-end tests: ingest. The real program on a loopback port receives the platforms'
//! webhooks (payloads shaped like the platforms' documents, from `examples/payloads/`), and
//! the tests read the result back through the admin API and the store.

use hintd_tests::plugins::repo_root;
use hintd_tests::server::{ADMIN_KEY, Server, ServerSpec, client};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::path::PathBuf;
use std::time::Duration;

const C2D_TOKEN: &str = "c2d-token-123";
const CW_SECRET: &str = "chatwoot-secret";
const WZ_TOKEN: &str = "whazing-token-9";

/// Every platform enabled with credentials, plus `extra` TOML.
fn spec(extra: &str) -> ServerSpec {
    ServerSpec::new(format!(
        "[sources.chat2desk]\ntoken = \"{C2D_TOKEN}\"\n\n[sources.chatwoot]\nsecret = \"{CW_SECRET}\"\n\n\
         [sources.whazing]\ntoken = \"{WZ_TOKEN}\"\n\n{extra}\n"
    ))
}

fn payload_dir(source: &str) -> PathBuf {
    repo_root().join("examples").join("payloads").join(source)
}

fn sample(source: &str, name: &str) -> Vec<u8> {
    std::fs::read(payload_dir(source).join(format!("{name}.json"))).unwrap()
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `sha256=<hex HMAC(secret, "{ts}.{body}")>`, computed here independently of hintd.
fn chatwoot_signature(secret: &str, ts: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts a webhook with the right credentials for its source; returns status and JSON body.
async fn post(server: &Server, source: &str, body: &[u8]) -> (u16, Value) {
    post_to(server, &format!("/webhooks/{source}"), source, body).await
}

/// Posts a webhook that must be accepted (200).
async fn accept(server: &Server, source: &str, body: &[u8]) {
    let (status, reply) = post(server, source, body).await;
    assert_eq!(status, 200, "{reply}");
}

async fn post_to(server: &Server, path: &str, source: &str, body: &[u8]) -> (u16, Value) {
    let c = client();
    let req = match source {
        "chatwoot" => {
            let ts = now_s();
            c.post(server.url(path))
                .header("X-Chatwoot-Timestamp", ts.to_string())
                .header(
                    "X-Chatwoot-Signature",
                    chatwoot_signature(CW_SECRET, ts, body),
                )
        }
        "chat2desk" => c.post(server.url(&format!("{path}?token={C2D_TOKEN}"))),
        _ => c.post(server.url(path)).bearer_auth(WZ_TOKEN),
    };
    let resp = req
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn admin_get(server: &Server, path: &str) -> (u16, Value) {
    let resp = client()
        .get(server.url(path))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

async fn conversation(server: &Server, source: &str, account: &str, dialog: &str) -> (u16, Value) {
    admin_get(
        server,
        &format!("/api/v1/conversations/{source}/{account}/{dialog}"),
    )
    .await
}

fn texts(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

fn c2d_message(hook: &str, id: u64, dialog: &str, text: &str, at: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "message_id": id, "type": if hook == "inbox" { "from_client" } else { "to_client" }, "text": text,
        "transport": "telegram", "client_id": "777", "operator_id": if hook == "inbox" { "" } else { "5" },
        "dialog_id": dialog, "channel_id": 1, "photo": "", "attachments": [], "hook_type": hook,
        "is_new_request": "", "event_time": at,
    }))
    .unwrap()
}

#[tokio::test]
async fn every_sample_payload_is_accepted_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), spec(""));
    let mut posted = 0;
    for source in ["chat2desk", "chatwoot", "whazing"] {
        let mut names: Vec<_> = std::fs::read_dir(payload_dir(source))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for path in names {
            // Hint requests and choices are answered by the hint layer (tests/hints.rs).
            if path
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("ai_hints")
            {
                continue;
            }
            let body = std::fs::read(&path).unwrap();
            let (status, reply) = post(&server, source, &body).await;
            assert_eq!(status, 200, "{}: {reply}", path.display());
            assert_eq!(reply["status"], "accepted", "{}: {reply}", path.display());
            posted += 1;
        }
    }
    assert!(posted >= 33);
    // Redelivery: acknowledged, not stored again.
    for (source, name) in [
        ("chat2desk", "inbox"),
        ("chatwoot", "message_created"),
        ("whazing", "message_received"),
        ("chat2desk", "close_dialog"),
    ] {
        let (status, reply) = post(&server, source, &sample(source, name)).await;
        assert_eq!(
            (status, reply["status"].as_str()),
            (200, Some("duplicate")),
            "{source}/{name}"
        );
    }

    let (status, c2d) = conversation(&server, "chat2desk", "default", "4324035").await;
    assert_eq!(status, 200, "{c2d}");
    assert_eq!(
        texts(&c2d["context"]),
        [
            "Hello, where is my order 5521?",
            "Hi Peter, let me check order 5521."
        ]
    );
    assert_eq!(c2d["context"][0]["role"], "client");
    assert_eq!(c2d["context"][1]["role"], "operator");
    assert_eq!(c2d["dialog"]["client_id"], "17340089");

    // Chatwoot: the first message was edited then deleted; the private note stays out of the
    // context; the follow-up is the context.
    let followup = "I still have the box. How long does a refund take?";
    let (_, cw) = conversation(&server, "chatwoot", "default", "42").await;
    assert_eq!(
        texts(&cw["messages"]),
        ["Customer already returned twice this year", followup],
        "{cw}"
    );
    assert_eq!(cw["messages"][0]["private"], true);
    assert_eq!(texts(&cw["context"]), [followup], "{cw}");
    // Resolved, then the client wrote again: reopened.
    assert_eq!(cw["dialog"]["status"], "open");

    // Whazing: received (then edited), sent, media (then deleted).
    let (_, wz) = conversation(&server, "whazing", "default", "3150").await;
    assert_eq!(
        texts(&wz["context"]),
        [
            "Bom dia, meu pedido 5521 nao chegou",
            "Ola Joao! Vou verificar o pedido."
        ],
        "{wz}"
    );
    assert_eq!(wz["dialog"]["external_key"], "CRM-ORDER-5521");
    assert_eq!(wz["dialog"]["status"], "open");
}

#[tokio::test]
async fn chatwoot_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        spec("[sources.chatwoot.accounts.shop]\ntoken = \"shop-token-1\"\n"),
    );
    let body = sample("chatwoot", "message_created");
    let c = client();
    let url = server.url("/webhooks/chatwoot/shop");
    let send = |ts: i64, sig: String| {
        c.post(&url)
            .header("X-Chatwoot-Timestamp", ts.to_string())
            .header("X-Chatwoot-Signature", sig)
            .body(body.clone())
            .send()
    };
    let now = now_s();
    let resp = send(now, chatwoot_signature(CW_SECRET, now, &body))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = send(now, chatwoot_signature("wrong-secret", now, &body))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["field"], "X-Chatwoot-Signature", "{err}");
    // Correctly signed, but 10 minutes old: a replay.
    let old = now - 600;
    let resp = send(old, chatwoot_signature(CW_SECRET, old, &body))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["field"], "X-Chatwoot-Timestamp", "{err}");
    // The signature covers the timestamp: changing it breaks the signature.
    let resp = send(now + 1, chatwoot_signature(CW_SECRET, now, &body))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = send(now, "sha256=zz".into()).await.unwrap();
    assert_eq!(resp.status(), 401);
    // The account's token is accepted instead of a signature.
    let other = sample("chatwoot", "conversation_created");
    let resp = c
        .post(format!("{url}?token=shop-token-1"))
        .body(other.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = c.post(&url).body(other).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn refusals_are_precise_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), ServerSpec::new(format!(
        "[sources.chat2desk]\ntoken = \"{C2D_TOKEN}\"\n[sources.whazing]\ntoken = \"{WZ_TOKEN}\"\n"
    )).env("HINTD__SERVER__BODY_LIMIT_BYTES", "4096"));
    let c = client();
    let url = server.url(&format!("/webhooks/chat2desk?token={C2D_TOKEN}"));
    expect_error(c.post(&url).body("{not json"), 400, "invalid_body", None).await;
    expect_error(
        c.post(&url)
            .body(r#"{"hook_type":"inbox","dialog_id":"9","text":"lost"}"#),
        400,
        "invalid_field",
        Some("message_id"),
    )
    .await;
    expect_error(
        c.post(&url)
            .body(r#"{"hook_type":"inbox","message_id":{"x":1},"dialog_id":"9"}"#),
        400,
        "invalid_field",
        Some("message_id"),
    )
    .await;
    expect_error(
        c.post(&url)
            .body(r#"{"hook_type":"inbox","message_id":1,"dialog_id":"9","event_time":"someday"}"#),
        400,
        "invalid_field",
        Some("event_time"),
    )
    .await;
    expect_error(
        c.post(server.url("/webhooks/chat2desk"))
            .body(c2d_message("inbox", 1, "9", "x", 1)),
        401,
        "unauthorized",
        None,
    )
    .await;
    expect_error(
        c.post(server.url("/webhooks/chat2desk?token=nope"))
            .body(c2d_message("inbox", 1, "9", "x", 1)),
        401,
        "unauthorized",
        Some("token"),
    )
    .await;
    expect_error(
        c.post(server.url("/webhooks/chat2desk"))
            .bearer_auth("nope")
            .body(c2d_message("inbox", 1, "9", "x", 1)),
        401,
        "unauthorized",
        Some("token"),
    )
    .await;
    let big = c2d_message("inbox", 2, "9", &"x".repeat(5000), 1);
    expect_error(c.post(&url).body(big), 413, "payload_too_large", None).await;
    expect_error(
        c.post(server.url("/webhooks/telegram")).body("{}"),
        404,
        "unknown_source",
        None,
    )
    .await;
    expect_error(
        c.post(server.url("/webhooks/chatwoot")).body("{}"),
        404,
        "source_disabled",
        None,
    )
    .await;
    expect_error(
        c.post(server.url("/webhooks/chat2desk/other?token=c2d"))
            .body("{}"),
        404,
        "unknown_account",
        None,
    )
    .await;
    expect_error(
        c.post(server.url("/webhooks/whazing"))
            .bearer_auth(WZ_TOKEN)
            .body(r#"{"messageId":"m1","messageBody":"x"}"#),
        400,
        "invalid_field",
        Some("ticket.id"),
    )
    .await;
    // Nothing of the refused requests was stored.
    assert_eq!(
        conversation(&server, "chat2desk", "default", "9").await.0,
        404
    );
    // The Bearer form of the token is accepted.
    let r = c
        .post(server.url("/webhooks/chat2desk"))
        .bearer_auth(C2D_TOKEN)
        .body(c2d_message("inbox", 3, "9", "ok", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        texts(&conversation(&server, "chat2desk", "default", "9").await.1["messages"]),
        ["ok"]
    );
}

#[tokio::test]
async fn admin_api_needs_the_key_and_health_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), spec(""));
    let c = client();
    for auth in [None, Some("wrong-key-123")] {
        let mut req = c.get(server.url("/api/v1/conversations/chat2desk/default/1"));
        if let Some(a) = auth {
            req = req.bearer_auth(a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let r = c
        .delete(server.url("/api/v1/clients/chat2desk/default/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        conversation(&server, "chat2desk", "default", "1").await.0,
        404
    );
    assert_eq!(
        admin_get(&server, "/api/v1/conversations/nowhere/default/1")
            .await
            .0,
        404
    );
    let r = c.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let r = c.get(server.url("/no/such/route")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "no_route");
}

#[tokio::test]
async fn accounts_keep_dialogs_apart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        ServerSpec::new(
            "[sources.chat2desk]\n[sources.chat2desk.accounts.shop]\ntoken = \"shop-token-1\"\n\
             [sources.chat2desk.accounts.bank]\ntoken = \"bank-token-1\"\n",
        ),
    );
    let c = client();
    let send = |account: &str, token: &str, text: &str| {
        c.post(server.url(&format!("/webhooks/chat2desk/{account}?token={token}")))
            .body(c2d_message("inbox", 1, "100", text, 1))
            .send()
    };
    assert_eq!(
        send("shop", "shop-token-1", "shoes")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        send("bank", "bank-token-1", "loan").await.unwrap().status(),
        200
    );
    assert_eq!(
        send("bank", "shop-token-1", "loan").await.unwrap().status(),
        401
    );
    // Accounts configured: the account-less endpoint is not one of them.
    let r = c
        .post(server.url("/webhooks/chat2desk?token=shop-token-1"))
        .body(c2d_message("inbox", 2, "100", "x", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        texts(&conversation(&server, "chat2desk", "shop", "100").await.1["messages"]),
        ["shoes"]
    );
    assert_eq!(
        texts(&conversation(&server, "chat2desk", "bank", "100").await.1["messages"]),
        ["loan"]
    );
}

#[tokio::test]
async fn context_window_budget_and_private_notes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        spec("[context]\nmax_messages = 5\nmax_chars = 27\n"),
    );
    for i in 0..8u64 {
        let hook = if i % 2 == 0 { "inbox" } else { "outbox" };
        let (status, _) = post(
            &server,
            "chat2desk",
            &c2d_message(
                hook,
                100 + i,
                "55",
                &format!("message {i}"),
                1_700_000_000 + i as i64,
            ),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (_, conv) = conversation(&server, "chat2desk", "default", "55").await;
    // The newest 5 are kept; plugins get the newest that fit in 27 characters (9 each).
    assert_eq!(
        texts(&conv["messages"]),
        [
            "message 3",
            "message 4",
            "message 5",
            "message 6",
            "message 7"
        ]
    );
    assert_eq!(
        texts(&conv["context"]),
        ["message 5", "message 6", "message 7"]
    );

    // A Chatwoot private note is stored but not in the plugins' context.
    let note = sample("chatwoot", "message_created_private_note");
    let visible = sample("chatwoot", "message_created");
    accept(&server, "chatwoot", &visible).await;
    accept(&server, "chatwoot", &note).await;
    let (_, cw) = conversation(&server, "chatwoot", "default", "42").await;
    assert_eq!(cw["messages"].as_array().unwrap().len(), 2);
    assert_eq!(cw["context"].as_array().unwrap().len(), 1);
    assert_eq!(cw["context"][0]["id"], "1001");
}

#[tokio::test]
async fn edits_and_deletions_update_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), spec(""));
    for name in ["message_received", "message_media", "message_sent"] {
        accept(&server, "whazing", &sample("whazing", name)).await;
    }
    let (_, wz) = conversation(&server, "whazing", "default", "3150").await;
    assert_eq!(wz["context"].as_array().unwrap().len(), 3);
    // Ordered by the platform's time: received, sent, then the picture.
    assert_eq!(wz["context"][2]["media_type"], "image");
    accept(&server, "whazing", &sample("whazing", "message_edited")).await;
    accept(&server, "whazing", &sample("whazing", "message_deleted")).await;
    let (_, wz) = conversation(&server, "whazing", "default", "3150").await;
    assert_eq!(
        texts(&wz["context"]),
        [
            "Bom dia, meu pedido 5521 nao chegou",
            "Ola Joao! Vou verificar o pedido."
        ]
    );
    // A late redelivery of the deleted message does not bring it back.
    let (_, reply) = post(&server, "whazing", &sample("whazing", "message_media")).await;
    assert_eq!(reply["status"], "duplicate");
    assert_eq!(
        conversation(&server, "whazing", "default", "3150").await.1["context"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn chat2desk_messages_without_dialog_find_the_clients_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), spec(""));
    // First message names no dialog (as in Chat2Desk's own example): kept under the client.
    accept(
        &server,
        "chat2desk",
        &c2d_message("inbox", 1, "", "first", 1_700_000_000),
    )
    .await;
    // The operator's reply names the dialog: the first message joins it.
    accept(
        &server,
        "chat2desk",
        &c2d_message("outbox", 2, "900", "reply", 1_700_000_010),
    )
    .await;
    accept(
        &server,
        "chat2desk",
        &c2d_message("inbox", 3, "", "second", 1_700_000_020),
    )
    .await;
    let (status, conv) = conversation(&server, "chat2desk", "default", "900").await;
    assert_eq!(status, 200, "{conv}");
    assert_eq!(texts(&conv["context"]), ["first", "reply", "second"]);
    assert_eq!(
        conversation(&server, "chat2desk", "default", "client:777")
            .await
            .0,
        404
    );
    // Closing and reopening.
    let close = json!({"dialog_id": 900, "request_id": 1, "client_id": 777, "operator_id": 5, "hook_type": "close_dialog", "event_time": 1_700_000_030});
    accept(&server, "chat2desk", &serde_json::to_vec(&close).unwrap()).await;
    let (_, conv) = conversation(&server, "chat2desk", "default", "900").await;
    assert_eq!(
        (
            conv["dialog"]["status"].as_str(),
            conv["dialog"]["operator_id"].as_str()
        ),
        (Some("closed"), Some("5"))
    );
    accept(
        &server,
        "chat2desk",
        &c2d_message("inbox", 4, "900", "again", 1_700_000_040),
    )
    .await;
    assert_eq!(
        conversation(&server, "chat2desk", "default", "900").await.1["dialog"]["status"],
        "open"
    );
}

#[tokio::test]
async fn restart_keeps_context() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), spec(""));
    for i in 0..4u64 {
        accept(
            &server,
            "chat2desk",
            &c2d_message(
                "inbox",
                10 + i,
                "7",
                &format!("m{i}"),
                1_700_000_000 + i as i64,
            ),
        )
        .await;
    }
    server.restart();
    // A new message arrives before anything reads the dialog: memory holds only it until the
    // store's older messages are merged in.
    accept(
        &server,
        "chat2desk",
        &c2d_message("outbox", 20, "7", "after", 1_700_000_100),
    )
    .await;
    let (_, conv) = conversation(&server, "chat2desk", "default", "7").await;
    assert_eq!(texts(&conv["context"]), ["m0", "m1", "m2", "m3", "after"]);
    // Redelivery across the restart is still recognised.
    assert_eq!(
        post(
            &server,
            "chat2desk",
            &c2d_message("inbox", 10, "7", "m0", 1_700_000_000)
        )
        .await
        .1["status"],
        "duplicate"
    );
}

#[tokio::test]
async fn erasure_removes_a_client_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), spec(""));
    let mut other = c2d_message("inbox", 50, "2", "other client", 1_700_000_000);
    other = String::from_utf8(other)
        .unwrap()
        .replace("\"777\"", "\"888\"")
        .into_bytes();
    accept(&server, "chat2desk", &other).await;
    accept(
        &server,
        "chat2desk",
        &c2d_message("inbox", 51, "1", "my secret address", 1_700_000_000),
    )
    .await;
    accept(
        &server,
        "chat2desk",
        &c2d_message("outbox", 52, "1", "noted", 1_700_000_001),
    )
    .await;
    let r = client()
        .delete(server.url("/api/v1/clients/chat2desk/default/777"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["messages"].as_u64(), body["events"].as_u64()),
        (Some(2), Some(2)),
        "{body}"
    );
    assert_eq!(
        conversation(&server, "chat2desk", "default", "1").await.0,
        404
    );
    assert_eq!(
        texts(&conversation(&server, "chat2desk", "default", "2").await.1["messages"]),
        ["other client"]
    );
    // The raw events kept for delivery no longer hold the client's words.
    let payloads = raw_payloads(server.data_url()).await;
    assert_eq!(payloads.len(), 3);
    assert!(
        payloads.iter().all(|p| !p.contains("my secret address")),
        "{payloads:?}"
    );
    assert_eq!(
        payloads
            .iter()
            .filter(|p| p.as_str() == r#"{"erased":true}"#)
            .count(),
        2
    );
    // Erasing again is harmless.
    let r = client()
        .delete(server.url("/api/v1/clients/chat2desk/default/777"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Every raw event payload in the store, in log order.
async fn raw_payloads(url: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query("SELECT payload FROM events ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    rows.iter()
        .map(|r| String::from_utf8(r.get::<Vec<u8>, _>("payload")).unwrap())
        .collect()
}

#[tokio::test]
async fn unknown_event_types_are_accepted_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), spec(""));
    let body = br#"{"hook_type":"brand_new_hook","dialog_id":"3","whatever":[1,2]}"#;
    let (status, reply) = post(&server, "chat2desk", body).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("accepted")));
    assert_eq!(
        post(&server, "chat2desk", body).await.1["status"],
        "duplicate"
    );
    let (status, _) = post(
        &server,
        "chatwoot",
        br#"{"event":"automation_event.fired","id":9}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &server,
        "whazing",
        br#"{"Type":"NewKanbanCard","ticket":{"id":5}}"#,
    )
    .await;
    assert_eq!(status, 200);
    let payloads = raw_payloads(server.data_url()).await;
    assert_eq!(payloads[0].as_bytes(), body);
}

#[tokio::test]
async fn startup_failures_are_one_line_and_sigterm_is_graceful() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[server]\nno_such_key = 1\n").unwrap();
    let out = std::process::Command::new(hintd_tests::server::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(dir.path().join("x.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no_such_key"), "{stderr}");
    assert!(out.stdout.is_empty());

    let out = std::process::Command::new(hintd_tests::server::binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("hintd serve:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("store unavailable") && !errors[0].contains("password"),
        "{stderr}"
    );

    let mut server = Server::start(dir.path(), spec("").env("HINTD_LOG_FORMAT", "json"));
    accept(&server, "chat2desk", &c2d_message("inbox", 1, "1", "hi", 1)).await;
    assert!(
        server.terminate(Duration::from_secs(15)),
        "hintd did not exit 0 on SIGTERM"
    );
}

/// Sends `req` and checks the JSON error it gets: status, `error.code` and `error.field`.
async fn expect_error(req: reqwest::RequestBuilder, status: u16, code: &str, field: Option<&str>) {
    let r = req.send().await.unwrap();
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["field"].as_str(), field, "{body}");
}
