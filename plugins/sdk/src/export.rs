//! What [`export_plugin!`](crate::export_plugin) expands to: the provider value of this
//! component instance, and the `hint-provider` exports that call it.

use std::cell::RefCell;

/// The provider of one component instance, made by its first call.
///
/// A component instance runs one call at a time and never re-enters itself, so the borrow
/// below cannot collide; a call that panics aborts the instance, which the host then drops
/// with this value.
pub struct Slot<P>(RefCell<Option<P>>);

impl<P> Slot<P> {
    /// An empty slot.
    pub const fn new() -> Self {
        Slot(RefCell::new(None))
    }

    /// Runs `call` on the provider, making it with `make` first if this is the first call.
    pub fn with<R>(&self, make: fn() -> P, call: impl FnOnce(&mut P) -> R) -> R {
        let mut provider = self.0.borrow_mut();
        call(provider.get_or_insert_with(make))
    }
}

impl<P> Default for Slot<P> {
    fn default() -> Self {
        Slot::new()
    }
}

/// Exports a [`Provider`](crate::Provider) implementation as the plugin's `hint-provider`
/// component.
///
/// `export_plugin!(MyPlugin)` makes the value with `Default::default()`;
/// `export_plugin!(MyPlugin, MyPlugin::new)` with the given `fn() -> MyPlugin`. Either runs
/// on the instance's first call, so it may read [`settings`](crate::settings) or [`kv`](crate::kv).
#[macro_export]
macro_rules! export_plugin {
    ($provider:ty, $constructor:expr $(,)?) => {
        #[doc(hidden)]
        struct __HintdPluginExport;

        ::std::thread_local! {
            static __HINTD_PROVIDER: $crate::export::Slot<$provider> =
                const { $crate::export::Slot::new() };
        }

        impl __HintdPluginExport {
            fn with<R>(call: impl FnOnce(&mut $provider) -> R) -> R {
                __HINTD_PROVIDER.with(|slot| slot.with($constructor, call))
            }
        }

        impl $crate::bindings::exports::hintd::provider::provider::Guest for __HintdPluginExport {
            fn describe() -> $crate::PluginInfo {
                Self::with(|p| <$provider as $crate::Provider>::describe(p))
            }
            fn suggest(
                req: $crate::HintRequest,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::Hint>, $crate::ProviderError> {
                Self::with(|p| <$provider as $crate::Provider>::suggest(p, req))
            }
            fn feedback(fb: $crate::Feedback) {
                Self::with(|p| <$provider as $crate::Provider>::feedback(p, fb))
            }
            fn observe(event: $crate::ConversationEvent) {
                Self::with(|p| <$provider as $crate::Provider>::observe(p, event))
            }
        }

        $crate::bindings::__export_hint_provider!(__HintdPluginExport with_types_in $crate::bindings);
    };
    ($provider:ty $(,)?) => {
        $crate::export_plugin!($provider, <$provider as ::core::default::Default>::default);
    };
}
