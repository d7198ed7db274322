//! The admin console (`GET /console`) in a real browser: the system Chromium, driven by
//! playwright-core (`tests/browser/console.cjs`), signs in with the admin key against the
//! real hintd with the shipped plugins, a deliberately broken one and a webhook whose
//! receiver answers 500. Everything stays on loopback. The screenshots of each page land in
//! `docs/console-*.png` (shown in the README).
//!
//! `tests/browser/setup.sh` installs the browser and playwright-core when they are missing.

use hintd_tests::browser::{CHROMIUM, browser_dir, ensure_browser};
use hintd_tests::chat2desk::{admin, choice, hints_request, inbox, post, source_config};
use hintd_tests::plugins::{install_example, install_shipped, repo_root};
use hintd_tests::receiver::{Receiver, Reply};
use hintd_tests::server::{ADMIN_KEY, SEAL_KEY, Server, ServerSpec, client, eventually};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The Chat2Desk dialog whose client message is answered, chosen and delivered to the webhook.
const DIALOG: u64 = 77;
const QUESTION: &str = "How long does delivery take to my city?";
/// The playground's last client line, and the start of faq's answer to it.
const PLAYGROUND_QUESTION: &str = "client: When will my order arrive? How long does delivery take?";
const PLAYGROUND_ANSWER: &str = "Orders are delivered in 3 to 5 business days";

/// faq and replies as shipped, and `broken`: the example plugin with a component that is not
/// one, so that its load fails with a known error.
fn plugins(root: &Path) -> PathBuf {
    let dir = root.join("plugins");
    install_shipped(&dir, "faq", "");
    install_shipped(&dir, "replies", "");
    let broken = install_example(&dir, "broken", "");
    std::fs::write(broken.join("broken.wasm"), b"\0asm not a component").unwrap();
    dir
}

