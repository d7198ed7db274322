//! Loading plugins out of the way and the author's inner loop: `serve` answers while a large
//! component (a JavaScript plugin: a JS engine of megabytes) compiles in the background, and
//! `/readyz` names it until it is ready; `plugin check` and `plugin run` share the compile
//! cache of `serve` and show the plugin's own log lines and output, with `--verbose` or when
//! it fails.

use hintd_tests::js::js_component;
use hintd_tests::plugins::{install_example, install_hostile, repo_root};
use hintd_tests::server::{ADMIN_KEY, client, eventually};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

const HELLO_JS: &str = r#"
export const provider = {
  describe() {
    return { name: 'hello-js', version: '0.1.0', description: 'Says hello' };
  },
  suggest(req) {
    return [{ id: 'hello', text: 'Hello from JavaScript', relevance: 60 }];
  },
  feedback(fb) {},
  observe(event) {},
};
"#;

/// Runs `hintd plugin ARGS` with the compile cache in `cache`; returns stdout, stderr and
/// whether it succeeded.
fn plugin_cli(cache: &Path, args: &[&str]) -> (String, String, bool) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .arg("plugin")
        .args(args)
        .env("HINTD__PLUGINS__CACHE_DIR", cache)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_while_a_large_plugin_compiles() {
    let wasm = js_component(HELLO_JS);
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_example(&plugins, "example", "");
    let js = plugins.join("hello-js");
    std::fs::create_dir_all(&js).unwrap();
    std::fs::copy(&wasm, js.join("hello.wasm")).unwrap();
    std::fs::write(
        js.join("plugin.toml"),
        "name = \"hello-js\"\nwasm = \"hello.wasm\"\nmemory_mb = 128\ntimeout_ms = 10000\n",
    )
    .unwrap();
    let config = tmp.path().join("hintd.toml");
    std::fs::write(&config, format!("[server]\nadmin_key = \"{ADMIN_KEY}\"\n")).unwrap();
    let started = Instant::now();
    let mut child = std::process::Command::new(hintd_tests::server::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(format!("sqlite://{}/hintd.db", tmp.path().display()))
        .arg("--plugins")
        .arg(&plugins)
        // A cache of its own: the component is compiled now, not found from an earlier run.
        .env("HINTD__PLUGINS__CACHE_DIR", tmp.path().join("cache"))
        .env("HINTD__PLUGINS__HOT_RELOAD", "false")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let addr = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_string))
        .expect("hintd listens");
    let listening_after = started.elapsed();
    let base = format!("http://{addr}");
    let health = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // Until the ready answer, /readyz names the JavaScript plugin among those loading (the
    // load starts right after binding: the first answer may come before it has begun).
    let loading_seen = eventually(Duration::from_secs(60), || async {
        let r = client().get(format!("{base}/readyz")).send().await.ok()?;
        let status = r.status();
        let body: Value = r.json().await.ok()?;
        let loading = body["loading"].as_array().is_some_and(|l| {
            l.iter()
                .any(|d| d.as_str().is_some_and(|d| d.ends_with("hello-js")))
        });
        match (status.as_u16(), loading) {
            (503, true) => Some(Ok(())),
            (200, _) => Some(Err(body)),
            _ => None,
        }
    })
    .await;
    assert!(
        matches!(loading_seen, Some(Ok(()))),
        "hello-js never seen loading: {loading_seen:?}"
    );
    let ready = eventually(Duration::from_secs(300), || async {
        let r = client().get(format!("{base}/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    let ready_after = started.elapsed();
    eprintln!("listening after {listening_after:?}, every plugin ready after {ready_after:?}");
    let listed: Value = client()
        .get(format!("{base}/api/v1/plugins"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    ready.expect("ready once the first load ended");
    let loaded: Vec<&str> = listed["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "loaded")
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(loaded, ["example", "hello-js"], "{listed}");
}

#[test]
fn plugin_check_and_run_share_the_compile_cache_of_serve() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let dir = install_example(tmp.path(), "example", "");
    let dir = dir.to_str().unwrap();
    let (stdout, stderr, ok) = plugin_cli(&cache, &["check", dir]);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stderr.contains("compiled in") && stderr.contains("kept in the compile cache"),
        "{stderr}"
    );
    let (stdout, stderr, ok) = plugin_cli(&cache, &["check", dir]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stderr.contains("loaded from the compile cache"), "{stderr}");
    let dialogue = repo_root().join("examples/dialogue.json");
    let (stdout, stderr, ok) = plugin_cli(
        &cache,
        &["run", dir, "--context", dialogue.to_str().unwrap()],
    );
    assert!(ok, "{stdout}{stderr}");
    assert!(stderr.contains("loaded from the compile cache"), "{stderr}");
    let (_, stderr, ok) = plugin_cli(&cache, &["check", dir, "--no-cache"]);
    assert!(ok && stderr.contains("compile cache off"), "{stderr}");
}

#[test]
fn plugin_run_shows_the_plugin_output_with_verbose_or_on_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let dialogue = repo_root().join("examples/dialogue.json");
    let dialogue = dialogue.to_str().unwrap();
    let caps = "capabilities = [\"config\", \"log\"]";
    let chatty = install_hostile(tmp.path(), "chatty", "log", caps, "log_lines = 2");
    let chatty = chatty.to_str().unwrap();

    // Quiet by default when it works.
    let (stdout, stderr, ok) = plugin_cli(&cache, &["run", chatty, "--context", dialogue]);
    assert!(ok, "{stdout}{stderr}");
    assert!(!stderr.contains("line 0"), "{stderr}");

    let (stdout, stderr, ok) =
        plugin_cli(&cache, &["run", chatty, "--context", dialogue, "--verbose"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stderr.contains("log info: line 0"), "{stderr}");
    assert!(stderr.contains("stdout: line 1"), "{stderr}");

    // A failing plugin's stderr (here a panic message) is shown without asking.
    let broken = install_hostile(tmp.path(), "broken", "trap", caps, "");
    let (stdout, stderr, ok) = plugin_cli(
        &cache,
        &["run", broken.to_str().unwrap(), "--context", dialogue],
    );
    assert!(!ok, "{stdout}{stderr}");
    assert!(stderr.contains("suggest failed: trapped"), "{stderr}");
    assert!(
        stderr.contains("stderr: ") && stderr.contains("hostile plugin panics on purpose"),
        "{stderr}"
    );
}
