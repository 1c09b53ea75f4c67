"""
test_core.py - the core mail path, end to end: SMTP in, local delivery out.
"""
import os
import pwd
import re
import signal
import subprocess
import time

from posthorn import Instance, Session, USER_HOME, run, wait_for

MSG_ID_RX = r"queued as ([0-9A-F]+)"


def classic_session(inst, sender="jonas", rcpt="phedison@example.test", body=("hello",)):
    s = Session(inst.port)
    assert s.reply() == ["220 mail.example.test ESMTP Postfix"]
    assert s.cmd("HELO test") == ["250 mail.example.test"]
    assert s.cmd("MAIL FROM: %s" % sender) == ["250 2.1.0 Ok"]
    assert s.cmd("RCPT TO: %s" % rcpt) == ["250 2.1.5 Ok"]
    assert s.cmd("DATA") == ["354 End data with <CR><LF>.<CR><LF>"]
    s.send("".join(line + "\r\n" for line in body) + ".\r\n")
    r = s.reply()
    assert len(r) == 1 and re.match(r"^250 2\.0\.0 Ok: queued as [0-9A-F]{6,}$", r[0]), r
    assert s.cmd("QUIT") == ["221 2.0.0 Bye"]
    s.close()
    return re.search(MSG_ID_RX, r[0]).group(1)


def test_classic_session_to_mbox():
    with Instance("classic") as inst:
        inst.start()
        qid = classic_session(inst, "jonas@example.test", "phedison@example.test",
                              ("a body with no headers", "second line"))
        box = inst.wait_mbox("phedison", "second line")
        assert box.startswith("From jonas@example.test "), box[:80]
        assert "\nReturn-Path: <jonas@example.test>\n" in box or box.split("\n")[1] == "Return-Path: <jonas@example.test>"
        assert "X-Original-To: phedison@example.test" in box
        assert "Delivered-To: phedison@example.test" in box
        assert re.search(r"Received: from test \(.*\)\n\tby mail\.example\.test \(Postfix\) with SMTP id %s" % qid, box), box
        assert re.search(r"Message-Id: <\d{14}\.%s@mail\.example\.test>" % qid, box), box
        # Postfix pads the day with a space: "Sun,  6 Dec 2026", "Wed, 16 Dec 2026"
        date = r"\w{3}, [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\S+\)"
        assert re.search(r"\nDate: %s\n" % date, box), box
        assert re.search(r"\n\tfor <phedison@example\.test>; %s\n" % date, box), box
        st = os.stat(os.path.join(inst.spool, "phedison"))
        assert st.st_uid == pwd.getpwnam("phedison").pw_uid
        log = inst.wait_log(r"%s: removed" % qid) and inst.log()
        for rx in (r"postfix/smtpd\[\d+\]: connect from ",
                   r"postfix/smtpd\[\d+\]: %s: client=" % qid,
                   r"postfix/cleanup\[\d+\]: %s: message-id=<" % qid,
                   r"postfix/qmgr\[\d+\]: %s: from=<jonas@example.test>, size=\d+, nrcpt=1 \(queue active\)" % qid,
                   r"postfix/local\[\d+\]: %s: to=<phedison@example.test>, relay=local, delay=[\d.]+, "
                   r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, status=sent \(delivered to mailbox\)" % qid,
                   r"postfix/qmgr\[\d+\]: %s: removed" % qid):
            assert re.search(rx, log), "no log line /%s/ in:\n%s" % (rx, log)


def test_unqualified_sender_is_qualified():
    with Instance("qualify") as inst:
        inst.start()
        classic_session(inst, "jonas", "phedison@example.test")
        box = inst.wait_mbox("phedison", "hello")
        assert box.startswith("From jonas@mail.example.test "), box[:80]


def test_maildir_delivery():
    with Instance("maildir", main={"home_mailbox": "Maildir/"}) as inst:
        inst.start()
        classic_session(inst, "jonas@example.test", "phedison@example.test", ("maildir body",))
        new = os.path.join(USER_HOME, "phedison", "Maildir", "new")
        files = wait_for(lambda: os.path.isdir(new) and os.listdir(new), 20, "maildir file")
        path = os.path.join(new, files[0])
        assert "maildir body" in open(path).read()
        uid = pwd.getpwnam("phedison").pw_uid
        assert os.stat(path).st_uid == uid
        run(["rm", "-rf", os.path.join(USER_HOME, "phedison", "Maildir")])


