#!/usr/bin/env bash
# A broad subset of CPython's own regression tests (Debian's
# libpython3.11-testsuite: /usr/lib/python3/test) with PYTHONMALLOC=malloc,
# so every Python object goes through malloc: once on glibc, once with
# LD_PRELOAD=libtidemalloc.so (inherited by the test worker processes).
# The set of tests that passed, failed, were skipped or did not run must be
# identical (a test that did not pass in either run is run again alone in
# both, and the second run decides), and the glibc run must have passed everything it ran (else the
# environment, not the allocator, is broken).  A run with LD_DEBUG=bindings
# checks that python3's malloc/free bind to libtidemalloc.so, and each
# worker checks at start (via ctypes) that tide_stats_get is loaded.
#
#   cpython.sh PATH/TO/libtidemalloc.so [JOBS]
source "$(dirname "$0")/common.sh"
real_init "$@"
PY=/usr/bin/python3
JOBS=${2:-2}
[ -x "$PY" ] || real_die "no $PY"
"$PY" -c 'import test.libregrtest, test.test_dict' 2>/dev/null ||
    real_die "CPython's test suite is not installed (apt-get install libpython3.11-testsuite)"

# About 5 minutes per run on 2 cores (10 for both); test_socket and
# test_concurrent_futures (minutes of mostly waiting) are left out.
TESTS="test_dict test_list test_set test_tuple test_unicode test_bytes test_json test_re
 test_string test_collections test_itertools test_functools test_sort test_heapq test_bisect
 test_array test_struct test_long test_float test_int test_math test_decimal test_fractions
 test_statistics test_random test_datetime test_pickle test_copy test_weakref test_gc
 test_threading test_queue test_zlib test_gzip test_bz2 test_lzma test_zipfile test_tarfile
 test_csv test_bool test_hashlib test_base64 test_binascii test_codecs test_textwrap
 test_difflib test_enum test_dataclasses test_typing test_ast test_compile test_grammar
 test_exceptions test_generators test_coroutines test_memoryview test_bigmem test_operator
 test_userdict test_deque test_ordered_dict test_defaultdict test_class test_descr
 test_format test_marshal test_io test_fileio test_os test_shutil test_tempfile test_glob
 test_pathlib test_subprocess test_signal test_select test_email test_xml_etree test_html
 test_urlparse test_uuid test_logging test_argparse test_configparser test_mmap
 test_unittest test_doctest test_inspect test_traceback test_tokenize test_importlib
 test_import test_zipimport test_plistlib test_minidom test_sax test_calendar test_time
 test_strptime test_fstring test_syntax test_scope test_listcomps test_iter test_builtin
 test_types test_contextlib test_pprint test_reprlib test_optparse test_mailbox
 test_shelve test_pickletools test_asyncio test_multiprocessing_fork"

# Parse regrtest's closing summary into "STATUS test_name" lines.
summarize() {
    "$PY" - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
# Per-test lines: "[ n/N] test_x passed" / "failed" / "skipped" ...
status = {}
for m in re.finditer(r"\] (test_\w+) (passed|failed|skipped|crashed|resource denied|timed out|interrupted|env changed)", text):
    status[m.group(1)] = m.group(2)
for name, st in sorted(status.items()):
    print(st.replace(" ", "_"), name)
m = re.search(r"== Tests result: (\w+)", text)
print("RESULT", m.group(1) if m else "none")
PY
}

# regrtest under MODE (glibc or tide) with the remaining arguments.
regrtest() {
    local mode=$1
    shift
    local -a env=(env PYTHONMALLOC=malloc)
    [ "$mode" = tide ] && env+=(LD_PRELOAD="$TIDE_LIB" TIDE_EXPECT_LOADED=1)
    # usercustomize-style check in every worker: PYTHONSTARTUP does not run
    # for -m, so a .pth file in a private site dir does it.
    "${env[@]}" PYTHONPATH="$WORK/site" "$PY" -m test --timeout 900 "$@"
}

