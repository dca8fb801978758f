#!/usr/bin/env bash
# Installs the Debian packages careline needs, and only those missing, so a warm machine
# pays nothing.
#   system-deps.sh                      what the test suite needs (scripts/system-packages.txt)
#   system-deps.sh --if-possible PKG..  only PKG (`make run`: ClamAV), and only when this can
#                                       install without asking (root, or `sudo -n`); else one
#                                       line saying how, and success: careline runs without.
set -euo pipefail
here=$(dirname "$0")
optional=false
if [ "${1:-}" = "--if-possible" ]; then
  optional=true
  shift
fi
if [ $# -gt 0 ]; then
  wanted=("$@")
else
  mapfile -t wanted < <(grep -vE '^\s*(#|$)' "$here/system-packages.txt")
fi
# What installed packages provide counts too (NodeSource's nodejs provides npm, and
# conflicts with Debian's). Plain bash: `make run` may have little more than bash on PATH.
provided=""
while IFS='|' read -r status provides; do
  [[ $status == ii* ]] || continue
  IFS=',' read -ra items <<<"$provides"
  for item in "${items[@]}"; do
    item=${item%%(*}
    provided+="${item//[[:space:]]/}"$'\n'
  done
done < <(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null || true)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    grep -qxF "$pkg" <<<"$provided" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
  if $optional && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
    echo "careline: ${missing[*]} not installed (file sharing stays paused); install with: sudo apt-get install ${missing[*]}"
    exit 0
  fi
fi
echo "installing system packages: ${missing[*]}"
if $optional; then
  if ! { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; } >/dev/null 2>&1; then
    echo "careline: installing ${missing[*]} failed (file sharing stays paused); install with: sudo apt-get install ${missing[*]}"
  fi
  exit 0
fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
