//! The set of loaded plugins: loading at start (in parallel; broken plugins reported and
//! skipped), hot reload (debounced, compiled off the request path, swapped atomically; calls
//! in flight finish on the version they started with), and every call's way in: the circuit
//! breaker of the function called, the plugin's admission gate, then the guest threads.

use super::PluginsConfig;
use super::breaker::{Breakers, PluginBreakers};
use super::engine::{self, CacheStats, ComponentCache};
use super::error::{CallError, PluginError};
use super::gate::{Gate, Gates};
use super::guest_threads;
use super::host::{GuardedHttpPolicy, HttpPolicy, PluginContext};
use super::imports;
use super::instance::{Answer, Call, Function, InstancePool, Runner};
use super::limits::Limits;
use super::manifest::{Capability, InstanceMode, MANIFEST_FILE, Manifest};
use super::observe::{ObserveQueues, ObserveReceiver};
use super::output::{check_hints, check_info, clamp_relevance};
use super::reuse_pool::PoolBounds;
use super::stats::{Outcome, PluginCounters, PluginStats, Stats};
use super::types::{ConversationEvent, Feedback, Hint, HintRequest, PluginInfo};
use super::watch::{self, WatchGuard};
use super::wit::ProviderPre;
use super::wit::v0_1_0::{feedback, hint_request, lower_all};
use crate::store::Store;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// A plugin as the other layers see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PluginSummary {
    /// Manifest name.
    pub name: String,
    /// Weight of its hints in the merge.
    pub weight: f64,
    /// Per-call deadline, ms.
    pub timeout_ms: u32,
    /// Instance mode.
    pub instance: InstanceMode,
    /// Granted capabilities.
    pub capabilities: Vec<Capability>,
    /// What `describe()` said.
    pub info: PluginInfo,
}

/// One loaded plugin version.
pub struct LoadedPlugin {
    /// Its directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// What `describe()` said at load.
    pub info: PluginInfo,
    runner: Arc<Runner>,
    fingerprint: [u8; 32],
    counters: Arc<PluginCounters>,
    breakers: Arc<PluginBreakers>,
    gate: Arc<Gate>,
    placement: guest_threads::Placement,
    /// Whether a clamped relevance was logged for this version yet.
    clamp_logged: std::sync::atomic::AtomicBool,
}

impl LoadedPlugin {
    /// Counts `n` relevances clamped to 100 (`hintd_plugin_relevance_clamped_total`), logged
    /// the first time per plugin version.
    fn relevance_clamped(&self, n: usize) {
        if n == 0 {
            return;
        }
        let plugin = self.manifest.name.as_str();
        metrics::counter!("hintd_plugin_relevance_clamped_total", "plugin" => plugin.to_string())
            .increment(n as u64);
        if !self
            .clamp_logged
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                plugin,
                "relevance over 100 clamped to 100 (logged once; counted in hintd_plugin_relevance_clamped_total)"
            );
        }
    }

    fn summary(&self, limits: &Limits) -> PluginSummary {
        PluginSummary {
            name: self.manifest.name.clone(),
            weight: self.manifest.weight,
            timeout_ms: self.manifest.timeout_ms(limits),
            instance: self.manifest.instance,
            capabilities: self.manifest.capabilities.clone(),
            info: self.info.clone(),
        }
    }
}

#[derive(Default)]
struct PluginSet {
    plugins: BTreeMap<String, Arc<LoadedPlugin>>,
    failures: Vec<(String, String)>,
}

struct Inner {
    config: PluginsConfig,
    limits: Arc<Limits>,
    store: Arc<dyn Store>,
    http: Arc<dyn HttpPolicy>,
    cache: Arc<ComponentCache>,
    set: parking_lot::RwLock<Arc<PluginSet>>,
    stats: Stats,
    breakers: Breakers,
    gates: Gates,
    instances: Arc<InstancePool>,
    observe: ObserveQueues,
    reloading: tokio::sync::Mutex<()>,
    /// Completed (re)loads; watched by [`Registry::loaded`].
    reloads: tokio::sync::watch::Sender<u64>,
    /// Plugin directories being loaded right now.
    loading: parking_lot::Mutex<BTreeSet<String>>,
    /// The components the manifests named at the last (re)load, for hot reload to follow.
    followed: watch::Followed,
}

