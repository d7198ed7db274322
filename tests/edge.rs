//! End-to-end tests of the HTTP edge: the real program on a loopback port, with hostile
//! clients on real sockets — slow heads, idle floods beyond the connection limit, busy
//! connections, oversized heads — and every route's error answers, and the one id rule of
//! every entry point.

use hintd_tests::server::{ADMIN_KEY, Server, ServerSpec, client, eventually};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const C2D_TOKEN: &str = "c2d-edge-token";
const WZ_TOKEN: &str = "whazing-edge-token";
const CW_TOKEN: &str = "chatwoot-edge-token";

/// Every platform enabled (Chatwoot by token, so tests need not sign).
fn sources() -> String {
    format!(
        "[sources.chat2desk]\ntoken = \"{C2D_TOKEN}\"\n[sources.chatwoot]\ntoken = \"{CW_TOKEN}\"\n\
         [sources.whazing]\ntoken = \"{WZ_TOKEN}\"\n"
    )
}

/// A server with every platform and the given `[server]` overrides (`KEY=value`).
fn start(dir: &std::path::Path, server_env: &[(&str, &str)]) -> Server {
    let mut spec = ServerSpec::new(sources());
    for (key, value) in server_env {
        spec = spec.env(format!("HINTD__SERVER__{key}"), *value);
    }
    Server::start(dir, spec)
}

