"""Intent routing and reply learning of the intents-py plugin, in plain Python (unit-tested
under CPython by test_intents.py, run in the component by app.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

# A keyword found scores this much, each further keyword of the same intent adds STEP; a
# pattern match scores PATTERN_SCORE. Replies after the first of an intent lose STEP each.
KEYWORD_SCORE = 60
STEP = 8
PATTERN_SCORE = 85
MAX_SCORE = 95


@dataclass
class Intent:
    """One intent: what recognises it and the canned replies an operator may send."""

    name: str
    keywords: List[str] = field(default_factory=list)
    patterns: List["re.Pattern[str]"] = field(default_factory=list)
    replies: List[str] = field(default_factory=list)

    def score(self, text: str) -> int:
        """How surely `text` expresses this intent, 0 when not at all."""
        lowered = text.lower()
        if any(p.search(text) for p in self.patterns):
            return PATTERN_SCORE
        hits = sum(1 for k in self.keywords if _contains_phrase(lowered, k))
        if hits == 0:
            return 0
        return min(MAX_SCORE, KEYWORD_SCORE + STEP * (hits - 1))


def _contains_phrase(text: str, phrase: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase.lower()) + r"(?!\w)", text) is not None


class ConfigError(ValueError):
    """The `[config]` table is unusable; the message names the key."""


def parse_intents(items: Any, where: str) -> List[Intent]:
    """`[[config.intents]]` (or an account's `intents`) as intents; `where` names the key in
    errors."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConfigError(f"{where} must be an array of tables")
    intents = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at} must be a table")
        name = item.get("name")
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError(f"{at}.name must be a non-empty string without '/'")
        keywords = _strings(item.get("keywords", []), f"{at}.keywords")
        patterns = []
        for j, p in enumerate(_strings(item.get("patterns", []), f"{at}.patterns")):
            try:
                patterns.append(re.compile(p, re.IGNORECASE))
            except re.error as e:
                raise ConfigError(f"{at}.patterns[{j}] is not a regular expression: {e}") from None
        replies = _strings(item.get("replies", []), f"{at}.replies")
        if not replies:
            raise ConfigError(f"{at}.replies must list at least one reply")
        if not keywords and not patterns:
            raise ConfigError(f"{at} needs keywords or patterns")
        intents.append(Intent(name, keywords, patterns, replies))
    return intents


def _strings(value: Any, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be an array of strings")
    return value


class Router:
    """The intents of every account: the shared `[[config.intents]]`, with an account's
    `[config.accounts.NAME]` replacing replies (`replies = { intent = [...] }`) and adding
    intents (`[[config.accounts.NAME.intents]]`)."""

    def __init__(self, table: Dict[str, Any]) -> None:
        self.shared = parse_intents(table.get("intents"), "intents")
        accounts = table.get("accounts", {})
        if not isinstance(accounts, dict):
            raise ConfigError("accounts must be a table of account tables")
        self.accounts: Dict[str, List[Intent]] = {}
        for account, spec in accounts.items():
            if not isinstance(spec, dict):
                raise ConfigError(f"accounts.{account} must be a table")
            replies = spec.get("replies", {})
            if not isinstance(replies, dict):
                raise ConfigError(f"accounts.{account}.replies must be a table of intent = [replies]")
            known = {i.name for i in self.shared}
            merged = []
            for intent in self.shared:
                own = replies.get(intent.name)
                if own is None:
                    merged.append(intent)
                else:
                    own = _strings(own, f"accounts.{account}.replies.{intent.name}")
                    merged.append(Intent(intent.name, intent.keywords, intent.patterns, own))
            for name in replies:
                if name not in known:
                    raise ConfigError(f"accounts.{account}.replies.{name}: no intent `{name}`")
            merged += parse_intents(spec.get("intents"), f"accounts.{account}.intents")
            self.accounts[account] = merged
        max_hints = table.get("max_hints", 3)
        if not isinstance(max_hints, int) or isinstance(max_hints, bool) or max_hints < 1:
            raise ConfigError("max_hints must be a positive integer")
        self.max_hints = max_hints

    def intents(self, account: str) -> List[Intent]:
        return self.accounts.get(account, self.shared)

    def route(self, account: str, text: str) -> List[Tuple[Intent, int]]:
        """The intents `text` expresses for `account`, best first, with their scores."""
        found = [(i, i.score(text)) for i in self.intents(account)]
        found = [(i, s) for i, s in found if s > 0]
        found.sort(key=lambda pair: -pair[1])
        return found


def quality(stats: Dict[str, List[int]], reply: str) -> float:
    """The posterior mean of a reply being chosen when shown: Beta(1, 1) updated by the
    operators' choices, so an unseen reply scores 0.5."""
    chosen, shown = stats.get(reply, [0, 0])
    return (chosen + 1) / (shown + 2)


def ranked_replies(intent: Intent, stats: Dict[str, List[int]]) -> List[Tuple[int, str]]:
    """The intent's replies (with their index), the operators' favourites first; ties keep
    the configured order."""
    indexed = list(enumerate(intent.replies))
    indexed.sort(key=lambda pair: (-quality(stats, pair[1]), pair[0]))
    return indexed


def learn(stats: Dict[str, List[int]], shown: List[str], chosen: Optional[str]) -> Dict[str, List[int]]:
    """`stats` after the operator saw `shown` and picked `chosen` (None: something else)."""
    for reply in shown:
        entry = stats.setdefault(reply, [0, 0])
        entry[1] += 1
        if reply == chosen:
            entry[0] += 1
    return stats


def hint_id(source: str, account: str, intent: str, index: int) -> str:
    """The 0.1.0 feedback names no source or account: the hint id carries them."""
    return f"{source}/{account}/{intent}/{index}"


def parse_hint_id(hint_id_text: str) -> Optional[Tuple[str, str, str]]:
    """(source, account, intent) of one of this plugin's hint ids."""
    parts = hint_id_text.split("/")
    if len(parts) < 4:
        return None
    return parts[0], "/".join(parts[1:-2]), parts[-2]


def stats_key(source: str, account: str, intent: str) -> str:
    return f"stats/{source}/{account}/{intent}"
