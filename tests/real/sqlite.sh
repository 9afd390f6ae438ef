#!/usr/bin/env bash
# sqlite3 running a SQL script (bulk inserts, indexes, joins, window
# functions, JSON, updates, deletes, vacuum) on an on-disk database; the
# output must match glibc's run.
#   sqlite.sh PATH/TO/libtidemalloc.so
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
real_init "$@"
real_need sqlite3

real_both sqlite sh -c 'sqlite3 -bail -batch test.db <"$1"' sh "$HERE/workload.sql"
grep -q "sqlite workload done" "$WORK/sqlite.glibc.out" || real_die "the SQL script did not finish under glibc"
real_check_bindings sqlite "libsqlite3\.so[.0-9]*:malloc" "libsqlite3\.so[.0-9]*:free" "sqlite3:malloc"
real_finish
