#!/usr/bin/env bash
# python3 with PYTHONMALLOC=malloc (every object is a malloc'd block) running
# workload.py: dicts, lists, strings, json round trips, sorting, regexes,
# big ints, zlib, a binary tree and threads.  Output must match glibc's run.
#   python.sh PATH/TO/libtidemalloc.so
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
real_init "$@"

# Prefer the distribution's interpreter (a real ELF binary, not a shim script).
PY=${TIDE_PYTHON:-}
if [ -z "$PY" ]; then
    if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else real_need python3; PY=$(command -v python3); fi
fi
export PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
unset PYTHONSTARTUP PYTHONPATH || true

real_both python "$PY" -I -S "$HERE/workload.py"
grep -q "python workload done" "$WORK/python.glibc.out" || real_die "the workload did not finish under glibc"
PYRE="(lib)?python3(\.[0-9]+)?(\.so[.0-9]*)?"
real_check_bindings python "$PYRE:malloc" "$PYRE:free" "$PYRE:realloc"
real_finish
