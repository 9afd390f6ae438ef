#!/usr/bin/env bash
# git under LD_PRELOAD (every git process, including the ones git spawns),
# compared with the same session on glibc.
#
# The session builds a repository from nothing: 400 commits (fixed author,
# dates and contents) touching a growing tree of text files, with branches
# merged every 40 commits, renames and deletions; then gc and a full repack
# (one thread, so packs are deterministic), and records log --stat, log
# --graph, blame, diff --stat across 300 commits, grep, archive (hashed),
# rev-list --objects (hashed), count-objects and fsck --full --strict.
# stdout/stderr/exit status must be identical; a second, small run checks
# with LD_DEBUG=bindings that git's malloc/free bind to libtidemalloc.so.
#
#   git.sh PATH/TO/libtidemalloc.so [COMMITS]
source "$(dirname "$0")/common.sh"
real_init "$@"
real_need git md5sum
export COMMITS=${2:-400}

session() {
    set -euo pipefail
    export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Tide GIT_AUTHOR_EMAIL=tide@example.org
    export GIT_COMMITTER_NAME=Tide GIT_COMMITTER_EMAIL=tide@example.org
    git init -q -b main repo
    cd repo
    git config pack.threads 1
    git config gc.auto 0
    local i f t=1700000000
    for i in $(seq 1 "$COMMITS"); do
        export GIT_AUTHOR_DATE="@$((t + i * 60)) +0000" GIT_COMMITTER_DATE="@$((t + i * 60)) +0000"
        f=dir$((i % 13))/file$((i % 47)).txt
        mkdir -p "$(dirname "$f")"
        awk -v i="$i" 'BEGIN { for (k = 0; k < 40 + i % 60; k++) printf "line %d of commit %d: %s\n", k, i, substr("abcdefghijklmnopqrstuvwxyz", 1 + (i * k) % 26) }' >>"$f"
        [ $((i % 17)) = 0 ] && [ -f dir1/file1.txt ] && git mv -f dir1/file1.txt "dir1/renamed$i.txt"
        [ $((i % 29)) = 0 ] && git rm -q -r --ignore-unmatch dir$((i % 5))
        if [ $((i % 40)) = 0 ]; then
            git checkout -q -b topic$i
            printf 'topic %d\n' "$i" >"topic$i.txt"
            git add -A
            git commit -q -m "topic $i"
            git checkout -q main
            git merge -q --no-ff -m "merge topic$i" "topic$i"
        else
            git add -A
            git commit -q -m "commit $i" -m "touches $f"
        fi
    done
    git gc -q
    git repack -a -d -f -q --window=50
    echo "HEAD $(git rev-parse HEAD)"
    git log --stat --format='%H %an %ad %s' --date=unix | md5sum
    git log --graph --oneline -n 60
    git log --format=%s | wc -l
    git blame -s "$(git ls-files | sed -n 1p)" | md5sum
    git diff --stat HEAD~300 HEAD | tail -3
    git grep -c 'commit 3' | md5sum
    git archive --format=tar HEAD | md5sum
    git rev-list --objects --all | md5sum
    git count-objects -v | grep -E '^(count|in-pack|packs|garbage)'
    git fsck --full --strict --no-progress
    git verify-pack -s .git/objects/pack/*.idx | tail -2
}
export -f session
REAL_NO_LD_DEBUG=1 real_both git bash -c session
# Bindings: a few git commands on a small repository, with LD_DEBUG.
small() {
    set -euo pipefail
    export HOME=$PWD GIT_CONFIG_NOSYSTEM=1
    git init -q -b main r && cd r
    for i in 1 2 3; do echo "$i" >f && git add f && git -c user.name=T -c user.email=t@e commit -q -m "$i"; done
    git log --format=%s
    git fsck --no-progress
}
export -f small
real_both git-bindings bash -c small
real_check_bindings git-bindings 'git:malloc' 'git:free'
head -3 "$WORK/git.tide.out"
real_finish
