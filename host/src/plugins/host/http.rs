//! The `http` import. Where a plugin may go is decided by an [`HttpPolicy`]: the manifest's
//! host globs, then the outbound-network policy of [`crate::core::outbound`] (the range table
//! every outbound path shares, opted into by the manifest's `allow_private_network`). The
//! mechanism here then connects only to the addresses the policy checked, follows no
//! redirects, caps the response size and bounds the wait by the call's deadline.

use super::{DeadlineExceeded, HostState};
use crate::core::outbound::{BlockedRange, OutboundError, OutboundPolicy, guarded_client, resolve};
use crate::plugins::manifest::{Capability, Manifest};
use crate::plugins::wit::v0_1_0::hintd::provider::http::{Host, HttpError, Request, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a plugin's request is denied before it is sent.
#[derive(Debug, thiserror::Error)]
pub enum HttpDenied {
    /// The URL names no host.
    #[error("URL has no host")]
    NoHost,
    /// The URL's scheme has no known port and the URL gives none.
    #[error("URL has no port")]
    NoPort,
    /// No `allowed_hosts` glob matches the host.
    #[error("host `{0}` is not in allowed_hosts")]
    HostNotAllowed(String),
    /// The outbound-network policy refused the host's addresses, or they could not be found.
    #[error(transparent)]
    Outbound(#[from] OutboundError),
}

/// Decides whether a plugin may reach a URL and which addresses to connect to. Every method
/// has a default; an embedder (or a test) overrides only what it needs.
#[async_trait::async_trait]
pub trait HttpPolicy: Send + Sync {
    /// The outbound-network policy of the plugin's requests: the shared range table, opted
    /// into by `allow_private_network`.
    fn network(&self, manifest: &Manifest) -> Arc<dyn OutboundPolicy> {
        Arc::new(PluginNetwork {
            allow_private: manifest.allow_private_network,
        })
    }

    /// Whether the plugin may address `host` (lowercase, no brackets) at all: its
    /// `allowed_hosts` globs.
    fn host_allowed(&self, manifest: &Manifest, host: &str) -> bool {
        host_allowed(&manifest.allowed_hosts, host)
    }

    /// The addresses `url` may be fetched from for this plugin, or why it is denied.
    async fn check(
        &self,
        manifest: &Manifest,
        url: &reqwest::Url,
    ) -> Result<Vec<SocketAddr>, HttpDenied> {
        let host = url.host_str().ok_or(HttpDenied::NoHost)?;
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if !self.host_allowed(manifest, &bare) {
            return Err(HttpDenied::HostNotAllowed(bare));
        }
        let port = url.port_or_known_default().ok_or(HttpDenied::NoPort)?;
        Ok(resolve(self.network(manifest).as_ref(), host, port).await?)
    }
}

/// The default policy: every default method of [`HttpPolicy`].
#[derive(Debug, Default, Clone)]
pub struct GuardedHttpPolicy;

impl HttpPolicy for GuardedHttpPolicy {}

/// A plugin's outbound-network policy. `allow_private_network` admits every blocked range a
/// connection can be made to (loopback, private, link-local, cloud metadata, ...); the
/// unspecified address, multicast and broadcast stay refused.
#[derive(Debug, Clone, Copy)]
pub struct PluginNetwork {
    /// The manifest's `allow_private_network`.
    pub allow_private: bool,
}

impl OutboundPolicy for PluginNetwork {
    fn path(&self) -> &'static str {
        "plugin"
    }

    fn opt_in(&self) -> &'static str {
        "allow_private_network"
    }

    fn admits(&self, _addr: IpAddr, range: BlockedRange) -> bool {
        self.allow_private && range.is_unicast()
    }
}

/// Whether `host` (lowercase, no brackets) matches one of the globs.
pub fn host_allowed(globs: &[String], host: &str) -> bool {
    globs.iter().any(|g| {
        let g = g.to_ascii_lowercase();
        // `*.corp` admits subdomains only, not `corp` itself.
        wildmatch::WildMatch::new(&g).matches(host)
    })
}

