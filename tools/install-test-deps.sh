#!/usr/bin/env bash
# The Debian packages the build and the tests need: the one list, read by
# `make test` (make test-deps) and by .ci/run. Installs what is missing when
# run as root (Debian's archive is all it needs); otherwise prints the one
# apt-get line to run and exits 1, so that make test stops before a test can
# fail for want of a package.
#
#   tools/install-test-deps.sh          install what is missing, or say how
#   tools/install-test-deps.sh --list   print the list, one a line
set -euo pipefail

# build-essential, cmake, g++, clang: the build (clang and libclang-rt-14-dev
# also for the libFuzzer target). zlib1g-dev: tide prof reads gzip.
# python3, sqlite3, coreutils, git: real programs under LD_PRELOAD; valgrind:
# the leak check. libjemalloc2, libmimalloc2.0, libtcmalloc-minimal4: the
# other allocators tide run and the benchmarks compare. chromium: the HTML
# report is checked in a real browser. golang-go (go tool pprof) and
# libjemalloc-dev (jeprof): heap profiles are checked with the readers users
# have. libpython3.11-testsuite, redis-server, redis-tools, rocksdb-tools:
# the real-program suites; openjdk-17-jdk-headless and librocksdb-dev: the
# JVM-over-RocksDB service and the JVM deployment recipe. pkg-config,
# dpkg-dev (dpkg-shlibdeps), lintian, man-db and systemd (systemd-analyze):
# the install and packaging tests (tests/install/). python3-prometheus-client:
# the Prometheus text is checked with Prometheus's own parser (compat.metrics).
# tmux: the test of `tide top` drives it in a terminal and reads the screen.
PKGS=(
  build-essential cmake g++ clang libclang-rt-14-dev zlib1g-dev
  python3 sqlite3 coreutils git valgrind binutils
  libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4
  chromium golang-go libjemalloc-dev
  libpython3.11-testsuite redis-server redis-tools rocksdb-tools
  openjdk-17-jdk-headless librocksdb-dev
  pkg-config dpkg-dev lintian man-db systemd python3-prometheus-client tmux
)

if [ "${1:-}" = --list ]; then
  printf '%s\n' "${PKGS[@]}"
  exit 0
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx 'install ok installed' ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "The tests need Debian packages that are not installed. Install them, then run make test again:" >&2
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "Installing the packages the tests need: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# openjdk's postinst installs man pages with update-alternatives and fails
# where a minimal image has dropped /usr/share/man/man1.
mkdir -p /usr/share/man/man1
apt-get install -y -qq --no-install-recommends "${missing[@]}"