/// `127.0.0.1:PORT` of a server.
fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// A response read off a raw socket.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Reads one response (head, then a `content-length` body or everything to the end).
async fn read_response(stream: &mut TcpStream) -> std::io::Result<RawResponse> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    match length {
        // Interim answers (`100 Continue`) have no body.
        _ if status < 200 => {}
        Some(length) => {
            while body.len() < length {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        None => {
            while let Ok(n) = stream.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// Sends `request` on a fresh connection and reads the answer.
async fn raw(addr: &str, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before reading everything; the answer still counts.
    let _ = stream.write_all(request).await;
    tokio::time::timeout(Duration::from_secs(30), read_response(&mut stream))
        .await
        .expect("an answer within 30 s")
        .expect("an answer")
}

/// How long until the server closes `stream` (the client never closes it), at most `limit`.
async fn time_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// `GET /healthz` on a fresh connection each time; returns each latency.
async fn healthz_latencies(server: &Server, n: usize) -> Vec<Duration> {
    let fresh = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let r = fresh.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        latencies.push(started.elapsed());
    }
    latencies
}

fn p99(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    latencies[(latencies.len() * 99).div_ceil(100) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_are_cut_at_the_header_timeout_while_healthz_stays_fast() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        &[
            ("HEADER_READ_TIMEOUT_MS", "2000"),
            ("IDLE_TIMEOUT_MS", "60000"),
        ],
    );
    let addr = addr(&server);
    const SLOW_CLIENTS: usize = 300;
    let mut slow = Vec::new();
    for _ in 0..SLOW_CLIENTS {
        let stream = TcpStream::connect(&addr).await.unwrap();
        slow.push(tokio::spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            // One byte of a never-ending head every 200 ms.
            let dribble = tokio::spawn(async move {
                let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
                for byte in head.iter().chain(std::iter::repeat(&b'a')) {
                    if writer.write_all(&[*byte]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            });
            let started = Instant::now();
            let mut sink = [0u8; 256];
            let closed = tokio::time::timeout(Duration::from_secs(40), async {
                loop {
                    match reader.read(&mut sink).await {
                        Ok(0) | Err(_) => return started.elapsed(),
                        Ok(_) => {}
                    }
                }
            })
            .await
            .ok();
            dribble.abort();
            closed
        }));
    }
    // While the slow clients hold their connections, health checks answer at once.
    let latencies = healthz_latencies(&server, 200).await;
    let p99 = p99(latencies);
    eprintln!("/healthz p99 beside {SLOW_CLIENTS} slow heads: {p99:?}");
    assert!(p99 < Duration::from_secs(1), "/healthz p99 {p99:?}");
    let mut closed_after = Vec::new();
    for task in slow {
        closed_after.push(
            task.await
                .unwrap()
                .expect("closed by the server within 40 s"),
        );
    }
    closed_after.sort();
    let (first, last) = (closed_after[0], closed_after[SLOW_CLIENTS - 1]);
    eprintln!("slow heads cut after {first:?} .. {last:?} (timeout 2 s)");
    // Cut after their 2 s, not before (the head starts right after connecting), and all
    // of them well within the bound.
    assert!(
        first >= Duration::from_millis(1500),
        "first cut at {first:?}"
    );
    assert!(last <= Duration::from_secs(15), "last cut at {last:?}");
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metric(
            &metrics,
            "hintd_http_connections_closed_total{reason=\"header_timeout\"}"
        ) >= SLOW_CLIENTS as f64,
        "{metrics}"
    );
}

/// The value of a metric line starting with `prefix`, 0 when absent.
fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_flood_beyond_the_connection_limit_does_not_keep_healthz_out() {
    let dir = tempfile::tempdir().unwrap();
    const LIMIT: usize = 50;
    const FLOOD: usize = 400;
    let server = start(
        dir.path(),
        &[
            ("MAX_CONNECTIONS", "50"),
            // Long timeouts: only the limit can make room.
            ("IDLE_TIMEOUT_MS", "120000"),
            ("HEADER_READ_TIMEOUT_MS", "120000"),
        ],
    );
    let addr = addr(&server);
    let closed = Arc::new(AtomicUsize::new(0));
    let mut idle = Vec::new();
    for _ in 0..FLOOD {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        let closed = closed.clone();
        idle.push(tokio::spawn(async move {
            if time_until_closed(&mut stream, Duration::from_secs(120))
                .await
                .is_some()
            {
                closed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // The server keeps at most LIMIT of them: the others were closed to make room.
    let shed = eventually(Duration::from_secs(20), || {
        let n = closed.load(Ordering::Relaxed);
        async move { (n >= FLOOD - LIMIT).then_some(n) }
    })
    .await;
    assert!(
        shed.is_some(),
        "only {} of {FLOOD} idle connections closed",
        closed.load(Ordering::Relaxed)
    );
    // Health checks still get in (each takes the place of an idle connection).
    let latencies = healthz_latencies(&server, 100).await;
    let p99 = p99(latencies);
    eprintln!("/healthz p99 after {FLOOD} idle connections, limit {LIMIT}: {p99:?}");
    assert!(p99 < Duration::from_secs(1), "/healthz p99 {p99:?}");
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metric(&metrics, "hintd_http_connections_open") <= LIMIT as f64,
        "{metrics}"
    );
    assert!(
        metric(
            &metrics,
            "hintd_http_connections_closed_total{reason=\"evicted\"}"
        ) >= (FLOOD - LIMIT) as f64,
        "{metrics}"
    );
    for task in idle {
        task.abort();
    }
}

/// Opens a connection whose request is in progress: its head is in, and its handler
/// waits for a body that never comes (`100 Continue` proves the handler reads it).
async fn busy_connection(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/hints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = tokio::time::timeout(Duration::from_secs(30), read_response(&mut stream))
        .await
        .expect("100 Continue within 30 s")
        .unwrap();
    assert_eq!(interim.status, 100);
    stream.write_all(b"{\"source\":").await.unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_connection_is_busy_a_newcomer_gets_a_quick_503() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        &[("MAX_CONNECTIONS", "3"), ("BODY_READ_TIMEOUT_MS", "10000")],
    );
    let addr = addr(&server);
    let mut busy = Vec::new();
    for _ in 0..3 {
        busy.push(busy_connection(&addr).await);
    }
    let started = Instant::now();
    let r = raw(
        &addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["error"]["code"], "overloaded");
    // A connection that ends gives its place back.
    drop(busy.pop());
    let ok = eventually(Duration::from_secs(20), || {
        let addr = addr.clone();
        async move {
            let r = raw(
                &addr,
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            (r.status == 200).then_some(())
        }
    })
    .await;
    assert!(ok.is_some(), "/healthz never answered 200 again");
    // A body that never completes is refused once its time is up, and the connection
    // closed.
    for mut stream in busy {
        let r = tokio::time::timeout(Duration::from_secs(60), read_response(&mut stream))
            .await
            .expect("an answer within 60 s")
            .unwrap();
        assert_eq!(r.status, 408);
        assert_eq!(r.json()["error"]["code"], "request_timeout");
        assert!(
            time_until_closed(&mut stream, Duration::from_secs(20))
                .await
                .is_some()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_close_and_oversized_heads_get_431() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        &[
            ("IDLE_TIMEOUT_MS", "1500"),
            ("HEADER_READ_TIMEOUT_MS", "1000"),
            ("MAX_HEADER_BYTES", "16384"),
        ],
    );
    let addr = addr(&server);
    // A kept-alive connection after its response, and a fresh one that says nothing.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut kept).await.unwrap().status, 200);
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let limit = Duration::from_secs(20);
    let (kept_closed, silent_closed) = tokio::join!(
        time_until_closed(&mut kept, limit),
        time_until_closed(&mut silent, limit)
    );
    for (name, closed) in [("kept-alive", kept_closed), ("silent", silent_closed)] {
        let closed = closed.unwrap_or_else(|| panic!("{name} connection still open after 20 s"));
        assert!(
            closed >= Duration::from_millis(1000),
            "{name} closed after {closed:?}"
        );
    }
    // Heads: within the limit fine, over it 431.
    let request = |header_len: usize| {
        format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(header_len)
        )
    };
    assert_eq!(raw(&addr, request(8_000).as_bytes()).await.status, 200);
    assert_eq!(raw(&addr, request(20_000).as_bytes()).await.status, 431);
}

/// A route of the router: method, path with `{name}` parameters, and what it reads.
struct Route {
    method: &'static str,
    path: &'static str,
    reads_body: bool,
    query: Option<&'static str>,
}

const fn route(
    method: &'static str,
    path: &'static str,
    reads_body: bool,
    query: Option<&'static str>,
) -> Route {
    Route {
        method,
        path,
        reads_body,
        query,
    }
}

/// Every route of the router. `query` names a numeric query parameter of the route.
const ROUTES: &[Route] = &[
    route("GET", "/healthz", false, None),
    route("GET", "/readyz", false, None),
    route("GET", "/metrics", false, None),
    route("POST", "/webhooks/{source}", true, None),
    route("POST", "/webhooks/{source}/{account}", true, None),
    route(
        "GET",
        "/api/v1/conversations/{source}/{account}/{dialog_id}",
        false,
        None,
    ),
    route(
        "DELETE",
        "/api/v1/clients/{source}/{account}/{client_id}",
        false,
        None,
    ),
    route("POST", "/api/v1/webhooks", true, None),
    route("GET", "/api/v1/webhooks", false, None),
    route("GET", "/api/v1/webhooks/events", false, None),
    route("GET", "/api/v1/webhooks/{id}", false, None),
    route("PUT", "/api/v1/webhooks/{id}", true, None),
    route("DELETE", "/api/v1/webhooks/{id}", false, None),
    route("POST", "/api/v1/webhooks/{id}/rotate-secret", false, None),
    route(
        "GET",
        "/api/v1/webhooks/{id}/attempts",
        false,
        Some("limit"),
    ),
    route(
        "GET",
        "/api/v1/webhooks/{id}/messages",
        false,
        Some("limit"),
    ),
    route("GET", "/api/v1/webhooks/{id}/messages/{msg}", false, None),
    route(
        "GET",
        "/api/v1/webhooks/{id}/messages/{msg}/attempts",
        false,
        Some("before"),
    ),
    route(
        "POST",
        "/api/v1/webhooks/{id}/messages/{msg}/resend",
        false,
        None,
    ),
    route("POST", "/api/v1/webhooks/{id}/recover", true, None),
    route("POST", "/api/v1/hints", true, None),
    route("POST", "/api/v1/hints/choice", true, None),
    route("GET", "/api/v1/hints/stats", false, Some("since_ms")),
    route("GET", "/api/v1/hints/stats/series", false, Some("since_ms")),
    route("GET", "/api/v1/conversations", false, Some("limit")),
];

/// A path with every parameter set to a valid value, except `bad` set to `%FF`.
/// `path` with its parameters filled in; `bad` names one to fill with a bad value instead.
fn fill(path: &str, bad: Option<(&str, &str)>) -> String {
    path.split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if Some(name) == bad.map(|(n, _)| n) => bad.unwrap().1.to_string(),
                Some("source") => "chat2desk".to_string(),
                Some("account") => "default".to_string(),
                Some(_) => "x1".to_string(),
                None => segment.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

fn params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// Sends a request with the admin key (and the webhook token) and returns the error.
async fn error_of(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let separator = if path.contains('?') { '&' } else { '?' };
    let url = server.url(&format!("{path}{separator}token={C2D_TOKEN}"));
    let url = if path.starts_with("/webhooks") {
        url
    } else {
        server.url(path)
    };
    let mut request = client()
        .request(method.parse().unwrap(), url)
        .bearer_auth(ADMIN_KEY);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        ct.starts_with("application/json"),
        "{method} {path} → {status} {ct}: {text}"
    );
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{method} {path} → {status}: not JSON ({e}): {text}"));
    assert!(
        v["error"]["code"].is_string() && v["error"]["message"].is_string(),
        "{method} {path} → {status}: {v}"
    );
    (status, headers, v)
}

/// Posts a chunked body of `size` bytes on a raw socket.
async fn chunked(addr: &str, path: &str, size: usize) -> RawResponse {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    let mut left = size;
    while left > 0 {
        let n = left.min(1000);
        request.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        request.extend(std::iter::repeat_n(b' ', n));
        request.extend_from_slice(b"\r\n");
        left -= n;
    }
    request.extend_from_slice(b"0\r\n\r\n");
    raw(addr, &request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_errors_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[("BODY_LIMIT_BYTES", "4096")]);
    let addr = addr(&server);
    for r in ROUTES {
        let path = fill(r.path, None);
        // A method the route does not have: 405 with Allow.
        let (status, headers, e) = error_of(&server, "PATCH", &path, None).await;
        assert_eq!(status, 405, "PATCH {path}: {e}");
        assert_eq!(e["error"]["code"], "method_not_allowed");
        assert!(
            headers
                .get("allow")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains(r.method)),
            "PATCH {path}: {headers:?}"
        );
        // A path parameter that is not UTF-8 once decoded, or holds a control character
        // (which PostgreSQL cannot even compare): 400 naming it.
        for name in params(r.path) {
            for value in ["%FF", "a%00b", "%0A"] {
                let bad = fill(r.path, Some((name, value)));
                let body = r.reads_body.then(|| b"{}".to_vec());
                let (status, _, e) = error_of(&server, r.method, &bad, body).await;
                assert_eq!(status, 400, "{} {bad}: {e}", r.method);
                assert_eq!(e["error"]["field"], name, "{} {bad}: {e}", r.method);
            }
        }
        if r.reads_body {
            // Not JSON: 400.
            let (status, _, e) =
                error_of(&server, r.method, &path, Some(b"{not json".to_vec())).await;
            assert_eq!(status, 400, "{} {path}: {e}", r.method);
            // Over the body limit, announced by Content-Length: 413.
            let big = format!("{{\"x\":\"{}\"}}", "a".repeat(5000)).into_bytes();
            let (status, _, e) = error_of(&server, r.method, &path, Some(big)).await;
            assert_eq!(status, 413, "{} {path}: {e}", r.method);
            assert_eq!(e["error"]["code"], "payload_too_large");
            // Over the body limit, found while reading a chunked body: 413 too.
            if r.method == "POST" {
                let target = if path.starts_with("/webhooks") {
                    format!("{path}?token={C2D_TOKEN}")
                } else {
                    path.clone()
                };
                let response = chunked(&addr, &target, 6000).await;
                assert_eq!(response.status, 413, "chunked POST {path}");
                assert_eq!(response.json()["error"]["code"], "payload_too_large");
            }
        }
        if let Some(param) = r.query {
            for (query, field) in [
                (format!("{param}=many"), param),
                (format!("{param}=%00"), param),
                ("nope=1".into(), "nope"),
            ] {
                let with_query = format!("{path}?{query}");
                let (status, _, e) = error_of(&server, r.method, &with_query, None).await;
                assert_eq!(status, 400, "{} {with_query}: {e}", r.method);
                assert_eq!(e["error"]["code"], "invalid_query");
                assert_eq!(e["error"]["field"], field, "{with_query}: {e}");
            }
        }
    }
    // Paths no route serves: 404.
    for path in [
        "/nope",
        "/api/v1/nope/%FF",
        "/webhooks",
        "/webhooks/chat2desk/a/b",
    ] {
        let (status, _, e) = error_of(&server, "GET", path, None).await;
        assert_eq!(status, 404, "{path}: {e}");
        assert_eq!(e["error"]["code"], "no_route");
    }
}

/// Posts a webhook of `source` with its token; returns the status and the answer.
async fn post_webhook(server: &Server, source: &str, body: &str) -> (u16, Value) {
    let token = match source {
        "chat2desk" => C2D_TOKEN,
        "chatwoot" => CW_TOKEN,
        _ => WZ_TOKEN,
    };
    let r = client()
        .post(server.url(&format!("/webhooks/{source}")))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn admin(server: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = client()
        .request(method.parse().unwrap(), server.url(path))
        .bearer_auth(ADMIN_KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// A message webhook of each platform in dialog `DIALOG` (raw JSON text), and the path its
/// dialog id is read from.
const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "chat2desk",
        r#"{"hook_type":"inbox","message_id":MSG,"dialog_id":DIALOG,"client_id":5,"text":"hi"}"#,
        "dialog_id",
    ),
    (
        "chatwoot",
        r#"{"event":"message_created","id":MSG,"message_type":"incoming","content":"hi","conversation":{"display_id":DIALOG}}"#,
        "conversation.display_id",
    ),
    (
        "whazing",
        r#"{"messageId":MSG,"messageBody":"hi","fromMe":false,"ticket":{"id":DIALOG}}"#,
        "ticket.id",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_one_thing_on_every_entry_point() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let longest = format!("\"{}\"", "d".repeat(200));
    let too_long = format!("\"{}\"", "d".repeat(201));
    let big = "18446744073709551615";
    for (i, (source, template, field)) in MESSAGES.iter().enumerate() {
        let body = |msg: usize, dialog: &str| {
            template
                .replace("MSG", &(1000 * (i + 1) + msg).to_string())
                .replace("DIALOG", dialog)
        };
        for (n, bad) in [too_long.as_str(), "1.5", "1e30"].into_iter().enumerate() {
            let (status, e) = post_webhook(&server, source, &body(n, bad)).await;
            assert_eq!(status, 400, "{source} {bad}: {e}");
            assert_eq!(e["error"]["field"], *field, "{source} {bad}: {e}");
        }
        // An integer id of any 64-bit size is kept as its digits, and found by them.
        let (status, e) = post_webhook(&server, source, &body(10, big)).await;
        assert_eq!(status, 200, "{source}: {e}");
        let (status, c) = admin(
            &server,
            "GET",
            &format!("/api/v1/conversations/{source}/default/{big}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{source}: {c}");
        assert_eq!(c["dialog_id"], big);
        // The longest id ingest takes is one the hints API takes too.
        let (status, e) = post_webhook(&server, source, &body(11, &longest)).await;
        assert_eq!(status, 200, "{source}: {e}");
        let dialog = longest.trim_matches('"');
        let (status, e) = admin(
            &server,
            "POST",
            "/api/v1/hints",
            Some(json!({"source": source, "dialog_id": dialog})),
        )
        .await;
        assert_eq!(status, 200, "{source}: {e}");
        let (status, e) = admin(
            &server,
            "POST",
            "/api/v1/hints",
            Some(json!({"source": source, "dialog_id": format!("{dialog}d")})),
        )
        .await;
        assert_eq!(status, 400, "{source}: {e}");
        assert_eq!(e["error"]["field"], "dialog_id");
        // Nothing of the refused events was stored.
        let (status, _) = admin(
            &server,
            "GET",
            &format!("/api/v1/conversations/{source}/default/1.5"),
            None,
        )
        .await;
        assert_eq!(status, 404, "{source}");
    }
    // Path ids follow the same rule.
    let (status, e) = admin(
        &server,
        "GET",
        &format!(
            "/api/v1/conversations/chat2desk/default/{}",
            "d".repeat(201)
        ),
        None,
    )
    .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (400, Some("dialog_id"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hint_requests_for_what_is_not_configured_or_known_get_404_and_keep_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Chat2Desk only, with two named accounts.
    let server = Server::start(
        dir.path(),
        ServerSpec::new(format!(
            "[sources.chat2desk]\ntoken = \"{C2D_TOKEN}\"\n\
             [sources.chat2desk.accounts.shop]\n[sources.chat2desk.accounts.default]\n"
        )),
    );
    let r = client()
        .post(server.url(&format!("/webhooks/chat2desk/shop?token={C2D_TOKEN}")))
        .json(&json!({"hook_type": "inbox", "message_id": 1, "dialog_id": 7, "client_id": 5, "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for (body, field) in [
        (json!({"source": "chatwoot", "dialog_id": 7}), "source"),
        (json!({"source": "api", "dialog_id": 7}), "source"),
        (
            json!({"source": "chat2desk", "account": "bank", "dialog_id": 7}),
            "account",
        ),
        (
            json!({"source": "chat2desk", "account": "shop", "dialog_id": 8}),
            "dialog_id",
        ),
        (
            json!({"source": "chat2desk", "account": "shop", "dialog_id": 8, "message_id": 1}),
            "dialog_id",
        ),
        // The dialog exists in another account only.
        (json!({"source": "chat2desk", "dialog_id": 7}), "dialog_id"),
    ] {
        let (status, e) = admin(&server, "POST", "/api/v1/hints", Some(body.clone())).await;
        assert_eq!(status, 404, "{body}: {e}");
        assert_eq!(e["error"]["code"], "not_found", "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
    for (body, field) in [
        (
            json!({"source": "whazing", "message_id": 1, "hint_id": 1}),
            "source",
        ),
        (
            json!({"source": "chat2desk", "account": "bank", "message_id": 1, "hint_id": 1}),
            "account",
        ),
    ] {
        let (status, e) = admin(&server, "POST", "/api/v1/hints/choice", Some(body.clone())).await;
        assert_eq!(status, 404, "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
    let (status, e) = admin(
        &server,
        "POST",
        "/api/v1/hints/choice",
        Some(json!({"source": "chat2desk", "account": "shop", "message_id": 1, "hint_id": 1})),
    )
    .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (404, Some("message_id"))
    );
    // The known dialog is served; only its answer is kept.
    let (status, e) = admin(
        &server,
        "POST",
        "/api/v1/hints",
        Some(json!({"source": "chat2desk", "account": "shop", "dialog_id": 7})),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let kept = eventually(Duration::from_secs(20), || async {
        let (_, stats) = admin(&server, "GET", "/api/v1/hints/stats", None).await;
        let answers = stats["answers_shown"].as_i64()? + stats["answers_empty"].as_i64()?;
        (answers > 0).then_some(answers)
    })
    .await;
    assert_eq!(kept, Some(1));
}
