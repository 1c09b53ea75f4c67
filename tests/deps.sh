#!/bin/bash
# Install the Debian packages the build and the tests need, when missing.
# Only root can install; others get a list of what to install.
set -u
need=()
for pkg in gcc make libc6-dev libdb-dev libpcre2-dev python3 swaks passwd procps dnsmasq-base amavisd-new libfaketime; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} (run make check as root to install them)" >&2
    exit 1
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
