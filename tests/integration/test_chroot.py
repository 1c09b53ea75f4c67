"""
test_chroot.py - Debian's own master.cf (chroot y) and main.cf: proxymap,
the chroot jail that "postfix start" prepares, missing programs.

The instance runs tests/data/debian/master.cf and main.cf (main.cf.debian,
main.cf.tls and postinst's settings) as the Debian 12 package installs
them; only the smtpd port and the instance's paths (appended to main.cf)
differ.
"""
import datetime
import os
import re

from posthorn import Instance, REPO, run, sbin, start_with_resolv, wait_for
from smtp_sink import SmtpSink

DEBIAN = os.path.join(REPO, "tests", "data", "debian")
# What Debian's postinst adds with postconf -e for an "Internet Site"
# (the instance's own values for the paths and names follow them).
DEBCONF = """smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
mailbox_size_limit = 0
recipient_delimiter = +
inet_protocols = all
"""


def debian_instance(name, main=None, tz=None):
    """An Instance with Debian's master.cf and main.cf (plus main)."""
    inst = Instance(name, main=main)
    with open(os.path.join(DEBIAN, "master.cf")) as f:
        master = f.read()
    master, n = re.subn(r"(?m)^smtp(\s+inet\s+n\s+-\s+y\s)", r"%d\1" % inst.port, master)
    assert n == 1, "Debian's smtpd line not found"
    with open(os.path.join(inst.conf, "master.cf"), "w") as f:
        f.write(master)
    debian_main = ""
    for name in ("main.cf.debian", "main.cf.tls"):
        with open(os.path.join(DEBIAN, name)) as f:
            debian_main += f.read()
    with open(os.path.join(inst.conf, "main.cf"), "w") as f:
        f.write(debian_main + DEBCONF + "\n# the test instance\n")
        for k, v in inst.params.items():
            f.write("%s = %s\n" % (k, v))
    return inst


def postmap_table(inst, name, text):
    """A hash: table in the config directory; its path."""
    path = os.path.join(inst.conf, name)
    with open(path, "w") as f:
        f.write(text)
    inst.cmd("postmap", path, check=True)
    return path


def append_main(inst, text):
    """Lines after everything else in main.cf (the last setting wins)."""
    with open(os.path.join(inst.conf, "main.cf"), "a") as f:
        f.write(text)


def start_with_hosts(inst, hosts_text):
    """postfix start with this /etc/hosts (a private mount namespace)."""
    hosts = os.path.join(inst.dir, "hosts")
    with open(hosts, "w") as f:
        f.write(hosts_text)
    start_with_resolv(inst, hosts, target="/etc/hosts")


def test_chrooted_smtpd_accepts_local_user_through_proxymap():
    """local_recipient_maps = proxy:unix:passwd.byname $alias_maps (the
    default) with smtpd in the jail: a Unix user is accepted and gets the
    mail; an unknown one is refused as Postfix does."""
    with debian_instance("chroot-local") as inst:
        inst.start()
        s = inst.smtp()
        s.ehlo("client.test")
        assert s.mail("sender@example.test")[0] == 250
        code, text = s.rcpt("nosuchuser@example.test")
        assert code == 550, (code, text)
        assert b"5.1.1 <nosuchuser@example.test>: Recipient address rejected: " \
               b"User unknown in local recipient table" in text, text
        code, text = s.rcpt("phedison@example.test")
        assert code == 250, (code, text)
        s.data("Subject: through the jail\r\n\r\nhello from chroot\r\n")
        s.quit()
        box = inst.wait_mbox("phedison", "hello from chroot")
        assert "Subject: through the jail" in box
        log = inst.log()
        assert re.search(r"postfix/smtpd\[\d+\]: connect from", log), log
        assert "fatal" not in log and "panic" not in log, log
        # the jail that postfix start prepared
        for f in ("etc/services", "etc/hosts", "etc/nsswitch.conf"):
            assert os.path.isfile(os.path.join(inst.queue, f)), f


