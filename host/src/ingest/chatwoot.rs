//! Chatwoot account webhooks: one JSON object per event, discriminated by `event`. Message
//! events carry the message at the root; conversation events carry the conversation at the
//! root; ids may be numbers or strings, `message_type` a name or Chatwoot's enum integer.

use super::lenient::Fields;
use super::{EventKind, EventMeta, ParseError, Recognised};
use crate::core::{Message, Role};
use serde_json::Value;

/// Every event Chatwoot documents, plus the contact events it also sends.
pub const EVENTS: &[&str] = &[
    "conversation_created",
    "conversation_updated",
    "conversation_status_changed",
    "message_created",
    "message_updated",
    "webwidget_triggered",
    "conversation_typing_on",
    "conversation_typing_off",
    "contact_created",
    "contact_updated",
];

/// Reads one Chatwoot event into `meta` and returns what happened.
pub(crate) fn parse(
    root: Fields<'_>,
    body: &[u8],
    meta: &mut EventMeta,
) -> Result<Recognised, ParseError> {
    meta.event_type = root.required_text("event")?;
    let kind = match meta.event_type.as_str() {
        "message_created" | "message_updated" => message(root, body, meta)?,
        "conversation_created" | "conversation_updated" | "conversation_status_changed" => {
            conversation(root, meta)?;
            match meta.event_type.as_str() {
                "conversation_created" => EventKind::DialogOpened,
                "conversation_status_changed" => status_kind(root.text("status")?.as_deref()),
                _ => changed_attributes(root, meta)?,
            }
        }
        "conversation_typing_on" | "conversation_typing_off" => {
            let conv = root.child("conversation", "conversation")?;
            conversation(conv, meta)?;
            if let Some(user) = root.child("user", "user")?.id("id")? {
                meta.operator_id = Some(user);
            }
            EventKind::Typing {
                on: meta.event_type == "conversation_typing_on",
            }
        }
        "webwidget_triggered" => {
            let conv = root.child("current_conversation", "current_conversation")?;
            if conv.has("id") || conv.has("display_id") {
                conversation(conv, meta)?;
            }
            meta.client_id = root
                .child("contact", "contact")?
                .id("id")?
                .or(meta.client_id.take());
            meta.channel_id = root
                .child("inbox", "inbox")?
                .id("id")?
                .or(meta.channel_id.take());
            EventKind::Other
        }
        "contact_created" | "contact_updated" => {
            meta.client_id = Some(root.required_id("id")?);
            EventKind::ClientUpdated
        }
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

/// `message_created` / `message_updated`. A deleted message arrives as an update whose
/// `content_attributes.deleted` is true.
fn message(root: Fields<'_>, body: &[u8], meta: &mut EventMeta) -> Result<EventKind, ParseError> {
    let id = root.required_id("id")?;
    let conv = root.child("conversation", "conversation")?;
    conversation(conv, meta)?;
    if meta.dialog_id.is_none() {
        return Err(ParseError::missing("conversation.display_id"));
    }
    if let Some(inbox) = root.child("inbox", "inbox")?.id("id")? {
        meta.channel_id = Some(inbox);
    }
    let sender = root.child("sender", "sender")?;
    let sender_type = sender
        .text("type")?
        .unwrap_or_default()
        .to_ascii_lowercase();
    match sender_type.as_str() {
        "contact" => meta.client_id = sender.id("id")?.or(meta.client_id.take()),
        "user" | "agent" => meta.operator_id = sender.id("id")?.or(meta.operator_id.take()),
        _ => {}
    }
    if meta.client_id.is_none() {
        meta.client_id = root.child("contact", "contact")?.id("id")?;
    }
    if let Some(t) = root.time_ms("created_at")? {
        meta.occurred_at_ms = t;
    }
    let role = role(root, &sender_type)?;
    let attrs = root.child("content_attributes", "content_attributes")?;
    let (media_type, media_url) = attachment(root)?;
    let message = Message {
        id: id.clone(),
        role,
        text: root.text("content")?.unwrap_or_default(),
        sent_at_ms: meta.occurred_at_ms,
        private: root.flag("private")?,
        media_type,
        media_url,
    };
    if meta.event_type == "message_created" {
        meta.dedup_key = Some(format!("message:{id}"));
        return Ok(EventKind::MessageAdded { message });
    }
    meta.dedup_key = Some(format!("message_updated:{id}:{}", super::body_key(body)));
    if attrs.flag("deleted")? {
        return Ok(EventKind::MessageDeleted { message_id: id });
    }
    Ok(EventKind::MessageUpdated { message })
}

/// Maps `message_type` (name or integer) and the sender to a role.
fn role(root: Fields<'_>, sender_type: &str) -> Result<Role, ParseError> {
    let raw = root.raw("message_type");
    let name = match raw {
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => "incoming",
            Some(1) => "outgoing",
            Some(2) => "activity",
            Some(3) => "template",
            _ => {
                return Err(ParseError::field(
                    "message_type",
                    "expected 0-3 or incoming/outgoing/activity/template",
                ));
            }
        },
        Some(Value::String(s)) => match s.as_str() {
            "0" => "incoming",
            "1" => "outgoing",
            "2" => "activity",
            "3" => "template",
            other => other,
        },
        None | Some(Value::Null) => "",
        Some(_) => {
            return Err(ParseError::field(
                "message_type",
                "expected a name or an integer",
            ));
        }
    };
    Ok(match name {
        "incoming" => Role::Client,
        "outgoing"
            if matches!(
                sender_type,
                "agent_bot" | "agentbot" | "captain_assistant" | "bot"
            ) =>
        {
            Role::Bot
        }
        "outgoing" => Role::Operator,
        "template" => Role::Bot,
        "activity" => Role::System,
        "" if sender_type == "contact" => Role::Client,
        "" => Role::Operator,
        _ => {
            return Err(ParseError::field(
                "message_type",
                "expected incoming, outgoing, activity or template",
            ));
        }
    })
}

/// The first attachment, as (file type, URL).
fn attachment(root: Fields<'_>) -> Result<(Option<String>, Option<String>), ParseError> {
    for item in root.list("attachments")? {
        if let Some(obj) = item.as_object() {
            let a = Fields::root(obj);
            let url = a.text("data_url")?;
            if url.is_some() {
                return Ok((
                    Some(a.text("file_type")?.unwrap_or_else(|| "file".into())),
                    url,
                ));
            }
        }
    }
    Ok((None, None))
}

/// Reads a conversation object's routing facts into `meta`. The dialog id is the
/// `display_id` (what Chatwoot's UI and API use), else `id`.
fn conversation(conv: Fields<'_>, meta: &mut EventMeta) -> Result<(), ParseError> {
    if let Some(id) = conv.id("display_id")?.or(conv.id("id")?) {
        meta.dialog_id = Some(id);
    }
    let m = conv.child("meta", "conversation.meta")?;
    if let Some(c) = m.child("sender", "conversation.meta.sender")?.id("id")? {
        meta.client_id = Some(c);
    } else if let Some(c) = conv
        .child("contact_inbox", "conversation.contact_inbox")?
        .id("contact_id")?
    {
        meta.client_id = Some(c);
    }
    if let Some(a) = m
        .child("assignee", "conversation.meta.assignee")?
        .id("id")?
    {
        meta.operator_id = Some(a);
    }
    if let Some(inbox) = conv.id("inbox_id")? {
        meta.channel_id = Some(inbox);
    }
    if let Some(channel) = conv.id("channel")? {
        meta.transport = Some(transport(&channel));
    }
    if let Some(t) = conv.time_ms("timestamp")? {
        meta.occurred_at_ms = t;
    }
    Ok(())
}

/// `Channel::WebWidget` → `widget`, `Channel::Whatsapp` → `whatsapp`.
fn transport(channel: &str) -> String {
    let name = channel
        .strip_prefix("Channel::")
        .unwrap_or(channel)
        .to_ascii_lowercase();
    match name.as_str() {
        "webwidget" => "widget".into(),
        "twiliosms" | "sms" => "sms".into(),
        "facebookpage" => "facebook".into(),
        "twitterprofile" => "twitter".into(),
        _ => name,
    }
}

/// A conversation status as a dialog change.
fn status_kind(status: Option<&str>) -> EventKind {
    match status {
        Some("open") => EventKind::DialogOpened,
        Some("resolved") | Some("closed") => EventKind::DialogClosed,
        _ => EventKind::Other,
    }
}

/// `conversation_updated`: the most significant change among `changed_attributes` (status,
/// then assignee, then labels).
fn changed_attributes(root: Fields<'_>, meta: &mut EventMeta) -> Result<EventKind, ParseError> {
    let mut status = None;
    let mut assignee = None;
    let mut labels = None;
    for item in root.list("changed_attributes")? {
        let Some(obj) = item.as_object() else {
            return Err(ParseError::field(
                "changed_attributes",
                "expected a list of objects",
            ));
        };
        for (name, change) in obj {
            let c = match change {
                Value::Object(m) => Fields::root(m),
                _ => continue,
            };
            match name.as_str() {
                "status" => status = Some(c.text("current_value")?),
                "assignee_id" => assignee = Some(c.id("current_value")?),
                "label_list" | "labels" => {
                    let cur = label_names(c.raw("current_value"));
                    let prev = label_names(c.raw("previous_value"));
                    let added = cur.iter().filter(|l| !prev.contains(l)).cloned().collect();
                    let removed = prev.iter().filter(|l| !cur.contains(l)).cloned().collect();
                    labels = Some((added, removed));
                }
                _ => {}
            }
        }
    }
    if let Some(s) = status {
        let kind = status_kind(s.as_deref());
        if kind != EventKind::Other {
            return Ok(kind);
        }
    }
    if let Some(to) = assignee {
        if to.is_some() {
            meta.operator_id = to.clone();
        }
        return Ok(EventKind::DialogTransferred { to_operator: to });
    }
    if let Some((added, removed)) = labels {
        return Ok(EventKind::TagsChanged { added, removed });
    }
    Ok(EventKind::Other)
}

/// Label names from a list of strings or of `{title}` objects.
fn label_names(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o
                    .get("title")
                    .or(o.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}
