//! The one table of address ranges no outbound request may reach by default, and the
//! canonicalisation of IPv6 addresses that embed an IPv4 address.
//!
//! The table follows the IANA IPv4 and IPv6 Special-Purpose Address Registries (every range
//! not globally reachable) plus the cloud metadata endpoints. An IPv6 address that carries an
//! IPv4 address (IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96`, 6to4 `2002::/16`,
//! NAT64 `64:ff9b::/96`) is judged by that IPv4 address, so no spelling of a blocked IPv4
//! address passes as IPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A range outbound requests may not reach unless a path's opt-in admits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockedRange {
    /// `0.0.0.0`, `::`: connecting to it reaches the local host.
    Unspecified,
    /// `0.0.0.0/8`: "this network".
    ThisNetwork,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`) and unique local `fc00::/7`.
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// Instance metadata services (`169.254.169.254`, `fd00:ec2::254`, ...): credentials.
    CloudMetadata,
    /// `100.64.0.0/10`: carrier-grade NAT.
    SharedAddressSpace,
    /// `192.0.0.0/24`, `2001::/23`.
    ProtocolAssignments,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// `192.88.99.0/24`: deprecated 6to4 relays.
    SixToFourRelay,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `240.0.0.0/4`, and IPv6 outside `2000::/3` not named otherwise.
    Reserved,
    /// `fec0::/10`: deprecated site-local, private in practice.
    SiteLocal,
    /// `::/96` with a public IPv4 address: deprecated IPv4-compatible form.
    Ipv4Compatible,
    /// `64:ff9b:1::/48`: local-use NAT64, translates to networks of the operator's choosing.
    Nat64LocalUse,
    /// `2001::/32`: Teredo tunnels to an embedded (obfuscated) IPv4 address.
    Teredo,
    /// `100::/64`: discard-only.
    DiscardOnly,
}

impl BlockedRange {
    /// A stable name: shown in refusals and used as a metrics label.
    pub fn name(self) -> &'static str {
        match self {
            BlockedRange::Unspecified => "unspecified",
            BlockedRange::ThisNetwork => "this-network",
            BlockedRange::Loopback => "loopback",
            BlockedRange::Private => "private",
            BlockedRange::LinkLocal => "link-local",
            BlockedRange::CloudMetadata => "cloud-metadata",
            BlockedRange::SharedAddressSpace => "shared-address-space",
            BlockedRange::ProtocolAssignments => "protocol-assignments",
            BlockedRange::Documentation => "documentation",
            BlockedRange::Benchmarking => "benchmarking",
            BlockedRange::SixToFourRelay => "6to4-relay",
            BlockedRange::Multicast => "multicast",
            BlockedRange::Broadcast => "broadcast",
            BlockedRange::Reserved => "reserved",
            BlockedRange::SiteLocal => "site-local",
            BlockedRange::Ipv4Compatible => "ipv4-compatible",
            BlockedRange::Nat64LocalUse => "nat64-local-use",
            BlockedRange::Teredo => "teredo",
            BlockedRange::DiscardOnly => "discard-only",
        }
    }

    /// Whether a unicast connection can be made to an address of this range at all. The
    /// others (unspecified, multicast, broadcast) stay refused whatever a blanket opt-in such
    /// as a plugin's `allow_private_network` says.
    pub fn is_unicast(self) -> bool {
        !matches!(
            self,
            BlockedRange::Unspecified | BlockedRange::Multicast | BlockedRange::Broadcast
        )
    }
}

impl std::fmt::Display for BlockedRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

use BlockedRange::*;

/// IPv4 ranges, the more specific first (the first match names the range).
const V4: &[(Ipv4Addr, u8, BlockedRange)] = &[
    (Ipv4Addr::new(169, 254, 169, 254), 32, CloudMetadata),
    // Alibaba Cloud.
    (Ipv4Addr::new(100, 100, 100, 200), 32, CloudMetadata),
    // Azure's WireServer: a public address that answers only inside Azure.
    (Ipv4Addr::new(168, 63, 129, 16), 32, CloudMetadata),
    (Ipv4Addr::new(0, 0, 0, 0), 32, Unspecified),
    (Ipv4Addr::new(0, 0, 0, 0), 8, ThisNetwork),
    (Ipv4Addr::new(10, 0, 0, 0), 8, Private),
    (Ipv4Addr::new(100, 64, 0, 0), 10, SharedAddressSpace),
    (Ipv4Addr::new(127, 0, 0, 0), 8, Loopback),
    (Ipv4Addr::new(169, 254, 0, 0), 16, LinkLocal),
    (Ipv4Addr::new(172, 16, 0, 0), 12, Private),
    (Ipv4Addr::new(192, 0, 0, 0), 24, ProtocolAssignments),
    (Ipv4Addr::new(192, 0, 2, 0), 24, Documentation),
    (Ipv4Addr::new(192, 88, 99, 0), 24, SixToFourRelay),
    (Ipv4Addr::new(192, 168, 0, 0), 16, Private),
    (Ipv4Addr::new(198, 18, 0, 0), 15, Benchmarking),
    (Ipv4Addr::new(198, 51, 100, 0), 24, Documentation),
    (Ipv4Addr::new(203, 0, 113, 0), 24, Documentation),
    (Ipv4Addr::new(224, 0, 0, 0), 4, Multicast),
    (Ipv4Addr::new(255, 255, 255, 255), 32, Broadcast),
    (Ipv4Addr::new(240, 0, 0, 0), 4, Reserved),
];

/// IPv6 ranges (after the embedded-IPv4 forms are taken out), the more specific first.
const V6: &[(Ipv6Addr, u8, BlockedRange)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128, Unspecified),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128, Loopback),
    // AWS's IPv6 metadata endpoint.
    (
        Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
        128,
        CloudMetadata,
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        Nat64LocalUse,
    ),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, DiscardOnly),
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, Teredo),
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, Benchmarking),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        Documentation,
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        ProtocolAssignments,
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        Documentation,
    ),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, Private),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, LinkLocal),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, SiteLocal),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, Multicast),
];

/// Global unicast `2000::/3`: IPv6 outside it (and not named above) is reserved.
const GLOBAL_UNICAST: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

fn v4_in(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn v6_in(ip: Ipv6Addr, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// How an IPv6 address carries an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedding {
    /// `::ffff:a.b.c.d`: the socket layer connects to the IPv4 address itself.
    Mapped,
    /// `::a.b.c.d` (deprecated).
    Compatible,
    /// `2002:aabb:ccdd::/48`.
    SixToFour,
    /// `64:ff9b::a.b.c.d`: a NAT64 gateway translates to the IPv4 address.
    Nat64,
}

/// The IPv4 address an IPv6 address embeds, and how. `::` and `::1` embed none: they are
/// IPv6's own unspecified and loopback addresses.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<(Ipv4Addr, Embedding)> {
    let bits = u128::from(ip);
    let low = Ipv4Addr::from(bits as u32);
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some((v4, Embedding::Mapped));
    }
    if bits >> 32 == 0 && bits > 1 {
        return Some((low, Embedding::Compatible));
    }
    if v6_in(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return Some((low, Embedding::Nat64));
    }
    if seg[0] == 0x2002 {
        let v4 = (u32::from(seg[1]) << 16) | u32::from(seg[2]);
        return Some((Ipv4Addr::from(v4), Embedding::SixToFour));
    }
    None
}

/// The address the range table judges: an embedded IPv4 address as itself, everything else
/// unchanged.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => embedded_ipv4(v6).map_or(addr, |(v4, _)| IpAddr::V4(v4)),
        v4 => v4,
    }
}

/// The blocked range `addr` lies in, `None` for a globally reachable address.
pub fn blocked_range(addr: IpAddr) -> Option<BlockedRange> {
    match addr {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<BlockedRange> {
    V4.iter()
        .find(|(net, prefix, _)| v4_in(ip, *net, *prefix))
        .map(|(_, _, range)| *range)
}

fn v6_range(ip: Ipv6Addr) -> Option<BlockedRange> {
    if let Some((v4, embedding)) = embedded_ipv4(ip) {
        return match v4_range(v4) {
            Some(range) => Some(range),
            // Nothing routes the deprecated compatible form any more; refusing it costs nothing.
            None if embedding == Embedding::Compatible => Some(Ipv4Compatible),
            None => None,
        };
    }
    if let Some((_, _, range)) = V6.iter().find(|(net, prefix, _)| v6_in(ip, *net, *prefix)) {
        return Some(*range);
    }
    (!v6_in(ip, GLOBAL_UNICAST.0, GLOBAL_UNICAST.1)).then_some(Reserved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(ip: &str) -> Option<&'static str> {
        blocked_range(ip.parse().unwrap()).map(BlockedRange::name)
    }

    #[test]
    fn every_ipv4_range_is_named_at_its_edges() {
        for (ip, name) in [
            ("0.0.0.0", "unspecified"),
            ("0.255.255.255", "this-network"),
            ("10.0.0.0", "private"),
            ("10.255.255.255", "private"),
            ("100.64.0.0", "shared-address-space"),
            ("100.127.255.255", "shared-address-space"),
            ("100.100.100.200", "cloud-metadata"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("169.254.0.1", "link-local"),
            ("169.254.169.254", "cloud-metadata"),
            ("168.63.129.16", "cloud-metadata"),
            ("172.16.0.0", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "protocol-assignments"),
            ("192.0.2.1", "documentation"),
            ("192.88.99.1", "6to4-relay"),
            ("192.168.255.255", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.200", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.255", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.254", "reserved"),
            ("255.255.255.255", "broadcast"),
        ] {
            assert_eq!(range(ip), Some(name), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(range(ip), None, "{ip}");
        }
    }

    #[test]
    fn every_ipv6_range_is_named() {
        for (ip, name) in [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fd00:ec2::254", "cloud-metadata"),
            ("fd00:ec2::253", "private"),
            ("fc00::1", "private"),
            ("fe80::1", "link-local"),
            ("febf:ffff::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("64:ff9b:1::a00:1", "nat64-local-use"),
            ("100::1", "discard-only"),
            ("2001::1", "teredo"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"),
            ("2001:2::1", "benchmarking"),
            ("2001:10::1", "protocol-assignments"),
            ("2001:1ff::1", "protocol-assignments"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("5f00::1", "reserved"),
            ("4000::1", "reserved"),
            ("::ffff:0:7f00:1", "reserved"),
        ] {
            assert_eq!(range(ip), Some(name), "{ip}");
        }
        for ip in [
            "2001:200::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::1",
            "3ffe::1",
        ] {
            assert_eq!(range(ip), None, "{ip}");
        }
    }

    #[test]
    fn embedded_ipv4_addresses_are_judged_as_ipv4() {
        for (ip, name) in [
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:7f00:1", "loopback"),
            ("::ffff:169.254.169.254", "cloud-metadata"),
            ("::127.0.0.1", "loopback"),
            ("::10.0.0.1", "private"),
            ("::0.0.0.2", "this-network"),
            ("::8.8.8.8", "ipv4-compatible"),
            ("2002:7f00:1::", "loopback"),
            ("2002:a9fe:a9fe::1", "cloud-metadata"),
            ("2002:c0a8:101:1::1", "private"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "cloud-metadata"),
            ("64:ff9b::192.168.1.1", "private"),
        ] {
            assert_eq!(range(ip), Some(name), "{ip}");
        }
        for ip in ["::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::8.8.8.8"] {
            assert_eq!(range(ip), None, "{ip}");
        }
        assert_eq!(
            canonical("2002:7f00:1::".parse().unwrap()),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(embedded_ipv4("::1".parse().unwrap()), None);
        assert_eq!(embedded_ipv4("::".parse().unwrap()), None);
    }

    #[test]
    fn only_unicast_ranges_can_be_opted_into_wholesale() {
        assert!(BlockedRange::Loopback.is_unicast());
        assert!(BlockedRange::CloudMetadata.is_unicast());
        assert!(!BlockedRange::Unspecified.is_unicast());
        assert!(!BlockedRange::Multicast.is_unicast());
        assert!(!BlockedRange::Broadcast.is_unicast());
    }
}
