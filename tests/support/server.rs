//! Starts the real hintd program (`hintd-under-test serve`) on a loopback port with a
//! configuration written for the test, and stops it — gently or with SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The admin key every test server is configured with.
pub const ADMIN_KEY: &str = "test-admin-key";

/// A `[dispatch] secret_key` (32 bytes, base64) for servers that seal webhook secrets: required
/// with a PostgreSQL store, where every replica must share it.
pub const SEAL_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// What to start.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// Extra TOML appended to the generated config (e.g. `[sources.chat2desk]` tables).
    pub config: String,
    /// Plugin directory, if any.
    pub plugins: Option<PathBuf>,
    /// Store URL; defaults to an SQLite file in the test's directory.
    pub data: Option<String>,
    /// Extra command-line arguments after `serve`.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// A file the process's stderr (its log) is appended to, instead of the test's stderr.
    pub stderr: Option<PathBuf>,
    /// How long the first plugin load may take before the start fails.
    pub plugins_load_timeout: Duration,
}

impl ServerSpec {
    /// A server with the given extra config.
    pub fn new(config: impl Into<String>) -> Self {
        ServerSpec {
            config: config.into(),
            plugins: None,
            data: None,
            args: vec![],
            env: vec![],
            stderr: None,
            plugins_load_timeout: Duration::from_secs(120),
        }
    }

    /// Lets the first plugin load take up to `timeout` (large components compile for long on a
    /// busy machine).
    pub fn plugins_load_timeout(mut self, timeout: Duration) -> Self {
        self.plugins_load_timeout = timeout;
        self
    }

    /// Sets the plugin directory.
    pub fn plugins(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugins = Some(dir.into());
        self
    }

    /// Adds command-line arguments.
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    /// Sets an environment variable of the process.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Appends the process's log (stderr) to `path`, so a test can read it.
    pub fn stderr_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.stderr = Some(path.into());
        self
    }

    /// Sets the store URL.
    pub fn data(mut self, url: impl Into<String>) -> Self {
        self.data = Some(url.into());
        self
    }
}

/// A running hintd process. Killed when dropped.
pub struct Server {
    child: Option<Child>,
    spec: ServerSpec,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Starts hintd in `dir` (config and default data go there) and waits until it listens.
    pub fn start(dir: &Path, mut spec: ServerSpec) -> Server {
        // Chosen once, so that a restart finds the same data (see `crate::store`).
        if spec.data.is_none() {
            spec.data = Some(crate::store::fresh_store_url(dir));
        }
        let mut server = Server {
            child: None,
            spec,
            dir: dir.to_path_buf(),
            base: String::new(),
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let config_path = self.dir.join("hintd.toml");
        let config = format!(
            "[server]\nadmin_key = \"{ADMIN_KEY}\"\n\n{}\n",
            self.spec.config
        );
        std::fs::write(&config_path, config).unwrap();
        let data = self
            .spec
            .data
            .clone()
            .unwrap_or_else(|| crate::store::fresh_store_url(&self.dir));
        // A restart must find the same data: remember the URL chosen on first launch.
        self.spec.data = Some(data.clone());
        let mut cmd = Command::new(binary());
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--config")
            .arg(&config_path)
            .arg("--data")
            .arg(&data);
        if let Some(p) = &self.spec.plugins {
            cmd.arg("--plugins").arg(p);
        }
        cmd.args(&self.spec.args);
        for (k, v) in &self.spec.env {
            cmd.env(k, v);
        }
        cmd.env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,hintd=info".into()),
        );
        let stderr = match &self.spec.stderr {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("the log file opens"),
            ),
            None => Stdio::inherit(),
        };
        cmd.stdout(Stdio::piped()).stderr(stderr);
        let mut child = cmd.spawn().expect("hintd starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(addr.trim().to_string());
                    break;
                }
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let status = child.try_wait();
                panic!("hintd did not report its address within 60 s (exit: {status:?})")
            });
        self.base = format!("http://{addr}");
        self.child = Some(child);
        // hintd listens before its plugins have loaded; tests start once they have.
        let timeout = self.spec.plugins_load_timeout;
        let until = std::time::Instant::now() + timeout;
        while plugins_loading(&addr) {
            assert!(
                std::time::Instant::now() < until,
                "hintd's plugins did not load within {} s",
                timeout.as_secs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills the process with SIGKILL (no shutdown work at all) and waits for it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again with the same spec, directory and data (new port).
    pub fn restart(&mut self) {
        self.kill9();
        self.launch();
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited with
    /// status 0 within `timeout`.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let end = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            if std::time::Instant::now() >= end {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The store URL the server uses.
    pub fn data_url(&self) -> &str {
        self.spec.data.as_deref().unwrap_or_default()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Whether hintd at `addr` says (`/readyz`) that its first plugin load is still going on.
fn plugins_loading(addr: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /readyz HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    if conn.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    response.contains("plugins loading")
}

/// The program under test: `HINTD_BIN` when set, else `hintd-under-test` beside the test
/// executable's `deps/` directory (Cargo builds a package's binaries before its tests;
/// `CARGO_BIN_EXE_*` is only visible to test crates, not to this support library).
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HINTD_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the test executable has a path");
    let dir = exe
        .parent()
        .expect("deps/")
        .parent()
        .expect("target profile directory");
    let path = dir.join(format!("hintd-under-test{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built (run through cargo test -p hintd-tests)",
        path.display()
    );
    path
}

/// An HTTP client for tests (no proxy, short timeouts).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Polls `check` every 50 ms until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
