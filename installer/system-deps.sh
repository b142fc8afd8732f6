#!/usr/bin/env bash
# Installs the Debian packages Callwise and its test suite need, when any is missing.
#   runtime: Qt's X11/offscreen libraries, a Secret Service keyring, D-Bus
#   tests:   Kamailio (registrar/proxy), SIPp (sip-tester), PostgreSQL, Xvfb, OpenSSL
# Usage: installer/system-deps.sh runtime|test
set -euo pipefail

runtime_pkgs=(libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xkb1 fonts-dejavu-core dbus gnome-keyring)
test_pkgs=(kamailio sip-tester postgresql xvfb openssl dbus-x11 procps iproute2)

want=("${runtime_pkgs[@]}")
[[ "${1:-runtime}" == "test" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Callwise needs these Debian packages, and apt-get is not available: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then sudo=(sudo); else
    echo "Callwise needs these Debian packages; install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "Installing Debian packages: ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start system-wide services we do not use: tests start their own instances.
for svc in kamailio postgresql; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    "${sudo[@]}" systemctl stop "$svc" || true
  fi
done
