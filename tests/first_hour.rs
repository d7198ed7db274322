//! The README's first steps, as a new user takes them: hintd served with `examples/hintd.toml`
//! and the shipped plugins, `examples/post-payloads.sh` posting every sample webhook (every
//! answer 2xx, the script ending without an error), then the README's `/api/v1/hints`
//! request for the sample Chatwoot conversation answering with hints.

use std::io::{BufRead, BufReader};
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .current_dir(work.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(root.join("examples/hintd.toml"))
        .arg("--plugins")
        .arg(root.join("plugins"))
        .arg("--data")
        .arg(work.path().join("hintd.db"))
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
        .unwrap()
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
