//! `[sources]`: which platforms are enabled, their secrets and accounts.
//!
//! ```toml
//! [sources.chat2desk]
//! token = "long-random-token"          # ?token= or Authorization: Bearer
//! delivery = "inline"                  # hint replies: inline | callback | both
//!
//! [sources.chatwoot]
//! secret = "hmac-secret"               # X-Chatwoot-Signature
//! [sources.chatwoot.accounts.shop]     # POST /webhooks/chatwoot/shop
//! secret = "another-secret"
//! panel_token = "long-random-token"    # GET /panel?source=chatwoot&account=shop&token=...
//! panel_frame_ancestors = ["https://chatwoot.example.com"]
//! chatwoot_account_id = 1              # Chatwoot's numeric account id of this account
//! delivery = "note"                    # hints as one private note per client message
//! chatwoot_base_url = "https://chatwoot.example.com"
//! api_access_token = "agent-or-bot-token"   # Chatwoot's Application API token
//! ```

use crate::core::Source;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The account a source uses when it has none configured.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Per-platform webhook settings. A platform without a table is disabled (its endpoint
/// answers 404).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SourcesConfig {
    /// `[sources.chat2desk]`.
    pub chat2desk: Option<SourceConfig>,
    /// `[sources.chatwoot]`.
    pub chatwoot: Option<SourceConfig>,
    /// `[sources.whazing]`.
    pub whazing: Option<SourceConfig>,
}

/// One platform's endpoint.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// Whether the endpoint accepts events (default true once the table exists).
    pub enabled: bool,
    /// Shared token, accepted as `?token=` or `Authorization: Bearer`.
    pub token: Option<String>,
    /// Chatwoot's HMAC secret for `X-Chatwoot-Signature`.
    pub secret: Option<String>,
    /// How hint replies reach the platform.
    pub delivery: Delivery,
    /// Where hint replies are POSTed in `callback`/`both` delivery.
    pub callback_url: Option<String>,
    /// Named accounts (tenants). Empty: the single account `default`.
    pub accounts: BTreeMap<String, AccountConfig>,
    /// Token of the hint panel (`/panel`) for this platform's accounts: it lets a browser
    /// read one account's hints and record its choices, nothing else.
    pub panel_token: Option<String>,
    /// Origins allowed to embed the panel in a frame (CSP `frame-ancestors`).
    pub panel_frame_ancestors: Vec<String>,
    /// Chatwoot's numeric account id of the `default` account (Chatwoot's dashboard app
    /// names its account by number).
    pub chatwoot_account_id: Option<u64>,
    /// Chatwoot's base URL, where `delivery = "note"` posts private notes.
    pub chatwoot_base_url: Option<String>,
    /// Chatwoot Application API token (`api_access_token` header) for private notes.
    pub api_access_token: Option<String>,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            enabled: true,
            token: None,
            secret: None,
            delivery: Delivery::Inline,
            callback_url: None,
            accounts: BTreeMap::new(),
            panel_token: None,
            panel_frame_ancestors: Vec::new(),
            chatwoot_account_id: None,
            chatwoot_base_url: None,
            api_access_token: None,
        }
    }
}

impl std::fmt::Debug for SourceConfig {
    // Secrets never reach logs, not even through `{:?}` of the whole config.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceConfig")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("delivery", &self.delivery)
            .field("callback_url", &self.callback_url)
            .field("accounts", &self.accounts)
            .field("panel_token", &self.panel_token.as_ref().map(|_| "***"))
            .field("panel_frame_ancestors", &self.panel_frame_ancestors)
            .field("chatwoot_account_id", &self.chatwoot_account_id)
            .field("chatwoot_base_url", &self.chatwoot_base_url)
            .field(
                "api_access_token",
                &self.api_access_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// One account of a platform; unset fields fall back to the platform's.
#[derive(Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AccountConfig {
    /// Token for this account only.
    pub token: Option<String>,
    /// HMAC secret for this account only.
    pub secret: Option<String>,
    /// Delivery mode for this account.
    pub delivery: Option<Delivery>,
    /// Callback URL for this account.
    pub callback_url: Option<String>,
    /// Hint panel token for this account only.
    pub panel_token: Option<String>,
    /// Origins allowed to embed this account's panel; empty: the platform's.
    pub panel_frame_ancestors: Vec<String>,
    /// Chatwoot's numeric id of this account.
    pub chatwoot_account_id: Option<u64>,
    /// Chatwoot's base URL for this account's private notes.
    pub chatwoot_base_url: Option<String>,
    /// Chatwoot Application API token for this account's private notes.
    pub api_access_token: Option<String>,
}

impl std::fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountConfig")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("delivery", &self.delivery)
            .field("callback_url", &self.callback_url)
            .field("panel_token", &self.panel_token.as_ref().map(|_| "***"))
            .field("panel_frame_ancestors", &self.panel_frame_ancestors)
            .field("chatwoot_account_id", &self.chatwoot_account_id)
            .field("chatwoot_base_url", &self.chatwoot_base_url)
            .field(
                "api_access_token",
                &self.api_access_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// How the reply to a platform's hints request is delivered.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// In the HTTP response to the webhook.
    #[default]
    Inline,
    /// `202` at once, then a signed POST to `callback_url`.
    Callback,
    /// Both.
    Both,
    /// A private note posted into the Chatwoot conversation (Chatwoot only): on each new
    /// client message, debounced, and for each hints request.
    Note,
}

impl Delivery {
    /// The name used in the configuration and in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Inline => "inline",
            Delivery::Callback => "callback",
            Delivery::Both => "both",
            Delivery::Note => "note",
        }
    }
}

