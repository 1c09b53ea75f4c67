#!/bin/bash
# tests/first-of-month.sh - the whole test suite with every process, the
# daemons included, seeing the 1st of this month (libfaketime). Not part of
# make check (it needs a shifted clock for every process); run it by hand,
# as root, after make: a test that depends on the day of the month shows up.
# Runs in a temporary clone of this checkout's HEAD; prints the summary line.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$lib" ] || { echo "libfaketime is missing (tests/deps.sh installs it)"; exit 1; }
work=$(mktemp -d /tmp/posthorn-fom-XXXXXX)
trap 'kill $owner 2>/dev/null; rm -rf "$work"' EXIT
git clone -q "$repo" "$work/src" && cd "$work/src" && make -j2 >/dev/null || exit 1
# the daemons get the fake clock through import_environment
sed -i 's/^\(            "smtpd_peername_lookup": "no",\)$/\1\n            "import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_PRELOAD FAKETIME FAKETIME_SHARED NO_FAKE_STAT",/' \
    tests/integration/posthorn.py
day=$(date +%-d)
export FAKETIME="-$((day - 1))d"
# One process owns libfaketime's shared semaphore for the whole run: a
# process that forks without exec would otherwise remove it at exit().
LD_PRELOAD="$lib" bash -c 'echo "$FAKETIME_SHARED" > "$0"; exec sleep 7200' "$work/shared" &
owner=$!
while [ ! -s "$work/shared" ]; do sleep 0.1; done
export FAKETIME_SHARED="$(cat "$work/shared")" NO_FAKE_STAT=1 LD_PRELOAD="$lib"
echo "date under faketime: $(date)"
tests/run 2>&1 | cat > "$work/run.log"
st=${PIPESTATUS[0]}
grep -a "^FAIL\|  FAIL\|did not finish" "$work/run.log"
tail -1 "$work/run.log"
for f in /dev/shm/sem.faketime_sem_* /dev/shm/faketime_shm_*; do   # left by killed daemons
    [ -e "$f" ] && [ ! -e "/proc/${f##*_}" ] && rm -f "$f"
done
exit $st
