//! The README's first steps, as a new user takes them: hintd served with `examples/hintd.toml`
//! and the shipped plugins, `examples/post-payloads.sh` posting every sample webhook (every
//! answer 2xx, the script ending without an error), then the README's `/api/v1/hints`
//! request for the sample Chatwoot conversation answering with hints. Then the deployment
//! examples: the systemd unit and the container's health check of `examples/deploy/`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin key of `examples/hintd.toml`.
const EXAMPLE_ADMIN_KEY: &str = "change-me-to-a-long-random-key";

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quick_start_then_the_sample_payloads_then_hints() {
    let root = hintd_tests::plugins::repo_root();
    // The shipped manifests point at the guest workspace's build output.
    hintd_tests::plugins::guest_wasm("hintd-example");
    let work = tempfile::tempdir().unwrap();
    let (served, base) = serve(
        work.path(),
        &[
            "serve".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--config".into(),
            root.join("examples/hintd.toml").display().to_string(),
            "--plugins".into(),
            root.join("plugins").display().to_string(),
            "--data".into(),
            work.path().join("hintd.db").display().to_string(),
        ],
    )
    .await;
    let http = reqwest::Client::new();

    let script = root.join("examples/post-payloads.sh");
    let out = tokio::process::Command::new("bash")
        .arg(&script)
        .env("HINTD_URL", &base)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim_end().strip_suffix(']'))
        .filter_map(|l| l.rsplit_once(" [").map(|(_, code)| code))
        .collect();
    assert!(answers.len() >= 10, "{stdout}");
    assert!(
        answers.iter().all(|code| code.starts_with('2')),
        "an answer was not 2xx:\n{stdout}"
    );

    // The README's request for the sample Chatwoot conversation.
    let answer = http
        .post(format!("{base}/api/v1/hints"))
        .bearer_auth(EXAMPLE_ADMIN_KEY)
        .json(&serde_json::json!({"source": "chatwoot", "account": "shop", "dialog_id": 42}))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let hints: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(status, 200, "{hints}");
    let list = hints["hints"].as_array().expect("hints");
    assert!(!list.is_empty(), "{hints}");
    drop(served);
}

