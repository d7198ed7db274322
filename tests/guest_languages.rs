//! Plugins written in Python and JavaScript, end to end: the shipped `intents-py` and
//! `retrieval-js` built from source with their own build scripts (componentize-py and
//! componentize-js, installed pinned by `plugins/tools/setup.sh`), checked and run by `hintd
//! plugin`, served beside a Rust plugin with feedback reaching them, their errors mapped to
//! `provider-error`, and `hintd plugin new --lang python|js` plugins built outside the
//! repository, unit-tested in their language's runner, checked and run.

use hintd_tests::chat2desk::{hints_request, post, source_config};
use hintd_tests::guests::{install_guest, tool};
use hintd_tests::plugins::{install_example, repo_root};
use hintd_tests::server::{ADMIN_KEY, Server, ServerSpec, client, eventually};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn hintd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .args(args)
        .output()
        .expect("hintd runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `plugin run DIR --context FILE --json`: the hints, or the failure's output.
fn run_json(dir: &Path, dialogue: &Path) -> Result<Vec<Value>, String> {
    let out = hintd(&[
        "plugin",
        "run",
        dir.to_str().unwrap(),
        "--context",
        dialogue.to_str().unwrap(),
        "--json",
    ]);
    if !out.status.success() {
        return Err(text(&out));
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out))))
}

fn write_dialogue(dir: &Path, client_text: &str) -> std::path::PathBuf {
    let path = dir.join("dialogue.json");
    let dialogue = json!({
        "source": "api", "account": "default", "dialog_id": "d1", "client_id": "c1",
        "context": [
            {"id": "1", "role": "client", "text": client_text, "sent_at_ms": 1_763_800_000_000i64}
        ]
    });
    std::fs::write(&path, dialogue.to_string()).unwrap();
    path
}

