#!/usr/bin/env bash
# Installs the tools that build Python and JavaScript plugins, pinned, and nothing when they are
# there already:
#   componentize-py (PyPI) in a venv at  $TOOLS/componentize-py
#   jco and componentize-js (npm)    at  $TOOLS/jco
# TOOLS is $HINTD_TOOLS_DIR, else the checkout's target/tools. Needs python3 (with venv), npm and
# the package indexes on first use. Prints the two executables, one per line:
#   componentize-py=/…/bin/componentize-py
#   componentize-js=/…/node_modules/.bin/componentize-js
#   jco=/…/node_modules/.bin/jco
#
#   plugins/tools/setup.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="${HINTD_TOOLS_DIR:-$here/../../target/tools}"

# Bumped on purpose, never floating: the build scripts and tests are checked against these.
COMPONENTIZE_PY_VERSION=0.25.1
JCO_VERSION=1.35.0
COMPONENTIZE_JS_VERSION=0.23.0

mkdir -p "$tools"
tools="$(cd "$tools" && pwd)"

py="$tools/componentize-py"
py_stamp="$py/installed-$COMPONENTIZE_PY_VERSION"
if [ ! -f "$py_stamp" ] || [ ! -x "$py/bin/componentize-py" ]; then
  rm -rf "$py"
  python3 -m venv "$py"
  "$py/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION" >&2
  touch "$py_stamp"
fi

js="$tools/jco"
js_stamp="$js/installed-$JCO_VERSION-$COMPONENTIZE_JS_VERSION"
if [ ! -f "$js_stamp" ] || [ ! -x "$js/node_modules/.bin/componentize-js" ]; then
  rm -rf "$js"
  mkdir -p "$js"
  # A package.json of its own keeps npm from walking up into an enclosing project.
  printf '{"name": "hintd-plugin-tools", "private": true}\n' > "$js/package.json"
  npm install --prefix "$js" --save-exact --no-audit --no-fund --loglevel=error \
    "@bytecodealliance/jco@$JCO_VERSION" \
    "@bytecodealliance/componentize-js@$COMPONENTIZE_JS_VERSION" >&2
  touch "$js_stamp"
fi

echo "componentize-py=$py/bin/componentize-py"
echo "componentize-js=$js/node_modules/.bin/componentize-js"
echo "jco=$js/node_modules/.bin/jco"
