//! Whazing webhooks: ticket events carry `Type`; the message event (sent or received) has
//! no `Type` and is recognised by `messageId`. Every event carries the ticket, whose
//! `apiConfig.externalKey` links it to the integrator's system.

use super::lenient::Fields;
use super::{EventKind, EventMeta, ParseError, Recognised};
use crate::core::{Message, Role};

/// Every `Type` Whazing documents, plus `message` for the untyped message event.
pub const TYPES: &[&str] = &[
    "NewTicketUserCreate",
    "NewTicket",
    "TransferTicket",
    "ClosedTicket",
    "message",
];

/// Reads one Whazing event into `meta` and returns what happened.
pub(crate) fn parse(
    root: Fields<'_>,
    body: &[u8],
    meta: &mut EventMeta,
) -> Result<Recognised, ParseError> {
    meta.transport = Some("whatsapp".into());
    let ticket = root.child("ticket", "ticket")?;
    meta.dialog_id = ticket.id("id")?;
    meta.operator_id = ticket.id("userId")?;
    meta.external_key = ticket
        .child("apiConfig", "ticket.apiConfig")?
        .id("externalKey")?;
    meta.client_id = root.child("contact", "contact")?.id("id")?;
    meta.channel_id = root.child("whatsapp", "whatsapp")?.id("id")?;
    let type_name = root.text("Type")?;
    let Some(type_name) = type_name else {
        if !root.has("messageId") {
            return Err(ParseError::field(
                "Type",
                "missing, and the body has no `messageId` either",
            ));
        }
        meta.event_type = "message".into();
        return message(root, body, meta).map(Recognised::Known);
    };
    meta.event_type = type_name;
    meta.dedup_key = Some(super::body_key(body));
    let needs_ticket = || {
        meta.dialog_id
            .as_ref()
            .map(|_| ())
            .ok_or_else(|| ParseError::missing("ticket.id"))
    };
    Ok(match meta.event_type.as_str() {
        "NewTicketUserCreate" | "NewTicket" => {
            needs_ticket()?;
            Recognised::Known(EventKind::DialogOpened)
        }
        "TransferTicket" => {
            needs_ticket()?;
            Recognised::Known(EventKind::DialogTransferred {
                to_operator: meta.operator_id.clone(),
            })
        }
        "ClosedTicket" => {
            needs_ticket()?;
            Recognised::Known(EventKind::DialogClosed)
        }
        _ => Recognised::Unknown(EventKind::Other),
    })
}

/// The message event: `fromMe` decides operator or client; `isDeleted` and `edited` turn it
/// into a deletion or an edit of the message with that `messageId`.
fn message(root: Fields<'_>, body: &[u8], meta: &mut EventMeta) -> Result<EventKind, ParseError> {
    let id = root.required_id("messageId")?;
    if meta.dialog_id.is_none() {
        return Err(ParseError::missing("ticket.id"));
    }
    if let Some(t) = root.time_ms("timestamp")? {
        meta.occurred_at_ms = t;
    }
    let from_me = root.flag("fromMe")?;
    if let Some(user) = root.child("user", "user")?.id("id")? {
        meta.operator_id = Some(user);
    }
    let send_type = root
        .text("sendType")?
        .unwrap_or_default()
        .to_ascii_lowercase();
    let role = match (from_me, send_type.as_str()) {
        (false, _) => Role::Client,
        (true, "bot" | "chatbot" | "campaign" | "schedule") => Role::Bot,
        (true, _) => Role::Operator,
    };
    let media_url = root.text("mediaUrl")?;
    let media_type = match root.text("mediaType")? {
        // Plain text messages are reported with a media type too.
        Some(t)
            if matches!(
                t.as_str(),
                "chat" | "conversation" | "extendedTextMessage" | "text"
            ) && media_url.is_none() =>
        {
            None
        }
        other => other,
    };
    // Reactions are read so that a malformed value is refused, and kept in the raw body.
    root.list("reactions")?;
    if root.flag("isDeleted")? {
        meta.dedup_key = Some(format!("deleted:{id}"));
        return Ok(EventKind::MessageDeleted { message_id: id });
    }
    let message = Message {
        id: id.clone(),
        role,
        text: root.text("messageBody")?.unwrap_or_default(),
        sent_at_ms: meta.occurred_at_ms,
        private: false,
        media_type,
        media_url,
    };
    if root.flag("edited")? {
        meta.dedup_key = Some(format!("edited:{id}:{}", super::body_key(body)));
        return Ok(EventKind::MessageUpdated { message });
    }
    meta.dedup_key = Some(format!("message:{id}"));
    Ok(EventKind::MessageAdded { message })
}
