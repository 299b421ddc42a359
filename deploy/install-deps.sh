#!/usr/bin/env bash
# Installs what journeyd's run and test need on a fresh Debian machine (as root):
# Debian's clickhouse-server and clickhouse-client, and Chromium for the browser tests.
# Installs only what is missing; safe to run again.
set -euo pipefail

want=()
command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || want+=(clickhouse-server)
command -v clickhouse-client >/dev/null 2>&1 || want+=(clickhouse-client)
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
fi
[ ${#want[@]} -eq 0 ] && exit 0

echo "installing: ${want[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || echo "apt-get update failed; trying the install with the lists at hand" >&2
$sudo apt-get install -y -qq "${want[@]}" >/dev/null
