#!/usr/bin/env bash
# The soft limit: the two waves and a churn (soft_limit_waves.c) keep under
# a soft limit that glibc's RSS exceeds, with no dirty page near the limit,
# while tidemalloc without the limit (and a long decay) exceeds it too: the
# limit, not the decay, keeps it under.
#   usage: soft_limit.sh WAVES_ON_GLIBC LIBTIDEMALLOC
set -euo pipefail
WAVES=$1
LIB=$(readlink -f "$2")
MIB=48
SOFT=$((80 << 20)) # above one wave and what the process holds besides, below two
die() { echo "FAIL: $*" >&2; exit 1; }
field() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }

glibc=$("$WAVES" $MIB)
nolimit=$(LD_PRELOAD=$LIB TIDE_CONF=decay_ms:600000,limit_soft:0 "$WAVES" $MIB)
limited=$(LD_PRELOAD=$LIB TIDE_CONF=decay_ms:600000,limit_soft:$SOFT "$WAVES" $MIB --check-limit) ||
    die "dirty pages near the limit under tidemalloc: $limited"
echo "glibc:      $(tr '\n' ' ' <<<"$glibc")"
echo "no limit:   $(tr '\n' ' ' <<<"$nolimit")"
echo "soft limit: $(tr '\n' ' ' <<<"$limited")  (limit $SOFT)"
(( $(field after_free "$glibc") > SOFT )) || die "glibc stays under the limit: the test shows nothing"
(( $(field after_free "$nolimit") > SOFT )) || die "without a limit tidemalloc stays under it too: the test shows nothing"
(( $(field after_free "$limited") <= SOFT )) || die "two waves: RSS above the soft limit"
(( $(field churn_max "$limited") <= SOFT )) || die "churn: RSS above the soft limit"
(( $(field churn_max "$glibc") > SOFT )) || die "glibc's churn stays under the limit"
echo "PASS"
