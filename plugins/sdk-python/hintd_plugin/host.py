"""The host capabilities a manifest can grant: `log`, `kv`, `config` and `http`.

Each helper calls the current backend: inside a component, the contract's imports (set by
`hintd_plugin.export`); in unit tests, `hintd_plugin.testing.FakeHost`. A capability the
manifest does not grant answers `denied` (`KvDenied`, `HttpError("denied")`), never a trap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

_backend: Any = None
_config_table: Optional[Dict[str, Any]] = None


def set_backend(backend: Any) -> None:
    """Routes the helpers to `backend` (and forgets the cached config table)."""
    global _backend, _config_table
    _backend = backend
    _config_table = None


def _host() -> Any:
    if _backend is None:
        raise RuntimeError(
            "no hintd host: call the plugin through hintd_plugin.export (in a component) "
            "or hintd_plugin.testing.FakeHost (in tests)"
        )
    return _backend


class log:
    """Log lines, tagged with the plugin's name by the host."""

    @staticmethod
    def write(level: str, message: str) -> None:
        """`level` is one of trace, debug, info, warn, error."""
        _host().log(level, str(message))

    @staticmethod
    def trace(message: str) -> None:
        log.write("trace", message)

    @staticmethod
    def debug(message: str) -> None:
        log.write("debug", message)

    @staticmethod
    def info(message: str) -> None:
        log.write("info", message)

    @staticmethod
    def warn(message: str) -> None:
        log.write("warn", message)

    @staticmethod
    def error(message: str) -> None:
        log.write("error", message)


class kv:
    """The plugin's key-value store (manifest capability `kv`). Values are bytes; the
    `_json` helpers store JSON text. Failures raise `KvError` subclasses."""

    @staticmethod
    def get(key: str) -> Optional[bytes]:
        return _host().kv_get(key)

    @staticmethod
    def set(key: str, value: Union[bytes, str]) -> None:
        if isinstance(value, str):
            value = value.encode("utf-8")
        _host().kv_set(key, bytes(value))

    @staticmethod
    def delete(key: str) -> None:
        _host().kv_delete(key)

    @staticmethod
    def scan(prefix: str, limit: int = 100) -> List[Tuple[str, bytes]]:
        """Up to `limit` entries whose key starts with `prefix`, in key order."""
        return _host().kv_scan(prefix, int(limit))

    @staticmethod
    def get_json(key: str, default: Any = None) -> Any:
        """The value decoded as JSON; `default` when absent."""
        raw = kv.get(key)
        return default if raw is None else json.loads(raw.decode("utf-8"))

    @staticmethod
    def set_json(key: str, value: Any) -> None:
        kv.set(key, json.dumps(value, separators=(",", ":"), ensure_ascii=False))


class config:
    """The plugin's `[config]` table from its manifest (capability `config`), read from the
    host once per instance: it cannot change while an instance lives."""

    @staticmethod
    def all() -> Dict[str, Any]:
        """The whole table (empty when the manifest does not grant `config`)."""
        global _config_table
        if _config_table is None:
            table = json.loads(_host().config_get_all() or "{}")
            _config_table = table if isinstance(table, dict) else {}
        return _config_table

    @staticmethod
    def get(key: str, default: Any = None) -> Any:
        """One value (TOML tables are dicts, arrays lists); `default` when absent."""
        return config.all().get(key, default)


@dataclass
class Response:
    """An HTTP answer. Redirects are not followed."""

    status: int
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class http:
    """Outbound HTTP through the host (capability `http`, only to `allowed_hosts`). Failures
    raise `HttpError` with the contract's case in `kind`: denied, invalid-request, timeout,
    too-large, transport."""

    @staticmethod
    def send(
        method: str,
        url: str,
        headers: Optional[List[Tuple[str, str]]] = None,
        body: Union[bytes, str] = b"",
        timeout_ms: int = 5000,
    ) -> Response:
        if isinstance(body, str):
            body = body.encode("utf-8")
        return _host().http_send(method, url, list(headers or []), bytes(body), int(timeout_ms))

    @staticmethod
    def get(url: str, timeout_ms: int = 5000) -> Response:
        return http.send("GET", url, timeout_ms=timeout_ms)

    @staticmethod
    def post_json(url: str, value: Any, timeout_ms: int = 5000) -> Response:
        return http.send(
            "POST",
            url,
            [("content-type", "application/json")],
            json.dumps(value),
            timeout_ms,
        )
