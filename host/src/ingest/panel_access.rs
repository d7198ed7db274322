//! Who may open the hint panel for which account: the `panel_token` of each source/account,
//! the Chatwoot account numbers mapped to hintd accounts, and the origins allowed to frame
//! the panel. Pure functions of [`SourcesConfig`], so the rules are tested without a server.

use super::config::{DEFAULT_ACCOUNT, SourceConfig, SourcesConfig};
use crate::core::Source;
use sha2::{Digest, Sha256};

/// Shortest panel token accepted: it travels in a URL an operator's browser holds, so it must
/// not be guessable.
pub const MIN_PANEL_TOKEN_LEN: usize = 16;

/// The account a panel request names, before the token is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct PanelTarget<'a> {
    /// The platform.
    pub source: Option<Source>,
    /// The hintd account, when the URL names it.
    pub account: Option<&'a str>,
    /// Chatwoot's numeric account id, when the dashboard app said it.
    pub chatwoot_account_id: Option<u64>,
}

/// Why a panel request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PanelAccessError {
    /// No token was sent.
    #[error("missing panel token: open the panel with `?token=<panel_token>`")]
    MissingToken,
    /// The token is no account's panel token.
    #[error("invalid panel token")]
    InvalidToken,
    /// The request names no platform, or one hintd does not know.
    #[error("`source` must name an enabled platform (chat2desk, chatwoot or whazing)")]
    NoSource,
    /// The token is valid, but not for the account asked for.
    #[error("this panel token does not give access to account `{account}` of {platform}")]
    Forbidden {
        /// The platform asked for.
        platform: Source,
        /// The account asked for.
        account: String,
    },
    /// Chatwoot's account number maps to no hintd account, or to another than the URL's.
    #[error(
        "Chatwoot account {0} is not this panel's: set `chatwoot_account_id` of the hintd account"
    )]
    ChatwootAccount(u64),
}

impl PanelAccessError {
    /// Whether the caller failed to authenticate (401) rather than asked for something its
    /// token does not cover (403).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(
            self,
            PanelAccessError::MissingToken | PanelAccessError::InvalidToken
        )
    }
}

/// Each enabled (source, account) with its effective panel token.
fn panel_tokens(sources: &SourcesConfig) -> Vec<(Source, &str, &str)> {
    let mut out = Vec::new();
    for source in Source::PLATFORMS {
        let Some(cfg) = sources.source(source).filter(|c| c.enabled) else {
            continue;
        };
        if cfg.accounts.is_empty() {
            if let Some(t) = cfg.panel_token.as_deref() {
                out.push((source, DEFAULT_ACCOUNT, t));
            }
            continue;
        }
        for (name, acc) in &cfg.accounts {
            if let Some(t) = acc.panel_token.as_deref().or(cfg.panel_token.as_deref()) {
                out.push((source, name.as_str(), t));
            }
        }
    }
    out
}

/// Compares digests, so that neither the contents nor the length of a token leak through
/// the comparison's timing.
fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The hintd account of a Chatwoot account number.
fn chatwoot_account(cfg: &SourceConfig, number: u64) -> Option<&str> {
    if cfg.accounts.is_empty() {
        return (cfg.chatwoot_account_id == Some(number)).then_some(DEFAULT_ACCOUNT);
    }
    cfg.accounts
        .iter()
        .find(|(_, a)| a.chatwoot_account_id == Some(number))
        .map(|(name, _)| name.as_str())
}

/// Checks `token` for `target` and returns the (source, account) it may read. A token that
/// is no account's panel token is unauthenticated; a valid token asked for another account
/// is forbidden. Every configured token is compared, so timing does not tell which matched.
pub fn authorize(
    sources: &SourcesConfig,
    token: Option<&str>,
    target: PanelTarget<'_>,
) -> Result<(Source, String), PanelAccessError> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(PanelAccessError::MissingToken)?;
    let granted: Vec<(Source, &str)> = panel_tokens(sources)
        .into_iter()
        .filter(|(_, _, t)| same_token(t, token))
        .map(|(s, a, _)| (s, a))
        .collect();
    if granted.is_empty() {
        return Err(PanelAccessError::InvalidToken);
    }
    let source = target.source.ok_or(PanelAccessError::NoSource)?;
    let cfg = sources
        .source(source)
        .filter(|c| c.enabled)
        .ok_or(PanelAccessError::NoSource)?;
    let account = match (source, target.chatwoot_account_id) {
        (Source::Chatwoot, Some(number)) => {
            let mapped =
                chatwoot_account(cfg, number).ok_or(PanelAccessError::ChatwootAccount(number))?;
            if target.account.is_some_and(|a| a != mapped) {
                return Err(PanelAccessError::ChatwootAccount(number));
            }
            mapped.to_string()
        }
        _ => match target.account {
            Some(a) => a.to_string(),
            // The URL may leave the account out when the token opens one account only.
            None => {
                let mine: Vec<&str> = granted
                    .iter()
                    .filter(|(s, _)| *s == source)
                    .map(|(_, a)| *a)
                    .collect();
                match mine.as_slice() {
                    [only] => only.to_string(),
                    _ => DEFAULT_ACCOUNT.to_string(),
                }
            }
        },
    };
    if granted.iter().any(|(s, a)| *s == source && *a == account) {
        Ok((source, account))
    } else {
        Err(PanelAccessError::Forbidden {
            platform: source,
            account,
        })
    }
}

