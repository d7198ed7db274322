//! The plugin `http` guard against the webhook guard (and the hint callbacks'), differentially:
//! for any address in any URL spelling, the plugin's check (`GuardedHttpPolicy::check`: URL
//! host, `allowed_hosts`, the outbound policy, the addresses it hands the connector), the
//! webhook's (`validate_url`'s warning, `guard_url` before a delivery) and the callback's reach
//! the same decision. Beyond agreement, each decision is checked against what does not share
//! the range table: the standard library's address classes (a loopback, private, link-local,
//! multicast, ... address is always refused), every spelling of one address decides alike, an
//! IPv6 address carrying an IPv4 address decides as that IPv4 address, and each path's opt-in
//! admits what it names and nothing it does not.
//!
//! Only literal addresses are checked: a name would be resolved, and fuzzing sends no packet.
//! Input: the first byte picks IPv4 (4 bytes follow), IPv6 (16 bytes follow) or URL text.
#![no_main]

use hintd::core::outbound::blocked_networks::{Embedding, embedded_ipv4};
use hintd::core::outbound::{CidrAllowlist, blocked_range, guard_url};
use hintd::dispatch::DispatchConfig;
use hintd::dispatch::subscription::validate_url;
use hintd::hints::HintsConfig;
use hintd::plugins::host::http::HttpDenied;
use hintd::plugins::host::{GuardedHttpPolicy, HttpPolicy};
use hintd::plugins::limits::Limits;
use hintd::plugins::manifest::Manifest;
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

/// The guards under test, with each path's default settings and with its opt-in given.
struct Guards {
    plugin: Manifest,
    plugin_private: Manifest,
    webhook: CidrAllowlist,
    callback: CidrAllowlist,
}

static GUARDS: LazyLock<Guards> = LazyLock::new(|| Guards {
    plugin: manifest(false),
    plugin_private: manifest(true),
    webhook: DispatchConfig::default().outbound_policy(),
    callback: HintsConfig::default().callback_policy(),
});

fn manifest(allow_private: bool) -> Manifest {
    let text = format!(
        "name = \"probe\"\nwasm = \"probe.wasm\"\ncapabilities = [\"http\"]\n\
         allowed_hosts = [\"*\"]\nallow_private_network = {allow_private}\n"
    );
    Manifest::parse(&text, Path::new("plugin.toml"), &Limits::default()).unwrap()
}

/// A check of a literal address never waits (nothing is resolved): polled once, it is done.
fn at_once<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the check of a literal address waited"),
    }
}

/// The plugin guard's decision: refused, or the addresses it lets the plugin connect to.
fn plugin_refuses(manifest: &Manifest, url: &url::Url, ip: IpAddr) -> bool {
    match at_once(GuardedHttpPolicy.check(manifest, url)) {
        Ok(addrs) => {
            let port = url.port_or_known_default().unwrap();
            assert_eq!(addrs, vec![SocketAddr::new(ip, port)], "{url}");
            false
        }
        Err(HttpDenied::Outbound(_)) => true,
        Err(other) => panic!("{url}: denied for another reason: {other}"),
    }
}

/// The webhook guard's decision, at creation (a warning) and before a delivery; the URL as
/// stored decides the same.
fn webhook_refuses(policy: &CidrAllowlist, url: &url::Url) -> bool {
    let refused = guard_url(policy, url).is_err();
    let (stored, warnings) = validate_url(Some(url.as_str()), policy)
        .unwrap_or_else(|e| panic!("{url}: refused as a webhook URL: {e:?}"));
    let warned = warnings.iter().any(|w| w.contains("will be refused"));
    assert_eq!(warned, refused, "{url}: the warning and the guard differ");
    let stored = url::Url::parse(&stored).unwrap();
    assert_eq!(
        guard_url(policy, &stored).is_err(),
        refused,
        "{url} as stored"
    );
    refused
}

/// The address of a URL whose host is a literal address.
fn literal(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// Every path's decision for a URL with a literal host `ip`; they must agree. Returns it.
fn decide(url: &url::Url, ip: IpAddr) -> bool {
    let g = &*GUARDS;
    let by_plugin = plugin_refuses(&g.plugin, url, ip);
    let by_webhook = webhook_refuses(&g.webhook, url);
    let by_callback = guard_url(&g.callback, url).is_err();
    assert_eq!(
        (by_plugin, by_webhook),
        (by_callback, by_callback),
        "{url}: (plugin, webhook) vs callback"
    );
    by_plugin
}

/// Each path's opt-in, for one URL of `ip`: the plugin's admits every unicast range and
/// nothing else; a webhook's and a callback's admit exactly the range they name.
fn check_opt_ins(url: &url::Url, ip: IpAddr) {
    let range = blocked_range(ip);
    assert_eq!(
        plugin_refuses(&GUARDS.plugin_private, url, ip),
        range.is_some_and(|r| !r.is_unicast()),
        "{url} with allow_private_network ({range:?})"
    );
    let exact = ipnet::IpNet::from(ip);
    let webhook = DispatchConfig {
        allowed_cidrs: vec![exact],
        ..Default::default()
    }
    .outbound_policy();
    assert!(!webhook_refuses(&webhook, url), "{url} allowed as {exact}");
    let callback = HintsConfig {
        callback_allowed_cidrs: vec![exact],
        ..Default::default()
    }
    .callback_policy();
    assert!(
        guard_url(&callback, url).is_ok(),
        "{url} allowed as {exact}"
    );
}

/// What the standard library classes as not reachable from outside must be refused.
fn std_says_blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| std_says_blocked(v4.into()))
        }
    }
}

