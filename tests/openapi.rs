//! The OpenAPI document against the real hintd with the shipped plugins: it is served without
//! the admin key, is OpenAPI 3.1, and every operation it describes is served; then
//! schemathesis (PyPI, installed on first use into `target/tools/schemathesis`) runs over the
//! whole document with the admin key: no server error, and every answer's status, content
//! type and body as described.

use hintd_tests::chat2desk::{TOKEN, admin, hints_request, inbox, post, source_config};
use hintd_tests::plugins::{install_shipped, repo_root};
use hintd_tests::server::{ADMIN_KEY, SEAL_KEY, Server, ServerSpec, client};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The schemathesis release the test runs (bumped on purpose, never floating).
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// Test cases per operation and phase: bounds the run to about two minutes on two cores.
const MAX_EXAMPLES: u32 = 100;

/// Fixed, so that a failure reproduces; change it to explore other inputs.
const SEED: u32 = 20261201;

/// A server with faq and replies, a Chat2Desk source, and no webhook delivery workers: the
/// document lets schemathesis create webhooks with any URL, and nothing may leave loopback.
fn start(dir: &Path) -> Server {
    let plugins = dir.join("plugins");
    install_shipped(&plugins, "faq", "");
    install_shipped(&plugins, "replies", "");
    Server::start(
        dir,
        ServerSpec::new(format!(
            "{}\n[dispatch]\nenabled = false\nsecret_key = \"{SEAL_KEY}\"\n",
            source_config()
        ))
        .plugins(plugins),
    )
}

async fn document(server: &Server) -> Value {
    let resp = client()
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the document needs no key");
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn the_document_is_served_and_every_operation_in_it_is_routed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path());
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/plugins",
        "/api/v1/plugins/reload",
        "/api/v1/hints",
        "/api/v1/webhooks/{id}",
        "/webhooks/{source}",
        "/webhooks/{source}/{account}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} is not described");
    }
    let mut operations = 0;
    for (path, item) in paths {
        // Any value reaches the route; the handler may then refuse it (404, 400), but in its
        // own words, not the router's `no_route` / `method_not_allowed`.
        let concrete = path
            .replace("{source}", "chat2desk")
            .replace(['{', '}'], "");
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = client()
                .request(method.clone(), server.url(&concrete))
                .bearer_auth(ADMIN_KEY)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {path}: {body}");
            assert_ne!(body["error"]["code"], "no_route", "{method} {path}: {body}");
            operations += 1;
        }
    }
    assert!(operations >= 25, "{operations} operations");
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let schemathesis = schemathesis();
    let started = std::time::Instant::now();
    // First with every value generated (most ids are unknown: the refusals are checked);
    // then with the path and body ids of a seeded dialog, answer and webhook, so that the
    // operations reach what lies behind their lookups. Each run has a server of its own, so
    // that the webhooks the first one creates leave room for the second's.
    let mut failed = Vec::new();
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path());
    if !run_schemathesis(&schemathesis, &server, tmp.path(), "generated", None) {
        failed.push("generated");
    }
    drop(server);
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path());
    let webhook = seed(&server).await;
    let pinned = format!(
        "[parameters]\n\
         \"path.source\" = \"chat2desk\"\n\
         \"path.account\" = \"default\"\n\
         \"path.dialog_id\" = \"{DIALOG}\"\n\
         \"path.client_id\" = \"{CLIENT}\"\n\
         \"path.id\" = \"{webhook}\"\n\
         \"body.source\" = \"chat2desk\"\n\
         \"body.account\" = \"default\"\n\
         \"body.dialog_id\" = {DIALOG}\n\
         \"body.message_id\" = {MESSAGE}\n\
         \"body.hint_id\" = 1\n\
         \"query.token\" = \"{TOKEN}\"\n"
    );
    if !run_schemathesis(&schemathesis, &server, tmp.path(), "seeded", Some(&pinned)) {
        failed.push("seeded");
    }
    println!(
        "schemathesis {SCHEMATHESIS_VERSION}: both runs in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "schemathesis found failures in the {failed:?} run(s); see the summaries above"
    );
}

/// The seeded dialog, its client and its message.
const DIALOG: u64 = 77;
const CLIENT: u64 = 177;
const MESSAGE: u64 = 5001;

/// A client message, an answer with hints for it, and a webhook; returns the webhook's id.
async fn seed(server: &Server) -> String {
    let (status, body) = post(
        server,
        &inbox(MESSAGE, DIALOG, "How long does delivery take?"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(server, &hints_request(DIALOG, 1, MESSAGE)).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["hints"].as_array().unwrap().is_empty(), "{body}");
    let (status, created) = admin(
        server,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(
            serde_json::json!({"name": "seeded", "url": "https://receiver.invalid/hook",
                                "events": ["*"]}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

/// Runs schemathesis over the whole document, with `config` (a schemathesis.toml) when
/// given; prints its summary and says whether it found nothing.
fn run_schemathesis(
    exe: &Path,
    server: &Server,
    dir: &Path,
    name: &str,
    config: Option<&str>,
) -> bool {
    let mut cmd = Command::new(exe);
    if let Some(config) = config {
        let file = dir.join(format!("schemathesis-{name}.toml"));
        std::fs::write(&file, config).unwrap();
        cmd.arg("--config-file").arg(file);
    }
    let output = cmd
        .arg("run")
        .arg(server.url("/api/v1/openapi.json"))
        .args(["--url", &server.base])
        .args(["--header", &format!("Authorization: Bearer {ADMIN_KEY}")])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,\
             content_type_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", &MAX_EXAMPLES.to_string()])
        .args(["--seed", &SEED.to_string()])
        // One worker: hypothesis describes its strategies with `ast.parse`, which CPython
        // 3.11 does not support from several threads at once (SystemError).
        .args(["--workers", "1"])
        .args(["--request-timeout", "10"])
        .arg("--no-color")
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The summary, for the log of whoever runs the suite.
    println!("==== schemathesis, {name} values ====\n{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    output.status.success()
}

/// The schemathesis executable of the project's venv, creating the venv on first use (needs
/// `python3` with `venv`, and the package index).
fn schemathesis() -> PathBuf {
    let venv = target_dir().join("tools").join("schemathesis");
    let exe = venv.join("bin").join("schemathesis");
    let stamp = venv.join(format!("installed-{SCHEMATHESIS_VERSION}"));
    if stamp.exists() && exe.exists() {
        return exe;
    }
    let run = |cmd: &mut Command| {
        let status = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(status.success(), "{cmd:?}: {status}");
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("schemathesis=={SCHEMATHESIS_VERSION}")));
    std::fs::write(&stamp, "").unwrap();
    exe
}

/// Cargo's target directory (where the build keeps its tools).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}