/// The plugin registry. Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl Registry {
    /// Loads every `<dir>/<name>/plugin.toml` of `config.dir`. A missing or empty directory
    /// gives zero plugins; a broken plugin is logged, kept in [`Registry::failures`] and
    /// skipped. Must run inside a tokio runtime (it starts the `observe` workers).
    pub async fn load(
        config: &PluginsConfig,
        store: Arc<dyn Store>,
    ) -> Result<Registry, PluginError> {
        Registry::load_with_policy(config, store, Arc::new(GuardedHttpPolicy)).await
    }

    /// Starts loading every plugin of `config.dir` in the background and returns at once with
    /// none loaded: each plugin serves as soon as it is ready, [`Registry::loading`] names
    /// those still loading and [`Registry::loaded`] waits for the end of the first load. For
    /// a server, which should answer health checks while large plugins compile.
    pub fn start(config: &PluginsConfig, store: Arc<dyn Store>) -> Result<Registry, PluginError> {
        let registry = Registry::empty(config, store, Arc::new(GuardedHttpPolicy))?;
        let inner = registry.inner.clone();
        tokio::spawn(async move { inner.reload().await });
        Ok(registry)
    }

    /// Waits until the first load has ended (at once when it has).
    pub async fn loaded(&self) {
        let mut reloads = self.inner.reloads.subscribe();
        let _ = reloads.wait_for(|n| *n > 0).await;
    }

    /// Whether the first load has ended.
    pub fn is_loaded(&self) -> bool {
        *self.inner.reloads.borrow() > 0
    }

    /// Plugin directories being loaded right now (by the first load or a reload).
    pub fn loading(&self) -> Vec<String> {
        self.inner.loading.lock().iter().cloned().collect()
    }

    /// [`Registry::load`] with another outbound HTTP policy.
    pub async fn load_with_policy(
        config: &PluginsConfig,
        store: Arc<dyn Store>,
        http: Arc<dyn HttpPolicy>,
    ) -> Result<Registry, PluginError> {
        let registry = Registry::empty(config, store, http)?;
        registry.reload().await;
        Ok(registry)
    }

    /// A registry holding only the plugin at `path` (a plugin directory, or a bare `.wasm`
    /// run with no capabilities); its load error is returned instead of being kept. For the
    /// `plugin check` and `plugin run` commands.
    pub async fn load_one(
        path: &Path,
        config: &PluginsConfig,
        store: Arc<dyn Store>,
    ) -> Result<Registry, PluginError> {
        let registry = Registry::empty(config, store, Arc::new(GuardedHttpPolicy))?;
        let inner = &registry.inner;
        let plugin = if path.is_dir() {
            inner.load_dir(path, None).await?
        } else {
            let name: String = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("plugin")
                .to_ascii_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            let file = path.file_name().map(PathBuf::from).unwrap_or_default();
            let text = format!(
                "name = {}\nwasm = {}\n",
                toml_str(&name),
                toml_str(&file.to_string_lossy())
            );
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let manifest = Manifest::parse(&text, &dir.join(MANIFEST_FILE), &inner.limits)?;
            inner
                .load_manifest(dir, manifest, text.into_bytes(), None)
                .await?
        };
        let mut set = PluginSet::default();
        set.plugins.insert(plugin.manifest.name.clone(), plugin);
        inner.install(set);
        Ok(registry)
    }

    fn empty(
        config: &PluginsConfig,
        store: Arc<dyn Store>,
        http: Arc<dyn HttpPolicy>,
    ) -> Result<Registry, PluginError> {
        config.validate()?;
        engine::shared()?;
        let limits = &config.limits;
        guest_threads::start(guest_threads::thread_count(limits.guest_threads))
            .map_err(|e| PluginError::Engine(e.to_string()))?;
        let cache_dir = config.cache.then(|| config.cache_dir.clone());
        let instances = Arc::new(InstancePool::new(PoolBounds {
            per_key: limits.reuse_pool_size,
            max_instances: limits.reuse_max_idle_instances,
            max_bytes: limits.reuse_max_idle_mb as usize * 1024 * 1024,
            idle_timeout: Duration::from_millis(limits.reuse_idle_timeout_ms),
        }));
        let inner = Arc::new(Inner {
            config: config.clone(),
            limits: Arc::new(config.limits.clone()),
            store,
            http,
            cache: ComponentCache::new(cache_dir),
            set: parking_lot::RwLock::new(Arc::new(PluginSet::default())),
            stats: Stats::default(),
            breakers: Breakers::new(
                config.breaker_failures,
                Duration::from_millis(config.breaker_cooldown_ms),
            ),
            gates: Gates::new(limits.max_concurrent_calls, limits.max_queued_calls),
            instances: instances.clone(),
            observe: ObserveQueues::new(config.observe_queue_size),
            reloading: tokio::sync::Mutex::new(()),
            reloads: tokio::sync::watch::Sender::new(0),
            loading: parking_lot::Mutex::default(),
            followed: watch::Followed::default(),
        });
        tokio::spawn(sweep_idle_instances(Arc::downgrade(&instances)));
        Ok(Registry { inner })
    }

    /// Rescans the plugin directory: new and changed plugins are compiled and described,
    /// unchanged ones kept as they are, removed ones dropped; then the new set replaces the
    /// old one at once. Calls already running keep the version they started with.
    pub async fn reload(&self) {
        self.inner.reload().await;
    }

    /// The enabled, loaded plugins, by name.
    pub fn enabled(&self) -> Vec<PluginSummary> {
        let set = self.inner.set.read().clone();
        set.plugins
            .values()
            .map(|p| p.summary(&self.inner.limits))
            .collect()
    }

    /// Plugins that failed to load at the last (re)load: (directory or name, error).
    pub fn failures(&self) -> Vec<(String, String)> {
        self.inner.set.read().failures.clone()
    }

    /// Asks plugin `name` for hints. The deadline is the manifest's `timeout_ms`, shortened
    /// to `req.deadline_ms` when that is smaller (and non-zero).
    pub async fn suggest(
        &self,
        name: &str,
        req: impl Into<Arc<HintRequest>>,
    ) -> Result<Vec<Hint>, CallError> {
        let req: Arc<HintRequest> = req.into();
        let inner = &self.inner;
        let plugin = inner.plugin(name)?;
        let budget = (req.deadline_ms > 0).then_some(req.deadline_ms);
        let limit = plugin.manifest.timeout_ms(&inner.limits);
        let timeout_ms = budget.map_or(limit, |b| b.min(limit));
        // The call may move to the guest threads, so it owns what it lowers into the guest.
        let limits = inner.limits.clone();
        let runner = plugin.runner.clone();
        let loaded = plugin.clone();
        inner
            .guarded(&plugin, Function::Suggest, timeout_ms, async move {
                let context = lower_all(&req.context);
                let call = Call::Suggest(hint_request(&req, &context, timeout_ms));
                match runner
                    .run(Some(&req.dialog.account), call, Some(timeout_ms))
                    .await?
                {
                    Answer::Hints(Ok(hints)) => {
                        let mut hints: Vec<Hint> = hints.into_iter().map(Hint::from).collect();
                        loaded.relevance_clamped(clamp_relevance(&mut hints));
                        check_hints(hints, &limits, req.max_hints)
                    }
                    Answer::Hints(Err(e)) => Err(CallError::Provider(e.into())),
                    _ => Err(CallError::Trap("unexpected answer".into())),
                }
            })
            .await
    }

    /// Tells plugin `name` what the operator chose; with `instance = "reuse"` in an instance
    /// of the dialog's account, so state the plugin keeps in memory sees its feedback.
    pub async fn feedback(&self, name: &str, fb: &Feedback) -> Result<(), CallError> {
        let inner = &self.inner;
        let plugin = inner.plugin(name)?;
        let timeout_ms = plugin.manifest.timeout_ms(&inner.limits);
        let fb = fb.clone();
        let runner = plugin.runner.clone();
        inner
            .guarded(&plugin, Function::Feedback, timeout_ms, async move {
                let (shown, context) = (lower_all(&fb.shown), lower_all(&fb.context));
                let call = Call::Feedback(feedback(&fb, &shown, &context));
                runner.run(Some(&fb.account), call, None).await.map(|_| ())
            })
            .await
    }

    /// Queues `event` for every enabled plugin's `observe`; never waits. A plugin whose queue
    /// is full loses the event, counted per plugin (`hintd_plugin_observe_dropped_total`).
    pub fn observe(&self, event: ConversationEvent) {
        let inner = &self.inner;
        inner
            .observe
            .send(event, |plugin| inner.stats.of(plugin).observe_dropped());
    }

    /// Whether any plugin is loaded to observe events: callers skip building an event
    /// nobody would receive.
    pub fn observes(&self) -> bool {
        self.inner.observe.any()
    }

    /// Events dropped because a plugin's observe queue was full, all plugins together.
    pub fn observe_dropped(&self) -> u64 {
        self.stats().iter().map(|s| s.observe_dropped).sum()
    }

    /// Per-plugin call counters, with each plugin's circuit state.
    pub fn stats(&self) -> Vec<PluginStats> {
        let mut stats = self.inner.stats.snapshot();
        let set = self.inner.set.read().clone();
        for s in &mut stats {
            s.offloaded = set
                .plugins
                .get(&s.plugin)
                .is_some_and(|p| p.placement.offloaded());
            s.open_circuits = self.inner.breakers.open(&s.plugin);
            s.circuit_open = s.open_circuits.contains(&Function::Suggest.as_str());
        }
        stats
    }

    /// Idle reusable instances kept now, the linear memory they hold (bytes), and how many
    /// were dropped to keep the pool within its bounds.
    pub fn idle_instances(&self) -> (usize, usize, u64) {
        self.inner.instances.usage()
    }

    /// Disk cache hits and misses since this registry was created.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// Completed (re)loads, the first one included.
    pub fn reloads(&self) -> u64 {
        *self.inner.reloads.borrow()
    }

    /// Starts hot reload of the plugin directory and of the components its manifests name
    /// elsewhere: changes are debounced, then [`Registry::reload`] runs in a background task.
    /// Returns `None` when there is nothing to watch (no directory configured or
    /// `hot_reload = false`). Dropping the guard stops it.
    pub fn watch(&self) -> Result<Option<WatchGuard>, PluginError> {
        let Some(dir) = self.inner.config.dir.clone().filter(|d| d.is_dir()) else {
            return Ok(None);
        };
        if !self.inner.config.hot_reload {
            return Ok(None);
        }
        let debounce = Duration::from_millis(self.inner.config.reload_debounce_ms.max(10));
        let weak = Arc::downgrade(&self.inner);
        let reload: watch::Reload = Box::new(move || {
            let inner = weak.upgrade()?;
            Some(Box::pin(async move { inner.reload().await }))
        });
        watch::start(
            &dir,
            debounce,
            self.inner.followed.clone(),
            self.inner.reloads.subscribe(),
            reload,
        )
        .map(Some)
        .map_err(|e| PluginError::Watch {
            path: dir,
            reason: e.to_string(),
        })
    }
}