run_suite() { # MODE
    local mode=$1
    local log=$WORK/cpython.$mode.log
    local t0 rc=0
    t0=$(date +%s)
    regrtest "$mode" -j"$JOBS" $TESTS >"$log" 2>&1 || rc=$?
    echo "$mode: regrtest exit $rc, $(($(date +%s) - t0)) s"
    summarize "$log" >"$WORK/cpython.$mode.summary"
    echo "$rc" >"$WORK/cpython.$mode.rc"
}

# Every interpreter started with TIDE_EXPECT_LOADED=1 checks that
# tidemalloc serves it (sitecustomize runs in the workers too).
mkdir -p "$WORK/site"
cat >"$WORK/site/sitecustomize.py" <<'PY'
import os
if os.environ.get("TIDE_EXPECT_LOADED"):
    import ctypes
    try:
        ctypes.CDLL(None).tide_stats_get
    except AttributeError:
        raise SystemExit("tidemalloc is not loaded in this interpreter")
PY

FAILED_RE='^(failed|crashed|timed_out|interrupted) '

# A test that did not pass in either run is run again, alone, under both:
# some of regrtest's tests are timing-sensitive (test_logging's handlers
# failed once on glibc on a loaded machine) and fail now and then whatever
# the allocator. The second run decides, for both alike; a test that fails
# twice under tidemalloc and not under glibc still fails the comparison.
rerun_failed() {
    local name mode st
    for name in $(grep -hE "$FAILED_RE" "$WORK/cpython.glibc.summary" "$WORK/cpython.tide.summary" | awk '{print $2}' | sort -u); do
        for mode in glibc tide; do
            regrtest "$mode" -j1 "$name" >"$WORK/rerun.$mode.$name.log" 2>&1 || true
            st=$(summarize "$WORK/rerun.$mode.$name.log" | awk -v n="$name" '$2 == n { print $1 }')
            echo "rerun of $name on $mode: ${st:-no result}"
            sed -i "s/^[a-z_]* $name\$/${st:-interrupted} $name/" "$WORK/cpython.$mode.summary"
        done
    done
    for mode in glibc tide; do
        if ! grep -qE "$FAILED_RE" "$WORK/cpython.$mode.summary"; then
            sed -i 's/^RESULT .*/RESULT SUCCESS/' "$WORK/cpython.$mode.summary"
            echo 0 >"$WORK/cpython.$mode.rc"
        fi
    done
}

run_suite glibc
run_suite tide
rerun_failed
g=$WORK/cpython.glibc.summary t=$WORK/cpython.tide.summary
echo "glibc: $(grep -c '^passed ' "$g") passed, $(grep -vcE '^(passed|RESULT) ' "$g") other; $(grep RESULT "$g")"
echo "tide:  $(grep -c '^passed ' "$t") passed, $(grep -vcE '^(passed|RESULT) ' "$t") other; $(grep RESULT "$t")"
[ "$(grep -c '^passed ' "$g")" -ge 100 ] || { tail -40 "$WORK/cpython.glibc.log" >&2; real_die "glibc run: fewer than 100 test files passed (is the suite installed?)"; }
grep -qE "$FAILED_RE" "$g" && {
    grep -E "$FAILED_RE" "$g" >&2
    real_die "the reference run on glibc had failures: the environment is broken"
}
if ! cmp -s "$g" "$t"; then
    real_fail "CPython test results differ between glibc and tidemalloc:"
    diff "$g" "$t" | head -40 >&2
    grep -B5 -A40 -E 'FAIL:|ERROR:|Fatal Python error|Traceback' "$WORK/cpython.tide.log" | head -150 >&2 || true
fi
[ "$(cat "$WORK/cpython.glibc.rc")" = "$(cat "$WORK/cpython.tide.rc")" ] ||
    real_fail "regrtest exit status: glibc $(cat "$WORK/cpython.glibc.rc"), tidemalloc $(cat "$WORK/cpython.tide.rc")"
grep -q "tidemalloc is not loaded" "$WORK/cpython.tide.log" && real_fail "a worker ran without tidemalloc"
# Bindings: one interpreter with LD_DEBUG.
real_both cpython-bindings env PYTHONMALLOC=malloc "$PY" -c 'import json, re; print(len(json.dumps([re.sub("a", "b", "a" * i) for i in range(2000)])))'
real_check_bindings cpython-bindings 'python3(\.11)?:malloc' 'python3(\.11)?:free'
real_finish
