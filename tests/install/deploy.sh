#!/usr/bin/env bash
# install.deploy: docs/DEPLOY.md's recipes, read out of the file, run as far
# as this machine allows, against the build's libtidemalloc.so.0 where the
# recipe names the installed one (install.deb checks that the package puts
# it at that path):
#   - systemd: the unit and the drop-in pass `systemd-analyze verify` with
#     nothing to say (ExecStart pointed at a test program); a unit with a
#     misspelt key does not (the check can fail). A program started with
#     exactly the unit's Environment= lines is confirmed with the "confirm"
#     recipe: the library in its maps, tide stats answering with the 32 MB
#     it holds. The same recipe on a process without tidemalloc finds
#     nothing. (No systemd instance runs here: no unit is started.)
#   - the Dockerfile passes tests/install/dockerfile_check.py (no Docker
#     here: no image is built); its COPY pattern matches the name make deb
#     gives, apt-get installs that file, LD_PRELOAD names the installed
#     library; a broken copy of it is refused.
#   - the JVM launch script starts a JVM holding 64 MiB of direct buffers
#     with NMT on and tidemalloc preloaded; the "jvm-compare" recipe shows
#     both views, and tidemalloc's live bytes cover NMT's malloc total and
#     the 64 MiB; the script refuses a missing library.
source "$(dirname "$0")/lib.sh"
need systemd-analyze python3 java javac jar jcmd readelf dpkg-architecture

V=$(header_version)
A=$(dpkg --print-architecture)
LIB=$TIDE_BUILD/libtidemalloc.so.0
[ -e "$LIB" ] || fail "$LIB is not built"
INSTALLED=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/$(soname_of "$LIB")
export PATH=$TIDE_BUILD:$PATH # the confirm recipe's tide
STOP=$WORK/stop
at_exit 'touch "$STOP"; for p in $(jobs -p); do kill $p 2>/dev/null; done; wait'

# started LOG: the PID a program printed as "ready PID" in LOG (30 s at most).
started() {
    local i
    for i in $(seq 300); do
        if grep -q '^ready ' "$1" 2>/dev/null; then
            sed -n 's/^ready \([0-9]*\)$/\1/p' "$1" | head -1
            return
        fi
        sleep 0.1
    done
    fail "$1: no 'ready PID' line after 30 s: $(cat "$1")"
}
# run_recipe NAME: a shell recipe with $PID set, as a user types it (no
# -e, no pipefail: `| head` may cut a writer short).
run_recipe() { (set +e +o pipefail; eval "$(recipe "$1")") 2>&1; }

# ---- systemd -----------------------------------------------------------
units=$WORK/units
mkdir -p "$units/myservice.service.d"
cat >"$WORK/myservice" <<'EOF2'
#!/bin/sh
# Stands in for the unit's service: holds 32 MB from malloc until the stop file appears.
exec python3 -c '
import os, sys, time
keep = [bytes(1000) for _ in range(32000)]
print("ready", os.getpid(), flush=True)
for _ in range(1200):
    if os.path.exists(sys.argv[1]): break
    time.sleep(0.05)
' "$STOP"
EOF2
chmod +x "$WORK/myservice"
recipe systemd-unit >"$WORK/unit"
grep -qx "Environment=LD_PRELOAD=$INSTALLED" "$WORK/unit" || fail "the unit does not preload $INSTALLED"
grep -q '^ExecStart=/opt/myservice/bin/myservice ' "$WORK/unit" || fail "the unit's ExecStart changed: fix this test"
sed "s|^ExecStart=/opt/myservice/bin/myservice|ExecStart=$WORK/myservice|" "$WORK/unit" >"$units/myservice.service"
recipe systemd-dropin >"$units/myservice.service.d/tidemalloc.conf"
grep -qx "Environment=LD_PRELOAD=$INSTALLED" "$units/myservice.service.d/tidemalloc.conf" ||
    fail "the drop-in does not preload $INSTALLED"
verify() { STOP=$STOP systemd-analyze verify --man=no "$1" 2>&1; }
said=$(verify "$units/myservice.service") || fail "systemd-analyze verify: $said"
[ -z "$said" ] || fail "systemd-analyze verify has something to say: $said"
mkdir -p "$WORK/typo"
sed 's/^Environment=/Environmen=/' "$units/myservice.service" >"$WORK/typo/myservice.service"
said=$(verify "$WORK/typo/myservice.service") || true
[[ $said == *Environmen* ]] || fail "systemd-analyze verify did not notice a misspelt key: $said"
ok "systemd: the unit and its drop-in pass systemd-analyze verify silently (a misspelt key does not)"