/// The origins that may frame the panel of `source`/`account`: that account's (falling back
/// to its platform's), or, when the page does not say which, every configured one.
pub fn frame_ancestors<'a>(
    sources: &'a SourcesConfig,
    source: Option<Source>,
    account: Option<&str>,
) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for s in Source::PLATFORMS {
        if source.is_some_and(|wanted| wanted != s) {
            continue;
        }
        let Some(cfg) = sources.source(s).filter(|c| c.enabled) else {
            continue;
        };
        let mut add = |list: &'a [String]| {
            for origin in list {
                if !out.contains(&origin.as_str()) {
                    out.push(origin);
                }
            }
        };
        match account.and_then(|a| cfg.accounts.get(a)) {
            Some(acc) if !acc.panel_frame_ancestors.is_empty() => add(&acc.panel_frame_ancestors),
            Some(_) => add(&cfg.panel_frame_ancestors),
            None => {
                add(&cfg.panel_frame_ancestors);
                for acc in cfg.accounts.values() {
                    add(&acc.panel_frame_ancestors);
                }
            }
        }
    }
    out
}

/// Checks one platform's panel settings: tokens long enough, origins that cannot break out
/// of the CSP header, Chatwoot account numbers that map to one account each.
pub(super) fn validate(source: Source, cfg: &SourceConfig) -> Result<(), String> {
    let tokens = std::iter::once((format!("sources.{source}"), cfg.panel_token.as_deref())).chain(
        cfg.accounts.iter().map(|(name, a)| {
            (
                format!("sources.{source}.accounts.{name}"),
                a.panel_token.as_deref(),
            )
        }),
    );
    for (key, token) in tokens {
        if token.is_some_and(|t| t.trim().chars().count() < MIN_PANEL_TOKEN_LEN) {
            return Err(format!(
                "{key}.panel_token must be at least {MIN_PANEL_TOKEN_LEN} characters"
            ));
        }
    }
    let origins = cfg
        .panel_frame_ancestors
        .iter()
        .chain(cfg.accounts.values().flat_map(|a| &a.panel_frame_ancestors));
    for origin in origins {
        check_origin(origin)
            .map_err(|why| format!("sources.{source}.panel_frame_ancestors: `{origin}` {why}"))?;
    }
    let numbers: Vec<u64> = cfg
        .chatwoot_account_id
        .iter()
        .chain(
            cfg.accounts
                .values()
                .filter_map(|a| a.chatwoot_account_id.as_ref()),
        )
        .copied()
        .collect();
    if !numbers.is_empty() && source != Source::Chatwoot {
        return Err(format!(
            "sources.{source}: chatwoot_account_id applies to sources.chatwoot only"
        ));
    }
    if !cfg.accounts.is_empty() && cfg.chatwoot_account_id.is_some() {
        return Err(format!(
            "sources.{source}.chatwoot_account_id: with accounts, set it on each account"
        ));
    }
    for (i, n) in numbers.iter().enumerate() {
        if numbers[..i].contains(n) {
            return Err(format!(
                "sources.{source}: chatwoot_account_id {n} is set on two accounts"
            ));
        }
    }
    Ok(())
}

