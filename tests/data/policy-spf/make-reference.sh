#!/bin/bash
# make-reference.sh - what Debian's policyd-spf (postfix-policyd-spf-python
# 3.0.4, python3-spf 2.0.14) answers to the requests in "requests" with the
# SPF records in "records" served by dnsmasq on 127.0.0.157; written to
# policyd-spf.out, which test_spf.py compares with policy-spf's answers.
# policyd-spf runs with its defaults plus TempError_Defer = True (posthorn's
# default defers on temperror). Needs root, dnsmasq and the packages above:
#     apt-get install postfix-policyd-spf-python dnsmasq-base
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'kill $dns 2>/dev/null; rm -rf "$tmp"' EXIT
printf 'nameserver 127.0.0.157\noptions timeout:1 attempts:1\n' > "$tmp/resolv.conf"
printf 'debugLevel = 0\nTempError_Defer = True\n' > "$tmp/policyd-spf.conf"
mapfile -t records < <(grep -v '^#' records)
dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.157 \
    --bind-interfaces --port=53 --local=/test/ --user=root --pid-file= "${records[@]}" &
dns=$!
sleep 0.5
unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec /usr/bin/policyd-spf "$1"' \
    "$tmp/resolv.conf" "$tmp/policyd-spf.conf" < requests > policyd-spf.out
