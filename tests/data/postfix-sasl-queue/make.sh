#!/bin/sh
# make.sh - produce a real Postfix 3.7 queue file of a message submitted
# after SMTP AUTH, with Debian's postfix package, for posthorn's queue
# file reader and as the reference for the SASL attribute records that
# smtpd hands to cleanup (sasl_method, sasl_username, sasl_sender).
#
# Not run by `make check` (that must not need Postfix); run it by hand, as
# root. It starts a private Postfix instance (config and queue under a
# temporary directory, smtpd on 127.0.0.1:$PORT, Cyrus SASL with a sasldb
# made by saslpasswd2, relayhost on a dead port so that the mail defers),
# submits one message with AUTH PLAIN and "MAIL FROM:<..> AUTH=<..>",
# stops Postfix and copies here:
#
#   queue/deferred/<h>/<id>   the deferred queue file
#   postcat/<id>.txt          `postcat -v` of it
#
# Usage: tests/data/postfix-sasl-queue/make.sh [port]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
port=${1:-25262}
top=$(mktemp -d /tmp/pfsq.XXXXXX)
etc=$top/etc
spool=$top/spool
trap 'postfix -c "$etc" stop >/dev/null 2>&1 || true; rm -rf "$top"' EXIT

test -x /usr/sbin/postfix || { echo "$0: needs Debian's postfix package" >&2; exit 1; }
mkdir -p "$etc" "$spool" "$top/data" "$top/sasl"
chmod 755 "$top" "$top/sasl"
chown postfix "$top/data"
printf 'pa55-word' | saslpasswd2 -f "$top/sasl/sasldb2" -c -p -u example.test alice
chown postfix "$top/sasl/sasldb2"
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
    "$top/sasl/sasldb2" > "$top/sasl/smtpd.conf"
# Debian's smtpd reads $config_directory/sasl/smtpd.conf (cyrus_sasl_config_path
# is not consulted there)
mkdir -p "$etc/sasl"
cp "$top/sasl/smtpd.conf" "$etc/sasl/smtpd.conf"
cp /usr/share/postfix/master.cf.dist "$etc/master.cf" 2>/dev/null \
    || cp /etc/postfix/master.cf "$etc/master.cf"
awk -v port="$port" '
    /^[a-z]/ && NF >= 8 && ($5 == "y" || $5 == "-") { $5 = "n" }
    /^smtp +inet/ { $1 = "127.0.0.1:" port }
    { print }' "$etc/master.cf" > "$etc/master.cf.new"
mv "$etc/master.cf.new" "$etc/master.cf"
cat > "$etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $spool
data_directory = $top/data
myhostname = pfsq.example
mydomain = example
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 192.0.2.1/32
relayhost = [127.0.0.1]:1
maillog_file = $top/maillog
maillog_file_prefixes = /tmp
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject
EOF
postfix -c "$etc" check
postfix -c "$etc" start
sleep 2
if python3 - "$port" <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("mua.example")
s.login("alice@example.test", "pa55-word")
s.sendmail("alice@example.test", ["bob@example.net"],
           b"From: alice@example.test\r\nSubject: after AUTH\r\n\r\nbody\r\n",
           ["AUTH=<alice@example.test>"])
s.quit()
EOF
then :; else cat "$top/maillog"; exit 1; fi
sleep 4
postfix -c "$etc" stop
sleep 1
rm -rf "$here/queue" "$here/postcat"
mkdir -p "$here/queue" "$here/postcat"
(cd "$spool" && find deferred -type f) | while read -r f; do
    mkdir -p "$here/queue/$(dirname "$f")"
    cp -p "$spool/$f" "$here/queue/$f"
    postcat -c "$etc" -v "$here/queue/$f" > "$here/postcat/$(basename "$f").txt" 2>&1 || true
done
grep -h "sasl\|client=" "$top/maillog" || true
echo "queue files written to $here/queue"
