//! Builds the repository's guest workspace (`plugins/`) into components: the one place the
//! benchmarks, the criterion benches and the end-to-end tests get their plugins from.

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `cargo build --release --target wasm32-wasip2` on `<root>/plugins` into
/// `<root>/target/wasm` (a no-op when up to date) and returns the directory holding the built
/// `.wasm` components.
pub fn build_guest_workspace(root: &Path) -> anyhow::Result<PathBuf> {
    let target_dir = root.join("target").join("wasm");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(root.join("plugins").join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // A surrounding `cargo run`/`cargo test`/`cargo bench` sets variables meant for the
        // host build only.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .context("running cargo to build the plugins")?;
    if !output.status.success() {
        bail!(
            "building the plugins failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(target_dir.join("wasm32-wasip2").join("release"))
}
