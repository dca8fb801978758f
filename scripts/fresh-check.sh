#!/usr/bin/env bash
# `make fresh-check`: proves that a fresh Debian 12 runs careline. It builds a minimal
# Debian 12 root filesystem (debootstrap --variant=minbase), installs only what the README
# asks of a new machine (BASE_PACKAGES below), clones the current commit into it, and there
# runs `make run` until /health/ready answers, then stops it, then `make test`. A system
# part missing from scripts/system-packages.txt fails it, with the part named by
# scripts/check-system.sh. Run it before resolving an issue that changes what careline
# installs (scripts/, Makefile, pyproject.toml, .ci/).
#
# Needs root (debootstrap, mounts, chroot) and debootstrap itself. Settings:
#   FRESH_CHECK_WITHOUT=pkg   drop pkg from scripts/system-packages.txt in the clone, to
#                             prove the check catches a missing package (it must FAIL)
#   FRESH_CHECK_CACHE=dir     where the base tarball and the download caches live
#                             (default ${XDG_CACHE_HOME:-~/.cache}/careline/fresh-check)
#   FRESH_CHECK_MIRROR=url    the Debian mirror for debootstrap (default deb.debian.org)
#   FRESH_CHECK_READY_SECONDS how long `make run` may take to answer (default 600)
#
# Only committed work is checked: the clone is of HEAD. Everything it mounts is unmounted
# and its work directory removed on every exit, also on Ctrl-C or SIGTERM.
set -euo pipefail
set -m  # each step runs in its own process group, so an interrupt can stop all of it

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-check needs root: it runs debootstrap, mounts /proc, /sys and /dev into a new" >&2
  echo "Debian root filesystem and chroots into it. Run: sudo make fresh-check" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null; then
  # Root already, so install it rather than send the developer off to do it.
  echo "installing debootstrap (fresh-check builds the fresh system with it)"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap \
    || { echo "fresh-check needs debootstrap, and apt-get could not install it" >&2; exit 2; }
fi

