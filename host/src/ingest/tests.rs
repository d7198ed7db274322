//! Parser tests over the sample payloads in `examples/payloads/` (shaped like the platforms'
//! documents, PHP quirks included) and hand-made edge cases.

use super::*;
use crate::core::Role;

const NOW: i64 = 1_700_000_000_000;

macro_rules! sample {
    ($source:literal, $name:literal) => {
        include_str!(concat!(
            "../../../examples/payloads/",
            $source,
            "/",
            $name,
            ".json"
        ))
    };
}

fn parse_ok(source: Source, body: &str) -> Parsed {
    parse(source, "default", body.as_bytes(), NOW).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn message_of(kind: &EventKind) -> &crate::core::Message {
    match kind {
        EventKind::MessageAdded { message } | EventKind::MessageUpdated { message } => message,
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn chat2desk_messages() {
    let p = parse_ok(Source::Chat2desk, sample!("chat2desk", "inbox"));
    assert!(p.known_type);
    let m = &p.event.meta;
    assert_eq!(
        (
            m.event_type.as_str(),
            m.dialog_id.as_deref(),
            m.client_id.as_deref()
        ),
        ("inbox", Some("4324035"), Some("17340089"))
    );
    assert_eq!(
        (
            m.operator_id.as_deref(),
            m.channel_id.as_deref(),
            m.transport.as_deref()
        ),
        (None, Some("17404"), Some("telegram"))
    );
    assert_eq!(m.occurred_at_ms, 1_564_354_900_000);
    assert_eq!(m.dedup_key.as_deref(), Some("message:106773169"));
    assert!(m.opens_dialog, "is_new_request = 1");
    let msg = message_of(&p.event.kind);
    assert_eq!(
        (msg.id.as_str(), msg.role, msg.private),
        ("106773169", Role::Client, false)
    );
    assert_eq!(msg.text, "Hello, where is my order 5521?");
    assert_eq!(msg.media_type, None);

    let p = parse_ok(Source::Chat2desk, sample!("chat2desk", "outbox"));
    assert!(!p.event.meta.opens_dialog, "is_new_request = \"\"");
    let msg = message_of(&p.event.kind);
    assert_eq!(
        (msg.role, p.event.meta.operator_id.as_deref()),
        (Role::Operator, Some("41164"))
    );
}

#[test]
fn chat2desk_quirks() {
    // The documentation's inbox example: empty dialog and operator, client id only nested.
    let body = r#"{"message_id":"106773169","type":"from_client","text":"Text","transport":"telegram","client_id":"",
        "operator_id":"","dialog_id":"","channel_id":"17","photo":"https://x/p.jpg","client":{"id":"17340089"},
        "hook_type":"inbox","request_id":8725057,"attachments":[],"is_new_request":true,"extra_data":[],"event_time":""}"#;
    let p = parse_ok(Source::Chat2desk, body);
    assert!(p.event.meta.opens_dialog);
    assert_eq!(p.event.meta.dialog_id, None);
    assert_eq!(p.event.meta.client_id.as_deref(), Some("17340089"));
    assert_eq!(p.event.meta.occurred_at_ms, NOW);
    let msg = message_of(&p.event.kind);
    assert_eq!(
        (msg.media_type.as_deref(), msg.media_url.as_deref()),
        (Some("image"), Some("https://x/p.jpg"))
    );
    // An internal comment is a private note.
    let body =
        r#"{"message_id":5,"type":"comment","text":"note","hook_type":"outbox","dialog_id":1}"#;
    assert!(message_of(&parse_ok(Source::Chat2desk, body).event.kind).private);
}

#[test]
fn chat2desk_every_other_hook() {
    let cases: &[(&str, &str)] = &[
        (sample!("chat2desk", "outbox_status"), "outbox_status"),
        (sample!("chat2desk", "new_client"), "new_client"),
        (sample!("chat2desk", "client_updated"), "client_updated"),
        (
            sample!("chat2desk", "add_tag_to_client"),
            "add_tag_to_client",
        ),
        (
            sample!("chat2desk", "add_tag_to_request"),
            "add_tag_to_request",
        ),
        (
            sample!("chat2desk", "delete_tag_from_client"),
            "delete_tag_from_client",
        ),
        (
            sample!("chat2desk", "delete_tag_to_client"),
            "delete_tag_to_client",
        ),
        (
            sample!("chat2desk", "delete_tag_from_request"),
            "delete_tag_from_request",
        ),
        (sample!("chat2desk", "close_dialog"), "close_dialog"),
        (sample!("chat2desk", "close_request"), "close_request"),
        (
            sample!("chat2desk", "dialog_transferred"),
            "dialog_transferred",
        ),
        (sample!("chat2desk", "new_qr_code"), "new_qr_code"),
    ];
    for (body, hook) in cases {
        let p = parse_ok(Source::Chat2desk, body);
        assert!(p.known_type, "{hook}");
        assert_eq!(p.event.meta.event_type, *hook);
        assert!(p.event.meta.dedup_key.is_some(), "{hook}");
        let kind = &p.event.kind;
        match *hook {
            "outbox_status" | "new_qr_code" => assert_eq!(kind, &EventKind::Other),
            "new_client" | "client_updated" => {
                assert_eq!(kind, &EventKind::ClientUpdated);
                assert_eq!(p.event.meta.client_id.as_deref(), Some("17340089"));
                assert_eq!(p.event.meta.transport.as_deref(), Some("telegram"));
                assert_eq!(p.event.meta.channel_id.as_deref(), Some("17404"));
            }
            h if h.starts_with("add_tag") => {
                assert_eq!(
                    kind,
                    &EventKind::TagsChanged {
                        added: vec!["TestTag".into()],
                        removed: vec![]
                    }
                )
            }
            h if h.starts_with("delete_tag") => {
                assert_eq!(
                    kind,
                    &EventKind::TagsChanged {
                        added: vec![],
                        removed: vec!["TestTag".into()]
                    }
                )
            }
            "close_dialog" | "close_request" => {
                assert_eq!(kind, &EventKind::DialogClosed);
                assert_eq!(p.event.meta.dialog_id.as_deref(), Some("4324035"));
            }
            "dialog_transferred" => {
                assert_eq!(
                    kind,
                    &EventKind::DialogTransferred {
                        to_operator: Some("39538".into())
                    }
                )
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn chat2desk_hints_both_forms() {
    let p = parse_ok(
        Source::Chat2desk,
        sample!("chat2desk", "ai_hints_requested"),
    );
    assert_eq!(
        p.event.kind,
        EventKind::HintsRequested {
            request_id: "2343".into(),
            message_id: "106773169".into()
        }
    );
    assert_eq!(p.event.meta.dialog_id.as_deref(), Some("4324035"));
    let p = parse_ok(Source::Chat2desk, sample!("chat2desk", "ai_hints_chosen"));
    assert_eq!(
        p.event.kind,
        EventKind::HintChosen {
            message_id: "106773169".into(),
            hint_id: 1
        }
    );
    // The documentation's first form has no hook_type at all.
    let body = r#"{"client_id":11910, "operator_id":1, "dialog_id":331, "request_id": 2343, "channel_id": 1, "message_id": 8205}"#;
    let p = parse_ok(Source::Chat2desk, body);
    assert_eq!(
        p.event.kind,
        EventKind::HintsRequested {
            request_id: "2343".into(),
            message_id: "8205".into()
        }
    );
    let body = r#"{"client_id": 11910, "message_id": 8205, "hint_id": "2"}"#;
    assert_eq!(
        parse_ok(Source::Chat2desk, body).event.kind,
        EventKind::HintChosen {
            message_id: "8205".into(),
            hint_id: 2
        }
    );
}

#[test]
fn chat2desk_errors_name_the_field() {
    let err = |body: &str| parse(Source::Chat2desk, "default", body.as_bytes(), NOW).unwrap_err();
    assert_eq!(err(r#"{"text":"x"}"#).field_name(), Some("hook_type"));
    assert_eq!(
        err(r#"{"hook_type":"inbox","text":"x"}"#).field_name(),
        Some("message_id")
    );
    assert_eq!(
        err(r#"{"hook_type":"inbox","message_id":{"a":1}}"#).field_name(),
        Some("message_id")
    );
    assert_eq!(
        err(r#"{"hook_type":"inbox","message_id":1,"client":5}"#).field_name(),
        Some("client")
    );
    assert_eq!(
        err(r#"{"hook_type":"ai_hints_requested","message_id":1,"hint_id":"two"}"#).field_name(),
        Some("hint_id")
    );
    assert_eq!(
        err(r#"{"hook_type":"close_dialog"}"#).field_name(),
        Some("dialog_id")
    );
    assert_eq!(
        err(r#"{"hook_type":"inbox","message_id":1,"event_time":"soon"}"#).field_name(),
        Some("event_time")
    );
    assert_eq!(err("[1,2]"), ParseError::NotAnObject);
    assert!(matches!(err("{nope"), ParseError::InvalidJson(_)));
}

#[test]
fn unknown_types_are_kept() {
    let p = parse_ok(
        Source::Chat2desk,
        r#"{"hook_type":"brand_new_event","x":1}"#,
    );
    assert!(!p.known_type);
    assert_eq!(p.event.kind, EventKind::Other);
    assert!(
        p.event
            .meta
            .dedup_key
            .as_deref()
            .unwrap()
            .starts_with("body:")
    );
    let p = parse_ok(Source::Chatwoot, r#"{"event":"automation_event.fired"}"#);
    assert!(!p.known_type);
    let p = parse_ok(
        Source::Whazing,
        r#"{"Type":"NewKanbanCard","ticket":{"id":1}}"#,
    );
    assert!(!p.known_type);
    let long = format!(r#"{{"hook_type":"{}"}}"#, "x".repeat(500));
    assert_eq!(
        parse_ok(Source::Chat2desk, &long)
            .event
            .meta
            .event_type
            .len(),
        MAX_EVENT_TYPE_LEN
    );
    // Ids are at most MAX_ID_LEN bytes each, but a key built of two of them is longer.
    let long_ids = format!(
        r#"{{"hook_type":"ai_hints_requested","request_id":"{}","message_id":"{}","dialog_id":1}}"#,
        "6".repeat(MAX_ID_LEN),
        "7".repeat(MAX_ID_LEN)
    );
    let key = parse_ok(Source::Chat2desk, &long_ids)
        .event
        .meta
        .dedup_key
        .unwrap();
    assert!(
        key.starts_with("long:") && key.len() < MAX_DEDUP_KEY_LEN,
        "{key}"
    );
}

#[test]
fn chatwoot_messages() {
    let p = parse_ok(Source::Chatwoot, sample!("chatwoot", "message_created"));
    let m = &p.event.meta;
    assert_eq!(
        (
            m.dialog_id.as_deref(),
            m.client_id.as_deref(),
            m.operator_id.as_deref()
        ),
        (Some("42"), Some("501"), Some("7"))
    );
    assert_eq!(
        (m.channel_id.as_deref(), m.transport.as_deref()),
        (Some("3"), Some("widget"))
    );
    assert_eq!(m.occurred_at_ms, 1_583_240_757_000);
    let msg = message_of(&p.event.kind);
    assert_eq!(
        (msg.id.as_str(), msg.role, msg.private),
        ("1001", Role::Client, false)
    );

    let p = parse_ok(
        Source::Chatwoot,
        sample!("chatwoot", "message_created_private_note"),
    );
    let msg = message_of(&p.event.kind);
    assert_eq!(
        (msg.role, msg.private, msg.sent_at_ms),
        (Role::Operator, true, 1_583_241_400_000)
    );

    let p = parse_ok(Source::Chatwoot, sample!("chatwoot", "message_updated"));
    assert!(matches!(p.event.kind, EventKind::MessageUpdated { .. }));
    let p = parse_ok(
        Source::Chatwoot,
        sample!("chatwoot", "message_updated_deleted"),
    );
    assert_eq!(
        p.event.kind,
        EventKind::MessageDeleted {
            message_id: "1001".into()
        }
    );
}

#[test]
fn chatwoot_message_types_as_names_and_integers() {
    for (t, sender, role) in [
        (r#""incoming""#, "contact", Role::Client),
        ("0", "contact", Role::Client),
        (r#""outgoing""#, "user", Role::Operator),
        ("1", "user", Role::Operator),
        (r#""outgoing""#, "agent_bot", Role::Bot),
        (r#""template""#, "user", Role::Bot),
        ("3", "user", Role::Bot),
        (r#""activity""#, "user", Role::System),
        ("2", "user", Role::System),
    ] {
        let body = format!(
            r#"{{"event":"message_created","id":1,"content":"x","message_type":{t},"sender":{{"id":2,"type":"{sender}"}},"conversation":{{"display_id":9}}}}"#
        );
        assert_eq!(
            message_of(&parse_ok(Source::Chatwoot, &body).event.kind).role,
            role,
            "{t} {sender}"
        );
    }
    let bad = r#"{"event":"message_created","id":1,"message_type":"shouting","conversation":{"display_id":9}}"#;
    assert_eq!(
        parse(Source::Chatwoot, "a", bad.as_bytes(), NOW)
            .unwrap_err()
            .field_name(),
        Some("message_type")
    );
    let no_conv = r#"{"event":"message_created","id":1,"message_type":0}"#;
    assert_eq!(
        parse(Source::Chatwoot, "a", no_conv.as_bytes(), NOW)
            .unwrap_err()
            .field_name(),
        Some("conversation.display_id")
    );
}

#[test]
fn chatwoot_conversation_events() {
    let p = parse_ok(
        Source::Chatwoot,
        sample!("chatwoot", "conversation_created"),
    );
    assert_eq!(p.event.kind, EventKind::DialogOpened);
    assert_eq!(
        (
            p.event.meta.dialog_id.as_deref(),
            p.event.meta.client_id.as_deref()
        ),
        (Some("42"), Some("501"))
    );
    let p = parse_ok(
        Source::Chatwoot,
        sample!("chatwoot", "conversation_status_changed"),
    );
    assert_eq!(p.event.kind, EventKind::DialogClosed);
    let p = parse_ok(
        Source::Chatwoot,
        sample!("chatwoot", "conversation_updated"),
    );
    assert_eq!(
        p.event.kind,
        EventKind::DialogTransferred {
            to_operator: Some("9".into())
        }
    );
    let labels = r#"{"event":"conversation_updated","id":4,"changed_attributes":[{"label_list":{"current_value":["vip","late"],"previous_value":["late","new"]}}]}"#;
    assert_eq!(
        parse_ok(Source::Chatwoot, labels).event.kind,
        EventKind::TagsChanged {
            added: vec!["vip".into()],
            removed: vec!["new".into()]
        }
    );
    let p = parse_ok(
        Source::Chatwoot,
        sample!("chatwoot", "conversation_typing_on"),
    );
    assert_eq!(
        (p.event.kind.clone(), p.event.meta.dialog_id.as_deref()),
        (EventKind::Typing { on: true }, Some("42"))
    );
    let p = parse_ok(
        Source::Chatwoot,
        sample!("chatwoot", "conversation_typing_off"),
    );
    assert_eq!(p.event.kind, EventKind::Typing { on: false });
    let p = parse_ok(Source::Chatwoot, sample!("chatwoot", "webwidget_triggered"));
    assert_eq!(
        (p.event.kind.clone(), p.event.meta.client_id.as_deref()),
        (EventKind::Other, Some("501"))
    );
    assert!(p.known_type);
    for name in ["contact_created", "contact_updated"] {
        let body = if name == "contact_created" {
            sample!("chatwoot", "contact_created")
        } else {
            sample!("chatwoot", "contact_updated")
        };
        let p = parse_ok(Source::Chatwoot, body);
        assert_eq!(
            (p.event.kind.clone(), p.event.meta.client_id.as_deref()),
            (EventKind::ClientUpdated, Some("501"))
        );
    }
}

#[test]
fn whazing_events() {
    let p = parse_ok(Source::Whazing, sample!("whazing", "NewTicketUserCreate"));
    assert_eq!(p.event.kind, EventKind::DialogOpened);
    let m = &p.event.meta;
    assert_eq!(
        (
            m.dialog_id.as_deref(),
            m.client_id.as_deref(),
            m.operator_id.as_deref()
        ),
        (Some("3150"), Some("880"), Some("12"))
    );
    assert_eq!(
        (m.external_key.as_deref(), m.channel_id.as_deref()),
        (Some("CRM-ORDER-5521"), Some("1"))
    );
    assert_eq!(
        parse_ok(Source::Whazing, sample!("whazing", "NewTicket"))
            .event
            .kind,
        EventKind::DialogOpened
    );
    assert_eq!(
        parse_ok(Source::Whazing, sample!("whazing", "TransferTicket"))
            .event
            .kind,
        EventKind::DialogTransferred {
            to_operator: Some("15".into())
        }
    );
    assert_eq!(
        parse_ok(Source::Whazing, sample!("whazing", "ClosedTicket"))
            .event
            .kind,
        EventKind::DialogClosed
    );

    let p = parse_ok(Source::Whazing, sample!("whazing", "message_received"));
    let msg = message_of(&p.event.kind);
    assert_eq!(
        (msg.role, msg.sent_at_ms, msg.media_type.as_deref()),
        (Role::Client, 1_755_086_400_000, None)
    );
    assert_eq!(p.event.meta.event_type, "message");
    let p = parse_ok(Source::Whazing, sample!("whazing", "message_sent"));
    let msg = message_of(&p.event.kind);
    assert_eq!(
        (msg.role, msg.sent_at_ms),
        (Role::Operator, 1_755_086_460_000)
    );
    assert_eq!(p.event.meta.operator_id.as_deref(), Some("12"));
    let p = parse_ok(Source::Whazing, sample!("whazing", "message_media"));
    let msg = message_of(&p.event.kind);
    assert_eq!(msg.media_type.as_deref(), Some("image"));
    assert!(msg.media_url.as_deref().unwrap().ends_with(".jpg"));
    let p = parse_ok(Source::Whazing, sample!("whazing", "message_edited"));
    assert!(matches!(p.event.kind, EventKind::MessageUpdated { .. }));
    let p = parse_ok(Source::Whazing, sample!("whazing", "message_deleted"));
    assert_eq!(
        p.event.kind,
        EventKind::MessageDeleted {
            message_id: "3EB0FF00112233445566".into()
        }
    );

    let err = |body: &str| parse(Source::Whazing, "default", body.as_bytes(), NOW).unwrap_err();
    assert_eq!(err(r#"{"messageBody":"x"}"#).field_name(), Some("Type"));
    assert_eq!(
        err(r#"{"messageId":"a","messageBody":"x"}"#).field_name(),
        Some("ticket.id")
    );
    assert_eq!(
        err(r#"{"Type":"ClosedTicket","ticket":{}}"#).field_name(),
        Some("ticket.id")
    );
    assert_eq!(
        err(r#"{"messageId":"a","ticket":{"id":1},"fromMe":"perhaps"}"#).field_name(),
        Some("fromMe")
    );
}

#[test]
fn every_sample_payload_parses() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/payloads");
    let mut seen = 0;
    for source in Source::PLATFORMS {
        let dir = std::path::Path::new(root).join(source.as_str());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let body = std::fs::read(&path).unwrap();
            let p = parse(source, "default", &body, NOW)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(p.known_type, "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 35, "only {seen} samples");
}

/// Every id a platform sends, with the path an error names.
const ID_FIELDS: &[(Source, &str, &str)] = &[
    (
        Source::Chat2desk,
        r#"{"hook_type":"inbox","message_id":ID,"dialog_id":1}"#,
        "message_id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"inbox","message_id":1,"dialog_id":ID}"#,
        "dialog_id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"inbox","message_id":1,"client_id":ID}"#,
        "client_id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"inbox","message_id":1,"operator_id":ID}"#,
        "operator_id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"inbox","message_id":1,"channel_id":ID}"#,
        "channel_id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"inbox","message_id":1,"transport":ID}"#,
        "transport",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"inbox","message_id":1,"client":{"id":ID}}"#,
        "client.id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"outbox_status","id":ID}"#,
        "id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"new_client","id":ID}"#,
        "id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"new_client","id":1,"channels":{"id":ID}}"#,
        "channels.id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"new_client","id":1,"channels":{"transports":[ID]}}"#,
        "channels.transports",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"dialog_transferred","dialog_id":1,"current_operator_id":ID}"#,
        "current_operator_id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"ai_hints_requested","request_id":ID,"message_id":1,"dialog_id":1}"#,
        "request_id",
    ),
    (
        Source::Chat2desk,
        r#"{"hook_type":"ai_hints_requested","request_id":1,"message_id":ID,"dialog_id":1}"#,
        "message_id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"message_created","id":ID,"conversation":{"display_id":1}}"#,
        "id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"message_created","id":1,"conversation":{"display_id":ID}}"#,
        "conversation.display_id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"message_created","id":1,"conversation":{"id":ID}}"#,
        "conversation.id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"message_created","id":1,"conversation":{"id":1,"inbox_id":ID}}"#,
        "conversation.inbox_id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"message_created","id":1,"conversation":{"id":1},"inbox":{"id":ID}}"#,
        "inbox.id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"message_created","id":1,"conversation":{"id":1},"sender":{"type":"contact","id":ID}}"#,
        "sender.id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"message_created","id":1,"conversation":{"id":1},"sender":{"type":"user","id":ID}}"#,
        "sender.id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"message_created","id":1,"conversation":{"id":1},"contact":{"id":ID}}"#,
        "contact.id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"conversation_created","id":ID}"#,
        "id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"conversation_created","id":1,"meta":{"sender":{"id":ID}}}"#,
        "conversation.meta.sender.id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"conversation_created","id":1,"meta":{"assignee":{"id":ID}}}"#,
        "conversation.meta.assignee.id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"conversation_created","id":1,"contact_inbox":{"contact_id":ID}}"#,
        "conversation.contact_inbox.contact_id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"conversation_typing_on","conversation":{"id":1},"user":{"id":ID}}"#,
        "user.id",
    ),
    (
        Source::Chatwoot,
        r#"{"event":"contact_created","id":ID}"#,
        "id",
    ),
    (
        Source::Whazing,
        r#"{"Type":"NewTicket","ticket":{"id":ID}}"#,
        "ticket.id",
    ),
    (
        Source::Whazing,
        r#"{"Type":"NewTicket","ticket":{"id":1,"userId":ID}}"#,
        "ticket.userId",
    ),
    (
        Source::Whazing,
        r#"{"Type":"NewTicket","ticket":{"id":1,"apiConfig":{"externalKey":ID}}}"#,
        "ticket.apiConfig.externalKey",
    ),
    (
        Source::Whazing,
        r#"{"Type":"NewTicket","ticket":{"id":1},"contact":{"id":ID}}"#,
        "contact.id",
    ),
    (
        Source::Whazing,
        r#"{"Type":"NewTicket","ticket":{"id":1},"whatsapp":{"id":ID}}"#,
        "whatsapp.id",
    ),
    (
        Source::Whazing,
        r#"{"messageId":ID,"ticket":{"id":1}}"#,
        "messageId",
    ),
    (
        Source::Whazing,
        r#"{"messageId":1,"ticket":{"id":1},"user":{"id":ID}}"#,
        "user.id",
    ),
];

#[test]
fn ids_follow_one_rule_on_every_platform() {
    let too_long = format!("\"{}\"", "9".repeat(MAX_ID_LEN + 1));
    for (source, template, path) in ID_FIELDS {
        for (bad, why) in [
            (too_long.as_str(), "longer than 200 bytes"),
            ("1.5", "fraction"),
            ("1e30", "too large"),
            (r#""a\nb""#, "control characters"),
            ("true", "expected an id"),
        ] {
            let body = template.replace("ID", bad);
            let err = parse(*source, "default", body.as_bytes(), NOW)
                .expect_err(&format!("{source} accepted {body}"));
            assert_eq!(err.field_name(), Some(*path), "{source} {body}: {err}");
            assert!(err.to_string().contains(why), "{source} {body}: {err}");
        }
        for good in [
            format!("\"{}\"", "9".repeat(MAX_ID_LEN)),
            "18446744073709551615".to_string(),
            "-3".to_string(),
        ] {
            let body = template.replace("ID", &good);
            parse(*source, "default", body.as_bytes(), NOW)
                .unwrap_or_else(|e| panic!("{source} refused {body}: {e}"));
        }
    }
}

#[test]
fn numeric_ids_are_kept_as_their_digits() {
    let big = "18446744073709551615";
    for (source, body) in [
        (
            Source::Chat2desk,
            format!(r#"{{"hook_type":"inbox","message_id":{big},"dialog_id":{big}}}"#),
        ),
        (
            Source::Chatwoot,
            format!(
                r#"{{"event":"message_created","id":{big},"conversation":{{"display_id":{big}}}}}"#
            ),
        ),
        (
            Source::Whazing,
            format!(r#"{{"messageId":{big},"ticket":{{"id":{big}}}}}"#),
        ),
    ] {
        let p = parse_ok(source, &body);
        assert_eq!(p.event.meta.dialog_id.as_deref(), Some(big), "{source}");
        assert_eq!(message_of(&p.event.kind).id, big, "{source}");
    }
    // Integral numbers written with a fraction or an exponent mean their integer.
    let p = parse_ok(
        Source::Chat2desk,
        r#"{"hook_type":"inbox","message_id":7.0,"dialog_id":2e3}"#,
    );
    assert_eq!(p.event.meta.dialog_id.as_deref(), Some("2000"));
    assert_eq!(message_of(&p.event.kind).id, "7");
}
