#!/bin/sh
# Installs the Debian packages fieldgate needs to build, test and run its demo.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
# Usage: scripts/deps.sh [build|check|demo|cross]   (default: check = build + test tools)
set -eu

build_pkgs="build-essential cmake pkg-config ninja-build libpaho-mqtt-dev libmodbus-dev libsqlite3-dev \
libjsoncpp-dev libsystemd-dev libinih-dev libssl-dev"
test_pkgs="libcpputest-dev mosquitto mosquitto-clients socat python3 sqlite3 systemd"
test_pkgs="$test_pkgs faketime"  # libfaketime: the no-clock test runs the daemon in 2001
case "${1:-check}" in
  build) want="$build_pkgs" ;;
  check|demo) want="$build_pkgs $test_pkgs" ;;
  *) echo "usage: $0 [build|check|demo]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
  echo "fieldgate needs these Debian packages:$missing" >&2
  echo "run as root:  apt-get update && $cmd" >&2
  exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An old package list may not know the packages: refresh it once when needed.
if ! apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y --no-install-recommends $missing
fi
