//! The command line as a user meets it: completions, `serve --help`, a report piped into a
//! reader that stops early, logs written to a file, a listen address given by name.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn hintd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hintd-under-test"));
    // `plugin check|run` keep compiled components where `serve` would: not in the checkout.
    command.env(
        "HINTD__PLUGINS__CACHE_DIR",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/plugin-cache"),
    );
    command
}

fn run(args: &[&str]) -> (String, String, std::process::ExitStatus) {
    let out = hintd().args(args).output().expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status,
    )
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let (stdout, stderr, status) = run(&["completions", shell]);
        assert!(status.success(), "{shell}: {stderr}");
        assert!(
            stdout.contains("hintd") && stdout.contains("serve"),
            "{shell}"
        );
    }
    let (_, stderr, status) = run(&["completions", "tcsh"]);
    assert!(!status.success());
    assert!(stderr.contains("tcsh"), "{stderr}");
}

#[test]
fn serve_help_lists_the_environment() {
    let (stdout, _, status) = run(&["serve", "--help"]);
    assert!(status.success());
    for variable in [
        "HINTD_LISTEN",
        "HINTD_DATA",
        "HINTD_PLUGINS",
        "HINTD_CONFIG",
        "HINTD_ADMIN_KEY",
        "HINTD_LOG_FORMAT",
        "HINTD__SECTION__KEY",
        "RUST_LOG",
    ] {
        assert!(
            stdout.contains(variable),
            "{variable} missing from:\n{stdout}"
        );
    }
}

/// `hintd completions bash | head -1`: the reader is gone before hintd writes. The command
/// ends as `cat` would (by SIGPIPE), printing nothing on stderr, never a panic.
#[test]
fn a_report_whose_reader_is_gone_ends_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = hintd()
        .args(["completions", "bash"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        const SIGPIPE: i32 = 13;
        assert_eq!(out.status.signal(), Some(SIGPIPE), "{:?}", out.status);
    }
}

/// Logs go to a file without colour codes; `--listen localhost:0` binds the loopback address
/// the name resolves to, and the server answers there.
#[test]
fn serve_listens_on_a_host_name_and_logs_plain_text_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let mut child = hintd()
        .args(["serve", "--listen", "localhost:0", "--plugins"])
        .arg(&plugins)
        .arg("--data")
        .arg(dir.path().join("hintd.db"))
        .env_remove("HINTD_ADMIN_KEY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .parse()
        .unwrap();
    assert!(addr.ip().is_loopback(), "{addr}");

    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(&log).unwrap();
    // The missing admin key is always warned about: there is at least that line.
    assert!(logged.contains("no admin key configured"), "{logged}");
    assert!(
        !logged.contains('\u{1b}'),
        "colour codes in a file:\n{logged}"
    );
}

/// `hintd plugin new` outside the repository: the crate builds with a plain `cargo build
/// --release` in its folder, which is then a plugin folder `plugin check` and `plugin run`
/// accept. Bad names and non-empty folders are refused.
#[test]
fn a_new_plugin_builds_outside_the_repository_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("greeter");
    let dir_text = dir.to_str().unwrap();
    let (stdout, stderr, status) = run(&["plugin", "new", "my-greeter", "--dir", dir_text]);
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.contains("target/wasm32-wasip2/release/my_greeter.wasm"),
        "{stdout}"
    );
    let (_, stderr, status) = run(&["plugin", "new", "other", "--dir", dir_text]);
    assert!(
        !status.success() && stderr.contains("not empty"),
        "{stderr}"
    );
    let (_, stderr, status) = run(&["plugin", "new", "Bad Name", "--dir", "unused"]);
    assert!(!status.success() && stderr.contains("Bad Name"), "{stderr}");

    // Built as its author would, into the guest workspace's target folder so that the SDK
    // and its dependencies compiled for the other tests are reused.
    let root = hintd_tests::plugins::repo_root();
    let target = root.join("target").join("wasm");
    let out = Command::new("cargo")
        .current_dir(&dir)
        .args(["build", "--quiet", "--release"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = target.join("wasm32-wasip2/release/my_greeter.wasm");
    let expected = dir.join("target/wasm32-wasip2/release/my_greeter.wasm");
    std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
    std::fs::copy(&built, &expected).unwrap();

    let (stdout, stderr, status) = run(&["plugin", "check", dir_text]);
    assert!(status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("my-greeter"), "{stdout}");
    let dialogue = root.join("examples/dialogue.json");
    let (stdout, stderr, status) = run(&[
        "plugin",
        "run",
        dir_text,
        "--context",
        dialogue.to_str().unwrap(),
    ]);
    assert!(status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("Hello! How can I help you? You wrote: Meu pedido 5512"),
        "{stdout}"
    );
}