/// Where and how private notes of one Chatwoot account are posted (`delivery = "note"`).
#[derive(Clone)]
pub struct ChatwootApi {
    /// Chatwoot's base URL, without a trailing slash.
    pub base_url: String,
    /// Chatwoot's numeric account id.
    pub account_id: u64,
    /// The Application API token.
    pub access_token: String,
}

impl std::fmt::Debug for ChatwootApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatwootApi")
            .field("base_url", &self.base_url)
            .field("account_id", &self.account_id)
            .field("access_token", &"***")
            .finish()
    }
}

/// The effective settings of one (source, account) after fallbacks.
#[derive(Clone, Copy)]
pub struct AccountSettings<'a> {
    /// The account name.
    pub account: &'a str,
    /// Token accepted for it, if any.
    pub token: Option<&'a str>,
    /// HMAC secret, if any.
    pub secret: Option<&'a str>,
    /// Hint reply delivery.
    pub delivery: Delivery,
    /// Callback URL.
    pub callback_url: Option<&'a str>,
}

impl AccountSettings<'_> {
    /// Whether any credential is configured (without one, the endpoint is open).
    pub fn requires_auth(&self) -> bool {
        self.token.is_some() || self.secret.is_some()
    }
}

/// Why a (source, account) pair has no endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountLookupError {
    /// The platform has no `[sources.<name>]` table or `enabled = false`.
    #[error("source `{0}` is not enabled (add [sources.{0}] to the configuration)")]
    SourceDisabled(Source),
    /// The account is not configured for the platform.
    #[error("account `{account}` is not configured for source `{platform}`")]
    UnknownAccount {
        /// The platform.
        platform: Source,
        /// The account asked for.
        account: String,
    },
}

impl SourcesConfig {
    /// The table of a platform, if configured.
    pub fn source(&self, source: Source) -> Option<&SourceConfig> {
        match source {
            Source::Chat2desk => self.chat2desk.as_ref(),
            Source::Chatwoot => self.chatwoot.as_ref(),
            Source::Whazing => self.whazing.as_ref(),
            Source::Api => None,
        }
    }

