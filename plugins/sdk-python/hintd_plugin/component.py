"""The bridge between a `Plugin` and the bindings componentize-py generates (`wit_world`).

Imported only inside a component: `wit_world` exists only while componentize-py builds one.
"""

from __future__ import annotations

import traceback
from typing import Any, List, Optional, Tuple

from componentize_py_types import Err
from wit_world.imports import config as wit_config
from wit_world.imports import http as wit_http
from wit_world.imports import kv as wit_kv
from wit_world.imports import log as wit_log
from wit_world.imports import types as wit

from . import errors, types
from .host import Response

_LEVELS = {
    "trace": wit_log.Level.TRACE,
    "debug": wit_log.Level.DEBUG,
    "info": wit_log.Level.INFO,
    "warn": wit_log.Level.WARN,
    "error": wit_log.Level.ERROR,
}
_ROLES = {
    wit.Role.CLIENT: types.Role.CLIENT,
    wit.Role.OPERATOR: types.Role.OPERATOR,
    wit.Role.BOT: types.Role.BOT,
    wit.Role.SYSTEM: types.Role.SYSTEM,
}
_PROVIDER_ERRORS = {
    "invalid-request": wit.ProviderError_InvalidRequest,
    "upstream": wit.ProviderError_Upstream,
    "misconfigured": wit.ProviderError_Misconfigured,
    "internal": wit.ProviderError_Internal,
}


def _kv_error(e: Err) -> errors.KvError:
    v = e.value
    if isinstance(v, wit_kv.KvError_Denied):
        return errors.KvDenied("the manifest does not grant kv")
    if isinstance(v, wit_kv.KvError_QuotaExceeded):
        return errors.KvQuotaExceeded("the write would exceed the plugin's kv quota")
    if isinstance(v, wit_kv.KvError_InvalidKey):
        return errors.KvInvalidKey("the key is empty or too long")
    return errors.KvUnavailable(getattr(v, "value", "the store failed"))


_HTTP_ERRORS = {
    "HttpError_Denied": "denied",
    "HttpError_InvalidRequest": "invalid-request",
    "HttpError_Timeout": "timeout",
    "HttpError_TooLarge": "too-large",
    "HttpError_Transport": "transport",
}


class ComponentHost:
    """The contract's imports, behind the interface `hintd_plugin.host` calls."""

    def log(self, level: str, message: str) -> None:
        wit_log.write(_LEVELS.get(level, wit_log.Level.INFO), message)

    def kv_get(self, key: str) -> Optional[bytes]:
        try:
            return wit_kv.get(key)
        except Err as e:
            raise _kv_error(e) from None

    def kv_set(self, key: str, value: bytes) -> None:
        try:
            wit_kv.set(key, value)
        except Err as e:
            raise _kv_error(e) from None

    def kv_delete(self, key: str) -> None:
        try:
            wit_kv.delete(key)
        except Err as e:
            raise _kv_error(e) from None

    def kv_scan(self, prefix: str, limit: int) -> List[Tuple[str, bytes]]:
        try:
            return [(k, bytes(v)) for k, v in wit_kv.scan(prefix, limit)]
        except Err as e:
            raise _kv_error(e) from None

    def config_get_all(self) -> str:
        return wit_config.get_all()

    def http_send(self, method: str, url: str, headers: list, body: bytes, timeout_ms: int) -> Response:
        req = wit_http.Request(method, url, headers, body, max(0, min(timeout_ms, 0xFFFFFFFF)))
        try:
            res = wit_http.send(req)
        except Err as e:
            kind = _HTTP_ERRORS.get(type(e.value).__name__, "transport")
            raise errors.HttpError(kind, str(getattr(e.value, "value", "") or "")) from None
        return Response(res.status, list(res.headers), bytes(res.body))


def message(m: Any) -> types.Message:
    return types.Message(m.id, _ROLES[m.role], m.text, m.sent_at, m.private, m.media_type)


def hint_from_wit(h: Any) -> types.Hint:
    return types.Hint(h.id, h.text, h.relevance, h.url, h.link)


def hint_to_wit(h: types.Hint) -> Any:
    if not isinstance(h, types.Hint):
        raise TypeError(f"suggest must return Hint values, not {type(h).__name__}")
    return wit.Hint(h.id, h.text, h.url, h.link, types.clamp_relevance(h.relevance))


def request(r: Any) -> types.HintRequest:
    return types.HintRequest(
        request_id=r.request_id,
        account=r.account,
        source=r.source,
        dialog_id=r.dialog_id,
        client_id=r.client_id,
        message_id=r.message_id,
        context=[message(m) for m in r.context],
        max_hints=r.max_hints,
        deadline_ms=r.deadline_ms,
        operator_id=r.operator_id,
        channel_id=r.channel_id,
        transport=r.transport,
        external_key=r.external_key,
    )


def feedback(f: Any) -> types.Feedback:
    return types.Feedback(
        request_id=f.request_id,
        dialog_id=f.dialog_id,
        message_id=f.message_id,
        chosen=hint_from_wit(f.chosen),
        chosen_is_mine=f.chosen_is_mine,
        shown=[hint_from_wit(h) for h in f.shown],
        context=[message(m) for m in f.context],
    )


def dialog(d: Any) -> types.DialogRef:
    return types.DialogRef(d.source, d.account, d.dialog_id, d.client_id)


def event(e: Any) -> types.ConversationEvent:
    v = e.value
    if isinstance(e, wit.ConversationEvent_MessageAdded):
        return types.MessageAdded(dialog(v[0]), message(v[1]))
    if isinstance(e, wit.ConversationEvent_MessageUpdated):
        return types.MessageUpdated(dialog(v[0]), message(v[1]))
    if isinstance(e, wit.ConversationEvent_MessageDeleted):
        return types.MessageDeleted(dialog(v[0]), v[1])
    if isinstance(e, wit.ConversationEvent_DialogOpened):
        return types.DialogOpened(dialog(v))
    if isinstance(e, wit.ConversationEvent_DialogClosed):
        return types.DialogClosed(dialog(v))
    return types.DialogTransferred(dialog(v[0]), v[1])


def provider_error(e: BaseException) -> Err:
    """The `provider-error` a raised exception maps to."""
    if isinstance(e, errors.ProviderError):
        return Err(_PROVIDER_ERRORS.get(e.kind, wit.ProviderError_Internal)(e.message))
    return Err(wit.ProviderError_Internal(f"{type(e).__name__}: {e}"))


def log_exception(function: str, e: BaseException) -> None:
    """Writes the traceback of an exception a plugin function raised to the host's log."""
    text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    wit_log.write(wit_log.Level.ERROR, f"{function} raised {type(e).__name__}: {e}\n{text}")