/// An error and its sources in one line, for the guest (which sees only text).
pub(super) fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        text.push_str(": ");
        text.push_str(&s.to_string());
        cur = s.source();
    }
    text
}

/// Idle connections kept per host and client: enough for concurrent calls of one plugin,
/// bounded so a plugin cannot hold sockets open without limit.
const IDLE_CONNECTIONS_PER_HOST: usize = 8;
/// Distinct (host, checked addresses) clients a plugin keeps; beyond, the cache starts over.
const CACHED_CLIENTS: usize = 16;

/// One plugin's HTTP clients, by host and the addresses the policy checked for it. Building a
/// client (TLS roots, connector) and opening a connection per call cost more than most calls;
/// a cached client is pinned to exactly the checked addresses, so a pooled connection only
/// ever reaches an address the policy allowed, and a name resolving elsewhere gets its own
/// client after its own check.
#[derive(Default)]
pub struct HttpClients {
    clients:
        parking_lot::Mutex<std::collections::HashMap<(String, Vec<SocketAddr>), reqwest::Client>>,
}

impl HttpClients {
    /// The client for `host` connecting only to `addrs` (checked by `network`, which also
    /// guards any other name the client would resolve).
    pub(super) fn get(
        &self,
        network: Arc<dyn OutboundPolicy>,
        host: &str,
        addrs: &[SocketAddr],
    ) -> Result<reqwest::Client, String> {
        let key = (host.to_string(), addrs.to_vec());
        if let Some(client) = self.clients.lock().get(&key) {
            return Ok(client.clone());
        }
        let client = guarded_client(network)
            .pool_max_idle_per_host(IDLE_CONNECTIONS_PER_HOST)
            .resolve_to_addrs(host, addrs)
            .build()
            .map_err(|e| e.to_string())?;
        let mut clients = self.clients.lock();
        if clients.len() >= CACHED_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// Headers a plugin may not set: they would let it talk to another host than the checked one
/// or smuggle a second request.
pub(super) const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "connection",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "te",
    "trailer",
];

impl HostState {
    async fn send_checked(
        &mut self,
        req: Request,
    ) -> wasmtime::Result<Result<Response, HttpError>> {
        if !self.ctx.grants(Capability::Http) {
            return Ok(Err(HttpError::Denied(
                "the manifest does not grant `http`".into(),
            )));
        }
        let limits = self.ctx.limits.clone();
        let url = match reqwest::Url::parse(&req.url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => u,
            Ok(u) => {
                return Ok(Err(HttpError::InvalidRequest(format!(
                    "scheme `{}` is not http or https",
                    u.scheme()
                ))));
            }
            Err(e) => return Ok(Err(HttpError::InvalidRequest(format!("bad URL: {e}")))),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Ok(Err(HttpError::InvalidRequest(
                "credentials in the URL are not allowed; use a header".into(),
            )));
        }
        let method = match reqwest::Method::from_bytes(req.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => {
                return Ok(Err(HttpError::InvalidRequest(format!(
                    "bad method `{}`",
                    req.method
                ))));
            }
        };
        if req.body.len() > limits.http_max_request_bytes {
            return Ok(Err(HttpError::InvalidRequest(format!(
                "body over {} bytes",
                limits.http_max_request_bytes
            ))));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &req.headers {
            let (Ok(n), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) else {
                return Ok(Err(HttpError::InvalidRequest(format!(
                    "bad header `{name}`"
                ))));
            };
            if FORBIDDEN_HEADERS.contains(&n.as_str()) {
                return Ok(Err(HttpError::InvalidRequest(format!(
                    "header `{n}` may not be set"
                ))));
            }
            headers.append(n, v);
        }

        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let asked = Duration::from_millis(u64::from(req.timeout_ms.max(1)));
        let bounded_by_deadline = remaining <= asked;
        let wait = remaining.min(asked);
        let policy = self.ctx.http.clone();
        let manifest = &self.ctx.manifest;
        let work = async {
            let addrs = policy
                .check(manifest, &url)
                .await
                .map_err(|e| HttpError::Denied(with_sources(&e)))?;
            let host = url
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let client = self
                .ctx
                .http_clients
                .get(policy.network(manifest), &host, &addrs)
                .map_err(HttpError::Transport)?;
            let mut resp = client
                .request(method, url.clone())
                .headers(headers)
                .body(req.body)
                .send()
                .await
                .map_err(|e| HttpError::Transport(without_url(e)))?;
            let cap = limits.http_max_response_bytes;
            if resp.content_length().is_some_and(|n| n as usize > cap) {
                return Err(HttpError::TooLarge);
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| HttpError::Transport(without_url(e)))?
            {
                if body.len() + chunk.len() > cap {
                    return Err(HttpError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            let headers = resp
                .headers()
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect();
            Ok(Response {
                status: resp.status().as_u16(),
                headers,
                body,
            })
        };
        match tokio::time::timeout(wait, work).await {
            Ok(answer) => Ok(answer),
            // The call itself is out of time: end it here rather than hand the guest an
            // answer it has no time left to use.
            Err(_) if bounded_by_deadline => Err(wasmtime::Error::new(DeadlineExceeded)),
            Err(_) => Ok(Err(HttpError::Timeout)),
        }
    }
}

/// A reqwest error's message without the URL (which may carry a plugin's query secrets).
pub(super) fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

impl Host for HostState {
    async fn send(&mut self, req: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        self.send_checked(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_hosts() {
        let globs = vec!["api.example.com".to_string(), "*.corp".to_string()];
        assert!(host_allowed(&globs, "api.example.com"));
        assert!(host_allowed(&globs, "kb.corp"));
        assert!(!host_allowed(&globs, "corp"));
        assert!(!host_allowed(&globs, "example.com"));
        assert!(!host_allowed(&globs, "api.example.com.evil.net"));
    }

    fn network(allow_private: bool, ip: &str) -> Result<(), &'static str> {
        PluginNetwork { allow_private }
            .decide(ip.parse().unwrap())
            .map_err(BlockedRange::name)
    }

    #[test]
    fn private_ranges_are_refused_unless_opted_in() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "169.254.169.254",
            "192.168.0.1",
            "::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "2002:7f00:1::",
            "240.0.0.1",
            "192.0.2.1",
        ] {
            assert!(network(false, ip).is_err(), "{ip}");
        }
        assert_eq!(network(true, "127.0.0.1"), Ok(()));
        assert_eq!(network(true, "169.254.169.254"), Ok(()));
        assert_eq!(network(true, "0.0.0.0"), Err("unspecified"));
        assert_eq!(network(true, "::"), Err("unspecified"));
        assert_eq!(network(true, "224.0.0.1"), Err("multicast"));
        assert_eq!(network(false, "93.184.216.34"), Ok(()));
    }

    #[tokio::test]
    async fn denials_name_the_glob_or_the_range() {
        let manifest = |hosts: &str, private: bool| {
            let text = format!(
                "name = \"p\"\nwasm = \"p.wasm\"\ncapabilities = [\"http\"]\nallowed_hosts = [{hosts}]\nallow_private_network = {private}\n"
            );
            Manifest::parse(
                &text,
                std::path::Path::new("plugin.toml"),
                &crate::plugins::limits::Limits::default(),
            )
            .unwrap()
        };
        let check = |m: Manifest, url: &'static str| async move {
            GuardedHttpPolicy
                .check(&m, &reqwest::Url::parse(url).unwrap())
                .await
                .map_err(|e| with_sources(&e))
        };
        let e = check(manifest("\"api.example.com\"", false), "http://127.0.0.1/")
            .await
            .unwrap_err();
        assert_eq!(e, "host `127.0.0.1` is not in allowed_hosts");
        let e = check(manifest("\"*\"", false), "http://2130706433/")
            .await
            .unwrap_err();
        assert!(
            e.contains("127.0.0.1 (loopback)") && e.contains("allow_private_network"),
            "{e}"
        );
        let ok = check(manifest("\"127.0.0.1\"", true), "http://127.1:8080/")
            .await
            .unwrap();
        assert_eq!(ok, vec!["127.0.0.1:8080".parse().unwrap()]);
    }
}
