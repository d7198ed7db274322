//! The one outbound-network policy seen from every path that connects out. A differential test
//! asks the plugin `http` guard, the webhook guard and the hint-callback guard about every
//! blocked range and public neighbours of them, in every spelling of the address (plain,
//! IPv4-mapped, IPv4-compatible, 6to4, NAT64, and the URL host forms the WHATWG parser turns
//! into an IPv4 address), and requires one answer — the expected one. Only decisions are
//! tested: nothing here connects anywhere but loopback. End to end, a plugin cannot reach a
//! loopback listener through any spelling the webhook guard refuses.

use hintd::core::outbound::{GuardedResolver, OutboundPolicy, guard_url, resolve};
use hintd::dispatch::DispatchConfig;
use hintd::hints::HintsConfig;
use hintd::plugins::host::{GuardedHttpPolicy, HttpPolicy};
use hintd::plugins::limits::Limits;
use hintd::plugins::manifest::Manifest;
use hintd::plugins::{PluginsConfig, Registry};
use hintd_tests::plugins::install_hostile;
use hintd_tests::registry::{hint_request, sqlite_store};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// IPv4 addresses in every blocked range (edges and the named hosts), and whether the range
/// table must refuse them; the public ones sit right beside a blocked range.
const V4: &[(&str, bool)] = &[
    ("0.0.0.0", true),
    ("0.1.2.3", true),
    ("0.255.255.255", true),
    ("10.0.0.0", true),
    ("10.255.255.255", true),
    ("100.64.0.0", true),
    ("100.100.100.200", true),
    ("100.127.255.255", true),
    ("127.0.0.1", true),
    ("127.255.255.255", true),
    ("168.63.129.16", true),
    ("169.254.0.0", true),
    ("169.254.169.254", true),
    ("169.254.255.255", true),
    ("172.16.0.0", true),
    ("172.31.255.255", true),
    ("192.0.0.0", true),
    ("192.0.0.255", true),
    ("192.0.2.0", true),
    ("192.0.2.255", true),
    ("192.88.99.1", true),
    ("192.168.0.0", true),
    ("192.168.255.255", true),
    ("198.18.0.0", true),
    ("198.19.255.255", true),
    ("198.51.100.0", true),
    ("198.51.100.255", true),
    ("203.0.113.0", true),
    ("203.0.113.255", true),
    ("224.0.0.0", true),
    ("239.255.255.255", true),
    ("240.0.0.0", true),
    ("255.255.255.254", true),
    ("255.255.255.255", true),
    ("1.1.1.1", false),
    ("8.8.8.8", false),
    ("9.255.255.255", false),
    ("11.0.0.0", false),
    ("100.63.255.255", false),
    ("100.128.0.0", false),
    ("126.255.255.255", false),
    ("128.0.0.0", false),
    ("168.63.129.15", false),
    ("169.253.255.255", false),
    ("169.255.0.0", false),
    ("172.15.255.255", false),
    ("172.32.0.0", false),
    ("192.0.1.255", false),
    ("192.0.3.0", false),
    ("192.88.98.255", false),
    ("192.167.255.255", false),
    ("192.169.0.0", false),
    ("198.17.255.255", false),
    ("198.20.0.0", false),
    ("198.51.99.255", false),
    ("203.0.112.255", false),
    ("223.255.255.255", false),
];

/// IPv6 addresses without an embedded IPv4 address, and whether they must be refused.
const V6: &[(&str, bool)] = &[
    ("::", true),
    ("::1", true),
    ("fc00::", true),
    ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
    ("fd00:ec2::254", true),
    ("fe80::1", true),
    ("febf:ffff::1", true),
    ("fec0::1", true),
    ("ff02::1", true),
    ("ff0e::1", true),
    ("64:ff9b:1::a00:1", true),
    ("100::1", true),
    ("2001::1", true),
    ("2001:2::1", true),
    ("2001:1ff:ffff::1", true),
    ("2001:db8::1", true),
    ("2001:db8:ffff::1", true),
    ("3fff::1", true),
    ("3fff:fff::1", true),
    ("5f00::1", true),
    ("4000::1", true),
    ("::ffff:0:7f00:1", true),
    ("2001:200::1", false),
    ("2001:db9::1", false),
    ("2606:4700:4700::1111", false),
    ("2a00:1450:4001:80b::200e", false),
    ("3ffe::1", false),
    ("3fff:1000::1", false),
];

