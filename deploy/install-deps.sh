#!/usr/bin/env bash
# Installs what journeyd's run and test need on a fresh Debian machine (as root):
# Debian's clickhouse-server and clickhouse-client, and curl for the README tour; with
# --test also Chromium for the browser tests, ZooKeeper (with Java) for the replicated
# cluster test, and Node.js with npm for make compat-check. Installs only what is missing; safe to run again.
set -euo pipefail

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
[ ${#want[@]} -eq 0 ] && exit 0

echo "installing: ${want[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || echo "apt-get update failed; trying the install with the lists at hand" >&2
$sudo apt-get install -y -qq "${want[@]}" >/dev/null
