//! The SSRF guard of outbound webhook deliveries.
//!
//! Policy ([`AddressPolicy`], default [`RangePolicy`]) decides whether one IP address may be
//! reached; mechanism ([`GuardedResolver`]) applies it inside the HTTP client's DNS step:
//! every address a name resolves to is checked, the request is refused if any is not
//! allowed, and the connection is made only to the addresses returned from that check — so a
//! second, rebinding DNS answer never reaches the socket. URLs with a literal IP address skip
//! DNS, so [`check_literal_host`] checks them before the request is sent.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Why an address may not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused by SSRF guard: {host} resolves to {addr} ({class}), which is not in [dispatch] allowed_cidrs"
)]
pub struct Refusal {
    /// The host name or literal of the URL.
    pub host: String,
    /// The refused address.
    pub addr: IpAddr,
    /// The range it falls in (`loopback`, `private`, `metadata`, ...).
    pub class: &'static str,
}

/// Decides which addresses outbound deliveries may connect to.
pub trait AddressPolicy: Send + Sync + 'static {
    /// `Err(class)` naming the forbidden range the address falls in.
    fn check(&self, addr: IpAddr) -> Result<(), &'static str>;
}

/// Refuses every non-public range unless an allowlisted CIDR contains the address.
#[derive(Debug, Clone, Default)]
pub struct RangePolicy {
    allowed: Vec<IpNet>,
}

impl RangePolicy {
    /// A policy with the given opt-in CIDRs.
    pub fn new(allowed: Vec<IpNet>) -> Self {
        RangePolicy { allowed }
    }
}

impl AddressPolicy for RangePolicy {
    fn check(&self, addr: IpAddr) -> Result<(), &'static str> {
        let Some(class) = forbidden_class(addr) else {
            return Ok(());
        };
        let canonical = canonical(addr);
        if self
            .allowed
            .iter()
            .any(|net| net.contains(&addr) || net.contains(&canonical))
        {
            return Ok(());
        }
        Err(class)
    }
}

/// IPv4-mapped IPv6 addresses as their IPv4 form; everything else unchanged.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
        v4 => v4,
    }
}

/// The forbidden range an address belongs to, `None` for public unicast.
pub fn forbidden_class(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    let in_net = |net: &str| {
        net.parse::<ipnet::Ipv4Net>()
            .expect("static CIDR")
            .contains(&ip)
    };
    Some(match () {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) => {
            "metadata"
        }
        _ if ip.is_unspecified() || o[0] == 0 => "unspecified",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        _ if ip.is_link_local() => "link-local",
        _ if in_net("100.64.0.0/10") => "cgnat",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_broadcast() || o[0] >= 240 => "reserved",
        _ if in_net("192.0.0.0/24") || in_net("198.18.0.0/15") => "reserved",
        _ if in_net("192.0.2.0/24") || in_net("198.51.100.0/24") || in_net("203.0.113.0/24") => {
            "documentation"
        }
        _ => return None,
    })
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_class(v4);
    }
    let seg = ip.segments();
    let in_net = |net: &str| {
        net.parse::<ipnet::Ipv6Net>()
            .expect("static CIDR")
            .contains(&ip)
    };
    Some(match () {
        _ if ip == "fd00:ec2::254".parse::<Ipv6Addr>().expect("static address") => "metadata",
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        // NAT64 and 6to4 embed an IPv4 address that decides.
        _ if in_net("64:ff9b::/96") => {
            return v4_class(Ipv4Addr::new(
                (seg[6] >> 8) as u8,
                seg[6] as u8,
                (seg[7] >> 8) as u8,
                seg[7] as u8,
            ));
        }
        _ if in_net("2002::/16") => {
            return v4_class(Ipv4Addr::new(
                (seg[1] >> 8) as u8,
                seg[1] as u8,
                (seg[2] >> 8) as u8,
                seg[2] as u8,
            ));
        }
        _ if in_net("::/96") => "reserved",
        _ if in_net("fe80::/10") => "link-local",
        _ if in_net("fc00::/7") => "private",
        _ if ip.is_multicast() => "multicast",
        _ if in_net("2001:db8::/32") => "documentation",
        _ if in_net("100::/64") => "reserved",
        _ => return None,
    })
}

/// Checks a URL host (`Url::host_str`) that is a literal IP address (no DNS step will see
/// it). Names pass here and are checked by [`GuardedResolver`] at connect time.
pub fn check_literal_host(policy: &dyn AddressPolicy, host: &str) -> Result<(), Refusal> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(addr) = bare.parse::<IpAddr>() else {
        return Ok(());
    };
    policy.check(addr).map_err(|class| Refusal {
        host: host.to_string(),
        addr,
        class,
    })
}

/// A reqwest DNS resolver that refuses names resolving to forbidden addresses and hands
/// the HTTP client only the addresses it checked.
#[derive(Clone)]
pub struct GuardedResolver {
    policy: Arc<dyn AddressPolicy>,
}

impl GuardedResolver {
    /// A resolver applying `policy`.
    pub fn new(policy: Arc<dyn AddressPolicy>) -> Self {
        GuardedResolver { policy }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host}: name resolved to no address").into());
            }
            for a in &addrs {
                if let Err(class) = policy.check(a.ip()) {
                    return Err(Box::new(Refusal {
                        host: host.clone(),
                        addr: a.ip(),
                        class,
                    }) as _);
                }
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The SSRF refusal inside an HTTP client error, if that is what failed.
pub fn find_refusal<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refusal> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<Refusal>() {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> Option<&'static str> {
        RangePolicy::default().check(ip.parse().unwrap()).err()
    }

    #[test]
    fn refuses_every_internal_range() {
        for (ip, class) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.1.1", "link-local"),
            ("169.254.169.254", "metadata"),
            ("100.64.0.1", "cgnat"),
            ("224.0.0.1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("255.255.255.255", "reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fe80::1", "link-local"),
            ("fd00:ec2::254", "metadata"),
            ("fc00::1", "private"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "metadata"),
            ("64:ff9b::a9fe:a9fe", "metadata"),
            ("2002:7f00:1::", "loopback"),
        ] {
            assert_eq!(refused(ip), Some(class), "{ip}");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn allowlist_opts_ranges_in() {
        let p = RangePolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(p.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(p.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(p.check("10.0.0.1".parse().unwrap()).is_err());
        assert!(p.check("::1".parse().unwrap()).is_err());
    }

    #[test]
    fn literal_hosts_are_checked() {
        let p = RangePolicy::default();
        assert!(check_literal_host(&p, "127.0.0.1").is_err());
        assert!(check_literal_host(&p, "[::1]").is_err());
        assert!(check_literal_host(&p, "[fd00:ec2::254]").is_err());
        assert!(check_literal_host(&p, "example.com").is_ok());
        assert!(check_literal_host(&p, "8.8.8.8").is_ok());
    }

    #[tokio::test]
    async fn resolver_refuses_localhost_and_finds_the_refusal_in_the_error() {
        use reqwest::dns::Resolve;
        let r = GuardedResolver::new(Arc::new(RangePolicy::default()));
        let err = r
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("refused");
        let refusal = find_refusal(err.as_ref()).expect("a Refusal");
        assert_eq!(refusal.class, "loopback");
        let ok = GuardedResolver::new(Arc::new(RangePolicy::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ])));
        assert!(ok.resolve("localhost".parse().unwrap()).await.is_ok());
    }
}
