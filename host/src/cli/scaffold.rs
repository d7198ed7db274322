//! `hintd plugin new NAME`: a plugin crate that builds on its own, anywhere. It is its own
//! Cargo workspace (so it builds inside any folder), pins the toolchain with the
//! `wasm32-wasip2` target (so rustup installs what it lacks), builds for that target by default
//! and depends on the SDK by path. Its folder is also a plugin folder: the manifest at its root
//! points at the build output, so `hintd plugin check DIR` works right after the build.

use crate::plugins::limits::Limits;
use crate::plugins::manifest::{MANIFEST_FILE, Manifest};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// Where this binary's own checkout keeps the SDK (true where it was built).
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk");

/// The toolchain the SDK is built and tested with.
const TOOLCHAIN: &str = "1.95.0";

/// What `plugin new` created.
#[derive(Debug)]
pub struct Scaffold {
    /// The crate's folder.
    pub dir: PathBuf,
    /// The component `cargo build --release` writes, relative to `dir`.
    pub wasm: String,
}

/// Creates the crate `name` in `dir` (default `./NAME`), depending on the SDK at `sdk`
/// (default: this binary's checkout's).
pub fn create(name: &str, dir: Option<&Path>, sdk: Option<&Path>) -> anyhow::Result<Scaffold> {
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!("plugin name `{name}` must start with a letter a-z (it names a Rust crate too)");
    }
    let crate_file = name.replace('-', "_");
    let wasm = format!("target/wasm32-wasip2/release/{crate_file}.wasm");
    let manifest = manifest_text(name, &wasm);
    // The manifest's own rules decide which names are valid.
    Manifest::parse(&manifest, Path::new(MANIFEST_FILE), &Limits::default())
        .context("the plugin name")?;

    let sdk = sdk.unwrap_or(Path::new(BUILT_SDK));
    let sdk = sdk
        .canonicalize()
        .ok()
        .filter(|p| p.join("Cargo.toml").is_file());
    let Some(sdk) = sdk else {
        bail!(
            "the SDK is not at {}: pass --sdk with the path of plugins/sdk in a hintd checkout",
            Path::new(BUILT_SDK).display()
        );
    };
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    if dir.exists()
        && dir
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} exists and is not empty", dir.display());
    }
    let sdk_text = sdk.to_str().context("the SDK's path is not UTF-8")?;
    let files = [
        ("Cargo.toml", cargo_toml(name, sdk_text)),
        ("rust-toolchain.toml", toolchain_toml()),
        (".cargo/config.toml", CARGO_CONFIG.to_string()),
        (".gitignore", "/target\n".to_string()),
        (MANIFEST_FILE, manifest),
        ("src/lib.rs", lib_rs(name)),
    ];
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a file in dir"))
            .with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Scaffold { dir, wasm })
}

fn manifest_text(name: &str, wasm: &str) -> String {
    format!(
        r#"# The plugin's manifest: every field is described in hintd's README, "Writing a plugin".
name = "{name}"
# Relative to this file: what `cargo build --release` writes. When installing the plugin
# into a plugins folder, copy this file and the .wasm and point `wasm` at the copy.
wasm = "{wasm}"
enabled = true
weight = 1.0
timeout_ms = 200
memory_mb = 64
instance = "fresh"
capabilities = ["log", "config"]

[config]
greeting = "Hello! How can I help you?"
"#
    )
}

fn cargo_toml(name: &str, sdk: &str) -> String {
    let sdk = toml::Value::String(sdk.to_string());
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
hintd-plugin = {{ path = {sdk} }}

# A workspace of its own, so the crate builds inside any other project's folder.
[workspace]

[profile.release]
# Speed over size: guest code runs on every hint request.
opt-level = 3
lto = true
codegen-units = 1
strip = true
panic = "abort"
"#
    )
}

fn toolchain_toml() -> String {
    format!(
        "[toolchain]\nchannel = \"{TOOLCHAIN}\"\ntargets = [\"wasm32-wasip2\"]\nprofile = \"minimal\"\n"
    )
}

const CARGO_CONFIG: &str = "\
# A plugin is a WebAssembly component: build for WASI 0.2 unless told otherwise.
[build]
target = \"wasm32-wasip2\"
";

fn lib_rs(name: &str) -> String {
    format!(
        r#"//! The {name} hint provider.

use hintd_plugin::{{Hint, HintRequest, PluginInfo, Provider, ProviderError, settings}};

/// One value per component instance, made on its first call: with `instance = "reuse"` in
/// plugin.toml, what a call leaves in it is there for the next call of the instance.
#[derive(Default)]
struct Plugin {{
    /// Requests this instance answered.
    answered: u64,
}}

impl Provider for Plugin {{
    fn describe(&mut self) -> PluginInfo {{
        PluginInfo::new("{name}", env!("CARGO_PKG_VERSION"), "Greets the client")
    }}

    fn suggest(&mut self, req: HintRequest) -> Result<Vec<Hint>, ProviderError> {{
        let Some(last) = req.last_client_message() else {{
            return Ok(vec![]);
        }};
        self.answered += 1;
        // `[config] greeting` of plugin.toml.
        let greeting = settings::get::<String>("greeting").unwrap_or_else(|| "Hello!".into());
        Ok(vec![Hint::new(
            "greeting",
            format!("{{greeting}} You wrote: {{}}", last.text),
            70,
        )])
    }}
}}

hintd_plugin::export_plugin!(Plugin);
"#
    )
}
