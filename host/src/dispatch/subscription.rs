//! What the subscriptions API accepts, and its validation: every bad input gets the field
//! and the reason, and nothing is stored unless all of it is valid.

use super::catalog::{EventFilter, valid_patterns};
use crate::core::outbound::{OutboundPolicy, check_host};
use serde::{Deserialize, Deserializer};
use utoipa::openapi::SchemaFormat;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};

/// Longest webhook name.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest URL.
pub const MAX_URL_BYTES: usize = 2048;
/// Most event patterns per webhook.
pub const MAX_EVENTS: usize = 100;
/// Longest account id.
pub const MAX_ACCOUNT_CHARS: usize = 200;

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Display name.
    #[schema(required = true, schema_with = name_schema)]
    pub name: Option<String>,
    /// Target URL (http or https).
    #[schema(required = true, schema_with = url_schema)]
    pub url: Option<String>,
    /// Event patterns (`GET /api/v1/webhooks/events`).
    #[schema(required = true, schema_with = events_schema)]
    pub events: Option<Vec<String>>,
    /// Only this account's events (all accounts when absent).
    pub account: Option<String>,
}

/// `PUT /api/v1/webhooks/{id}`: every field optional; `"url": null` deletes the webhook.
#[derive(Debug, Clone, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    /// New name.
    pub name: Option<String>,
    /// Absent: unchanged; `null`: delete the webhook; a string: new URL.
    #[serde(default, deserialize_with = "present")]
    pub url: Option<Option<String>>,
    /// New event patterns.
    pub events: Option<Vec<String>>,
    /// `active` re-enables a disabled webhook; `disabled` switches it off.
    pub status: Option<String>,
    /// Accepted only when equal to the current account (it cannot change).
    pub account: Option<String>,
}

/// What [`validate_name`] accepts: a non-blank name without control characters.
fn name_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(MAX_NAME_CHARS))
        .pattern(Some(
            "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$",
        ))
        .description(Some(format!("Display name, at most {MAX_NAME_CHARS} characters")))
}

/// What [`validate_url`] accepts: an http(s) URL naming a host, without credentials or
/// fragment.
fn url_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("uri".into())))
        .max_length(Some(MAX_URL_BYTES))
        .pattern(Some("^https?://[^\\s/?#@]+([/?][^\\s#]*)?$"))
        .description(Some(
            "Target URL, http or https (a warning says when it is http)",
        ))
}

/// What [`validate_events`] accepts: names and patterns of the catalog.
fn events_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(valid_patterns())),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_EVENTS))
        .description(Some("Event names or patterns; `*` is every event"))
}

/// Tells a present `null` from an absent field.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A rejected input: which field and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The offending field.
    pub field: &'static str,
    /// Why.
    pub message: String,
    /// For unknown event names: every valid one.
    pub valid_events: Option<Vec<String>>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
        valid_events: None,
    }
}

/// Checks a name.
pub fn validate_name(name: Option<&str>) -> Result<String, Invalid> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("name", "is required"))?;
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("name", "must not contain control characters"));
    }
    Ok(name.to_string())
}

/// Checks a URL; returns it with the warnings to show (plain http, a host the outbound policy
/// will refuse).
pub fn validate_url(
    url: Option<&str>,
    policy: &dyn OutboundPolicy,
) -> Result<(String, Vec<String>), Invalid> {
    let text = url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid("url", "is required"))?;
    if text.len() > MAX_URL_BYTES {
        return Err(invalid(
            "url",
            format!("must be at most {MAX_URL_BYTES} bytes"),
        ));
    }
    let parsed = reqwest::Url::parse(text)
        .map_err(|e| invalid("url", format!("is not a valid URL: {e}")))?;
    // Normalising percent-encodes what the text wrote raw (a space becomes `%20`, a
    // non-ASCII character up to 12 bytes), so the URL kept can outgrow the text checked.
    if parsed.as_str().len() > MAX_URL_BYTES {
        return Err(invalid(
            "url",
            format!("must be at most {MAX_URL_BYTES} bytes once percent-encoded"),
        ));
    }
    let mut warnings = Vec::new();
    match parsed.scheme() {
        "https" => {}
        "http" => warnings.push(
            "url uses http: deliveries are not encrypted in transit; https is recommended"
                .to_string(),
        ),
        other => {
            return Err(invalid(
                "url",
                format!("scheme must be http or https, not `{other}`"),
            ));
        }
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("url", "must name a host"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "url",
            "must not contain credentials; authenticate deliveries by their signature",
        ));
    }
    if parsed.fragment().is_some() {
        return Err(invalid("url", "must not contain a fragment (#...)"));
    }
    if let Err(refusal) = check_host(policy, host) {
        warnings.push(format!("deliveries to this URL will be refused: {refusal}"));
    }
    Ok((parsed.to_string(), warnings))
}

