//! The answer in Chat2Desk's `ai_hints_requested` reply format, used for every source:
//! `{"message_id":8205,"hints":[{"id":1,"text":"..","url":"","relevance":90,"link":""}]}`.

use super::merge::MergedHint;
use serde::{Deserialize, Serialize};

/// The reply body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HintsReply {
    /// The message the hints answer, echoed as the platform sent it (a number when it is one).
    #[schema(schema_with = message_id_schema)]
    pub message_id: serde_json::Value,
    /// Ranked hints, ids 1..k.
    pub hints: Vec<ReplyHint>,
}

/// One hint of the reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplyHint {
    /// Answer-local id, 1..k; the platform sends it back as `hint_id`.
    pub id: u32,
    /// Suggested reply.
    pub text: String,
    /// URL for the operator, `""` when none.
    pub url: String,
    /// 0–100.
    pub relevance: u8,
    /// Link to send along, `""` when none.
    pub link: String,
}

/// `message_id` is a number or a string ([`message_id_json`]).
fn message_id_schema() -> utoipa::openapi::schema::OneOfBuilder {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Integer))
        .item(ObjectBuilder::new().schema_type(Type::String))
        .description(Some("The platform's message id: a number when it is one"))
}

/// A message id as JSON: platforms that number messages get a number back, others a string.
pub fn message_id_json(message_id: &str) -> serde_json::Value {
    let numeric = !message_id.is_empty()
        && message_id.len() < 19
        && message_id.bytes().all(|b| b.is_ascii_digit())
        && (message_id == "0" || !message_id.starts_with('0'));
    match message_id.parse::<i64>() {
        Ok(n) if numeric => serde_json::Value::from(n),
        _ => serde_json::Value::from(message_id),
    }
}

impl HintsReply {
    /// The reply for merged hints.
    pub fn new(message_id: &str, hints: &[MergedHint]) -> Self {
        HintsReply {
            message_id: message_id_json(message_id),
            hints: hints
                .iter()
                .map(|h| ReplyHint {
                    id: h.id,
                    text: h.text.clone(),
                    url: h.url.clone().unwrap_or_default(),
                    relevance: h.relevance.min(100),
                    link: h.link.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a reply always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hints::merge::Origin;
    use crate::plugins::Hint;

    #[test]
    fn matches_the_chat2desk_example() {
        let origin = Origin {
            plugin: "faq".into(),
            hint: Hint {
                id: "k".into(),
                text: "answer 1".into(),
                url: None,
                link: None,
                relevance: 90,
            },
            rank: 1,
        };
        let merged = vec![MergedHint {
            id: 1,
            text: "answer 1".into(),
            url: None,
            link: None,
            relevance: 90,
            score: 90.0,
            origins: vec![origin],
        }];
        let body = String::from_utf8(HintsReply::new("8205", &merged).to_json()).unwrap();
        assert_eq!(
            body,
            r#"{"message_id":8205,"hints":[{"id":1,"text":"answer 1","url":"","relevance":90,"link":""}]}"#
        );
    }

    #[test]
    fn non_numeric_ids_stay_strings() {
        assert_eq!(message_id_json("8205"), serde_json::json!(8205));
        assert_eq!(message_id_json("0"), serde_json::json!(0));
        assert_eq!(message_id_json("007"), serde_json::json!("007"));
        assert_eq!(
            message_id_json("3EB0C767D26A1D"),
            serde_json::json!("3EB0C767D26A1D")
        );
        assert_eq!(
            message_id_json("99999999999999999999"),
            serde_json::json!("99999999999999999999")
        );
        assert_eq!(message_id_json(""), serde_json::json!(""));
    }
}
