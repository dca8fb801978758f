#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, and only those missing, so a warm
# machine pays nothing. The list lives in scripts/system-packages.txt.
set -euo pipefail
here=$(dirname "$0")
mapfile -t wanted < <(grep -vE '^\s*(#|$)' "$here/system-packages.txt")
# What installed packages provide counts too (NodeSource's nodejs provides npm, and
# conflicts with Debian's).
provided=$(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
  awk -F'|' '$1 ~ /^ii/ { print $2 }' | tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g')
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    grep -qxF "$pkg" <<<"$provided" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