def test_alias_fans_out():
    with Instance("alias") as inst:
        inst.write_aliases("postmaster: root\nteam: phedison, phjonas\n")
        inst.start()
        classic_session(inst, "jonas@example.test", "team@example.test", ("to the team",))
        inst.wait_mbox("phedison", "to the team")
        box = inst.wait_mbox("phjonas", "to the team")
        assert "X-Original-To: team@example.test" in box
        # like Postfix, local qualifies the alias targets with $myorigin
        assert "Delivered-To: phjonas@mail.example.test" in box


def test_unknown_user_rejected():
    with Instance("unknown") as inst:
        inst.start()
        s = inst.session(helo="HELO test", sender="jonas@example.test")
        assert s.rcpt_quit("nosuchuser@example.test") == [
            "550 5.1.1 <nosuchuser@example.test>: Recipient address rejected: "
            "User unknown in local recipient table"]
        inst.wait_log(r"NOQUEUE: reject: RCPT from \S+\[127\.0\.0\.1\]: 550 5\.1\.1 "
                      r"<nosuchuser@example.test>: Recipient address rejected: User unknown "
                      r"in local recipient table; from=<jonas@example.test> "
                      r"to=<nosuchuser@example.test> proto=SMTP helo=<test>")


def test_relay_denied_outside_mynetworks():
    with Instance("relay", main={"mynetworks": "127.0.0.1/32"}) as inst:
        inst.start()
        s = inst.session(source="127.0.0.2", helo="EHLO outside.example",
                         sender="spammer@outside.example")
        assert s.rcpt_quit("victim@elsewhere.example") == [
            "454 4.7.1 <victim@elsewhere.example>: Relay access denied"]
        # the same from inside mynetworks is accepted for relaying
        s = inst.session(helo="EHLO inside.example", sender="me@example.test")
        assert s.rcpt_quit("friend@elsewhere.example") == ["250 2.1.5 Ok"]


