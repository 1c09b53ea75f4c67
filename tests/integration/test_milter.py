"""
test_milter.py - smtpd_milters and non_smtpd_milters against real milters:
tests/milter/test_milter.c on Debian's libmilter (built here, started per
test on a loopback port) for the verdicts and every modification, and
OpenDKIM for signing and verifying.
"""
import atexit
import os
import re
import shutil
import subprocess
import tempfile
import time

from posthorn import Instance, REPO, free_port, port_open, sbin, run, wait_for, queued_id

BUILD = None


def milter_binary():
    """tests/milter/test_milter.c, compiled once per run into a temp dir."""
    global BUILD
    if BUILD is None:
        BUILD = tempfile.mkdtemp(prefix="posthorn-milter-build-", dir="/tmp")
        atexit.register(shutil.rmtree, BUILD, True)
        subprocess.run(["cc", "-Wall", "-O1", "-o", os.path.join(BUILD, "test_milter"),
                        os.path.join(REPO, "tests/milter/test_milter.c"),
                        "-lmilter", "-lpthread"], check=True)
    return os.path.join(BUILD, "test_milter")


class Helper:
    """A helper process with a temp dir; stopped and removed on exit."""
    proc = None
    dir = None
    port = None

    @property
    def spec(self):
        return "inet:127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class TestMilter(Helper):
    """A running test_milter; the log file records what it saw."""

    def __init__(self, modes, **opts):
        self.dir = tempfile.mkdtemp(prefix="posthorn-milter-", dir="/tmp")
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "events")
        argv = [milter_binary(), "-p", "inet:%d@127.0.0.1" % self.port, "-m", modes,
                "-l", self.logfile]
        for k, v in opts.items():
            argv += ["-" + k, str(v)]
        self.proc = subprocess.Popen(argv)
        wait_for(lambda: port_open(self.port), 10, "test milter on port %d" % self.port)

    def events(self):
        try:
            with open(self.logfile) as f:
                return f.read()
        except FileNotFoundError:
            return ""


def milter_instance(name, milter_spec, param="smtpd_milters", **extra):
    inst = Instance(name)
    inst.params[param] = milter_spec
    inst.params.update(extra)
    inst.write_main()
    return inst


MSG = ("From: jonas@example.test\r\nTo: phedison@example.test\r\n"
       "Subject: original\r\nX-Delete-Me: please\r\n\r\nthe body\r\n")


def send_qid(inst):
    """send() that must be queued; the queue id."""
    r = send(inst)
    m = re.search(r"queued as ([0-9A-F]+)", r)
    assert m, r
    return m.group(1)


def send(inst, rcpts=("phedison@example.test",), body=MSG, sender="jonas@example.test"):
    """One message; returns the reply to the final dot (or the first failure)."""
    s = inst.session(helo="EHLO client.example")
    r = s.cmd("MAIL FROM:<%s>" % sender)
    if not r[0].startswith("250"):
        return r[0]
    ok = 0
    for rcpt in rcpts:
        ok += s.cmd("RCPT TO:<%s>" % rcpt)[0].startswith("250")
    if not ok:
        return "no recipients"
    r = s.cmd("DATA")
    if not r[0].startswith("354"):
        return r[0]
    s.send(body + ".\r\n")
    r = s.reply()
    s.cmd("QUIT")
    s.close()
    return r[0]