/// An origin as CSP takes it: `'self'`, or `http(s)://host[:port]` with nothing after.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "'self'" {
        return Ok(());
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    let fine = |c: char| c.is_ascii_alphanumeric() || "-.:[]*".contains(c);
    if rest.is_empty() || !rest.chars().all(fine) {
        return Err("must be an origin: scheme, host and optional port, no path");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SourcesConfig {
        let c: SourcesConfig = toml::from_str(text).unwrap();
        c.validate().unwrap();
        c
    }

    const SHOP: &str = "shop-panel-token-0001";
    const BANK: &str = "bank-panel-token-0002";

    fn two_accounts() -> SourcesConfig {
        parse(&format!(
            "[chatwoot]\nsecret = \"s\"\npanel_frame_ancestors = [\"https://cw.example.com\"]\n\
             [chatwoot.accounts.shop]\npanel_token = \"{SHOP}\"\nchatwoot_account_id = 1\n\
             [chatwoot.accounts.bank]\npanel_token = \"{BANK}\"\nchatwoot_account_id = 2\n\
             panel_frame_ancestors = [\"https://bank.example.com:8443\"]\n\
             [whazing]\npanel_token = \"whazing-panel-token-3\"\n"
        ))
    }

    fn target(source: Source, account: Option<&str>, number: Option<u64>) -> PanelTarget<'_> {
        PanelTarget {
            source: Some(source),
            account,
            chatwoot_account_id: number,
        }
    }

    #[test]
    fn a_token_opens_its_own_account_only() {
        let c = two_accounts();
        let shop = target(Source::Chatwoot, Some("shop"), None);
        assert_eq!(
            authorize(&c, Some(SHOP), shop).unwrap(),
            (Source::Chatwoot, "shop".to_string())
        );
        assert_eq!(
            authorize(&c, Some(BANK), shop),
            Err(PanelAccessError::Forbidden {
                platform: Source::Chatwoot,
                account: "shop".into()
            })
        );
        let err = authorize(&c, Some("nope-nope-nope-nope"), shop).unwrap_err();
        assert!(err.is_unauthenticated());
        assert!(authorize(&c, None, shop).unwrap_err().is_unauthenticated());
        assert!(
            !authorize(&c, Some(BANK), shop)
                .unwrap_err()
                .is_unauthenticated()
        );
        // The whazing token does not open a Chatwoot account.
        assert!(matches!(
            authorize(&c, Some("whazing-panel-token-3"), shop),
            Err(PanelAccessError::Forbidden { .. })
        ));
    }

    #[test]
    fn chatwoot_numbers_map_to_accounts() {
        let c = two_accounts();
        assert_eq!(
            authorize(&c, Some(BANK), target(Source::Chatwoot, None, Some(2)))
                .unwrap()
                .1,
            "bank"
        );
        // Account 1 is the shop's: the bank's token does not open it.
        assert!(matches!(
            authorize(&c, Some(BANK), target(Source::Chatwoot, None, Some(1))),
            Err(PanelAccessError::Forbidden { .. })
        ));
        assert_eq!(
            authorize(&c, Some(BANK), target(Source::Chatwoot, None, Some(9))),
            Err(PanelAccessError::ChatwootAccount(9))
        );
        // The URL's account and Chatwoot's number must agree.
        assert_eq!(
            authorize(
                &c,
                Some(BANK),
                target(Source::Chatwoot, Some("bank"), Some(1))
            ),
            Err(PanelAccessError::ChatwootAccount(1))
        );
        // Without an account in the URL, a token of one account opens that one.
        assert_eq!(
            authorize(&c, Some(SHOP), target(Source::Chatwoot, None, None))
                .unwrap()
                .1,
            "shop"
        );
    }

    #[test]
    fn frame_ancestors_per_account() {
        let c = two_accounts();
        assert_eq!(
            frame_ancestors(&c, Some(Source::Chatwoot), Some("shop")),
            ["https://cw.example.com"]
        );
        assert_eq!(
            frame_ancestors(&c, Some(Source::Chatwoot), Some("bank")),
            ["https://bank.example.com:8443"]
        );
        assert_eq!(
            frame_ancestors(&c, None, None),
            ["https://cw.example.com", "https://bank.example.com:8443"]
        );
        assert!(frame_ancestors(&c, Some(Source::Whazing), None).is_empty());
    }

    #[test]
    fn validation_names_the_key() {
        let bad = |text: &str| {
            toml::from_str::<SourcesConfig>(text)
                .unwrap()
                .validate()
                .unwrap_err()
        };
        assert!(
            bad("[whazing]\npanel_token = \"short\"\n").contains("sources.whazing.panel_token")
        );
        assert!(
            bad("[chatwoot]\npanel_frame_ancestors = [\"https://a.example; script-src *\"]\n")
                .contains("panel_frame_ancestors")
        );
        assert!(
            bad("[chatwoot]\npanel_frame_ancestors = [\"https://a.example/path\"]\n")
                .contains("no path")
        );
        assert!(
            bad("[chatwoot.accounts.a]\nchatwoot_account_id = 1\n[chatwoot.accounts.b]\nchatwoot_account_id = 1\n")
                .contains("two accounts")
        );
        assert!(bad("[whazing]\nchatwoot_account_id = 1\n").contains("sources.chatwoot only"));
    }

    #[test]
    fn panel_tokens_come_from_the_environment_too() {
        let c = crate::config::Config::load(
            None,
            vec![
                ("HINTD__SOURCES__CHATWOOT__SECRET".into(), "s".into()),
                (
                    "HINTD__SOURCES__CHATWOOT__ACCOUNTS__SHOP__PANEL_TOKEN".into(),
                    SHOP.into(),
                ),
            ],
            &[],
        )
        .unwrap();
        assert!(
            authorize(
                &c.sources,
                Some(SHOP),
                target(Source::Chatwoot, Some("shop"), None)
            )
            .is_ok()
        );
    }
}