def test_proxymap_refuses_table_not_in_proxy_read_maps():
    """A proxy: table missing from proxy_read_maps is refused by proxymap
    with Postfix's warnings (the client defers); a listed one is looked up
    through proxymap."""
    main = {"proxy_read_maps": "$local_recipient_maps $smtpd_recipient_restrictions"}
    with debian_instance("proxy-deny", main=main) as inst:
        access = postmap_table(inst, "access", "bad@remote.test REJECT go away\n")
        blocked = postmap_table(inst, "blocked", "phjonas@example.test REJECT not this one\n")
        append_main(inst, "smtpd_sender_restrictions = check_sender_access proxy:hash:%s\n"
                    "smtpd_recipient_restrictions = check_recipient_access proxy:hash:%s, "
                    "permit_mynetworks, reject\n" % (access, blocked))
        inst.start()
        # the sender table is not approved: a temporary failure, not a pass
        assert _rcpt_code(inst, "phedison@example.test", "bad@remote.test") == 451
        inst.wait_log(r'proxymap\[\d+\]: warning: request for unapproved table: "hash:%s"'
                      % re.escape(access))
        inst.wait_log(r"proxymap\[\d+\]: warning: to approve this table for read-only access, "
                      r"list proxy:hash:%s in main\.cf:proxy_read_maps" % re.escape(access))
        inst.wait_log(r'smtpd\[\d+\]: warning: proxymap service is not configured for table '
                      r'"hash:%s"' % re.escape(access))
        # the approved table (in $smtpd_recipient_restrictions) answers
        append_main(inst, "smtpd_sender_restrictions =\n")
        inst.cmd("postfix", "reload", check=True)
        wait_for(lambda: _rcpt_code(inst, "phjonas@example.test") == 554, 20,
                 "the access table through proxymap")
        assert _rcpt_code(inst, "phedison@example.test") == 250
        assert 'unapproved table: "hash:%s"' % blocked not in inst.log()


def _rcpt_code(inst, rcpt, sender="sender@example.test"):
    """The reply code to RCPT TO:<rcpt> in a new session."""
    s = inst.smtp()
    s.ehlo("client.test")
    code = s.mail(sender)[0]
    if code == 250:
        code = s.rcpt(rcpt)[0]
    s.quit()
    return code


def test_chrooted_smtp_resolves_inside_the_jail():
    """The chrooted smtp client finds the relay host by name through the
    jail's etc/hosts, which postfix start copied from /etc/hosts."""
    with SmtpSink() as sink, \
            debian_instance("chroot-smtp", main={
                "relayhost": "[sink.jail.test]:%d" % sink.port}) as inst:
        start_with_hosts(inst, "127.0.0.1 localhost\n127.0.0.1 sink.jail.test\n")
        with open(os.path.join(inst.queue, "etc", "hosts")) as f:
            assert "sink.jail.test" in f.read()
        s = inst.smtp()
        s.sendmail("phedison@example.test", ["someone@remote.example"],
                   "Subject: out\r\n\r\nrelayed from the jail\r\n")
        s.quit()
        t = sink.wait()
        assert t["accepted"] == ["someone@remote.example"], t
        assert b"relayed from the jail" in t["body"], t
        inst.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<someone@remote\.example>, "
                      r"relay=sink\.jail\.test\[127\.0\.0\.1\]:%d, .*status=sent" % sink.port)


def _stamp(line):
    return datetime.datetime.strptime(line[:15], "%b %d %H:%M:%S")


def test_chrooted_daemon_logs_local_time():
    """TZ names a zone file outside the jail: a chrooted daemon still
    stamps its log lines in that zone (the zone is loaded before chroot)."""
    with debian_instance("chroot-tz") as inst:
        env_tz = os.environ.get("TZ")
        os.environ["TZ"] = "Asia/Tokyo"         # UTC+9 all year
        try:
            inst.start()
        finally:
            if env_tz is None:
                os.environ.pop("TZ")
            else:
                os.environ["TZ"] = env_tz
        s = inst.smtp()
        s.ehlo("client.test")
        s.quit()
        inst.wait_log(r"postfix/smtpd\[\d+\]: disconnect from")
        lines = inst.log().splitlines()
        jailed = [l for l in lines if re.search(r"postfix/smtpd\[\d+\]: connect from", l)][0]
        outside = [l for l in lines if "postfix/master[" in l][-1]
        tokyo = (datetime.datetime.utcnow() + datetime.timedelta(hours=9)).strftime("%b %d %H:%M:%S")
        for line in (jailed, outside):
            delta = abs((_stamp(line) - _stamp(tokyo)).total_seconds()) % 86400
            assert min(delta, 86400 - delta) < 600, (line, tokyo)


def test_chrooted_scache_passes_sessions():
    """Debian's chrooted scache and smtp: a session the first smtp process
    leaves in scache (through the jail's private/scache) carries the next
    message, delivered by another smtp process."""
    with SmtpSink() as sink, \
            debian_instance("chroot-scache", main={
                "relayhost": "[127.0.0.1]:%d" % sink.port,
                "smtp_connection_cache_destinations": "[127.0.0.1]:%d" % sink.port,
                "smtp_connection_cache_time_limit": "30s",
                "connection_cache_ttl_limit": "30s"}) as inst:
        inst.edit_master_cf(r"^(smtp\s+unix\s.*\ssmtp)$", r"\1 -o max_use=1")
        inst.start()
        for n, rcpt in enumerate(("one@remote.example", "two@remote.example")):
            s = inst.smtp()
            s.sendmail("phedison@example.test", [rcpt], "Subject: %d\r\n\r\nhello\r\n" % n)
            s.quit()
            sink.wait(n + 1)
        inst.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<two@remote\.example>, "
                      r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, conn_use=2, .*status=sent"
                      % sink.port)
        with sink.lock:
            assert len(sink.conns) == 1, sink.conns
        assert not re.search(r"postfix/(scache|smtp)\[\d+\]: warning", inst.log()), inst.log()


