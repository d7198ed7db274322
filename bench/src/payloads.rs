//! Webhook bodies the benchmarks send, shaped like Chat2Desk's own (see the platform's
//! webhook documentation): client messages (`inbox`), operator replies (`outbox`) and hints
//! requests (`ai_hints_requested`). Texts rotate through a small online-shop support script so
//! the plugins do realistic work.

use serde_json::json;

/// Client lines of the script.
const CLIENT_LINES: &[&str] = &[
    "Hi, I ordered a pair of running shoes last week and they still have not arrived",
    "The tracking number says the parcel is at the sorting center since Monday",
    "Can I change the delivery address to my office instead?",
    "How long does a refund take if I return the shoes?",
    "Do I have to pay for the return shipping?",
    "I paid by card, will the money go back to the same card?",
    "The size is a bit small, can I exchange them for a bigger one?",
    "Is there a store where I can pick the order up myself?",
    "My promo code did not work at checkout, can you apply it now?",
    "Thank you, and what are your opening hours on Saturday?",
];

/// Operator lines of the script.
const OPERATOR_LINES: &[&str] = &[
    "Hello! Let me check your order, could you send me the order number?",
    "Thanks, I see the parcel is delayed at the sorting center, it should move within 2 days",
    "Yes, we can change the address while the parcel has not left the sorting center",
    "Refunds take 5 to 7 business days after the return reaches our warehouse",
    "Return shipping is free for exchanges and costs 5 euros for refunds",
    "Yes, the refund always goes back to the card used for payment",
    "Of course, send us the shoes with the exchange form and we ship the new size at once",
    "You can pick orders up at our central store, Rua Augusta 120",
    "I applied the promo code and refunded the difference to your card",
    "On Saturdays we are open from 10:00 to 18:00",
];

/// The text of the `n`-th client message of a dialog.
pub fn client_text(n: u64) -> &'static str {
    CLIENT_LINES[(n % CLIENT_LINES.len() as u64) as usize]
}

/// The text of the `n`-th operator message of a dialog.
pub fn operator_text(n: u64) -> &'static str {
    OPERATOR_LINES[(n % OPERATOR_LINES.len() as u64) as usize]
}

/// A Chat2Desk `inbox` (client → operator) or `outbox` (operator → client) message.
///
/// Rendered straight into bytes rather than built as a `serde_json::Value`: the load
/// generator shares the cores with the server it measures, and building and serialising a
/// map of 20 keys per request cost it about as much as parsing the body costs the server.
pub fn message(
    dialog_id: u64,
    client_id: u64,
    message_id: u64,
    from_client: bool,
    text: &str,
) -> Vec<u8> {
    let (hook_type, kind, operator_id) = if from_client {
        ("inbox", "from_client", "\"\"")
    } else {
        ("outbox", "to_client", "41164")
    };
    let text = serde_json::to_string(text).expect("a string serialises");
    format!(
        r#"{{"message_id":{message_id},"type":"{kind}","text":{text},"transport":"telegram","client_id":{client_id},"operator_id":{operator_id},"dialog_id":{dialog_id},"channel_id":17404,"photo":"","coordinates":"","audio":"","pdf":"","client":{{"id":{client_id},"phone":"[tg] 807892","client_phone":"","name":"Peter","assigned_name":"","external_id":""}},"hook_type":"{hook_type}","request_id":{dialog_id},"attachments":[],"is_new_request":"","is_new_client":"","extra_data":[],"event_time":"2019-07-28T23:01:40Z"}}"#
    )
    .into_bytes()
}

/// A Chat2Desk hints request (`ai_hints_requested`, first form) for `message_id`.
pub fn hints_request(dialog_id: u64, client_id: u64, request_id: u64, message_id: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "client_id": client_id,
        "operator_id": 1,
        "dialog_id": dialog_id,
        "request_id": request_id,
        "channel_id": 17404,
        "message_id": message_id,
        "hook_type": "ai_hints_requested",
        "event_time": "2019-07-28T23:01:40Z"
    }))
    .expect("static JSON serialises")
}

/// Message `seq` of a conversation load over `dialogs` dialogs: dialog `seq % dialogs + 1`,
/// its `seq / dialogs`-th message, operator greeting first, then client and operator in turn
/// (so every odd count of messages ends on the client's question). Message ids are
/// `id_base + seq`, unique so the platform's redelivery key never collides.
pub fn conversation_message(dialogs: u64, id_base: u64, seq: u64) -> Vec<u8> {
    let dialog = seq % dialogs + 1;
    let nth = seq / dialogs;
    let from_client = nth % 2 == 1;
    let text = if from_client {
        client_text(nth / 2)
    } else {
        operator_text(nth / 2)
    };
    message(dialog, client_of(dialog), id_base + seq, from_client, text)
}

/// The message id of the `nth` message of `dialog` in a [`conversation_message`] load.
pub fn conversation_message_id(dialogs: u64, id_base: u64, dialog: u64, nth: u64) -> u64 {
    id_base + nth * dialogs + (dialog - 1)
}

/// The client of a dialog in the benchmarks' loads.
pub fn client_of(dialog: u64) -> u64 {
    100_000 + dialog
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_chat2desk_keys() {
        let v: serde_json::Value =
            serde_json::from_slice(&message(331, 11910, 8205, true, "hi")).unwrap();
        assert_eq!(v["hook_type"], "inbox");
        assert_eq!(v["dialog_id"], 331);
        let v: serde_json::Value =
            serde_json::from_slice(&hints_request(331, 11910, 2343, 8205)).unwrap();
        assert_eq!(v["hook_type"], "ai_hints_requested");
        assert_eq!(v["message_id"], 8205);
    }

    #[test]
    fn rendered_message_is_valid_json() {
        let v: serde_json::Value =
            serde_json::from_slice(&message(5, 6, 7, false, "a \"quoted\" line")).unwrap();
        assert_eq!(v["text"], "a \"quoted\" line");
        assert_eq!(v["operator_id"], 41164);
        assert_eq!(v["client"]["id"], 6);
        assert_eq!(v.as_object().unwrap().len(), 20);
    }

    #[test]
    fn conversation_ids_line_up() {
        let body = conversation_message(7, 1000, 3 * 7 + 4);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["dialog_id"], 5);
        assert_eq!(v["hook_type"], "inbox");
        assert_eq!(v["message_id"], conversation_message_id(7, 1000, 5, 3));
    }
}
