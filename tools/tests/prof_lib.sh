# Sourced by the `tide prof` tests, after lib.sh: builds the workload with
# known allocation sites (prof_workload.c) into $WORK.
PW=$WORK/prof_workload
PW_SRC=$TIDE_TOOLS/tests/prof_workload.c
# -fno-builtin: the compiler must not drop churn's malloc/free pairs.
cc -g -O1 -fno-builtin -fno-omit-frame-pointer -Wall -Wextra -Werror ${PW_CFLAGS:-} -o "$PW" "$PW_SRC" ||
    fail "cannot build $PW_SRC"
# The source line of a marker comment.
line_of() { grep -n "/\* $1 \*/" "$PW_SRC" | cut -d: -f1; }
# jeprof's un-sampling: n samples of total b bytes at period p.
est() { awk -v n="$1" -v b="$2" -v p="$3" 'BEGIN { s = (n > 0 && b > 0) ? 1 / (1 - exp(-(b / n) / p)) : 1; printf "%.0f\n", b * s }'; }
# Row k (1-based) of a `tide prof top` table (after its header).
top_row() { awk -v k="$2" 'f && ++n == k { print; exit } /^ *flat +flat%/ { f = 1 }' "$1"; }