    /// The effective settings of `account` (the path segment; `None` for the account-less
    /// endpoint) of `source`. A source without accounts serves only `default`; a source with
    /// accounts serves those, and the account-less endpoint only when one named `default`
    /// exists.
    pub fn account(
        &self,
        source: Source,
        account: Option<&str>,
    ) -> Result<AccountSettings<'_>, AccountLookupError> {
        let cfg = self
            .source(source)
            .filter(|c| c.enabled)
            .ok_or(AccountLookupError::SourceDisabled(source))?;
        let name = account.unwrap_or(DEFAULT_ACCOUNT);
        let unknown = || AccountLookupError::UnknownAccount {
            platform: source,
            account: name.to_string(),
        };
        if cfg.accounts.is_empty() {
            if name != DEFAULT_ACCOUNT {
                return Err(unknown());
            }
            return Ok(AccountSettings {
                account: DEFAULT_ACCOUNT,
                token: cfg.token.as_deref(),
                secret: cfg.secret.as_deref(),
                delivery: cfg.delivery,
                callback_url: cfg.callback_url.as_deref(),
            });
        }
        let (key, acc) = cfg.accounts.get_key_value(name).ok_or_else(unknown)?;
        Ok(AccountSettings {
            account: key.as_str(),
            token: acc.token.as_deref().or(cfg.token.as_deref()),
            secret: acc.secret.as_deref().or(cfg.secret.as_deref()),
            delivery: acc.delivery.unwrap_or(cfg.delivery),
            callback_url: acc.callback_url.as_deref().or(cfg.callback_url.as_deref()),
        })
    }

    /// The Chatwoot Application API settings of `account` when its delivery is `note` and
    /// they are complete (validation guarantees that at start).
    pub fn chatwoot_api(&self, source: Source, account: &str) -> Option<ChatwootApi> {
        let cfg = self.source(source).filter(|c| c.enabled)?;
        let settings = self.account(source, Some(account)).ok()?;
        if source != Source::Chatwoot || settings.delivery != Delivery::Note {
            return None;
        }
        let (base_url, token, number) = if cfg.accounts.is_empty() {
            (
                cfg.chatwoot_base_url.as_deref(),
                cfg.api_access_token.as_deref(),
                cfg.chatwoot_account_id,
            )
        } else {
            let acc = cfg.accounts.get(settings.account)?;
            (
                acc.chatwoot_base_url
                    .as_deref()
                    .or(cfg.chatwoot_base_url.as_deref()),
                acc.api_access_token
                    .as_deref()
                    .or(cfg.api_access_token.as_deref()),
                acc.chatwoot_account_id,
            )
        };
        Some(ChatwootApi {
            base_url: base_url?.trim_end_matches('/').to_string(),
            account_id: number?,
            access_token: token?.to_string(),
        })
    }

    /// Every enabled (source, account) pair without any credential: their endpoints accept
    /// anyone, which the server warns about at start.
    pub fn open_endpoints(&self) -> Vec<(Source, String)> {
        let mut open = Vec::new();
        for source in Source::PLATFORMS {
            let Some(cfg) = self.source(source).filter(|c| c.enabled) else {
                continue;
            };
            let names: Vec<&str> = if cfg.accounts.is_empty() {
                vec![DEFAULT_ACCOUNT]
            } else {
                cfg.accounts.keys().map(String::as_str).collect()
            };
            for name in names {
                if let Ok(s) = self.account(source, Some(name))
                    && !s.requires_auth()
                {
                    open.push((source, name.to_string()));
                }
            }
        }
        open
    }

    /// Checks what serde cannot: account names usable in URLs, callback URLs that parse.
    pub fn validate(&self) -> Result<(), String> {
        for source in Source::PLATFORMS {
            let Some(cfg) = self.source(source) else {
                continue;
            };
            for (name, acc) in &cfg.accounts {
                if name.is_empty()
                    || name.len() > 64
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    return Err(format!(
                        "sources.{source}.accounts: account name `{name}` must be 1-64 characters of A-Z a-z 0-9 - _ ."
                    ));
                }
                check_url(
                    &format!("sources.{source}.accounts.{name}.callback_url"),
                    acc.callback_url.as_deref(),
                )?;
            }
            check_url(
                &format!("sources.{source}.callback_url"),
                cfg.callback_url.as_deref(),
            )?;
            check_url(
                &format!("sources.{source}.chatwoot_base_url"),
                cfg.chatwoot_base_url.as_deref(),
            )?;
            for (name, acc) in &cfg.accounts {
                check_url(
                    &format!("sources.{source}.accounts.{name}.chatwoot_base_url"),
                    acc.chatwoot_base_url.as_deref(),
                )?;
            }
            super::panel_access::validate(source, cfg)?;
            let names: Vec<Option<&str>> = if cfg.accounts.is_empty() {
                vec![None]
            } else {
                cfg.accounts.keys().map(|k| Some(k.as_str())).collect()
            };
            for name in names {
                let Ok(s) = self.account(source, name) else {
                    continue;
                };
                if matches!(s.delivery, Delivery::Callback | Delivery::Both)
                    && s.callback_url.is_none()
                {
                    return Err(format!(
                        "sources.{source}.callback_url is required when delivery is callback or both (account `{}`)",
                        s.account
                    ));
                }
                if s.delivery == Delivery::Note {
                    check_note(self, source, cfg, s.account)?;
                }
            }
        }
        Ok(())
    }
}

