//! Every event name a webhook can subscribe to, and how a subscription pattern matches an
//! event of the log.
//!
//! Accepted patterns: a platform's own name (`inbox`, `message_created`, `NewTicket`), the
//! same qualified by its source (`chatwoot.message_created`), all events of one source
//! (`chat2desk.*`), hintd's own events (`hints.generated`, `hintd.hints.generated`, `hintd.*`)
//! and `*`. Events the platforms send under names outside this catalog are still relayed to
//! `*` and `<source>.*` subscriptions.

/// The source name of hintd's own events in the event log.
pub const HINTD_SOURCE: &str = "hintd";

/// The platforms' event names are the ones their parsers recognise, so the catalog and ingest
/// can never disagree.
pub use crate::ingest::chat2desk::HOOK_TYPES as CHAT2DESK_EVENTS;
pub use crate::ingest::chatwoot::EVENTS as CHATWOOT_EVENTS;
pub use crate::ingest::whazing::TYPES as WHAZING_EVENTS;

/// hintd's own events (see `envelope` for their schemas).
pub const HINTD_EVENTS: &[&str] = &[
    "hints.generated",
    "hint.selected",
    "plugin.failed",
    "webhook.disabled",
];

/// Names a platform actually sends for a catalog name (Chat2Desk's documentation shows
/// `delete_tag_to_client` as the `hook_type` of `delete_tag_from_client`).
const ALIASES: &[(&str, &str, &str)] = &[(
    "chat2desk",
    "delete_tag_from_client",
    "delete_tag_to_client",
)];

/// Every source with its catalog.
pub const SOURCES: &[(&str, &[&str])] = &[
    ("chat2desk", CHAT2DESK_EVENTS),
    ("chatwoot", CHATWOOT_EVENTS),
    ("whazing", WHAZING_EVENTS),
    (HINTD_SOURCE, HINTD_EVENTS),
];

/// One parsed subscription pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventPattern {
    /// `*`: everything.
    All,
    /// `<source>.*`.
    AllOf {
        /// The source.
        source: &'static str,
    },
    /// One event name, of one source or of every source that has it.
    Named {
        /// `None` when the pattern was not qualified.
        source: Option<&'static str>,
        /// The catalog name.
        name: &'static str,
    },
}

/// A pattern outside the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event `{pattern}`")]
pub struct UnknownEvent {
    /// The pattern as given.
    pub pattern: String,
}

impl EventPattern {
    /// Parses one pattern against the catalog.
    pub fn parse(text: &str) -> Result<EventPattern, UnknownEvent> {
        let unknown = || UnknownEvent {
            pattern: text.to_string(),
        };
        if text == "*" {
            return Ok(EventPattern::All);
        }
        if let Some((prefix, rest)) = text.split_once('.')
            && let Some(&(source, names)) = SOURCES.iter().find(|(s, _)| *s == prefix)
        {
            if rest == "*" {
                return Ok(EventPattern::AllOf { source });
            }
            let name = names.iter().find(|n| **n == rest).ok_or_else(unknown)?;
            return Ok(EventPattern::Named {
                source: Some(source),
                name,
            });
        }
        let mut owners = SOURCES.iter().filter(|(_, names)| names.contains(&text));
        let (_, names) = owners.next().ok_or_else(unknown)?;
        let name = names.iter().find(|n| **n == text).expect("found above");
        Ok(EventPattern::Named { source: None, name })
    }

    /// Whether an event of the log with this source and type is covered.
    pub fn matches(&self, source: &str, event_type: &str) -> bool {
        match self {
            EventPattern::All => true,
            EventPattern::AllOf { source: s } => *s == source,
            EventPattern::Named { source: s, name } => {
                s.is_none_or(|s| s == source)
                    && (*name == event_type || is_alias(source, name, event_type))
            }
        }
    }
}

fn is_alias(source: &str, name: &str, event_type: &str) -> bool {
    ALIASES
        .iter()
        .any(|(s, n, a)| *s == source && *n == name && *a == event_type)
}

/// Every valid pattern, for the error message that lists them.
pub fn valid_patterns() -> Vec<String> {
    let mut out = vec!["*".to_string()];
    for (source, names) in SOURCES {
        out.push(format!("{source}.*"));
        for name in *names {
            out.push(name.to_string());
            out.push(format!("{source}.{name}"));
        }
    }
    out
}

/// A webhook's parsed subscription: matches when any pattern does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter(Vec<EventPattern>);

impl EventFilter {
    /// Parses every pattern; the first unknown one is the error.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<EventFilter, UnknownEvent> {
        patterns
            .iter()
            .map(|p| EventPattern::parse(p.as_ref()))
            .collect::<Result<_, _>>()
            .map(EventFilter)
    }

    /// Whether the event is covered by any pattern.
    pub fn matches(&self, source: &str, event_type: &str) -> bool {
        self.0.iter().any(|p| p.matches(source, event_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_qualified_names() {
        let f =
            EventFilter::parse(&["inbox", "chatwoot.message_created", "hints.generated"]).unwrap();
        assert!(f.matches("chat2desk", "inbox"));
        assert!(!f.matches("chat2desk", "outbox"));
        assert!(f.matches("chatwoot", "message_created"));
        assert!(!f.matches("whazing", "message_created"));
        assert!(f.matches("hintd", "hints.generated"));
        assert!(!f.matches("hintd", "hint.selected"));
    }

    #[test]
    fn wildcards() {
        assert!(
            EventFilter::parse(&["*"])
                .unwrap()
                .matches("chatwoot", "anything_new")
        );
        let f = EventFilter::parse(&["whazing.*", "hintd.*"]).unwrap();
        assert!(f.matches("whazing", "SomethingNew"));
        assert!(f.matches("hintd", "webhook.disabled"));
        assert!(!f.matches("chat2desk", "inbox"));
    }

    #[test]
    fn unknown_names_are_rejected() {
        for bad in [
            "",
            "inbx",
            "chatwoot.inbox",
            "slack.*",
            "hintd.inbox",
            "**",
            "chat2desk.",
        ] {
            assert!(EventPattern::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            EventFilter::parse(&["inbox", "nope"]).unwrap_err().pattern,
            "nope"
        );
    }

    #[test]
    fn documented_alias_matches() {
        let f = EventFilter::parse(&["delete_tag_from_client"]).unwrap();
        assert!(f.matches("chat2desk", "delete_tag_to_client"));
        assert!(f.matches("chat2desk", "delete_tag_from_client"));
    }

    #[test]
    fn lists_every_valid_name() {
        let all = valid_patterns();
        assert!(all.contains(&"chatwoot.message_created".to_string()));
        assert!(all.contains(&"webhook.disabled".to_string()));
        for p in &all {
            assert!(EventPattern::parse(p).is_ok(), "{p}");
        }
    }
}
