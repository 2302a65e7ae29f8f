# shellcheck shell=bash
# Helpers for the Debian chroots the project's checks run in, sourced by
# scripts/fresh-machine.sh (a fresh bookworm machine) and scripts/nix-sid.sh
# (Debian sid's Nix 2.34). Needs root, debootstrap, unshare.
#
# A chroot here is entered through `unshare --mount --pid --fork --kill-child`:
# its bind mounts live in a mount namespace of their own and vanish with it,
# and every process started inside dies with it (Ctrl-C included), so nothing
# is left mounted or running on the host.

CHROOT_CACHE=${CUPCROSS_CHROOT_CACHE:-/var/cache/cupcross}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

chroot_die() {
  echo "$*" >&2
  exit 1
}

chroot_need_tools() {
  [ "$(id -u)" -eq 0 ] || chroot_die "$0: needs root (debootstrap, chroot, mounts): run it with sudo"
  local missing=()
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v zstd >/dev/null 2>&1 || missing+=(zstd)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
      chroot_die "$0: could not install ${missing[*]}: run 'apt-get install ${missing[*]}'"
  fi
}

# chroot_base SUITE DIR [INCLUDE]: a minbase debootstrap of SUITE in DIR,
# unpacked from $CHROOT_CACHE/SUITE-base.tar.zst when that exists (made on the
# first run), so later runs start in seconds.
chroot_base() {
  local suite=$1 dir=$2 include=${3:-}
  local tarball=$CHROOT_CACHE/$suite-base${include:+-$(printf '%s' "$include" | md5sum | cut -c1-8)}.tar.zst
  mkdir -p "$CHROOT_CACHE" "$dir"
  if [ ! -s "$tarball" ]; then
    echo "chroot: debootstrap $suite (once; cached in $tarball)"
    local tmp
    tmp=$(mktemp -d "$CHROOT_CACHE/.bootstrap.XXXXXX")
    if ! debootstrap --variant=minbase ${include:+--include="$include"} "$suite" "$tmp" "$DEBIAN_MIRROR" >"$tmp.log" 2>&1; then
      tail -n 20 "$tmp.log" >&2
      rm -rf "$tmp"
      chroot_die "chroot: debootstrap $suite failed (log above; mirror $DEBIAN_MIRROR, set DEBIAN_MIRROR to change it)"
    fi
    rm -f "$tmp.log"
    tar -C "$tmp" --numeric-owner -cf - . | zstd -q -T0 -o "$tarball.part"
    mv "$tarball.part" "$tarball"
    rm -rf "$tmp"
  fi
  tar -C "$dir" --numeric-owner -xf "$tarball" --zstd
}

# chroot_registry_access DIR SUITE: let the chroot reach the package
# registries the way this host does, and nothing of the project's own set-up:
# the host's extra certificate authorities, pip.conf, apt.conf.d registry
# entries, name resolution, an /etc/hosts that names localhost, and the
# suites a real install has (release, updates, security).
chroot_registry_access() {
  local dir=$1 suite=$2
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$dir/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
  fi
  [ -f /etc/pip.conf ] && cp /etc/pip.conf "$dir/etc/pip.conf"
  local f
  for f in /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] || continue
    # registry entries only: proxies, certificates, validity checks
    if grep -qiE 'proxy|Acquire::|Verify-Peer|CaInfo' "$f"; then cp "$f" "$dir/etc/apt/apt.conf.d/"; fi
  done
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$dir/etc/hosts"
  case "$suite" in
  sid | unstable)
    printf 'deb %s sid main\n' "$DEBIAN_MIRROR" >"$dir/etc/apt/sources.list"
    ;;
  *)
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
      "$DEBIAN_MIRROR" "$suite" "$DEBIAN_MIRROR" "$suite" "${DEBIAN_MIRROR%/debian}/debian-security" "$suite" \
      >"$dir/etc/apt/sources.list"
    ;;
  esac
  # The certificate store must hold the host's authorities before apt or pip
  # talks https: ca-certificates may not be in a minbase system yet.
  if [ -d "$dir/usr/local/share/ca-certificates" ]; then
    mkdir -p "$dir/etc/ssl/certs"
    if [ -x "$dir/usr/sbin/update-ca-certificates" ]; then
      chroot "$dir" update-ca-certificates >/dev/null 2>&1 || true
    else
      cat /etc/ssl/certs/ca-certificates.crt >"$dir/etc/ssl/certs/ca-certificates.crt"
    fi
  fi
}

# chroot_env: the environment a command inside starts with: a clean one, plus
# the certificate variables the host's registries need, and CI.
chroot_env() {
  local v out=(HOME=/root PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin:/root/.cargo/bin
    LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive)
  for v in SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE REQUESTS_CA_BUNDLE AWS_CA_BUNDLE NIX_SSL_CERT_FILE CI; do
    [ -n "${!v:-}" ] && out+=("$v=${!v}")
  done
  # CHROOT_EXTRA_ENV: space-separated NAME=value words for this command only
  # shellcheck disable=SC2206
  [ -n "${CHROOT_EXTRA_ENV:-}" ] && out+=($CHROOT_EXTRA_ENV)
  printf '%s\n' "${out[@]}"
}

# chroot_run DIR BINDS COMMAND...: run COMMAND (a shell snippet) inside DIR.
# BINDS is a space-separated list of SRC:DST[:ro] bind mounts. /proc is the
# new PID namespace's own; /dev, /dev/pts and /sys are the host's; /dev/shm
# and /tmp are fresh tmpfs.
chroot_run() {
  local dir=$1 binds=$2
  shift 2
  local envs pid rc
  mapfile -t envs < <(chroot_env)
  # In the background, so that a TERM or INT to this script reaches it too.
  # unshare --fork ignores INT and TERM while it waits, so it gets KILL; its
  # child (the namespace's first process) then dies of --kill-child, and
  # with it every process inside the PID namespace.
  unshare --mount --pid --fork --kill-child --propagation private -- bash -euo pipefail -c '
    dir=$1 binds=$2
    shift 2
    mount -t proc proc "$dir/proc"
    mount --rbind /sys "$dir/sys"
    mount --rbind /dev "$dir/dev"
    mount -t tmpfs -o mode=1777 shm "$dir/dev/shm" 2>/dev/null || true
    mount -t tmpfs -o mode=1777 tmp "$dir/tmp"
    for b in $binds; do
      src=${b%%:*} rest=${b#*:} dst=${rest%%:*} opt=${rest#"$dst"}
      if [ -d "$src" ]; then
        mkdir -p "$dir$dst"
      else
        mkdir -p "$(dirname "$dir$dst")"
        [ -e "$dir$dst" ] || : >"$dir$dst"
      fi
      mount --bind "$src" "$dir$dst"
      [ "$opt" = ":ro" ] && mount -o remount,bind,ro "$dir$dst"
    done
    exec chroot "$dir" /usr/bin/env -i "$@"
  ' chroot-run "$dir" "$binds" "${envs[@]}" bash -c "$*" &
  pid=$!
  trap 'kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; trap - INT TERM; kill -INT $$' INT
  trap 'kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; trap - INT TERM; kill -TERM $$' TERM
  rc=0
  wait "$pid" || rc=$?
  trap - INT TERM
  return "$rc"
}