/// Starts the binary under test with `args` in `dir` and waits until `/readyz` is 200 (its
/// plugins loaded); the server and its base URL.
async fn serve(dir: &Path, args: &[String]) -> (Served, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .current_dir(dir)
        .args(args)
        .env_remove("HINTD_ADMIN_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let served = Served(child);
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("not the address line: {line:?}"))
        .to_string();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
        if ready.status().is_success() {
            break;
        }
        assert!(
            Instant::now() < until,
            "not ready: {}",
            ready.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (served, base)
}

/// The unit's `ExecStart` serves (its flags parse, the plugins load) with the unit's paths
/// mapped into a scratch directory; the unit passes `systemd-analyze verify` where systemd is
/// installed; the container's `HEALTHCHECK` command calls that server healthy, and a stopped
/// one not; the container build copies exactly the shipped Rust plugins, by their manifests'
/// names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployment_examples_serve_and_check_health() {
    let root = hintd_tests::plugins::repo_root();
    hintd_tests::plugins::guest_wasm("hintd-example");
    let binary = env!("CARGO_BIN_EXE_hintd-under-test");
    let work = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(root.join("examples/deploy/hintd.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("the unit has an ExecStart line");
    let mut args: Vec<String> = exec
        .split_whitespace()
        .skip(1)
        .map(|a| match a {
            "/etc/hintd/hintd.toml" => root.join("examples/hintd.toml").display().to_string(),
            "/usr/share/hintd/plugins" => root.join("plugins").display().to_string(),
            a if a.starts_with("sqlite:///var/lib/hintd/") => {
                format!("sqlite://{}", work.path().join("hintd.db").display())
            }
            a => {
                assert!(!a.starts_with('/'), "unmapped path {a} in ExecStart");
                a.to_string()
            }
        })
        .collect();
    args.extend(["--listen".into(), "127.0.0.1:0".into()]);
    let (served, base) = serve(work.path(), &args).await;

    if Path::new("/usr/bin/systemd-analyze").exists() {
        let copy = work.path().join("hintd.service");
        std::fs::write(&copy, unit.replace("/usr/local/bin/hintd", binary)).unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&copy)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "systemd-analyze verify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let dockerfile = std::fs::read_to_string(root.join("examples/deploy/Dockerfile")).unwrap();
    let check: Vec<String> = dockerfile
        .lines()
        .skip_while(|l| !l.starts_with("HEALTHCHECK"))
        .find_map(|l| l.trim().strip_prefix("CMD "))
        .map(|json| serde_json::from_str(json).expect("HEALTHCHECK CMD is a JSON array"))
        .expect("the Dockerfile has a HEALTHCHECK CMD");
    let port = base.rsplit(':').next().unwrap();
    let healthy = || {
        let mut check = check.clone();
        let script = check.last_mut().unwrap();
        assert!(script.contains("127.0.0.1/8080"), "{script}");
        *script = script.replace("127.0.0.1/8080", &format!("127.0.0.1/{port}"));
        Command::new(&check[0])
            .args(&check[1..])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    assert!(healthy(), "HEALTHCHECK failed against a running hintd");
    drop(served);
    assert!(!healthy(), "HEALTHCHECK passed with hintd stopped");

    // `for p in example faq replies llm; do` … `hintd_$p.wasm`: every shipped Rust plugin, by
    // the file its manifest names.
    let copied: Vec<&str> = dockerfile
        .lines()
        .find_map(|l| l.trim().strip_prefix("&& for p in "))
        .and_then(|l| l.strip_suffix("; do \\"))
        .expect("the build stage's plugin loop")
        .split_whitespace()
        .collect();
    let mut shipped: Vec<String> = std::fs::read_dir(root.join("plugins"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.join("plugin.toml").exists() && path.join("Cargo.toml").exists())
                .then(|| path.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    shipped.sort();
    let mut sorted = copied.clone();
    sorted.sort();
    assert_eq!(sorted, shipped);
    for p in copied {
        let manifest =
            std::fs::read_to_string(root.join("plugins").join(p).join("plugin.toml")).unwrap();
        assert!(
            manifest.contains(&format!("release/hintd_{p}.wasm\"")),
            "plugins/{p}/plugin.toml names another wasm"
        );
    }
}

/// The README's `hintd eval` command, run as written from a checkout, prints the README's
/// table: the same systems with the same quality figures (the latency columns vary by run).
#[test]
fn the_readme_eval_command_prints_the_readme_table() {
    let root = hintd_tests::plugins::repo_root();
    for krate in ["hintd-example", "hintd-faq", "hintd-replies"] {
        hintd_tests::plugins::guest_wasm(krate);
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme.find("### Offline evaluation").unwrap()..];
    let command = section
        .lines()
        .find(|l| l.starts_with("cargo run -p hintd -- eval "))
        .expect("the README's eval command");
    let args: Vec<&str> = command.split_whitespace().skip(5).collect();
    let table: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.ends_with("messages replayed"))
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(table.len() > 2, "the README's eval table");
    let quality = |lines: &[&str]| -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| l.split_whitespace().take(8).map(str::to_string).collect())
            .collect()
    };

    // A scratch working directory that sees the checkout's `plugins` and `examples`, so that
    // what eval writes beside itself stays out of the checkout.
    let work = tempfile::tempdir().unwrap();
    for dir in ["plugins", "examples"] {
        std::os::unix::fs::symlink(root.join(dir), work.path().join(dir)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .current_dir(work.path())
        .args(&args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        quality(&printed),
        quality(&table),
        "eval printed:\n{stdout}"
    );
}
