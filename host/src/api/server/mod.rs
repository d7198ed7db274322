//! hintd's HTTP/1.1 server: accepts connections, serves the router on each and stops
//! gracefully, within the limits of `[server]`:
//!
//! * a request head must be complete `header_read_timeout_ms` after its first byte
//!   (Slowloris), and a connection without a request in progress is closed after
//!   `idle_timeout_ms` (fresh or kept alive);
//! * at most `max_connections` are open; at the limit a newcomer takes the place of the
//!   connections that have waited longest without a request in progress, and when every
//!   connection is being served it is answered `503` at once ([`overflow`]);
//! * a head over `max_header_bytes` is answered `431` by the HTTP layer, before any route;
//! * a request body must be complete `body_read_timeout_ms` after its head (`408`).
//!
//! Each connection's task watches its [`activity`] for these deadlines.

mod activity;
mod body_deadline;
mod connections;
mod descriptors;
mod limits;
mod overflow;
mod tracked;

pub use body_deadline::BodyReadError;
pub use limits::Limits;

use activity::{Activity, Due};
use axum::Router;
use connections::{Connections, Slot};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use overflow::Overflow;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracked::{TrackedIo, TrackedService};

/// How often a failing `accept` (out of file descriptors, usually) is logged at most.
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets
/// open requests finish (idle connections close at once) and returns when every
/// connection is closed. The caller bounds that wait.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = within_descriptors(limits);
    let connections = Connections::new(limits.max_connections);
    let overflow = Overflow::default();
    let (stop_tx, stop_rx) = watch::channel(false);
    let http = Arc::new(http_builder(&limits));
    let mut last_error_log: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => match connections.admit() {
                Some(slot) => {
                    tokio::spawn(connection(
                        stream,
                        slot,
                        router.clone(),
                        http.clone(),
                        limits,
                        stop_rx.clone(),
                    ));
                }
                None => overflow.turn_away(stream),
            },
            // The client gave up before its connection was accepted.
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                // Usually out of file descriptors: give some back by closing the
                // connections that wait longest, then accept again.
                let shed = connections.shed();
                if last_error_log.is_none_or(|t| t.elapsed() >= ACCEPT_ERROR_LOG_INTERVAL) {
                    tracing::warn!(
                        error = %e,
                        open = connections.len(),
                        shed,
                        "cannot accept connections; closing the longest-waiting ones"
                    );
                    last_error_log = Some(Instant::now());
                }
                let pause = if shed > 0 { 10 } else { 100 };
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    connections.drained().await;
    Ok(())
}

/// `limits` with `max_connections` lowered to what the open-files limit allows.
fn within_descriptors(limits: Limits) -> Limits {
    match descriptors::connections_that_fit() {
        Some(fit) if fit < limits.max_connections => {
            tracing::warn!(
                configured = limits.max_connections,
                fit,
                "server.max_connections is above what the open-files limit allows; using {fit}"
            );
            Limits {
                max_connections: fit,
                ..limits
            }
        }
        _ => limits,
    }
}

/// The HTTP/1.1 settings of every connection.
fn http_builder(limits: &Limits) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        // The connection's own watch closes idle and slow clients; the HTTP layer's head
        // timeout (counted from when it starts waiting for a head) only backs it up.
        .header_read_timeout(limits.idle_timeout + limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .keep_alive(true);
    http
}

/// Serves one connection until it ends, is evicted, or misses a deadline.
async fn connection(
    stream: TcpStream,
    slot: Slot,
    router: Router,
    http: Arc<http1::Builder>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let activity: Arc<Activity> = slot.activity.clone();
    let io = TokioIo::new(TrackedIo::new(stream, activity.clone()));
    let service = TrackedService::new(router, activity.clone(), limits.body_read_timeout);
    let conn = http.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        if !stopping && *stop.borrow() {
            stopping = true;
            conn.as_mut().graceful_shutdown();
        }
        let look_again_in = match activity.due(&limits) {
            Due::LookAgainIn(d) => d,
            Due::Close(reason) => {
                metrics::counter!("hintd_http_connections_closed_total", "reason" => reason.label())
                    .increment(1);
                break;
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            _ = activity.evicted() => break,
            changed = stop.changed(), if !stopping => {
                if changed.is_err() {
                    // The server is gone: treat as a stop.
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = activity.head_began() => {}
            _ = tokio::time::sleep(look_again_in) => {}
        }
    }
    drop(slot);
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
