#!/usr/bin/env bash
# The thread-local fast paths take no lock and no atomic instruction: read
# the compiled malloc and free and check that neither has a lock-prefixed
# instruction, an xchg, or a call (slow paths are tail jumps).
set -euo pipefail
lib="$1"
asm=$(objdump -d --no-show-raw-insn "$lib")
for fn in malloc free; do
  body=$(awk -v f="<$fn>:" '$2 == f {p=1; next} p && /^$/ {exit} p' <<<"$asm")
  [ -n "$body" ] || { echo "FAIL: no $fn in $lib"; exit 1; }
  if grep -Eq '\block\b|xchg|cmpxchg|\bcall' <<<"$body"; then
    echo "FAIL: $fn has a lock, atomic or call:"; grep -E 'lock|xchg|call' <<<"$body"; exit 1
  fi
  echo "$fn: $(grep -c . <<<"$body") instructions including the slow-path tail jumps, none locked or atomic"
done
echo "1 passed, 0 failed"