/// A URL spelling of an address and the decision the policy must reach for it.
struct Case {
    url: String,
    refused: bool,
    /// For the spellings the URL parser turns into an IPv4 address: that address.
    parses_to: Option<Ipv4Addr>,
}

/// Every spelling of an IPv4 address: the URL host forms (which must parse to it), then the
/// IPv6 forms carrying it.
fn v4_cases(ip: Ipv4Addr, refused: bool) -> Vec<Case> {
    let [a, b, c, d] = ip.octets();
    let n = u32::from(ip);
    let (hi, lo) = (n >> 16, n & 0xffff);
    let url_forms = [
        format!("http://{ip}/"),
        format!("http://{n}/"),
        format!("http://0x{n:x}/"),
        format!("http://0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}/"),
        format!("http://0{a:o}.0{b:o}.0{c:o}.0{d:o}/"),
        format!("http://{a}.{}/", n & 0x00ff_ffff),
        format!("http://{a}.{b}.{}/", n & 0xffff),
        format!("http://{ip}./"),
        format!(
            "http://{}/",
            ip.to_string()
                .bytes()
                .map(|byte| format!("%{byte:02X}"))
                .collect::<String>()
        ),
    ];
    let mut cases: Vec<Case> = url_forms
        .into_iter()
        .map(|url| Case {
            url,
            refused,
            parses_to: Some(ip),
        })
        .collect();
    for (url, case_refused) in [
        (format!("http://[::ffff:{ip}]/"), refused),
        (format!("http://[::ffff:{hi:x}:{lo:x}]/"), refused),
        (format!("http://[0:0:0:0:0:FFFF:{hi:X}:{lo:X}]/"), refused),
        // IPv4-compatible is deprecated: refused whatever it carries.
        (format!("http://[::{ip}]/"), true),
        (format!("http://[2002:{hi:x}:{lo:x}::1]/"), refused),
        (format!("http://[2002:{hi:x}:{lo:x}:ffff::]/"), refused),
        (format!("http://[64:ff9b::{ip}]/"), refused),
        (format!("http://[64:ff9b::{hi:x}:{lo:x}]/"), refused),
    ] {
        cases.push(Case {
            url,
            refused: case_refused,
            parses_to: None,
        });
    }
    cases
}

fn v6_cases(ip: Ipv6Addr, refused: bool) -> Vec<Case> {
    let expanded = ip
        .segments()
        .iter()
        .map(|s| format!("{s:04X}"))
        .collect::<Vec<_>>()
        .join(":");
    [
        format!("http://[{ip}]/"),
        format!("http://[{expanded}]:8443/"),
    ]
    .into_iter()
    .map(|url| Case {
        url,
        refused,
        parses_to: None,
    })
    .collect()
}

fn plugin_manifest(allowed_hosts: &str, allow_private: bool) -> Manifest {
    let text = format!(
        "name = \"probe\"\nwasm = \"probe.wasm\"\ncapabilities = [\"http\"]\n\
         allowed_hosts = [{allowed_hosts}]\nallow_private_network = {allow_private}\n"
    );
    Manifest::parse(&text, Path::new("plugin.toml"), &Limits::default()).unwrap()
}

