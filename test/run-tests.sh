#!/usr/bin/env bash
# `npm test`: the whole suite, with its own set-up. Installs the real services the tests start
# (Prometheus, Alertmanager, Redis, and the fonts the chart needs) from Debian's packages where
# they are missing, builds, type-checks, and runs every jest project. Each suite starts its own
# service instances on free loopback ports, with their own data directories, and stops them.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ] || [ -x "/usr/sbin/$1" ]; }
have prometheus || missing+=(prometheus)
have promtool || missing+=(prometheus)
have prometheus-alertmanager || missing+=(prometheus-alertmanager)
have redis-server || missing+=(redis-server)
have openssl || missing+=(openssl)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "The tests need Debian packages that are not installed: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} from Debian's packages..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ]; then
  echo "No node_modules: run npm ci first." >&2
  exit 1
fi

npm run --silent build
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check >/dev/null || { echo 'Formatting differs from prettier: run npm run format' >&2; npx prettier --list-different . >&2; exit 1; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
# A run that cannot exit (a handle left open) fails here with a line, not at CI's own limit.
code=0
timeout 1800 npx jest --ci --json --outputFile="$results" "$@" || code=$?
if [ "$code" = 124 ]; then echo 'jest did not exit within 30 minutes (a handle left open? run with --detectOpenHandles)' >&2; fi
[ "$code" = 0 ] || status=1
# One plain closing line that any CI can read.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$results" || true

# The image runs Node 24 LTS and people may still run Node 20: the unit suite and a CLI smoke test
# also run on Node 24 (installed once, outside the dependency tree, by test/node24.sh). Skipped when
# jest was given arguments (a chosen subset).
if [ $# -eq 0 ]; then
  node24=$(bash test/node24.sh)
  echo "Unit tests and CLI smoke test on $("$node24" --version)..."
  # No --forceExit: a handle left open is a bug to find, not to hide (the one that kept jest alive
  # on Node 24 went with the shutdown fixes). A run still alive after 10 minutes fails, and says so.
  code=0
  timeout 600 "$node24" node_modules/jest/bin/jest.js --ci --silent --selectProjects unit || code=$?
  if [ "$code" = 124 ]; then echo 'Node 24: jest did not exit within 10 minutes (a handle left open? run with --detectOpenHandles)' >&2; fi
  [ "$code" = 0 ] || status=1
  "$node24" dist/cli.js --help | grep -q 'oomdoctor diagnose' || { echo 'Node 24: oomdoctor --help failed' >&2; status=1; }
  code=0
  smoke=$(env -i PATH="$PATH" "$node24" dist/cli.js serve 2>&1) || code=$?
  if [ "$code" != 2 ] || ! grep -q 'SLACK_BOT_TOKEN is not set' <<<"$smoke"; then
    echo "Node 24: oomdoctor serve without settings should exit 2 naming SLACK_BOT_TOKEN; got $code: $smoke" >&2
    status=1
  fi
fi
exit $status
