"""Unit tests of intents-py under CPython: `python3 -m unittest` in this folder (with the SDK
importable: `pip install ../sdk-python` or PYTHONPATH=../sdk-python)."""

import unittest

import hintd_plugin as hp
from hintd_plugin.testing import FakeHost, request

from app import Intents
from intents import ConfigError, Router

CONFIG = {
    "max_hints": 3,
    "intents": [
        {"name": "refund", "keywords": ["refund", "money back"], "replies": ["A", "B"]},
        {"name": "hello", "patterns": [r"^\s*(hi|hello)\b"], "replies": ["Hello!"]},
    ],
    "accounts": {"vip": {"replies": {"refund": ["VIP"]}}},
}


class IntentsTest(unittest.TestCase):
    def test_routes_by_keyword_and_pattern(self):
        with FakeHost(config=CONFIG):
            hints = Intents().suggest(request("hello, I want my money back"))
        self.assertEqual([h.text for h in hints], ["Hello!", "A", "B"])
        self.assertTrue(all(0 <= h.relevance <= 100 for h in hints))

    def test_account_replies_replace_the_shared_ones(self):
        with FakeHost(config=CONFIG):
            hints = Intents().suggest(request("refund please", account="vip"))
        self.assertEqual([h.text for h in hints], ["VIP"])

    def test_feedback_puts_the_chosen_reply_first(self):
        with FakeHost(config=CONFIG) as host:
            plugin = Intents()
            first = plugin.suggest(request("refund please"))
            self.assertEqual([h.text for h in first], ["A", "B"])
            plugin.feedback(hp.Feedback("r1", "d1", "1", first[1], True, first))
            again = plugin.suggest(request("refund please"))
            self.assertEqual([h.text for h in again], ["B", "A"])
            self.assertIn("stats/api/default/refund", host.store)

    def test_bad_config_names_the_key(self):
        with self.assertRaisesRegex(ConfigError, r"intents\[0\]\.patterns\[0\]"):
            Router({"intents": [{"name": "x", "patterns": ["("], "replies": ["r"]}]})
        with FakeHost(config={"intents": [{"name": "x", "keywords": ["k"]}]}):
            with self.assertRaisesRegex(hp.Misconfigured, "replies"):
                Intents().suggest(request("k"))

    def test_without_kv_the_configured_order_is_kept(self):
        with FakeHost(config=CONFIG, capabilities=("log", "config")) as host:
            hints = Intents().suggest(request("refund"))
        self.assertEqual([h.text for h in hints], ["A", "B"])
        self.assertEqual(host.logs[0][0], "warn")


if __name__ == "__main__":
    unittest.main()