/// The decision of a guarded reqwest client (webhooks, callbacks): a literal-IP host is
/// checked before the request, a name in the client's DNS step; the mechanism's `resolve`
/// must agree with both.
async fn client_guard_refuses(policy: Arc<dyn OutboundPolicy>, url: &reqwest::Url) -> bool {
    use reqwest::dns::Resolve;
    let host = url.host_str().unwrap();
    let literal = guard_url(policy.as_ref(), url).is_err();
    let resolved = resolve(policy.as_ref(), host, url.port_or_known_default().unwrap())
        .await
        .is_err();
    let is_name = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_err();
    let in_dns_step = if is_name {
        GuardedResolver::new(policy.clone())
            .resolve(host.parse().unwrap())
            .await
            .is_err()
    } else {
        literal
    };
    assert_eq!(
        literal || in_dns_step,
        resolved,
        "{url}: the mechanisms differ"
    );
    resolved
}

#[tokio::test]
async fn every_path_gives_the_same_decision_for_every_range_in_every_spelling() {
    let mut cases: Vec<Case> = Vec::new();
    for (ip, refused) in V4 {
        cases.extend(v4_cases(ip.parse().unwrap(), *refused));
    }
    for (ip, refused) in V6 {
        cases.extend(v6_cases(ip.parse().unwrap(), *refused));
    }
    // A name: resolved from /etc/hosts, never by a DNS server.
    cases.push(Case {
        url: "http://localhost:8080/".into(),
        refused: true,
        parses_to: None,
    });

    let plugin = plugin_manifest("\"*\"", false);
    let webhook: Arc<dyn OutboundPolicy> = Arc::new(DispatchConfig::default().outbound_policy());
    let callback: Arc<dyn OutboundPolicy> = Arc::new(HintsConfig::default().callback_policy());
    let mut refused_count = 0;
    for case in &cases {
        let url = reqwest::Url::parse(&case.url).unwrap_or_else(|e| panic!("{}: {e}", case.url));
        if let Some(ip) = case.parses_to {
            assert_eq!(
                url.host_str(),
                Some(ip.to_string().as_str()),
                "{} is a spelling of {ip}",
                case.url
            );
        }
        let by_plugin = GuardedHttpPolicy.check(&plugin, &url).await.is_err();
        let by_webhook = client_guard_refuses(webhook.clone(), &url).await;
        let by_callback = client_guard_refuses(callback.clone(), &url).await;
        assert_eq!(
            (by_plugin, by_webhook, by_callback),
            (case.refused, case.refused, case.refused),
            "{}: (plugin, webhook, callback) refused",
            case.url
        );
        refused_count += usize::from(case.refused);
    }
    assert!(cases.len() > 1000, "{} cases", cases.len());
    assert!(
        refused_count > cases.len() / 2 && refused_count < cases.len(),
        "{refused_count} of {} refused",
        cases.len()
    );
}

#[tokio::test]
async fn each_path_opts_in_only_through_its_own_setting() {
    let loopback = reqwest::Url::parse("http://0x7f.1:8080/").unwrap();
    let metadata = reqwest::Url::parse("http://[::ffff:a9fe:a9fe]/").unwrap();
    let dispatch = DispatchConfig {
        allowed_cidrs: vec!["127.0.0.0/8".parse().unwrap()],
        ..Default::default()
    };
    let hints = HintsConfig {
        callback_allowed_cidrs: vec!["127.0.0.0/8".parse().unwrap()],
        ..Default::default()
    };
    for policy in [
        Arc::new(dispatch.outbound_policy()) as Arc<dyn OutboundPolicy>,
        Arc::new(hints.callback_policy()),
    ] {
        assert!(!client_guard_refuses(policy.clone(), &loopback).await);
        assert!(client_guard_refuses(policy.clone(), &metadata).await);
    }
    // Each path's refusal names the setting that would admit the address.
    let refusal = guard_url(&DispatchConfig::default().outbound_policy(), &loopback).unwrap_err();
    assert!(refusal.to_string().contains("[dispatch] allowed_cidrs"));
    let refusal = guard_url(&HintsConfig::default().callback_policy(), &loopback).unwrap_err();
    assert!(
        refusal
            .to_string()
            .contains("[hints] callback_allowed_cidrs")
    );
    let denied = GuardedHttpPolicy
        .check(&plugin_manifest("\"*\"", false), &loopback)
        .await
        .unwrap_err();
    assert!(
        denied.to_string().contains("allow_private_network"),
        "{denied}"
    );
    let opted_in = plugin_manifest("\"*\"", true);
    assert!(GuardedHttpPolicy.check(&opted_in, &loopback).await.is_ok());
    assert!(GuardedHttpPolicy.check(&opted_in, &metadata).await.is_ok());
    let unspecified = reqwest::Url::parse("http://0.0.0.0/").unwrap();
    assert!(
        GuardedHttpPolicy
            .check(&opted_in, &unspecified)
            .await
            .is_err(),
        "the plugin opt-in never admits the unspecified address"
    );
}

