"""
test_submit.py - local submission end to end: sendmail -> postdrop ->
maildrop/ -> pickup -> cleanup -> local delivery, as root and as an
unprivileged user, sendmail -t, and a malformed maildrop file that
pickup must set aside in corrupt/ without stopping.
"""
import os
import pwd
import re
import subprocess

from posthorn import Instance, run, sbin, setgid_programs, wait_for


def sendmail(inst, args, body, user=None):
    argv = [sbin("sendmail"), "-c", inst.conf] + list(args)
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    return run(argv, input=body)


def unprivileged_submission(inst):
    """postdrop set-gid, the test config directory allowed (posthorn.py)."""
    return setgid_programs(inst, "postdrop")


def delivered(inst, args, text, needle):
    """sendmail args < text as root succeeds; phedison's mailbox once it has needle."""
    p = sendmail(inst, args, text)
    assert p.returncode == 0, p.stderr
    return inst.wait_mbox("phedison", needle)


def test_sendmail_as_root():
    with Instance("submit-root") as inst:
        inst.start()
        box = delivered(inst, ["phedison@example.test"], "Subject: local test\n\nbody from root\n",
                        "body from root")
        m = re.search(r"Received: by mail\.example\.test \(Postfix, from userid 0\)\n"
                      r"\tid ([0-9A-F]+); \w{3}, ", box)
        assert m, box
        qid = m.group(1)
        log = inst.wait_log(r"%s: removed" % qid) and inst.log()
        assert re.search(r"postfix/pickup\[\d+\]: %s: uid=0 from=<root>" % qid, log), log
        assert "Subject: local test" in box
        assert inst.queue_files("maildrop") == []


def test_sendmail_dot_line_and_i():
    with Instance("submit-dot") as inst:
        inst.start()
        box = delivered(inst, ["phedison@example.test"], "Subject: dot\n\nbefore\n.\nafter-dot\n",
                        "before")
        assert "after-dot" not in box
        delivered(inst, ["-oi", "phedison@example.test"], "Subject: dot2\n\nx\n.\nkept-after-dot\n",
                  "kept-after-dot")


def test_sendmail_unprivileged_user():
    with Instance("submit-user") as inst:
        inst.start()
        uid = pwd.getpwnam("phjonas").pw_uid
        with unprivileged_submission(inst):
            p = sendmail(inst, ["phedison@example.test"], "Subject: from jonas\n\njonas body\n",
                         user="phjonas")
        assert p.returncode == 0, p.stderr
        box = inst.wait_mbox("phedison", "jonas body")
        assert "(Postfix, from userid %d)" % uid in box, box
        inst.wait_log(r"postfix/pickup\[\d+\]: [0-9A-F]+: uid=%d from=<phjonas>" % uid)


def test_sendmail_t_extracts_and_removes_bcc():
    with Instance("submit-t") as inst:
        inst.start()
        msg = ("To: Edison <phedison@example.test>\n"
               "Bcc: phjonas@example.test\n"
               "Subject: extracted\n\nt body\n")
        p = sendmail(inst, ["-t"], msg)
        assert p.returncode == 0, p.stderr
        a = inst.wait_mbox("phedison", "t body")
        b = inst.wait_mbox("phjonas", "t body")
        assert "Bcc:" not in a and "Bcc:" not in b, (a, b)
        assert "To: Edison <phedison@example.test>" in b


def test_sendmail_usage_errors():
    with Instance("submit-usage") as inst:
        p = sendmail(inst, [], "x\n")
        assert p.returncode == 64, (p.returncode, p.stderr)
        assert "Recipient addresses must be specified on the command line or via the -t option" in p.stderr
        p = sendmail(inst, ["-t"], "Subject: none\n\nx\n")
        assert p.returncode == 64, (p.returncode, p.stderr)
        assert "No recipient addresses found in message header" in p.stderr


def test_malformed_maildrop_file_goes_to_corrupt():
    with Instance("submit-corrupt") as inst:
        inst.start()
        bad = os.path.join(inst.queue, "maildrop", "ABCDEF123")
        with open(bad, "wb") as f:
            f.write(b"T\x0a1700000000S\x01xR\x03a@bM\x00N\x05hello")   # no XTRA/END
        os.chmod(bad, 0o444)
        # A good message triggers pickup, which must skip past the bad file.
        delivered(inst, ["phedison@example.test"], "Subject: good\n\ngood body\n", "good body")
        wait_for(lambda: "ABCDEF123" in inst.queue_files("corrupt"), 20, "file in corrupt/")
        assert not os.path.exists(bad)
        inst.wait_log(r"postfix/pickup\[\d+\]: warning: maildrop/ABCDEF123: uid=0: .*corrupt")