fn url(text: &str) -> url::Url {
    url::Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Every URL spelling of an IPv4 address; each must parse to it and decide alike.
fn v4_spellings(ip: Ipv4Addr) -> Vec<String> {
    let [a, b, c, d] = ip.octets();
    let n = u32::from(ip);
    let encoded: String = ip
        .to_string()
        .bytes()
        .map(|x| format!("%{x:02X}"))
        .collect();
    vec![
        format!("http://{ip}/"),
        format!("http://{n}/"),
        format!("https://0x{n:x}/"),
        format!("http://0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}/"),
        format!("http://0{a:o}.0{b:o}.0{c:o}.0{d:o}:8080/"),
        format!("http://{a}.{}/", n & 0x00ff_ffff),
        format!("http://{a}.{b}.{}/", n & 0xffff),
        format!("http://{ip}./"),
        format!("http://{encoded}/"),
    ]
}

/// The IPv6 addresses carrying an IPv4 address, by how they carry it.
fn v6_carrying(ip: Ipv4Addr) -> [(Ipv6Addr, Embedding); 4] {
    let n = u128::from(u32::from(ip));
    [
        (ip.to_ipv6_mapped(), Embedding::Mapped),
        (Ipv6Addr::from(n), Embedding::Compatible),
        (
            Ipv6Addr::from((0x2002u128 << 112) | (n << 80) | 1),
            Embedding::SixToFour,
        ),
        (
            Ipv6Addr::from((0x0064_ff9bu128 << 96) | n),
            Embedding::Nat64,
        ),
    ]
}

fn check_v4(ip: Ipv4Addr) -> bool {
    let mut decisions = Vec::new();
    for text in v4_spellings(ip) {
        let u = url(&text);
        assert_eq!(u.host_str(), Some(ip.to_string().as_str()), "{text}");
        decisions.push(decide(&u, IpAddr::V4(ip)));
    }
    check_opt_ins(&url(&format!("http://{ip}/")), IpAddr::V4(ip));
    let refused = decisions[0];
    assert!(
        decisions.iter().all(|d| *d == refused),
        "{ip}: spellings differ"
    );
    assert_eq!(refused, blocked_range(IpAddr::V4(ip)).is_some(), "{ip}");
    if std_says_blocked(IpAddr::V4(ip)) {
        assert!(refused, "{ip} is not global yet passes");
    }
    for (v6, how) in v6_carrying(ip) {
        if v6.is_unspecified() || v6.is_loopback() {
            continue; // `::` and `::1` are IPv6's own, not 0.0.0.0 and 0.0.0.1.
        }
        let carried = check_v6(v6);
        match how {
            // Deprecated: refused whatever it carries.
            Embedding::Compatible => assert!(carried, "{v6}"),
            _ => assert_eq!(carried, refused, "{v6} carries {ip} ({how:?})"),
        }
    }
    refused
}

fn check_v6(ip: Ipv6Addr) -> bool {
    let expanded = ip
        .segments()
        .iter()
        .map(|s| format!("{s:04X}"))
        .collect::<Vec<_>>()
        .join(":");
    let mut decisions = Vec::new();
    for text in [
        format!("http://[{ip}]/"),
        format!("https://[{expanded}]:8443/"),
    ] {
        let u = url(&text);
        decisions.push(decide(&u, IpAddr::V6(ip)));
    }
    let refused = decisions[0];
    assert_eq!(decisions[1], refused, "{ip}: spellings differ");
    check_opt_ins(&url(&format!("http://[{ip}]/")), IpAddr::V6(ip));
    if std_says_blocked(IpAddr::V6(ip)) {
        assert!(refused, "{ip} is not global yet passes");
    }
    if let Some((v4, how)) = embedded_ipv4(ip) {
        let by_v4 = blocked_range(IpAddr::V4(v4)).is_some();
        match how {
            Embedding::Compatible => assert!(refused, "{ip}"),
            _ => assert_eq!(refused, by_v4, "{ip} carries {v4} ({how:?})"),
        }
    }
    refused
}

fn check_text(text: &str) {
    let parsed = url::Url::parse(text).or_else(|_| url::Url::parse(&format!("http://{text}/")));
    let Ok(u) = parsed else { return };
    if !matches!(u.scheme(), "http" | "https")
        || !u.username().is_empty()
        || u.password().is_some()
        || u.fragment().is_some()
        || u.as_str().len() > hintd::dispatch::subscription::MAX_URL_BYTES
    {
        return; // Refused as a URL before any address is looked at.
    }
    match literal(&u) {
        Some(ip) => {
            let refused = decide(&u, ip);
            let canonical = match ip {
                IpAddr::V4(v4) => check_v4(v4),
                IpAddr::V6(v6) => check_v6(v6),
            };
            assert_eq!(refused, canonical, "{u} and its address's canonical URL");
        }
        // A name is checked when resolved, which fuzzing does not do; until then it passes.
        None => assert!(guard_url(&GUARDS.webhook, &u).is_ok(), "{u}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(octets) = <[u8; 4]>::try_from(rest.get(..4).unwrap_or_default()) {
                check_v4(Ipv4Addr::from(octets));
            }
        }
        1 => {
            if let Ok(bytes) = <[u8; 16]>::try_from(rest.get(..16).unwrap_or_default()) {
                check_v6(Ipv6Addr::from(bytes));
            }
        }
        _ => check_text(&String::from_utf8_lossy(rest)),
    }
});