/// Chat2Desk, and deliveries allowed to loopback (the test's receiver) with no retry, so that
/// the first failure fails the message and only a resend sends it again.
fn config() -> String {
    format!(
        "{}\n[dispatch]\nsecret_key = \"{SEAL_KEY}\"\nallowed_cidrs = [\"127.0.0.0/8\"]\n\
         poll_interval = \"50ms\"\nrequest_timeout = \"3s\"\nretry_schedule = []\n",
        source_config()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_console_in_a_real_browser() {
    ensure_browser();
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(
        tmp.path(),
        ServerSpec::new(config()).plugins(plugins(tmp.path())),
    );
    // A second hintd with nothing in it, for the pages' empty states.
    let empty_dir = tempfile::tempdir().unwrap();
    let empty = Server::start(empty_dir.path(), ServerSpec::new(source_config()));
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));

    // A webhook whose receiver fails, and one event for it.
    let (status, hook) = admin(
        &server,
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"name": "crm", "url": receiver.url("/hook"), "events": ["inbox"]})),
    )
    .await;
    assert_eq!(status, 201, "{hook}");
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let (status, body) = post(&server, &inbox(5001, DIALOG, QUESTION)).await;
    assert_eq!(status, 200, "{body}");
    // An answered and chosen hint request, so that the hints page has figures.
    let (status, reply) = post(&server, &hints_request(DIALOG, 1, 5001)).await;
    assert_eq!(status, 200, "{reply}");
    assert!(!reply["hints"].as_array().unwrap().is_empty(), "{reply}");
    let (status, body) = post(&server, &choice(DIALOG, 5001, 1)).await;
    assert_eq!(status, 200, "{body}");
    let message = eventually(Duration::from_secs(15), || async {
        let (_, list) = admin(
            &server,
            Method::GET,
            &format!("/api/v1/webhooks/{hook_id}/messages?status=failed"),
            None,
        )
        .await;
        list["messages"][0]["id"].as_str().map(str::to_string)
    })
    .await
    .expect("the delivery to the 500 receiver failed");

    // The page itself: served without a key, with the headers that keep it on hintd.
    let page = client().get(server.url("/console")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");

    let docs = repo_root().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let plan = json!({
        "node_modules": browser_dir().join("node_modules"),
        "chromium": CHROMIUM,
        "hintd": server.base,
        "empty_hintd": empty.base,
        "admin_key": ADMIN_KEY,
        "docs": docs,
        "broken": "broken",
        "webhook": hook_id,
        "message": message,
        "receiver_url": receiver.url("/other"),
        "conversation": {"source": "chat2desk", "account": "default", "dialog": DIALOG.to_string()},
        "playground": ["client: Hello!", "operator: Hi, how can I help?", PLAYGROUND_QUESTION],
    });
    let plan_path = tmp.path().join("plan.json");
    std::fs::write(&plan_path, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();

    let mut node = tokio::process::Command::new("node")
        .arg(repo_root().join("tests/browser/console.cjs"))
        .arg(&plan_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut result = None;
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(150), lines.next_line()).await
    {
        if let Some(json) = line.strip_prefix("RESULT ") {
            result = Some(serde_json::from_str::<Value>(json).unwrap());
        }
    }
    let status = node.wait().await.unwrap();
    assert!(status.success(), "console.cjs failed: {status}");
    let r = result.expect("console.cjs printed its result");
    eprintln!(
        "console results: {}",
        serde_json::to_string_pretty(&r).unwrap()
    );
    let steps = &r["steps"];

    // Loopback only, and the key only ever in the bearer header: never in a URL or a cookie.
    assert_eq!(r["offHost"], json!([]), "the console fetched off-host");
    for url in r["urls"].as_array().unwrap() {
        assert!(!url.as_str().unwrap().contains(ADMIN_KEY), "key in {url}");
    }
    let bearers: Vec<&str> = r["bearers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        bearers.contains(&format!("Bearer {ADMIN_KEY}").as_str()),
        "{bearers:?}"
    );
    assert_eq!(steps["plugins"]["cookies"], "");
    // The page and its assets, well within the 400 KB budget.
    let weight = steps["weight"]["bytes"].as_u64().unwrap();
    assert!(weight > 0 && weight < 400 * 1024, "{weight} bytes");
    assert_eq!(steps["weight"]["requests"], 3, "page, script, style");

    // Signed out at first, the key field focused; a wrong key refused and not kept.
    assert_eq!(steps["signin"]["focused"], "key");
    let refused = steps["refused"]["text"].as_str().unwrap();
    assert!(
        refused.contains("Refused") && refused.contains("invalid admin key"),
        "{refused}"
    );
    assert_eq!(steps["refused"]["form_shown"], true);
    assert_eq!(steps["refused"]["stored"], 0);

    // The plugins page: the broken plugin's exact load error, as the API gives it.
    let (_, list) = admin(&server, Method::GET, "/api/v1/plugins", None).await;
    let api_error = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "broken")
        .and_then(|p| p["load_error"].as_str())
        .unwrap()
        .to_string();
    assert!(
        api_error.contains("not a valid WebAssembly component"),
        "{api_error}"
    );
    assert_eq!(steps["plugins"]["broken_error"], api_error.as_str());
    let rows = steps["plugins"]["rows"].as_array().unwrap();
    for (name, status) in [
        ("faq", "loaded"),
        ("replies", "loaded"),
        ("broken", "failed"),
    ] {
        assert!(rows.contains(&json!([name, status])), "{rows:?}");
    }
    assert_eq!(steps["plugins"]["key_stored"], true);
    assert!(steps["plugins"]["reloads_after"].as_u64().unwrap() >= 2);
    // Calls and latency drawn from the two samples the page took, for the loaded plugins.
    let sparklines = steps["plugins"]["sparklines"].as_array().unwrap();
    for name in ["faq", "replies"] {
        assert!(sparklines.contains(&json!([name, 2, 2])), "{sparklines:?}");
    }
    assert_eq!(sparklines.len(), 2, "none for the broken plugin");

    // Webhooks: the failing one's last error; one made, disabled and deleted from the console.
    let last_error = steps["webhooks"]["last_error"].as_str().unwrap();
    assert!(last_error.contains("500"), "{last_error}");
    assert!(
        steps["webhooks"]["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    assert!(
        steps["webhooks"]["names"]
            .as_array()
            .unwrap()
            .contains(&json!("console-made"))
    );
    assert_eq!(steps["webhooks"]["edited"], "console-edited");
    let rotated = steps["webhooks"]["rotated"].as_str().unwrap();
    assert!(
        rotated.starts_with("whsec_") && rotated != steps["webhooks"]["secret"],
        "{rotated}"
    );
    let (_, hooks) = admin(&server, Method::GET, "/api/v1/webhooks", None).await;
    let names: Vec<&str> = hooks["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["name"].as_str())
        .collect();
    assert_eq!(names, ["crm"], "the console's webhook was deleted");

    // The failed message resent from the console: its new attempt shown there, and received.
    let resend = &steps["resend"];
    assert_eq!(resend["status_before"], "failed");
    assert_eq!(resend["attempts_before"].as_array().unwrap().len(), 1);
    let after = resend["attempts_after"].as_array().unwrap();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.iter().all(|a| a["message"] == message.as_str()
            && a["outcome"] == "failure"
            && a["http"] == "500"),
        "{after:?}"
    );
    // Recovered since an hour ago: the failed message was sent a third time.
    assert_eq!(steps["recover"]["said"], "1 message(s) queued again");
    assert_eq!(steps["recover"]["attempts"], 3);
    let got = receiver.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(
        got.len(),
        3,
        "the first delivery, the resend and the recovery"
    );

    // Hints: the plugin that answered, and the choice at position 1.
    let hints = &steps["hints"];
    assert!(
        hints["plugins"].as_array().unwrap().contains(&json!("faq")),
        "{hints}"
    );
    assert_eq!(hints["bars"], json!([[1, 1]]));
    assert_eq!(hints["acceptance"], "100 %");
    // The acceptance-over-time chart draws a path for the plugin, per hour and per day.
    assert_eq!(hints["series_hour"], json!(["faq"]), "{hints}");
    assert_eq!(hints["series_day"], json!(["faq"]), "{hints}");
    // faq answered: its row shows a median, a 99th percentile and a slowest call, in ms.
    let latency = hints["latency"].as_array().unwrap();
    let faq_latency = latency
        .iter()
        .find(|row| row[0] == "faq")
        .unwrap_or_else(|| panic!("{hints}"));
    assert!(
        faq_latency.as_array().unwrap()[1..]
            .iter()
            .all(|cell| cell.as_str().unwrap().ends_with(" ms")),
        "{faq_latency}"
    );

    // The conversation: its client message, in the messages and in the plugins' context.
    let conversation = &steps["conversation"];
    // The browse list shows the dialog; clicking it opens it.
    assert!(
        conversation["browsed"]
            .as_array()
            .unwrap()
            .contains(&json!(["chat2desk", "default", DIALOG.to_string()])),
        "{conversation}"
    );
    assert_eq!(
        conversation["opened"],
        format!("#conversations/chat2desk/default/{DIALOG}")
    );
    assert_eq!(conversation["messages"], json!([QUESTION]));
    assert_eq!(conversation["context"], json!([QUESTION]));
    let unknown = conversation["unknown"].as_str().unwrap();
    assert!(unknown.contains("no dialog"), "{unknown}");

    // The playground: every loaded plugin in its own column, faq's delivery hint there and
    // first in the merged answer, the merge's verdicts listed.
    let playground = &steps["playground"];
    let columns = playground["columns"].as_array().unwrap();
    assert!(columns.contains(&json!(["faq", "ok"])), "{playground}");
    assert!(columns.contains(&json!(["replies", "ok"])), "{playground}");
    assert!(
        playground["faq"][0]
            .as_str()
            .unwrap()
            .starts_with(PLAYGROUND_ANSWER),
        "{playground}"
    );
    assert_eq!(playground["merged"][0][0], "faq", "{playground}");
    assert!(
        playground["merged"][0][1]
            .as_str()
            .unwrap()
            .starts_with(PLAYGROUND_ANSWER),
        "{playground}"
    );
    assert_eq!(playground["verdicts"][0], "kept", "{playground}");

    // Keyboard: Tab reaches every page of the navigation.
    let tabbed = steps["keyboard"].as_array().unwrap();
    for page in [
        "plugins",
        "webhooks",
        "playground",
        "hints",
        "conversations",
    ] {
        assert!(tabbed.contains(&json!(page)), "{tabbed:?}");
    }
    // Signed out: the key has left the tab.
    assert_eq!(steps["signout"]["stored"], 0);
    assert_eq!(steps["signout"]["form_shown"], true);
    // The empty states of a hintd with nothing in it.
    let empty_states = &steps["empty"];
    for (page, says) in [
        ("plugins", "No plugins"),
        ("webhooks", "No webhooks"),
        ("hints", "No answers"),
    ] {
        let text = empty_states[page].as_str().unwrap_or_default();
        assert!(text.starts_with(says), "{page}: {empty_states}");
    }
    assert_eq!(steps["loading"], "Loading…");
    assert_eq!(steps["unreachable"], "hintd cannot be reached");
    for page in [
        "empty",
        "signin",
        "refused",
        "plugins",
        "webhooks",
        "hints",
        "conversations",
        "playground",
    ] {
        assert!(docs.join(format!("console-{page}.png")).exists(), "{page}");
    }
}
