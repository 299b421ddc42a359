#!/usr/bin/env bash
# Installs what journeyd's run and test need on a fresh Debian machine (as root):
# Debian's clickhouse-server and clickhouse-client, and curl for the README tour; with
# --test also Chromium for the browser tests, ZooKeeper (with Java) for the replicated
# cluster test, Node.js with npm for make compat-check, and the browser trackers of
# deploy/trackers (Segment, RudderStack and Snowplow, from the npm registry) into
# var/trackers for their browser test. Installs only what is missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# trackers installs deploy/trackers/package.json (versions pinned by its lock) into
# var/trackers, unless the same files are installed there already.
trackers() {
  local dir=var/trackers
  if [ -d "$dir/node_modules" ] && cmp -s deploy/trackers/package.json "$dir/package.json" &&
     cmp -s deploy/trackers/package-lock.json "$dir/package-lock.json"; then
    return 0
  fi
  echo "installing the browser trackers of deploy/trackers/package.json into $dir (npm ci)" >&2
  mkdir -p "$dir"
  cp deploy/trackers/package.json deploy/trackers/package-lock.json "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
}

want=()
command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || want+=(clickhouse-server)
command -v clickhouse-client >/dev/null 2>&1 || want+=(clickhouse-client)
command -v curl >/dev/null 2>&1 || want+=(curl)   # the tour's commands (and the test that runs them)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  { command -v java >/dev/null 2>&1 && [ -f /usr/share/java/zookeeper.jar ]; } || want+=(zookeeper)
  command -v node >/dev/null 2>&1 || want+=(nodejs)
  command -v npm >/dev/null 2>&1 || want+=(npm)
fi
if [ ${#want[@]} -gt 0 ]; then
  echo "installing: ${want[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || echo "apt-get update failed; trying the install with the lists at hand" >&2
  $sudo apt-get install -y -qq "${want[@]}" >/dev/null
fi
if [ "${1:-}" = "--test" ]; then
  trackers
fi
