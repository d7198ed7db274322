"""Exceptions of the SDK. A `ProviderError` raised by `suggest` becomes the contract's
`provider-error` of the same kind; any other exception becomes `internal` with its type and
message (and its traceback in the host's log)."""

from __future__ import annotations


class ProviderError(Exception):
    """Why `suggest` gave no hints. Raise one of the subclasses."""

    #: The `provider-error` case this maps to.
    kind = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(ProviderError):
    """The request lacks something this plugin needs (e.g. no client message yet)."""

    kind = "invalid-request"


class Upstream(ProviderError):
    """An upstream service (LLM endpoint, knowledge base) failed or timed out."""

    kind = "upstream"


class Misconfigured(ProviderError):
    """The plugin's own configuration is unusable."""

    kind = "misconfigured"


class Internal(ProviderError):
    """Anything else."""

    kind = "internal"


class KvError(Exception):
    """A `kv` call failed."""


class KvDenied(KvError):
    """The manifest does not grant `kv`."""


class KvQuotaExceeded(KvError):
    """The write would take the plugin over its storage quota."""


class KvInvalidKey(KvError):
    """The key is empty or longer than the host allows."""


class KvUnavailable(KvError):
    """The host's store failed; try later."""


class HttpError(Exception):
    """An `http` call failed; `kind` is the contract's `http-error` case."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message