def test_milter_events_and_macros():
    # the default milter_connect_macros (no client_addr), then a list with it
    with TestMilter("log") as m, milter_instance("milt-ev0", m.spec) as inst:
        inst.start()
        assert send(inst).startswith("250 2.0.0 Ok: queued as")
        inst.wait_mbox("phedison", r"^Subject: original$")
        assert re.search(r"^connect \S+ j=mail\.example\.test \{daemon_name\}=mail\.example\.test "
                         r"\{daemon_addr\}=127\.0\.0\.1 "
                         r"v=\S+ \S+ _=\S+ \[127\.0\.0\.1\] \{client_addr\}=\(unset\)",
                         m.events(), re.M), m.events()
    with TestMilter("log") as m, milter_instance(
            "milt-ev", m.spec, milter_connect_macros="j {daemon_name} v _ {client_addr} {client_name}") as inst:
        inst.start()
        assert send(inst).startswith("250 2.0.0 Ok: queued as")
        inst.wait_mbox("phedison", r"^Subject: original$")
        ev = m.events()
        assert re.search(r"^connect \S+ j=mail\.example\.test "
                         r"\{daemon_name\}=mail\.example\.test \{daemon_addr\}=\(unset\) v=\S+ .*"
                         r"\{client_addr\}=127\.0\.0\.1 \{client_name\}=\S+$", ev, re.M), ev
        assert re.search(r"^helo client\.example$", ev, re.M), ev
        assert re.search(r"^mail <jonas@example\.test> .*\{mail_addr\}=jonas@example\.test", ev, re.M), ev
        assert re.search(r"^rcpt <phedison@example\.test> \{rcpt_addr\}=phedison@example\.test",
                         ev, re.M), ev
        assert re.search(r"^header Subject: original$", ev, re.M), ev
        assert re.search(r"^eoh", ev, re.M) and re.search(r"^body \d+", ev, re.M), ev
        assert re.search(r"^eom  i=[0-9A-F]+", ev, re.M), ev


def test_milter_reject_one_recipient():
    with TestMilter("reject-rcpt", r="phjonas") as m, milter_instance("milt-rcpt", m.spec) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
        assert s.cmd("RCPT TO:<phjonas@example.test>") == ["550 5.7.1 Command rejected"]
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        queued_id(s.data(MSG))
        s.cmd("QUIT")
        inst.wait_log(r"NOQUEUE: milter-reject: RCPT from \S+\[127\.0\.0\.1\]: "
                      r"550 5\.7\.1 Command rejected; from=<jonas@example\.test> "
                      r"to=<phjonas@example\.test> proto=ESMTP helo=<client\.example>")
        inst.wait_mbox("phedison", r"^Subject: original$")
        assert inst.mbox("phjonas") == ""


def test_milter_tempfail_at_connect():
    with TestMilter("tempfail-connect") as m, milter_instance("milt-conn", m.spec) as inst:
        inst.start()
        s = inst.session(helo=None)
        assert s.cmd("EHLO client.example")[0].startswith("451 4.7.1")
        assert s.cmd("MAIL FROM:<jonas@example.test>") == [
            "451 4.7.1 Service unavailable - try again later"]
        assert s.cmd("QUIT")[0].startswith("221")


def test_milter_discard_and_reply_code():
    with TestMilter("discard") as m, milter_instance("milt-disc", m.spec) as inst:
        inst.start()
        qid = send_qid(inst)
        inst.wait_log(r"%s: milter-discard: END-OF-MESSAGE from \S+\[127\.0\.0\.1\]: "
                      r"milter triggers DISCARD action; from=<jonas@example\.test> "
                      r"to=<phedison@example\.test> proto=ESMTP helo=<client\.example>" % qid)
    with TestMilter("reply-code") as m, milter_instance("milt-code", m.spec) as inst:
        inst.start()
        assert send(inst) == "554 5.7.0 custom milter reply"
        inst.wait_log(r": milter-reject: END-OF-MESSAGE from \S+\[127\.0\.0\.1\]: "
                      r"5\.7\.0 custom milter reply; from=<jonas@example\.test>")


def test_milter_header_and_body_edits():
    with TestMilter("headers,body,inject") as m, milter_instance("milt-hdr", m.spec) as inst:
        inst.start()
        assert send(inst).startswith("250 ")
        box = inst.wait_mbox("phedison", r"^X-Added: yes$")
        msg = inst.messages("phedison")[0]
        assert msg["Subject"] == "changed by milter", box
        assert msg["X-Delete-Me"] is None, box
        keys = msg.keys()         # local's Return-Path etc. come first
        assert keys.index("X-Inserted") + 1 == keys.index("Received"), keys
        assert msg.get_payload() == "replaced body\nline two\n", box
        # a header value cannot start another header or end the headers
        assert re.search(r"^X-Fold: one\n\tX-Injected: yes\n\tbody\?$", box, re.M), box
        assert msg["X-Injected"] is None, box


