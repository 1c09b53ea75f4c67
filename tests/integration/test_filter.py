"""
test_filter.py - the after-queue content filter pair, as a university
runs it with amavisd-new: content_filter = smtp-amavis:[127.0.0.1]:PORT1,
an "smtp-amavis" smtp transport in master.cf, and a re-injection smtpd
on 127.0.0.1:PORT2 with -o content_filter= (free ports instead of
10024/10025 so parallel runs do not clash).

The filter is smtp_sink's SmtpSink: it receives the message, adds
"X-Test-Filter: scanned", sends it on to PORT2, and answers the final
dot with the re-injected message's queue id (or a 554 rejection).

Checked: the message reaches the mailbox with the header exactly once
(no loop), both queue ids in the log ("relay=127.0.0.1[127.0.0.1]:PORT1
... status=sent (250 2.0.0 Ok: queued as NEWID)"); filter down ->
deferred with the connection error, delivered after the filter starts
and "postfix flush"; a 554 from the filter -> bounced with a DSN to the
local sender; content_filter set with -o on one smtpd service only;
FILTER actions of header_checks and of smtpd access tables.

test_amavisd_new runs Debian's real amavisd-new (no virus scanner, no
SpamAssassin) between the two
(package amavisd-new, which make check installs).
"""
import contextlib
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time

from posthorn import Instance, Session, free_port, port_open, wait_for
from smtp_sink import SmtpSink

QID_RX = r"queued as ([0-9A-F]+)"
FILTER_HEADER = "X-Test-Filter: scanned"


def FilterServer(port, reinject=None, mode="pass"):
    """An SMTP content filter on 127.0.0.1:port (an SmtpSink).

    mode "pass": re-inject each message to 127.0.0.1:reinject with
    FILTER_HEADER prepended and answer 250 with the new queue id;
    mode "reject": answer the final dot with 554. Its transactions are
    SmtpSink's (sender, accepted, body, ...) plus reply.
    """
    def on_message(t):
        if mode == "reject":
            t["reply"] = "554 5.7.0 Rejected by test filter"
        else:
            try:
                t["reply"] = forward(reinject, t["sender"], t["accepted"], t["body"])
            except Exception as e:          # noqa: BLE001 - reported to the client
                t["reply"] = "451 4.3.0 re-injection failed: %s" % e
        return [t["reply"]]

    return SmtpSink(port=port, greeting="220 filter.test ESMTP test filter",
                    ehlo=("filter.test", "PIPELINING", "8BITMIME", "SIZE"), on_message=on_message)


def forward(reinject, sender, rcpts, data):
    """Re-inject to 127.0.0.1:reinject; returns the SMTP reply line for the client."""
    s = smtplib.SMTP("127.0.0.1", reinject, timeout=30)
    try:
        s.ehlo("filter.test")
        code, text = s.mail(sender)
        if code != 250:
            return "451 4.3.0 re-injection MAIL FROM failed: %d" % code
        for r in rcpts:
            code, text = s.rcpt(r)
            if code != 250:
                return "451 4.3.0 re-injection RCPT TO failed: %d %s" % (code, text.decode())
        code, text = s.data(FILTER_HEADER.encode() + b"\r\n" + data)
        if code != 250:
            return "451 4.3.0 re-injection DATA failed: %d" % code
        new_id = re.search(QID_RX, text.decode()).group(1)
        return "250 2.0.0 Ok: queued as %s" % new_id
    finally:
        s.quit()


def amavis_master(filter_port, reinject_port, smtpd_port=None):
    """The master.cf lines from amavisd-new's README.postfix, on our ports.

    smtpd_port: an extra smtpd service with the filter set by -o only.
    """
    text = (
        "smtp-amavis unix - - n - 2 smtp\n"
        "    -o smtp_data_done_timeout=1200\n"
        "    -o smtp_send_xforward_command=yes\n"
        "    -o disable_dns_lookups=yes\n"
        "    -o max_use=20\n"
        "127.0.0.1:%d inet n - n - - smtpd\n"
        "    -o content_filter=\n"
        "    -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks\n"
        "    -o smtpd_recipient_restrictions=permit_mynetworks,reject\n"
        "    -o mynetworks=127.0.0.0/8\n" % reinject_port)
    if smtpd_port:
        text += ("127.0.0.1:%d inet n - n - - smtpd\n"
                 "    -o content_filter=smtp-amavis:[127.0.0.1]:%d\n" % (smtpd_port, filter_port))
    return text