mapfile -t envs < <(sed -n 's/^Environment=//p' "$units/myservice.service" | sed "s|$INSTALLED|$LIB|")
env "${envs[@]}" "$WORK/myservice" --port 8080 >"$WORK/svc.log" 2>&1 &
PID=$(started "$WORK/svc.log")
said=$(run_recipe confirm)
grep -qE "^[0-9a-f]+-[0-9a-f]+ .*/libtidemalloc.so.$V\$" <<<"$said" || fail "confirm: the library is not in the maps: $said"
live=$(sed -n 's/^live_usable *\([0-9]*\) .*/\1/p' <<<"$said")
[ -n "$live" ] && [ "$live" -ge 32000000 ] || fail "confirm: tide stats does not show the 32 MB held: $said"
sleep 30 &
PID=$!
said=$(run_recipe confirm)
! grep -qE '^[0-9a-f]+-[0-9a-f]+ .*libtidemalloc' <<<"$said" ||
    fail "confirm: finds tidemalloc mapped in a process without it: $said"
grep -q 'does not serve tidemalloc statistics' <<<"$said" || fail "confirm: tide stats on a process without it: $said"
kill $PID
ok "systemd environment (${envs[*]}): confirmed, live_usable $live; a process without tidemalloc is not"

# ---- Dockerfile --------------------------------------------------------
check_docker() { python3 "$TIDE_SRC/tests/install/dockerfile_check.py" "$1"; }
recipe dockerfile >"$WORK/Dockerfile"
parsed=$(check_docker "$WORK/Dockerfile") || fail "the Dockerfile does not pass the check"
pattern=$(sed -n 's/^COPY \(tidemalloc_[^ ]*\.deb\) .*/\1/p' <<<"$parsed")
[ -n "$pattern" ] || fail "the Dockerfile copies no tidemalloc .deb: $parsed"
# shellcheck disable=SC2053 # a glob, as COPY reads it
[[ tidemalloc_${V}_$A.deb == $pattern ]] || fail "COPY $pattern does not match tidemalloc_${V}_$A.deb"
grep '^RUN ' <<<"$parsed" | grep -F 'apt-get install' | grep -qF "/tmp/$pattern" || fail "the Dockerfile does not apt-get install /tmp/$pattern"
grep -qx "ENV LD_PRELOAD=$INSTALLED" <<<"$parsed" || fail "the Dockerfile does not preload $INSTALLED"
sed 's/^RUN /RUNN /' "$WORK/Dockerfile" >"$WORK/Dockerfile.bad"
! check_docker "$WORK/Dockerfile.bad" >/dev/null 2>&1 || fail "the Dockerfile check accepts RUNN"
ok "Dockerfile: $(wc -l <<<"$parsed") instructions pass the check, COPY $pattern, ENV LD_PRELOAD=$INSTALLED (no image built: no Docker here)"

# ---- JVM ---------------------------------------------------------------
recipe jvm-launch >"$WORK/venice-server"
chmod +x "$WORK/venice-server"
grep -qF "TIDEMALLOC:-$INSTALLED}" "$WORK/venice-server" || fail "the launch script does not default to $INSTALLED"
mkdir -p "$WORK/jvm"
javac -d "$WORK/jvm" "$TIDE_SRC/tests/install/Hold.java"
jar cfe "$WORK/hold.jar" Hold -C "$WORK/jvm" Hold.class
said=$(TIDEMALLOC=$WORK/none.so VENICE_JAR=$WORK/hold.jar "$WORK/venice-server" "$STOP" 2>&1) &&
    fail "the launch script ran without its library: $said"
[[ $said == *"no $WORK/none.so"* ]] || fail "the launch script's refusal: $said"
TIDEMALLOC=$LIB VENICE_JAR=$WORK/hold.jar "$WORK/venice-server" "$STOP" >"$WORK/jvm.log" 2>&1 &
jvm=$!
PID=$(started "$WORK/jvm.log")
said=$(run_recipe jvm-compare)
echo "$said" | sed 's/^/    /'
nmt_kb=$(sed -n 's/^ *malloc: \([0-9]*\)KB.*/\1/p' <<<"$said" | head -1)
live=$(sed -n 's/^live_usable *\([0-9]*\) .*/\1/p' <<<"$said")
[ -n "$nmt_kb" ] || fail "jcmd VM.native_memory summary shows no malloc total"
[ -n "$live" ] || fail "tide stats shows no live_usable"
[ "$live" -ge $((64 << 20)) ] || fail "tidemalloc's live bytes $live do not cover the 64 MiB of direct buffers"
# Both snapshots of an idle JVM; a little slack for what moves between them.
[ "$live" -ge $((nmt_kb * 1024 * 98 / 100)) ] ||
    fail "tidemalloc's live bytes ($live) below NMT's malloc total (${nmt_kb} KB)"
grep -q "libtidemalloc.so.$V" "/proc/$PID/maps" || fail "the JVM does not map tidemalloc"
touch "$STOP"
wait $jvm || fail "the JVM exited with $?: $(cat "$WORK/jvm.log")"
grep -qx 'held 64 MiB' "$WORK/jvm.log" || fail "the JVM did not finish: $(cat "$WORK/jvm.log")"
ok "JVM: NMT malloc ${nmt_kb} KB, tidemalloc live_usable $((live >> 10)) KB (covers it and the 64 MiB); the script refuses a missing library"
