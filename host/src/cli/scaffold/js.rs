//! The JavaScript plugin of `plugin new`: `src/plugin.js` (the plugin class), `src/index.js`
//! (the component's entry), a `node --test` test of the class against the SDK's fake host, the
//! contract in `wit/`, and `build.sh`, which bundles the entry with the SDK (rolldown) and builds
//! `build/NAME.wasm` with componentize-js. `package.json` pins both tools and the SDK by path.

use super::File;
use super::python::shell_quote;

/// Where this binary's own checkout keeps the JavaScript SDK.
pub(super) const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk-js");

/// The tool releases the SDK is built and tested with.
const COMPONENTIZE_JS: &str = "0.23.0";
const ROLLDOWN: &str = "1.3.3";

/// The plugin's files but the manifest and the contract.
pub(super) fn files(name: &str, sdk: &str) -> Vec<File> {
    vec![
        ("package.json", package_json(name, sdk)),
        ("build.sh", build_sh(name)),
        (".gitignore", "/node_modules\n/build\n".to_string()),
        ("src/plugin.js", plugin_js(name)),
        ("src/index.js", INDEX_JS.to_string()),
        ("test/plugin.test.js", TEST_JS.to_string()),
    ]
}

fn package_json(name: &str, sdk: &str) -> String {
    let value = serde_json::json!({
        "name": name,
        "version": "0.1.0",
        "private": true,
        "type": "module",
        "dependencies": { "@hintd/plugin": format!("file:{sdk}") },
        "devDependencies": {
            "@bytecodealliance/componentize-js": COMPONENTIZE_JS,
            "rolldown": ROLLDOWN,
        },
        "scripts": { "build": "./build.sh", "test": "node --test" },
    });
    serde_json::to_string_pretty(&value).expect("JSON") + "\n"
}

fn build_sh(name: &str) -> String {
    let out = shell_quote(&format!("build/{name}.wasm"));
    format!(
        r#"#!/usr/bin/env bash
# Builds build/{name}.wasm: rolldown bundles src/index.js with the SDK (the contract's
# hintd:provider/* modules stay imports) and componentize-js makes the component. The tools come
# from package.json (npm install); set COMPONENTIZE_JS and ROLLDOWN to installed ones to skip
# installing them. Unit tests: npm test.
set -euo pipefail
cd "$(dirname "${{BASH_SOURCE[0]}}")"
if [ -n "${{COMPONENTIZE_JS:-}}" ] && [ -n "${{ROLLDOWN:-}}" ]; then
  npm install --omit=dev --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
  COMPONENTIZE_JS=node_modules/.bin/componentize-js
  ROLLDOWN=node_modules/.bin/rolldown
fi
mkdir -p build
externals=()
for interface in log kv config http; do
  externals+=(--external "hintd:provider/$interface@0.1.0")
done
"$ROLLDOWN" src/index.js --format esm --platform neutral "${{externals[@]}}" -o build/bundle.js
# componentize-js's default features: `fetch()` imports wasi:http, which hintd links under the
# manifest's `http` policy.
"$COMPONENTIZE_JS" build/bundle.js --wit wit -n hint-provider -o {out}
echo "built build/{name}.wasm"
"#
    )
}

fn plugin_js(name: &str) -> String {
    format!(
        r#"// The {name} hint provider.
import {{ Hint, Plugin, config, kv }} from '@hintd/plugin';

export class Greeter extends Plugin {{
  get name() {{ return '{name}'; }}
  get version() {{ return '0.1.0'; }}
  get description() {{ return 'Greets the client'; }}

  suggest(req) {{
    const last = req.lastClientMessage();
    if (!last) return [];
    // `[config] greeting` of plugin.toml.
    const greeting = config.get('greeting', 'Hello!');
    const chosen = kv.getJson(`chosen/${{req.account}}`, 0);
    // Relevance is 0 to 100; the SDK clamps what is outside.
    return [new Hint('greeting', `${{greeting}} You wrote: ${{last.text}}`, 60 + chosen)];
  }}

  feedback(fb) {{
    // The 0.1.0 feedback names no account: a plugin learning per account keeps it in its hint
    // ids. This one counts its chosen hints for the default account.
    if (fb.chosenIsMine) kv.setJson('chosen/default', kv.getJson('chosen/default', 0) + 1);
  }}
}}
"#
    )
}

const INDEX_JS: &str = r#"// The component's entry: componentize-js exports `provider`.
import { exportPlugin } from '@hintd/plugin/component';
import { Greeter } from './plugin.js';

export const provider = exportPlugin(Greeter);
"#;

const TEST_JS: &str = r#"// Unit tests of the plugin under node: `npm test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, request } from '@hintd/plugin/testing';
import { Greeter } from '../src/plugin.js';

test('greets the last client message', () => {
  new FakeHost({ config: { greeting: 'Hi!' } }).install();
  const hints = new Greeter().suggest(request('where is my order?'));
  assert.deepEqual(hints.map((h) => h.text), ['Hi! You wrote: where is my order?']);
});

test('a choice raises the relevance', () => {
  new FakeHost().install();
  const plugin = new Greeter();
  const first = plugin.suggest(request('hello'))[0];
  plugin.feedback({ chosen: first, chosenIsMine: true, shown: [first] });
  assert.equal(plugin.suggest(request('hello'))[0].relevance, first.relevance + 1);
});
"#;
