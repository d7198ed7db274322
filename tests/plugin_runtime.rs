//! End-to-end tests of the plugin runtime: hostile plugins are contained (each ends soon
//! after its deadline with the right outcome, and a well-behaved plugin beside it keeps
//! answering), capabilities are enforced, broken plugins are skipped, the compile cache is
//! reused, hot reload swaps plugins under load, and the `plugin` CLI reports correctly.

use hintd::core::{DialogKey, Source};
use hintd::plugins::{CallError, PluginsConfig, Registry};
use hintd_tests::chat2desk;
use hintd_tests::plugins::{
    guest_wasm, install_example, install_hostile, install_plugin, ok_listener, repo_root,
    silent_listener,
};
use hintd_tests::registry::{hint_request, plugins_config, sqlite_store};
use hintd_tests::server::{Server, ServerSpec, client, eventually};
use std::time::{Duration, Instant};

/// Calls `name`, returns the result and how long it took.
async fn timed(
    registry: &Registry,
    name: &str,
) -> (Result<Vec<hintd::plugins::Hint>, CallError>, Duration) {
    let started = Instant::now();
    let result = registry
        .suggest(name, hint_request("acme", "where is my order?"))
        .await;
    (result, started.elapsed())
}

async fn assert_example_answers(registry: &Registry) {
    let hints = registry
        .suggest("example", hint_request("acme", "where is my order?"))
        .await
        .expect("example answers");
    assert_eq!(hints.len(), 2, "{hints:?}");
    assert!(hints[1].text.contains("where is my order"), "{hints:?}");
}

