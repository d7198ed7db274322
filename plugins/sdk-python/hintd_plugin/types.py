"""The contract's records as plain Python values (pure Python: usable in unit tests)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional, Union

#: The range of `hint.relevance` in the contract (a WIT `u8` read as 0 to 100).
RELEVANCE_MIN = 0
RELEVANCE_MAX = 100


def clamp_relevance(value: Union[int, float]) -> int:
    """`value` rounded to an integer and clamped to 0..100.

    The contract's `relevance` is a `u8`: a value outside it would trap the component. The SDK
    clamps instead, so a score of 250 is sent as 100 and -3 as 0; NaN is sent as 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"relevance must be a number, not {type(value).__name__}")
    if isinstance(value, float):
        if math.isnan(value):
            return RELEVANCE_MIN
        if math.isinf(value):
            return RELEVANCE_MAX if value > 0 else RELEVANCE_MIN
        value = round(value)
    return max(RELEVANCE_MIN, min(RELEVANCE_MAX, int(value)))


class Role(str, Enum):
    """Who wrote a message."""

    CLIENT = "client"
    OPERATOR = "operator"
    BOT = "bot"
    SYSTEM = "system"


@dataclass
class Message:
    """One message of a dialog."""

    id: str
    role: Role
    text: str
    sent_at: int = 0
    private: bool = False
    media_type: Optional[str] = None


@dataclass
class HintRequest:
    """A request for hints for the dialog `dialog_id` of `account` on `source`."""

    request_id: str
    account: str
    source: str
    dialog_id: str
    client_id: str
    message_id: str
    context: List[Message] = field(default_factory=list)
    max_hints: int = 5
    deadline_ms: int = 0
    operator_id: Optional[str] = None
    channel_id: Optional[str] = None
    transport: Optional[str] = None
    external_key: Optional[str] = None

    def last_client_message(self) -> Optional[Message]:
        """The most recent client message of the context, if any."""
        for message in reversed(self.context):
            if message.role == Role.CLIENT:
                return message
        return None


@dataclass
class Hint:
    """One suggested reply. `relevance` (0 to 100) is clamped when the hint is made."""

    id: str
    text: str
    relevance: int = 50
    url: Optional[str] = None
    link: Optional[str] = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise TypeError(f"hint id must be a str, not {type(self.id).__name__}")
        if not isinstance(self.text, str):
            raise TypeError(f"hint text must be a str, not {type(self.text).__name__}")
        self.relevance = clamp_relevance(self.relevance)


@dataclass
class Feedback:
    """What the operator did with the hints of one request.

    `chosen` may be another plugin's hint; `shown` lists this plugin's hints as shown. The
    0.1.0 contract carries no source or account: a plugin that learns per tenant puts them in
    its hint ids.
    """

    request_id: str
    dialog_id: str
    message_id: str
    chosen: Hint
    chosen_is_mine: bool
    shown: List[Hint] = field(default_factory=list)
    context: List[Message] = field(default_factory=list)


@dataclass
class DialogRef:
    """Where an event happened."""

    source: str
    account: str
    dialog_id: str
    client_id: Optional[str] = None


@dataclass
class MessageAdded:
    dialog: DialogRef
    message: Message


@dataclass
class MessageUpdated:
    dialog: DialogRef
    message: Message


@dataclass
class MessageDeleted:
    dialog: DialogRef
    message_id: str


@dataclass
class DialogOpened:
    dialog: DialogRef


@dataclass
class DialogClosed:
    dialog: DialogRef


@dataclass
class DialogTransferred:
    dialog: DialogRef
    operator_id: Optional[str]


#: A change in a conversation, given to `Plugin.observe`.
ConversationEvent = Union[
    MessageAdded, MessageUpdated, MessageDeleted, DialogOpened, DialogClosed, DialogTransferred
]


@dataclass
class PluginInfo:
    """What a plugin says about itself (`describe`)."""

    name: str
    version: str
    description: str
