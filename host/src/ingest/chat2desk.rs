//! Chat2Desk webhooks: one JSON object per event, discriminated by `hook_type`.
//!
//! Chat2Desk serialises from PHP, so every field may take a quirky form (see
//! [`super::lenient`]). `ai_hints_requested` comes in two forms: a hints request (with
//! `request_id`), and the operator's choice (with `hint_id`); the first form has been seen
//! without `hook_type`, so a body without one that has those fields is recognised by them.

use super::lenient::Fields;
use super::{EventKind, EventMeta, ParseError, Recognised};
use crate::core::{Message, Role};

/// Every `hook_type` Chat2Desk documents (plus the documentation's own misspelling).
pub const HOOK_TYPES: &[&str] = &[
    "inbox",
    "outbox",
    "outbox_status",
    "new_client",
    "add_tag_to_client",
    "add_tag_to_request",
    "delete_tag_from_client",
    "delete_tag_to_client",
    "delete_tag_from_request",
    "client_updated",
    "close_dialog",
    "close_request",
    "dialog_transferred",
    "new_qr_code",
    "ai_hints_requested",
];

/// Reads one Chat2Desk event into `meta` and returns what happened.
pub(crate) fn parse(
    root: Fields<'_>,
    body: &[u8],
    meta: &mut EventMeta,
) -> Result<Recognised, ParseError> {
    let hook_type = match root.text("hook_type")? {
        Some(t) => t,
        None if root.has("hint_id")
            || (root.has("request_id") && root.has("message_id") && !root.has("type")) =>
        {
            "ai_hints_requested".to_string()
        }
        None => return Err(ParseError::missing("hook_type")),
    };
    meta.event_type = hook_type;
    if let Some(t) = root.time_ms("event_time")? {
        meta.occurred_at_ms = t;
    }
    meta.transport = root.id("transport")?;
    meta.channel_id = root.id("channel_id")?;
    meta.operator_id = root.id("operator_id")?;
    meta.dialog_id = root.id("dialog_id")?;
    meta.client_id = root.id("client_id")?;
    let kind = match meta.event_type.as_str() {
        "inbox" | "outbox" => message(root, meta)?,
        "outbox_status" => {
            // A delivery status of an operator's message: no text change, so the context is
            // untouched; the event is kept and relayed.
            let id = root.required_id("id")?;
            let status = root.text("gateway_status")?.unwrap_or_default();
            if let Some(t) = root.time_ms("created")? {
                meta.occurred_at_ms = t;
            }
            meta.dedup_key = Some(format!("outbox_status:{id}:{status}"));
            EventKind::Other
        }
        "new_client" | "client_updated" => {
            meta.client_id = Some(root.required_id("id")?);
            let channels = root.child("channels", "channels")?;
            meta.channel_id = meta.channel_id.take().or(channels.id("id")?);
            if meta.transport.is_none()
                && let Some(first) = channels.list("transports")?.first()
            {
                meta.transport = super::ids::id_of(first)
                    .map_err(|e| ParseError::field("channels.transports", e.to_string()))?;
            }
            EventKind::ClientUpdated
        }
        "add_tag_to_client" | "add_tag_to_request" => EventKind::TagsChanged {
            added: vec![tag_name(root)?],
            removed: vec![],
        },
        "delete_tag_from_client" | "delete_tag_to_client" | "delete_tag_from_request" => {
            EventKind::TagsChanged {
                added: vec![],
                removed: vec![tag_name(root)?],
            }
        }
        "close_dialog" | "close_request" => {
            meta.dialog_id
                .as_ref()
                .ok_or_else(|| ParseError::missing("dialog_id"))?;
            EventKind::DialogClosed
        }
        "dialog_transferred" => {
            meta.dialog_id
                .as_ref()
                .ok_or_else(|| ParseError::missing("dialog_id"))?;
            let to = root
                .id("current_operator_id")?
                .or_else(|| meta.operator_id.clone());
            meta.operator_id = to.clone();
            EventKind::DialogTransferred { to_operator: to }
        }
        "new_qr_code" => EventKind::Other,
        "ai_hints_requested" => hints(root, meta)?,
        _ => {
            meta.dedup_key = Some(super::body_key(body));
            return Ok(Recognised::Unknown(EventKind::Other));
        }
    };
    if meta.dedup_key.is_none() {
        meta.dedup_key = Some(super::body_key(body));
    }
    Ok(Recognised::Known(kind))
}

/// `inbox` (from the client) and `outbox` (to the client).
fn message(root: Fields<'_>, meta: &mut EventMeta) -> Result<EventKind, ParseError> {
    let id = root.required_id("message_id")?;
    let client = root.child("client", "client")?;
    if meta.client_id.is_none() {
        meta.client_id = client.id("id")?;
    }
    // `type` refines the direction: an operator's internal `comment` is a private note,
    // `autoreply` and `system` are not a person's words.
    let kind = root.text("type")?.unwrap_or_default();
    let (role, private) = match (meta.event_type.as_str(), kind.as_str()) {
        (_, "comment") => (Role::Operator, true),
        (_, "autoreply") | (_, "auto_reply") => (Role::Bot, false),
        (_, "system") => (Role::System, false),
        ("inbox", _) => (Role::Client, false),
        _ => (Role::Operator, false),
    };
    let (media_type, media_url) = media(root)?;
    meta.opens_dialog = root.flag("is_new_request")?;
    meta.dedup_key = Some(format!("message:{id}"));
    Ok(EventKind::MessageAdded {
        message: Message {
            id,
            role,
            text: root.text("text")?.unwrap_or_default(),
            sent_at_ms: meta.occurred_at_ms,
            private,
            media_type,
            media_url,
        },
    })
}

/// The first attachment of a message, as (kind, URL).
fn media(root: Fields<'_>) -> Result<(Option<String>, Option<String>), ParseError> {
    for (key, kind) in [
        ("photo", "image"),
        ("video", "video"),
        ("audio", "audio"),
        ("pdf", "document"),
        ("coordinates", "location"),
    ] {
        if let Some(url) = root.text(key)? {
            return Ok((Some(kind.to_string()), Some(url)));
        }
    }
    for item in root.list("attachments")? {
        if let Some(obj) = item.as_object() {
            let a = Fields::root(obj);
            let url = a.text("link")?.or(a.text("url")?);
            if url.is_some() {
                return Ok((Some(a.text("type")?.unwrap_or_else(|| "file".into())), url));
            }
        }
    }
    Ok((None, None))
}

/// A tag event's tag name (its `name`, or `id` when the name is empty).
fn tag_name(root: Fields<'_>) -> Result<String, ParseError> {
    match root.text("name")? {
        Some(n) => Ok(n),
        None => root.required_text("id"),
    }
}

/// `ai_hints_requested`, both forms.
fn hints(root: Fields<'_>, meta: &mut EventMeta) -> Result<EventKind, ParseError> {
    let message_id = root.required_id("message_id")?;
    if root.has("hint_id") {
        let hint_id = root
            .int("hint_id")?
            .ok_or_else(|| ParseError::missing("hint_id"))?;
        meta.dedup_key = Some(format!("hint_chosen:{message_id}:{hint_id}"));
        return Ok(EventKind::HintChosen {
            message_id,
            hint_id,
        });
    }
    let request_id = root.required_id("request_id")?;
    meta.dedup_key = Some(format!("hints:{request_id}:{message_id}"));
    Ok(EventKind::HintsRequested {
        request_id,
        message_id,
    })
}