#[test]
fn the_python_and_js_examples_build_check_and_run() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let intents = install_guest(&plugins, "intents-py", "");
    let retrieval = install_guest(&plugins, "retrieval-js", "");

    for (dir, name) in [(&intents, "intents-py"), (&retrieval, "retrieval-js")] {
        let out = hintd(&["plugin", "check", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(
            text(&out).contains(&format!("describe(): {name} 0.1.0")),
            "{}",
            text(&out)
        );
    }

    let dialogue = write_dialogue(tmp.path(), "Hi! When will my order arrive?");
    let hints = run_json(&intents, &dialogue).unwrap();
    assert_eq!(
        hints[0]["text"], "Orders arrive in 3 to 5 business days after payment is confirmed.",
        "the delivery pattern matches first: {hints:#?}"
    );
    assert_eq!(hints[0]["id"], "api/default/delivery/0");
    assert!(
        hints
            .iter()
            .all(|h| h["relevance"].as_u64().is_some_and(|r| r <= 100)),
        "{hints:#?}"
    );
    let hints = run_json(&retrieval, &dialogue).unwrap();
    assert_eq!(hints[0]["id"], "api/default/faq:delivery", "{hints:#?}");
    assert_eq!(hints[0]["url"], "https://shop.example/help/delivery");

    // Errors a plugin raises reach the host as the contract's provider-error, naming the key.
    let broken = tmp.path().join("broken");
    let bad_py = install_guest(
        &broken,
        "intents-py",
        "[[config.intents]]\nname = \"bad\"\nkeywords = [\"order\"]\n",
    );
    let err = run_json(&bad_py, &dialogue).unwrap_err();
    assert!(
        err.contains("misconfigured") && err.contains("intents[3].replies"),
        "{err}"
    );
    let bad_js = install_guest(
        &broken,
        "retrieval-js",
        "[[config.faq]]\nid = \"x\"\nquestion = \"order\"\n",
    );
    let err = run_json(&bad_js, &dialogue).unwrap_err();
    assert!(
        err.contains("misconfigured") && err.contains("faq[3].answer"),
        "{err}"
    );
}

/// A Chat2Desk message of the client (`inbox`) or the operator (`outbox`).
async fn message(server: &Server, hook: &str, dialog: u64, message_id: u64, text: &str) {
    let (kind, operator) = if hook == "inbox" {
        ("from_client", json!(""))
    } else {
        ("to_client", json!(41164))
    };
    let body = json!({
        "message_id": message_id, "type": kind, "text": text, "transport": "telegram",
        "client_id": 100 + dialog, "operator_id": operator, "dialog_id": dialog, "channel_id": 17,
        "hook_type": hook, "request_id": dialog + 20_000, "attachments": [], "is_new_request": "",
        "event_time": hintd_tests::chat2desk::event_time(),
    });
    let (status, reply) = post(server, &body).await;
    assert!(
        (200..300).contains(&status),
        "{hook} {message_id}: {status} {reply}"
    );
}

fn hint_id_of(reply: &Value, text: &str) -> Option<i64> {
    reply["hints"]
        .as_array()?
        .iter()
        .find(|h| h["text"] == text)?["id"]
        .as_i64()
}

async fn choose(server: &Server, message_id: u64, hint_id: i64) -> Vec<(String, String)> {
    let r = client()
        .post(server.url("/api/v1/hints/choice"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"source": "chat2desk", "message_id": message_id.to_string(), "hint_id": hint_id}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body["feedback"].clone()).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_js_plugins_serve_beside_rust_and_learn() {
    const REFUND_FIRST: &str = "I'm sorry to hear that. I can start a refund for you right away: could you confirm the order number?";
    const REFUND_SECOND: &str =
        "Refunds reach your card within 5 business days after we receive the item.";
    const PIX: &str = "Yes, PIX works at checkout, and the payment is confirmed at once.";
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_example(&plugins, "example", "");
    install_guest(&plugins, "intents-py", "");
    install_guest(&plugins, "retrieval-js", "");
    let server = Server::start(
        tmp.path(),
        ServerSpec::new(format!(
            "{}\n[hints]\nrequest_deadline_ms = 10000\nmax_hints = 20\n",
            source_config()
        ))
        .plugins(&plugins)
        // A Python and a JS component compile for tens of seconds of CPU each.
        .plugins_load_timeout(Duration::from_secs(600)),
    );

    // Every plugin answers the same request.
    message(
        &server,
        "inbox",
        601,
        1,
        "Hello, I want my money back: please refund my order",
    )
    .await;
    let (status, first) = post(&server, &hints_request(601, 9001, 1)).await;
    assert_eq!(status, 200, "{first}");
    let (first_reply, second_reply) = (
        hint_id_of(&first, REFUND_FIRST).unwrap_or_else(|| panic!("{first:#}")),
        hint_id_of(&first, REFUND_SECOND).unwrap_or_else(|| panic!("{first:#}")),
    );
    assert!(
        first_reply < second_reply,
        "configured order first: {first:#}"
    );

    // The operator picks intents-py's second reply: every plugin shown is told (retrieval-js
    // is told below, once it has hints to show).
    let told = choose(&server, 1, second_reply).await;
    for plugin in ["intents-py", "example"] {
        assert!(
            told.contains(&(plugin.to_string(), "ok".to_string())),
            "{plugin} not told: {told:?}"
        );
    }

    // intents-py learnt it (in kv): the chosen reply now comes first.
    message(
        &server,
        "inbox",
        601,
        2,
        "So, the refund? I want my money back",
    )
    .await;
    let (status, next) = post(&server, &hints_request(601, 9002, 2)).await;
    assert_eq!(status, 200, "{next}");
    let (first_reply, second_reply) = (
        hint_id_of(&next, REFUND_FIRST).unwrap_or_else(|| panic!("{next:#}")),
        hint_id_of(&next, REFUND_SECOND).unwrap_or_else(|| panic!("{next:#}")),
    );
    assert!(
        second_reply < first_reply,
        "the chosen reply ranks first: {next:#}"
    );

    // retrieval-js learns an operator's answer through observe (kv) and suggests it in
    // another dialog of the account.
    message(&server, "inbox", 602, 3, "Can I pay with PIX?").await;
    message(&server, "outbox", 602, 4, PIX).await;
    message(&server, "inbox", 603, 5, "Can I pay with PIX today?").await;
    let learnt = eventually(Duration::from_secs(20), || async {
        let (status, reply) = post(&server, &hints_request(603, 9003 + rand_id(), 5)).await;
        (status == 200 && hint_id_of(&reply, PIX).is_some()).then_some(reply)
    })
    .await
    .expect("retrieval-js suggests the operator's answer it observed");
    let pix = hint_id_of(&learnt, PIX).unwrap();
    let told = choose(&server, 5, pix).await;
    assert!(
        told.contains(&("retrieval-js".to_string(), "ok".to_string())),
        "{told:?}"
    );
}

/// A request id of its own for each poll (a repeated id is answered from the first answer).
fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn new_python_and_js_plugins_build_outside_the_repository_and_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dialogue = repo_root().join("examples/dialogue.json");
    let componentize_js = tool("componentize-js");
    let rolldown = componentize_js.parent().unwrap().join("rolldown");
    let langs = [
        ("python", "py-greeter", "componentize-py"),
        ("js", "js-greeter", "componentize-js"),
    ];
    for (lang, name, _) in langs {
        let dir = tmp.path().join(name);
        let dir_text = dir.to_str().unwrap();
        let out = hintd(&["plugin", "new", name, "--lang", lang, "--dir", dir_text]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("./build.sh"), "{}", text(&out));

        let mut build = Command::new(dir.join("build.sh"));
        match lang {
            "python" => build.env("COMPONENTIZE_PY", tool("componentize-py")),
            _ => build
                .env("COMPONENTIZE_JS", &componentize_js)
                .env("ROLLDOWN", &rolldown),
        };
        let out = build.output().unwrap();
        assert!(out.status.success(), "{lang} build: {}", text(&out));
        assert!(dir.join(format!("build/{name}.wasm")).is_file());

        // The unit test in the language's own runner.
        let out = match lang {
            "python" => Command::new(dir.join(".venv/bin/python"))
                .current_dir(&dir)
                .args(["-m", "unittest", "discover", "tests"])
                .output(),
            _ => Command::new("npm")
                .current_dir(&dir)
                .args(["test", "--silent"])
                .output(),
        }
        .unwrap();
        assert!(out.status.success(), "{lang} unit tests: {}", text(&out));

        let out = hintd(&["plugin", "check", dir_text]);
        assert!(out.status.success(), "{lang} check: {}", text(&out));
        assert!(
            text(&out).contains(&format!("describe(): {name} 0.1.0")),
            "{}",
            text(&out)
        );
        let hints = run_json(&dir, &dialogue).unwrap_or_else(|e| panic!("{lang} run: {e}"));
        assert_eq!(
            hints[0]["text"],
            "Hello! How can I help you? You wrote: Meu pedido 5512 ainda não chegou, qual o prazo de entrega?",
            "{hints:#?}"
        );
    }
}
