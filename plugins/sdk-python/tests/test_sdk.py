"""Unit tests of the SDK's pure-Python parts: `python3 -m unittest discover tests` in
plugins/sdk-python."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import hintd_plugin as hp  # noqa: E402
from hintd_plugin.testing import FakeHost, request  # noqa: E402


class HintTest(unittest.TestCase):
    def test_relevance_is_rounded_and_clamped(self):
        self.assertEqual(hp.Hint("a", "b", 300).relevance, 100)
        self.assertEqual(hp.Hint("a", "b", -4).relevance, 0)
        self.assertEqual(hp.Hint("a", "b", 41.6).relevance, 42)
        self.assertEqual(hp.Hint("a", "b", float("nan")).relevance, 0)
        self.assertEqual(hp.Hint("a", "b", float("inf")).relevance, 100)

    def test_bad_types_are_named(self):
        with self.assertRaisesRegex(TypeError, "relevance must be a number"):
            hp.Hint("a", "b", "7")
        with self.assertRaisesRegex(TypeError, "hint id must be a str"):
            hp.Hint(1, "b")


class HostTest(unittest.TestCase):
    def test_kv_and_config_go_to_the_host(self):
        with FakeHost(config={"greeting": "Hi"}) as host:
            hp.kv.set_json("k", {"n": 1})
            self.assertEqual(hp.kv.get_json("k"), {"n": 1})
            self.assertIsNone(hp.kv.get("missing"))
            self.assertEqual(hp.kv.scan("k"), [("k", b'{"n":1}')])
            self.assertEqual(hp.config.get("greeting"), "Hi")
            self.assertEqual(hp.config.get("absent", 3), 3)
            hp.log.info("hello")
        self.assertEqual(host.logs, [("info", "hello")])

    def test_a_capability_not_granted_is_denied(self):
        with FakeHost(capabilities=("log",)):
            with self.assertRaises(hp.KvDenied):
                hp.kv.get("k")
            self.assertEqual(hp.config.all(), {})
            with self.assertRaises(hp.HttpError) as e:
                hp.http.get("http://example.invalid/")
            self.assertEqual(e.exception.kind, "denied")

    def test_without_a_host_the_error_says_how_to_get_one(self):
        with self.assertRaisesRegex(RuntimeError, "FakeHost"):
            hp.kv.get("k")


class PluginTest(unittest.TestCase):
    def test_the_base_class_describes_and_ignores(self):
        class P(hp.Plugin):
            name, version, description = "p", "1.2.3", "d"

        p = P()
        self.assertEqual(p.describe(), hp.PluginInfo("p", "1.2.3", "d"))
        self.assertIsNone(p.feedback(None))
        self.assertIsNone(p.observe(None))
        with self.assertRaises(NotImplementedError):
            p.suggest(request("x"))

    def test_export_takes_a_plugin_class(self):
        with self.assertRaises(TypeError):
            hp.export(object)
        self.assertEqual(hp.export(hp.Plugin).__name__, "Provider")

    def test_errors_carry_their_case(self):
        self.assertEqual(hp.InvalidRequest("x").kind, "invalid-request")
        self.assertEqual(hp.Upstream("x").kind, "upstream")
        self.assertEqual(hp.Misconfigured("x").kind, "misconfigured")
        self.assertEqual(hp.Internal("x").kind, "internal")


if __name__ == "__main__":
    unittest.main()
