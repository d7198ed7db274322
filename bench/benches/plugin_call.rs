//! One `suggest` call of the example plugin through the registry: a fresh instance per call,
//! a reused instance, and the same logic compiled natively; plus the parts of a fresh call
//! (host state, store, instantiation, the call itself) to show where its time goes.
//!
//! `cargo bench -p hintd-bench --bench plugin_call` (builds `plugins/` for wasm32-wasip2 first).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use hintd::core::{DialogKey, Message, Role, Source};
use hintd::plugins::host::{GuardedHttpPolicy, HostState, PluginContext};
use hintd::plugins::wit::ProviderPre;
use hintd::plugins::wit::v0_1_0::{hint_request, lower_all};
use hintd::plugins::{HintRequest, Limits, Manifest, PluginsConfig, Registry};
use hintd::store::StoreConfig;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hintd_bench::example_logic as logic;

const GREETING: &str = "Hello! How can I help you?";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Builds the guest workspace and returns the example component.
fn example_wasm() -> PathBuf {
    hintd_bench::guests::build_guest_workspace(&repo_root())
        .expect("building plugins/")
        .join("hintd_example.wasm")
}

fn install(root: &Path, name: &str, wasm: &Path, instance: &str) {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(wasm, dir.join("example.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "name = \"{name}\"\nwasm = \"example.wasm\"\ninstance = \"{instance}\"\ncapabilities = [\"log\", \"config\"]\n\
             [config]\ngreeting = \"{GREETING}\"\n"
        ),
    )
    .unwrap();
}

fn request() -> HintRequest {
    HintRequest {
        request_id: "r1".into(),
        dialog: DialogKey::new(Source::Api, "acme", "d1"),
        client_id: "c1".into(),
        operator_id: None,
        channel_id: None,
        transport: None,
        message_id: "m2".into(),
        external_key: None,
        context: vec![
            Message {
                id: "m1".into(),
                role: Role::Operator,
                text: "Hello, how can I help?".into(),
                sent_at_ms: 1,
                private: false,
                media_type: None,
                media_url: None,
            },
            Message {
                id: "m2".into(),
                role: Role::Client,
                text: "Where is my order?".into(),
                sent_at_ms: 2,
                private: false,
                media_type: None,
                media_url: None,
            },
        ],
        max_hints: 3,
        deadline_ms: 0,
    }
}

fn bench(c: &mut Criterion) {
    let wasm = example_wasm();
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    install(&plugins, "fresh", &wasm, "fresh");
    install(&plugins, "reuse", &wasm, "reuse");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store_url = format!("sqlite://{}/bench.db", tmp.path().display());
    let store = rt
        .block_on(hintd::store::open(&StoreConfig {
            url: store_url,
            ..StoreConfig::default()
        }))
        .unwrap();
    let config = PluginsConfig {
        dir: Some(plugins),
        cache_dir: tmp.path().join("cache"),
        hot_reload: false,
        ..PluginsConfig::default()
    };
    let registry = rt.block_on(Registry::load(&config, store.clone())).unwrap();
    assert_eq!(registry.enabled().len(), 2, "{:?}", registry.failures());
    let req = request();

    let mut group = c.benchmark_group("suggest");
    group.bench_function("wasm_fresh_instance", |b| {
        b.iter(|| {
            rt.block_on(registry.suggest("fresh", black_box(req.clone())))
                .unwrap()
        })
    });
    group.bench_function("wasm_reused_instance", |b| {
        b.iter(|| {
            rt.block_on(registry.suggest("reuse", black_box(req.clone())))
                .unwrap()
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            let last = black_box(&req)
                .context
                .iter()
                .rev()
                .find(|m| m.role == Role::Client)
                .map(|m| m.text.as_str());
            logic::suggest(last, black_box(GREETING))
        })
    });
    group.finish();

    // Where a fresh call's time goes, step by step, without the registry around it.
    let shared = hintd::plugins::engine::shared().unwrap();
    let component =
        wasmtime::component::Component::new(&shared.engine, std::fs::read(&wasm).unwrap()).unwrap();
    let pre = ProviderPre::new(shared.linker.instantiate_pre(&component).unwrap()).unwrap();
    let limits = Arc::new(Limits::default());
    let manifest_text =
        std::fs::read_to_string(tmp.path().join("plugins/fresh/plugin.toml")).unwrap();
    let manifest = Manifest::parse(&manifest_text, Path::new("plugin.toml"), &limits).unwrap();
    let ctx = Arc::new(PluginContext::new(
        manifest,
        limits,
        store,
        Arc::new(GuardedHttpPolicy),
    ));
    let context = lower_all(&req.context);
    let wreq = hint_request(&req, &context, 0);
    let new_store = || {
        let mut store = wasmtime::Store::new(&shared.engine, HostState::new(ctx.clone()));
        store.limiter(|s| &mut s.memory);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(1_000_000);
        store
    };

    let mut group = c.benchmark_group("fresh_breakdown");
    group.bench_function("host_state", |b| b.iter(|| HostState::new(ctx.clone())));
    group.bench_function("store_new", |b| b.iter(new_store));
    group.bench_function("store_and_instantiate", |b| {
        b.iter(|| {
            let mut store = new_store();
            let inst = rt.block_on(pre.instantiate_async(&mut store)).unwrap();
            (store, inst)
        })
    });
    group.bench_function("store_instantiate_and_call", |b| {
        b.iter(|| {
            let mut store = new_store();
            rt.block_on(async {
                let mut inst = pre.instantiate_async(&mut store).await.unwrap();
                inst.call_suggest(&mut store, wreq.clone())
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
    });
    let mut store = new_store();
    let mut inst = rt.block_on(pre.instantiate_async(&mut store)).unwrap();
    group.bench_function("call_on_live_instance", |b| {
        b.iter(|| {
            rt.block_on(inst.call_suggest(&mut store, wreq.clone()))
                .unwrap()
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
