#!/usr/bin/env bash
# install.prefix: `make install` into a temporary DESTDIR, with a prefix
# that is not the default, and everything a user of the installed tree does:
#   - exactly the files of README.md's "Install" are there, the libraries
#     with soname libtidemalloc.so.0 (and -secure, -secure-full) and their links;
#   - one version everywhere: the header's TIDE_VERSION = tide --version =
#     pkg-config --modversion = the CMake package's = the library's
#     tide_version() = the library's file name;
#   - docs/DEPLOY.md's pkg-config line and CMakeLists.txt build
#     tests/install/consumer.c, and malloc resolves into the installed
#     library (the static build: into the program itself);
#   - man -l renders tidemalloc(3) and tide(1) without warnings, and they
#     name every tide_* function, entry point, TIDE_CONF option and tide
#     option the sources define;
#   - the installed tide, with no library beside it, runs a program under
#     tidemalloc and under glibc (through the installed shim) and writes its
#     report;
#   - make uninstall (same DESTDIR) leaves no file behind.
# The build directory's install_manifest.txt (what make uninstall reads) is
# put back as it was.
source "$(dirname "$0")/lib.sh"
need make cmake cc pkg-config man readelf python3

V=$(header_version)
[ -n "$V" ] || fail "no TIDE_VERSION in include/tidemalloc.h"
L=$(cache_get "$TIDE_BUILD" CMAKE_INSTALL_LIBDIR)
D=$WORK/dest
P=/opt/tidemalloc-test
R=$D$P

manifest=$TIDE_BUILD/install_manifest.txt
if [ -e "$manifest" ]; then
    cp -p "$manifest" "$WORK/manifest.saved"
    at_exit 'cp -p "$WORK/manifest.saved" "$manifest"'
else
    at_exit 'rm -f "$manifest"'
fi

make --no-print-directory -C "$TIDE_SRC" install BUILD="$TIDE_BUILD" JOBS=2 PREFIX=$P DESTDIR="$D" \
    >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "make install failed"; }

# ---- the files ---------------------------------------------------------
targets=$(cd "$R/$L/cmake/tidemalloc" && ls tidemalloc-targets-*.cmake)
expected=$(sort <<EOF2
bin/tide
include/tidemalloc.h
$L/libtidemalloc.so -> libtidemalloc.so.0
$L/libtidemalloc.so.0 -> libtidemalloc.so.$V
$L/libtidemalloc.so.$V
$L/libtidemalloc-secure.so -> libtidemalloc-secure.so.0
$L/libtidemalloc-secure.so.0 -> libtidemalloc-secure.so.$V
$L/libtidemalloc-secure.so.$V
$L/libtidemalloc-secure-full.so -> libtidemalloc-secure-full.so.0
$L/libtidemalloc-secure-full.so.0 -> libtidemalloc-secure-full.so.$V
$L/libtidemalloc-secure-full.so.$V
$L/libtidemalloc.a
$L/tidemalloc/libtide_glibc_shim.so
$L/pkgconfig/tidemalloc.pc
$L/cmake/tidemalloc/tidemalloc-config.cmake
$L/cmake/tidemalloc/tidemalloc-config-version.cmake
$L/cmake/tidemalloc/tidemalloc-targets.cmake
$L/cmake/tidemalloc/$targets
share/man/man1/tide.1
share/man/man3/tidemalloc.3
EOF2
)
found=$(cd "$R" && find . \( -type f -printf '%P\n' \) -o \( -type l -printf '%P -> %l\n' \) | sort)
[ "$found" = "$expected" ] || fail "installed files differ from the expected list:
$(diff <(echo "$expected") <(echo "$found"))"
[ "$(find "$D" ! -type d | grep -v "^$R/")" = "" ] || fail "make install wrote outside DESTDIR/PREFIX"
[ "$(soname_of "$R/$L/libtidemalloc.so.$V")" = libtidemalloc.so.0 ] || fail "libtidemalloc's soname"
[ "$(soname_of "$R/$L/libtidemalloc-secure.so.$V")" = libtidemalloc-secure.so.0 ] ||
    fail "libtidemalloc-secure's soname"
[ "$(soname_of "$R/$L/libtidemalloc-secure-full.so.$V")" = libtidemalloc-secure-full.so.0 ] ||
    fail "libtidemalloc-secure-full's soname"
ok "make install PREFIX=$P DESTDIR=...: the $(wc -l <<<"$expected") files, sonames libtidemalloc.so.0, libtidemalloc-secure.so.0 and libtidemalloc-secure-full.so.0"