/// Checks event patterns against the catalog; duplicates are dropped, order kept.
pub fn validate_events(events: Option<&[String]>) -> Result<Vec<String>, Invalid> {
    let events = events.ok_or_else(|| invalid("events", "is required: a list of event names"))?;
    if events.is_empty() {
        return Err(invalid("events", "must name at least one event (or \"*\")"));
    }
    if events.len() > MAX_EVENTS {
        return Err(invalid("events", format!("at most {MAX_EVENTS} entries")));
    }
    if let Err(unknown) = EventFilter::parse(events) {
        let shown: String = unknown.pattern.chars().take(100).collect();
        return Err(Invalid {
            field: "events",
            message: format!("unknown event `{shown}`"),
            valid_events: Some(valid_patterns()),
        });
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for e in events {
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

/// Checks an account id.
pub fn validate_account(account: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(a) = account else { return Ok(None) };
    let a = a.trim();
    if a.is_empty()
        || a.chars().count() > MAX_ACCOUNT_CHARS
        || a.chars().any(char::is_control)
        || a == "*"
    {
        return Err(invalid(
            "account",
            format!(
                "must be 1 to {MAX_ACCOUNT_CHARS} printable characters (omit it for every account)"
            ),
        ));
    }
    Ok(Some(a.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let p = crate::dispatch::DispatchConfig::default().outbound_policy();
        assert!(
            validate_url(Some("https://example.com/hook"), &p)
                .unwrap()
                .1
                .is_empty()
        );
        let (_, w) = validate_url(Some("http://example.com/hook"), &p).unwrap();
        assert!(w[0].contains("https is recommended"));
        let (_, w) = validate_url(Some("https://127.0.0.1/x"), &p).unwrap();
        assert!(w[0].contains("refused"));
        for bad in [
            None,
            Some(""),
            Some("ftp://x/y"),
            Some("not a url"),
            Some("https://u:p@example.com/"),
            Some("http://"),
            Some("mailto:a@b.c"),
        ] {
            assert_eq!(validate_url(bad, &p).unwrap_err().field, "url", "{bad:?}");
        }
    }

    #[test]
    fn events_and_names() {
        assert_eq!(
            validate_events(Some(&["inbox".into(), "inbox".into(), "*".into()])).unwrap(),
            vec!["inbox", "*"]
        );
        let e = validate_events(Some(&["nope".into()])).unwrap_err();
        assert!(e.valid_events.unwrap().contains(&"inbox".to_string()));
        assert!(validate_events(Some(&[])).is_err());
        assert!(validate_events(None).is_err());
        assert!(validate_name(Some("  ")).is_err());
        assert!(validate_name(Some("a\nb")).is_err());
        assert_eq!(validate_name(Some(" CRM ")).unwrap(), "CRM");
        assert!(validate_account(Some("*")).is_err());
    }

    #[test]
    fn put_tells_null_url_from_absent() {
        let u: UpdateWebhook = serde_json::from_str(r#"{"url":null}"#).unwrap();
        assert_eq!(u.url, Some(None));
        let u: UpdateWebhook = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert_eq!(u.url, None);
        assert!(serde_json::from_str::<UpdateWebhook>(r#"{"nme":"x"}"#).is_err());
    }
}
