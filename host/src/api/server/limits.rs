//! The limits the HTTP server applies to every connection, from `[server]`.

use crate::config::ServerConfig;
use std::time::Duration;

/// Connection limits (see [`ServerConfig`] for what each means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once, at most.
    pub max_connections: usize,
    /// From a request head's first byte to its end, at most.
    pub header_read_timeout: Duration,
    /// Without a request in progress, at most.
    pub idle_timeout: Duration,
    /// Largest request head, bytes.
    pub max_header_bytes: usize,
    /// From a request's head to the last byte of its body, at most.
    pub body_read_timeout: Duration,
}

impl Limits {
    /// The limits `[server]` configures.
    pub fn from_config(server: &ServerConfig) -> Limits {
        Limits {
            max_connections: server.max_connections,
            header_read_timeout: Duration::from_millis(server.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(server.idle_timeout_ms),
            max_header_bytes: server.max_header_bytes,
            body_read_timeout: Duration::from_millis(server.body_read_timeout_ms),
        }
    }
}