/// One log line per plugin a reload added, changed or removed, with the versions its
/// `describe` reported: what a reload did, without diffing the full lists.
fn log_changes(old: &PluginSet, next: &PluginSet) {
    for (name, plugin) in &next.plugins {
        let version = plugin.info.version.as_str();
        match old.plugins.get(name) {
            None => tracing::info!(plugin = %name, version, "plugin added"),
            Some(before) if before.fingerprint != plugin.fingerprint => tracing::info!(
                plugin = %name,
                version,
                previous_version = before.info.version.as_str(),
                "plugin changed (manifest or component)"
            ),
            Some(_) => {}
        }
    }
    for (name, before) in &old.plugins {
        if !next.plugins.contains_key(name) {
            tracing::info!(plugin = %name, version = before.info.version.as_str(), "plugin removed or disabled");
        }
    }
}

impl Inner {
    fn plugin(&self, name: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        self.set
            .read()
            .plugins
            .get(name)
            .cloned()
            .ok_or(CallError::NotFound)
    }

    /// Runs one call of `function`: through its circuit breaker and the plugin's gate (a
    /// slot within `timeout_ms`), then `work` on the guest threads; counts the outcome.
    async fn guarded<T, W>(
        &self,
        plugin: &LoadedPlugin,
        function: Function,
        timeout_ms: u32,
        work: W,
    ) -> Result<T, CallError>
    where
        T: Send + 'static,
        W: Future<Output = Result<T, CallError>> + Send + 'static,
    {
        let breaker = plugin.breakers.of(function);
        if !breaker.allow() {
            plugin.counters.record(Outcome::Skipped, Duration::ZERO);
            return Err(CallError::CircuitOpen);
        }
        let started = Instant::now();
        let result = match plugin
            .gate
            .enter(started + Duration::from_millis(u64::from(timeout_ms)))
            .await
        {
            // The slot goes with the work: it frees when the guest code has stopped, not
            // when a caller stops waiting for it.
            Ok(slot) => guest_threads::run(&plugin.placement, async move {
                let result = work.await;
                drop(slot);
                result
            })
            .await
            .and_then(|r| r),
            Err(busy) => Err(busy),
        };
        let outcome = result
            .as_ref()
            .map_or_else(CallError::outcome, |_| Outcome::Ok);
        plugin.counters.record(outcome, started.elapsed());
        breaker.record(result.is_ok());
        if let Err(e) = &result {
            tracing::debug!(plugin = %plugin.manifest.name, function = function.as_str(), error = %e, "plugin call failed");
        }
        result
    }

