#!/usr/bin/env bash
# Builds the intents-py plugin into the component its plugin.toml points at (or OUT), with
# componentize-py from plugins/tools/setup.sh and the SDK pip-installed from plugins/sdk-python
# into a venv of the build. Does nothing when the sources, the SDK, the WIT and the tool are
# those of the last build.
#
#   plugins/intents-py/build.sh [OUT]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/target/guests/intents-py.wasm}"

componentize_py="$("$root/plugins/tools/setup.sh" | sed -n 's/^componentize-py=//p')"
hash="$( (cd "$root" && cat plugins/intents-py/build.sh plugins/intents-py/*.py plugins/sdk-python/pyproject.toml \
  plugins/sdk-python/hintd_plugin/*.py wit/*.wit; "$componentize_py" --version) | sha256sum | cut -c1-16)"
if [ -f "$out" ] && [ "$(cat "$out.hash" 2>/dev/null)" = "$hash" ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$(dirname "$out")"
venv="$out.venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$root/plugins/sdk-python" >&2
# componentize-py runs the app's top level while building and snapshots the result; it finds
# the SDK in the venv's site-packages through VIRTUAL_ENV.
(cd "$here" && VIRTUAL_ENV="$venv" "$componentize_py" --quiet -d "$root/wit" -w hint-provider \
  componentize app -p "$here" -o "$out.tmp")
mv "$out.tmp" "$out"
echo "$hash" > "$out.hash"
echo "$out"
