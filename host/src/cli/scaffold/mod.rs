//! `hintd plugin new NAME [--lang rust|python|js]`: a plugin that builds on its own, anywhere,
//! outside the repository. Its folder is also a plugin folder: the manifest at its root points
//! at the build output, so `hintd plugin check DIR` works right after the build. Each language
//! depends on this checkout's SDK by path (`--sdk` names another).

mod js;
mod python;
mod rust;

use crate::plugins::limits::Limits;
use crate::plugins::manifest::{MANIFEST_FILE, Manifest};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The contract every plugin is built against, copied into Python and JS plugins (their
/// toolchains generate bindings from it at build time).
const CONTRACT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../wit/hint-provider.wit"
));

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// A Rust crate built for `wasm32-wasip2` (`cargo build --release`).
    Rust,
    /// A Python app built by componentize-py (`./build.sh`).
    Python,
    /// A JavaScript module built by componentize-js (`./build.sh`).
    Js,
}

/// What `plugin new` created.
#[derive(Debug)]
pub struct Scaffold {
    /// The plugin's folder.
    pub dir: PathBuf,
    /// The component the build writes, relative to `dir`.
    pub wasm: String,
    /// The command that builds it, run in `dir`.
    pub build: &'static str,
    /// The command that runs its unit tests in the language's own runner, run in `dir`.
    pub test: Option<&'static str>,
}

/// One file of a new plugin: its path relative to the plugin's folder and its text.
type File = (&'static str, String);

/// Creates the plugin `name` in `lang` in `dir` (default `./NAME`), depending on the SDK at
/// `sdk` (default: this binary's checkout's SDK of that language).
pub fn create(
    name: &str,
    dir: Option<&Path>,
    sdk: Option<&Path>,
    lang: Lang,
) -> anyhow::Result<Scaffold> {
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!("plugin name `{name}` must start with a letter a-z (it names a Rust crate too)");
    }
    let wasm = match lang {
        Lang::Rust => rust::wasm_path(name),
        Lang::Python | Lang::Js => format!("build/{name}.wasm"),
    };
    // The manifest's own rules decide which names are valid.
    let manifest = manifest_text(name, &wasm, lang);
    Manifest::parse(&manifest, Path::new(MANIFEST_FILE), &Limits::default())
        .context("the plugin name")?;

    let built = match lang {
        Lang::Rust => rust::BUILT_SDK,
        Lang::Python => python::BUILT_SDK,
        Lang::Js => js::BUILT_SDK,
    };
    let marker = match lang {
        Lang::Rust => "Cargo.toml",
        Lang::Python => "hintd_plugin/__init__.py",
        Lang::Js => "package.json",
    };
    let sdk = sdk
        .unwrap_or(Path::new(built))
        .canonicalize()
        .ok()
        .filter(|p| p.join(marker).is_file());
    let Some(sdk) = sdk else {
        let shipped = Path::new(built).file_name().and_then(|n| n.to_str());
        bail!(
            "the {lang:?} SDK is not at {}: pass --sdk with the path of plugins/{} in a hintd checkout",
            Path::new(built).display(),
            shipped.unwrap_or("sdk"),
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
    let mut files: Vec<File> = vec![(MANIFEST_FILE, manifest)];
    let (build, test) = match lang {
        Lang::Rust => {
            files.extend(rust::files(name, sdk_text));
            ("cargo build --release", None)
        }
        Lang::Python => {
            files.extend(python::files(name, sdk_text));
            files.push(("wit/hint-provider.wit", CONTRACT.to_string()));
            (
                "./build.sh",
                Some(".venv/bin/python -m unittest discover tests"),
            )
        }
        Lang::Js => {
            files.extend(js::files(name, sdk_text));
            files.push(("wit/hint-provider.wit", CONTRACT.to_string()));
            ("./build.sh", Some("npm test"))
        }
    };
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a file in dir"))
            .with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        if file.ends_with(".sh") {
            make_executable(&path)?;
        }
    }
    Ok(Scaffold {
        dir,
        wasm,
        build,
        test,
    })
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// The manifest, with limits sane for the language: an interpreter's instance holds its
/// runtime (Python's is 14 MB at least), and its calls cost more than compiled Rust's.
fn manifest_text(name: &str, wasm: &str, lang: Lang) -> String {
    let (build, memory_mb, timeout_ms, instance, capabilities) = match lang {
        Lang::Rust => (
            "`cargo build --release`",
            64,
            200,
            "fresh",
            r#""log", "config""#,
        ),
        Lang::Python => (
            "`./build.sh` (componentize-py)",
            48,
            500,
            "reuse",
            r#""log", "kv", "config""#,
        ),
        Lang::Js => (
            "`./build.sh` (componentize-js)",
            32,
            300,
            "reuse",
            r#""log", "kv", "config""#,
        ),
    };
    let instance_note = match lang {
        Lang::Rust => "",
        Lang::Python | Lang::Js => {
            "# \"reuse\" keeps instances (and the interpreter in them) warm per account.\n"
        }
    };
    format!(
        r#"# The plugin's manifest: every field is described in hintd's README, "Writing a plugin".
name = "{name}"
# Relative to this file: what {build} writes. When installing the plugin
# into a plugins folder, copy this file and the .wasm and point `wasm` at the copy.
wasm = "{wasm}"
enabled = true
weight = 1.0
timeout_ms = {timeout_ms}
memory_mb = {memory_mb}
{instance_note}instance = "{instance}"
capabilities = [{capabilities}]

[config]
greeting = "Hello! How can I help you?"
"#
    )
}
