//! `GET /api/v1/plugins` and `POST /api/v1/plugins/reload` against the real hintd with the
//! shipped plugins and a deliberately broken one: the admin key, each plugin's manifest, load
//! error, circuits, calls and hint figures, and a reload that picks up the repaired plugin.

use hintd_tests::chat2desk::{admin, choice, hints_request, inbox, post, source_config};
use hintd_tests::plugins::{guest_wasm, install_example, install_shipped};
use hintd_tests::server::{Server, ServerSpec, client};
use reqwest::Method;
use serde_json::Value;
use std::path::Path;

/// faq and replies as shipped, and `broken`: the example plugin with a component that is not
/// one.
fn plugins(root: &Path) -> std::path::PathBuf {
    let dir = root.join("plugins");
    install_shipped(&dir, "faq", "");
    install_shipped(&dir, "replies", "");
    let broken = install_example(&dir, "broken", "");
    std::fs::write(broken.join("broken.wasm"), b"\0asm not a component").unwrap();
    dir
}

fn plugin<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no plugin {name} in {list:#}"))
}

#[tokio::test]
async fn the_plugins_endpoints_need_the_admin_key() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), ServerSpec::new(""));
    for (method, path) in [
        (Method::GET, "/api/v1/plugins"),
        (Method::POST, "/api/v1/plugins/reload"),
    ] {
        for auth in [None, Some("Bearer wrong-key")] {
            let mut req = client().request(method.clone(), server.url(path));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{method} {path} {auth:?}");
            assert_eq!(resp.headers()["www-authenticate"], "Bearer");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized");
            assert_eq!(body["error"]["field"], "Authorization");
        }
    }
}

#[tokio::test]
async fn plugins_show_manifest_load_error_circuits_calls_and_acceptance() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(
        tmp.path(),
        ServerSpec::new(source_config()).plugins(plugins(tmp.path())),
    );

    let (status, list) = admin(&server, Method::GET, "/api/v1/plugins", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["loaded"], true);
    let faq = plugin(&list, "faq");
    assert_eq!(faq["status"], "loaded");
    assert!(faq.get("load_error").is_none(), "{faq}");
    assert_eq!(faq["manifest"]["name"], "faq");
    assert!(faq["manifest"]["weight"].is_number(), "{faq}");
    assert!(faq["manifest"]["timeout_ms"].is_u64(), "{faq}");
    assert_eq!(faq["manifest"]["info"]["name"], "faq");
    assert_eq!(
        faq["circuits"],
        serde_json::json!({"suggest": "closed", "feedback": "closed", "observe": "closed"})
    );
    let broken = plugin(&list, "broken");
    assert_eq!(broken["status"], "failed");
    assert!(broken.get("manifest").is_none(), "{broken}");
    let error = broken["load_error"].as_str().unwrap();
    assert!(
        error.contains("broken.wasm") && error.contains("not a valid WebAssembly component"),
        "{broken}"
    );
    assert!(
        broken["directory"].as_str().unwrap().ends_with("broken"),
        "{broken}"
    );
    assert_eq!(plugin(&list, "replies")["status"], "loaded");

    // One answered and chosen hint request: calls and acceptance show up.
    let (status, body) = post(
        &server,
        &inbox(5001, 77, "How long does delivery take to my city?"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, reply) = post(&server, &hints_request(77, 1, 5001)).await;
    assert_eq!(status, 200, "{reply}");
    let hints = reply["hints"].as_array().unwrap();
    assert!(!hints.is_empty(), "{reply}");
    let (status, body) = post(&server, &choice(77, 5001, 1)).await;
    assert_eq!(status, 200, "{body}");

    let (status, list) = admin(&server, Method::GET, "/api/v1/plugins", None).await;
    assert_eq!(status, 200, "{list}");
    let faq = plugin(&list, "faq");
    assert!(faq["calls"]["ok"].as_u64().unwrap() >= 1, "{faq}");
    assert!(faq["calls"]["mean_latency_us"].is_u64(), "{faq}");
    // Percentiles come from the plugin's own latency histogram, never above the slowest call.
    let latency = |k: &str| {
        faq["calls"][k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {faq}"))
    };
    assert!(latency("p50_latency_us") > 0, "{faq}");
    assert!(
        latency("p50_latency_us") <= latency("p99_latency_us"),
        "{faq}"
    );
    assert!(
        latency("p99_latency_us") <= latency("max_latency_us"),
        "{faq}"
    );
    let shown: i64 = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["hints"]["hints_shown"].as_i64())
        .sum();
    let chosen: i64 = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["hints"]["chosen"].as_i64())
        .sum();
    assert!(shown >= 1, "{list:#}");
    assert_eq!(chosen, 1, "{list:#}");

    // The hint figures take the filters of /api/v1/hints/stats; a bad one is named.
    let (status, filtered) = admin(
        &server,
        Method::GET,
        "/api/v1/plugins?since_ms=99999999999999",
        None,
    )
    .await;
    assert_eq!(status, 200, "{filtered}");
    assert!(
        plugin(&filtered, "faq").get("hints").is_none(),
        "{filtered}"
    );
    for (query, field) in [("since_ms=soon", "since_ms"), ("nope=1", "nope")] {
        let (status, body) = admin(
            &server,
            Method::GET,
            &format!("/api/v1/plugins?{query}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let (status, body) = admin(&server, Method::GET, "/api/v1/plugins?source=icq", None).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &Value::from("source"))
    );
}

#[tokio::test]
async fn reload_loads_a_repaired_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugins(tmp.path());
    let server = Server::start(tmp.path(), ServerSpec::new("").plugins(&dir));
    let (_, before) = admin(&server, Method::GET, "/api/v1/plugins", None).await;
    assert_eq!(plugin(&before, "broken")["status"], "failed");

    std::fs::copy(guest_wasm("hintd-example"), dir.join("broken/broken.wasm")).unwrap();
    let (status, after) = admin(&server, Method::POST, "/api/v1/plugins/reload", None).await;
    assert_eq!(status, 200, "{after}");
    let repaired = plugin(&after, "broken");
    assert_eq!(repaired["status"], "loaded", "{after:#}");
    assert!(repaired.get("load_error").is_none(), "{repaired}");
    assert!(
        after["reloads"].as_u64().unwrap() > before["reloads"].as_u64().unwrap(),
        "{after}"
    );
    assert_eq!(plugin(&after, "faq")["status"], "loaded");
}

