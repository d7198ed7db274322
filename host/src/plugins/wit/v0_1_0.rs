//! Bindings for `hintd:provider@0.1.0` and their conversions to the host's types.

// The generated bindings carry the WIT's own comments, not Rust docs on every item.
#![allow(missing_docs)]

use crate::plugins::types as host;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "hint-provider",
    // Host imports may suspend (kv and http do I/O) and may trap (a call past its deadline
    // inside `http` is ended by a trap rather than an answer).
    imports: { default: async | trappable },
    exports: { default: async },
    // Requests are lowered into the guest straight from borrowed host data, not from
    // owned copies made for each call.
    ownership: Borrowing { duplicate_if_necessary: true },
});

pub use self::hintd::provider::types as wit;

use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Func, Instance, InstancePre, Lift, Lower, TypedFunc,
};
use wasmtime::{AsContextMut, Engine};

/// The exported interface plugins implement, as named in the component.
const PROVIDER_INTERFACE: &str = "hintd:provider/provider@0.1.0";

/// A pre-linked `hint-provider` component. Its exports are type-checked once, here; the
/// generated `HintProviderPre::instantiate_async` checks every export again on each
/// instantiation, which cost more than a tenth of a fresh instance.
pub struct ProviderPre<T: 'static> {
    pre: InstancePre<T>,
    exports: ProviderExports,
}

/// The `provider` functions, in the order [`ProviderExports`] and [`Provider`] keep them.
#[derive(Clone, Copy)]
enum Export {
    Describe,
    Suggest,
    Feedback,
    Observe,
}

impl Export {
    const NAMES: [&str; 4] = ["describe", "suggest", "feedback", "observe"];
}

/// Where the `provider` functions sit among the component's exports, by [`Export`].
type ProviderExports = [ComponentExportIndex; Export::NAMES.len()];

impl<T: Send + 'static> ProviderPre<T> {
    /// Checks that `pre`'s component implements `hint-provider`, with the exact types.
    pub fn new(pre: InstancePre<T>) -> wasmtime::Result<Self> {
        HintProviderPre::new(pre.clone())?;
        let component = pre.component();
        let interface = component
            .get_export_index(None, PROVIDER_INTERFACE)
            .ok_or_else(|| wasmtime::format_err!("no exported instance `{PROVIDER_INTERFACE}`"))?;
        let [describe, suggest, feedback, observe] = Export::NAMES.map(|name| {
            component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| wasmtime::format_err!("`{PROVIDER_INTERFACE}` exports no `{name}`"))
        });
        let exports = [describe?, suggest?, feedback?, observe?];
        Ok(ProviderPre { pre, exports })
    }

    /// The engine the component was compiled for.
    pub fn engine(&self) -> &Engine {
        self.pre.engine()
    }

    /// A new instance in `store`.
    pub async fn instantiate_async(
        &self,
        store: impl AsContextMut<Data = T>,
    ) -> wasmtime::Result<Provider> {
        Ok(Provider {
            instance: self.pre.instantiate_async(store).await?,
            exports: self.exports,
            funcs: [None; Export::NAMES.len()],
        })
    }
}

// The signatures `Provider` calls with, each written once; the assertions do not compile if
// they differ from the generated bindings' own, which is what makes the unchecked calls sound.
type DescribeFunc = TypedFunc<(), (wit::PluginInfo,)>;
type SuggestFunc<'a> =
    TypedFunc<(wit::HintRequest<'a>,), (Result<Vec<wit::HintResult>, wit::ProviderError>,)>;
type FeedbackFunc<'a> = TypedFunc<(wit::Feedback<'a>,), ()>;
type ObserveFunc<'a> = TypedFunc<(wit::ConversationEvent<'a>,), ()>;
type Generated = exports::hintd::provider::provider::Guest;
const _: fn(&Generated) -> DescribeFunc = Generated::func_describe;
const _: fn(&Generated) -> SuggestFunc<'_> = Generated::func_suggest;
const _: fn(&Generated) -> FeedbackFunc<'_> = Generated::func_feedback;
const _: fn(&Generated) -> ObserveFunc<'_> = Generated::func_observe;

/// One instance's `provider` functions.
pub struct Provider {
    instance: Instance,
    exports: ProviderExports,
    /// The functions looked up so far, by [`Export`]: a reused instance looks each up once.
    funcs: [Option<Func>; Export::NAMES.len()],
}