/// The hint text a successful hostile probe (`http`, `kv`) reports.
async fn probe(registry: &Registry, name: &str) -> String {
    let hints = registry
        .suggest(name, hint_request("acme", "x"))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    hints[0].text.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_are_contained_and_the_host_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let silent = silent_listener();
    install_example(&plugins, "example", "");
    let base = "timeout_ms = 200\nmemory_mb = 64\ncapabilities = [\"config\", \"log\"]";
    for mode in ["loop", "recursion", "trap"] {
        install_hostile(&plugins, mode, mode, base, "");
    }
    // Growing to the cap takes tens of milliseconds, more on a loaded machine: a long deadline
    // makes sure the memory cap, not the clock, is what stops it.
    install_hostile(
        &plugins,
        "memory",
        "memory",
        "timeout_ms = 5000\nmemory_mb = 64\ncapabilities = [\"config\", \"log\"]",
        "",
    );
    // Room to build the flood in guest memory, so the host's output cap is what stops it.
    let roomy = "timeout_ms = 10000\nmemory_mb = 256\ncapabilities = [\"config\"]";
    install_hostile(&plugins, "flood-hints", "flood-hints", roomy, "");
    install_hostile(&plugins, "flood-text", "flood-text", roomy, "");
    install_hostile(&plugins, "flood-text-small", "flood-text", base, "");
    install_hostile(
        &plugins,
        "hang",
        "http",
        "timeout_ms = 200\ncapabilities = [\"config\", \"http\"]\nallowed_hosts = [\"127.0.0.1\"]\nallow_private_network = true",
        &format!("url = \"http://127.0.0.1:{silent}/never\"\nhttp_timeout_ms = 60000"),
    );
    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    assert_eq!(registry.enabled().len(), 9);

    // Generous bounds (10x the 200 ms deadline) so a loaded CI machine never flakes; the
    // printed times and the benchmark show the real overrun (about 1-5 ms).
    let bound = Duration::from_secs(2);
    // (plugin, bound on the call's duration, the outcome expected)
    type Case = (&'static str, Duration, fn(&CallError) -> bool);
    let cases: &[Case] = &[
        ("loop", bound, |e| *e == CallError::Timeout),
        ("memory", Duration::from_secs(6), |e| {
            *e == CallError::OutOfMemory
        }),
        ("recursion", bound, |e| matches!(e, CallError::Trap(_))),
        ("trap", bound, |e| matches!(e, CallError::Trap(_))),
        ("hang", bound, |e| *e == CallError::Timeout),
        ("flood-hints", Duration::from_secs(15), |e| {
            matches!(e, CallError::InvalidOutput(_))
        }),
        ("flood-text", Duration::from_secs(15), |e| {
            matches!(e, CallError::InvalidOutput(_))
        }),
        ("flood-text-small", bound, |e| *e == CallError::OutOfMemory),
    ];
    for (name, bound, expected) in cases {
        let (result, took) = timed(&registry, name).await;
        let err = result.expect_err(name);
        assert!(expected(&err), "{name}: unexpected outcome {err:?}");
        assert!(took < *bound, "{name}: took {took:?}, bound {bound:?}");
        eprintln!("{name}: {err} after {took:?}");
        // The host keeps serving, and the neighbour still answers.
        assert_example_answers(&registry).await;
    }

    // Several hostile calls at once, beside a good one.
    let started = Instant::now();
    let (x, hi) = (hint_request("acme", "x"), hint_request("acme", "hi"));
    let (a, b, c, good) = tokio::join!(
        registry.suggest("loop", x.clone()),
        registry.suggest("hang", x.clone()),
        registry.suggest("memory", x.clone()),
        registry.suggest("example", hi.clone()),
    );
    assert_eq!(a.unwrap_err(), CallError::Timeout);
    assert_eq!(b.unwrap_err(), CallError::Timeout);
    assert_eq!(c.unwrap_err(), CallError::OutOfMemory);
    assert!(good.is_ok());
    assert!(started.elapsed() < bound, "{:?}", started.elapsed());

    let stats = registry.stats();
    let of = |n: &str| stats.iter().find(|s| s.plugin == n).cloned().unwrap();
    assert_eq!(of("loop").timeout, 2);
    assert_eq!(of("memory").oom, 2);
    assert_eq!(of("trap").trap, 1);
    assert_eq!(of("flood-hints").rejected, 1);
    assert!(of("example").ok >= 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_is_fenced() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let ok = ok_listener();
    let local = format!("url = \"http://127.0.0.1:{ok}/\"");
    // This test is about what is allowed, not about time: a long deadline keeps a loaded machine
    // from turning an allowed request into a timeout.
    let http = "timeout_ms = 5000\ncapabilities = [\"config\", \"http\"]";
    install_hostile(
        &plugins,
        "forbidden-host",
        "http",
        &format!("{http}\nallowed_hosts = [\"api.example.com\"]"),
        "url = \"http://forbidden.example.net/\"",
    );
    install_hostile(
        &plugins,
        "loopback",
        "http",
        &format!("{http}\nallowed_hosts = [\"127.0.0.1\"]"),
        &local,
    );
    install_hostile(
        &plugins,
        "metadata",
        "http",
        &format!("{http}\nallowed_hosts = [\"*\"]"),
        "url = \"http://169.254.169.254/latest/meta-data/\"",
    );
    install_hostile(
        &plugins,
        "loopback-allowed",
        "http",
        &format!("{http}\nallowed_hosts = [\"127.0.0.1\"]\nallow_private_network = true"),
        &local,
    );
    install_hostile(
        &plugins,
        "no-http",
        "http",
        "capabilities = [\"config\"]",
        &local,
    );
    install_hostile(
        &plugins,
        "bad-scheme",
        "http",
        &format!("{http}\nallowed_hosts = [\"*\"]"),
        "url = \"file:///etc/passwd\"",
    );
    install_example(&plugins, "example", "");
    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();

    let forbidden = probe(&registry, "forbidden-host").await;
    assert!(
        forbidden.starts_with("error:denied:") && forbidden.contains("allowed_hosts"),
        "{forbidden}"
    );
    let loopback = probe(&registry, "loopback").await;
    assert!(
        loopback.starts_with("error:denied:") && loopback.contains("loopback"),
        "{loopback}"
    );
    let metadata = probe(&registry, "metadata").await;
    assert!(
        metadata.starts_with("error:denied:") && metadata.contains("metadata"),
        "{metadata}"
    );
    assert_eq!(probe(&registry, "loopback-allowed").await, "status:200");
    let no_http = probe(&registry, "no-http").await;
    assert!(
        no_http.starts_with("error:denied:") && no_http.contains("does not grant"),
        "{no_http}"
    );
    assert!(
        probe(&registry, "bad-scheme")
            .await
            .starts_with("error:invalid:")
    );
    assert_example_answers(&registry).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_is_granted_by_manifest_and_bounded_by_quota() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let kv = "capabilities = [\"config\", \"kv\"]";
    install_hostile(&plugins, "small", "kv", kv, "kv_bytes = 1000");
    install_hostile(&plugins, "too-big", "kv", kv, "kv_bytes = 2000000");
    install_hostile(
        &plugins,
        "no-kv",
        "kv",
        "capabilities = [\"config\"]",
        "kv_bytes = 10",
    );
    let store = sqlite_store(tmp.path()).await;
    let registry = Registry::load(&plugins_config(tmp.path()), store.clone())
        .await
        .unwrap();
    assert_eq!(probe(&registry, "small").await, "stored:1000");
    assert_eq!(store.kv_usage("small").await.unwrap(), 1004);
    assert_eq!(probe(&registry, "too-big").await, "error:quota-exceeded");
    assert_eq!(
        store.kv_usage("too-big").await.unwrap(),
        0,
        "nothing half-stored"
    );
    assert_eq!(probe(&registry, "no-kv").await, "error:denied");
    // The refusal is on record for health reports; only the refused plugin is listed.
    let refused = store.kv_quota_refusals(0).await.unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0].plugin.as_str(), refused[0].refusals),
        ("too-big", 1)
    );
}

