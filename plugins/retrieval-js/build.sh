#!/usr/bin/env bash
# Builds the retrieval-js plugin into the component its plugin.toml points at (or OUT): the SDK
# is npm-installed from plugins/sdk-js, rolldown bundles index.js with it (the contract's
# `hintd:provider/*` modules stay imports), and componentize-js (plugins/tools/setup.sh) makes
# the component. Does nothing when the sources, the SDK, the WIT and the tools are those of the
# last build.
#
#   plugins/retrieval-js/build.sh [OUT]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/target/guests/retrieval-js.wasm}"

tools="$("$root/plugins/tools/setup.sh")"
componentize_js="$(sed -n 's/^componentize-js=//p' <<<"$tools")"
bin="$(dirname "$componentize_js")"
hash="$( (cd "$root" && cat plugins/retrieval-js/build.sh plugins/retrieval-js/*.js plugins/retrieval-js/package.json \
  plugins/sdk-js/*.js plugins/sdk-js/package.json wit/*.wit; "$componentize_js" --version) \
  | sha256sum | cut -c1-16)"
if [ -f "$out" ] && [ "$(cat "$out.hash" 2>/dev/null)" = "$hash" ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$(dirname "$out")"
(cd "$here" && npm install --no-audit --no-fund --loglevel=error >&2)
externals=()
for interface in log kv config http; do
  externals+=(--external "hintd:provider/$interface@0.1.0")
done
"$bin/rolldown" "$here/index.js" --format esm --platform neutral "${externals[@]}" \
  -o "$out.bundle.js" >&2
# componentize-js's default features: `fetch()` imports wasi:http, which hintd links under the
# manifest's `http` policy.
"$componentize_js" "$out.bundle.js" --wit "$root/wit" -n hint-provider -o "$out.tmp" >&2
mv "$out.tmp" "$out"
echo "$hash" > "$out.hash"
echo "$out"