/// The resident memory of process `pid`, KiB (Linux).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Reloads that find every plugin changed (each manifest edited before each reload) replace
/// the plugins without keeping the old ones: resident memory levels off instead of growing
/// with each reload. A disabled plugin is not compiled at all (its component is not one, and
/// nothing fails).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn reloads_replace_changed_plugins_within_a_memory_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("plugins");
    install_shipped(&dir, "faq", "");
    install_shipped(&dir, "replies", "");
    install_example(&dir, "example", "");
    let off = install_example(&dir, "off", "enabled = false");
    std::fs::write(off.join("off.wasm"), b"\0asm not a component").unwrap();
    let server = Server::start(tmp.path(), ServerSpec::new("").plugins(&dir));
    let pid = server.pid().unwrap();
    let loaded = async || -> Vec<(String, String)> {
        let (_, list) = admin(&server, Method::GET, "/api/v1/plugins", None).await;
        list["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().into(),
                    p["status"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let all_loaded = [
        ("example", "loaded"),
        ("faq", "loaded"),
        ("replies", "loaded"),
    ]
    .map(|(n, s)| (n.to_string(), s.to_string()));
    assert_eq!(loaded().await, all_loaded);

    let mut edits = 0;
    let mut reload = async |n: usize| {
        for _ in 0..n {
            edits += 1;
            for name in ["faq", "replies", "example"] {
                let manifest = dir.join(name).join("plugin.toml");
                let mut text = std::fs::read_to_string(&manifest).unwrap();
                text.push_str(&format!("# edit {edits}\n"));
                std::fs::write(&manifest, text).unwrap();
            }
            let (status, body) = admin(&server, Method::POST, "/api/v1/plugins/reload", None).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    // The first reloads warm the allocator and the component cache; from then on memory
    // must stay level (measured: within 10 MiB over 560 further reloads).
    reload(40).await;
    let warm = rss_kib(pid);
    reload(80).await;
    let after = rss_kib(pid);
    assert!(
        after < warm + 32 * 1024,
        "resident memory grew from {warm} KiB to {after} KiB over 80 reloads"
    );
    assert_eq!(loaded().await, all_loaded);
}