/// A loopback HTTP server answering `200 ok`, counting the connections it accepts.
fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    (port, accepted)
}

/// What the hostile plugin's `http` probe reports: `status:<code>` or `error:<kind>:<why>`.
async fn probe(registry: &Registry, name: &str) -> String {
    let hints = registry
        .suggest(name, hint_request("acme", "x"))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    hints[0].text.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_cannot_reach_what_the_webhook_guard_refuses_in_any_spelling() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let (port, accepted) = counting_listener();
    // Only spellings that land on this host if a guard let them through: a failing guard
    // reaches the listener, never another machine.
    let spellings = [
        ("plain", format!("http://127.0.0.1:{port}/")),
        ("decimal", format!("http://2130706433:{port}/")),
        ("hex-octets", format!("http://0x7f.0.0.1:{port}/")),
        ("hex", format!("http://0x7f000001:{port}/")),
        ("octal", format!("http://0177.0.0.1:{port}/")),
        ("short", format!("http://127.1:{port}/")),
        ("percent", format!("http://%31%32%37.0.0.1:{port}/")),
        ("trailing-dot", format!("http://127.0.0.1.:{port}/")),
        ("mapped-hex", format!("http://[::ffff:7f00:1]:{port}/")),
        ("mapped", format!("http://[::ffff:127.0.0.1]:{port}/")),
        ("v6-loopback", format!("http://[::1]:{port}/")),
        ("unspecified", format!("http://0.0.0.0:{port}/")),
        ("zero", format!("http://0:{port}/")),
        ("localhost", format!("http://localhost:{port}/")),
    ];
    let http = "timeout_ms = 5000\ncapabilities = [\"config\", \"http\"]\nallowed_hosts = [\"*\"]";
    for (name, url) in &spellings {
        install_hostile(&plugins, name, "http", http, &format!("url = \"{url}\""));
    }
    // The control: the same kind of spelling, opted in, does reach the listener.
    install_hostile(
        &plugins,
        "opted-in",
        "http",
        &format!("{http}\nallow_private_network = true"),
        &format!("url = \"http://0x7f.1:{port}/\""),
    );
    let config = PluginsConfig {
        dir: Some(plugins.clone()),
        cache_dir: tmp.path().join("cache"),
        hot_reload: false,
        breaker_failures: 0,
        ..PluginsConfig::default()
    };
    let registry = Registry::load(&config, sqlite_store(tmp.path()).await)
        .await
        .unwrap();

    let webhook = Arc::new(DispatchConfig::default().outbound_policy());
    for (name, url) in &spellings {
        let parsed = reqwest::Url::parse(url).unwrap();
        assert!(
            client_guard_refuses(webhook.clone(), &parsed).await,
            "{url}: the webhook guard refuses it"
        );
        let answer = probe(&registry, name).await;
        assert!(
            answer.starts_with("error:denied:") && answer.contains("SSRF"),
            "{name} ({url}): {answer}"
        );
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "no refused spelling reached the listener"
    );
    assert_eq!(probe(&registry, "opted-in").await, "status:200");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}
