#!/bin/sh
# make.sh - produce the real Postfix 3.7 queue files committed next to this
# script (tests/data/postfix-queue/), with Debian's postfix package.
#
# Not run by `make check` (that must not need Postfix); run it by hand, as
# root, to regenerate the data: it starts a private Postfix instance
# (config and queue under a temporary directory, smtpd on 127.0.0.1:$PORT,
# relayhost on a dead port so that mail defers), submits messages with the
# features posthorn must read, stops Postfix and copies the queue files,
# defer logs and `postcat -v -q` listings here:
#
#   queue/deferred/<h>/<id>   deferred mail (hashed, depth 1) with
#   queue/defer/<h>/<id>      its defer log
#   queue/hold/<id>           held mail (postsuper -h, and an access HOLD)
#   queue/maildrop/<id>       a postdrop file submitted while Postfix was down
#   postcat/<id>.txt          `postcat -v <file>` of each file
#   mailq.txt                 Postfix's `mailq` listing of the queue
#   (smtpd_milters = milter.py: message 12's header is edited by a milter)
#   maillog.txt               Postfix's log of the run
#
# Usage: tests/data/postfix-queue/make.sh [port]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
port=${1:-25252}
top=$(mktemp -d /tmp/pfq.XXXXXX)
etc=$top/etc
spool=$top/spool
mport=$((port + 1))
trap 'postfix -c "$etc" stop >/dev/null 2>&1 || true; kill $milter_pid 2>/dev/null; rm -rf "$top"' EXIT
milter_pid=

test -x /usr/sbin/postfix || { echo "$0: needs Debian's postfix package" >&2; exit 1; }
mkdir -p "$etc" "$spool" "$top/data"
chmod 755 "$top"
chown postfix "$top/data"
cp /usr/share/postfix/master.cf.dist "$etc/master.cf" 2>/dev/null \
    || cp /etc/postfix/master.cf "$etc/master.cf"
# No chroot (the private spool has no /etc copies); smtpd on our port.
awk -v port="$port" '
    /^smtp +inet/ { $1 = "127.0.0.1:" port }
    /^[a-z]/ && NF >= 8 && $5 == "y" { $5 = "n" }
    /^[a-z]/ && NF >= 8 && $5 == "-" { $5 = "n" }
    { print }' "$etc/master.cf" > "$etc/master.cf.new"
mv "$etc/master.cf.new" "$etc/master.cf"
cat > "$etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $spool
data_directory = $top/data
myhostname = pfq.example
mydomain = example
myorigin = pfq.example
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:1
maillog_file = $top/maillog
maillog_file_prefixes = /tmp
alias_maps =
alias_database =
local_recipient_maps =
biff = no
transport_maps = inline:{discard.example=discard:}
smtpd_recipient_restrictions = check_recipient_access
    inline:{ {filter@example.net=FILTER smtp:[127.0.0.1]:2}, held@example.net=HOLD },
    permit_mynetworks, reject
smtputf8_enable = no
smtpd_milters = inet:127.0.0.1:$mport
EOF
cp "$etc/main.cf" "$etc/main.cf.orig"
python3 "$here/milter.py" "$mport" &
milter_pid=$!
postfix -c "$etc" check
postfix -c "$etc" start
sleep 2

python3 - "$port" <<'EOF'
import smtplib, sys
port = int(sys.argv[1])
def send(frm, rcpts, body, mail_options=(), rcpt_options=()):
    s = smtplib.SMTP("127.0.0.1", port)
    s.ehlo("client.example")
    s.sendmail(frm, rcpts, body, list(mail_options), list(rcpt_options))
    s.quit()
