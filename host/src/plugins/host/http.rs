//! The `http` import. Where a plugin may go is decided by an [`HttpPolicy`] (host allowlist,
//! address ranges); the mechanism here then connects only to the addresses the policy
//! checked, follows no redirects, caps the response size and bounds the wait by the call's
//! deadline.

use super::{DeadlineExceeded, HostState};
use crate::plugins::manifest::{Capability, Manifest};
use crate::plugins::wit::v0_1_0::hintd::provider::http::{Host, HttpError, Request, Response};
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Decides whether a plugin may reach a URL and which addresses to connect to.
#[async_trait::async_trait]
pub trait HttpPolicy: Send + Sync {
    /// The addresses `url` may be fetched from for this plugin, or why it is denied.
    async fn check(
        &self,
        manifest: &Manifest,
        url: &reqwest::Url,
    ) -> Result<Vec<SocketAddr>, String>;
}

/// The default policy: the manifest's `allowed_hosts` globs, then DNS resolution, refusing
/// loopback, private, link-local (cloud metadata), shared and unspecified addresses unless
/// the manifest sets `allow_private_network`.
#[derive(Debug, Default, Clone)]
pub struct GuardedHttpPolicy;

#[async_trait::async_trait]
impl HttpPolicy for GuardedHttpPolicy {
    async fn check(
        &self,
        manifest: &Manifest,
        url: &reqwest::Url,
    ) -> Result<Vec<SocketAddr>, String> {
        let host = url.host_str().ok_or("URL has no host")?;
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if !host_allowed(&manifest.allowed_hosts, &bare) {
            return Err(format!("host `{bare}` is not in allowed_hosts"));
        }
        let port = url.port_or_known_default().ok_or("URL has no port")?;
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare.as_str(), port))
                .await
                .map_err(|e| format!("cannot resolve `{bare}`: {e}"))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(format!("`{bare}` resolves to no address"));
        }
        // Every address must pass: a name resolving to one public and one private address
        // could otherwise be steered to the private one.
        for addr in &addrs {
            if let Some(range) = forbidden_range(addr.ip(), manifest.allow_private_network) {
                return Err(format!("`{bare}` resolves to {} ({range})", addr.ip()));
            }
        }
        Ok(addrs)
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

/// The name of the forbidden range `ip` lies in, if any.
pub fn forbidden_range(ip: IpAddr, allow_private: bool) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_multicast() {
        return Some("multicast");
    }
    if allow_private {
        return None;
    }
    const V4: &[(&str, &str)] = &[
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("169.254.0.0/16", "link-local / cloud metadata"),
        ("100.64.0.0/10", "shared address space"),
        ("0.0.0.0/8", "this network"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("198.18.0.0/15", "benchmarking"),
        ("255.255.255.255/32", "broadcast"),
    ];
    const V6: &[(&str, &str)] = &[
        ("::1/128", "loopback"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("64:ff9b::/96", "NAT64 (may reach private IPv4)"),
    ];
    match ip {
        IpAddr::V4(v4) => V4
            .iter()
            .find(|(net, _)| net.parse::<Ipv4Net>().is_ok_and(|n| n.contains(&v4)))
            .map(|(_, w)| *w),
        IpAddr::V6(v6) => V6
            .iter()
            .find(|(net, _)| net.parse::<Ipv6Net>().is_ok_and(|n| n.contains(&v6)))
            .map(|(_, w)| *w),
    }
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
    /// The client for `host` connecting only to `addrs` (checked by the policy).
    fn get(&self, host: &str, addrs: &[SocketAddr]) -> Result<reqwest::Client, String> {
        let key = (host.to_string(), addrs.to_vec());
        if let Some(client) = self.clients.lock().get(&key) {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
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
const FORBIDDEN_HEADERS: &[&str] = &[
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
                .map_err(HttpError::Denied)?;
            let host = url
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let client = self
                .ctx
                .http_clients
                .get(&host, &addrs)
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
fn without_url(e: reqwest::Error) -> String {
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
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(forbidden_range(ip, false).is_some(), "{ip}");
        }
        assert!(forbidden_range("127.0.0.1".parse().unwrap(), true).is_none());
        assert!(forbidden_range("0.0.0.0".parse().unwrap(), true).is_some());
        assert!(forbidden_range("93.184.216.34".parse().unwrap(), false).is_none());
    }
}
