#!/usr/bin/env bash
# rate.sh RUN BIN LIB PROGRAM N P CONF: run PROGRAM N times under LIB (with
# TIDE_CONF=CONF) and check that the fraction of runs that detect it is the
# documented probability P, within a margin that cannot flake: 5 standard
# deviations of the binomial (N = 400, P = 1/16: 25 expected, 1 to 50
# accepted; P = 1/4: 100, 56 to 144; a chance failure is below 1 in
# 10^6). Also fails if P is plainly wrong: 0 runs, or every run, detecting.
set -uo pipefail
run="$1" bin="$2" lib="$3" prog="$4" n="$5" p="$6" conf="${7-}"
hits="$(MISUSE_CONF="$conf" bash "$run" --rate "$n" --bin "$bin" "$lib" "$prog")"
read -r lo hi < <(awk -v n="$n" -v p="$p" 'BEGIN { m = n * p; s = sqrt(n * p * (1 - p));
  lo = m - 5 * s; hi = m + 5 * s; if (lo < 1) lo = 1; if (hi > n - 1) hi = n - 1;
  printf "%d %d\n", lo, hi + 0.999 }')
echo "$prog under $(basename "$lib") (TIDE_CONF=$conf): detected in $hits of $n runs" \
  "(expected $(awk -v n="$n" -v p="$p" 'BEGIN { print n * p }'), accepted $lo to $hi)"
if [ "$hits" -ge "$lo" ] && [ "$hits" -le "$hi" ]; then
  echo "1 passed, 0 failed"
else
  echo "FAIL: detection rate outside the accepted range"
  exit 1
fi
