//! Builds the shipped Python and JavaScript plugins (`plugins/intents-py`, `plugins/retrieval-js`)
//! from source with their own `build.sh` — which installs the pinned tools through
//! `plugins/tools/setup.sh` on first use and rebuilds only when the sources changed — once per
//! test process, and installs them into a test's plugin folder.

use crate::plugins::repo_root;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Cargo's target directory (where the tools and the built guests are kept).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// The component of the shipped plugin `name` (`intents-py` or `retrieval-js`), built by its
/// `build.sh` into `target/guests/` the first time this process asks.
pub fn guest_component(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // One build at a time: both scripts share the tools' installation.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = built.iter().find(|(n, _)| n == name) {
        return path.clone();
    }
    let out = target_dir().join("guests").join(format!("{name}.wasm"));
    let script = repo_root().join("plugins").join(name).join("build.sh");
    let started = std::time::Instant::now();
    let output = Command::new(&script)
        .arg(&out)
        .env("HINTD_TOOLS_DIR", target_dir().join("tools"))
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        out.is_file(),
        "{} wrote no {}",
        script.display(),
        out.display()
    );
    eprintln!(
        "{name}: built (or up to date) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    built.push((name.to_string(), out.clone()));
    out
}

/// Installs the shipped plugin `name` under `root` as `plugins/NAME/plugin.toml` does, with its
/// component beside the manifest and a call timeout of 5 s (CI machines are noisy); `extra` is
/// appended to the manifest (inside its `[config]` table when it has one).
pub fn install_guest(root: &Path, name: &str, extra: &str) -> PathBuf {
    let wasm = guest_component(name);
    let src = repo_root().join("plugins").join(name).join("plugin.toml");
    let manifest = std::fs::read_to_string(&src).unwrap();
    let manifest: Vec<String> = manifest
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("wasm =") {
                format!("wasm = \"{name}.wasm\"")
            } else if l.trim_start().starts_with("enabled =") {
                // Shipped disabled until built; installed here, it is built.
                "enabled = true".to_string()
            } else if l.trim_start().starts_with("timeout_ms =") {
                "timeout_ms = 5000".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&wasm, dir.join(format!("{name}.wasm"))).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!("{}\n{extra}\n", manifest.join("\n")),
    )
    .unwrap();
    dir
}

/// The tools `plugins/tools/setup.sh` installed: `componentize-py`, `componentize-js`, `jco`.
pub fn tool(name: &str) -> PathBuf {
    let output = Command::new(repo_root().join("plugins/tools/setup.sh"))
        .env("HINTD_TOOLS_DIR", target_dir().join("tools"))
        .output()
        .expect("plugins/tools/setup.sh runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let prefix = format!("{name}=");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("setup.sh printed no {name}: {stdout}"))
}
