//! The one outbound-network policy of every path that connects out: webhook deliveries, the
//! plugins' `http` import, hint callbacks and Chatwoot private notes.
//!
//! Policy and mechanism are apart. [`blocked_networks`] holds the single table of ranges no
//! request may reach by default and judges IPv6 spellings of IPv4 addresses as those IPv4
//! addresses. An [`OutboundPolicy`] is a path's small policy: which setting opts addresses in
//! and what it admits; its decision method has a default that every path shares. The
//! mechanism ([`resolver`]) applies a policy where the connection is made: every address a
//! name resolves to is checked, the request is refused if any is blocked, and the connection
//! goes only to the checked addresses, so a second (rebinding) DNS answer never reaches a
//! socket; literal-IP hosts are checked the same way.

pub mod allowlist;
pub mod blocked_networks;
pub mod resolver;

pub use allowlist::CidrAllowlist;
pub use blocked_networks::{BlockedRange, blocked_range, canonical};
pub use resolver::{GuardedResolver, check_host, find_refusal, guard_url, guarded_client, resolve};

use std::net::IpAddr;

/// One outbound path's policy: the shared range table plus the path's own opt-in.
pub trait OutboundPolicy: Send + Sync + 'static {
    /// The path this policy guards (`webhook`, `plugin`, `callback`, `note`), for refusals and
    /// metrics.
    fn path(&self) -> &'static str;

    /// The setting that opts blocked addresses in for this path, named in refusals.
    fn opt_in(&self) -> &'static str;

    /// Whether this path's opt-in admits `addr` although it lies in `range`. By default
    /// nothing is admitted.
    fn admits(&self, addr: IpAddr, range: BlockedRange) -> bool {
        let _ = (addr, range);
        false
    }

    /// The decision for one address: the range it is refused for, if any. Paths keep this
    /// default, so they differ only in what their opt-in admits.
    fn decide(&self, addr: IpAddr) -> Result<(), BlockedRange> {
        match blocked_range(addr) {
            Some(range) if !self.admits(addr, range) => Err(range),
            _ => Ok(()),
        }
    }
}

/// A request refused because its host is, or resolves to, a blocked address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused by SSRF guard: `{host}` resolves to {addr} ({range}), which {opt_in} does not admit"
)]
pub struct Refusal {
    /// The path that refused (`webhook`, `plugin`, `callback`, `note`).
    pub path: &'static str,
    /// The host of the URL, as written there.
    pub host: String,
    /// The refused address.
    pub addr: IpAddr,
    /// The range it lies in.
    pub range: BlockedRange,
    /// The setting that could admit it.
    pub opt_in: &'static str,
}

/// Why the addresses of a host could not be obtained for a request.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The host is, or resolves to, an address the policy refuses.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The name could not be resolved.
    #[error("cannot resolve `{host}`")]
    Resolve {
        /// The name.
        host: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// The name resolved to no address.
    #[error("`{host}` resolves to no address")]
    NoAddress {
        /// The name.
        host: String,
    },
}
