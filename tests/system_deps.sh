#!/bin/sh
# Installs, with apt-get, the Debian packages gongwatch needs when they are missing.
#   system_deps.sh venv   - what creating the virtual environment needs
#   system_deps.sh tests  - what the test suite needs (sensors, smartctl, socat, tmux, AVR, simavr,
#                           rrdtool, the servers the exporters talk to, Prometheus' node
#                           exporter, sudo and systemd for contrib/, and Chromium for the
#                           browser tests)
# As root it installs them; otherwise it says what is missing and leaves the tests to skip
# (in CI, CI=true, a test whose tool is missing fails instead).
set -eu

venv_pkgs="python3-venv python3-pip"
test_pkgs="lm-sensors libsensors5 smartmontools socat tmux util-linux make g++ sudo systemd \
gcc-avr avr-libc binutils-avr arduino-core-avr simavr libsimavr-dev libelf-dev pkg-config \
prometheus prometheus-node-exporter graphite-carbon influxdb mosquitto rrdtool chromium"

missing=""
case "${1:-tests}" in
  venv)
    # Only Debian's own python3 needs python3-venv; any other Python brings venv along.
    python3 -c 'import ensurepip, venv' 2>/dev/null && exit 0
    pkgs=$venv_pkgs ;;
  tests) pkgs=$test_pkgs ;;
  *) echo "usage: $0 venv|tests" >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null 2>&1 || exit 0   # not Debian: nothing we know how to install
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "missing system packages (tests that need them will skip):$missing" >&2
  echo "install them with: sudo apt-get install$missing" >&2
fi
