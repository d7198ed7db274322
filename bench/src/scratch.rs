//! A scratch directory for one benchmark (database file, plugin layout), removed when dropped.

use std::path::{Path, PathBuf};

/// A directory under the system temp dir, deleted on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// Creates `hintd-bench-<pid>-<what>-<random>`.
    pub fn new(what: &str) -> std::io::Result<ScratchDir> {
        let dir = std::env::temp_dir().join(format!(
            "hintd-bench-{}-{what}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(ScratchDir(dir))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// An SQLite store URL for a file in this directory.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.0.join("hintd.db").display())
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