/// A write the kv quota refuses is counted in `/metrics` by the real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_quota_refusals_show_in_metrics_and_readyz() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_hostile(
        &plugins,
        "too-big",
        "kv",
        "capabilities = [\"config\", \"kv\"]\ntimeout_ms = 5000",
        "kv_bytes = 1000",
    );
    let config = format!(
        "{}\n[plugins.limits]\nkv_quota_bytes = 100\n",
        chat2desk::source_config()
    );
    let server = Server::start(tmp.path(), ServerSpec::new(config).plugins(&plugins));
    let (status, body) = chat2desk::post(&server, &chat2desk::inbox(9001, 77, "hello")).await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(20), || async {
        let (status, body) = chat2desk::admin(
            &server,
            reqwest::Method::POST,
            "/api/v1/hints",
            Some(serde_json::json!({"source": "chat2desk", "dialog_id": 77})),
        )
        .await;
        (status == 200).then_some(body)
    })
    .await
    .expect("the hints request is answered");
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "hintd_plugin_kv_quota_exceeded_total{plugin=\"too-big\"} 1"),
        "{metrics}"
    );
    let ready: serde_json::Value = client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        ready["warnings"].as_array().unwrap().iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("too-big") && w.contains("kv quota")
        }),
        "{ready}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_stdio_is_captured_not_inherited() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_hostile(
        &plugins,
        "print",
        "print",
        "capabilities = [\"config\"]",
        "print_bytes = 1000000",
    );
    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    // A megabyte of output is truncated on the host side; the plugin does not fail.
    assert_eq!(probe(&registry, "print").await, "printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_plugins_are_skipped_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install_example(&plugins, "example", "");
    let corrupt = install_example(&plugins, "corrupt", "");
    std::fs::write(
        corrupt.join("corrupt.wasm"),
        b"\0asm garbage that is not a component",
    )
    .unwrap();
    // A core module is valid wasm but not a component.
    let core = install_example(&plugins, "core-module", "");
    std::fs::write(core.join("core-module.wasm"), b"\0asm\x01\0\0\0").unwrap();
    // A valid component (the empty one: preamble only) that does not export `hint-provider`.
    let wrong_world = install_example(&plugins, "wrong-world", "");
    std::fs::write(wrong_world.join("wrong-world.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    let bad_manifest = plugins.join("bad-manifest");
    std::fs::create_dir_all(&bad_manifest).unwrap();
    std::fs::write(
        bad_manifest.join("plugin.toml"),
        "name = \"bad\"\nwasm = \"bad.wasm\"\ntimeout_ms = \"soon\"\n",
    )
    .unwrap();
    let missing = plugins.join("missing-wasm");
    std::fs::create_dir_all(&missing).unwrap();
    std::fs::write(
        missing.join("plugin.toml"),
        "name = \"missing\"\nwasm = \"missing.wasm\"\n",
    )
    .unwrap();
    install_example(&plugins, "disabled", "enabled = false");

    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    let names: Vec<String> = registry.enabled().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["example"]);
    let failures = registry.failures();
    let failure = |dir: &str| {
        failures
            .iter()
            .find(|(d, _)| d.ends_with(dir))
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| panic!("{dir}: {failures:?}"))
    };
    assert!(
        failure("corrupt").contains("not a valid WebAssembly component"),
        "{}",
        failure("corrupt")
    );
    assert!(
        failure("core-module").contains("not a valid WebAssembly component"),
        "{}",
        failure("core-module")
    );
    assert!(
        failure("wrong-world").contains("hint-provider")
            && failure("wrong-world").contains("hintd:provider/provider"),
        "{}",
        failure("wrong-world")
    );
    assert!(
        failure("bad-manifest").contains("timeout_ms"),
        "{}",
        failure("bad-manifest")
    );
    assert!(
        failure("missing-wasm").contains("missing.wasm"),
        "{}",
        failure("missing-wasm")
    );
    assert_eq!(failures.len(), 5, "{failures:?}");
    assert_example_answers(&registry).await;
    assert_eq!(
        registry
            .suggest("corrupt", hint_request("acme", "x"))
            .await
            .unwrap_err(),
        CallError::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_components_are_cached_on_disk_and_reused() {
    let tmp = tempfile::tempdir().unwrap();
    install_example(&tmp.path().join("plugins"), "example", "");
    let cfg = plugins_config(tmp.path());
    let first = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    assert_eq!(first.cache_stats().misses, 1);
    let files: Vec<_> = std::fs::read_dir(tmp.path().join("cache"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let mtime = files[0].metadata().unwrap().modified().unwrap();
    drop(first);

    let second = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    assert_eq!(
        (second.cache_stats().hits, second.cache_stats().misses),
        (1, 0)
    );
    assert_eq!(
        files[0].metadata().unwrap().modified().unwrap(),
        mtime,
        "cache file rewritten"
    );
    assert_example_answers(&second).await;

    // A changed component compiles anew.
    std::fs::copy(
        guest_wasm("hintd-hostile"),
        tmp.path().join("plugins/example/example.wasm"),
    )
    .unwrap();
    let third = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    assert_eq!(third.cache_stats().misses, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_swaps_a_plugin_while_calls_run() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let silent = silent_listener();
    // Version 1 answers after waiting 300 ms on a peer that never answers.
    install_hostile(
        &plugins,
        "swap",
        "http",
        "timeout_ms = 3000\ncapabilities = [\"config\", \"http\"]\nallowed_hosts = [\"127.0.0.1\"]\nallow_private_network = true",
        &format!("url = \"http://127.0.0.1:{silent}/\"\nhttp_timeout_ms = 300"),
    );
    let cfg = PluginsConfig {
        hot_reload: true,
        reload_debounce_ms: 50,
        ..plugins_config(tmp.path())
    };
    let registry = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    let _watch = registry.watch().unwrap().expect("watching");

    // Calls running while the plugin is replaced finish on the old version.
    let in_flight: Vec<_> = (0..4)
        .map(|_| {
            let r = registry.clone();
            tokio::spawn(async move { r.suggest("swap", hint_request("acme", "x")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    install_plugin(
        &plugins,
        "swap",
        "hintd-example",
        "capabilities = [\"config\"]",
    );
    for call in in_flight {
        let hints = call.await.unwrap().expect("in-flight call finishes");
        assert_eq!(
            hints[0].text, "error:timeout",
            "answered by the old version"
        );
    }

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = registry
            .suggest("swap", hint_request("acme", "where is my order?"))
            .await;
        if let Ok(h) = &answer
            && h.len() == 2
        {
            break;
        }
        assert!(Instant::now() < deadline, "never swapped: {answer:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(registry.reloads() >= 2);
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
}

/// A manifest naming a component outside the plugin directory (as the shipped ones and a
/// `plugin new` crate do: the build output): rebuilding it there reloads the plugin, and
/// nothing else written in that folder does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_follows_a_component_outside_the_plugin_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let build = tmp.path().join("build");
    std::fs::create_dir_all(plugins.join("outside")).unwrap();
    std::fs::create_dir_all(&build).unwrap();
    std::fs::copy(guest_wasm("hintd-example"), build.join("outside.wasm")).unwrap();
    std::fs::write(
        plugins.join("outside/plugin.toml"),
        "name = \"outside\"\nwasm = \"../../build/outside.wasm\"\ncapabilities = [\"config\"]\n",
    )
    .unwrap();
    let cfg = PluginsConfig {
        hot_reload: true,
        reload_debounce_ms: 50,
        ..plugins_config(tmp.path())
    };
    let registry = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    let _watch = registry.watch().unwrap().expect("watching");
    assert_eq!(registry.enabled()[0].info.name, "example");
    let reloads = registry.reloads();

    // Other files of the build folder come and go: no reload.
    std::fs::write(build.join("outside.d"), "deps").unwrap();
    std::fs::write(build.join("other.wasm"), "not ours").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        registry.reloads(),
        reloads,
        "a file the manifest does not name reloaded"
    );

    // The component is rebuilt (written to a temporary name, renamed over, as linkers do).
    std::fs::copy(guest_wasm("hintd-faq"), build.join("outside.wasm.tmp")).unwrap();
    std::fs::rename(build.join("outside.wasm.tmp"), build.join("outside.wasm")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while registry.enabled().first().map(|p| p.info.name.as_str()) != Some("faq") {
        assert!(
            Instant::now() < deadline,
            "the rebuilt component was not loaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(registry.reloads() > reloads);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuit_opens_after_repeated_failures() {
    let tmp = tempfile::tempdir().unwrap();
    install_hostile(
        &tmp.path().join("plugins"),
        "trap",
        "trap",
        "capabilities = [\"config\"]",
        "",
    );
    let cfg = PluginsConfig {
        breaker_failures: 3,
        breaker_cooldown_ms: 60_000,
        ..plugins_config(tmp.path())
    };
    let registry = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(matches!(
            registry.suggest("trap", hint_request("acme", "x")).await,
            Err(CallError::Trap(_))
        ));
    }
    assert_eq!(
        registry
            .suggest("trap", hint_request("acme", "x"))
            .await
            .unwrap_err(),
        CallError::CircuitOpen
    );
    let stats = registry.stats();
    assert!(stats[0].circuit_open);
    assert_eq!((stats[0].trap, stats[0].skipped), (3, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_instances_serve_repeated_calls() {
    let tmp = tempfile::tempdir().unwrap();
    install_example(
        &tmp.path().join("plugins"),
        "example",
        "instance = \"reuse\"",
    );
    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    for _ in 0..50 {
        assert_example_answers(&registry).await;
    }
    assert_eq!(registry.stats()[0].ok, 50);
}

fn hintd(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .args(args)
        // `plugin check|run` keep compiled components where `serve` would: not in the checkout.
        .env(
            "HINTD__PLUGINS__CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/plugin-cache"),
        )
        .output()
        .expect("runs")
}

#[test]
fn plugin_cli_checks_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = install_example(tmp.path(), "example", "[config]\ngreeting = \"Olá!\"");
    let dir = dir.to_str().unwrap();

    let out = hintd(&["plugin", "check", dir]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("describe(): example"), "{stdout}");
    assert!(stdout.contains("greeting"), "{stdout}");

    let dialogue = repo_root().join("examples/dialogue.json");
    let out = hintd(&[
        "plugin",
        "run",
        dir,
        "--context",
        dialogue.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Olá!") && stdout.contains("qual o prazo de entrega"),
        "{stdout}"
    );

    let corrupt = tmp.path().join("corrupt.wasm");
    std::fs::write(&corrupt, b"not wasm").unwrap();
    let out = hintd(&["plugin", "check", corrupt.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a valid WebAssembly component"),
        "{stderr}"
    );

    let out = hintd(&[
        "plugin",
        "check",
        tmp.path().join("absent").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));

    // A bare component is accepted too.
    let out = hintd(&[
        "plugin",
        "check",
        guest_wasm("hintd-example").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_is_delivered_off_the_request_path_and_drops_are_counted() {
    use hintd::plugins::{ConversationEvent, DialogRef};
    let tmp = tempfile::tempdir().unwrap();
    install_example(&tmp.path().join("plugins"), "example", "");
    let cfg = PluginsConfig {
        observe_queue_size: 4,
        ..plugins_config(tmp.path())
    };
    let registry = Registry::load(&cfg, sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    let at = DialogRef {
        dialog: DialogKey::new(Source::Chatwoot, "1", "42"),
        client_id: Some("c".into()),
    };
    let started = Instant::now();
    for _ in 0..1000 {
        registry.observe(ConversationEvent::DialogClosed(at.clone()));
    }
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "observe blocked: {:?}",
        started.elapsed()
    );
    assert!(registry.observe_dropped() > 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let delivered = registry.stats().first().map_or(0, |s| s.ok);
        if delivered + registry.observe_dropped() == 1000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "delivered {delivered}, dropped {}",
            registry.observe_dropped()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The feedback `[config] mode = "feedbacks"` reports: how many `feedback` calls the instance
/// answering has seen.
async fn feedbacks_seen(registry: &Registry, name: &str) -> String {
    let hints = registry
        .suggest(name, hint_request("acme", "x"))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    hints[0].text.clone()
}

fn feedback_for(account: &str) -> hintd::plugins::Feedback {
    let hint = hintd::plugins::Hint {
        id: "f".into(),
        text: "t".into(),
        url: None,
        link: None,
        relevance: 50,
    };
    hintd::plugins::Feedback {
        request_id: "r1".into(),
        dialog_id: "d1".into(),
        account: account.into(),
        message_id: "m1".into(),
        chosen: hint.clone(),
        chosen_is_mine: true,
        shown: vec![hint],
        context: vec![],
    }
}

/// With `instance = "reuse"`, `feedback` runs in an instance of the dialog's account, so what a
/// plugin learns in memory from it is there at the next `suggest`; a fresh plugin's is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_reaches_the_reused_instance() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let caps = "capabilities = [\"config\"]";
    install_hostile(
        &plugins,
        "reused",
        "feedbacks",
        &format!("{caps}\ninstance = \"reuse\""),
        "",
    );
    install_hostile(&plugins, "fresh", "feedbacks", caps, "");
    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    for name in ["reused", "fresh"] {
        assert_eq!(feedbacks_seen(&registry, name).await, "feedbacks:0");
        registry
            .feedback(name, &feedback_for("acme"))
            .await
            .unwrap();
        registry
            .feedback(name, &feedback_for("acme"))
            .await
            .unwrap();
    }
    assert_eq!(feedbacks_seen(&registry, "reused").await, "feedbacks:2");
    assert_eq!(feedbacks_seen(&registry, "fresh").await, "feedbacks:0");
    // Another account's pool is another instance.
    registry
        .feedback("reused", &feedback_for("other"))
        .await
        .unwrap();
    assert_eq!(feedbacks_seen(&registry, "reused").await, "feedbacks:2");
}

/// A relevance over the contract's 100 is clamped to 100, the hints kept, and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relevance_over_100_is_clamped() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let caps = "capabilities = [\"config\"]";
    install_hostile(&plugins, "eager", "relevance", caps, "relevance = 250");
    install_hostile(&plugins, "calm", "relevance", caps, "relevance = 100");
    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    for _ in 0..3 {
        let hints = registry
            .suggest("eager", hint_request("acme", "x"))
            .await
            .expect("hints kept");
        assert_eq!(
            (hints[0].relevance, hints[0].text.as_str()),
            (100, "relevance 250")
        );
    }
    let hints = registry
        .suggest("calm", hint_request("acme", "x"))
        .await
        .unwrap();
    assert_eq!(hints[0].relevance, 100);
    let eager = registry
        .stats()
        .into_iter()
        .find(|s| s.plugin == "eager")
        .unwrap();
    assert_eq!(eager.ok, 3, "clamped answers are successful calls");
}
