"""Running a plugin under CPython, without a component: `FakeHost` stands in for hintd's
imports (an in-memory `kv`, a `config` table, captured log lines, canned HTTP answers).

    with FakeHost(config={"greeting": "Hi"}) as host:
        hints = MyPlugin().suggest(request("hello"))
        assert host.logs == [...]
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from . import host as _host
from .errors import HttpError, KvDenied, KvInvalidKey, KvQuotaExceeded
from .types import HintRequest, Message, Role


class FakeHost:
    """An in-memory host. `capabilities` limits what is granted, as a manifest does."""

    def __init__(
        self,
        config: Optional[Dict[str, Any]] = None,
        capabilities: Tuple[str, ...] = ("log", "kv", "config", "http"),
        kv_quota_bytes: int = 1 << 20,
        http_handler: Optional[Callable[[str, str, list, bytes], Any]] = None,
    ) -> None:
        self.config = dict(config or {})
        self.capabilities = set(capabilities)
        self.kv_quota_bytes = kv_quota_bytes
        self.http_handler = http_handler
        self.store: Dict[str, bytes] = {}
        self.logs: List[Tuple[str, str]] = []

    def __enter__(self) -> "FakeHost":
        _host.set_backend(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _host.set_backend(None)

    def log(self, level: str, message: str) -> None:
        if "log" in self.capabilities:
            self.logs.append((level, message))

    def _kv_allowed(self, key: Optional[str] = None) -> None:
        if "kv" not in self.capabilities:
            raise KvDenied("the manifest does not grant kv")
        if key is not None and not (0 < len(key.encode("utf-8")) <= 256):
            raise KvInvalidKey(f"key of {len(key.encode('utf-8'))} bytes")

    def kv_get(self, key: str) -> Optional[bytes]:
        self._kv_allowed(key)
        return self.store.get(key)

    def kv_set(self, key: str, value: bytes) -> None:
        self._kv_allowed(key)
        used = sum(len(k.encode()) + len(v) for k, v in self.store.items() if k != key)
        if used + len(key.encode()) + len(value) > self.kv_quota_bytes:
            raise KvQuotaExceeded(f"quota of {self.kv_quota_bytes} bytes")
        self.store[key] = value

    def kv_delete(self, key: str) -> None:
        self._kv_allowed(key)
        self.store.pop(key, None)

    def kv_scan(self, prefix: str, limit: int) -> List[Tuple[str, bytes]]:
        self._kv_allowed()
        keys = sorted(k for k in self.store if k.startswith(prefix))
        return [(k, self.store[k]) for k in keys[:limit]]

    def config_get_all(self) -> str:
        import json

        return json.dumps(self.config if "config" in self.capabilities else {})

    def http_send(self, method: str, url: str, headers: list, body: bytes, timeout_ms: int) -> Any:
        if "http" not in self.capabilities or self.http_handler is None:
            raise HttpError("denied", f"{url}: not allowed")
        return self.http_handler(method, url, headers, body)


def request(*texts: str, account: str = "default", source: str = "api", dialog_id: str = "d1") -> HintRequest:
    """A hint request whose context alternates client and operator messages, client first."""
    context = [
        Message(id=str(i + 1), role=Role.CLIENT if i % 2 == 0 else Role.OPERATOR, text=t, sent_at=i)
        for i, t in enumerate(texts)
    ]
    return HintRequest(
        request_id="r1",
        account=account,
        source=source,
        dialog_id=dialog_id,
        client_id="c1",
        message_id=context[-1].id if context else "",
        context=context,
    )
