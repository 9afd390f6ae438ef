#!/usr/bin/env bash
# Run the heap misuse programs under an allocator and classify the outcome:
#   detected   killed by a signal after printing a report
#   crashed    killed by a signal, no report
#   warned     printed a report, then went on and exited 0
#   prevented  exited MISUSE_PREVENTED (3): the allocator made the misuse
#              harmless without a report (the information leaks: freed
#              memory cleared); counted as caught
#   silent     exited 0 without a word
#   n/a        the allocator lacks the entry point the misuse needs
#   hang       still running after 20 s; exit:N otherwise
#
#   run.sh --expect detected|caught|not-detected --bin DIR LIB PROGRAM
#       one program under LIB (a .so path, or "glibc" for none); for
#       tidemalloc libraries a report is a "tidemalloc: call(0x...): ..."
#       line. caught: detected or prevented. Exit 0 if the outcome is as
#       expected.
#   run.sh --rate N --bin DIR LIB PROGRAM
#       run it N times, print how many runs detected it (the sampled
#       mitigations' detection rates: tests/misuse/rate.sh).
#   run.sh --table --bin DIR [NAME=LIB ...]
#       every program under every allocator (default: tide, tide-secure,
#       glibc, jemalloc, mimalloc, tcmalloc), as a Markdown table.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PROGRAMS="double_free_recent double_free_old double_free_large double_free_thread
  free_stack free_global free_interior free_interior_large
  free_sized_wrong free_aligned_sized_wrong sized_delete_wrong
  overflow_slack overflow_next overflow_large overflow_sampled
  uaf_read uaf_write uaf_write_link realloc_freed free_after_realloc
  underflow_1 underflow_32 underflow_memcpy underflow_large overflow_large_1m
  uaf_write_large uaf_zero_large zero_size_write zero_size_read zero_size_uaf_read
  reuse_malloc_stale reuse_realloc_stale uaf_write_small info_leak_free info_leak_alloc
  sized_delete_type delete_array_new"

# Programs whose misuse the hardened build catches by sampling: make every
# allocation sampled there, so the outcome is deterministic.
conf_for() {
  case "$1" in
    uaf_read|uaf_write|overflow_sampled) echo "secure_sample:1" ;;
    *) echo "" ;;
  esac
}

# classify BIN_DIR LIB PROGRAM -> prints "outcome<TAB>first report line"
classify() {
  local dir="$1" lib="$2" prog="$3" err rc line
  err="$(mktemp)"
  local preload=""
  [ "$lib" != glibc ] && preload="$lib"
  ( ulimit -c 0
    env ${preload:+LD_PRELOAD=$preload} TIDE_CONF="${MISUSE_CONF-$(conf_for "$prog")}" \
      timeout 20 "$dir/$prog" ) >/dev/null 2>"$err"
  rc=$?
  # A report: tidemalloc's own line for tidemalloc; anything on stderr
  # (other than the loader's) for the others.
  if [[ "$lib" == *tidemalloc* ]]; then
    line="$(grep -m1 -E '^tidemalloc: [^(]+\(0x[0-9a-f]+\): ' "$err")"
  else
    line="$(grep -v -m1 -E '^(ERROR: ld.so|$)' "$err")"
  fi
  rm -f "$err"
  local out
  if [ $rc -eq 0 ]; then out=$([ -n "$line" ] && echo warned || echo silent)
  elif [ $rc -eq 77 ]; then out="n/a"
  elif [ $rc -eq 3 ]; then out=prevented
  elif [ $rc -eq 124 ]; then out=hang
  elif [ $rc -gt 128 ]; then out=$([ -n "$line" ] && echo detected || echo crashed)
  else out="exit:$rc"
  fi
  printf '%s\t%s\n' "$out" "$line"
}

mode="" expect="" bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --expect) mode=expect; expect="$2"; shift 2 ;;
    --table) mode=table; shift ;;
    --rate) mode=rate; runs="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ -n "$bin" ] || { echo "usage: see $0" >&2; exit 2; }

if [ "$mode" = expect ]; then
  lib="$1" prog="$2"
  res="$(classify "$bin" "$lib" "$prog")"
  out="${res%%$'\t'*}" line="${res#*$'\t'}"
  echo "$prog under $(basename "$lib"): $out${line:+ -- $line}"
  case "$expect" in
    detected) [ "$out" = detected ] ;;
    caught) [ "$out" = detected ] || [ "$out" = prevented ] ;;
    not-detected) [ "$out" != detected ] && [ "$out" != warned ] ;;
    *) echo "bad --expect $expect" >&2; exit 2 ;;
  esac
  rc=$?
  [ $rc -eq 0 ] && echo "1 passed, 0 failed" || echo "FAIL: expected $expect"
  exit $rc
fi

if [ "$mode" = rate ]; then
  lib="$1" prog="$2" hits=0
  for ((i = 0; i < runs; i++)); do
    res="$(classify "$bin" "$lib" "$prog")"
    [ "${res%%$'\t'*}" = detected ] && hits=$((hits + 1))
  done
  echo "$hits"
  exit 0
fi

# --table
libdir=/usr/lib/x86_64-linux-gnu
allocs=("$@")
if [ ${#allocs[@]} -eq 0 ]; then
  allocs=("tide=$root/build/libtidemalloc.so" "tide-secure=$root/build/libtidemalloc-secure.so"
          "tide-secure-full=$root/build/libtidemalloc-secure-full.so"
          "glibc=glibc" "jemalloc=$libdir/libjemalloc.so.2" "mimalloc=$libdir/libmimalloc.so.2"
          "tcmalloc=$libdir/libtcmalloc_minimal.so.4")
fi
printf '| program |'; for a in "${allocs[@]}"; do printf ' %s |' "${a%%=*}"; done; echo
printf '|---|'; for a in "${allocs[@]}"; do printf -- '---|'; done; echo
declare -A caught
for p in $PROGRAMS; do
  printf '| %s |' "$p"
  for a in "${allocs[@]}"; do
    res="$(classify "$bin" "${a#*=}" "$p")"
    out="${res%%$'\t'*}"
    { [ "$out" = detected ] || [ "$out" = prevented ]; } && caught[${a%%=*}]=$(( ${caught[${a%%=*}]:-0} + 1 ))
    printf ' %s |' "$out"
  done
  echo
done
n=$(wc -w <<<"$PROGRAMS")
printf '| **caught** |'; for a in "${allocs[@]}"; do printf ' **%s / %s** |' "${caught[${a%%=*}]:-0}" "$n"; done; echo
