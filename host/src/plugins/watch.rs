//! Hot reload's watcher. It watches the plugin directory, recursively, and also the folder of
//! every component a manifest points at outside that directory. The shipped manifests, and a
//! plugin crate's own, name the build output (`../../target/…/x.wasm`), so a rebuild must
//! reload the plugin although nothing inside the plugin directory changed. In those outside
//! folders only the named files count: a build writes many others there.
//!
//! Changes are debounced, then the reload runs. After each reload the set of followed files
//! is read again and folders newly named are watched too.

use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The components manifests name, as of the last reload (paths as written: plugin folder
/// joined with the manifest's `wasm`).
pub(super) type Followed = Arc<Mutex<BTreeSet<PathBuf>>>;

/// Starts a reload; `None` once the registry is gone.
pub(super) type Reload = Box<dyn Fn() -> Option<Pin<Box<dyn Future<Output = ()> + Send>>> + Send>;

/// Keeps the plugin directory watched; dropping it stops hot reload.
pub struct WatchGuard {
    _watcher: Arc<Mutex<notify::RecommendedWatcher>>,
}

/// The files the watcher reacts to: anything under the plugin directory, and the followed
/// components elsewhere (canonical paths, as the events of canonical watches carry them).
struct Scope {
    dir: PathBuf,
    outside: Mutex<BTreeSet<PathBuf>>,
}

impl Scope {
    fn covers(&self, path: &Path) -> bool {
        path.starts_with(&self.dir) || self.outside.lock().contains(path)
    }
}

/// Watches `dir` and the followed components; runs `reload` after changes settle for
/// `debounce`, and re-reads `followed` after every completed reload (`reloads` ticks).
pub(super) fn start(
    dir: &Path,
    debounce: Duration,
    followed: Followed,
    mut reloads: tokio::sync::watch::Receiver<u64>,
    reload: Reload,
) -> notify::Result<WatchGuard> {
    let dir = dir.canonicalize().map_err(notify::Error::io)?;
    let scope = Arc::new(Scope {
        dir: dir.clone(),
        outside: Mutex::default(),
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let in_scope = scope.clone();
    // Only changes count: a reload itself opens and reads every manifest and component, and
    // inotify reports those reads (access events), which would otherwise trigger the next
    // reload, forever.
    let watcher =
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) if !matches!(event.kind, notify::EventKind::Access(_)) => {
                if event.paths.iter().any(|p| in_scope.covers(p)) {
                    let _ = tx.send(());
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "plugin directory watch error"),
        })?;
    let watcher = Arc::new(Mutex::new(watcher));
    notify::Watcher::watch(&mut *watcher.lock(), &dir, notify::RecursiveMode::Recursive)?;

    let weak = Arc::downgrade(&watcher);
    tokio::spawn(async move {
        let mut watched_folders = BTreeSet::new();
        loop {
            follow(&weak, &scope, &followed, &mut watched_folders);
            if reloads.changed().await.is_err() || weak.strong_count() == 0 {
                break;
            }
        }
    });
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Debounce: a copy of a component arrives as many writes; reload once they stop.
            loop {
                tokio::time::sleep(debounce).await;
                if rx.try_recv().is_err() {
                    break;
                }
                while rx.try_recv().is_ok() {}
            }
            let Some(run) = reload() else { break };
            run.await;
        }
    });
    Ok(WatchGuard { _watcher: watcher })
}

/// Watches the folders of followed components outside the plugin directory that are not
/// watched yet. A folder that does not exist yet (nothing built) is tried again after the
/// next reload.
fn follow(
    watcher: &Weak<Mutex<notify::RecommendedWatcher>>,
    scope: &Scope,
    followed: &Followed,
    watched_folders: &mut BTreeSet<PathBuf>,
) {
    let Some(watcher) = watcher.upgrade() else {
        return;
    };
    let mut outside = BTreeSet::new();
    for file in followed.lock().iter() {
        let (Some(folder), Some(name)) = (file.parent(), file.file_name()) else {
            continue;
        };
        let Ok(folder) = folder.canonicalize() else {
            continue;
        };
        if folder.starts_with(&scope.dir) {
            continue;
        }
        outside.insert(folder.join(name));
        if !watched_folders.contains(&folder) {
            match notify::Watcher::watch(
                &mut *watcher.lock(),
                &folder,
                notify::RecursiveMode::NonRecursive,
            ) {
                Ok(()) => {
                    tracing::info!(folder = %folder.display(), "watching a plugin component's folder");
                    watched_folders.insert(folder);
                }
                Err(e) => {
                    tracing::warn!(folder = %folder.display(), error = %e, "cannot watch a plugin component's folder");
                }
            }
        }
    }
    *scope.outside.lock() = outside;
}