def test_milter_envelope_edits():
    with TestMilter("add-rcpt,del-rcpt,chgfrom", r="<phedison@example.test>",
                    n="<phalice@example.test>", f="<changed@example.test>") as m, \
            milter_instance("milt-env", m.spec) as inst:
        inst.start()
        assert send(inst, rcpts=("phedison@example.test", "phjonas@example.test")).startswith("250 ")
        inst.wait_mbox("phalice", r"^Return-Path: <changed@example\.test>$")
        inst.wait_mbox("phjonas", r"^Return-Path: <changed@example\.test>$")
        time.sleep(1)
        assert inst.mbox("phedison") == ""


def test_milter_quarantine_holds():
    with TestMilter("quarantine") as m, milter_instance("milt-q", m.spec) as inst:
        inst.start()
        qid = send_qid(inst)
        inst.wait_log(r"%s: milter-hold: END-OF-MESSAGE from \S+\[127\.0\.0\.1\]: "
                      r"milter triggers HOLD action" % qid)
        p = inst.cmd("postqueue", "-p")
        assert re.search(r"^%s!" % qid, p.stdout, re.M), p.stdout


def test_milter_down_default_action():
    port = free_port()
    spec = "inet:127.0.0.1:%d" % port
    with milter_instance("milt-down", spec) as inst:
        inst.start()
        s = inst.session()
        assert s.cmd("EHLO client.example") == [
            "451 4.7.1 Service unavailable - try again later"]
        assert s.cmd("MAIL FROM:<jonas@example.test>") == [
            "451 4.7.1 Service unavailable - try again later"]
        s.cmd("QUIT")
        inst.wait_log(r"warning: milter inet:127\.0\.0\.1:%d: can't connect" % port)
    with milter_instance("milt-down2", "{ %s, default_action=accept }" % spec) as inst:
        inst.start()
        assert send(inst).startswith("250 ")
        inst.wait_mbox("phedison", r"^Subject: original$")


def test_milter_timeout():
    with TestMilter("slow", s=5) as m, \
            milter_instance("milt-slow", "{ %s, content_timeout=2s }" % m.spec) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        assert s.data(MSG) == ["451 4.7.1 Service unavailable - try again later"]
        inst.wait_log(r"milter inet:127\.0\.0\.1:%d: timeout" % m.port)
        # cleanup told smtpd: the milter's late reply is never read as an answer
        time.sleep(3.5)
        assert s.cmd("MAIL FROM:<jonas@example.test>") == [
            "451 4.7.1 Service unavailable - try again later"]
        s.cmd("QUIT")


def test_non_smtpd_milters_sendmail():
    with TestMilter("headers,log") as m, \
            milter_instance("milt-local", m.spec, param="non_smtpd_milters") as inst:
        inst.start()
        p = run([sbin("sendmail"), "-c", inst.conf, "-f", "jonas@example.test",
                 "phedison@example.test"], input="Subject: original\n\nlocal body\n")
        assert p.returncode == 0, p.stderr
        inst.wait_mbox("phedison", r"^X-Added: yes$")
        assert re.search(r"^connect localhost", m.events(), re.M)
        assert re.search(r"^rcpt <phedison@example\.test>", m.events(), re.M)


# ---- OpenDKIM ---------------------------------------------------------------

def dkim_module():
    try:
        import dkim
    except ImportError:                         # Debian's python3-dkim, another python3
        import sys
        sys.path.append("/usr/lib/python3/dist-packages")
        import dkim
    return dkim


