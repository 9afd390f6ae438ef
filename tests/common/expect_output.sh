#!/bin/sh
# expect_output.sh REGEX CMD [ARGS...]
# Run CMD; pass only if it exits 0 AND some line of its stdout matches the
# extended regex REGEX (CTest's PASS_REGULAR_EXPRESSION alone would ignore
# the exit status).  Output is passed through.
regex=$1
shift
out=$(mktemp "${TMPDIR:-/tmp}/tide-expect.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
"$@" >"$out"
rc=$?
cat "$out"
if [ "$rc" -ne 0 ]; then
    echo "expect_output: '$1' exited with status $rc" >&2
    exit 1
fi
if ! grep -Eq "$regex" "$out"; then
    echo "expect_output: no output line matches /$regex/" >&2
    exit 1
fi
exit 0
