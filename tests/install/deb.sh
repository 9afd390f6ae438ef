#!/usr/bin/env bash
# install.deb: `make deb`, then the packages as Debian sees them:
#   - tidemalloc_<version>_<arch>.deb and tidemalloc-dev_…: their fields
#     (version = the header's, dependencies from dpkg-shlibdeps, -dev on the
#     exact runtime version), control files (shlibs, ldconfig trigger,
#     md5sums) and exact file lists;
#   - lintian reports no error;
#   - as root (CI): apt-get install ./tidemalloc_*.deb ./tidemalloc-dev_*.deb
#     as docs/DEPLOY.md says; the installed tide --version, a preload
#     of the installed library, docs/DEPLOY.md's pkg-config and CMake
#     recipes against the system's tidemalloc.pc and CMake package, tide run
#     from /usr/bin; then apt-get remove leaves none of the packages' files,
#     directories or ld.so cache entries, and no package state behind.
# Not as root, or when tidemalloc is installed already (it is not this
# test's to remove), the install and removal are left out, and said so.
source "$(dirname "$0")/lib.sh"
need make dpkg-deb dpkg-shlibdeps lintian readelf

V=$(header_version)
A=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
make --no-print-directory -C "$TIDE_SRC" deb BUILD="$TIDE_BUILD" JOBS=2 >"$WORK/deb.log" 2>&1 ||
    { tail -30 "$WORK/deb.log" >&2; fail "make deb failed"; }
RT=$(tail -2 "$WORK/deb.log" | head -1)
DEV=$(tail -1 "$WORK/deb.log")
[ "$(basename "$RT")" = "tidemalloc_${V}_$A.deb" ] || fail "make deb made $RT"
[ "$(basename "$DEV")" = "tidemalloc-dev_${V}_$A.deb" ] || fail "make deb made $DEV"
ok "make deb: $(basename "$RT"), $(basename "$DEV")"

# ---- fields and control files ------------------------------------------
field() { dpkg-deb -f "$1" "$2"; }
for deb in "$RT" "$DEV"; do
    [ "$(field "$deb" Version)" = "$V" ] || fail "$deb: Version $(field "$deb" Version)"
    [ "$(field "$deb" Architecture)" = "$A" ] || fail "$deb: Architecture"
done
[[ $(field "$RT" Depends) == *"libc6 (>="* ]] || fail "tidemalloc: Depends: $(field "$RT" Depends)"
[ "$(field "$DEV" Depends)" = "tidemalloc (= $V)" ] || fail "tidemalloc-dev: Depends: $(field "$DEV" Depends)"
dpkg-deb -e "$RT" "$WORK/ctrl"
[ "$(cat "$WORK/ctrl/triggers")" = "activate-noawait ldconfig" ] || fail "tidemalloc: no ldconfig trigger"
grep -qx "libtidemalloc 0 tidemalloc (>= $V)" "$WORK/ctrl/shlibs" || fail "tidemalloc: shlibs"
grep -qx "libtidemalloc-secure 0 tidemalloc (>= $V)" "$WORK/ctrl/shlibs" || fail "tidemalloc: shlibs (secure)"
grep -qx "libtidemalloc-secure-full 0 tidemalloc (>= $V)" "$WORK/ctrl/shlibs" || fail "tidemalloc: shlibs (secure-full)"
[ -s "$WORK/ctrl/md5sums" ] || fail "tidemalloc: no md5sums"
ok "fields: Version $V, Depends: $(field "$RT" Depends); -dev on tidemalloc (= $V); shlibs, ldconfig trigger, md5sums"

# ---- file lists ----------------------------------------------------------
files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }' | sort; }
lib=usr/lib/$MA
expect_rt=$(sort <<EOF2
usr/bin/tide
$lib/libtidemalloc.so.0 -> libtidemalloc.so.$V
$lib/libtidemalloc.so.$V
$lib/libtidemalloc-secure.so.0 -> libtidemalloc-secure.so.$V
$lib/libtidemalloc-secure.so.$V
$lib/libtidemalloc-secure-full.so.0 -> libtidemalloc-secure-full.so.$V
$lib/libtidemalloc-secure-full.so.$V
$lib/tidemalloc/libtide_glibc_shim.so
usr/share/doc/tidemalloc/changelog.gz
usr/share/doc/tidemalloc/copyright
usr/share/lintian/overrides/tidemalloc
usr/share/man/man1/tide.1.gz
EOF2
)
expect_dev=$(sort <<EOF2
usr/include/tidemalloc.h
$lib/libtidemalloc.so -> libtidemalloc.so.0
$lib/libtidemalloc-secure.so -> libtidemalloc-secure.so.0
$lib/libtidemalloc-secure-full.so -> libtidemalloc-secure-full.so.0
$lib/libtidemalloc.a
$lib/pkgconfig/tidemalloc.pc
$lib/cmake/tidemalloc/tidemalloc-config.cmake
$lib/cmake/tidemalloc/tidemalloc-config-version.cmake
$lib/cmake/tidemalloc/tidemalloc-targets.cmake
$lib/cmake/tidemalloc/tidemalloc-targets-release.cmake
usr/share/doc/tidemalloc-dev/changelog.gz
usr/share/doc/tidemalloc-dev/copyright
usr/share/man/man3/tidemalloc.3.gz
EOF2
)
[ "$(files "$RT")" = "$expect_rt" ] || fail "tidemalloc's files differ:
$(diff <(echo "$expect_rt") <(files "$RT"))"
[ "$(files "$DEV")" = "$expect_dev" ] || fail "tidemalloc-dev's files differ:
$(diff <(echo "$expect_dev") <(files "$DEV"))"
ok "file lists: tidemalloc $(wc -l <<<"$expect_rt") files, tidemalloc-dev $(wc -l <<<"$expect_dev")"

