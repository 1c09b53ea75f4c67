"""
debian_switch.py - a Debian 12 mail server switches from Postfix to
posthorn and back; nothing is lost (issue 10, "the switch itself").

Runs as PID 1 of private mount, network and PID namespaces (started by
tests/debian-switch.sh), so it may change /etc, /usr/sbin and the queue
freely: each is a copy or a tmpfs seen only here, and every process
started dies with this one.

The server, as a Debian administrator has it:
  - /etc/postfix/main.cf written by Debian's own postinst (debconf
    answers: Internet Site, mailname mail.switch.test, relayhost
    [127.0.0.1]:2599), Debian's master.cf as the package installs it
    (chroot y, proxymap);
  - amavisd-new as content filter, set up as its README.postfix says
    (amavisfeed transport, re-injection smtpd on 127.0.0.1:10025),
    with Debian's /etc/amavis configuration;
  - local users swuser1 and swuser2, aliases root and team in /etc/aliases;
  - Postfix started the way systemd starts it (configure-instance.sh,
    then postmulti -i - -p start).

Steps, each ending in checks on what a user sees (mailboxes, the relay's
capture server, mailq):
  1. Postfix takes mail for a local user over SMTP, cron mail
     (sendmail root), and mail for a remote domain that stays deferred
     (the relay is down); one deferred message is put on hold.
  2. Postfix stops; `make install` puts posthorn in its place; the same
     start. posthorn lists Postfix's queue, delivers the deferred mail
     when the relay comes back, keeps the held message until postsuper -H,
     and takes new mail for local users, aliases and cron, through
     amavisd-new.
  3. posthorn queues deferred and held mail and stops; Postfix's binaries
     come back; Postfix lists and delivers posthorn's mail.
Every message carries a token; at the end each token is found exactly
once, where it was sent.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from posthorn import private_dev  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAILNAME = "mail.switch.test"
RELAY_PORT = 2599
USERS = ("swuser1", "swuser2")
POSTFIX_VERSION = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "postfix"],
                                 capture_output=True, text=True).stdout


def say(text):
    print("debian-switch: " + text, flush=True)


def sh(cmd, check=True, input=None, env=None, timeout=120, quiet=False):
    """Run a shell command; its output goes to our output."""
    p = subprocess.run(cmd, shell=True, input=input, text=True, capture_output=True,
                       env=env, timeout=timeout)
    out = (p.stdout + p.stderr).strip()
    if out and not quiet:
        print("  $ %s\n    %s" % (cmd, out.replace("\n", "\n    ")), flush=True)
    if check and p.returncode != 0:
        raise SystemExit("debian-switch: FAILED: %s (exit %d)" % (cmd, p.returncode))
    return p


def wait_for(cond, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise SystemExit("debian-switch: FAILED: timed out waiting for " + what)


# ---- the private machine ---------------------------------------------------

def private_copy(top, path):
    """Mount a private copy of directory path over it."""
    copy = os.path.join(top, path.strip("/").replace("/", "_"))
    sh("cp -a %s %s" % (path, copy))
    sh("mount --bind %s %s" % (copy, path))


def private_tmpfs(path):
    os.makedirs(path, exist_ok=True)
    sh("mount -t tmpfs -o mode=0755 tmpfs %s" % path)


def syslog_to_file(sock):
    """What rsyslog would do on the server: the lines sent to /dev/log
    into /var/log/mail.log."""
    import threading

    def listen():
        with open("/var/log/mail.log", "ab", buffering=0) as log:
            while True:
                msg = sock.recv(65536)
                log.write(re.sub(rb"^<\d+>", b"", msg).rstrip(b"\n") + b"\n")
    threading.Thread(target=listen, daemon=True).start()


def set_up_namespace(top):
    sh("ip link set lo up")
    for path in ("/etc", "/usr/sbin", "/usr/libexec", "/var/cache/debconf", "/var/lib/amavis"):
        private_copy(top, path)
    for path in ("/var/spool/postfix", "/var/lib/postfix", "/var/mail", "/home", "/var/log"):
        private_tmpfs(path)
    dev = os.path.join(top, "dev")
    os.mkdir(dev)
    syslog_to_file(private_dev(dev))
    os.chmod("/var/mail", 0o2775)
    shutil.chown("/var/mail", group="mail")
    # no init script may start anything while packages are configured
    with open("/usr/sbin/policy-rc.d", "w") as f:
        f.write("#!/bin/sh\nexit 101\n")
    os.chmod("/usr/sbin/policy-rc.d", 0o755)


def debian_configures_postfix():
    """Debian's postinst writes main.cf from the debconf answers."""
    for f in ("/etc/postfix/main.cf", "/etc/mailname"):
        if os.path.exists(f):
            os.unlink(f)
    sh("debconf-set-selections", input="\n".join((
        "postfix postfix/main_mailer_type select Internet Site",
        "postfix postfix/mailname string " + MAILNAME,
        "postfix postfix/destinations string $myhostname, %s, localhost" % MAILNAME,
        "postfix postfix/relayhost string [127.0.0.1]:%d" % RELAY_PORT)) + "\n")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive",
               DPKG_MAINTSCRIPT_NAME="postinst", DPKG_MAINTSCRIPT_PACKAGE="postfix")
    sh("/var/lib/dpkg/info/postfix.postinst configure " + POSTFIX_VERSION, env=env, check=False)
    assert_in_file("/etc/postfix/main.cf", "myorigin = /etc/mailname")
    shutil.copy("/usr/share/postfix/master.cf.dist", "/etc/postfix/master.cf") \
        if not os.path.exists("/etc/postfix/master.cf") else None