hdr = "From: Sender <sender@remote.example>\r\nSubject: %s\r\nMessage-ID: <%s@client.example>\r\n"
# 1: multiple recipients, DSN ENVID/RET/NOTIFY/ORCPT, 8BITMIME, a long line.
long_line = "L" * 3000
body = (hdr % ("dsn multi", "m1") + "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "caf\xe9 8bit line\r\n" + long_line + "\r\nlast line\r\n").encode("latin-1")
send("sender@remote.example", ["a@example.net", "b@example.net", "c@example.org"], body,
     ["BODY=8BITMIME", "RET=HDRS", "ENVID=env-id-1"],
     ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Orig-A@example.net"])
# 2: one recipient delivered (discard), one deferred: a DONE recipient.
send("sender@remote.example", ["gone@discard.example", "d@example.net"],
     (hdr % ("partly delivered", "m2") + "\r\nbody two\r\n").encode())
# 3: a content filter (FILTER action) that is down.
send("sender@remote.example", ["filter@example.net"],
     (hdr % ("filtered", "m3") + "\r\nbody three\r\n").encode())
# 4: HOLD action: lands in hold/.
send("sender@remote.example", ["held@example.net"],
     (hdr % ("held by access", "m4") + "\r\nbody four\r\n").encode())
# 5: to be held with postsuper -h after it was deferred.
send("sender@remote.example", ["e@example.net"],
     (hdr % ("held by postsuper", "m5") + "\r\nbody five\r\n").encode())
# 6: null sender.
send("", ["f@example.net"],
     (hdr % ("null sender", "m6") + "\r\nbody six\r\n").encode())
# 12: a milter (milter.py) edits the header: Postfix's pointer records.
send("sender@remote.example", ["m@example.net"],
     (hdr % ("milter", "m12") + "X-Other: 1\r\n\r\nbody twelve\r\n").encode())
# 9-11: one feature each (the SIZE record's qmgr options field).
send("sender@remote.example", ["s@example.net"],
     (hdr % ("notify success", "m9") + "\r\nbody nine\r\n").encode(),
     [], ["NOTIFY=SUCCESS"])
send("sender@remote.example", ["t@example.net"],
     (hdr % ("8bitmime", "m10") + "\r\nbody ten\r\n").encode(),
     ["BODY=8BITMIME"], [])
send("sender@remote.example", ["u@example.net"],
     (hdr % ("notify delay", "m11") + "\r\nbody eleven\r\n").encode(),
     ["RET=FULL"], ["NOTIFY=DELAY"])
EOF
# 7: local submission to an unknown local user: a bounce (null sender,
# deferred because relayhost is down).
printf 'Subject: to bounce\n\nbody seven\n' | \
    sendmail -C "$etc" -f sender@remote.example nosuchuser@localhost
sleep 6
id5=$(postqueue -c "$etc" -j | python3 -c '
import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if any(r["address"] == "e@example.net" for r in m["recipients"]):
        print(m["queue_id"])')
postsuper -c "$etc" -h "$id5"
postqueue -c "$etc" -p > "$here/mailq.txt" || true
postfix -c "$etc" stop
sleep 1
# 8: a maildrop file left behind while Postfix is down.
printf 'Subject: left in maildrop\nFrom: Local <local@pfq.example>\n\nbody eight\n' | \
    sendmail -C "$etc" -F "Local Sender" -f local@pfq.example -N success,delay \
        -R hdrs -V env-id-8 \
        g@example.net h@example.net 2>/dev/null || true

rm -rf "$here/queue" "$here/postcat"
mkdir -p "$here/queue" "$here/postcat"
for q in deferred defer hold maildrop incoming active bounce; do
    test -d "$spool/$q" && (cd "$spool" && find "$q" -type f) | while read -r f; do
        mkdir -p "$here/queue/$(dirname "$f")"
        cp -p "$spool/$f" "$here/queue/$f"
    done
done
for f in $(cd "$here/queue" && find deferred hold maildrop incoming -type f 2>/dev/null); do
    postcat -c "$etc" -v "$here/queue/$f" > "$here/postcat/$(basename "$f").txt" 2>&1 || true
done
cp "$top/maillog" "$here/maillog.txt"
echo "queue files written to $here/queue"
