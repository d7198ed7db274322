"""intents-py: a keyword/regex intent router with canned replies per intent, configurable
per account, that learns which reply operators pick (kept in kv per source and account)."""

from __future__ import annotations

from typing import Dict, List, Optional

import hintd_plugin as hp
from intents import ConfigError, Router, hint_id, learn, parse_hint_id, ranked_replies, stats_key


class Intents(hp.Plugin):
    name = "intents-py"
    version = "0.1.0"
    description = "Routes the client's message to an intent and suggests its canned replies, the operators' favourites first"

    def __init__(self) -> None:
        self._router: Optional[Router] = None

    def router(self) -> Router:
        # Parsed once per instance: reused instances keep the compiled patterns.
        if self._router is None:
            try:
                self._router = Router(hp.config.all())
            except ConfigError as e:
                raise hp.Misconfigured(str(e)) from None
        return self._router

    def suggest(self, req: hp.HintRequest) -> List[hp.Hint]:
        router = self.router()
        last = req.last_client_message()
        if last is None:
            return []
        limit = min(router.max_hints, req.max_hints)
        hints: List[hp.Hint] = []
        for intent, score in router.route(req.account, last.text):
            stats = self._stats(req.source, req.account, intent.name)
            for position, (index, reply) in enumerate(ranked_replies(intent, stats)):
                hints.append(
                    hp.Hint(
                        hint_id(req.source, req.account, intent.name, index),
                        reply,
                        relevance=score - 5 * position,
                    )
                )
        hints.sort(key=lambda h: -h.relevance)
        return hints[:limit]

    def feedback(self, fb: hp.Feedback) -> None:
        by_intent: Dict[tuple, List[str]] = {}
        for hint in fb.shown:
            parsed = parse_hint_id(hint.id)
            if parsed is not None:
                by_intent.setdefault(parsed, []).append(hint.text)
        chosen = fb.chosen.text if fb.chosen_is_mine else None
        for (source, account, intent), shown in by_intent.items():
            key = stats_key(source, account, intent)
            stats = learn(hp.kv.get_json(key, {}), shown, chosen)
            try:
                hp.kv.set_json(key, stats)
            except hp.KvQuotaExceeded:
                hp.log.warn(f"kv quota reached: not learning {key}")

    def _stats(self, source: str, account: str, intent: str) -> Dict[str, List[int]]:
        try:
            return hp.kv.get_json(stats_key(source, account, intent), {})
        except hp.KvError as e:
            # Without its statistics the plugin still routes: configured order.
            hp.log.warn(f"kv unavailable, replies in configured order: {e}")
            return {}


# componentize-py exports the class named `Provider` of this module.
Provider = hp.export(Intents)