def test_relay_rejected_with_reject_unauth_destination():
    main = {"mynetworks": "127.0.0.1/32",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"}
    with Instance("relay5", main=main) as inst:
        inst.start()
        s = inst.session(source="127.0.0.2", helo="EHLO outside.example",
                         sender="spammer@outside.example")
        assert s.cmd("RCPT TO:<victim@elsewhere.example>") == [
            "554 5.7.1 <victim@elsewhere.example>: Relay access denied"]
        # local mail from outside is fine
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")


def test_ehlo_keywords():
    with Instance("ehlo") as inst:
        inst.start()
        s = inst.session()
        r = s.cmd("EHLO client.example")
        assert r[0] == "250-mail.example.test"
        keys = [l[4:] for l in r[1:]]
        assert keys == ["PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES",
                        "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"], keys
        s.cmd("QUIT")


def test_pipelined_session():
    with Instance("pipe") as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example")
        s.send("MAIL FROM:<jonas@example.test>\r\nRCPT TO:<phedison@example.test>\r\n"
               "RCPT TO:<phjonas@example.test>\r\nDATA\r\n")
        assert s.reply() == ["250 2.1.0 Ok"]
        assert s.reply() == ["250 2.1.5 Ok"]
        assert s.reply() == ["250 2.1.5 Ok"]
        assert s.reply() == ["354 End data with <CR><LF>.<CR><LF>"]
        s.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        assert s.reply()[0].startswith("250 2.0.0 Ok: queued as ")
        assert s.reply() == ["221 2.0.0 Bye"]
        inst.wait_mbox("phedison", "Subject: pipelined")
        inst.wait_mbox("phjonas", "Subject: pipelined")


def smuggle(inst, source):
    """Send a message with an embedded bare-LF end-of-data; return the replies."""
    s = inst.session(source=source, helo="EHLO client.example", sender="jonas@example.test")
    s.cmd("RCPT TO:<phedison@example.test>")
    s.cmd("DATA")
    # "\n.\n" must not end the message (SMTP smuggling)
    s.send("Subject: smuggle\r\n\r\nbefore\n.\nMAIL FROM:<evil@example.test>\r\n"
           "after\r\n.\r\n")
    replies = [s.reply()]
    try:
        replies.append(s.cmd("QUIT"))
    except (EOFError, OSError):
        pass
    s.close()
    return replies


def test_bare_lf_cannot_end_data():
    # smtpd_forbid_bare_newline = normalize (the default) outside the exclusions ($mynetworks)
    with Instance("smuggle", main={"mynetworks": "127.0.0.1/32"}) as inst:
        inst.start()
        r = smuggle(inst, "127.0.0.2")
        assert r[0][0].startswith("250 2.0.0 Ok: queued as "), r
        assert r[1] == ["221 2.0.0 Bye"], r
        box = inst.wait_mbox("phedison", "after")
        assert "MAIL FROM:<evil@example.test>" in box


def test_bare_lf_rejected():
    main = {"mynetworks": "127.0.0.1/32", "smtpd_forbid_bare_newline": "reject"}
    with Instance("barelf", main=main) as inst:
        inst.start()
        r = smuggle(inst, "127.0.0.2")
        assert r[0][0] == "550 5.5.2 mail.example.test Error: bare <LF> received", r
        wait_for(lambda: inst.queue_files("incoming") == [] and inst.queue_files("active") == [],
                 10, "the rejected queue file to go")
        assert inst.mbox("phedison") == ""


def test_message_size_limit():
    with Instance("size", main={"message_size_limit": "20000"}) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example")
        assert s.cmd("MAIL FROM:<jonas@example.test> SIZE=30000") == [
            "552 5.3.4 Message size exceeds fixed limit"]
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
        s.cmd("RCPT TO:<phedison@example.test>")
        s.cmd("DATA")
        s.send(("x" * 70 + "\r\n") * 400 + ".\r\n")
        r = s.reply()
        assert r == ["552 5.3.4 Error: message file too big"], r
        s.cmd("QUIT")


def test_daemons_run_as_mail_owner():
    with Instance("ps") as inst:
        inst.start()
        # make smtpd, cleanup, qmgr exist: qmgr runs always, the others on demand
        s = inst.session(helo="HELO test", sender="jonas@example.test")
        s.cmd("RCPT TO:<phedison@example.test>")
        out = run(["ps", "-eo", "user:20,args"]).stdout
        mine = [l for l in out.splitlines() if inst.conf in l or "posthorn" in l]

        def owner(prog):
            for l in out.splitlines():
                f = l.split(None, 1)
                if len(f) == 2 and re.search(r"(^|/)%s( |$)" % prog, f[1]) and inst.conf in f[1]:
                    return f[0]
            return None
        assert owner("master") == "root", mine
        assert owner("smtpd") == "postfix", mine
        assert owner("cleanup") == "postfix", mine
        assert owner("qmgr") == "postfix", mine
        s.cmd("QUIT")


def test_kill_qmgr_and_local_loses_nothing():
    # A local killed before it reported ready (slow start-up, as under ASan)
    # makes master throttle the service ("bad command startup"): keep that
    # shorter than the waits below; the test is about losing nothing.
    with Instance("kill", main={"mailbox_command": "/bin/sleep 2",
                                "service_throttle_time": "5s"}) as inst:
        inst.start()
        # mailbox_command makes each delivery slow, so mail is in flight.
        ids = [classic_session(inst, "jonas@example.test", "phedison@example.test",
                               ("message %d" % i,)) for i in range(3)]
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: from=" % ids[0])
        for prog in ("local", "qmgr"):
            subprocess.run(["pkill", "-9", "-f", "posthorn/%s .*%s" % (prog, inst.conf)])
            time.sleep(0.5)
        # master restarts qmgr, which recovers active/. A delivery whose local
        # was killed is deferred ("unknown mail transport error"), as with
        # Postfix; a flush retries it now. Every message ends delivered.
        time.sleep(2)
        inst.cmd("postfix", "flush", check=True)
        for qid in ids:
            inst.wait_log(r"%s: removed" % qid, timeout=60)
        for q in ("incoming", "active", "deferred"):
            assert inst.queue_files(q) == [], (q, inst.queue_files(q))


def test_postfix_start_stop_status():
    with Instance("ctl") as inst:
        p = inst.cmd("postfix", "status")
        assert p.returncode == 1 and "is not running" in p.stderr, p
        p = inst.cmd("postfix", "stop")
        assert p.returncode == 1 and "is not running" in p.stderr, p
        inst.start()
        p = inst.cmd("postfix", "status")
        assert p.returncode == 0 and re.search(r"is running: PID: \d+", p.stderr), p
        p = inst.cmd("postfix", "start")
        assert p.returncode == 1 and "already running" in p.stderr, p
        pidfile = os.path.join(inst.queue, "pid", "master.pid")
        assert int(open(pidfile).read().strip()) > 1
        for d in ("incoming", "active", "deferred", "hold", "corrupt", "maildrop", "private", "public"):
            assert os.path.isdir(os.path.join(inst.queue, d)), d
        assert pwd.getpwuid(os.stat(os.path.join(inst.queue, "incoming")).st_uid).pw_name == "postfix"
        inst.stop()
        p = inst.cmd("postfix", "status")
        assert p.returncode == 1
        assert not os.path.exists(pidfile)