def add_users_and_aliases():
    for u in USERS:
        sh("useradd --create-home --shell /bin/sh " + u)
    with open("/etc/aliases", "a") as f:
        f.write("root: swuser1\nteam: swuser1, swuser2\n")
    sh("newaliases")


def add_amavis():
    """amavisd-new as README.postfix says, on Debian's /etc/amavis."""
    with open("/etc/amavis/conf.d/50-user", "w") as f:
        f.write('use strict;\n$myhostname = "%s";\n$DO_SYSLOG = 0;\n'
                '$LOGFILE = "/var/lib/amavis/amavis.log";\n$log_level = 2;\n1;\n' % MAILNAME)
    with open("/etc/postfix/master.cf", "a") as f:
        f.write("amavisfeed unix    -       -       n       -       2     smtp\n"
                "    -o smtp_data_done_timeout=1200\n"
                "    -o smtp_send_xforward_command=yes\n"
                "127.0.0.1:10025 inet n    -       n       -       -     smtpd\n"
                "    -o content_filter=\n"
                "    -o smtpd_delay_reject=no\n"
                "    -o smtpd_client_restrictions=permit_mynetworks,reject\n"
                "    -o smtpd_helo_restrictions=\n"
                "    -o smtpd_sender_restrictions=\n"
                "    -o smtpd_recipient_restrictions=permit_mynetworks,reject\n"
                "    -o smtpd_data_restrictions=reject_unauth_pipelining\n"
                "    -o smtpd_end_of_data_restrictions=\n"
                "    -o mynetworks=127.0.0.0/8\n"
                "    -o smtpd_authorized_xforward_hosts=127.0.0.0/8\n"
                "    -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks\n"
                "    -o local_recipient_maps=\n"
                "    -o relay_recipient_maps=\n")
    sh("postconf -e content_filter=amavisfeed:[127.0.0.1]:10024")
    out = open("/var/log/amavis-console.log", "w")
    amavis = subprocess.Popen(["/usr/sbin/amavisd", "foreground"],
                              stdout=out, stderr=subprocess.STDOUT)
    wait_for(lambda: port_open(10024) or amavis.poll() is not None, "amavisd on 10024")
    if amavis.poll() is not None:
        sh("cat /var/log/amavis*.log /var/lib/amavis/amavis.log", check=False)
        raise SystemExit("debian-switch: FAILED: amavisd exited")
    return amavis


def port_open(port):
    import socket
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# ---- running the MTA the way systemd does ------------------------------------

def mta_start(who):
    say("starting %s as systemd does" % who)
    sh("/usr/lib/postfix/configure-instance.sh -")
    sh("postmulti -i - -p start")
    wait_for(lambda: port_open(25) and port_open(10025), who + " listening on 25 and 10025")


