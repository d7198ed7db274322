//! The Python plugin of `plugin new`: an app for componentize-py (`src/app.py` exports the
//! class `src/plugin.py` defines), a `unittest` test of that class against the SDK's fake
//! host, the contract in `wit/`, and `build.sh`, which installs componentize-py (pinned) and
//! the SDK (by path) into `.venv` and builds `build/NAME.wasm`.

use super::File;

/// Where this binary's own checkout keeps the Python SDK.
pub(super) const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk-python");

/// The componentize-py release the SDK is built and tested with.
const COMPONENTIZE_PY: &str = "0.25.1";

/// The plugin's files but the manifest and the contract.
pub(super) fn files(name: &str, sdk: &str) -> Vec<File> {
    vec![
        ("build.sh", build_sh(name, sdk)),
        (".gitignore", "/.venv\n/build\n__pycache__/\n".to_string()),
        ("src/plugin.py", plugin_py(name)),
        ("src/app.py", APP_PY.to_string()),
        ("tests/test_plugin.py", TEST_PY.to_string()),
    ]
}

fn build_sh(name: &str, sdk: &str) -> String {
    let sdk = shell_quote(sdk);
    format!(
        r#"#!/usr/bin/env bash
# Builds build/{name}.wasm from src/ with componentize-py. The first run makes a venv in .venv
# with componentize-py {COMPONENTIZE_PY} and the hintd-plugin SDK (pip, by path); set
# COMPONENTIZE_PY to an installed componentize-py to use that one instead. Unit tests:
#   .venv/bin/python -m unittest discover tests
set -euo pipefail
cd "$(dirname "${{BASH_SOURCE[0]}}")"
sdk={sdk}
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# Every build: the SDK may have changed.
.venv/bin/pip install --quiet --disable-pip-version-check "$sdk"
componentize_py="${{COMPONENTIZE_PY:-}}"
if [ -z "$componentize_py" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check "componentize-py=={COMPONENTIZE_PY}"
  componentize_py=.venv/bin/componentize-py
fi
mkdir -p build
# componentize-py runs app.py's top level while building; it finds the SDK in the venv.
VIRTUAL_ENV="$PWD/.venv" "$componentize_py" --quiet -d wit -w hint-provider \
  componentize app -p src -o build/{name}.wasm
echo "built build/{name}.wasm"
"#
    )
}

fn plugin_py(name: &str) -> String {
    format!(
        r#""""The {name} hint provider."""

import hintd_plugin as hp


class Greeter(hp.Plugin):
    name = "{name}"
    version = "0.1.0"
    description = "Greets the client"

    def suggest(self, req: hp.HintRequest) -> list[hp.Hint]:
        last = req.last_client_message()
        if last is None:
            return []
        # `[config] greeting` of plugin.toml.
        greeting = hp.config.get("greeting", "Hello!")
        chosen = hp.kv.get_json(f"chosen/{{req.account}}", 0)
        # Relevance is 0 to 100; the SDK clamps what is outside.
        return [hp.Hint("greeting", f"{{greeting}} You wrote: {{last.text}}", relevance=60 + chosen)]

    def feedback(self, fb: hp.Feedback) -> None:
        # The 0.1.0 feedback names no account: a plugin learning per account keeps it in its
        # hint ids. This one counts its chosen hints for the default account.
        if fb.chosen_is_mine:
            key = "chosen/default"
            hp.kv.set_json(key, hp.kv.get_json(key, 0) + 1)
"#
    )
}

const APP_PY: &str = r#""""The component's entry: componentize-py exports the class named `Provider`."""

import hintd_plugin as hp

from plugin import Greeter

Provider = hp.export(Greeter)
"#;

const TEST_PY: &str = r#""""Unit tests of the plugin under CPython: `.venv/bin/python -m unittest discover tests`."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import hintd_plugin as hp  # noqa: E402
from hintd_plugin.testing import FakeHost, request  # noqa: E402

from plugin import Greeter  # noqa: E402


class GreeterTest(unittest.TestCase):
    def test_greets_the_last_client_message(self):
        with FakeHost(config={"greeting": "Hi!"}):
            hints = Greeter().suggest(request("where is my order?"))
        self.assertEqual([h.text for h in hints], ["Hi! You wrote: where is my order?"])

    def test_a_choice_raises_the_relevance(self):
        with FakeHost(config={}):
            plugin = Greeter()
            first = plugin.suggest(request("hello"))[0]
            plugin.feedback(hp.Feedback("r1", "d1", "1", first, True, [first]))
            self.assertEqual(plugin.suggest(request("hello"))[0].relevance, first.relevance + 1)


if __name__ == "__main__":
    unittest.main()
"#;

/// `text` as one word for the shell.
pub(super) fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