    /// Makes `next` the plugin set, with an `observe` queue and worker per plugin.
    fn install(self: &Arc<Self>, next: PluginSet) {
        let weak = Arc::downgrade(self);
        self.observe
            .sync(next.plugins.keys().map(String::as_str), |name, rx| {
                tokio::spawn(observe_worker(weak.clone(), name, rx));
            });
        *self.set.write() = Arc::new(next);
    }

    /// During the first load, makes one plugin serve as soon as it is ready; the set built
    /// when every plugin has loaded (names checked for duplicates) replaces it at the end.
    fn install_early(self: &Arc<Self>, plugin: &Arc<LoadedPlugin>) {
        let current = self.set.read().clone();
        if !plugin.manifest.enabled || current.plugins.contains_key(&plugin.manifest.name) {
            return;
        }
        let mut plugins = current.plugins.clone();
        plugins.insert(plugin.manifest.name.clone(), plugin.clone());
        self.install(PluginSet {
            plugins,
            failures: current.failures.clone(),
        });
    }

    async fn reload(self: &Arc<Self>) {
        let _one_at_a_time = self.reloading.lock().await;
        let first = *self.reloads.borrow() == 0;
        let old = self.set.read().clone();
        self.followed.lock().clear();
        let mut next = PluginSet::default();
        let mut dirs_of: BTreeMap<String, PathBuf> = BTreeMap::new();
        let dirs = self.plugin_dirs(&mut next.failures);
        // All at once: compiling runs on blocking threads and `describe` on the guest
        // threads, so a slow plugin delays the load by its own time only.
        let loads = dirs.iter().map(|dir| {
            let previous = old.plugins.values().find(|p| &p.dir == dir);
            let label = dir.display().to_string();
            self.loading.lock().insert(label.clone());
            async move {
                // A disabled plugin is neither compiled nor instantiated: its manifest is
                // all a reload needs to read of it.
                let result = match self.read_manifest(dir) {
                    Ok((manifest, _)) if !manifest.enabled => Ok(Scanned::Disabled(manifest.name)),
                    Ok((manifest, bytes)) => self
                        .load_manifest(dir, manifest, bytes, previous)
                        .await
                        .map(Scanned::Ready),
                    Err(e) => Err(e),
                };
                self.loading.lock().remove(&label);
                if first && let Ok(Scanned::Ready(plugin)) = &result {
                    self.install_early(plugin);
                }
                result
            }
        });
        let loaded = futures::future::join_all(loads).await;
        for (dir, result) in dirs.into_iter().zip(loaded) {
            let label = dir.display().to_string();
            match result {
                Ok(scanned) => {
                    let name = scanned.name().to_string();
                    if let Some(first) = dirs_of.get(&name) {
                        let e = PluginError::DuplicateName {
                            name,
                            first: first.clone(),
                            second: dir.clone(),
                        };
                        tracing::error!(error = %e, "plugin skipped");
                        next.failures.push((label, e.to_string()));
                        continue;
                    }
                    dirs_of.insert(name.clone(), dir.clone());
                    match scanned {
                        Scanned::Ready(plugin) => {
                            next.plugins.insert(name, plugin);
                        }
                        Scanned::Disabled(_) => {
                            tracing::info!(plugin = %name, "plugin disabled by its manifest");
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(dir = %label, error = %e, "plugin skipped");
                    next.failures.push((label, e.to_string()));
                }
            }
        }
        log_changes(&old, &next);
        let loaded: Vec<&str> = next.plugins.keys().map(String::as_str).collect();
        tracing::info!(plugins = ?loaded, failures = next.failures.len(), "plugins loaded");
        self.install(next);
        self.reloads.send_modify(|n| *n += 1);
    }

    /// Subdirectories of the plugin directory holding a manifest, sorted.
    fn plugin_dirs(&self, failures: &mut Vec<(String, String)>) -> Vec<PathBuf> {
        let Some(root) = &self.config.dir else {
            return vec![];
        };
        let entries = match std::fs::read_dir(root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return vec![],
            Err(e) => {
                failures.push((
                    root.display().to_string(),
                    format!("cannot read the plugin directory: {e}"),
                ));
                return vec![];
            }
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir() && p.join(MANIFEST_FILE).is_file())
            .collect();
        dirs.sort();
        dirs
    }

    async fn load_dir(
        &self,
        dir: &Path,
        previous: Option<&Arc<LoadedPlugin>>,
    ) -> Result<Arc<LoadedPlugin>, PluginError> {
        let (manifest, text) = self.read_manifest(dir)?;
        self.load_manifest(dir, manifest, text, previous).await
    }

    /// The manifest of the plugin in `dir` and its bytes (part of the plugin's fingerprint);
    /// its `wasm` file is followed by hot reload from now on.
    fn read_manifest(&self, dir: &Path) -> Result<(Manifest, Vec<u8>), PluginError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read(&path).map_err(|source| PluginError::Io {
            path: path.clone(),
            source,
        })?;
        let text_str =
            String::from_utf8(text.clone()).map_err(|_| super::manifest::ManifestError::Parse {
                path: path.clone(),
                message: "not UTF-8".into(),
            })?;
        let manifest = Manifest::parse(&text_str, &path, &self.limits)?;
        self.followed.lock().insert(dir.join(&manifest.wasm));
        Ok((manifest, text))
    }

    async fn load_manifest(
        &self,
        dir: &Path,
        manifest: Manifest,
        manifest_bytes: Vec<u8>,
        previous: Option<&Arc<LoadedPlugin>>,
    ) -> Result<Arc<LoadedPlugin>, PluginError> {
        let wasm_path = dir.join(&manifest.wasm);
        let io = |source| PluginError::Io {
            path: wasm_path.clone(),
            source,
        };
        let size = std::fs::metadata(&wasm_path).map_err(io)?.len();
        if size > self.limits.max_wasm_bytes {
            return Err(PluginError::Wasm {
                path: wasm_path,
                reason: format!("{size} bytes, the limit is {}", self.limits.max_wasm_bytes),
            });
        }
        let wasm = std::fs::read(&wasm_path).map_err(io)?;
        let mut h = Sha256::new();
        h.update((manifest_bytes.len() as u64).to_le_bytes());
        h.update(&manifest_bytes);
        h.update(&wasm);
        let fingerprint: [u8; 32] = h.finalize().into();
        if let Some(prev) = previous.filter(|p| p.fingerprint == fingerprint) {
            return Ok(prev.clone());
        }
        if let Some(interface) = imports::first_not_provided(&wasm) {
            return Err(PluginError::NotProvided {
                name: manifest.name.clone(),
                path: wasm_path,
                interface,
            });
        }
        let shared = engine::shared()?;
        let cache = self.cache.clone();
        let origin = wasm_path.clone();
        // Compiling is CPU-bound and can take seconds: keep it off the async workers.
        let component =
            tokio::task::spawn_blocking(move || cache.load(&shared.engine, &wasm, &origin))
                .await
                .map_err(|e| PluginError::Engine(format!("compile task failed: {e}")))??;
        let wrong_world = |e: wasmtime::Error| PluginError::WrongWorld {
            path: wasm_path.clone(),
            reason: format!("{e:#}"),
        };
        let pre = shared
            .linker
            .instantiate_pre(&component)
            .map_err(wrong_world)?;
        let pre = ProviderPre::new(pre).map_err(wrong_world)?;
        let name = manifest.name.clone();
        let ctx = Arc::new(PluginContext::new(
            manifest.clone(),
            self.limits.clone(),
            self.store.clone(),
            self.http.clone(),
        ));
        let runner = Arc::new(Runner::new(pre, ctx, self.instances.clone()));
        let describing = runner.clone();
        let placement = guest_threads::Placement::default();
        let described = guest_threads::run(&placement, async move {
            match describing.run(None, Call::Describe, None).await? {
                Answer::Info(info) => {
                    let info = PluginInfo::from(info);
                    check_info(&info).map(|()| info)
                }
                _ => Err(CallError::Trap("unexpected answer".into())),
            }
        })
        .await
        .and_then(|r| r);
        let info = described.map_err(|error| PluginError::Describe { name, error })?;
        Ok(Arc::new(LoadedPlugin {
            dir: dir.to_path_buf(),
            counters: self.stats.of(&manifest.name),
            breakers: self.breakers.of(&manifest.name),
            gate: self.gates.of(&manifest.name),
            placement,
            clamp_logged: Default::default(),
            manifest,
            info,
            runner,
            fingerprint,
        }))
    }
}

/// What a reload found in one plugin directory.
enum Scanned {
    /// Loaded (or kept from the previous load when unchanged), ready to serve.
    Ready(Arc<LoadedPlugin>),
    /// `enabled = false`: the plugin's name, nothing loaded.
    Disabled(String),
}

impl Scanned {
    fn name(&self) -> &str {
        match self {
            Scanned::Ready(plugin) => &plugin.manifest.name,
            Scanned::Disabled(name) => name,
        }
    }
}

/// Delivers one plugin's queued events to its `observe`, one at a time, in order. Ends when
/// the plugin's queue is dropped (the plugin was unloaded) or the registry is.
async fn observe_worker(registry: Weak<Inner>, plugin: String, mut queue: ObserveReceiver) {
    while let Some(event) = queue.recv().await {
        let Some(inner) = registry.upgrade() else {
            break;
        };
        // The version loaded now: a reload between two events moves on to the new one.
        let Ok(loaded) = inner.plugin(&plugin) else {
            continue;
        };
        let timeout_ms = loaded.manifest.timeout_ms(&inner.limits);
        let runner = loaded.runner.clone();
        let _ = inner
            .guarded(&loaded, Function::Observe, timeout_ms, async move {
                let account = event_account(&event);
                let call = Call::Observe(event.as_ref().into());
                runner.run(Some(account), call, None).await.map(|_| ())
            })
            .await;
    }
}

/// Drops idle instances past their idle timeout even when no call comes to do it.
async fn sweep_idle_instances(pool: Weak<InstancePool>) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(pool) = pool.upgrade() else { break };
        pool.sweep();
    }
}

fn event_account(event: &ConversationEvent) -> &str {
    use ConversationEvent as E;
    match event {
        E::MessageAdded(at, _) | E::MessageUpdated(at, _) | E::MessageDeleted(at, _) => {
            &at.dialog.account
        }
        E::DialogOpened(at) | E::DialogClosed(at) | E::DialogTransferred(at, _) => {
            &at.dialog.account
        }
    }
}

/// `s` as a TOML basic string.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
