//! A plugin that misbehaves on purpose, so the host's containment can be tested. Its
//! `[config] mode` picks the misbehaviour:
//!
//! - `ok`: answers one hint (the control case);
//! - `loop`: spins forever;
//! - `memory`: grows its heap until the host refuses, then aborts;
//! - `recursion`: recurses without end;
//! - `trap`: panics;
//! - `flood-hints`: returns 10^6 hints;
//! - `flood-text`: returns one hint with a 100 MB text;
//! - `http`: sends `GET [config] url` and reports the outcome as the hint text
//!   (`status:<code>` or `error:<kind>`), used for forbidden hosts, loopback and hanging peers;
//! - `kv`: writes `[config] kv_bytes` bytes under key `blob` and reads it back, reporting
//!   `stored:<len>` or `error:<kind>`;
//! - `print`: writes `[config] print_bytes` bytes to stdout and stderr, then answers;
//! - `log`: writes `[config] log_lines` log lines (and as many stdout lines) that try to forge
//!   host log lines with `\n`, `\r` and NUL, then answers;
//! - `relevance`: answers one hint with relevance `[config] relevance` (up to 255, past the
//!   contract's 100);
//! - `feedbacks`: answers one hint whose text counts the `feedback` calls this instance saw
//!   (`feedbacks:<n>`), so a test can tell a reused instance from a fresh one.
//!
//! `[config] observe`, `feedback` and `describe` set those functions' behaviour: `ok` (the
//! default), `loop` (spin forever) or, for `observe` and `feedback`, `trap`.
use hintd_plugin::{
    ConversationEvent, Feedback, Hint, HintRequest, PluginInfo, Provider, ProviderError, http, kv,
    log, settings,
};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Default)]
struct Hostile;

/// `feedback` calls this instance has received.
static FEEDBACKS: AtomicU32 = AtomicU32::new(0);

impl Provider for Hostile {
    fn describe(&mut self) -> PluginInfo {
        misbehave("describe");
        PluginInfo::new(
            "hostile",
            env!("CARGO_PKG_VERSION"),
            "Misbehaves on purpose (tests only)",
        )
    }

    fn feedback(&mut self, _fb: Feedback) {
        FEEDBACKS.fetch_add(1, Ordering::Relaxed);
        misbehave("feedback");
    }

    fn observe(&mut self, _event: ConversationEvent) {
        misbehave("observe");
    }

    fn suggest(&mut self, _req: HintRequest) -> Result<Vec<Hint>, ProviderError> {
        let mode = settings::get::<String>("mode").unwrap_or_else(|| "ok".into());
        match mode.as_str() {
            "ok" => Ok(vec![Hint::new("ok", "still here", 50)]),
            "loop" => spin(),
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    let mut chunk = vec![0u8; 1 << 20];
                    chunk[0] = 1;
                    hoard.push(black_box(chunk));
                }
            }
            "recursion" => Ok(vec![Hint::new(
                "deep",
                format!("{}", recurse(black_box(1))),
                1,
            )]),
            "trap" => panic!("hostile plugin panics on purpose"),
            "flood-hints" => Ok((0..1_000_000).map(|_| Hint::new("", "", 1)).collect()),
            "flood-text" => Ok(vec![Hint::new("big", "x".repeat(100 * 1024 * 1024), 1)]),
            "http" => Ok(vec![Hint::new("http", fetch(), 1)]),
            "kv" => Ok(vec![Hint::new("kv", store_blob(), 1)]),
            "print" => {
                let n = settings::get::<i64>("print_bytes").unwrap_or(1024) as usize;
                let line = "p".repeat(n);
                println!("{line}");
                eprintln!("{line}");
                Ok(vec![Hint::new("printed", "printed", 1)])
            }
            "log" => {
                let n = settings::get::<i64>("log_lines").unwrap_or(10);
                for i in 0..n {
                    let forged = format!("line {i}\n2026-01-01T00:00:00Z  INFO hintd: forged\r\0");
                    log::info(&forged);
                    println!("{forged}");
                }
                Ok(vec![Hint::new("logged", "logged", 1)])
            }
            "relevance" => {
                let relevance = settings::get::<i64>("relevance").unwrap_or(200) as u8;
                let text = format!("relevance {relevance}");
                Ok(vec![Hint {
                    id: "r".into(),
                    text,
                    url: None,
                    link: None,
                    relevance,
                }])
            }
            "feedbacks" => {
                let text = format!("feedbacks:{}", FEEDBACKS.load(Ordering::Relaxed));
                Ok(vec![Hint::new("f", text, 50)])
            }
            other => Err(ProviderError::Misconfigured(format!(
                "unknown mode `{other}`"
            ))),
        }
    }
}

/// What `[config] <function>` asks of a function other than `suggest`.
fn misbehave(function: &str) {
    match settings::get::<String>(function).as_deref() {
        Some("loop") => spin(),
        Some("trap") => panic!("hostile plugin's {function} panics on purpose"),
        _ => {}
    }
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Recursion the optimiser cannot turn into a loop: each frame keeps a live buffer.
#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    let below = recurse(black_box(depth + 1));
    frame[(depth % 64) as usize].wrapping_add(below)
}

fn fetch() -> String {
    let url = settings::get::<String>("url").unwrap_or_default();
    let timeout_ms = settings::get::<i64>("http_timeout_ms").unwrap_or(60_000) as u32;
    match http::Request::get(url).timeout_ms(timeout_ms).send() {
        Ok(resp) => format!("status:{}", resp.status),
        Err(http::HttpError::Denied(why)) => format!("error:denied:{why}"),
        Err(http::HttpError::InvalidRequest(why)) => format!("error:invalid:{why}"),
        Err(http::HttpError::Timeout) => "error:timeout".into(),
        Err(http::HttpError::TooLarge) => "error:too-large".into(),
        Err(http::HttpError::Transport(why)) => format!("error:transport:{why}"),
    }
}

fn store_blob() -> String {
    let len = settings::get::<i64>("kv_bytes").unwrap_or(16) as usize;
    let kv_error = |e: kv::KvError| match e {
        kv::KvError::Denied => "error:denied".to_string(),
        kv::KvError::QuotaExceeded => "error:quota-exceeded".to_string(),
        kv::KvError::InvalidKey => "error:invalid-key".to_string(),
        kv::KvError::Unavailable(why) => format!("error:unavailable:{why}"),
    };
    if let Err(e) = kv::set("blob", &vec![7u8; len]) {
        return kv_error(e);
    }
    match kv::get("blob") {
        Ok(Some(v)) => format!("stored:{}", v.len()),
        Ok(None) => "error:missing".into(),
        Err(e) => kv_error(e),
    }
}

hintd_plugin::export_plugin!(Hostile);