def filtered_instance(name, filter_port, reinject_port, global_filter=True, smtpd_port=None,
                      main=None):
    params = {"smtp-amavis_destination_recipient_limit": "2"}
    if global_filter:
        params["content_filter"] = "smtp-amavis:[127.0.0.1]:%d" % filter_port
    params.update(main or {})
    return Instance(name, main=params,
                    master_extra=amavis_master(filter_port, reinject_port, smtpd_port))


def submit(port, sender, rcpts, body="Subject: filter test\r\n\r\nhello filter\r\n"):
    """One message over SMTP; returns its queue id."""
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.test")
    assert s.mail(sender)[0] == 250
    for r in rcpts:
        code, text = s.rcpt(r)
        assert code == 250, (r, code, text)
    code, text = s.data(body.encode())
    s.quit()
    assert code == 250, (code, text)
    return re.search(QID_RX, text.decode()).group(1)


def sent_to_filter_rx(qid, rcpt, filter_port):
    return (r"postfix/smtp\[\d+\]: %s: to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, "
            r"delay=[\d.]+, delays=[\d./]+, dsn=2\.0\.0, status=sent "
            r"\(250 2\.0\.0 Ok: queued as ([0-9A-F]+)\)" % (qid, re.escape(rcpt), filter_port))


def test_filter_pass_and_reinject():
    fport, rport = free_port(), free_port()
    with FilterServer(fport, reinject=rport) as flt, \
            filtered_instance("filter", fport, rport) as inst:
        inst.start()
        wait_for(lambda: inst.smtp_ready() and port_open(rport), 20, "re-injection smtpd")
        qid = submit(inst.port, "phjonas@example.test",
                     ["phedison@example.test", "phalice@example.test", "phjonas@example.test"])
        for user in ("phedison", "phalice", "phjonas"):
            box = inst.wait_mbox(user, "hello filter")
            assert box.count(FILTER_HEADER) == 1, box
        # one message to the filter, in two requests (recipient limit 2), no loop
        time.sleep(1)
        assert len(flt.transactions) == 2, flt.transactions
        assert sorted(sum((t["accepted"] for t in flt.transactions), [])) == \
            ["phalice@example.test", "phedison@example.test", "phjonas@example.test"]
        new_id = inst.wait_log(sent_to_filter_rx(qid, "phedison@example.test", fport)).group(1)
        log = inst.log()
        assert new_id != qid
        for rx in (r"postfix/smtpd\[\d+\]: %s: client=\S+\[127\.0\.0\.1\]" % new_id,
                   r"postfix/qmgr\[\d+\]: %s: from=<phjonas@example\.test>, size=\d+, nrcpt=\d \(queue active\)" % new_id,
                   r"postfix/local\[\d+\]: %s: to=<phedison@example\.test>, relay=local, .*status=sent" % new_id,
                   r"postfix/qmgr\[\d+\]: %s: removed" % qid):
            assert re.search(rx, log), "no /%s/ in\n%s" % (rx, log)
        # the re-injected message is not filtered again
        assert not re.search(r"%s: to=<[^>]*>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d" % (new_id, fport), log)
        assert len(re.findall(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d," % fport, log)) == 3, log


def test_local_submission_is_filtered_too():
    """content_filter applies to mail from pickup (sendmail, cron) as to
    mail from smtpd: Postfix's pickup hands the filter to cleanup."""
    from posthorn import run, sbin
    fport, rport = free_port(), free_port()
    with FilterServer(fport, reinject=rport) as flt, \
            filtered_instance("filterlocal", fport, rport) as inst:
        inst.start()
        wait_for(lambda: inst.smtp_ready() and port_open(rport), 20, "re-injection smtpd")
        p = run([sbin("sendmail"), "-c", inst.conf, "phedison"],
                input="Subject: cron output\n\nfrom cron\n")
        assert p.returncode == 0, p.stderr
        box = inst.wait_mbox("phedison", "from cron")
        assert box.count(FILTER_HEADER) == 1, box
        assert len(flt.transactions) == 1, flt.transactions


def test_filter_down_then_flush():
    fport, rport = free_port(), free_port()
    with filtered_instance("filterdown", fport, rport) as inst:
        inst.start()
        qid = submit(inst.port, "phjonas@example.test", ["phedison@example.test"])
        inst.wait_log(r"%s: to=<phedison@example\.test>, relay=none, .*status=deferred "
                      r"\(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused\)" % (qid, fport))
        q = inst.cmd("postqueue", "-p").stdout
        assert qid in q and "Connection refused" in q, q
        assert FILTER_HEADER not in inst.mbox("phedison")
        with FilterServer(fport, reinject=rport) as flt:
            assert inst.cmd("postfix", "flush").returncode == 0
            box = inst.wait_mbox("phedison", "hello filter", timeout=30)
            assert box.count(FILTER_HEADER) == 1, box
            # smtp logs its "sent" after the filter's 250, which comes after the
            # re-injection: the re-injected copy can be delivered first
            inst.wait_log(sent_to_filter_rx(qid, "phedison@example.test", fport))
            assert len(flt.transactions) == 1


def test_filter_rejects_bounces_to_sender():
    fport, rport = free_port(), free_port()
    with FilterServer(fport, reinject=rport, mode="reject") as flt, \
            filtered_instance("filterrej", fport, rport) as inst:
        inst.start()
        qid = submit(inst.port, "phjonas@example.test", ["phedison@example.test"])
        inst.wait_log(r"%s: to=<phedison@example\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*"
                      r"dsn=5\.7\.0, status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: "
                      r"554 5\.7\.0 Rejected by test filter \(in reply to end of DATA command\)\)"
                      % (qid, fport))
        box = inst.wait_mbox("phjonas", "Rejected by test filter", timeout=30)
        assert "Undelivered Mail Returned to Sender" in box, box
        assert FILTER_HEADER not in box          # the bounce itself is not filtered
        assert inst.mbox("phedison") == ""
        time.sleep(0.5)
        assert len(flt.transactions) == 1


def test_filter_on_one_smtpd_service_only():
    fport, rport, sport = free_port(), free_port(), free_port()
    with FilterServer(fport, reinject=rport) as flt, \
            filtered_instance("filtersvc", fport, rport, global_filter=False,
                              smtpd_port=sport) as inst:
        inst.start()
        wait_for(lambda: port_open(sport), 20, "filtering smtpd")
        direct = submit(inst.port, "phjonas@example.test", ["phalice@example.test"],
                        "Subject: direct\r\n\r\nnot filtered\r\n")
        inst.wait_log(r"%s: to=<phalice@example\.test>, relay=local, .*status=sent" % direct)
        assert FILTER_HEADER not in inst.mbox("phalice")
        qid = submit(sport, "phjonas@example.test", ["phedison@example.test"])
        box = inst.wait_mbox("phedison", "hello filter")
        assert box.count(FILTER_HEADER) == 1, box
        inst.wait_log(sent_to_filter_rx(qid, "phedison@example.test", fport))
        assert len(flt.transactions) == 1


def test_header_checks_filter_overrides_content_filter():
    """A FILTER action of header_checks wins over content_filter."""
    aport, bport, rport = free_port(), free_port(), free_port()
    with FilterServer(aport, reinject=rport) as fa, FilterServer(bport, reinject=rport) as fb:
        inst = filtered_instance("filterhdr", aport, rport, main={
            "header_checks": "regexp:/dev/null"})
        with inst:
            with open(inst.conf + "/header_checks", "w") as f:
                f.write("/^Subject: scan me/ FILTER smtp-amavis:[127.0.0.1]:%d\n" % bport)
            inst.params["header_checks"] = "regexp:%s/header_checks" % inst.conf
            inst.write_main()
            inst.start()
            plain = submit(inst.port, "phjonas@example.test", ["phalice@example.test"],
                           "Subject: plain\r\n\r\nplain body\r\n")
            special = submit(inst.port, "phjonas@example.test", ["phedison@example.test"],
                             "Subject: scan me\r\n\r\nspecial body\r\n")
            assert inst.wait_mbox("phalice", "plain body").count(FILTER_HEADER) == 1
            assert inst.wait_mbox("phedison", "special body").count(FILTER_HEADER) == 1
            # the re-injected copy can be delivered before smtp logs "sent"
            inst.wait_log(sent_to_filter_rx(plain, "phalice@example.test", aport))
            inst.wait_log(sent_to_filter_rx(special, "phedison@example.test", bport))
            log = inst.log()
            assert re.search(r"postfix/cleanup\[\d+\]: %s: filter: header Subject: scan me from "
                             r"\S+\[127\.0\.0\.1\];.*: smtp-amavis:\[127\.0\.0\.1\]:%d" % (special, bport), log), log
            assert [t["accepted"] for t in fa.transactions] == [["phalice@example.test"]]
            assert [t["accepted"] for t in fb.transactions] == [["phedison@example.test"]]


def test_access_filter_action():
    """FILTER from an smtpd access table, global content_filter empty."""
    fport, rport = free_port(), free_port()
    with FilterServer(fport, reinject=rport) as flt:
        inst = filtered_instance("filteracc", fport, rport, global_filter=False)
        with inst:
            with open(inst.conf + "/rcpt_access", "w") as f:
                f.write("/^phalice@/ FILTER smtp-amavis:[127.0.0.1]:%d\n" % fport)
            inst.params["smtpd_recipient_restrictions"] = (
                "check_recipient_access regexp:%s/rcpt_access, permit_mynetworks, "
                "reject_unauth_destination" % inst.conf)
            inst.write_main()
            inst.start()
            qid = submit(inst.port, "phjonas@example.test", ["phalice@example.test"])
            other = submit(inst.port, "phjonas@example.test", ["phedison@example.test"],
                           "Subject: other\r\n\r\nother body\r\n")
            assert inst.wait_mbox("phalice", "hello filter").count(FILTER_HEADER) == 1
            assert FILTER_HEADER not in inst.wait_mbox("phedison", "other body")
            inst.wait_log(sent_to_filter_rx(qid, "phalice@example.test", fport))
            log = inst.log()
            assert not re.search(r"%s: to=<[^>]*>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d" % (other, fport), log)
            assert len(flt.transactions) == 1


AMAVISD = "/usr/sbin/amavisd"
AMAVISD_CONF = """use strict;
$MYHOME = '%(home)s';
$TEMPBASE = "$MYHOME/tmp";
$db_home = "$MYHOME/db";
$helpers_home = $MYHOME;
$pid_file = "$MYHOME/amavisd.pid";
$lock_file = "$MYHOME/amavisd.lock";
$daemon_user = 'amavis';
$daemon_group = 'amavis';
$myhostname = 'mail.example.test';
$mydomain = 'example.test';
$inet_socket_bind = '127.0.0.1';
$inet_socket_port = %(fport)d;
@inet_acl = qw(127.0.0.1);
$unix_socketname = undef;
$forward_method = 'smtp:[127.0.0.1]:%(rport)d';
$notify_method = $forward_method;
$max_servers = 2;
$enable_db = 0;
$enable_zmq = 0;
$enable_dkim_verification = 0;
$enable_dkim_signing = 0;
@bypass_virus_checks_maps = (1);
@bypass_spam_checks_maps = (1);
@av_scanners = ();
@av_scanners_backup = ();
$do_syslog = 0;
$LOGFILE = "$MYHOME/amavis.log";
@local_domains_maps = (['.example.test']);
1;
"""


@contextlib.contextmanager
def amavisd(fport, rport):
    """Debian's amavisd-new on fport, re-injecting to rport, from a scratch
    configuration (AMAVISD_CONF); start it after the instance. Yields its
    home directory (amavis.log is there)."""
    # make check installs amavisd-new (tests/deps.sh): a missing one is a failure
    assert os.path.exists(AMAVISD), "amavisd-new is not installed (apt-get install amavisd-new)"
    top = tempfile.mkdtemp(prefix="posthorn-amavis-", dir="/tmp")
    etc, home = os.path.join(top, "etc"), os.path.join(top, "home")
    for d in (etc, home, home + "/tmp", home + "/db"):
        os.makedirs(d)
    os.chmod(top, 0o755)
    os.chmod(etc, 0o755)                 # amavisd refuses a config its user can write
    with open(os.path.join(etc, "amavisd.conf"), "w") as f:
        f.write(AMAVISD_CONF % {"home": home, "fport": fport, "rport": rport})
    subprocess.run(["chown", "-R", "amavis:amavis", home], check=True)
    amavis = None
    try:
        amavis = subprocess.Popen([AMAVISD, "-c", os.path.join(etc, "amavisd.conf"), "foreground"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(fport) or amavis.poll() is not None, 60, "amavisd")
        assert amavis.poll() is None, "amavisd exited with %s" % amavis.returncode
        yield home
    finally:
        if amavis is not None and amavis.poll() is None:
            amavis.terminate()
            amavis.wait(30)
        shutil.rmtree(top, ignore_errors=True)


def amavis_sent_rx(qid, fport, rport):
    """qid's to= line for the hand-over to amavisd; group 1: the new queue id."""
    return (r"%s: to=<phedison@example\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*"
            r"status=sent \(250 2\.0\.0 from MTA\(smtp:\[127\.0\.0\.1\]:%d\): "
            r"250 2\.0\.0 Ok: queued as ([0-9A-F]+)\)" % (qid, fport, rport))


def test_amavisd_new():
    """Debian's amavisd-new as the filter, configured as README.postfix says."""
    fport, rport = free_port(), free_port()
    with filtered_instance("amavis", fport, rport) as inst:
        inst.start()
        with amavisd(fport, rport):
            qid = submit(inst.port, "phjonas@example.test", ["phedison@example.test"])
            box = inst.wait_mbox("phedison", "hello filter", timeout=60)
            assert len(re.findall(r"\(amavis, port %d\) with ESMTP" % fport, box)) == 1, box
            new_id = inst.wait_log(amavis_sent_rx(qid, fport, rport)).group(1)
            inst.wait_log(r"%s: to=<phedison@example\.test>, relay=local, .*status=sent" % new_id)


def test_amavisd_new_xforward():
    """XFORWARD through the real amavisd-new, as README.postfix sets it up:
    smtp_send_xforward_command = yes on smtp-amavis, and
    smtpd_authorized_xforward_hosts on the re-injection listener. amavisd
    logs the original client's address and queue id, passes them on, and
    the re-injection smtpd logs them as Postfix does ("client=...,
    orig_queue_id=..., orig_client=..."). The original client is
    127.0.0.2 so that it differs from amavisd's own 127.0.0.1."""
    fport, rport = free_port(), free_port()
    master = amavis_master(fport, rport).replace(
        "    -o content_filter=\n",
        "    -o content_filter=\n    -o smtpd_authorized_xforward_hosts=127.0.0.0/8\n")
    with Instance("amavis-xf", main={"content_filter": "smtp-amavis:[127.0.0.1]:%d" % fport},
                  master_extra=master) as inst:
        inst.start()
        with amavisd(fport, rport) as home:
            s = Session(inst.port, source="127.0.0.2")
            s.reply()
            s.cmd("EHLO client.test")
            assert s.cmd("MAIL FROM:<phjonas@example.test>")[0].startswith("250")
            assert s.cmd("RCPT TO:<phedison@example.test>")[0].startswith("250")
            assert s.cmd("DATA")[0].startswith("354")
            r = s.cmd("Subject: xforward\r\n\r\nhello filter\r\n.")
            s.cmd("QUIT")
            qid = re.search(QID_RX, r[0]).group(1)
            inst.wait_mbox("phedison", "hello filter", timeout=60)
            new_id = inst.wait_log(amavis_sent_rx(qid, fport, rport)).group(1)
            # the re-injection names the original client and queue id
            inst.wait_log(r"postfix/smtpd\[\d+\]: %s: client=\S+\[127\.0\.0\.1\], "
                          r"orig_queue_id=%s, orig_client=unknown\[127\.0\.0\.2\]$" % (new_id, qid))
            # amavisd-new logged them too
            with open(os.path.join(home, "amavis.log"), errors="replace") as f:
                alog = f.read()
            assert re.search(r"\[127\.0\.0\.2\]:\d+ .*<phjonas@example\.test> -> "
                             r"<phedison@example\.test>.*Queue-ID: %s" % qid, alog), alog
            box = inst.mbox("phedison")
            assert "from client.test (unknown [127.0.0.2])" in box, box