# ---- one version -------------------------------------------------------
export PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR=$R/$L/pkgconfig PKG_CONFIG_PATH=
[ "$("$R/bin/tide" --version)" = "tide $V" ] || fail "tide --version: $("$R/bin/tide" --version)"
[ "$(pkg-config --modversion tidemalloc)" = "$V" ] || fail "pkg-config --modversion tidemalloc"
grep -q "PACKAGE_VERSION \"$V\"" "$R/$L/cmake/tidemalloc/tidemalloc-config-version.cmake" ||
    fail "the CMake package's version is not $V"
grep -qx "prefix=$P" "$R/$L/pkgconfig/tidemalloc.pc" || fail "tidemalloc.pc does not name the prefix $P"
ok "version $V: header, tide --version, tidemalloc.pc, CMake package, library file name"

# ---- building against it -----------------------------------------------
build_consumers "$WORK/consumer" -DCMAKE_PREFIX_PATH="$R"
LD_LIBRARY_PATH=$R/$L check_consumers "$WORK/consumer" "$R/$L/libtidemalloc.so.0" "$V"
ok "pkg-config and find_package(tidemalloc) consumers: malloc from the installed libtidemalloc.so.0 (static: the program), tide_version() $V"

# ---- man pages ---------------------------------------------------------
mapfile -t api < <(grep '^TIDE_EXPORT' "$TIDE_SRC/include/tidemalloc.h" | grep -o 'tide_[a-z_]*(' | tr -d '(')
mapfile -t entries < <(sed -n 's/^EXPORT [^(]*[ *]\([a-z_][a-z_0-9]*\)(.*/\1/p' "$TIDE_SRC/src/api/override.c")
mapfile -t keys < <(sed -n 's/^ *{ "\([a-z_]*\)", OPT_.*/\1/p' "$TIDE_SRC/src/config/config.c")
[ ${#api[@]} -gt 10 ] && [ ${#entries[@]} -gt 10 ] && [ ${#keys[@]} -gt 10 ] ||
    fail "could not read the API, entry points or options from the sources"
man_check "$R/share/man/man3/tidemalloc.3" TIDE_CONF TIDE_VERSION libtidemalloc.so.0 \
    "operator new" "${api[@]}" "${entries[@]}" "${keys[@]}"
mapfile -t opts < <(grep -oh '"--[a-z-][a-z-]*"' "$TIDE_SRC"/tools/{run_options,report,stats,prof}.c | tr -d '"' | sort -u)
man_check "$R/share/man/man1/tide.1" "B run" "B report" "B stats" "B prof" "B help" \
    "prof top" "prof flame" "prof diff" "prof folded" "prof dump" --version "${opts[@]}"
ok "man -l: tidemalloc(3) (${#api[@]} functions, ${#entries[@]} entry points, ${#keys[@]} options) and tide(1) (${#opts[@]} options), no warnings"

# ---- tide run from the installed prefix --------------------------------
[ "$(ls "$R/bin")" = tide ] || fail "something beside the installed tide: $(ls "$R/bin")"
hold='import time; keep = [bytes(1000) for _ in range(40000)]; time.sleep(0.6)'
(cd "$WORK" && PYTHONMALLOC=malloc "$R/bin/tide" run -q --out run-tide -- python3 -c "$hold") ||
    fail "installed tide run failed"
grep -qx "library=$(realpath "$R/$L")/libtidemalloc.so.0" "$WORK/run-tide/summary.txt" ||
    fail "tide run did not preload the installed library: $(grep library= "$WORK/run-tide/summary.txt")"
# The peak: by the last sample the interpreter may be freeing it all.
live=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "live_bytes") c = i; next }
                $c > v { v = $c } END { print v + 0 }' "$WORK/run-tide/timeline.csv")
[ "$live" -ge 40000000 ] || fail "tide run: peak live bytes $live, want the 40 MB the program holds"
grep -q '<svg class="plot"' "$WORK/run-tide/report.html" || fail "tide run wrote no report"
(cd "$WORK" && "$R/bin/tide" run -q -a glibc --out run-glibc -- python3 -c "$hold") ||
    fail "installed tide run -a glibc failed"
grep -qx "library=$(realpath "$R/$L")/tidemalloc/libtide_glibc_shim.so" "$WORK/run-glibc/summary.txt" ||
    fail "tide run -a glibc did not preload the installed shim"
ok "installed tide run: the installed libtidemalloc.so.0 (live $((live / 1000000)) MB) and glibc shim, report.html"

# ---- make uninstall ----------------------------------------------------
make --no-print-directory -C "$TIDE_SRC" uninstall BUILD="$TIDE_BUILD" DESTDIR="$D" >"$WORK/uninstall.log" 2>&1 ||
    { cat "$WORK/uninstall.log" >&2; fail "make uninstall failed"; }
left=$(find "$D" ! -type d)
[ -z "$left" ] || fail "make uninstall left files behind: $left"
left=$(find "$D" -type d -name tidemalloc)
[ -z "$left" ] || fail "make uninstall left tidemalloc's directories: $left"
ok "make uninstall: nothing left"