/// A `note` delivery needs Chatwoot and its three Application API settings.
fn check_note(
    sources: &SourcesConfig,
    source: Source,
    cfg: &SourceConfig,
    account: &str,
) -> Result<(), String> {
    let key = if cfg.accounts.is_empty() {
        format!("sources.{source}")
    } else {
        format!("sources.{source}.accounts.{account}")
    };
    if source != Source::Chatwoot {
        return Err(format!(
            "{key}.delivery: \"note\" posts Chatwoot private notes and applies to sources.chatwoot only"
        ));
    }
    if sources.chatwoot_api(source, account).is_some() {
        return Ok(());
    }
    let acc = cfg.accounts.get(account);
    let missing = if acc
        .and_then(|a| a.chatwoot_base_url.as_ref())
        .or(cfg.chatwoot_base_url.as_ref())
        .is_none()
    {
        "chatwoot_base_url"
    } else if acc
        .and_then(|a| a.api_access_token.as_ref())
        .or(cfg.api_access_token.as_ref())
        .is_none()
    {
        "api_access_token"
    } else {
        "chatwoot_account_id"
    };
    Err(format!("{key}.{missing} is required when delivery is note"))
}

fn check_url(key: &str, url: Option<&str>) -> Result<(), String> {
    match url {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
            Err(format!("{key}: `{u}` is not an http(s) URL"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> SourcesConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn accounts_fall_back_to_the_source() {
        let c = parse(
            "[chatwoot]\nsecret = \"s\"\ntoken = \"t\"\n[chatwoot.accounts.shop]\ntoken = \"shop-token\"\n[chatwoot.accounts.bank]\n",
        );
        let shop = c.account(Source::Chatwoot, Some("shop")).unwrap();
        assert_eq!(shop.token, Some("shop-token"));
        assert_eq!(shop.secret, Some("s"));
        assert_eq!(
            c.account(Source::Chatwoot, Some("bank")).unwrap().token,
            Some("t")
        );
        assert!(matches!(
            c.account(Source::Chatwoot, None),
            Err(AccountLookupError::UnknownAccount { .. })
        ));
        assert!(matches!(
            c.account(Source::Chat2desk, None),
            Err(AccountLookupError::SourceDisabled(_))
        ));
    }

    #[test]
    fn a_source_without_accounts_serves_default_only() {
        let c = parse("[whazing]\n");
        assert_eq!(c.account(Source::Whazing, None).unwrap().account, "default");
        assert_eq!(
            c.account(Source::Whazing, Some("default")).unwrap().account,
            "default"
        );
        assert!(c.account(Source::Whazing, Some("x")).is_err());
        assert_eq!(
            c.open_endpoints(),
            vec![(Source::Whazing, "default".to_string())]
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = parse("[chat2desk]\ntoken = \"very-secret\"\n");
        assert!(!format!("{c:?}").contains("very-secret"));
        let c = parse(
            "[chatwoot]\npanel_token = \"panel-secret-0123456\"\n[chatwoot.accounts.shop]\npanel_token = \"panel-secret-6543210\"\n",
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("panel-secret"), "{shown}");
    }

    #[test]
    fn validation_names_the_key() {
        let c = parse("[chat2desk]\ndelivery = \"callback\"\n");
        assert!(
            c.validate()
                .unwrap_err()
                .contains("sources.chat2desk.callback_url")
        );
        let c = parse("[chat2desk.accounts.\"a b\"]\n");
        assert!(c.validate().unwrap_err().contains("account name"));
    }

    #[test]
    fn note_delivery_needs_chatwoot_and_its_api_settings() {
        let c = parse("[whazing]\ndelivery = \"note\"\n");
        assert!(
            c.validate()
                .unwrap_err()
                .contains("sources.whazing.delivery")
        );
        let c = parse(
            "[chatwoot]\nchatwoot_base_url = \"http://127.0.0.1:1\"\n[chatwoot.accounts.shop]\ndelivery = \"note\"\nchatwoot_account_id = 3\n",
        );
        assert!(
            c.validate()
                .unwrap_err()
                .contains("sources.chatwoot.accounts.shop.api_access_token"),
        );
        let c = parse(
            "[chatwoot]\nchatwoot_base_url = \"http://127.0.0.1:1/\"\napi_access_token = \"tok-very-secret\"\n[chatwoot.accounts.shop]\ndelivery = \"note\"\nchatwoot_account_id = 3\n[chatwoot.accounts.bank]\n",
        );
        c.validate().unwrap();
        let api = c.chatwoot_api(Source::Chatwoot, "shop").unwrap();
        assert_eq!(
            (api.base_url.as_str(), api.account_id),
            ("http://127.0.0.1:1", 3)
        );
        assert!(c.chatwoot_api(Source::Chatwoot, "bank").is_none());
        assert!(!format!("{c:?} {api:?}").contains("tok-very-secret"));
    }
}