def test_missing_program_warned_once():
    """A master.cf service whose program posthorn does not have (a
    made-up one next to Debian's services): one warning at start, none
    later, no restart loop; none of Debian's own services draws it."""
    with debian_instance("missing") as inst:
        with open(os.path.join(inst.conf, "master.cf"), "a") as f:
            f.write("nosuchd   unix  -       -       y       -       1       nosuchd\n")
        inst.start()
        daemon_dir = inst.params["daemon_directory"]
        pattern = (r"postfix/master\[\d+\]: warning: master\.cf line \d+: service nosuchd/unix: "
                   r"cannot execute %s/nosuchd: No such file or directory -- service not started"
                   % re.escape(daemon_dir))
        inst.wait_log(pattern)
        s = inst.smtp()
        s.ehlo("client.test")
        s.quit()
        inst.wait_log(r"postfix/smtpd\[\d+\]: disconnect from")
        log = inst.log()
        assert len(re.findall(pattern, log)) == 1, log
        # every program of Debian's master.cf is there now (scache last)
        assert len(re.findall(r"cannot execute", log)) == 1, log
        assert "bad command startup" not in log, log


def test_proxymap_restarts_when_a_table_changes():
    """postmap rebuilds a table that smtpd reads through proxymap: proxymap
    notices, logs Postfix's line, and a fresh process answers the new
    contents without postfix reload."""
    with debian_instance("proxy-change") as inst:
        blocked = postmap_table(inst, "blocked", "phjonas@example.test REJECT not this one\n")
        append_main(inst, "smtpd_recipient_restrictions = check_recipient_access proxy:hash:%s, "
                    "permit_mynetworks, reject\n" % blocked)
        inst.start()
        assert _rcpt_code(inst, "phjonas@example.test") == 554
        assert _rcpt_code(inst, "phedison@example.test") == 250
        postmap_table(inst, "blocked", "phedison@example.test REJECT now this one\n")
        wait_for(lambda: _rcpt_code(inst, "phedison@example.test") == 554, 20,
                 "the new table contents")
        assert _rcpt_code(inst, "phjonas@example.test") == 250
        inst.wait_log(r"proxymap\[\d+\]: table hash:%s has changed -- restarting"
                      % re.escape(blocked))


def test_chrooted_pickup_takes_local_and_requeued_mail():
    """pickup and cleanup in the jail: mail from sendmail, and a message
    that postsuper -r requeued (a maildrop file owned by mail_owner, which
    pickup recognises without a passwd file in the jail)."""
    with debian_instance("chroot-pickup") as inst:
        hold = postmap_table(inst, "hold", "held@example.test HOLD\n")
        append_main(inst, "smtpd_sender_restrictions = check_sender_access hash:%s\n" % hold)
        inst.start()
        p = run([sbin("sendmail"), "-c", inst.conf, "-f", "root@example.test", "phalice"],
                input="Subject: via pickup\n\nfrom the command line\n")
        assert p.returncode == 0, p.stderr
        inst.wait_mbox("phalice", "from the command line")
        s = inst.smtp()
        s.sendmail("held@example.test", ["phedison@example.test"],
                   "Subject: held\r\n\r\nwaiting in hold\r\n")
        s.quit()
        wait_for(lambda: inst.queue_files("hold"), 20, "the message in hold/")
        inst.cmd("postsuper", "-r", "ALL", check=True)
        inst.wait_mbox("phedison", "waiting in hold")
        log = inst.log()
        assert "fatal" not in log and "panic" not in log, log


def test_chrooted_bounce_and_showq():
    """smtp, bounce, cleanup and showq in the jail: a recipient the next
    hop refuses is returned to the local sender; postqueue -p talks to
    the chrooted showq."""
    with SmtpSink(rcpt_reply=lambda a: "550 5.1.1 no such user here") as sink, \
            debian_instance("chroot-bounce", main={
                "relayhost": "[127.0.0.1]:%d" % sink.port}) as inst:
        inst.start()
        s = inst.smtp()
        s.sendmail("phjonas@example.test", ["gone@remote.example"],
                   "Subject: to nowhere\r\n\r\nnot deliverable\r\n")
        s.quit()
        box = inst.wait_mbox("phjonas", "Undelivered Mail Returned to Sender")
        assert "gone@remote.example" in box and "no such user here" in box, box
        wait_for(lambda: "Mail queue is empty" in inst.cmd("postqueue", "-p").stdout, 20,
                 "an empty queue listing from showq")
        log = inst.log()
        assert "fatal" not in log and "panic" not in log, log