# ---- lintian -----------------------------------------------------------
# Exit status 1: a tag at or above --fail-on; anything else but 0: lintian
# itself failed.
rc=0
lintian --fail-on error "$RT" "$DEV" >"$WORK/lintian.log" 2>&1 || rc=$?
grep -v 'running with root privileges' "$WORK/lintian.log" | sed 's/^/    lintian: /' || true
[ $rc != 1 ] && ! grep -q '^E:' "$WORK/lintian.log" || fail "lintian reports errors"
[ $rc = 0 ] || fail "lintian failed (status $rc)"
ok "lintian: no errors ($(grep -c '^W:' "$WORK/lintian.log" || true) warnings)"

# ---- install, use, remove (root) ----------------------------------------
if [ "$(id -u)" != 0 ]; then
    echo "not root: apt-get install and remove left out (CI runs this as root)"
    exit 0
fi
if dpkg-query -W -f='${Status}' tidemalloc 2>/dev/null | grep -q installed ||
   dpkg-query -W -f='${Status}' tidemalloc-dev 2>/dev/null | grep -q installed; then
    echo "tidemalloc is installed on this machine already: apt-get install and remove left out"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -y -q -o DPkg::Lock::Timeout=120)
at_exit 'dpkg-query -W tidemalloc >/dev/null 2>&1 && dpkg --purge tidemalloc-dev tidemalloc >/dev/null 2>&1'
cp "$RT" "$DEV" "$WORK/"
(cd "$WORK" && "${apt[@]}" install ./tidemalloc_*.deb ./tidemalloc-dev_*.deb) >"$WORK/apt.log" 2>&1 ||
    { cat "$WORK/apt.log" >&2; fail "apt-get install ./tidemalloc_*.deb failed"; }
dpkg -L tidemalloc tidemalloc-dev | sort -u >"$WORK/installed"
[ "$(/usr/bin/tide --version)" = "tide $V" ] || fail "installed tide --version"
grep -q "libtidemalloc.so.0 .*=> .*/$MA/libtidemalloc.so.0" <<<"$(ldconfig -p)" || fail "ldconfig does not know libtidemalloc.so.0"
LD_PRELOAD=/$lib/libtidemalloc.so.0 grep -q "/$lib/libtidemalloc.so.$V" /proc/self/maps ||
    fail "LD_PRELOAD of the installed library did not map it"
ok "apt-get install: tide $V, ldconfig knows libtidemalloc.so.0, LD_PRELOAD=/$lib/libtidemalloc.so.0 maps it"

# The system's own pkg-config and CMake search, nothing pointed at them.
(unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR CMAKE_PREFIX_PATH
 build_consumers "$WORK/consumer" && check_consumers "$WORK/consumer" "/$lib/libtidemalloc.so.0" "$V")
(cd "$WORK" && /usr/bin/tide run -q --out run -- python3 -c 'x = bytes(1 << 24)') || fail "tide run from /usr/bin failed"
grep -qx "library=/$lib/libtidemalloc.so.0" "$WORK/run/summary.txt" ||
    fail "tide run from /usr/bin: $(grep library= "$WORK/run/summary.txt")"
ok "from the installed -dev: pkg-config and CMake consumers take malloc from /$lib/libtidemalloc.so.0; /usr/bin/tide run preloads it"

"${apt[@]}" remove tidemalloc tidemalloc-dev >"$WORK/apt.log" 2>&1 ||
    { cat "$WORK/apt.log" >&2; fail "apt-get remove failed"; }
for p in tidemalloc tidemalloc-dev; do
    ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qv '^unknown ok not-installed$\|^$' ||
        fail "$p left state behind: $(dpkg-query -W -f='${Status}' "$p")"
done
while read -r f; do
    [ -d "$f" ] && ! [ -L "$f" ] && continue
    ! [ -e "$f" ] && ! [ -L "$f" ] || fail "apt-get remove left $f"
done <"$WORK/installed"
for d in "/$lib/tidemalloc" "/$lib/cmake/tidemalloc" /usr/share/doc/tidemalloc /usr/share/doc/tidemalloc-dev; do
    [ ! -e "$d" ] || fail "apt-get remove left $d"
done
! grep -q libtidemalloc <<<"$(ldconfig -p)" || fail "the ld.so cache still lists libtidemalloc"
ok "apt-get remove: none of the $(wc -l <"$WORK/installed") paths, no package state, no ld.so cache entry left"
