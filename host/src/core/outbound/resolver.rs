//! The mechanism applying an [`OutboundPolicy`] where connections are made: names are resolved
//! here, every address is checked, and only checked addresses are handed on — to reqwest's DNS
//! step ([`GuardedResolver`]) or to a client pinned to them (the plugin `http` import). Hosts
//! that are literal IP addresses skip DNS, so they are checked before the request
//! ([`guard_url`]). Every refusal is counted in `hintd_outbound_refusals_total{path,range}`.

use super::{OutboundError, OutboundPolicy, Refusal};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A URL host (`Url::host_str`) without the brackets of an IPv6 literal.
fn bare(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

fn refusal(policy: &dyn OutboundPolicy, host: &str, addr: IpAddr) -> Result<(), Refusal> {
    policy.decide(addr).map_err(|range| Refusal {
        path: policy.path(),
        host: bare(host).to_string(),
        addr,
        range,
        opt_in: policy.opt_in(),
    })
}

fn counted(refusal: Refusal) -> Refusal {
    metrics::counter!(
        "hintd_outbound_refusals_total",
        "path" => refusal.path,
        "range" => refusal.range.name()
    )
    .increment(1);
    refusal
}

/// The decision for a URL host that is a literal IP address; names pass (they are checked
/// when resolved). Nothing is counted: for warnings about a URL before any request.
pub fn check_host(policy: &dyn OutboundPolicy, host: &str) -> Result<(), Refusal> {
    match bare(host).parse::<IpAddr>() {
        Ok(addr) => refusal(policy, host, addr),
        Err(_) => Ok(()),
    }
}

/// Before a request through a [`guarded_client`]: refuses a URL whose host is a blocked
/// literal IP address, which the client's DNS step never sees.
pub fn guard_url(policy: &dyn OutboundPolicy, url: &reqwest::Url) -> Result<(), Refusal> {
    let host = url.host_str().unwrap_or_default();
    check_host(policy, host).map_err(counted)
}

/// The addresses to connect to for `host` (a URL host: a name or a literal address) and
/// `port`: all of them checked, refused if any is blocked — a name resolving to one public
/// and one private address could otherwise be steered to the private one.
pub async fn resolve(
    policy: &dyn OutboundPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, OutboundError> {
    let name = bare(host);
    let addrs: Vec<SocketAddr> = match name.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|source| OutboundError::Resolve {
                host: name.to_string(),
                source,
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(OutboundError::NoAddress {
            host: name.to_string(),
        });
    }
    for addr in &addrs {
        refusal(policy, host, addr.ip()).map_err(counted)?;
    }
    Ok(addrs)
}

/// A reqwest DNS resolver that refuses names resolving to blocked addresses and hands the
/// HTTP client only the addresses it checked.
#[derive(Clone)]
pub struct GuardedResolver {
    policy: Arc<dyn OutboundPolicy>,
}

impl GuardedResolver {
    /// A resolver applying `policy`.
    pub fn new(policy: Arc<dyn OutboundPolicy>) -> Self {
        GuardedResolver { policy }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            // reqwest sets the URL's port on the addresses it receives.
            let addrs = resolve(policy.as_ref(), name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client builder guarded by `policy`: DNS through [`GuardedResolver`], no proxy (a
/// proxy would resolve and connect itself, past the checks), no redirects (a redirect could
/// point anywhere). Requests with a literal-IP host still need [`guard_url`] first.
pub fn guarded_client(policy: Arc<dyn OutboundPolicy>) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver::new(policy)))
}

/// The refusal inside an HTTP client error, if that is what failed.
pub fn find_refusal<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refusal> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<Refusal>() {
            return Some(r);
        }
        // `OutboundError::Refused` is transparent: its source is the refusal's, not the refusal.
        if let Some(OutboundError::Refused(r)) = e.downcast_ref::<OutboundError>() {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::outbound::CidrAllowlist;
    use crate::core::outbound::allowlist::parse_cidr;

    fn policy(allowed: &[&str]) -> Arc<dyn OutboundPolicy> {
        Arc::new(CidrAllowlist::new(
            "webhook",
            "[dispatch] allowed_cidrs",
            allowed.iter().map(|t| parse_cidr(t).unwrap()).collect(),
        ))
    }

    #[test]
    fn literal_hosts_are_checked_and_names_pass() {
        let p = policy(&[]);
        assert!(check_host(p.as_ref(), "127.0.0.1").is_err());
        let refused = check_host(p.as_ref(), "[::1]").unwrap_err();
        assert_eq!(refused.host, "::1");
        assert_eq!(
            refused.to_string(),
            "refused by SSRF guard: `::1` resolves to ::1 (loopback), which [dispatch] allowed_cidrs does not admit"
        );
        assert!(check_host(p.as_ref(), "[fd00:ec2::254]").is_err());
        assert!(check_host(p.as_ref(), "example.com").is_ok());
        assert!(check_host(p.as_ref(), "8.8.8.8").is_ok());
        let url = reqwest::Url::parse("http://0x7f.1/").unwrap();
        assert!(guard_url(p.as_ref(), &url).is_err());
    }

    #[tokio::test]
    async fn resolve_checks_every_address_of_a_name() {
        let refused = resolve(policy(&[]).as_ref(), "localhost", 80)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, OutboundError::Refused(r) if r.range.name() == "loopback"),
            "{refused}"
        );
        let ok = resolve(policy(&["127.0.0.0/8", "::1"]).as_ref(), "localhost", 80)
            .await
            .unwrap();
        assert!(ok.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
        let literal = resolve(policy(&[]).as_ref(), "[2606:4700:4700::1111]", 443)
            .await
            .unwrap();
        assert_eq!(literal, vec!["[2606:4700:4700::1111]:443".parse().unwrap()]);
    }

    #[tokio::test]
    async fn resolver_refuses_localhost_and_finds_the_refusal_in_the_error() {
        use reqwest::dns::Resolve;
        let r = GuardedResolver::new(policy(&[]));
        let err = r
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("refused");
        let refusal = find_refusal(err.as_ref()).expect("a Refusal");
        assert_eq!(refusal.range.name(), "loopback");
        let ok = GuardedResolver::new(policy(&["127.0.0.0/8", "::1/128"]));
        assert!(ok.resolve("localhost".parse().unwrap()).await.is_ok());
    }
}