class OpenDKIM(Helper):
    """opendkim in the foreground with its own config and a fresh key."""

    def __init__(self, mode, extra=""):
        self.dir = tempfile.mkdtemp(prefix="posthorn-opendkim-", dir="/tmp")
        self.port = free_port()
        subprocess.run(["opendkim-genkey", "-D", self.dir, "-d", "example.test", "-s", "test"],
                       check=True)
        with open(os.path.join(self.dir, "test.txt")) as f:
            self.txt = "".join(re.findall(r'"([^"]*)"', f.read()))
        with open(os.path.join(self.dir, "test.private"), "rb") as f:
            self.private = f.read()
        keys = os.path.join(self.dir, "keys")
        with open(keys, "w") as f:
            f.write("test._domainkey.example.test %s\n" % self.txt)
        conf = os.path.join(self.dir, "opendkim.conf")
        with open(conf, "w") as f:
            f.write("Syslog no\nMode %s\nSocket inet:%d@127.0.0.1\nDomain example.test\n"
                    "Selector test\nKeyFile %s/test.private\nRequireSafeKeys false\n"
                    "Canonicalization relaxed/simple\nTestPublicKeys %s\nPidFile %s/pid\n%s"
                    % (mode, self.port, self.dir, keys, self.dir, extra))
        self.proc = subprocess.Popen(["opendkim", "-f", "-x", conf])
        wait_for(lambda: port_open(self.port), 10, "opendkim on port %d" % self.port)

    def dnsfunc(self, name, timeout=5):
        assert name in (b"test._domainkey.example.test.", "test._domainkey.example.test."), name
        return self.txt.encode()


def delivered_bytes(inst, user):
    """The first message in user's mailbox, as the bytes of the message, CRLF."""
    import mailbox
    box = mailbox.mbox(os.path.join(inst.spool, user), create=False)
    try:
        raw = box.get_bytes(box.keys()[0])
    finally:
        box.close()
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_opendkim_signs_outbound():
    dkim = dkim_module()
    with OpenDKIM("s") as dk, milter_instance("milt-dkim-s", dk.spec) as inst:
        inst.start()
        body = ("From: Jonas <jonas@example.test>\r\nTo: phedison@example.test\r\n"
                "Subject: signed by opendkim\r\n\r\nline one\r\nline two\r\n")
        assert send(inst, body=body).startswith("250 ")
        inst.wait_mbox("phedison", r"^DKIM-Signature: ")
        msg = delivered_bytes(inst, "phedison")
        assert re.search(rb"^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; "
                         rb"d=example\.test; s=test;\r\n\t", msg, re.M), msg
        assert dkim.verify(msg, dnsfunc=dk.dnsfunc), msg
        # the check is real: a changed body does not verify
        assert not dkim.verify(msg.replace(b"line two", b"line 2"), dnsfunc=dk.dnsfunc)


def test_opendkim_signs_local_submission():
    dkim = dkim_module()
    with OpenDKIM("s") as dk, \
            milter_instance("milt-dkim-l", dk.spec, param="non_smtpd_milters") as inst:
        inst.start()
        p = run([sbin("sendmail"), "-c", inst.conf, "-f", "jonas@example.test",
                 "phedison@example.test"],
                input="From: jonas@example.test\nSubject: local\n\nlocal body\n")
        assert p.returncode == 0, p.stderr
        inst.wait_mbox("phedison", r"^DKIM-Signature: ")
        assert dkim.verify(delivered_bytes(inst, "phedison"), dnsfunc=dk.dnsfunc)


def test_opendkim_verifies_inbound():
    dkim = dkim_module()
    with OpenDKIM("v", "InternalHosts 192.0.2.1\n") as dk, \
            milter_instance("milt-dkim-v", dk.spec) as inst:
        inst.start()
        msg = (b"From: someone@example.test\r\nTo: phedison@example.test\r\n"
               b"Subject: signed elsewhere\r\n\r\nhello\r\n")
        sig = dkim.sign(msg, b"test", b"example.test", dk.private,
                        include_headers=[b"from", b"to", b"subject"])
        assert send(inst, body=(sig + msg).decode()).startswith("250 ")
        box = inst.wait_mbox("phedison", r"^Authentication-Results: ")
        assert re.search(r"^Authentication-Results: mail\.example\.test;\n\tdkim=pass", box, re.M), box
        bad = msg.replace(b"hello", b"tampered")
        assert send(inst, body=(sig + bad).decode()).startswith("250 ")
        box = inst.wait_mbox("phedison", r"dkim=fail")


