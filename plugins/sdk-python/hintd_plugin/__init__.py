"""Write hintd hint-provider plugins in Python.

Subclass `Plugin`, implement `suggest` (and, when the plugin learns, `feedback` and
`observe`), and export it from the app module that componentize-py builds:

    import hintd_plugin as hp

    class Greeter(hp.Plugin):
        name, version, description = "greeter", "0.1.0", "Greets the client"

        def suggest(self, req):
            return [hp.Hint("hello", "Hello! How can I help?", relevance=70)]

    Provider = hp.export(Greeter)

Errors: raise `InvalidRequest`, `Upstream`, `Misconfigured` or `Internal` from `suggest` to
answer that `provider-error`; any other exception is answered as `internal` with its type and
message, and its traceback goes to the host's log. Exceptions of `feedback` and `observe`
(which answer nothing) are logged the same way and swallowed, so they never trap.

Relevance: 0 to 100; `Hint` rounds and clamps what it is given (never a trap).
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Type

from . import host as _host_module
from .errors import (
    HttpError,
    Internal,
    InvalidRequest,
    KvDenied,
    KvError,
    KvInvalidKey,
    KvQuotaExceeded,
    KvUnavailable,
    Misconfigured,
    ProviderError,
    Upstream,
)
from .host import Response, config, http, kv, log
from .types import (
    RELEVANCE_MAX,
    RELEVANCE_MIN,
    ConversationEvent,
    DialogClosed,
    DialogOpened,
    DialogRef,
    DialogTransferred,
    Feedback,
    Hint,
    HintRequest,
    Message,
    MessageAdded,
    MessageDeleted,
    MessageUpdated,
    PluginInfo,
    Role,
    clamp_relevance,
)

__all__ = [
    "Plugin", "export", "Hint", "HintRequest", "Message", "Role", "Feedback", "DialogRef",
    "ConversationEvent", "MessageAdded", "MessageUpdated", "MessageDeleted", "DialogOpened",
    "DialogClosed", "DialogTransferred", "PluginInfo", "ProviderError", "InvalidRequest",
    "Upstream", "Misconfigured", "Internal", "KvError", "KvDenied", "KvQuotaExceeded",
    "KvInvalidKey", "KvUnavailable", "HttpError", "Response", "kv", "config", "log", "http",
    "clamp_relevance", "RELEVANCE_MIN", "RELEVANCE_MAX",
]


class Plugin:
    """A hint provider. Set `name`, `version` and `description` (or override `describe`) and
    implement `suggest`; `feedback` and `observe` ignore what they get unless overridden.

    One object serves every call of one component instance: with `instance = "reuse"` in the
    manifest, what it keeps in attributes lives across calls of one account; with "fresh",
    each call gets a new instance. Keep what must last in `kv`.
    """

    name: str = "plugin"
    version: str = "0.1.0"
    description: str = ""

    def describe(self) -> PluginInfo:
        """Names the plugin; called once at load."""
        return PluginInfo(self.name, self.version, self.description)

    def suggest(self, req: HintRequest) -> List[Hint]:
        """Ranked hints for a request, best first."""
        raise NotImplementedError(f"{type(self).__name__}.suggest")

    def feedback(self, fb: Feedback) -> None:
        """The operator's choice among the hints shown."""

    def observe(self, event: ConversationEvent) -> None:
        """A change in a conversation, off the request path."""


def export(plugin: Type[Plugin]) -> type:
    """The class componentize-py exports: assign it to `Provider` in the app module.

    The plugin object is made at the first call, not when the module is imported:
    componentize-py runs the module's top level while building, when no host exists. The
    bridge to the bindings is imported here, though: a component has no files to import
    modules from once built, only what its top level imported.
    """
    if not (isinstance(plugin, type) and issubclass(plugin, Plugin)):
        raise TypeError("export takes a subclass of hintd_plugin.Plugin")
    state: dict = {}
    try:
        from . import component

        state["component"] = component
    except ImportError as e:
        # Under CPython (unit tests) there are no bindings; the class still exists.
        state["missing"] = e

    def instance() -> Plugin:
        if "plugin" not in state:
            if "component" not in state:
                raise RuntimeError(
                    f"no component bindings ({state['missing']}): build the app with componentize-py"
                )
            _host_module.set_backend(state["component"].ComponentHost())
            state["plugin"] = plugin()
        return state["plugin"]

    class Provider:
        def describe(self) -> Any:
            info = instance().describe()
            wit = state["component"].wit
            return wit.PluginInfo(info.name, info.version, info.description)

        def suggest(self, req: Any) -> Any:
            p = instance()
            c = state["component"]
            try:
                hints = p.suggest(c.request(req))
                return [c.hint_to_wit(h) for h in hints or []]
            except ProviderError as e:
                raise c.provider_error(e) from None
            except Exception as e:  # noqa: BLE001 - every other exception is `internal`
                c.log_exception("suggest", e)
                raise c.provider_error(e) from None

        def feedback(self, fb: Any) -> None:
            p = instance()
            c = state["component"]
            try:
                p.feedback(c.feedback(fb))
            except Exception as e:  # noqa: BLE001 - feedback answers nothing: log, never trap
                c.log_exception("feedback", e)

        def observe(self, event: Any) -> None:
            p = instance()
            c = state["component"]
            try:
                p.observe(c.event(event))
            except Exception as e:  # noqa: BLE001 - observe answers nothing: log, never trap
                c.log_exception("observe", e)

    Provider.__name__ = Provider.__qualname__ = "Provider"
    return Provider
