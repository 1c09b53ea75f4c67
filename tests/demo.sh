#!/bin/bash
# make run: a self-contained posthorn instance inside the checkout.
#   config   run/conf      queue  run/queue      mailboxes  run/mail/<user>
#   SMTP on 127.0.0.1:2525, log lines on standard output, Ctrl-C stops it.
# Works as root (daemons run as the postfix user) and as any other user
# (then everything runs as that user, with no privilege separation).
#
# Environment (for tests; the defaults are what "make run" wants):
#   POSTHORN_RUN_DIR  instance directory instead of ./run (made if missing)
#   POSTHORN_ROOT     an existing "make install DESTDIR=" tree to use
#                     instead of installing into $POSTHORN_RUN_DIR/root
set -eu
cd "$(dirname "$0")/.."
top=$PWD
run=${POSTHORN_RUN_DIR:-$top/run}
mkdir -p "$run"
run=$(cd "$run" && pwd)
mkdir -p "$run/conf" "$run/queue" "$run/mail"
chmod 1777 "$run/mail"

if [ "$(id -u)" -eq 0 ]; then
    getent group postdrop >/dev/null || groupadd --system postdrop
    getent passwd postfix >/dev/null || useradd --system --no-create-home \
        --home-dir /var/spool/postfix --shell /usr/sbin/nologin --user-group postfix
    owner=postfix group=postdrop
else
    # Without root there is no privilege separation: everything runs as you.
    owner=$(id -un) group=$(id -gn)
fi

if [ -n "${POSTHORN_ROOT:-}" ]; then
    root=$POSTHORN_ROOT
else
    root=$run/root
    make -s install DESTDIR="$root" SETGID_GROUP="$group" >/dev/null
fi

cat > "$run/conf/main.cf" <<CONF
# posthorn demo instance (make run). Everything lives under $run.
compatibility_level = 3.6
queue_directory = $run/queue
data_directory = $run/data
daemon_directory = $root/usr/libexec/posthorn
command_directory = $root/usr/sbin
mail_owner = $owner
setgid_group = $group
myhostname = localhost.localdomain
mydestination = \$myhostname, localhost
inet_interfaces = 127.0.0.1
mynetworks = 127.0.0.0/8
mail_spool_directory = $run/mail
alias_maps = hash:$run/conf/aliases
alias_database = hash:$run/conf/aliases
maillog_file = /dev/stdout
CONF
sed -E 's/^smtp( +)inet /127.0.0.1:2525 inet /' conf/master.cf > "$run/conf/master.cf"
[ -f "$run/conf/aliases" ] || printf 'postmaster: root\n' > "$run/conf/aliases"
"$root/usr/sbin/postalias" -c "$run/conf" "$run/conf/aliases"

cat <<MSG
posthorn demo: SMTP on 127.0.0.1:2525; mail for <user>@localhost lands in $run/mail/<user>.
Try:  swaks --server 127.0.0.1:2525 --to $(id -un)@localhost
Ctrl-C stops it.
MSG
exec "$root/usr/sbin/postfix" -c "$run/conf" start-fg