def mta_stop(who):
    say("stopping " + who)
    sh("postmulti -i - -p stop")
    wait_for(lambda: not port_open(25), who + " gone from port 25")
    # we are PID 1 here: a finished master stays a zombie until the end
    wait_for(lambda: not re.search(r"^[^Z]", sh("ps -C master -o stat=", check=False, quiet=True).stdout,
                                   re.M), who + " master gone")


def install_posthorn():
    say("make install (posthorn replaces Postfix's programs)")
    junk = tempfile.mkdtemp(prefix="usrbin-")      # /usr/bin links: Debian's already point at sendmail
    sh("make -s -C %s install USRBIN=%s" % (TOP, junk))


def restore_postfix():
    say("Postfix's programs back (as apt-get install --reinstall postfix would)")
    # lazily: amavisd-new runs from the copy of /usr/sbin; running programs
    # keep what they have, as after a package upgrade
    sh("umount --lazy /usr/sbin")
    sh("umount --lazy /usr/libexec")


# ---- mail -------------------------------------------------------------------

def smtp_send(rcpts, token, port=25):
    import smtplib
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.ehlo("client.switch.test")
        s.sendmail("sender@client.switch.test", rcpts,
                   "From: sender@client.switch.test\r\nSubject: %s\r\n\r\nbody of %s\r\n"
                   % (token, token))


def cron_send(token):
    sh("sendmail root", input="Subject: %s\n\ncron output %s\n" % (token, token))


