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
npx jest --ci --json --outputFile="$results" "$@" || status=$?
# One plain closing line that any CI can read.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$results" || true
exit $status
