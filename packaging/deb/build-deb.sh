#!/usr/bin/env bash
# make deb: the Debian packages, with dpkg-deb and Debian's own tools
# (dpkg-shlibdeps for the dependencies), from a build of their own:
#   tidemalloc      libtidemalloc.so.0, libtidemalloc-secure.so.0,
#                   libtidemalloc-secure-full.so.0, tide, the glibc shim,
#                   tide(1)                                 (CMake component runtime)
#   tidemalloc-dev  tidemalloc.h, the .so links, libtidemalloc.a,
#                   tidemalloc.pc, the CMake package, tidemalloc(3)  (dev)
# Both land in $BUILD_DIR as <package>_<version>_<arch>.deb; the script
# prints their paths, one a line, last.
#
#   BUILD_DIR=build-deb [JOBS=2] [DEB_MAINTAINER="Name <address>"] packaging/deb/build-deb.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
B=$(realpath -m "${BUILD_DIR:-$src/build-deb}")
JOBS=${JOBS:-$(nproc)}
MAINTAINER=${DEB_MAINTAINER:-tidemalloc maintainers <maintainers@tidemalloc.example>}
ARCH=$(dpkg --print-architecture)

for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
  command -v $tool >/dev/null ||
    { echo "make deb: $tool is missing (apt-get install dpkg-dev binutils gzip)" >&2; exit 1; }
done

# Prefix /usr, so GNUInstallDirs picks Debian's multiarch libdir; only what
# is packaged is built. The libraries are compiled as every other build
# compiles them (they link with -z now already); the links add Debian's
# hardening (RELRO, and BIND_NOW for tide).
cmake -S "$src" -B "$B" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DTIDE_BUILD_TESTS=OFF -DTIDE_BUILD_BENCH=OFF \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,-z,relro -Wl,-z,now" -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-z,relro" >/dev/null
cmake --build "$B" -j "$JOBS" --target tidemalloc tidemalloc_secure tidemalloc_secure_full tidemalloc_static tide tide_glibc_shim
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")
[ -n "$VERSION" ] || { echo "make deb: no project version in $B/CMakeCache.txt" >&2; exit 1; }

stage=$B/deb-stage
rm -rf "$stage"
# Without a Debian revision the version marks a native package: its
# changelog is changelog.gz (not changelog.Debian.gz).
changelog_date=$(git -C "$src" log -1 --format=%cD 2>/dev/null || date -R)

# stage PACKAGE COMPONENT: install the component into $stage/PACKAGE, strip,
# compress the man pages, add copyright and changelog.
stage() {
  local pkg=$1 component=$2 root=$stage/$1
  DESTDIR=$root cmake --install "$B" --component "$component" >/dev/null
  # dh_strip's choices: shared objects lose what linking does not need,
  # executables everything, the archive its debugging information.
  find "$root" -type f -name '*.so*' -exec strip --strip-unneeded --remove-section=.comment {} +
  find "$root/usr/bin" -type f -exec strip --remove-section=.comment {} + 2>/dev/null || true
  find "$root" -type f -name '*.a' \
    -exec strip --strip-debug --remove-section=.comment --enable-deterministic-archives {} +
  find "$root/usr/share/man" -type f -exec gzip -9n {} +
  local doc=$root/usr/share/doc/$pkg
  mkdir -p "$doc"
  install -m 0644 "$here/copyright" "$doc/copyright"
  printf '%s (%s) unstable; urgency=medium\n\n  * Release %s (built from the tidemalloc tree; see its history).\n\n -- %s  %s\n' \
    "$pkg" "$VERSION" "$VERSION" "$MAINTAINER" "$changelog_date" | gzip -9n >"$doc/changelog.gz"
  mkdir -p "$root/DEBIAN"
}

# control PACKAGE SECTION DEPENDS SYNOPSIS DESCRIPTION...: DEBIAN/control,
# DEBIAN/md5sums.
control() {
  local pkg=$1 section=$2 depends=$3 synopsis=$4 root=$stage/$1
  shift 4
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  {
    echo "Package: $pkg"
    echo "Version: $VERSION"
    echo "Architecture: $ARCH"
    echo "Maintainer: $MAINTAINER"
    echo "Installed-Size: $size"
    echo "Depends: $depends"
    echo "Section: $section"
    echo "Priority: optional"
    echo "Description: $synopsis"
    printf ' %s\n' "$@"
  } >"$root/DEBIAN/control"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
     xargs -0 -r md5sum) >"$root/DEBIAN/md5sums"
}

stage tidemalloc runtime
stage tidemalloc-dev dev

# The runtime's dependencies, as dpkg-shlibdeps reads them off its ELF
# files (it wants a debian/control to exist, so it runs in a scratch tree).
rt=$stage/tidemalloc
mkdir -p "$stage/shlibdeps/debian"
printf 'Source: tidemalloc\n\nPackage: tidemalloc\nArchitecture: any\n' >"$stage/shlibdeps/debian/control"
mapfile -t elves < <(find "$rt" -type f \( -name '*.so*' -o -path '*/usr/bin/*' \))
depends=$(cd "$stage/shlibdeps" && dpkg-shlibdeps -O "${elves[@]/#/-e}" 2>/dev/null |
          sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
rm -rf "$stage/shlibdeps"

# Programs built against the libraries depend on this package through
# shlibs; ldconfig runs on install and removal through its trigger.
printf 'libtidemalloc %s tidemalloc (>= %s)\nlibtidemalloc-secure %s tidemalloc (>= %s)\nlibtidemalloc-secure-full %s tidemalloc (>= %s)\n' \
  0 "$VERSION" 0 "$VERSION" 0 "$VERSION" >"$rt/DEBIAN/shlibs"
echo 'activate-noawait ldconfig' >"$rt/DEBIAN/triggers"
install -D -m 0644 "$here/lintian-overrides" "$rt/usr/share/lintian/overrides/tidemalloc"

control tidemalloc libs "$depends" \
  "malloc that hands freed memory back to the OS, and its tool" \
  "tidemalloc is a general-purpose malloc for long-running servers: fast," \
  "with fragmentation bounded and freed memory returned to the OS on a" \
  "time-based decay, also while the program is idle. Preload it" \
  "(LD_PRELOAD=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libtidemalloc.so.0) or link with it." \
  "." \
  "This package holds the library, its hardened build at two levels" \
  "(libtidemalloc-secure for production, libtidemalloc-secure-full for" \
  "debugging) and the tide tool, which samples a program's RSS against its" \
  "live bytes over time under any allocator and reads tidemalloc's" \
  "statistics and heap profiles."
control tidemalloc-dev libdevel "tidemalloc (= $VERSION)" \
  "malloc that hands freed memory back to the OS (development files)" \
  "tidemalloc is a general-purpose malloc for long-running servers: fast," \
  "with fragmentation bounded and freed memory returned to the OS on a" \
  "time-based decay, also while the program is idle." \
  "." \
  "This package holds what building against it needs: the header, the" \
  "static library, the pkg-config file (tidemalloc.pc), the CMake package" \
  "(find_package(tidemalloc)) and the tidemalloc(3) manual page."

debs=()
for pkg in tidemalloc tidemalloc-dev; do
  deb=$B/${pkg}_${VERSION}_${ARCH}.deb
  dpkg-deb --root-owner-group -Zxz --build "$stage/$pkg" "$deb" >/dev/null
  debs+=("$deb")
done
printf '%s\n' "${debs[@]}"
