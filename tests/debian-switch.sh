#!/bin/sh
# tests/debian-switch.sh - replay the switch of a Debian 12 mail server from
# Postfix to posthorn and back, with Debian's own configuration, mail in the
# queue, local users, aliases and amavisd-new as the content filter
# (tests/switch/debian_switch.py says what is done and checked).
#
# Run as root from the checkout: tests/debian-switch.sh
# It needs Debian's postfix and amavisd-new packages and installs them with
# apt-get when they are missing. Everything happens inside private mount,
# network and PID namespaces (unshare): the machine's /etc, /usr/sbin,
# /var/spool/postfix and port 25 are never touched, and every process
# started is gone when the script ends. Not part of `make check` (which
# must not need the postfix package).
#
# Exit status: 0 when nothing was lost in either direction.
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "debian-switch: run as root" >&2
    exit 1
fi
missing=
for pkg in postfix amavisd-new iproute2; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    # no service may start during the install (no init system here anyway)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
make -s all
# the private copies of /etc, /usr/sbin, ... live in $top; gone at the end
# (after unshare returns, when no mount refers to them any more)
top=$(mktemp -d /tmp/debian-switch.XXXXXX)
logs=$(mktemp -d /tmp/debian-switch-logs.XXXXXX)
status=0
unshare --mount --net --pid --fork --mount-proc --propagation private \
    python3 tests/switch/debian_switch.py "$top" "$logs" || status=$?
rm -rf "$top"
echo "debian-switch: logs in $logs"
exit $status
