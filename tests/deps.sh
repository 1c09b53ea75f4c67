#!/bin/bash
# Install the Debian packages the build and the tests need, when missing.
# "tests/deps.sh build": only what the build needs (make run).
# Only root can install; others get a list of what to install.
set -u
build_pkgs="gcc make libc6-dev libdb-dev libpcre2-dev libssl-dev libsasl2-dev libspf2-dev
  libpq-dev libmariadb-dev libsqlite3-dev"
test_pkgs="python3 openssl ssl-cert swaks passwd procps iproute2 dnsmasq-base amavisd-new
  libfaketime dovecot-core sasl2-bin libsasl2-modules dovecot-lmtpd
  nsd unbound ldnsutils
  postgresql mariadb-server sqlite3 strace
  opendkim opendkim-tools libmilter-dev python3-dkim rspamd"
pkgs="$build_pkgs"
[ "${1:-}" = build ] || pkgs="$build_pkgs $test_pkgs"
need=()
for pkg in $pkgs; do
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
