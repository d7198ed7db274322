//! The plugins the benchmarks run: the shipped `faq`, `replies` and `llm`, and the minimal
//! `example`. Without `--plugins`, they are built from this repository's guest workspace
//! (`plugins/`, for `wasm32-wasip2`) and laid out in a scratch directory, `llm` pointed at a
//! mock completion endpoint served by this process so no benchmark ever leaves the machine.

use super::scratch::ScratchDir;
use super::server::{Local, serve_local};
use anyhow::{Context as _, bail};
use axum::Router;
use axum::routing::post;
use std::path::{Path, PathBuf};

/// The benchmarks' plugins, and whatever must live as long as they are used.
pub struct PluginDir {
    /// A directory for `[plugins] dir` holding the shipped plugins.
    pub shipped: PathBuf,
    /// The `example` plugin's own directory (`plugin.toml` + component), when there is one.
    pub example: Option<PathBuf>,
    _scratch: Option<ScratchDir>,
    _mock: Option<Local>,
}

/// The repository root: the working directory or one of its ancestors holding the guest
/// workspace, else the source tree this binary was built from.
fn repo_root() -> anyhow::Result<PathBuf> {
    let is_root = |p: &Path| p.join("plugins/Cargo.toml").is_file() && p.join("wit").is_dir();
    if let Ok(cwd) = std::env::current_dir()
        && let Some(found) = cwd.ancestors().find(|p| is_root(p))
    {
        return Ok(found.to_path_buf());
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf);
    match built_from {
        Some(p) if is_root(&p) => Ok(p),
        _ => bail!("no plugins/ workspace found from the working directory; pass --plugins DIR"),
    }
}

/// Builds the guest workspace off the async runtime (see [`crate::guests`]).
async fn build_guests(root: PathBuf) -> anyhow::Result<PathBuf> {
    tokio::task::spawn_blocking(move || crate::guests::build_guest_workspace(&root)).await?
}

/// Copies plugin `name`'s manifest (edited by `edit`) and component into `<dest>/<name>/`.
fn install(
    root: &Path,
    built: &Path,
    dest: &Path,
    name: &str,
    edit: impl FnOnce(&mut toml::Table),
) -> anyhow::Result<()> {
    let src = root.join("plugins").join(name).join("plugin.toml");
    let text =
        std::fs::read_to_string(&src).with_context(|| format!("reading {}", src.display()))?;
    let mut manifest: toml::Table = text
        .parse()
        .with_context(|| format!("parsing {}", src.display()))?;
    manifest.insert("wasm".into(), format!("{name}.wasm").into());
    edit(&mut manifest);
    let dir = dest.join(name);
    std::fs::create_dir_all(&dir)?;
    let wasm = built.join(format!("hintd_{name}.wasm"));
    std::fs::copy(&wasm, dir.join(format!("{name}.wasm")))
        .with_context(|| format!("copying {}", wasm.display()))?;
    std::fs::write(dir.join("plugin.toml"), toml::to_string(&manifest)?)?;
    Ok(())
}

/// A mock OpenAI-compatible completion: three short replies as a JSON array of strings.
async fn completion() -> axum::Json<serde_json::Value> {
    let content = r#"["Let me check your order right away.","Could you send me the order number, please?","Sorry for the wait, I will sort this out for you."]"#;
    axum::Json(serde_json::json!({
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "model": "bench",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]
    }))
}

/// The plugin directory for the benchmarks: `given` as is, or the shipped plugins and
/// `example` built from source, with `llm` wired to a local mock.
pub async fn plugin_dir(given: Option<&Path>) -> anyhow::Result<PluginDir> {
    if let Some(dir) = given {
        anyhow::ensure!(dir.is_dir(), "--plugins {}: not a directory", dir.display());
        let example = Some(dir.join("example")).filter(|e| e.join("plugin.toml").is_file());
        return Ok(PluginDir {
            shipped: dir.to_path_buf(),
            example,
            _scratch: None,
            _mock: None,
        });
    }
    let root = repo_root()?;
    let built = build_guests(root.clone()).await?;
    let scratch = ScratchDir::new("plugins")?;
    let mock = serve_local(Router::new().route("/v1/chat/completions", post(completion))).await?;
    let dest = scratch.path().join("shipped");
    let dest = dest.as_path();
    let no_edit = |_: &mut toml::Table| {};
    install(&root, &built, dest, "faq", no_edit)?;
    install(&root, &built, dest, "replies", no_edit)?;
    install(&root, &built, scratch.path(), "example", no_edit)?;
    let base_url = format!("http://{}", mock.addr);
    install(&root, &built, dest, "llm", |m| {
        m.insert("enabled".into(), true.into());
        m.insert(
            "allowed_hosts".into(),
            toml::Value::Array(vec!["127.0.0.1".into()]),
        );
        m.insert("allow_private_network".into(), true.into());
        let config = m
            .entry("config")
            .or_insert_with(|| toml::Table::new().into());
        if let Some(c) = config.as_table_mut() {
            c.insert("base_url".into(), base_url.into());
            c.insert("api_key".into(), "bench-key".into());
            c.insert("model".into(), "bench".into());
        }
    })?;
    Ok(PluginDir {
        shipped: dest.to_path_buf(),
        example: Some(scratch.path().join("example")),
        _scratch: Some(scratch),
        _mock: Some(mock),
    })
}
