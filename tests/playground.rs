//! `POST /api/v1/playground` against the real hintd with the shipped plugins faq and replies
//! and a plugin that always traps: each plugin's own hints and outcome, the merged answer
//! with its decisions, nothing stored, the fields of bad input named, the admin key.

use hintd_tests::chat2desk::{admin, source_config};
use hintd_tests::plugins::{install_hostile, install_shipped};
use hintd_tests::server::{Server, ServerSpec, client};
use reqwest::Method;
use serde_json::{Value, json};

const DELIVERY: &str = "Orders are delivered in 3 to 5 business days";

fn start(tmp: &std::path::Path) -> Server {
    let plugins = tmp.join("plugins");
    install_shipped(&plugins, "faq", "");
    install_shipped(&plugins, "replies", "");
    install_hostile(&plugins, "flaky", "trap", "capabilities = [\"config\"]", "");
    Server::start(tmp, ServerSpec::new(source_config()).plugins(&plugins))
}

fn dialogue() -> Value {
    json!({
        "source": "chat2desk",
        "context": [
            {"id": "1", "role": "client", "text": "Hello!", "sent_at_ms": 1_763_800_000_000i64},
            {"id": "2", "role": "operator", "text": "Hi, how can I help?", "sent_at_ms": 1_763_800_001_000i64},
            {"id": "3", "role": "client", "text": "How long does delivery take? When will my order arrive?", "sent_at_ms": 1_763_800_002_000i64}
        ]
    })
}

fn plugin<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["plugin"].as_str().is_some_and(|n| n.ends_with(name)))
        .unwrap_or_else(|| panic!("no plugin {name} in {result:#}"))
}

#[tokio::test]
async fn playground_shows_each_plugin_the_merge_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path());
    let (_, stats_before) = admin(&server, Method::GET, "/api/v1/hints/stats", None).await;

    let (status, result) = admin(
        &server,
        Method::POST,
        "/api/v1/playground",
        Some(dialogue()),
    )
    .await;
    assert_eq!(status, 200, "{result:#}");
    assert_eq!(result["plugins"].as_array().unwrap().len(), 3, "{result:#}");

    // faq answers the delivery question with its raw relevance.
    let faq = plugin(&result, "faq");
    assert_eq!(faq["outcome"], "ok", "{faq}");
    assert!(faq["error"].is_null(), "{faq}");
    let faq_hint = &faq["hints"][0];
    assert!(
        faq_hint["text"].as_str().unwrap().starts_with(DELIVERY),
        "{faq}"
    );
    assert!(faq_hint["relevance"].as_u64().unwrap() > 0, "{faq}");
    // replies has learned nothing: asked, answered, no hints.
    let replies = plugin(&result, "replies");
    assert_eq!(replies["outcome"], "ok", "{replies}");
    assert_eq!(replies["hints"], json!([]), "{replies}");
    // The trapping plugin is reported with its failure, not left out silently.
    let flaky = plugin(&result, "flaky");
    assert_eq!(flaky["outcome"], "trap", "{flaky}");
    assert!(!flaky["error"].as_str().unwrap().is_empty(), "{flaky}");
    assert_eq!(flaky["hints"], json!([]), "{flaky}");

    // The merged answer holds faq's hint, and the decisions say so.
    let merged = result["merged"].as_array().unwrap();
    assert_eq!(merged[0]["id"], 1, "{result:#}");
    assert!(merged[0]["plugin"].as_str().unwrap().ends_with("faq"));
    assert!(merged[0]["text"].as_str().unwrap().starts_with(DELIVERY));
    assert_eq!(merged[0]["plugin_hint_id"], faq_hint["id"]);
    assert!(merged[0]["score"].as_f64().unwrap() > 0.0);
    let decisions = result["decisions"].as_array().unwrap();
    let faq_decisions = faq["hints"].as_array().unwrap().len();
    assert_eq!(
        decisions.len(),
        faq_decisions,
        "one decision per plugin hint: {result:#}"
    );
    let first = decisions
        .iter()
        .find(|d| d["hint_id"] == faq_hint["id"])
        .unwrap();
    assert_eq!(first["verdict"], "kept", "{first}");
    assert_eq!(first["merged_id"], 1, "{first}");
    assert!(result["threshold"].is_number() && result["max_hints"].is_u64());

    // A subset of plugins: only faq is asked.
    let mut only_faq = dialogue();
    only_faq["plugins"] = json!([faq["plugin"]]);
    only_faq["max_hints"] = json!(1);
    let (status, result) = admin(&server, Method::POST, "/api/v1/playground", Some(only_faq)).await;
    assert_eq!(status, 200, "{result:#}");
    assert_eq!(result["plugins"].as_array().unwrap().len(), 1, "{result:#}");
    assert_eq!(result["merged"].as_array().unwrap().len(), 1, "{result:#}");
    assert_eq!(result["max_hints"], 1);

    // Nothing stored: no answer counted, no conversation created.
    let (_, stats_after) = admin(&server, Method::GET, "/api/v1/hints/stats", None).await;
    assert_eq!(stats_before, stats_after);
    for dialog in ["playground", "1", "3"] {
        let (status, body) = admin(
            &server,
            Method::GET,
            &format!("/api/v1/conversations/chat2desk/default/{dialog}"),
            None,
        )
        .await;
        assert_eq!(status, 404, "{dialog}: {body}");
    }
}

#[tokio::test]
async fn bad_playground_input_names_the_field_and_the_key_is_needed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path());
    let message = json!({"id": "1", "role": "client", "text": "hi", "sent_at_ms": 1});
    let cases = [
        (json!({"context": [message]}), "source"),
        (json!({"source": "nowhere", "context": [message]}), "source"),
        (json!({"source": "api"}), "context"),
        (json!({"source": "api", "context": []}), "context"),
        (json!({"source": "api", "context": "hello"}), "context"),
        (
            json!({"source": "api", "context": [{"text": "no id"}]}),
            "context",
        ),
        (
            json!({"source": "api", "context": vec![message.clone(); 201]}),
            "context",
        ),
        (
            json!({"source": "api", "context": [message], "max_hints": 0}),
            "max_hints",
        ),
        (
            json!({"source": "api", "context": [message], "plugins": ["nope"]}),
            "plugins",
        ),
        (
            json!({"source": "api", "context": [message], "plugins": "faq"}),
            "plugins",
        ),
        (
            json!({"source": "api", "context": [message], "extra": 1}),
            "body",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = admin(
            &server,
            Method::POST,
            "/api/v1/playground",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    for auth in [None, Some("Bearer wrong-key")] {
        let mut req = client()
            .post(server.url("/api/v1/playground"))
            .json(&dialogue());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
    }
}