impl Provider {
    /// `export` with the signature `ProviderPre::new` checked it has.
    fn typed<P, R>(
        &mut self,
        store: impl AsContextMut,
        export: Export,
    ) -> wasmtime::Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        let slot = &mut self.funcs[export as usize];
        let func = match *slot {
            Some(func) => func,
            None => *slot.insert(
                self.instance
                    .get_func(store, self.exports[export as usize])
                    .ok_or_else(|| {
                        wasmtime::format_err!("the instance lost a `provider` export")
                    })?,
            ),
        };
        // SAFETY: `ProviderPre::new` type-checked this export of this component against the
        // generated bindings, whose signatures the callers below use (the aliases above).
        Ok(unsafe { TypedFunc::new_unchecked(func) })
    }

    /// `describe()`.
    pub async fn call_describe<S: AsContextMut<Data: Send>>(
        &mut self,
        mut store: S,
    ) -> wasmtime::Result<wit::PluginInfo> {
        let f: DescribeFunc = self.typed(&mut store, Export::Describe)?;
        Ok(f.call_async(store, ()).await?.0)
    }

    /// `suggest(req)`.
    pub async fn call_suggest<S: AsContextMut<Data: Send>>(
        &mut self,
        mut store: S,
        req: wit::HintRequest<'_>,
    ) -> wasmtime::Result<Result<Vec<wit::HintResult>, wit::ProviderError>> {
        let f: SuggestFunc<'_> = self.typed(&mut store, Export::Suggest)?;
        Ok(f.call_async(store, (req,)).await?.0)
    }

    /// `feedback(fb)`.
    pub async fn call_feedback<S: AsContextMut<Data: Send>>(
        &mut self,
        mut store: S,
        fb: wit::Feedback<'_>,
    ) -> wasmtime::Result<()> {
        let f: FeedbackFunc<'_> = self.typed(&mut store, Export::Feedback)?;
        f.call_async(store, (fb,)).await
    }

    /// `observe(event)`.
    pub async fn call_observe<S: AsContextMut<Data: Send>>(
        &mut self,
        mut store: S,
        event: wit::ConversationEvent<'_>,
    ) -> wasmtime::Result<()> {
        let f: ObserveFunc<'_> = self.typed(&mut store, Export::Observe)?;
        f.call_async(store, (event,)).await
    }
}

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

impl<'a> From<&'a crate::core::Message> for wit::Message<'a> {
    fn from(m: &'a crate::core::Message) -> Self {
        wit::Message {
            id: &m.id,
            role: m.role.into(),
            text: &m.text,
            sent_at: m.sent_at_ms.max(0) as u64,
            private: m.private,
            media_type: m.media_type.as_deref(),
        }
    }
}

/// Borrowed forms of `items`, for the lists a record lowered to the guest refers to.
pub fn lower_all<'a, T, U: From<&'a T>>(items: &'a [T]) -> Vec<U> {
    items.iter().map(U::from).collect()
}

/// The guest's form of `r`, with `deadline_ms` left for the call; `context` is
/// `lower_all(&r.context)`, kept by the caller for as long as the request.
pub fn hint_request<'a>(
    r: &'a host::HintRequest,
    context: &'a [wit::Message<'a>],
    deadline_ms: u32,
) -> wit::HintRequest<'a> {
    wit::HintRequest {
        request_id: &r.request_id,
        account: &r.dialog.account,
        source: r.dialog.source.as_str(),
        dialog_id: &r.dialog.dialog_id,
        client_id: &r.client_id,
        operator_id: r.operator_id.as_deref(),
        channel_id: r.channel_id.as_deref(),
        transport: r.transport.as_deref(),
        message_id: &r.message_id,
        external_key: r.external_key.as_deref(),
        context,
        max_hints: r.max_hints,
        deadline_ms,
    }
}

impl<'a> From<&'a host::Hint> for wit::HintParam<'a> {
    fn from(h: &'a host::Hint) -> Self {
        wit::HintParam {
            id: &h.id,
            text: &h.text,
            url: h.url.as_deref(),
            link: h.link.as_deref(),
            relevance: h.relevance,
        }
    }
}

impl From<wit::HintResult> for host::Hint {
    fn from(h: wit::HintResult) -> Self {
        host::Hint {
            id: h.id,
            text: h.text,
            url: h.url,
            link: h.link,
            relevance: h.relevance,
        }
    }
}

/// The guest's form of `f`; `shown` and `context` are `lower_all` of its lists, kept by
/// the caller for as long as the record.
pub fn feedback<'a>(
    f: &'a host::Feedback,
    shown: &'a [wit::HintParam<'a>],
    context: &'a [wit::Message<'a>],
) -> wit::Feedback<'a> {
    wit::Feedback {
        request_id: &f.request_id,
        dialog_id: &f.dialog_id,
        message_id: &f.message_id,
        chosen: (&f.chosen).into(),
        chosen_is_mine: f.chosen_is_mine,
        shown,
        context,
    }
}

impl<'a> From<&'a host::DialogRef> for wit::DialogRef<'a> {
    fn from(d: &'a host::DialogRef) -> Self {
        wit::DialogRef {
            source: d.dialog.source.as_str(),
            account: &d.dialog.account,
            dialog_id: &d.dialog.dialog_id,
            client_id: d.client_id.as_deref(),
        }
    }
}

impl<'a> From<&'a host::ConversationEvent> for wit::ConversationEvent<'a> {
    fn from(e: &'a host::ConversationEvent) -> Self {
        use host::ConversationEvent as E;
        match e {
            E::MessageAdded(at, m) => wit::ConversationEvent::MessageAdded((at.into(), m.into())),
            E::MessageUpdated(at, m) => {
                wit::ConversationEvent::MessageUpdated((at.into(), m.into()))
            }
            E::MessageDeleted(at, id) => wit::ConversationEvent::MessageDeleted((at.into(), id)),
            E::DialogOpened(at) => wit::ConversationEvent::DialogOpened(at.into()),
            E::DialogClosed(at) => wit::ConversationEvent::DialogClosed(at.into()),
            E::DialogTransferred(at, to) => {
                wit::ConversationEvent::DialogTransferred((at.into(), to.as_deref()))
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
