//! JavaScript components built in the test flow: componentize-js (installed, pinned, by
//! `plugins/tools/setup.sh` into `target/tools`) turns a few lines of JavaScript into a
//! component of the `hint-provider` world with its default features, `fetch()` over `wasi:http`
//! included, as a plugin author gets it. A build takes tens of seconds, so each source is built
//! once and kept under `target/js-components`, named by the hash of the source and the tool
//! versions.

use crate::plugins::repo_root;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The componentize-js executable, installed on first use (needs npm and the registry once).
fn componentize_js() -> PathBuf {
    static TOOL: OnceLock<PathBuf> = OnceLock::new();
    TOOL.get_or_init(|| crate::guests::tool("componentize-js"))
        .clone()
}

/// The component built from the JavaScript module `source` against `wit/` (world
/// `hint-provider`), built now or taken from an earlier build of the same source.
pub fn js_component(source: &str) -> PathBuf {
    // One build at a time: each componentize-js run takes a core and a few hundred MB.
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let tool = componentize_js();
    let wit = repo_root().join("wit");
    let mut hash = Sha256::new();
    hash.update(source.as_bytes());
    hash.update(tool.to_string_lossy().as_bytes());
    for entry in std::fs::read_dir(&wit).unwrap().flatten() {
        hash.update(std::fs::read(entry.path()).unwrap_or_default());
    }
    let dir = repo_root().join("target/js-components");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{}.wasm", &hex::encode(hash.finalize())[..16]));
    if out.exists() {
        return out;
    }
    let work = tempfile::tempdir_in(&dir).unwrap();
    let module = work.path().join("plugin.js");
    std::fs::write(&module, source).unwrap();
    let built = work.path().join("plugin.wasm");
    let run = Command::new(&tool)
        .arg(&module)
        .arg("--wit")
        .arg(&wit)
        .args(["--world-name", "hint-provider", "--out"])
        .arg(&built)
        .current_dir(work.path())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    assert!(
        run.status.success(),
        "componentize-js failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::rename(&built, &out).unwrap();
    out
}
