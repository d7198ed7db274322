//! The Rust plugin of `plugin new`: a crate that is its own Cargo workspace (so it builds
//! inside any folder), pins the toolchain with the `wasm32-wasip2` target (so rustup installs
//! what it lacks), builds for that target by default and depends on the SDK by path.

use super::File;

/// Where this binary's own checkout keeps the SDK (true where it was built).
pub(super) const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk");

/// The toolchain the SDK is built and tested with.
const TOOLCHAIN: &str = "1.95.0";

/// The component `cargo build --release` writes, relative to the crate.
pub(super) fn wasm_path(name: &str) -> String {
    format!(
        "target/wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    )
}

/// The crate's files but the manifest.
pub(super) fn files(name: &str, sdk: &str) -> Vec<File> {
    vec![
        ("Cargo.toml", cargo_toml(name, sdk)),
        ("rust-toolchain.toml", toolchain_toml()),
        (".cargo/config.toml", CARGO_CONFIG.to_string()),
        (".gitignore", "/target\n".to_string()),
        ("src/lib.rs", lib_rs(name)),
    ]
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
