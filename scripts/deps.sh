#!/bin/sh
# Installs the Debian packages fieldgate needs to build, test and run its demo.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
# Usage: scripts/deps.sh [build|check|demo|lint]   (default: check = build + test tools;
#        lint = build + the linters `make lint` runs)
#        scripts/deps.sh cross ARCH SYSROOT   (ARCH arm64|armhf: cross toolchain, qemu-user and the
#        target's libraries in SYSROOT, see cross_sysroot below; `make deb|check-cross ARCH=` call it)
set -eu

build_pkgs="build-essential cmake pkg-config ninja-build libpaho-mqtt-dev libmodbus-dev libsqlite3-dev \
libjsoncpp-dev libsystemd-dev libssl-dev"
fuzz_pkgs="clang libclang-rt-14-dev"
lint_pkgs="clang-format clang-tidy cppcheck python3"
test_pkgs="libcpputest-dev mosquitto mosquitto-clients socat python3 sqlite3 systemd"
test_pkgs="$test_pkgs faketime"  # libfaketime: the no-clock test runs the daemon in 2001
test_pkgs="$test_pkgs lintian dpkg-dev adduser"
# The TLS tests make their certificates with the openssl command; ssl:// without ca_file uses the system store.
test_pkgs="$test_pkgs openssl ca-certificates"
# Cross builds: the target's -dev libraries (and what qemu-user needs to run the programs).
cross_libs="libpaho-mqtt-dev libmodbus-dev libsqlite3-dev libjsoncpp-dev libsystemd-dev libssl-dev \
libcpputest-dev libc6 libstdc++6 libgcc-s1"
case "${1:-check}" in
  build) want="$build_pkgs" ;;
  check|demo) want="$build_pkgs $test_pkgs" ;;
  fuzz) want="$build_pkgs $test_pkgs $fuzz_pkgs" ;;
  lint) want="$build_pkgs $lint_pkgs" ;;
  cross)
    arch="${2:-}"; sysroot="${3:-}"
    case "$arch" in arm64) triplet=aarch64-linux-gnu ;; armhf) triplet=arm-linux-gnueabihf ;;
      *) echo "usage: $0 cross arm64|armhf SYSROOT" >&2; exit 2 ;; esac
    [ -n "$sysroot" ] || { echo "usage: $0 cross $arch SYSROOT" >&2; exit 2; }
    want="$build_pkgs $test_pkgs crossbuild-essential-$arch qemu-user-static" ;;
  *) echo "usage: $0 [build|check|demo|fuzz|lint|cross ARCH SYSROOT]" >&2; exit 2 ;;
esac

# The target's libraries go into a private library root (SYSROOT, inside build-<arch>/), not
# into the machine's multiarch /usr/lib/<triplet>: multiarch co-installation needs the :<arch>
# packages at exactly the native version, and mirrors whose per-architecture indexes are out
# of step (security updates reach armhf later) would make apt downgrade or remove native -dev
# packages. apt runs for the target with its own state in SYSROOT/.apt (the machine's sources
# and keys, APT::Architecture=<arch>), so the machine's dpkg architectures and package lists stay
# as they are: a foreign index that fails to download cannot break anyone's `apt-get update`.
# The root holds the packages' files plus a small dpkg database (var/lib/dpkg: status, file
# lists, shlibs and symbols) so that dpkg-shlibdeps computes the dependencies of the cross-built
# programs exactly as on the target. qemu-user runs the programs with -L SYSROOT.
cross_sysroot() {
  stamp="$sysroot/.fieldgate-sysroot"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "3 $arch $cross_libs" ] && return 0
  rm -rf "$sysroot"
  mkdir -p "$sysroot/var/lib/dpkg/info" "$sysroot/.debs" "$sysroot/.apt/lists/partial" \
    "$sysroot/.apt/cache/archives/partial"
  : >"$sysroot/.apt/status"
  set -- -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" \
    -o "Dir::State::Lists=$sysroot/.apt/lists" -o "Dir::State::status=$sysroot/.apt/status" \
    -o "Dir::Cache=$sysroot/.apt/cache" -o "APT::Sandbox::User=root"
  # A mirror caught mid-sync fails one index; what did download is used (the closure check below
  # says when something needed is missing).
  apt-get "$@" -q update >/dev/null || echo "apt-get update for $arch: some indexes failed, going on" >&2
  # The libraries and everything they depend on, for the target only; compilers' own -dev
  # packages (libc headers, kernel headers) come from the cross toolchain instead.
  closure=$(apt-cache "$@" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances $cross_libs | grep -E "^[a-z0-9][a-z0-9.+-]*\$" | sort -u |
    grep -vE "^(libc6-dev|linux-libc-dev|libcrypt-dev|libnsl-dev|libtirpc-dev|libc-dev-bin|rpcsvc-proto|gcc-[0-9]+-base|libtirpc-common)\$")
  for p in $cross_libs; do
    echo "$closure" | grep -qx "$p" || { echo "no $p for $arch in the package lists" >&2; exit 1; }
  done
  (cd "$sysroot/.debs" && apt-get "$@" download -q $closure >/dev/null)
  : >"$sysroot/var/lib/dpkg/status"
  echo 1 >"$sysroot/var/lib/dpkg/info/format"  # info files named <package>:<arch>.*
  for deb in "$sysroot"/.debs/*.deb; do
    name=$(dpkg-deb -f "$deb" Package)
    dpkg-deb -x "$deb" "$sysroot"
    ctl=$(mktemp -d)
    dpkg-deb -e "$deb" "$ctl"
    for f in shlibs symbols; do
      [ -f "$ctl/$f" ] && cp "$ctl/$f" "$sysroot/var/lib/dpkg/info/$name:$arch.$f"
    done
    rm -rf "$ctl"
    # File lists name the files where they are in this root, which is where dpkg-shlibdeps finds them.
    dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' -e '/^$/d' -e "s|^|$sysroot|" \
      >"$sysroot/var/lib/dpkg/info/$name:$arch.list"
    { dpkg-deb -f "$deb" Package Version Architecture Multi-Arch Source Depends Provides Maintainer Description
      echo "Status: install ok installed"; echo; } >>"$sysroot/var/lib/dpkg/status"
  done
  # Absolute symlinks inside the packages (libfoo.so -> /lib/...) must stay inside the root.
  find "$sysroot" -type l | while read -r l; do
    t=$(readlink "$l")
    case "$t" in /*) ln -sfn "$sysroot$t" "$l" ;; esac
  done
  rm -rf "$sysroot/.debs"
  rm -rf "$sysroot/.apt"
  echo "3 $arch $cross_libs" >"$stamp"
}

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  [ "${1:-check}" = cross ] && cross_sysroot
  exit 0
fi

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
[ "${1:-check}" = cross ] && cross_sysroot
exit 0
