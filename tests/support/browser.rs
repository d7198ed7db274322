//! The real browser of the page tests (`tests/panel.rs`, `tests/console.rs`): Debian's
//! Chromium driven by playwright-core, both installed by `tests/browser/setup.sh`.

use crate::plugins::repo_root;
use std::path::{Path, PathBuf};

/// Debian's Chromium, which playwright-core drives (no browser is downloaded).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Where setup.sh puts playwright-core.
pub fn browser_dir() -> PathBuf {
    repo_root().join("target").join("browser")
}

/// Runs `tests/browser/setup.sh` unless the browser and playwright-core are there already.
pub fn ensure_browser() {
    let modules = browser_dir().join("node_modules");
    if Path::new(CHROMIUM).exists() && modules.join("playwright-core/package.json").exists() {
        return;
    }
    let status = std::process::Command::new("bash")
        .arg(repo_root().join("tests/browser/setup.sh"))
        .arg(browser_dir())
        .status()
        .expect("bash runs tests/browser/setup.sh");
    assert!(status.success(), "tests/browser/setup.sh failed: {status}");
}
