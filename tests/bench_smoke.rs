//! `hintd-bench` runs: each benchmark in smoke mode (tiny sizes, a fraction of a second per
//! measurement) exits 0 and prints its table, and `--json` prints a report tools can read.
//! Benchmarks are not timed tests: no number is checked here.

use std::process::Command;

/// Runs `hintd-bench-under-test <args>` and returns its stdout, failing with its stderr.
fn bench(args: &[&str]) -> String {
    // The guest plugins are built once per test process (cargo's lock serialises the
    // benchmark's own build, which is then a no-op).
    hintd_tests::plugins::guest_wasm("hintd-example");
    let out = Command::new(env!("CARGO_BIN_EXE_hintd-bench-under-test"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("hintd-bench-under-test starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "bench {args:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn assert_table(stdout: &str, section: &str) {
    assert!(
        stdout.contains("build) · rustc"),
        "no run description line:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!("== {section} — ")),
        "no {section} section:\n{stdout}"
    );
    assert!(
        stdout.contains("metric") && stdout.contains("median") && stdout.contains("min – max"),
        "no table:\n{stdout}"
    );
}

#[test]
fn hints_smoke() {
    assert_table(&bench(&["hints", "--smoke"]), "hints");
}

#[test]
fn plugin_call_smoke() {
    assert_table(&bench(&["plugin-call", "--smoke"]), "plugin-call");
}

#[test]
fn ingest_smoke() {
    assert_table(&bench(&["ingest", "--smoke"]), "ingest");
}

#[test]
fn dispatch_smoke() {
    assert_table(&bench(&["dispatch", "--smoke"]), "dispatch");
}

/// Two replicas on one PostgreSQL schema serve the hints and dispatch benchmarks (in the
/// PostgreSQL run of the matrix; SQLite serves one process, so there the flag is refused).
#[test]
fn two_replicas_share_one_postgres_store() {
    if !hintd_tests::store::is_postgres() {
        let out = Command::new(env!("CARGO_BIN_EXE_hintd-bench-under-test"))
            .args(["dispatch", "--smoke", "--replicas", "2"])
            .output()
            .expect("hintd-bench-under-test starts");
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("needs a PostgreSQL store"));
        return;
    }
    let url = hintd_tests::store::fresh_postgres_schema();
    for which in ["hints", "dispatch"] {
        let stdout = bench(&[which, "--smoke", "--data", &url, "--replicas", "2"]);
        assert_table(&stdout, which);
        assert!(stdout.contains("2 replica(s)"), "{stdout}");
    }
}

#[test]
fn json_report_is_machine_readable() {
    let stdout = bench(&["ingest", "--smoke", "--json"]);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    assert!(
        report["run"]["cores"].as_u64().is_some_and(|c| c >= 1),
        "{report}"
    );
    assert!(
        report["run"]["rustc"].is_string() && report["run"]["wasmtime"].is_string(),
        "{report}"
    );
    let sections = report["sections"].as_array().expect("sections");
    assert_eq!(sections[0]["name"], "ingest");
    assert!(
        sections[0]["rows"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{report}"
    );
}

#[test]
fn bad_arguments_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_hintd-bench-under-test"))
        .args(["ingest", "--repeats", "0"])
        .output()
        .expect("hintd-bench-under-test starts");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--repeats"));
}

/// The harness lives in `hintd-bench`; the product binary has no `bench` subcommand.
#[test]
fn the_product_binary_carries_no_benchmarks() {
    let out = Command::new(env!("CARGO_BIN_EXE_hintd-under-test"))
        .args(["bench", "hints", "--smoke"])
        .output()
        .expect("hintd-under-test starts");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unrecognized subcommand 'bench'"),
        "{stderr}"
    );
}