def test_milter_two_messages_one_session():
    """The milter connection goes on after cleanup used it: RSET, then two messages."""
    with TestMilter("headers,log") as m, milter_instance("milt-two", m.spec) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example")
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
        assert s.cmd("RSET") == ["250 2.0.0 Ok"]
        s.message("jonas@example.test", ["phedison@example.test"], MSG)
        s.message("jonas@example.test", ["phedison@example.test"],
                  MSG.replace("original", "second"))
        s.cmd("QUIT")
        box = inst.wait_mbox("phedison", r"(?s)X-Added: yes.*X-Added: yes")
        assert box.count("Subject: changed by milter") == 2, box
        ev = m.events()
        assert re.search(r"^abort", ev, re.M), ev
        assert ev.count("\neom ") == 2, ev


def test_milter_data_event_data_and_bdat():
    with TestMilter("tempfail-data") as m, milter_instance("milt-data", m.spec) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("DATA") == ["451 4.7.1 Service unavailable - try again later"]
        assert s.cmd("RSET") == ["250 2.0.0 Ok"]
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        chunk = MSG.encode()
        s.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
        assert s.reply() == ["451 4.7.1 Service unavailable - try again later"]
        assert s.cmd("NOOP") == ["250 2.0.0 Ok"]           # still in sync
        s.cmd("QUIT")
        inst.wait_log(r"milter-reject: DATA from \S+\[127\.0\.0\.1\]: 451 4\.7\.1 ")
        inst.wait_log(r"milter-reject: BDAT from \S+\[127\.0\.0\.1\]: 451 4\.7\.1 ")


def test_non_smtpd_milter_reject_after_another_milters_edits_bounces():
    """A second milter rejects what the first one changed (a recipient added,
    the file rebuilt): the local submission bounces, every recipient of the
    rebuilt file is bounced, none delivered."""
    with TestMilter("add-rcpt,headers", n="<phalice@example.test>") as m1, TestMilter("reply-code") as m2, \
            milter_instance("milt-bnc", "%s, %s" % (m1.spec, m2.spec),
                            param="non_smtpd_milters") as inst:
        inst.start()
        p = run([sbin("sendmail"), "-c", inst.conf, "-f", "phjonas@example.test",
                 "phedison@example.test", "root@example.test"],
                input="Subject: original\n\nlocal body\n")
        assert p.returncode == 0, p.stderr
        inst.wait_log(r"to=<phalice@example\.test>, .*status=bounced")
        inst.wait_log(r"to=<root@example\.test>, .*status=bounced")
        inst.wait_log(r"to=<phedison@example\.test>, .*status=bounced")
        inst.wait_mbox("phjonas", r"custom milter reply")
        inst.wait_log(r"to=<phalice@example\.test>, .*dsn=5\.7\.0, status=bounced "
                      r"\(custom milter reply\)")
        time.sleep(1)
        assert not re.search(r"to=<(phedison|phalice|root)@.*status=sent", inst.log()), inst.log()
        assert inst.queue_files("corrupt") == []


# ---- rspamd's milter proxy ------------------------------------------------------