def mailbox(user):
    try:
        with open("/var/mail/" + user, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_flushing(arrived, what):
    """Flushes the queue while it waits: amavisd-new keeps its connection
    to the re-injection smtpd open, and after an MTA restart its first
    attempt fails on the dead connection (451, deferred) -- with Postfix
    after Postfix as with posthorn after Postfix."""
    last = [0.0]

    def check():
        if arrived():
            return True
        if time.time() - last[0] > 5:
            last[0] = time.time()
            sh("postqueue -f", check=False, quiet=True)
        return False
    wait_for(check, what, timeout=90)


def wait_mailbox(user, token):
    wait_flushing(lambda: token in mailbox(user), "%s in %s's mailbox" % (token, user))


def wait_relayed(sink, token, what):
    wait_flushing(lambda: relayed(sink, token), what)


def queue_ids():
    """{queue id: held?} from mailq (Postfix's layout: '!' marks held)."""
    out = sh("mailq", check=False, quiet=True).stdout
    return {m.group(1): m.group(2) == "!"
            for m in re.finditer(r"^([0-9A-F]{6,})([*!]?)\s+\d+ ", out, re.M)}


def waiting_for_relay(n):
    """Exactly n messages queued, each deferred by the relay (past the
    content filter: its copy before the filter is gone)."""
    out = sh("mailq", check=False, quiet=True).stdout
    return len(queue_ids()) == n and out.count(":%d: Connection refused" % RELAY_PORT) == n


def queue_id_of(token):
    for qid in queue_ids():
        if token in sh("postcat -bq " + qid, check=False, quiet=True).stdout:
            return qid
    return None


def assert_in_file(path, text):
    with open(path) as f:
        if text not in f.read():
            raise SystemExit("debian-switch: FAILED: %r not in %s" % (text, path))


def relayed(sink, token):
    return [t for t in sink.transactions if token.encode() in t["data"]]


# ---- the steps --------------------------------------------------------------

def step_postfix_with_mail():
    mta_start("Postfix")
    smtp_send(["swuser1@" + MAILNAME], "tok-pf-local")
    cron_send("tok-pf-cron")
    smtp_send(["far1@far.example"], "tok-pf-deferred")
    smtp_send(["far2@far.example"], "tok-pf-held")
    wait_mailbox("swuser1", "tok-pf-local")
    wait_mailbox("swuser1", "tok-pf-cron")
    wait_for(lambda: waiting_for_relay(2), "both remote messages deferred by Postfix")
    sh("postsuper -h " + queue_id_of("tok-pf-held"))
    say("Postfix queue before the switch:")
    sh("mailq")
    mta_stop("Postfix")
    return queue_ids()


def step_posthorn(pf_queue):
    install_posthorn()
    mta_start("posthorn")
    listed = queue_ids()
    if set(listed) != set(pf_queue) or listed != pf_queue:
        raise SystemExit("debian-switch: FAILED: posthorn's mailq %r, Postfix left %r"
                         % (listed, pf_queue))
    with SmtpSink(port=RELAY_PORT) as sink:
        sh("postqueue -f")
        wait_relayed(sink, "tok-pf-deferred", "Postfix's deferred mail relayed")
        time.sleep(2)
        if relayed(sink, "tok-pf-held"):
            raise SystemExit("debian-switch: FAILED: held mail was delivered")
        sh("postsuper -H " + queue_id_of("tok-pf-held"))
        sh("postqueue -f")
        wait_relayed(sink, "tok-pf-held", "released mail relayed")
    smtp_send(["swuser2@" + MAILNAME], "tok-ph-local")
    smtp_send(["team@" + MAILNAME], "tok-ph-alias")
    cron_send("tok-ph-cron")
    for user, token in (("swuser2", "tok-ph-local"), ("swuser1", "tok-ph-alias"),
                        ("swuser2", "tok-ph-alias"), ("swuser1", "tok-ph-cron")):
        wait_mailbox(user, token)
    if "(amavisd-new, port 10024)" not in mailbox("swuser2").split("tok-ph-local")[0][-3000:] \
            and "amavis" not in mailbox("swuser2"):
        raise SystemExit("debian-switch: FAILED: posthorn's mail did not pass amavisd-new")
    # mail for the way back
    smtp_send(["far3@far.example"], "tok-ph-deferred")
    smtp_send(["far4@far.example"], "tok-ph-held")
    wait_for(lambda: waiting_for_relay(2), "both remote messages deferred by posthorn")
    sh("postsuper -h " + queue_id_of("tok-ph-held"))
    say("posthorn queue before going back:")
    sh("mailq")
    ph_queue = queue_ids()
    mta_stop("posthorn")
    return ph_queue


def step_back_to_postfix(ph_queue):
    restore_postfix()
    for qid in ph_queue:
        sh("postcat -q %s" % qid)
    mta_start("Postfix")
    listed = queue_ids()
    if listed != ph_queue:
        raise SystemExit("debian-switch: FAILED: Postfix's mailq %r, posthorn left %r"
                         % (listed, ph_queue))
    with SmtpSink(port=RELAY_PORT) as sink:
        sh("postqueue -f")
        wait_relayed(sink, "tok-ph-deferred", "posthorn's deferred mail relayed")
        sh("postsuper -H " + queue_id_of("tok-ph-held"))
        sh("postqueue -f")
        wait_relayed(sink, "tok-ph-held", "posthorn's held mail relayed")
        counts = {tok: len(relayed(sink, tok)) for tok in ("tok-ph-deferred", "tok-ph-held")}
    mta_stop("Postfix")
    return counts


def main():
    top, logs = sys.argv[1], sys.argv[2]
    set_up_namespace(top)
    debian_configures_postfix()
    add_users_and_aliases()
    amavis = add_amavis()
    try:
        pf_queue = step_postfix_with_mail()
        ph_queue = step_posthorn(pf_queue)
        counts = step_back_to_postfix(ph_queue)
    finally:
        amavis.terminate()
        for log in glob.glob("/var/log/*.log") + ["/var/lib/amavis/amavis.log"]:
            sh("tail -5 " + log, check=False)
            shutil.copy(log, logs)
    boxes = {u: mailbox(u) for u in USERS}
    expect = {("swuser1", "tok-pf-local"), ("swuser1", "tok-pf-cron"), ("swuser2", "tok-ph-local"),
              ("swuser1", "tok-ph-alias"), ("swuser2", "tok-ph-alias"), ("swuser1", "tok-ph-cron")}
    for user, token in expect:
        n = boxes[user].count("Subject: " + token)
        if n != 1:
            raise SystemExit("debian-switch: FAILED: %s has %d copies of %s" % (user, n, token))
    if counts != {"tok-ph-deferred": 1, "tok-ph-held": 1}:
        raise SystemExit("debian-switch: FAILED: relayed copies %r" % counts)
    say("OK: nothing lost, Postfix -> posthorn -> Postfix")


if __name__ == "__main__":
    main()