SUITE=bookworm
# What a new machine has before `make`: the README's "Debian with Python 3.11", git to
# clone, sudo for a non-root user's `make test`. Nothing else: the rest is careline's job.
BASE_PACKAGES=(python3 python3-venv python3-pip make git ca-certificates sudo)
BASE_FORMAT=1  # bump when the way the base is built changes, so old tarballs are not used
mirror=${FRESH_CHECK_MIRROR:-http://deb.debian.org/debian}
cache=${FRESH_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/careline/fresh-check}
ready_seconds=${FRESH_CHECK_READY_SECONDS:-600}
without=${FRESH_CHECK_WITHOUT:-}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
inside=/root/careline  # where the clone lives in the new system

for pkg in "${BASE_PACKAGES[@]}"; do
  if [ "$pkg" = "$without" ]; then
    echo "FRESH_CHECK_WITHOUT=$without is a base package, not one careline installs" >&2
    exit 2
  fi
done

work=$(mktemp -d "${TMPDIR:-/var/tmp}/careline-fresh-check.XXXXXX")
root=$work/root
mounts=()     # mount points in the order mounted; unmounted in reverse
child=""      # the running step's process group
partial=""    # a base tarball being written
steps=()      # "name: seconds" of the steps done
failed=""
current=""    # the step running, and since when
current_start=$SECONDS
started=$SECONDS

# --- cleanup: on every exit ----------------------------------------------------------------

root_processes() {  # pids whose root directory is inside the new system
  local p link
  for p in /proc/[0-9]*; do
    link=$(readlink "$p/root" 2>/dev/null) || continue
    if [ "$link" = "$root" ] || [ "${link#"$root"/}" != "$link" ]; then echo "${p#/proc/}"; fi
  done
}

stop_root_processes() {  # TERM, then KILL what is left after 10 s
  local pids deadline=$((SECONDS + 10))
  pids=$(root_processes)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  while [ -n "$(root_processes)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  pids=$(root_processes)
  # shellcheck disable=SC2086
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  while [ -n "$(root_processes)" ] && [ $SECONDS -lt $((deadline + 10)) ]; do sleep 0.2; done
}

stop_child() {
  [ -n "$child" ] || return 0
  kill -TERM -- "-$child" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 -- "-$child" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  kill -KILL -- "-$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  child=""
}

mounted_under() {  # mount points at or below $1, deepest first
  awk -v w="$1" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

unmount_all() {
  local i point
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
  done
  mounts=()
  # What a step's own process mounted (building the base does) and never unmounted.
  while read -r point; do
    [ -n "$point" ] && { umount -R "$point" 2>/dev/null || umount -R -l "$point" || true; }
  done < <(mounted_under "$work")
}

summary() {
  local status=$1 line
  line="fresh-check: $status (commit ${commit:0:12}${without:+, without $without})"
  [ ${#steps[@]} -eq 0 ] || line+="; $(IFS=';'; echo "${steps[*]}" | sed 's/;/, /g')"
  line+="; total $((SECONDS - started)) s"
  echo "$line"
}

cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM  # a second Ctrl-C must not cut the unmounting short
  set +e
  stop_child
  stop_root_processes
  unmount_all
  [ -z "$partial" ] || rm -f "$partial"
  if [ -n "$(mounted_under "$work")" ]; then
    echo "fresh-check: still mounted, $work is left in place:" >&2
    mounted_under "$work" >&2
    rc=1
  else
    rm -rf --one-file-system "$work"
  fi
  if [ $rc -eq 0 ]; then
    summary PASS
  else
    summary "FAIL${failed:+ in $failed}"
  fi
  exit "$rc"
}
trap cleanup EXIT
interrupted() {  # interrupted SIGNAL EXIT-STATUS
  failed="${current:-fresh-check} (interrupted by $1 after $((SECONDS - current_start)) s)"
  exit "$2"
}
trap 'interrupted SIGINT 130' INT
trap 'interrupted SIGTERM 143' TERM

# --- steps -----------------------------------------------------------------------------

step() {  # step NAME COMMAND...: runs it in its own process group and times it
  local name=$1 start=$SECONDS rc=0
  shift
  current=$name
  current_start=$start
  echo "== fresh-check: $name"
  "$@" &
  child=$!
  wait "$child" || rc=$?
  child=""
  current=""
  steps+=("$name $((SECONDS - start)) s")
  echo "-- fresh-check: $name took $((SECONDS - start)) s (exit $rc)"
  if [ $rc -ne 0 ]; then
    failed="$name (exit $rc)"
    exit "$rc"
  fi
}

mount_one() {  # mount_one TARGET MOUNT-ARGS...
  mkdir -p "$1"
  mount "${@:2}" "$1"
  mounts+=("$1")
}

mount_system() {
  mount_one "$root/proc" -t proc proc
  mount_one "$root/sys" -t sysfs sysfs
  mount_one "$root/dev" --bind /dev
  mount_one "$root/dev/pts" --bind /dev/pts
  mount_one "$root/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev shm  # chromium's shared memory
  # apt's and pip's download caches, kept between runs: a re-run downloads nothing again.
  # What gets installed is decided afresh each time; only the files come from the cache.
  mkdir -p "$cache/apt-archives/partial" "$cache/pip"
  mount_one "$root/var/cache/apt/archives" --bind "$cache/apt-archives"
  mount_one "$root/root/.cache/pip" --bind "$cache/pip"
  # The machine's pip configuration (copied in by copy_host_config) names package indexes
  # and wheel directories on this machine's disk (file:// URLs, find-links paths): they are
  # package-registry mirrors, so they are bind-mounted read-only at the same paths, and pip
  # in the new system reaches the same registries as pip here.
  local dir
  while read -r dir; do
    [ -d "$dir" ] && mount_one "$root$dir" --bind -o ro "$dir"
  done < <(pip_local_dirs)
}

pip_local_dirs() {  # the local directories the machine's pip configuration points at
  # find-links directories as they are; for a file:// index, the directory above it, as a
  # PEP 503 index links its files beside itself (simple/x/index.html -> ../../files/...).
  { python3 -m pip config list 2>/dev/null || true; } | python3 -c '
import os, shlex, sys
for line in sys.stdin:
    key, _, value = line.strip().partition("=")
    option = key.rsplit(".", 1)[-1]
    if option not in ("index-url", "extra-index-url", "find-links"):
        continue
    for item in shlex.split(value)[0].split() if value else []:
        path = item.removeprefix("file://")
        if not path.startswith("/"):
            continue
        print(os.path.dirname(path.rstrip("/")) if option.endswith("index-url") else path)
' | sort -u
}

copy_host_config() {
  # Name resolution, and the machine's own apt and pip configuration and CA certificates,
  # so the new system reaches the same package registries as this one.
  cp -L /etc/resolv.conf /etc/hosts "$root/etc/"
  local f key
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/* /etc/apt/trusted.gpg \
    /etc/apt/trusted.gpg.d/* /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] || continue
    # apt.conf.d: only this machine's own settings (no package owns them), and not
    # docker-clean, which would empty the download cache mounted above after each install.
    if [[ $f == /etc/apt/apt.conf.d/* ]]; then
      dpkg -S "$f" >/dev/null 2>&1 && continue
      [ "$(basename "$f")" != docker-clean ] || continue
    fi
    install -D -m 644 "$f" "$root$f"
  done
  while read -r key; do  # the keyrings the sources name with Signed-By / signed-by=
    [ -f "$key" ] && install -D -m 644 "$key" "$root$key"
  done < <(grep -hoE '(Signed-By:|signed-by=)\s*/[^] ]+' /etc/apt/sources.list.d/* \
    /etc/apt/sources.list 2>/dev/null | sed -E 's/^(Signed-By:|signed-by=)\s*//' | sort -u)
  for f in /etc/pip.conf /etc/xdg/pip/*; do
    [ -f "$f" ] && install -D -m 644 "$f" "$root$f"
  done
  for f in "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf"; do
    [ -f "$f" ] && install -D -m 644 "$f" "$root/root/${f#"$HOME"/}"
  done
  # Local CAs go where update-ca-certificates (run by the ca-certificates package) adds
  # them to the bundle; the bundle itself is copied too, for apt before that package.
  if [ -d /usr/local/share/ca-certificates ]; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
  fi
  install -D -m 644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  # Services are not started inside the new system (clamav-freshclam would go to the
  # internet): the same policy as a container, and as this machine.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
}

chroot_env() {  # a clean environment, with the machine's pip, CA and proxy settings
  local name
  echo HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive TERM=dumb
  echo PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  for name in $(compgen -e); do
    case $name in
      PIP_* | SSL_CERT_FILE | SSL_CERT_DIR | REQUESTS_CA_BUNDLE | CURL_CA_BUNDLE | \
        NODE_EXTRA_CA_CERTS | GIT_SSL_CAINFO | http_proxy | https_proxy | no_proxy | \
        HTTP_PROXY | HTTPS_PROXY | NO_PROXY)
        echo "$name=${!name}" ;;
    esac
  done
}

in_root() {  # in_root SHELL-COMMAND: runs it as root inside the new system
  local env
  mapfile -t env < <(chroot_env)
  chroot "$root" /usr/bin/env -i "${env[@]}" /bin/bash -c "$1"
}

build_base() {
  debootstrap --variant=minbase "$SUITE" "$root" "$mirror"
  copy_host_config
  mount_system
  in_root "apt-get update -q && apt-get install -y -q --no-install-recommends ${BASE_PACKAGES[*]}"
  unmount_all
  rm -rf "$root"/var/lib/apt/lists/* "$root"/root/.cache
  tar -C "$root" --numeric-owner -czf "$partial" .
  mv "$partial" "$tarball"
}

unpack_base() {
  mkdir -p "$root"
  tar -C "$root" --numeric-owner -xzpf "$tarball"
}

clone() {
  # The current commit, as a new user would clone it: uncommitted changes are not in it.
  git clone -q --no-checkout "$repo" "$root$inside"
  git -C "$root$inside" checkout -q "$commit"
  if [ -n "$without" ]; then
    local list=$root$inside/scripts/system-packages.txt
    awk -v p="$without" '{ l = $0; sub(/#.*/, "", l); gsub(/[ \t]/, "", l); if (l != p) print }' \
      "$list" >"$list.new"
    if cmp -s "$list" "$list.new"; then
      echo "FRESH_CHECK_WITHOUT=$without is not in scripts/system-packages.txt" >&2
      return 2
    fi
    mv "$list.new" "$list"
    echo "dropped $without from scripts/system-packages.txt in the clone"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ready() {  # ready URL: 200 from it
  python3 - "$1" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
EOF
}

make_run() {
  # `make run` in the background (its own process group), until /health/ready answers;
  # then SIGTERM, and nothing of it may be left running.
  local port pid deadline url env
  port=$(free_port)
  url=http://127.0.0.1:$port/health/ready
  mapfile -t env < <(chroot_env)
  # setsid: make and careline in a process group of their own, the one SIGTERM goes to.
  setsid chroot "$root" /usr/bin/env -i "${env[@]}" "CARELINE_PORT=$port" \
    /bin/bash -c "cd $inside && exec make run" &
  pid=$!
  deadline=$((SECONDS + ready_seconds))
  until ready "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "make run exited before $url answered" >&2
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "make run: $url did not answer within $ready_seconds s" >&2
      return 1
    fi
    sleep 1
  done
  echo "make run: $url answered 200"
  kill -TERM -- "-$pid"
  deadline=$((SECONDS + 30))
  while [ -n "$(root_processes)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  wait "$pid" 2>/dev/null || true
  if [ -n "$(root_processes)" ]; then
    echo "make run: still running 30 s after SIGTERM:" >&2
    root_processes | while read -r p; do echo "  $p $(tr '\0' ' ' <"/proc/$p/cmdline")" >&2; done
    return 1
  fi
  echo "make run: stopped on SIGTERM, nothing left running"
}

make_test() {
  in_root "cd $inside && make test"
}

# --- main ------------------------------------------------------------------------------

if [ -n "$(git -C "$repo" status --porcelain)" ]; then
  echo "fresh-check: the working tree has uncommitted changes; they are not part of the check"
fi
echo "fresh-check: commit $commit, work directory $work"
mkdir -p "$cache"
key=$(echo "$BASE_FORMAT $SUITE $mirror ${BASE_PACKAGES[*]}" | sha256sum | cut -c1-16)
tarball=$cache/base-$SUITE-$key.tar.gz
if [ -f "$tarball" ]; then
  step "base (cached)" unpack_base
else
  partial=$tarball.partial
  step "base (debootstrap)" build_base
  partial=""
fi
copy_host_config
mount_system
step clone clone
step "make run" make_run
step "make test" make_test