def test_sendmail_bs_as_root():
    """-bs: SMTP on stdin/stdout (smtpd stand-alone; root only for now)."""
    with Instance("submit-bs") as inst:
        inst.start()
        p = sendmail(inst, ["-bs"], "HELO client\r\nMAIL FROM:<a@example.test>\r\n"
                     "RCPT TO:<phedison@example.test>\r\nDATA\r\nSubject: bs\r\n\r\n"
                     "bs body\r\n.\r\nQUIT\r\n")
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[0] == "220 mail.example.test ESMTP Postfix", lines
        assert re.match(r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$", lines[-2]), lines
        assert lines[-1] == "221 2.0.0 Bye", lines
        inst.wait_mbox("phedison", "bs body")


def test_newaliases_mode():
    with Instance("submit-alias") as inst:
        db = os.path.join(inst.conf, "aliases.db")
        os.unlink(db)
        p = sendmail(inst, ["-bi"], "")
        assert p.returncode == 0, p.stderr
        assert os.path.exists(db)


def record(rtype, data=b""):
    """One queue file record: type byte, length in 7-bit groups, data."""
    n, length = len(data), b""
    while True:
        byte, n = n & 0x7f, n >> 7
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            return rtype.encode() + length + data


def maildrop_stream(rcpt, lines):
    out = record("T", b"1700000000 0") + record("S", b"phjonas") + record("R", rcpt.encode())
    out += record("M") + b"".join(record("N", line.encode()) for line in lines)
    return out + record("X") + record("E")


def test_message_size_limit_caps_local_submission():
    """sendmail and postdrop cap the maildrop file at message_size_limit,
    as Postfix does (a file size limit): the submission is refused with
    Postfix's words and nothing is left in maildrop/."""
    with Instance("submit-size", main={"message_size_limit": "20000"}) as inst:
        inst.start()
        uid = pwd.getpwnam("phjonas").pw_uid
        big = ["Subject: big", ""] + ["x" * 70] * 1000
        with unprivileged_submission(inst):
            p = sendmail(inst, ["phedison@example.test"], "\n".join(big) + "\n", user="phjonas")
            assert p.returncode == 69, (p.returncode, p.stderr)
            assert p.stderr == ("postdrop: warning: uid=%d: File too large\n"
                                "sendmail: fatal: phjonas(%d): message file too big\n"
                                % (uid, uid)), p.stderr
            assert inst.queue_files("maildrop") == []
            p = subprocess.run(["runuser", "-u", "phjonas", "--", sbin("postdrop"), "-c", inst.conf],
                               input=maildrop_stream("phedison@example.test", big),
                               capture_output=True, timeout=60)
            assert p.returncode == 69, (p.returncode, p.stderr)
            assert p.stderr == b"postdrop: warning: uid=%d: File too large\n" % uid, p.stderr
            assert inst.queue_files("maildrop") == []
            # just under the limit is fine
            p = sendmail(inst, ["phedison@example.test"],
                         "Subject: small\n\n" + "y" * 70 * 200 + "\nsmall end\n", user="phjonas")
            assert (p.returncode, p.stderr) == (0, ""), p
        inst.wait_mbox("phedison", "small end")
        inst.wait_log(r"postfix/postdrop\[\d+\]: warning: uid=%d: File too large" % uid)
        # root is capped too (a run-away process, not an attack, as Postfix says)
        p = sendmail(inst, ["phedison@example.test"], "\n".join(big) + "\n")
        assert p.returncode == 69 and "sendmail: fatal: root(0): message file too big" in p.stderr, p
        assert inst.queue_files("maildrop") == []


def test_authorized_submit_users():
    """authorized_submit_users is a Postfix user list (lib/user_acl.c)."""
    with Instance("submit-acl", main={"authorized_submit_users": "!PHEdison, static:anyone"}) as inst:
        inst.start()
        uid = pwd.getpwnam("phedison").pw_uid
        with unprivileged_submission(inst):
            p = sendmail(inst, ["phjonas@example.test"], "Subject: x\n\nrefused\n", user="phedison")
            assert p.returncode == 77, (p.returncode, p.stderr)
            assert "postdrop: fatal: User phedison(%d) is not allowed to submit mail" % uid in p.stderr
            assert inst.queue_files("maildrop") == []
            p = sendmail(inst, ["phedison@example.test"], "Subject: y\n\nallowed\n", user="phjonas")
            assert (p.returncode, p.stderr) == (0, ""), p
        inst.wait_mbox("phedison", "allowed")
