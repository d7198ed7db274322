//! What a plugin's component may import. `wasi:http` (what `fetch()` in a JavaScript plugin
//! uses) is linked for every component and decided per request by the manifest's `http`
//! policy: a component built with componentize-js's default features calls a loopback mock
//! when granted and allowed, and is refused for a host outside `allowed_hosts` or without the
//! grant. An import hintd does not provide is refused by name before anything is compiled.

use hintd::plugins::Registry;
use hintd_tests::js::js_component;
use hintd_tests::registry::{hint_request, plugins_config, sqlite_store};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A plugin whose `suggest` fetches `[config] url` and answers with the status and body, or
/// with the error `fetch()` rejected with.
const FETCHER_JS: &str = r#"
import { get } from 'hintd:provider/config@0.1.0';

export const provider = {
  describe() {
    return { name: 'fetcher', version: '0.1.0', description: 'Answers with what fetch() got from [config] url' };
  },
  async suggest(req) {
    // Config values are JSON text.
    const url = JSON.parse(get('url'));
    try {
      const response = await fetch(url);
      const body = await response.text();
      return [{ id: 'fetched', text: `${response.status} ${body}`, relevance: 90 }];
    } catch (e) {
      return [{ id: 'refused', text: `refused: ${e}`, relevance: 10 }];
    }
  },
  feedback(fb) {},
  observe(event) {},
};
"#;

/// A loopback HTTP server answering every request `200 from the mock`; returns its port and
/// the count of requests it received.
fn mock() -> (u16, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 8192];
            let _ = conn.read(&mut buf);
            let body = "from the mock";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, requests)
}

fn install(plugins: &Path, name: &str, wasm: &Path, manifest_rest: &str, url: &str) {
    let dir = plugins.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(wasm, dir.join("plugin.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "name = \"{name}\"\nwasm = \"plugin.wasm\"\ntimeout_ms = 20000\nmemory_mb = 128\n{manifest_rest}\n[config]\nurl = \"{url}\"\n"
        ),
    )
    .unwrap();
}

async fn answer(registry: &Registry, name: &str) -> String {
    let hints = registry
        .suggest(name, hint_request("acme", "x"))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    hints[0].text.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_fetch_goes_through_the_manifest_http_policy() {
    let wasm = js_component(FETCHER_JS);
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let (port, requests) = mock();
    let loopback = format!("http://127.0.0.1:{port}/hint");
    let granted = "capabilities = [\"http\", \"config\"]\nallowed_hosts = [\"127.0.0.1\"]\nallow_private_network = true";
    install(&plugins, "allowed", &wasm, granted, &loopback);
    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    assert_eq!(registry.failures(), vec![]);
    assert_eq!(answer(&registry, "allowed").await, "200 from the mock");
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    // The same component: a host outside allowed_hosts (refused by the glob, never resolved),
    // and no `http` grant at all (it still loads; its requests are refused).
    install(
        &plugins,
        "forbidden",
        &wasm,
        granted,
        &format!("http://forbidden.invalid:{port}/hint"),
    );
    install(
        &plugins,
        "ungranted",
        &wasm,
        "capabilities = [\"config\"]",
        &loopback,
    );
    registry.reload().await;
    assert_eq!(registry.failures(), vec![]);
    assert_eq!(
        registry.cache_stats().hits,
        2,
        "the same component is compiled once"
    );
    for name in ["forbidden", "ungranted"] {
        let text = answer(&registry, name).await;
        assert!(text.starts_with("refused: "), "{name}: {text}");
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "no refused request reached the mock"
    );
    assert_eq!(answer(&registry, "allowed").await, "200 from the mock");
}

/// A component importing `acme:x/y` (an instance of no functions) and nothing else.
fn component_importing(interface: &str) -> Vec<u8> {
    use wasm_encoder::{
        Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection, InstanceType,
    };
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    let mut imports = ComponentImportSection::new();
    imports.import(interface, ComponentTypeRef::Instance(0));
    let mut component = Component::new();
    component.section(&types);
    component.section(&imports);
    component.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_hintd_does_not_provide_is_named_before_compiling() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    for (name, interface) in [
        ("stranger", "acme:x/y"),
        ("keyvalue", "wasi:keyvalue/store@0.2.0-draft"),
        ("server", "wasi:http/incoming-handler@0.2.0"),
    ] {
        let dir = plugins.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("p.wasm"), component_importing(interface)).unwrap();
        std::fs::write(
            dir.join("plugin.toml"),
            format!("name = \"{name}\"\nwasm = \"p.wasm\"\ncapabilities = [\"http\"]\nallowed_hosts = [\"*\"]\n"),
        )
        .unwrap();
    }
    let registry = Registry::load(&plugins_config(tmp.path()), sqlite_store(tmp.path()).await)
        .await
        .unwrap();
    let failures = registry.failures();
    assert_eq!(failures.len(), 3, "{failures:?}");
    for (name, interface) in [
        ("stranger", "acme:x/y"),
        ("keyvalue", "wasi:keyvalue/store@0.2.0-draft"),
        ("server", "wasi:http/incoming-handler@0.2.0"),
    ] {
        let expected = format!("plugin {name} imports {interface}, which hintd does not provide");
        assert!(
            failures.iter().any(|(_, e)| e.starts_with(&expected)),
            "{expected}: {failures:?}"
        );
    }
    assert_eq!(registry.cache_stats().misses, 0, "nothing was compiled");
}
