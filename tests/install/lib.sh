# Sourced by the install tests (tests/install/*.sh). ctest sets TIDE_SRC
# (the source tree) and TIDE_BUILD (the build directory); by hand they
# default to this tree and its build/.
# shellcheck shell=bash
set -euo pipefail
TIDE_SRC=${TIDE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TIDE_BUILD=${TIDE_BUILD:-$TIDE_SRC/build}
DEPLOY_MD=$TIDE_SRC/docs/DEPLOY.md
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tide-install.XXXXXX")

# at_exit CMD: run CMD when the script exits, however it exits (last
# registered first), before the scratch directory goes.
AT_EXIT=()
at_exit() { AT_EXIT=("$1" "${AT_EXIT[@]}"); }
run_at_exit() {
    local c
    for c in "${AT_EXIT[@]}"; do eval "$c" || true; done
    rm -rf "$WORK"
}
trap run_at_exit EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
need() {
    local p
    for p in "$@"; do
        command -v "$p" >/dev/null 2>&1 ||
            fail "$p is not installed (tools/install-test-deps.sh installs what the tests need)"
    done
}

# The release, from its one place.
header_version() { sed -n 's/^#define TIDE_VERSION "\(.*\)"$/\1/p' "$TIDE_SRC/include/tidemalloc.h"; }
# A build directory's cache entry: cache_get BUILD_DIR NAME
cache_get() { sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"; }
soname_of() { readelf -d "$1" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'; }

# recipe NAME: the fenced block after "<!-- recipe: NAME -->" in
# docs/DEPLOY.md, so that the tests run what the documentation says.
recipe() {
    local text
    text=$(awk -v mark="<!-- recipe: $1 -->" '
        $0 == mark { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$DEPLOY_MD")
    [ -n "$text" ] || fail "docs/DEPLOY.md has no recipe '$1'"
    printf '%s\n' "$text"
}

# build_consumers DIR [CMAKE_ARGS...]: tests/install/consumer.c as app.c,
# built with DEPLOY.md's pkg-config line (DIR/app) and its CMakeLists.txt
# (DIR/cmake/build/app, app-static). pkg-config and CMake find tidemalloc
# however the caller's environment and CMAKE_ARGS say.
build_consumers() {
    local d=$1
    shift
    mkdir -p "$d/cmake"
    cp "$TIDE_SRC/tests/install/consumer.c" "$d/app.c"
    cp "$d/app.c" "$d/cmake/app.c"
    (cd "$d" && eval "$(recipe pkg-config)") >"$d/pkg-config.log" 2>&1 ||
        { cat "$d/pkg-config.log" >&2; fail "the pkg-config recipe did not build"; }
    recipe cmake >"$d/cmake/CMakeLists.txt"
    { cmake -S "$d/cmake" -B "$d/cmake/build" "$@" && cmake --build "$d/cmake/build"; } \
        >"$d/cmake.log" 2>&1 || { cat "$d/cmake.log" >&2; fail "the CMake recipe did not build"; }
}

# check_consumer PROGRAM OBJECT VERSION: PROGRAM runs, finds malloc in
# OBJECT (compared as real paths) and reports VERSION.
check_consumer() {
    local out obj
    out=$("$1" 2>&1) || fail "$1: $out"
    obj=$(sed -n 's/^consumer: malloc from \(.*\), tidemalloc .*$/\1/p' <<<"$out")
    [ -n "$obj" ] || fail "$1 printed: $out"
    [ "$(realpath "$obj")" = "$(realpath "$2")" ] ||
        fail "$1: malloc from $obj, expected $2"
    [[ $out == *", tidemalloc $3" ]] || fail "$1: wrong version: $out"
}

# check_consumers DIR LIB VERSION: the three programs of build_consumers;
# the shared ones must take malloc from LIB, the static one from itself.
check_consumers() {
    local d=$1 lib=$2 v=$3
    check_consumer "$d/app" "$lib" "$v"
    check_consumer "$d/cmake/build/app" "$lib" "$v"
    check_consumer "$d/cmake/build/app-static" "$d/cmake/build/app-static" "$v"
    ! grep -q 'NEEDED.*libtidemalloc' <<<"$(readelf -d "$d/cmake/build/app-static")" ||
        fail "app-static still needs libtidemalloc.so"
    grep -q 'NEEDED.*\[libtidemalloc\.so\.0\]' <<<"$(readelf -d "$d/app")" ||
        fail "app does not record the soname libtidemalloc.so.0"
}

# man_check PAGE WORDS...: man -l renders PAGE without a warning, and the
# page holds every word (a name it must document; looked for in the roff
# source with font changes and \- undone, since the rendered text may
# hyphenate it).
man_check() {
    local page=$1 text err w
    shift
    err=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || fail "man -l $page failed: $err"
    [ -z "$err" ] || fail "man -l $page warns: $err"
    grep -q '^NAME' <<<"$(MANWIDTH=80 man -l "$page" 2>/dev/null)" || fail "man -l $page: no NAME section"
    text=$(zcat -f "$page" | sed 's/\\-/-/g; s/\\f[BIRP]//g')
    for w in "$@"; do
        grep -qF -- "$w" <<<"$text" || fail "$page does not mention $w"
    done
}
