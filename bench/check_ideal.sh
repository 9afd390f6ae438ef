#!/usr/bin/env bash
# bench.frag_bands_ideal: frag_bands --ideal plays the very rounds the real
# run does (the same live bytes after the last round, to the byte), and its
# ideal heap holds at least the live bytes and at most its address span.
set -euo pipefail
FB=$1
args=(--pools=4 --threads=4 --live=$((32 << 20)) --rounds=8 --idle-ms=0 --interval-ms=50)
key() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
ideal=$("$FB" "${args[@]}" --ideal=1 | grep '^result ')
real=$("$FB" "${args[@]}" | grep '^result ')
il=$(key "$ideal" live_end) rl=$(key "$real" live_end) res=$(key "$ideal" resident_end)
[ -n "$il" ] && [ "$il" = "$rl" ] || { echo "FAIL: ideal live_end $il, real run's $rl"; exit 1; }
(( res >= il )) || { echo "FAIL: ideal resident $res below live $il"; exit 1; }
"$FB" "${args[@]}" --ideal=1 | awk '/^ideal round=/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["round"] > 0 && (v["resident"] + 0 < v["live"] + 0 || v["resident"] + 0 > v["span"] + 4096)) { print "FAIL: " $0; bad = 1 }
    n++ } END { if (n != 9) { print "FAIL: " n " rounds"; bad = 1 } exit bad }'
echo "ok: ideal heap: live_end $il as in the real run, resident_end $res, ratio $(key "$ideal" ideal_ratio_churn_end)"
