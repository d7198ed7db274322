//! Bindings for `hintd:provider@0.1.0` and their conversions to the host's types.

use crate::plugins::types as host;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "hint-provider",
    // Host imports may suspend (kv and http do I/O) and may trap (a call past its deadline
    // inside `http` is ended by a trap rather than an answer).
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::hintd::provider::types as wit;

impl From<crate::core::Role> for wit::Role {
    fn from(r: crate::core::Role) -> Self {
        use crate::core::Role as R;
        match r {
            R::Client => wit::Role::Client,
            R::Operator => wit::Role::Operator,
            R::Bot => wit::Role::Bot,
            R::System => wit::Role::System,
        }
    }
}

impl From<&crate::core::Message> for wit::Message {
    fn from(m: &crate::core::Message) -> Self {
        wit::Message {
            id: m.id.clone(),
            role: m.role.into(),
            text: m.text.clone(),
            sent_at: m.sent_at_ms.max(0) as u64,
            private: m.private,
            media_type: m.media_type.clone(),
        }
    }
}

impl From<&host::HintRequest> for wit::HintRequest {
    fn from(r: &host::HintRequest) -> Self {
        wit::HintRequest {
            request_id: r.request_id.clone(),
            account: r.dialog.account.clone(),
            source: r.dialog.source.as_str().to_string(),
            dialog_id: r.dialog.dialog_id.clone(),
            client_id: r.client_id.clone(),
            operator_id: r.operator_id.clone(),
            channel_id: r.channel_id.clone(),
            transport: r.transport.clone(),
            message_id: r.message_id.clone(),
            external_key: r.external_key.clone(),
            context: r.context.iter().map(Into::into).collect(),
            max_hints: r.max_hints,
            deadline_ms: r.deadline_ms,
        }
    }
}

impl From<&host::Hint> for wit::Hint {
    fn from(h: &host::Hint) -> Self {
        wit::Hint {
            id: h.id.clone(),
            text: h.text.clone(),
            url: h.url.clone(),
            link: h.link.clone(),
            relevance: h.relevance,
        }
    }
}

impl From<wit::Hint> for host::Hint {
    fn from(h: wit::Hint) -> Self {
        host::Hint {
            id: h.id,
            text: h.text,
            url: h.url,
            link: h.link,
            relevance: h.relevance,
        }
    }
}

impl From<&host::Feedback> for wit::Feedback {
    fn from(f: &host::Feedback) -> Self {
        wit::Feedback {
            request_id: f.request_id.clone(),
            dialog_id: f.dialog_id.clone(),
            message_id: f.message_id.clone(),
            chosen: (&f.chosen).into(),
            chosen_is_mine: f.chosen_is_mine,
            shown: f.shown.iter().map(Into::into).collect(),
            context: f.context.iter().map(Into::into).collect(),
        }
    }
}

impl From<&host::DialogRef> for wit::DialogRef {
    fn from(d: &host::DialogRef) -> Self {
        wit::DialogRef {
            source: d.dialog.source.as_str().to_string(),
            account: d.dialog.account.clone(),
            dialog_id: d.dialog.dialog_id.clone(),
            client_id: d.client_id.clone(),
        }
    }
}

impl From<&host::ConversationEvent> for wit::ConversationEvent {
    fn from(e: &host::ConversationEvent) -> Self {
        use host::ConversationEvent as E;
        match e {
            E::MessageAdded(at, m) => wit::ConversationEvent::MessageAdded((at.into(), m.into())),
            E::MessageUpdated(at, m) => {
                wit::ConversationEvent::MessageUpdated((at.into(), m.into()))
            }
            E::MessageDeleted(at, id) => {
                wit::ConversationEvent::MessageDeleted((at.into(), id.clone()))
            }
            E::DialogOpened(at) => wit::ConversationEvent::DialogOpened(at.into()),
            E::DialogClosed(at) => wit::ConversationEvent::DialogClosed(at.into()),
            E::DialogTransferred(at, to) => {
                wit::ConversationEvent::DialogTransferred((at.into(), to.clone()))
            }
        }
    }
}

impl From<wit::ProviderError> for host::ProviderError {
    fn from(e: wit::ProviderError) -> Self {
        match e {
            wit::ProviderError::InvalidRequest(s) => host::ProviderError::InvalidRequest(s),
            wit::ProviderError::Upstream(s) => host::ProviderError::Upstream(s),
            wit::ProviderError::Misconfigured(s) => host::ProviderError::Misconfigured(s),
            wit::ProviderError::Internal(s) => host::ProviderError::Internal(s),
        }
    }
}

impl From<wit::PluginInfo> for host::PluginInfo {
    fn from(i: wit::PluginInfo) -> Self {
        host::PluginInfo {
            name: i.name,
            version: i.version,
            description: i.description,
        }
    }
}