class Rspamd(Helper):
    """rspamd (Debian's stock configuration) with a private LOCAL_CONFDIR: the
    proxy worker in milter mode with self_scan on a free port, a test rule
    that scores Subject: REJECTME over the reject threshold, and
    milter_headers adding X-Spam-Status to every message."""

    FILES = {
        "override.d/worker-normal.inc": 'bind_socket = "127.0.0.1:%(normal)d"; count = 1;\n',
        "override.d/worker-controller.inc": 'bind_socket = "127.0.0.1:%(ctl)d"; count = 1;\n',
        "override.d/worker-proxy.inc": 'bind_socket = "127.0.0.1:%(port)d"; milter = yes;\n'
                                       'timeout = 60s; count = 1;\n'
                                       'upstream "local" { default = yes; self_scan = yes; }\n',
        "override.d/logging.inc": 'type = "console"; level = "error";\n',
        "override.d/options.inc": 'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; '
                                  'retransmits = 1; }\n',
        "local.d/milter_headers.conf": 'use = ["x-spam-status"]; skip_local = false;\n'
                                       'skip_authenticated = false;\n',
        "rspamd.local.lua": "rspamd_config.POSTHORN_TEST_SPAM = {\n"
                            "  callback = function(task)\n"
                            "    local s = task:get_header('Subject')\n"
                            "    return s ~= nil and s:find('REJECTME') ~= nil\n"
                            "  end,\n  score = 50.0,\n  description = 'posthorn test rule',\n}\n",
    }

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="posthorn-rspamd-", dir="/tmp")
        self.port = free_port()
        ports = {"port": self.port, "normal": free_port(), "ctl": free_port()}
        local = os.path.join(self.dir, "local")
        for name, text in self.FILES.items():
            path = os.path.join(local, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text % ports if "%(" in text else text)
        for d in ("db", "run", "log"):
            os.makedirs(os.path.join(self.dir, d))
        argv = ["rspamd", "-f", "-i", "-u", "root", "-g", "root", "-c", "/etc/rspamd/rspamd.conf",
                "--var=LOCAL_CONFDIR=" + local] + \
            ["--var=%s=%s" % (v, os.path.join(self.dir, d))
             for v, d in (("DBDIR", "db"), ("RUNDIR", "run"), ("LOGDIR", "log"))]
        self.out = open(os.path.join(self.dir, "out"), "w")
        # rspamd is not posthorn: it keeps the real clock (tests/first-of-month.sh
        # preloads libfaketime for everything, and rspamd does not start under it)
        env = {k: v for k, v in os.environ.items()
               if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED")}
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.out, env=env,
                                     start_new_session=True)
        try:
            wait_for(lambda: port_open(self.port), 180, "rspamd proxy on port %d" % self.port)
        except AssertionError:
            self.stop()                         # no rspamd left behind
            raise

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)         # the main process and its workers
            self.proc.wait()
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_rspamd_milter_rejects_and_adds_header():
    with Rspamd() as rs, milter_instance("milt-rspamd", rs.spec) as inst:
        inst.start()
        r = send(inst, body=MSG.replace("Subject: original", "Subject: REJECTME now"))
        assert r.startswith("554 5.7.1 "), r
        inst.wait_log(r": milter-reject: END-OF-MESSAGE from \S+\[127\.0\.0\.1\]: 5\.7\.1 ")
        assert send(inst).startswith("250 ")
        box = inst.wait_mbox("phedison", r"^X-Spam-Status: No, score=")
        assert "REJECTME" not in box


def test_milter_header_checks():
    with TestMilter("headers") as m, milter_instance("milt-hc", m.spec) as inst:
        inst.params["milter_header_checks"] = "regexp:" + inst.write_table(
            "milter_header_checks", "/^X-Added: yes$/ REJECT milter header refused\n"
                                    "/^Subject: original/ REJECT never: not a milter header\n")
        inst.write_main()
        inst.start()
        assert send(inst) == "550 5.7.1 milter header refused"
        inst.wait_log(r": reject: header X-Added: yes from \S+\[127\.0\.0\.1\]; "
                      r"from=<jonas@example\.test> to=<phedison@example\.test> proto=ESMTP "
                      r"helo=<client\.example>: 5\.7\.1 milter header refused")
        assert "not a milter header" not in inst.log()


def test_milter_with_chrooted_smtpd_and_cleanup():
    """Debian's master.cf (smtpd and cleanup chroot y): the milter socket
    passes into the jail and cleanup reads back and rebuilds its file
    there (no /proc: the queue file is reopened by its queue path)."""
    from test_chroot import append_main, debian_instance
    with TestMilter("headers,body,add-rcpt", n="<phalice@example.test>") as m, \
            debian_instance("milt-chroot") as inst:
        append_main(inst, "smtpd_milters = %s\n" % m.spec)
        inst.start()
        assert send(inst).startswith("250 ")
        box = inst.wait_mbox("phedison", r"^X-Added: yes$")
        assert "replaced body" in box, box
        inst.wait_mbox("phalice", r"^Subject: changed by milter$")
        log = inst.log()
        assert "fatal" not in log and not re.search(r"warning: .*(milter|queue file)", log), log
