//! Builds the guest workspace (`plugins/`) for `wasm32-wasip2` once per test process and lays
//! out plugin directories (`<dir>/<name>/plugin.toml` + wasm) for a test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Path of the built component of guest crate `crate_name` (e.g. `hintd-example`), building
/// every guest crate first if this process has not yet. Cargo's own lock serialises parallel
/// test binaries; a second build is a no-op.
pub fn guest_wasm(crate_name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let out = BUILT.get_or_init(|| {
        hintd_bench::guests::build_guest_workspace(&repo_root()).unwrap_or_else(|e| panic!("{e:#}"))
    });
    let path = out.join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(path.exists(), "no component at {}", path.display());
    path
}

/// Writes `<root>/<name>/plugin.toml` (the given manifest body, with `name` and `wasm` filled in)
/// and copies the component of `crate_name` beside it. Returns the plugin's directory.
pub fn install_plugin(root: &Path, name: &str, crate_name: &str, manifest_rest: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(guest_wasm(crate_name), dir.join(format!("{name}.wasm"))).unwrap();
    let manifest = format!("name = \"{name}\"\nwasm = \"{name}.wasm\"\n{manifest_rest}\n");
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    dir
}

/// Installs a shipped plugin (`plugins/<name>/plugin.toml` from the repository, with its
/// component) under `root`; `extra_config` is appended to the manifest (e.g. a `[config]`
/// override for a test).
pub fn install_shipped(root: &Path, name: &str, extra_config: &str) -> PathBuf {
    let src = repo_root().join("plugins").join(name).join("plugin.toml");
    let manifest =
        std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    // In the repository a manifest points at the build output; installed, the wasm sits beside it.
    let manifest = manifest
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("wasm =") {
                format!("wasm = \"{name}.wasm\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        guest_wasm(&format!("hintd-{name}")),
        dir.join(format!("{name}.wasm")),
    )
    .unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!("{manifest}\n{extra_config}\n"),
    )
    .unwrap();
    dir
}

/// Installs the hostile test plugin as `<root>/<name>` with `[config] mode = <mode>`;
/// `manifest_rest` goes before the `[config]` table (capabilities, timeout, ...) and
/// `config_rest` inside it (e.g. `url = "..."`).
pub fn install_hostile(
    root: &Path,
    name: &str,
    mode: &str,
    manifest_rest: &str,
    config_rest: &str,
) -> PathBuf {
    install_plugin(
        root,
        name,
        "hintd-hostile",
        &format!("{manifest_rest}\n[config]\nmode = \"{mode}\"\n{config_rest}\n"),
    )
}

/// Installs the example plugin as `<root>/<name>` with its shipped capabilities.
pub fn install_example(root: &Path, name: &str, manifest_rest: &str) -> PathBuf {
    install_plugin(
        root,
        name,
        "hintd-example",
        &format!("capabilities = [\"log\", \"config\"]\n{manifest_rest}"),
    )
}

/// A loopback TCP listener that accepts connections and never answers. Returns its port;
/// the listener lives until the process ends.
pub fn silent_listener() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    port
}

/// A loopback HTTP server answering every request `200 ok`. Returns its port.
pub fn ok_listener() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    port
}
