//! The opt-in of the paths configured with CIDRs (`[dispatch] allowed_cidrs`,
//! `[hints] callback_allowed_cidrs`): a blocked address is admitted when a listed range
//! contains it or the IPv4 address it embeds.

use super::OutboundPolicy;
use super::blocked_networks::{BlockedRange, canonical};
use ipnet::IpNet;
use std::net::IpAddr;

/// A path's policy admitting blocked addresses inside the configured ranges.
#[derive(Debug, Clone)]
pub struct CidrAllowlist {
    path: &'static str,
    opt_in: &'static str,
    allowed: Vec<IpNet>,
}

impl CidrAllowlist {
    /// The policy of `path`, opted into by the setting `opt_in` listing `allowed`.
    pub fn new(path: &'static str, opt_in: &'static str, allowed: Vec<IpNet>) -> Self {
        CidrAllowlist {
            path,
            opt_in,
            allowed,
        }
    }
}

impl OutboundPolicy for CidrAllowlist {
    fn path(&self) -> &'static str {
        self.path
    }

    fn opt_in(&self) -> &'static str {
        self.opt_in
    }

    fn admits(&self, addr: IpAddr, _range: BlockedRange) -> bool {
        let canonical = canonical(addr);
        self.allowed
            .iter()
            .any(|net| net.contains(&addr) || net.contains(&canonical))
    }
}

/// A configured range that is not a CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a CIDR such as 127.0.0.0/8")]
pub struct InvalidCidr(pub String);

/// A range from its text form: `127.0.0.0/8`, or a bare address for that one host.
pub fn parse_cidr(text: &str) -> Result<IpNet, InvalidCidr> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| InvalidCidr(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(allowed: &[&str]) -> CidrAllowlist {
        CidrAllowlist::new(
            "webhook",
            "[dispatch] allowed_cidrs",
            allowed.iter().map(|t| parse_cidr(t).unwrap()).collect(),
        )
    }

    fn decide(p: &CidrAllowlist, ip: &str) -> Result<(), &'static str> {
        p.decide(ip.parse().unwrap()).map_err(BlockedRange::name)
    }

    #[test]
    fn nothing_blocked_is_admitted_by_default() {
        let p = webhook(&[]);
        assert_eq!(decide(&p, "127.0.0.1"), Err("loopback"));
        assert_eq!(decide(&p, "::ffff:10.0.0.1"), Err("private"));
        assert_eq!(decide(&p, "8.8.8.8"), Ok(()));
    }

    #[test]
    fn listed_ranges_are_admitted_in_every_spelling() {
        let p = webhook(&["127.0.0.0/8"]);
        for ip in [
            "127.0.0.1",
            "::ffff:127.0.0.1",
            "2002:7f00:1::",
            "64:ff9b::7f00:1",
        ] {
            assert_eq!(decide(&p, ip), Ok(()), "{ip}");
        }
        assert_eq!(decide(&p, "10.0.0.1"), Err("private"));
        assert_eq!(decide(&p, "::1"), Err("loopback"));
        let p = webhook(&["::1"]);
        assert_eq!(decide(&p, "::1"), Ok(()));
    }

    #[test]
    fn cidrs_parse_with_a_precise_error() {
        assert_eq!(
            parse_cidr("10.20.0.0/16").unwrap(),
            "10.20.0.0/16".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_cidr("::1").unwrap(),
            "::1/128".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_cidr("nope").unwrap_err().to_string(),
            "`nope` is not a CIDR such as 127.0.0.0/8"
        );
    }
}
